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

func TestRename(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c := h.RDS("us-east-1")
	in := mysqlInput("old")
	in.Tags = []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}
	createAvailable(t, h, c, in)
	createAvailable(t, h, c, mysqlInput("taken"))
	oldDB := describeOne(t, c, "old")

	_, err := c.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("old"),
		NewDBInstanceIdentifier: aws.String("taken"), ApplyImmediately: aws.Bool(true)})
	var exists *types.DBInstanceAlreadyExistsFault
	require.True(t, errors.As(err, &exists), "rename onto a taken name: %v", err)

	callAt := h.Now()
	out, err := c.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("old"),
		NewDBInstanceIdentifier: aws.String("New"), ApplyImmediately: aws.Bool(true)})
	require.NoError(t, err)
	assert.Equal(t, "old", aws.ToString(out.DBInstance.DBInstanceIdentifier))
	assert.Equal(t, "new", aws.ToString(out.DBInstance.PendingModifiedValues.DBInstanceIdentifier))

	// The new name is reserved at once but not yet visible; the old one still answers.
	_, err = c.CreateDBInstance(ctx, mysqlInput("new"))
	require.True(t, errors.As(err, &exists), "new name reserved: %v", err)
	_, err = c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("new")})
	var nf *types.DBInstanceNotFoundFault
	require.True(t, errors.As(err, &nf))
	assert.Equal(t, "available", aws.ToString(describeOne(t, c, "old").DBInstanceStatus))

	h.Advance(time.Minute)
	_, err = c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("old")})
	require.True(t, errors.As(err, &nf), "old name gone: %v", err)
	db := describeOne(t, c, "new")
	assert.Equal(t, "renaming", aws.ToString(db.DBInstanceStatus))
	assert.Equal(t, aws.ToString(oldDB.DbiResourceId), aws.ToString(db.DbiResourceId))
	assert.Equal(t, "arn:aws:rds:us-east-1:123456789012:db:new", aws.ToString(db.DBInstanceArn))
	oldHost, newHost := aws.ToString(oldDB.Endpoint.Address), aws.ToString(db.Endpoint.Address)
	assert.Equal(t, "new"+oldHost[len("old"):], newHost, "endpoint follows the identifier, same suffix")

	// Polling by dbi-resource-id survives the rename.
	byRID, err := c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{Filters: []types.Filter{{
		Name: aws.String("dbi-resource-id"), Values: []string{aws.ToString(oldDB.DbiResourceId)}}}})
	require.NoError(t, err)
	require.Len(t, byRID.DBInstances, 1)

	db = *advanceUntilInstance(t, h, c, "new", "available")
	took := h.Now().Sub(callAt)
	assert.GreaterOrEqual(t, took, 10*time.Minute)
	assert.Less(t, took, 12*time.Minute)
	assert.Equal(t, []string{"available", "renaming", "rebooting", "available"},
		statuses(h, "instance", aws.ToString(db.DbiResourceId))[2:], "after create's creating, backing-up")

	// Tags follow the rename; the old ARN no longer resolves.
	tags, err := c.ListTagsForResource(ctx, &rds.ListTagsForResourceInput{ResourceName: db.DBInstanceArn})
	require.NoError(t, err)
	assert.Equal(t, "k", aws.ToString(tags.TagList[0].Key))
	_, err = c.ListTagsForResource(ctx, &rds.ListTagsForResourceInput{ResourceName: oldDB.DBInstanceArn})
	require.True(t, errors.As(err, &nf))

	// Renaming the original name free again works (the swap).
	_, err = c.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("taken"),
		NewDBInstanceIdentifier: aws.String("old"), ApplyImmediately: aws.Bool(true)})
	require.NoError(t, err)
}

