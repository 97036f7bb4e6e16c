package rdssim_test

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/rdssim/simtest"
)

// newKey creates a customer key with an alias and returns its ARN.
func newKey(t *testing.T, h *simtest.Harness, region, alias string) string {
	t.Helper()
	k := h.KMS(region)
	out, err := k.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("test key")})
	require.NoError(t, err)
	_, err = k.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(alias), TargetKeyId: out.KeyMetadata.KeyId})
	require.NoError(t, err)
	return aws.ToString(out.KeyMetadata.Arn)
}

// TestEncryptionPath drives the tool's instance route: snapshot, encrypted copy, restore.
func TestEncryptionPath(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c := h.RDS("us-east-1")
	keyARN := newKey(t, h, "us-east-1", "alias/app")
	ensureParamGroup(t, c, "app-params")

	in := mysqlInput("app")
	in.MultiAZ = aws.Bool(true)
	in.CopyTagsToSnapshot = aws.Bool(true)
	in.DeletionProtection = aws.Bool(true)
	in.EnableIAMDatabaseAuthentication = aws.Bool(true)
	in.MonitoringInterval = aws.Int32(60)
	in.MonitoringRoleArn = aws.String("arn:aws:iam::123456789012:role/rds-monitoring")
	in.EnablePerformanceInsights = aws.Bool(true)
	in.MaxAllocatedStorage = aws.Int32(500)
	in.PreferredMaintenanceWindow = aws.String("sun:05:00-sun:05:30")
	in.DBParameterGroupName = aws.String("app-params")
	in.Tags = []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}
	// No automated backups: the first manual snapshot is the instance's first, so full
	// (incremental ones are in TestIncrementalSnapshotsAndCopies).
	in.BackupRetentionPeriod = aws.Int32(0)
	src := createAvailable(t, h, c, in)

	// Snapshot: source backing-up, snapshot creating with rising progress, then available.
	snapStart := h.Now()
	_, err := c.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("app"), DBSnapshotIdentifier: aws.String("app-plain")})
	require.NoError(t, err)
	assert.Equal(t, "backing-up", aws.ToString(describeOne(t, c, "app").DBInstanceStatus))
	_, err = c.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("app"), DeletionProtection: aws.Bool(false)})
	assert.Equal(t, "InvalidDBInstanceState", apiCode(t, err), "busy instance")
	var last int32 = -1
	for {
		sn := describeSnap(t, c, "app-plain")
		if aws.ToString(sn.Status) == "available" {
			assert.Equal(t, int32(100), aws.ToInt32(sn.PercentProgress))
			break
		}
		assert.Equal(t, "creating", aws.ToString(sn.Status))
		assert.GreaterOrEqual(t, aws.ToInt32(sn.PercentProgress), last)
		last = aws.ToInt32(sn.PercentProgress)
		h.Advance(30 * time.Second)
	}
	assert.Greater(t, last, int32(50), "progress was visible")
	snapTook := h.Now().Sub(snapStart)
	assert.InDelta(t, (11 * time.Minute).Minutes(), snapTook.Minutes(), 1, "100 GiB snapshot ~ 11 min")
	plain := describeSnap(t, c, "app-plain")
	assert.False(t, aws.ToBool(plain.Encrypted))
	assert.Equal(t, "manual", aws.ToString(plain.SnapshotType))
	assert.Equal(t, aws.ToString(src.DbiResourceId), aws.ToString(plain.DbiResourceId))
	assert.Equal(t, "env", aws.ToString(plain.TagList[0].Key), "CopyTagsToSnapshot")
	assert.Equal(t, "available", aws.ToString(describeOne(t, c, "app").DBInstanceStatus))

	// Encrypted copy by alias name: slower than the snapshot, carries the key ARN.
	copyStart := h.Now()
	cp, err := c.CopyDBSnapshot(ctx, &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: aws.String("app-plain"),
		TargetDBSnapshotIdentifier: aws.String("app-enc"), KmsKeyId: aws.String("alias/app"), CopyTags: aws.Bool(true)})
	require.NoError(t, err)
	assert.True(t, aws.ToBool(cp.DBSnapshot.Encrypted))
	assert.Equal(t, keyARN, aws.ToString(cp.DBSnapshot.KmsKeyId))
	enc := advanceUntilSnapshot(t, h, c, "app-enc", "available")
	copyTook := h.Now().Sub(copyStart)
	assert.Greater(t, copyTook, 2*snapTook, "encrypting copy is clearly slower than the snapshot")
	assert.Equal(t, "env", aws.ToString(enc.TagList[0].Key))
	assert.Equal(t, aws.ToTime(plain.OriginalSnapshotCreateTime), aws.ToTime(enc.OriginalSnapshotCreateTime))
	assert.True(t, aws.ToTime(enc.SnapshotCreateTime).After(aws.ToTime(plain.SnapshotCreateTime)))

	// A copy of the encrypted copy without KmsKeyId keeps the key.
	cp2, err := c.CopyDBSnapshot(ctx, &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: aws.String("app-enc"), TargetDBSnapshotIdentifier: aws.String("app-enc-2")})
	require.NoError(t, err)
	assert.Equal(t, keyARN, aws.ToString(cp2.DBSnapshot.KmsKeyId))

	// Restore: encryption from the snapshot, defaults of docs/aws-behaviour.md#restore for what is not passed.
	_, err = c.RestoreDBInstanceFromDBSnapshot(ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{
		DBInstanceIdentifier: aws.String("app-new"), DBSnapshotIdentifier: aws.String("app-enc")})
	require.NoError(t, err)
	restored := advanceUntilInstance(t, h, c, "app-new", "available")
	assert.True(t, aws.ToBool(restored.StorageEncrypted))
	assert.Equal(t, keyARN, aws.ToString(restored.KmsKeyId))
	assert.NotEqual(t, aws.ToString(src.DbiResourceId), aws.ToString(restored.DbiResourceId))
	assert.False(t, aws.ToBool(restored.MultiAZ))
	assert.False(t, aws.ToBool(restored.CopyTagsToSnapshot))
	assert.False(t, aws.ToBool(restored.DeletionProtection))
	assert.False(t, aws.ToBool(restored.IAMDatabaseAuthenticationEnabled))
	assert.False(t, aws.ToBool(restored.PerformanceInsightsEnabled))
	assert.Equal(t, int32(0), aws.ToInt32(restored.MonitoringInterval))
	assert.Nil(t, restored.MaxAllocatedStorage)
	assert.NotEqual(t, "sun:05:00-sun:05:30", aws.ToString(restored.PreferredMaintenanceWindow))
	assert.Equal(t, "default.mysql8.0", aws.ToString(restored.DBParameterGroups[0].DBParameterGroupName))
	assert.Equal(t, "default", aws.ToString(restored.DBSubnetGroup.DBSubnetGroupName))
	assert.Equal(t, aws.ToInt32(src.AllocatedStorage), aws.ToInt32(restored.AllocatedStorage))
	assert.Equal(t, aws.ToString(src.DBInstanceClass), aws.ToString(restored.DBInstanceClass))
	assert.Equal(t, aws.ToInt32(src.BackupRetentionPeriod), aws.ToInt32(restored.BackupRetentionPeriod))
	assert.Equal(t, "env", aws.ToString(restored.TagList[0].Key), "tags of the source at snapshot time")
	assert.Equal(t, []string{"creating", "available"}, statuses(h, "instance", aws.ToString(restored.DbiResourceId)))
	assert.Equal(t, []string{"creating", "available"}, statuses(h, "snapshot", aws.ToString(enc.DBSnapshotArn)))
}

