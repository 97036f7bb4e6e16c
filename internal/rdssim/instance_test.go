package rdssim_test

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCreateDBInstanceLifecycle(t *testing.T) {
	h := manual(t)
	c := h.RDS("us-east-1")
	in := mysqlInput("Orders-DB")
	in.Tags = []types.Tag{{Key: aws.String("team"), Value: aws.String("payments")}}
	in.VpcSecurityGroupIds = []string{"sg-0123456789abcdef0"}
	in.DeletionProtection = aws.Bool(true)
	in.EnableCloudwatchLogsExports = []string{"error", "slowquery"}
	out, err := c.CreateDBInstance(ctx, in)
	require.NoError(t, err)
	db := out.DBInstance
	assert.Equal(t, "orders-db", aws.ToString(db.DBInstanceIdentifier), "identifiers are stored lower case")
	assert.Equal(t, "creating", aws.ToString(db.DBInstanceStatus))
	assert.Nil(t, db.Endpoint, "no endpoint while creating")
	assert.Regexp(t, `^db-[A-Z0-9]{26}$`, aws.ToString(db.DbiResourceId))
	assert.Equal(t, "arn:aws:rds:us-east-1:123456789012:db:orders-db", aws.ToString(db.DBInstanceArn))
	assert.Equal(t, "gp3", aws.ToString(db.StorageType))
	assert.Equal(t, "default.mysql8.0", aws.ToString(db.DBParameterGroups[0].DBParameterGroupName))
	assert.Equal(t, "default:mysql-8-0", aws.ToString(db.OptionGroupMemberships[0].OptionGroupName))
	assert.Equal(t, "sg-0123456789abcdef0", aws.ToString(db.VpcSecurityGroups[0].VpcSecurityGroupId))
	assert.False(t, aws.ToBool(db.StorageEncrypted))
	assert.True(t, aws.ToBool(db.DeletionProtection))
	assert.Equal(t, []string{"error", "slowquery"}, db.EnabledCloudwatchLogsExports)
	assert.Equal(t, "team", aws.ToString(db.TagList[0].Key))

	h.Advance(9 * time.Minute)
	assert.Equal(t, "creating", aws.ToString(describeOne(t, c, "orders-db").DBInstanceStatus))
	h.Advance(1 * time.Minute)
	assert.Equal(t, "backing-up", aws.ToString(describeOne(t, c, "ORDERS-DB").DBInstanceStatus))
	h.Advance(2 * time.Minute)
	got := describeOne(t, c, "orders-db")
	assert.Equal(t, "available", aws.ToString(got.DBInstanceStatus))
	require.NotNil(t, got.Endpoint)
	assert.Regexp(t, `^orders-db\.[a-z]{12}\.us-east-1\.rds\.amazonaws\.com$`, aws.ToString(got.Endpoint.Address))
	assert.Equal(t, int32(3306), aws.ToInt32(got.Endpoint.Port))
	assert.NotEmpty(t, aws.ToString(got.Endpoint.HostedZoneId))
	assert.Equal(t, []string{"creating", "backing-up", "available"}, statuses(h, "instance", aws.ToString(db.DbiResourceId)))

	// The automated snapshot of the initial backup exists.
	snaps, err := c.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{DBInstanceIdentifier: aws.String("orders-db")})
	require.NoError(t, err)
	require.Len(t, snaps.DBSnapshots, 1)
	assert.Equal(t, "automated", aws.ToString(snaps.DBSnapshots[0].SnapshotType))
}

func TestCreateDBInstanceErrors(t *testing.T) {
	h := manual(t)
	c := h.RDS("us-east-1")
	_, err := c.CreateDBInstance(ctx, mysqlInput("db1"))
	require.NoError(t, err)

	_, err = c.CreateDBInstance(ctx, mysqlInput("DB1"))
	var exists *types.DBInstanceAlreadyExistsFault
	require.True(t, errors.As(err, &exists), "got %v", err)

	for _, bad := range []string{"1db", "db--x", "db-", "db_x", "a234567890123456789012345678901234567890123456789012345678901234"} {
		_, err = c.CreateDBInstance(ctx, mysqlInput(bad))
		assert.Equal(t, "InvalidParameterValue", apiCode(t, err), bad)
	}
	in := mysqlInput("db2")
	in.Engine = aws.String("nosql")
	assert.Equal(t, "InvalidParameterValue", apiCode(t, errOf(c.CreateDBInstance(ctx, in))))

	in = mysqlInput("db2")
	in.MonitoringInterval = aws.Int32(60)
	assert.Equal(t, "InvalidParameterCombination", apiCode(t, errOf(c.CreateDBInstance(ctx, in))))

	in = mysqlInput("db2")
	in.StorageEncrypted = aws.Bool(true)
	in.KmsKeyId = aws.String("alias/does-not-exist")
	_, err = c.CreateDBInstance(ctx, in)
	var kmsErr *types.KMSKeyNotAccessibleFault
	assert.True(t, errors.As(err, &kmsErr), "got %v", err)

	in = mysqlInput("db2")
	in.ManageMasterUserPassword = aws.Bool(true)
	assert.Equal(t, "InvalidParameterCombination", apiCode(t, errOf(c.CreateDBInstance(ctx, in))))

	_, err = c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("nope")})
	var nf *types.DBInstanceNotFoundFault
	require.True(t, errors.As(err, &nf), "got %v", err)
	assert.Equal(t, 404, httpStatus(t, err))
}

func errOf[T any](_ T, err error) error { return err }

// TestDBInstanceAvailableWaiter: the SDK's waiters see the simulator's states. Its clock
// moves 20 s at each call, so the snapshot is seen creating whatever the machine's load.
func TestDBInstanceAvailableWaiter(t *testing.T) {
	h := manual(t)
	c := tickingRDS(h, "eu-west-1", 20*time.Second)
	in := mysqlInput("waited")
	in.BackupRetentionPeriod = aws.Int32(0) // no automated snapshot: the manual one is full, long enough to poll
	_, err := c.CreateDBInstance(ctx, in)
	require.NoError(t, err)
	w := rds.NewDBInstanceAvailableWaiter(c, waitFast)
	require.NoError(t, w.Wait(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("waited")}, 5*time.Second))
	assert.Equal(t, "available", aws.ToString(describeOne(t, c, "waited").DBInstanceStatus))

	_, err = c.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("waited"), DBSnapshotIdentifier: aws.String("w-snap")})
	require.NoError(t, err)
	sw := rds.NewDBSnapshotAvailableWaiter(c, func(o *rds.DBSnapshotAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, 5*time.Millisecond
	})
	require.NoError(t, sw.Wait(ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String("w-snap")}, 5*time.Second))
	var polls int
	for _, e := range h.Events() {
		if e.ID == "w-snap" {
			polls++
		}
	}
	assert.Equal(t, 2, polls, "creating, available")
	assert.Greater(t, h.Calls()["DescribeDBSnapshots"], 1, "the waiter polled while the snapshot was creating")
}
