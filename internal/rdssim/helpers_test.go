package rdssim_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/rdssim"
	"github.com/rdsencrypt/rdsencrypt/internal/rdssim/simtest"
)

var ctx = context.Background()

var testStart = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// manual starts a simulator whose clock moves only by Advance.
func manual(t *testing.T) *simtest.Harness {
	t.Helper()
	return simtest.Start(t, rdssim.Options{Start: testStart, ManualClock: true})
}

// fast starts a simulator running 50000x real time (10 virtual minutes in 12 ms).
func fast(t *testing.T) *simtest.Harness {
	t.Helper()
	return simtest.Start(t, rdssim.Options{Start: testStart, Speed: 50000})
}

func mysqlInput(id string) *rds.CreateDBInstanceInput {
	return &rds.CreateDBInstanceInput{
		DBInstanceIdentifier:  aws.String(id),
		DBInstanceClass:       aws.String("db.t3.micro"),
		Engine:                aws.String("mysql"),
		MasterUsername:        aws.String("admin"),
		MasterUserPassword:    aws.String("secret-password"),
		AllocatedStorage:      aws.Int32(100),
		BackupRetentionPeriod: aws.Int32(7),
	}
}

// createAvailable creates a MySQL instance and advances until it is available.
func createAvailable(t *testing.T, h *simtest.Harness, c *rds.Client, in *rds.CreateDBInstanceInput) *types.DBInstance {
	t.Helper()
	_, err := c.CreateDBInstance(ctx, in)
	require.NoError(t, err)
	return advanceUntilInstance(t, h, c, aws.ToString(in.DBInstanceIdentifier), "available")
}

// advanceUntilInstance advances the clock minute by minute until the instance has status.
func advanceUntilInstance(t *testing.T, h *simtest.Harness, c *rds.Client, id, status string) *types.DBInstance {
	t.Helper()
	for range 24 * 60 {
		out, err := c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
		require.NoError(t, err)
		if aws.ToString(out.DBInstances[0].DBInstanceStatus) == status {
			return &out.DBInstances[0]
		}
		h.Advance(time.Minute)
	}
	t.Fatalf("instance %s never reached %s", id, status)
	return nil
}

func advanceUntilSnapshot(t *testing.T, h *simtest.Harness, c *rds.Client, id, status string) *types.DBSnapshot {
	t.Helper()
	for range 24 * 60 {
		out, err := c.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String(id)})
		require.NoError(t, err)
		if aws.ToString(out.DBSnapshots[0].Status) == status {
			return &out.DBSnapshots[0]
		}
		h.Advance(time.Minute)
	}
	t.Fatalf("snapshot %s never reached %s", id, status)
	return nil
}

// statuses returns the status sequence recorded for a resource id (by type) in the events.
func statuses(h *simtest.Harness, typ, resourceID string) []string {
	var out []string
	for _, e := range h.Events() {
		if e.Type == typ && e.ResourceID == resourceID {
			out = append(out, e.Status)
		}
	}
	return out
}

// apiCode returns the error code of an SDK error.
func apiCode(t *testing.T, err error) string {
	t.Helper()
	require.Error(t, err)
	var ae smithy.APIError
	require.True(t, errors.As(err, &ae), "not an API error: %v", err)
	return ae.ErrorCode()
}

// httpStatus returns the HTTP status of an SDK error.
func httpStatus(t *testing.T, err error) int {
	t.Helper()
	var re interface{ HTTPStatusCode() int }
	require.True(t, errors.As(err, &re), "no HTTP response in %v", err)
	return re.HTTPStatusCode()
}

func describeOne(t *testing.T, c *rds.Client, id string) types.DBInstance {
	t.Helper()
	out, err := c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
	require.NoError(t, err)
	require.Len(t, out.DBInstances, 1)
	return out.DBInstances[0]
}

// tickingRDS is an SDK client of a manual-clock simulator that advances its clock by tick
// before each call: a waiter's polls then see states tick apart, at any machine load.
func tickingRDS(h *simtest.Harness, region string, tick time.Duration) *rds.Client {
	return h.RDS(region, func(o *rds.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Initialize.Add(middleware.InitializeMiddlewareFunc("tick", func(ctx context.Context, in middleware.InitializeInput,
				next middleware.InitializeHandler,
			) (middleware.InitializeOutput, middleware.Metadata, error) {
				h.Advance(tick)
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
		})
	})
}

func waitFast(o *rds.DBInstanceAvailableWaiterOptions) {
	o.MinDelay = time.Millisecond
	o.MaxDelay = 5 * time.Millisecond
}

// optional accepts success, or InvalidAction when the simulator under test has no such action
// (group names are then accepted as given by the core).
func optional(t *testing.T, err error) {
	t.Helper()
	if err != nil && apiCode(t, err) == "InvalidAction" {
		return
	}
	require.NoError(t, err)
}

func ensureParamGroup(t *testing.T, c *rds.Client, name string) {
	t.Helper()
	_, err := c.CreateDBParameterGroup(ctx, &rds.CreateDBParameterGroupInput{DBParameterGroupName: aws.String(name),
		DBParameterGroupFamily: aws.String("mysql8.0"), Description: aws.String(name)})
	optional(t, err)
}

// ensureSubnetGroup creates a subnet group over the subnets of an existing instance.
func ensureSubnetGroup(t *testing.T, c *rds.Client, name, likeInstance string) {
	t.Helper()
	var ids []string
	for _, sn := range describeOne(t, c, likeInstance).DBSubnetGroup.Subnets {
		ids = append(ids, aws.ToString(sn.SubnetIdentifier))
	}
	_, err := c.CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String(name),
		DBSubnetGroupDescription: aws.String(name), SubnetIds: ids})
	optional(t, err)
}