func TestModifyDBInstance(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c := h.RDS("us-east-1")
	createAvailable(t, h, c, mysqlInput("m1"))
	ensureParamGroup(t, c, "custom-pg")

	_, err := c.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("m1")})
	assert.Equal(t, "InvalidParameterCombination", apiCode(t, err), "no modifications")
	_, err = c.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("m1"), DBInstanceClass: aws.String("db.t3.micro")})
	assert.Equal(t, "InvalidParameterCombination", apiCode(t, err), "same value is no modification")

	// Deferred: class goes to PendingModifiedValues, DeletionProtection applies at once.
	out, err := c.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("m1"),
		DBInstanceClass: aws.String("db.r6g.large"), DeletionProtection: aws.Bool(true)})
	require.NoError(t, err)
	assert.Equal(t, "db.r6g.large", aws.ToString(out.DBInstance.PendingModifiedValues.DBInstanceClass))
	assert.Equal(t, "db.t3.micro", aws.ToString(out.DBInstance.DBInstanceClass))
	assert.True(t, aws.ToBool(out.DBInstance.DeletionProtection))
	assert.Equal(t, "available", aws.ToString(out.DBInstance.DBInstanceStatus))

	// Immediate: modifying, then applied.
	out, err = c.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("m1"),
		AllocatedStorage: aws.Int32(200), MultiAZ: aws.Bool(true), ApplyImmediately: aws.Bool(true),
		CloudwatchLogsExportConfiguration: &types.CloudwatchLogsExportConfiguration{EnableLogTypes: []string{"error"}},
		EnablePerformanceInsights:         aws.Bool(true), MonitoringInterval: aws.Int32(30),
		MonitoringRoleArn: aws.String("arn:aws:iam::123456789012:role/em"), MaxAllocatedStorage: aws.Int32(1000),
		DBParameterGroupName: aws.String("custom-pg")})
	require.NoError(t, err)
	assert.Equal(t, "modifying", aws.ToString(out.DBInstance.DBInstanceStatus))
	assert.Equal(t, int32(200), aws.ToInt32(out.DBInstance.PendingModifiedValues.AllocatedStorage))
	_, err = c.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("m1"), CopyTagsToSnapshot: aws.Bool(true)})
	var bad *types.InvalidDBInstanceStateFault
	require.True(t, errors.As(err, &bad), "modify while modifying: %v", err)
	db := *advanceUntilInstance(t, h, c, "m1", "available")
	assert.Equal(t, int32(200), aws.ToInt32(db.AllocatedStorage))
	assert.True(t, aws.ToBool(db.MultiAZ))
	assert.NotEmpty(t, aws.ToString(db.SecondaryAvailabilityZone))
	assert.Equal(t, []string{"error"}, db.EnabledCloudwatchLogsExports)
	assert.True(t, aws.ToBool(db.PerformanceInsightsEnabled))
	assert.NotEmpty(t, aws.ToString(db.PerformanceInsightsKMSKeyId))
	assert.Equal(t, int32(30), aws.ToInt32(db.MonitoringInterval))
	assert.Equal(t, "pending-reboot", aws.ToString(db.DBParameterGroups[0].ParameterApplyStatus))
	assert.Equal(t, "db.r6g.large", aws.ToString(db.DBInstanceClass), "ApplyImmediately applies earlier pending changes too")
	assert.Nil(t, db.PendingModifiedValues.DBInstanceClass)

	_, err = c.RebootDBInstance(ctx, &rds.RebootDBInstanceInput{DBInstanceIdentifier: aws.String("m1"), ForceFailover: aws.Bool(true)})
	require.NoError(t, err)
	db = *advanceUntilInstance(t, h, c, "m1", "available")
	assert.Equal(t, "in-sync", aws.ToString(db.DBParameterGroups[0].ParameterApplyStatus))

	_, err = c.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("m1"), AllocatedStorage: aws.Int32(100), ApplyImmediately: aws.Bool(true)})
	assert.Equal(t, "InvalidParameterValue", apiCode(t, err), "storage can't shrink")
	_, err = c.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("m1"), ManageMasterUserPassword: aws.Bool(true), MasterUserPassword: aws.String("another-password")})
	assert.Equal(t, "InvalidParameterCombination", apiCode(t, err))

	// Managed master password: a secret, never a password.
	out, err = c.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("m1"), ManageMasterUserPassword: aws.Bool(true), ApplyImmediately: aws.Bool(true)})
	require.NoError(t, err)
	require.NotNil(t, out.DBInstance.MasterUserSecret)
	assert.Contains(t, aws.ToString(out.DBInstance.MasterUserSecret.SecretArn), "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-")
}

