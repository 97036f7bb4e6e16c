package adapter_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/awsclient"
	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/rdssim"
)

// TestNetworkAdapter: security groups and the DatabaseConnections metric through
// awsclient.Network, returned as model types, errors as model kinds.
func TestNetworkAdapter(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e := startSimWith(t, awsclient.Config{}, rdssim.Options{Start: start, ManualClock: true})
	c := e.h.RDS("us-east-1")
	_, err := c.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("net"),
		DBInstanceClass: aws.String("db.t3.micro"), Engine: aws.String("postgres"), MasterUsername: aws.String("admin"),
		MasterUserPassword: aws.String("secret-password"), AllocatedStorage: aws.Int32(20)})
	require.NoError(t, err)
	e.h.Advance(time.Hour)
	inst, err := e.api.DescribeInstance(ctx, "net")
	require.NoError(t, err)
	e.h.Workload("us-east-1", "net", rdssim.Workload{Clients: 2, WriteIOPS: 40})
	e.h.Advance(3 * time.Minute)

	net := e.client.Network("us-east-1")
	vpc := inst.VpcID
	require.NotEmpty(t, vpc)
	g, err := net.CreateSecurityGroup(ctx, "rdsencrypt-freeze-m1", "no inbound rules", vpc, model.Tags{"rdsencrypt:migration-id": "m1"})
	require.NoError(t, err)
	got, err := net.DescribeSecurityGroup(ctx, g.ID)
	require.NoError(t, err)
	assert.Equal(t, 0, got.InboundRules)
	assert.Equal(t, vpc, got.VpcID)
	assert.Equal(t, "m1", got.Tags["rdsencrypt:migration-id"])
	found, err := net.FindSecurityGroups(ctx, "rdsencrypt:migration-id", "m1")
	require.NoError(t, err)
	require.Len(t, found, 1)
	assert.Equal(t, g.ID, found[0].ID)
	orig, err := net.DescribeSecurityGroup(ctx, inst.Settings.VpcSecurityGroupIDs[0])
	require.NoError(t, err)
	assert.Positive(t, orig.InboundRules)

	_, err = net.CreateSecurityGroup(ctx, "rdsencrypt-freeze-m1", "again", vpc, nil)
	assert.True(t, model.IsAlreadyExists(err), "%v", err)

	now := e.h.Now().Truncate(time.Minute)
	points, err := net.InstanceMetric(ctx, "net", "DatabaseConnections", now.Add(-2*time.Minute), now)
	require.NoError(t, err)
	require.Len(t, points, 2)
	assert.Equal(t, 2.0, points[1].Value)
	assert.True(t, points[0].At.Before(points[1].At))

	require.NoError(t, net.DeleteSecurityGroup(ctx, g.ID))
	_, err = net.DescribeSecurityGroup(ctx, g.ID)
	assert.True(t, model.IsNotFound(err), "%v", err)
	assert.True(t, model.IsNotFound(net.DeleteSecurityGroup(ctx, g.ID)))
}