func describeSnap(t *testing.T, c *rds.Client, id string) types.DBSnapshot {
	t.Helper()
	out, err := c.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String(id)})
	require.NoError(t, err)
	require.Len(t, out.DBSnapshots, 1)
	return out.DBSnapshots[0]
}

func TestRestoreRules(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c := h.RDS("us-east-1")
	createAvailable(t, h, c, mysqlInput("src"))
	_, err := c.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("src"), DBSnapshotIdentifier: aws.String("s1")})
	require.NoError(t, err)

	restore := func(id, snap string, opt ...func(*rds.RestoreDBInstanceFromDBSnapshotInput)) error {
		in := &rds.RestoreDBInstanceFromDBSnapshotInput{DBInstanceIdentifier: aws.String(id), DBSnapshotIdentifier: aws.String(snap)}
		for _, o := range opt {
			o(in)
		}
		_, err := c.RestoreDBInstanceFromDBSnapshot(ctx, in)
		return err
	}
	var st *types.InvalidDBSnapshotStateFault
	require.True(t, errors.As(restore("r1", "s1"), &st), "snapshot still creating")
	var nf *types.DBSnapshotNotFoundFault
	require.True(t, errors.As(restore("r1", "nope"), &nf))
	advanceUntilSnapshot(t, h, c, "s1", "available")
	ensureSubnetGroup(t, c, "app-subnets", "src")
	var exists *types.DBInstanceAlreadyExistsFault
	require.True(t, errors.As(restore("SRC", "s1"), &exists))
	assert.Equal(t, "InvalidParameterValue", apiCode(t, restore("r1", "s1", func(in *rds.RestoreDBInstanceFromDBSnapshotInput) { in.AllocatedStorage = aws.Int32(50) })))
	assert.Equal(t, "InvalidParameterCombination", apiCode(t, restore("r1", "s1", func(in *rds.RestoreDBInstanceFromDBSnapshotInput) { in.Engine = aws.String("postgres") })))

	// Settings passed at restore are applied.
	require.NoError(t, restore("r1", "s1", func(in *rds.RestoreDBInstanceFromDBSnapshotInput) {
		in.MultiAZ = aws.Bool(true)
		in.VpcSecurityGroupIds = []string{"sg-1", "sg-2"}
		in.DBSubnetGroupName = aws.String("app-subnets")
		in.DeletionProtection = aws.Bool(true)
		in.CopyTagsToSnapshot = aws.Bool(true)
		in.EnableCloudwatchLogsExports = []string{"error"}
		in.StorageType = aws.String("io1")
		in.Iops = aws.Int32(3000)
		in.Tags = []types.Tag{{Key: aws.String("only"), Value: aws.String("this")}}
	}))
	db := describeOne(t, c, "r1")
	assert.True(t, aws.ToBool(db.MultiAZ))
	assert.Len(t, db.VpcSecurityGroups, 2)
	assert.Equal(t, "app-subnets", aws.ToString(db.DBSubnetGroup.DBSubnetGroupName))
	assert.Equal(t, "io1", aws.ToString(db.StorageType))
	assert.Equal(t, int32(3000), aws.ToInt32(db.Iops))
	assert.Equal(t, []types.Tag{{Key: aws.String("only"), Value: aws.String("this")}}, db.TagList)

	// Injected failure: the next restore into r2 ends incompatible-restore; the waiter fails.
	h.Sim.FailNextRestore("us-east-1", "r2")
	require.NoError(t, restore("r2", "s1"))
	h.Advance(time.Hour)
	assert.Equal(t, "incompatible-restore", aws.ToString(describeOne(t, c, "r2").DBInstanceStatus))
	err = rds.NewDBInstanceAvailableWaiter(c, waitFast).Wait(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("r2")}, time.Second)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Failure")
}