func TestDeleteDBInstance(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c := h.RDS("us-west-2")
	in := mysqlInput("d1")
	in.DeletionProtection = aws.Bool(true)
	createAvailable(t, h, c, in)

	del := func(in *rds.DeleteDBInstanceInput) error { _, err := c.DeleteDBInstance(ctx, in); return err }
	assert.Equal(t, "InvalidParameterCombination", apiCode(t, del(&rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("d1"), SkipFinalSnapshot: aws.Bool(true)})), "protected")
	_, err := c.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("d1"), DeletionProtection: aws.Bool(false)})
	require.NoError(t, err)
	assert.Equal(t, "InvalidParameterCombination", apiCode(t, del(&rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("d1")})), "final snapshot id required")
	require.NoError(t, del(&rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("d1"), FinalDBSnapshotIdentifier: aws.String("d1-final")}))
	assert.Equal(t, "deleting", aws.ToString(describeOne(t, c, "d1").DBInstanceStatus))
	var st *types.InvalidDBInstanceStateFault
	require.True(t, errors.As(del(&rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("d1"), SkipFinalSnapshot: aws.Bool(true)}), &st))
	h.Advance(time.Hour)
	_, err = c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("d1")})
	var nf *types.DBInstanceNotFoundFault
	require.True(t, errors.As(err, &nf))
	final := describeSnap(t, c, "d1-final")
	assert.Equal(t, "available", aws.ToString(final.Status))
	snaps, err := c.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{SnapshotType: aws.String("automated")})
	require.NoError(t, err)
	assert.Empty(t, snaps.DBSnapshots, "automated backups deleted with the instance")

	// The DBInstanceDeleted waiter accepts the 404.
	createAvailable(t, h, c, mysqlInput("d2"))
	require.NoError(t, del(&rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("d2"), SkipFinalSnapshot: aws.Bool(true)}))
	h.Advance(time.Hour)
	w := rds.NewDBInstanceDeletedWaiter(c, func(o *rds.DBInstanceDeletedWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, 5*time.Millisecond
	})
	require.NoError(t, w.Wait(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("d2")}, time.Second))
}

func TestReadReplicas(t *testing.T) {
	t.Parallel()
	h := manual(t)
	east, west := h.RDS("us-east-1"), h.RDS("us-west-2")

	noBackups := mysqlInput("nobk")
	noBackups.BackupRetentionPeriod = aws.Int32(0)
	createAvailable(t, h, east, noBackups)
	_, err := east.CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("r0"), SourceDBInstanceIdentifier: aws.String("nobk")})
	var st *types.InvalidDBInstanceStateFault
	require.True(t, errors.As(err, &st), "source without backups: %v", err)

	// Unencrypted source: no KmsKeyId, no encrypted replica.
	createAvailable(t, h, east, mysqlInput("prim"))
	_, err = east.CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("r0"),
		SourceDBInstanceIdentifier: aws.String("prim"), KmsKeyId: aws.String("alias/aws/rds")})
	assert.Equal(t, "InvalidParameterCombination", apiCode(t, err))

	out, err := east.CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("prim-r1"), SourceDBInstanceIdentifier: aws.String("prim")})
	require.NoError(t, err)
	assert.Equal(t, "prim", aws.ToString(out.DBInstance.ReadReplicaSourceDBInstanceIdentifier))
	assert.Equal(t, "modifying", aws.ToString(describeOne(t, east, "prim").DBInstanceStatus))
	primARN := aws.ToString(describeOne(t, east, "prim").DBInstanceArn)

	// Cross-region: called in the destination with the source ARN; SourceRegion presigns.
	h.Advance(2 * time.Minute)
	xout, err := west.CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("prim-west"),
		SourceDBInstanceIdentifier: aws.String(primARN), SourceRegion: aws.String("us-east-1")})
	require.NoError(t, err)
	assert.Equal(t, primARN, aws.ToString(xout.DBInstance.ReadReplicaSourceDBInstanceIdentifier))
	assert.Equal(t, "default.mysql8.0", aws.ToString(xout.DBInstance.DBParameterGroups[0].DBParameterGroupName))
	replicaWest := advanceUntilInstance(t, h, west, "prim-west", "available")
	advanceUntilInstance(t, h, east, "prim-r1", "available")
	p := describeOne(t, east, "prim")
	assert.ElementsMatch(t, []string{"prim-r1", aws.ToString(replicaWest.DBInstanceArn)}, p.ReadReplicaDBInstanceIdentifiers)
	require.Len(t, replicaWest.StatusInfos, 1)
	assert.Equal(t, "replicating", aws.ToString(replicaWest.StatusInfos[0].Status))

	// A presigned URL for a same-region replica is rejected.
	_, err = east.CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("prim-r2"),
		SourceDBInstanceIdentifier: aws.String("prim"), SourceRegion: aws.String("us-east-1")})
	assert.Equal(t, "InvalidParameterCombination", apiCode(t, err))

	// Links follow a rename of the primary, in both regions.
	_, err = east.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("prim"),
		NewDBInstanceIdentifier: aws.String("prim-old"), ApplyImmediately: aws.Bool(true)})
	require.NoError(t, err)
	h.Advance(15 * time.Minute)
	assert.Equal(t, "prim-old", aws.ToString(describeOne(t, east, "prim-r1").ReadReplicaSourceDBInstanceIdentifier))
	assert.Equal(t, "arn:aws:rds:us-east-1:123456789012:db:prim-old", aws.ToString(describeOne(t, west, "prim-west").ReadReplicaSourceDBInstanceIdentifier))

	// Encrypted source: cross-region needs a destination key (a same-region KmsKeyId is
	// accepted: aws_rules_test.go).
	keyEast := newKey(t, h, "us-east-1", "alias/e")
	keyWest := newKey(t, h, "us-west-2", "alias/w")
	enc := mysqlInput("enc")
	enc.StorageEncrypted, enc.KmsKeyId = aws.Bool(true), aws.String(keyEast)
	createAvailable(t, h, east, enc)
	encARN := "arn:aws:rds:us-east-1:123456789012:db:enc"
	_, err = west.CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("enc-w"),
		SourceDBInstanceIdentifier: aws.String(encARN), SourceRegion: aws.String("us-east-1")})
	assert.Equal(t, "InvalidParameterCombination", apiCode(t, err), "cross-region encrypted needs KmsKeyId")
	_, err = west.CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("enc-w"),
		SourceDBInstanceIdentifier: aws.String(encARN), SourceRegion: aws.String("us-east-1"), KmsKeyId: aws.String(keyEast)})
	var kmsErr *types.KMSKeyNotAccessibleFault
	require.True(t, errors.As(err, &kmsErr), "key of another region: %v", err)
	h.Advance(5 * time.Minute)
	w2, err := west.CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("enc-w"),
		SourceDBInstanceIdentifier: aws.String(encARN), SourceRegion: aws.String("us-east-1"), KmsKeyId: aws.String("alias/w")})
	require.NoError(t, err)
	assert.Equal(t, keyWest, aws.ToString(w2.DBInstance.KmsKeyId))
	same, err := east.CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("enc-r"), SourceDBInstanceIdentifier: aws.String("enc")})
	require.Error(t, err, "source is modifying for the first replica")
	_ = same
	h.Advance(2 * time.Minute)
	same, err = east.CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("enc-r"), SourceDBInstanceIdentifier: aws.String("enc")})
	require.NoError(t, err)
	assert.Equal(t, keyEast, aws.ToString(same.DBInstance.KmsKeyId))
}
