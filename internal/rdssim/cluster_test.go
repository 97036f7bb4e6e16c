package rdssim_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/rdssim/simtest"
)

func auroraMySQLInput(id string) *rds.CreateDBClusterInput {
	return &rds.CreateDBClusterInput{
		DBClusterIdentifier: aws.String(id),
		Engine:              aws.String("aurora-mysql"),
		MasterUsername:      aws.String("admin"),
		MasterUserPassword:  aws.String("secret-password"),
	}
}

func describeCluster(t *testing.T, c *rds.Client, id string) types.DBCluster {
	t.Helper()
	out, err := c.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String(id)})
	require.NoError(t, err)
	require.Len(t, out.DBClusters, 1)
	return out.DBClusters[0]
}

// advanceUntilCluster advances the clock minute by minute until the cluster has status.
func advanceUntilCluster(t *testing.T, h *simtest.Harness, c *rds.Client, id, status string) types.DBCluster {
	t.Helper()
	for range 24 * 60 {
		cl := describeCluster(t, c, id)
		if aws.ToString(cl.Status) == status {
			return cl
		}
		h.Advance(time.Minute)
	}
	t.Fatalf("cluster %s never reached %s", id, status)
	return types.DBCluster{}
}

func advanceUntilClusterSnapshot(t *testing.T, h *simtest.Harness, c *rds.Client, id, status string) types.DBClusterSnapshot {
	t.Helper()
	for range 24 * 60 {
		out, err := c.DescribeDBClusterSnapshots(ctx, &rds.DescribeDBClusterSnapshotsInput{DBClusterSnapshotIdentifier: aws.String(id)})
		require.NoError(t, err)
		if aws.ToString(out.DBClusterSnapshots[0].Status) == status {
			return out.DBClusterSnapshots[0]
		}
		h.Advance(time.Minute)
	}
	t.Fatalf("cluster snapshot %s never reached %s", id, status)
	return types.DBClusterSnapshot{}
}

// createCluster creates a cluster and advances until it is available.
func createCluster(t *testing.T, h *simtest.Harness, c *rds.Client, in *rds.CreateDBClusterInput) types.DBCluster {
	t.Helper()
	_, err := c.CreateDBCluster(ctx, in)
	require.NoError(t, err)
	return advanceUntilCluster(t, h, c, aws.ToString(in.DBClusterIdentifier), "available")
}

// addMember creates a cluster member and advances until it is available.
func addMember(t *testing.T, h *simtest.Harness, c *rds.Client, cluster, id, class string, tier int32) {
	t.Helper()
	_, err := c.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String(id),
		DBInstanceClass: aws.String(class), Engine: aws.String("aurora-mysql"), DBClusterIdentifier: aws.String(cluster),
		PromotionTier: aws.Int32(tier)})
	require.NoError(t, err)
	advanceUntilInstance(t, h, c, id, "available")
}

func TestCreateDBClusterCarriesEverySetting(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c := h.RDS("us-east-1")
	keyARN := newKey(t, h, "us-east-1", "alias/aurora")
	_, err := c.CreateDBClusterParameterGroup(ctx, &rds.CreateDBClusterParameterGroupInput{
		DBClusterParameterGroupName: aws.String("app-cluster"), DBParameterGroupFamily: aws.String("aurora-mysql8.0"),
		Description: aws.String("app")})
	require.NoError(t, err)
	_, err = c.CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("app-subnets"),
		DBSubnetGroupDescription: aws.String("app"), SubnetIds: []string{"subnet-0a", "subnet-0b"}})
	require.NoError(t, err)

	in := auroraMySQLInput("orders")
	in.Port = aws.Int32(3307)
	in.DBSubnetGroupName = aws.String("app-subnets")
	in.VpcSecurityGroupIds = []string{"sg-0123", "sg-0456"}
	in.DBClusterParameterGroupName = aws.String("app-cluster")
	in.DatabaseName = aws.String("orders")
	in.BackupRetentionPeriod = aws.Int32(14)
	in.PreferredBackupWindow = aws.String("02:00-02:30")
	in.PreferredMaintenanceWindow = aws.String("Sun:05:00-Sun:05:30")
	in.CopyTagsToSnapshot = aws.Bool(true)
	in.DeletionProtection = aws.Bool(true)
	in.EnableIAMDatabaseAuthentication = aws.Bool(true)
	in.EnableCloudwatchLogsExports = []string{"audit", "slowquery"}
	in.BacktrackWindow = aws.Int64(86400)
	in.StorageEncrypted = aws.Bool(true)
	in.KmsKeyId = aws.String("alias/aurora")
	in.StorageType = aws.String("aurora-iopt1")
	in.Tags = []types.Tag{{Key: aws.String("team"), Value: aws.String("orders")}}
	out, err := c.CreateDBCluster(ctx, in)
	require.NoError(t, err)
	assert.Equal(t, "creating", aws.ToString(out.DBCluster.Status))
	assert.Empty(t, aws.ToString(out.DBCluster.Endpoint), "no DNS name while creating")

	cl := advanceUntilCluster(t, h, c, "orders", "available")
	assert.Equal(t, []string{"creating", "backing-up", "available"}, statuses(h, "cluster", aws.ToString(cl.DbClusterResourceId)))
	assert.Equal(t, int32(3307), aws.ToInt32(cl.Port))
	assert.Equal(t, "app-subnets", aws.ToString(cl.DBSubnetGroup))
	require.Len(t, cl.VpcSecurityGroups, 2)
	assert.Equal(t, "sg-0456", aws.ToString(cl.VpcSecurityGroups[1].VpcSecurityGroupId))
	assert.Equal(t, "app-cluster", aws.ToString(cl.DBClusterParameterGroup))
	assert.Equal(t, "orders", aws.ToString(cl.DatabaseName))
	assert.Equal(t, int32(14), aws.ToInt32(cl.BackupRetentionPeriod))
	assert.Equal(t, "02:00-02:30", aws.ToString(cl.PreferredBackupWindow))
	assert.Equal(t, "sun:05:00-sun:05:30", aws.ToString(cl.PreferredMaintenanceWindow))
	assert.True(t, aws.ToBool(cl.CopyTagsToSnapshot))
	assert.True(t, aws.ToBool(cl.DeletionProtection))
	assert.True(t, aws.ToBool(cl.IAMDatabaseAuthenticationEnabled))
	assert.Equal(t, []string{"audit", "slowquery"}, cl.EnabledCloudwatchLogsExports)
	assert.Equal(t, int64(86400), aws.ToInt64(cl.BacktrackWindow))
	assert.True(t, aws.ToBool(cl.StorageEncrypted))
	assert.Equal(t, keyARN, aws.ToString(cl.KmsKeyId))
	assert.Equal(t, "aurora-iopt1", aws.ToString(cl.StorageType))
	assert.Equal(t, "provisioned", aws.ToString(cl.EngineMode))
	assert.Equal(t, "team", aws.ToString(cl.TagList[0].Key))
	assert.Len(t, cl.AvailabilityZones, 2, "the AZs of the subnet group")
	assert.Regexp(t, `^orders\.cluster-[a-z]{12}\.us-east-1\.rds\.amazonaws\.com$`, aws.ToString(cl.Endpoint))
	assert.Regexp(t, `^orders\.cluster-ro-[a-z]{12}\.us-east-1\.rds\.amazonaws\.com$`, aws.ToString(cl.ReaderEndpoint))
	assert.Empty(t, cl.DBClusterMembers)

	// Members: the first becomes the writer; instance settings stay on the instance, the rest
	// comes from the cluster.
	addMember(t, h, c, "orders", "orders-1", "db.r6g.large", 1)
	addMember(t, h, c, "orders", "orders-2", "db.r6g.large", 0)
	addMember(t, h, c, "orders", "orders-3", "db.t4g.medium", 15)
	cl = describeCluster(t, c, "orders")
	require.Len(t, cl.DBClusterMembers, 3)
	writers := 0
	for _, m := range cl.DBClusterMembers {
		if aws.ToBool(m.IsClusterWriter) {
			writers++
			assert.Equal(t, "orders-1", aws.ToString(m.DBInstanceIdentifier))
		}
	}
	assert.Equal(t, 1, writers)
	m3 := describeOne(t, c, "orders-3")
	assert.Equal(t, "orders", aws.ToString(m3.DBClusterIdentifier))
	assert.Equal(t, int32(15), aws.ToInt32(m3.PromotionTier))
	assert.Equal(t, "db.t4g.medium", aws.ToString(m3.DBInstanceClass))
	assert.True(t, aws.ToBool(m3.StorageEncrypted))
	assert.Equal(t, keyARN, aws.ToString(m3.KmsKeyId))
	assert.Equal(t, "aurora-iopt1", aws.ToString(m3.StorageType))
	assert.Equal(t, "app-subnets", aws.ToString(m3.DBSubnetGroup.DBSubnetGroupName))
	assert.Equal(t, "default.aurora-mysql8.0", aws.ToString(m3.DBParameterGroups[0].DBParameterGroupName))

	byCluster, err := c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{Filters: []types.Filter{
		{Name: aws.String("db-cluster-id"), Values: []string{"orders"}}}})
	require.NoError(t, err)
	assert.Len(t, byCluster.DBInstances, 3)

	// A member cannot be snapshotted on its own (docs/aws-behaviour.md#snapshots).
	_, err = c.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("orders-2"), DBSnapshotIdentifier: aws.String("x")})
	assert.Equal(t, "InvalidParameterValue", apiCode(t, err))

	// A cluster with members cannot be deleted (after lifting deletion protection).
	_, err = c.DeleteDBCluster(ctx, &rds.DeleteDBClusterInput{DBClusterIdentifier: aws.String("orders"), SkipFinalSnapshot: aws.Bool(true)})
	assert.Equal(t, "InvalidParameterCombination", apiCode(t, err), "deletion protection first")
	_, err = c.ModifyDBCluster(ctx, &rds.ModifyDBClusterInput{DBClusterIdentifier: aws.String("orders"), DeletionProtection: aws.Bool(false), ApplyImmediately: aws.Bool(true)})
	require.NoError(t, err)
	advanceUntilCluster(t, h, c, "orders", "available")
	_, err = c.DeleteDBCluster(ctx, &rds.DeleteDBClusterInput{DBClusterIdentifier: aws.String("orders"), SkipFinalSnapshot: aws.Bool(true)})
	var state *types.InvalidDBClusterStateFault
	require.True(t, errors.As(err, &state), "got %v", err)
	assert.Contains(t, state.ErrorMessage(), "still contains DB instances")

	// Deleting the writer fails over to the member with the lowest promotion tier.
	_, err = c.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("orders-1"), SkipFinalSnapshot: aws.Bool(true)})
	require.NoError(t, err)
	h.Advance(time.Hour)
	cl = describeCluster(t, c, "orders")
	require.Len(t, cl.DBClusterMembers, 2)
	for _, m := range cl.DBClusterMembers {
		assert.Equal(t, aws.ToString(m.DBInstanceIdentifier) == "orders-2", aws.ToBool(m.IsClusterWriter))
	}
	for _, id := range []string{"orders-2", "orders-3"} {
		_, err = c.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String(id), SkipFinalSnapshot: aws.Bool(true)})
		require.NoError(t, err)
	}
	// Members in "deleting" no longer block the cluster's deletion.
	_, err = c.DeleteDBCluster(ctx, &rds.DeleteDBClusterInput{DBClusterIdentifier: aws.String("orders"), FinalDBSnapshotIdentifier: aws.String("orders-final")})
	require.NoError(t, err)
	snap := advanceUntilClusterSnapshot(t, h, c, "orders-final", "available")
	assert.True(t, aws.ToBool(snap.StorageEncrypted))
	assert.Equal(t, "manual", aws.ToString(snap.SnapshotType))
	assert.Equal(t, "team", aws.ToString(snap.TagList[0].Key), "CopyTagsToSnapshot")
	h.Advance(time.Hour)
	_, err = c.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String("orders")})
	var nf *types.DBClusterNotFoundFault
	require.True(t, errors.As(err, &nf), "got %v", err)
	assert.Equal(t, 404, httpStatus(t, err))
}

func TestCreateDBClusterErrors(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c := h.RDS("us-east-1")
	createCluster(t, h, c, auroraMySQLInput("a"))

	cases := []struct {
		name string
		mod  func(in *rds.CreateDBClusterInput)
		code string
	}{
		{"duplicate", func(in *rds.CreateDBClusterInput) { in.DBClusterIdentifier = aws.String("A") }, "DBClusterAlreadyExistsFault"},
		{"not aurora", func(in *rds.CreateDBClusterInput) { in.Engine = aws.String("mysql") }, "InvalidParameterValue"},
		{"bad id", func(in *rds.CreateDBClusterInput) { in.DBClusterIdentifier = aws.String("bad--id") }, "InvalidParameterValue"},
		{"no password", func(in *rds.CreateDBClusterInput) { in.MasterUserPassword = nil }, "InvalidParameterValue"},
		{"backtrack on postgres", func(in *rds.CreateDBClusterInput) {
			in.Engine = aws.String("aurora-postgresql")
			in.BacktrackWindow = aws.Int64(3600)
		}, "InvalidParameterValue"},
		{"bad storage type", func(in *rds.CreateDBClusterInput) { in.StorageType = aws.String("gp3") }, "InvalidParameterValue"},
		{"key without encryption", func(in *rds.CreateDBClusterInput) { in.KmsKeyId = aws.String("alias/aws/rds") }, "InvalidParameterCombination"},
		{"unknown key", func(in *rds.CreateDBClusterInput) {
			in.StorageEncrypted = aws.Bool(true)
			in.KmsKeyId = aws.String("alias/nope")
		}, "KMSKeyNotAccessibleFault"},
		{"missing cluster parameter group", func(in *rds.CreateDBClusterInput) { in.DBClusterParameterGroupName = aws.String("nope") }, "DBClusterParameterGroupNotFound"},
		{"wrong family", func(in *rds.CreateDBClusterInput) {
			in.DBClusterParameterGroupName = aws.String("default.aurora-postgresql16")
		}, "InvalidParameterCombination"},
		{"missing subnet group", func(in *rds.CreateDBClusterInput) { in.DBSubnetGroupName = aws.String("nope") }, "DBSubnetGroupNotFoundFault"},
		{"missing replication source", func(in *rds.CreateDBClusterInput) {
			in.ReplicationSourceIdentifier = aws.String("arn:aws:rds:us-west-2:123456789012:cluster:nope")
		}, "DBClusterNotFoundFault"},
	}
	for _, tc := range cases {
		in := auroraMySQLInput("b")
		tc.mod(in)
		_, err := c.CreateDBCluster(ctx, in)
		assert.Equal(t, tc.code, apiCode(t, err), tc.name)
	}
	_, err := c.CreateDBCluster(ctx, &rds.CreateDBClusterInput{DBClusterIdentifier: aws.String("x"), Engine: aws.String("aurora-mysql"),
		MasterUsername: aws.String("admin"), MasterUserPassword: aws.String("secret-password"), DBClusterParameterGroupName: aws.String("nope")})
	var pgnf *types.DBClusterParameterGroupNotFoundFault
	require.True(t, errors.As(err, &pgnf))
	assert.Equal(t, 404, httpStatus(t, err))

	// Members: unknown cluster, password on a member, engine mismatch, Serverless v2 class on
	// a provisioned-only cluster.
	member := func(cluster, engine, class string) *rds.CreateDBInstanceInput {
		return &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("m"), DBInstanceClass: aws.String(class),
			Engine: aws.String(engine), DBClusterIdentifier: aws.String(cluster)}
	}
	_, err = c.CreateDBInstance(ctx, member("nope", "aurora-mysql", "db.r6g.large"))
	var cnf *types.DBClusterNotFoundFault
	assert.True(t, errors.As(err, &cnf), "got %v", err)
	in := member("a", "aurora-mysql", "db.r6g.large")
	in.MasterUserPassword = aws.String("secret-password")
	_, err = c.CreateDBInstance(ctx, in)
	assert.Equal(t, "InvalidParameterCombination", apiCode(t, err))
	_, err = c.CreateDBInstance(ctx, member("a", "aurora-postgresql", "db.r6g.large"))
	assert.Equal(t, "InvalidParameterCombination", apiCode(t, err))
	_, err = c.CreateDBInstance(ctx, member("a", "aurora-mysql", "db.serverless"))
	assert.Equal(t, "InvalidParameterCombination", apiCode(t, err))
	_, err = c.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("m"),
		DBInstanceClass: aws.String("db.r6g.large"), Engine: aws.String("aurora-mysql"), DBClusterIdentifier: aws.String("a"),
		DBParameterGroupName: aws.String("nope")})
	assert.Equal(t, "DBParameterGroupNotFound", apiCode(t, err))
}

func TestServerlessV2Cluster(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c := h.RDS("eu-west-1")
	in := auroraMySQLInput("events")
	in.Engine = aws.String("aurora-postgresql")
	in.EngineVersion = aws.String("15.10")
	in.ServerlessV2ScalingConfiguration = &types.ServerlessV2ScalingConfiguration{MinCapacity: aws.Float64(0.5), MaxCapacity: aws.Float64(8)}
	cl := createCluster(t, h, c, in)
	require.NotNil(t, cl.ServerlessV2ScalingConfiguration)
	assert.Equal(t, 0.5, aws.ToFloat64(cl.ServerlessV2ScalingConfiguration.MinCapacity))
	assert.Equal(t, 8.0, aws.ToFloat64(cl.ServerlessV2ScalingConfiguration.MaxCapacity))
	assert.Equal(t, int32(5432), aws.ToInt32(cl.Port))
	assert.Equal(t, "default.aurora-postgresql15", aws.ToString(cl.DBClusterParameterGroup))
	assert.Nil(t, cl.BacktrackWindow, "no backtracking on PostgreSQL")
	_, err := c.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("events-1"),
		DBInstanceClass: aws.String("db.serverless"), Engine: aws.String("aurora-postgresql"), DBClusterIdentifier: aws.String("events")})
	require.NoError(t, err)
	m := advanceUntilInstance(t, h, c, "events-1", "available")
	assert.Equal(t, "db.serverless", aws.ToString(m.DBInstanceClass))
	assert.Equal(t, "15.10", aws.ToString(m.EngineVersion))

	_, err = c.ModifyDBCluster(ctx, &rds.ModifyDBClusterInput{DBClusterIdentifier: aws.String("events"),
		ServerlessV2ScalingConfiguration: &types.ServerlessV2ScalingConfiguration{MinCapacity: aws.Float64(1), MaxCapacity: aws.Float64(300)}})
	assert.Equal(t, "InvalidParameterValue", apiCode(t, err))
}

func TestClusterSnapshotCopyAndRestoreEncrypts(t *testing.T) {
	t.Parallel()
	h := fast(t)
	c := h.RDS("us-east-1")
	keyARN := newKey(t, h, "us-east-1", "alias/target")

	in := auroraMySQLInput("plain")
	in.VpcSecurityGroupIds = []string{"sg-app"}
	in.BacktrackWindow = aws.Int64(3600)
	in.EnableIAMDatabaseAuthentication = aws.Bool(true)
	in.DeletionProtection = aws.Bool(true)
	in.PreferredMaintenanceWindow = aws.String("sat:01:00-sat:01:30")
	in.DatabaseName = aws.String("shop")
	in.Port = aws.Int32(3310)
	_, err := c.CreateDBCluster(ctx, in)
	require.NoError(t, err)
	avail := rds.NewDBClusterAvailableWaiter(c, func(o *rds.DBClusterAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, 5*time.Millisecond
	})
	require.NoError(t, avail.Wait(ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String("plain")}, 10*time.Second))

	out, err := c.CreateDBClusterSnapshot(ctx, &rds.CreateDBClusterSnapshotInput{DBClusterIdentifier: aws.String("plain"),
		DBClusterSnapshotIdentifier: aws.String("plain-snap")})
	require.NoError(t, err)
	assert.Equal(t, "creating", aws.ToString(out.DBClusterSnapshot.Status))
	assert.False(t, aws.ToBool(out.DBClusterSnapshot.StorageEncrypted))
	snapWaiter := rds.NewDBClusterSnapshotAvailableWaiter(c, func(o *rds.DBClusterSnapshotAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, 5*time.Millisecond
	})
	require.NoError(t, snapWaiter.Wait(ctx, &rds.DescribeDBClusterSnapshotsInput{DBClusterSnapshotIdentifier: aws.String("plain-snap")}, 10*time.Second))

	// Copying an unencrypted cluster snapshot with a key is an error (docs/aws-behaviour.md#aurora-clusters); without one it is a
	// plain copy.
	_, err = c.CopyDBClusterSnapshot(ctx, &rds.CopyDBClusterSnapshotInput{SourceDBClusterSnapshotIdentifier: aws.String("plain-snap"),
		TargetDBClusterSnapshotIdentifier: aws.String("enc-copy"), KmsKeyId: aws.String(keyARN)})
	assert.Equal(t, "InvalidParameterCombination", apiCode(t, err))
	cp, err := c.CopyDBClusterSnapshot(ctx, &rds.CopyDBClusterSnapshotInput{SourceDBClusterSnapshotIdentifier: aws.String("plain-snap"),
		TargetDBClusterSnapshotIdentifier: aws.String("plain-copy")})
	require.NoError(t, err)
	assert.False(t, aws.ToBool(cp.DBClusterSnapshot.StorageEncrypted))
	assert.Contains(t, aws.ToString(cp.DBClusterSnapshot.SourceDBClusterSnapshotArn), ":cluster-snapshot:plain-snap")

	// Restore with KmsKeyId encrypts; the restore creates only the cluster, with docs/aws-behaviour.md#aurora-clusters defaults.
	rout, err := c.RestoreDBClusterFromSnapshot(ctx, &rds.RestoreDBClusterFromSnapshotInput{DBClusterIdentifier: aws.String("secure"),
		Engine: aws.String("aurora-mysql"), SnapshotIdentifier: aws.String("plain-snap"), KmsKeyId: aws.String("alias/target")})
	require.NoError(t, err)
	assert.Equal(t, "creating", aws.ToString(rout.DBCluster.Status))
	require.NoError(t, avail.Wait(ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String("secure")}, 10*time.Second))
	cl := describeCluster(t, c, "secure")
	assert.True(t, aws.ToBool(cl.StorageEncrypted))
	assert.Equal(t, keyARN, aws.ToString(cl.KmsKeyId))
	assert.Empty(t, cl.DBClusterMembers)
	assert.Equal(t, int32(3310), aws.ToInt32(cl.Port), "port comes from the snapshot")
	assert.Equal(t, "shop", aws.ToString(cl.DatabaseName))
	assert.Equal(t, "default.aurora-mysql8.0", aws.ToString(cl.DBClusterParameterGroup))
	require.Len(t, cl.VpcSecurityGroups, 1)
	assert.NotEqual(t, "sg-app", aws.ToString(cl.VpcSecurityGroups[0].VpcSecurityGroupId), "default security group")
	assert.Equal(t, int64(0), aws.ToInt64(cl.BacktrackWindow))
	assert.False(t, aws.ToBool(cl.IAMDatabaseAuthenticationEnabled))
	assert.False(t, aws.ToBool(cl.DeletionProtection))
	assert.NotEqual(t, "sat:01:00-sat:01:30", aws.ToString(cl.PreferredMaintenanceWindow))

	// Without a key the restored cluster keeps the snapshot's (lack of) encryption; an
	// encrypted snapshot copies with its key, or with a new one.
	_, err = c.RestoreDBClusterFromSnapshot(ctx, &rds.RestoreDBClusterFromSnapshotInput{DBClusterIdentifier: aws.String("plain2"),
		Engine: aws.String("aurora-mysql"), SnapshotIdentifier: aws.String("plain-snap")})
	require.NoError(t, err)
	assert.False(t, aws.ToBool(describeCluster(t, c, "plain2").StorageEncrypted))
	_, err = c.CreateDBClusterSnapshot(ctx, &rds.CreateDBClusterSnapshotInput{DBClusterIdentifier: aws.String("secure"),
		DBClusterSnapshotIdentifier: aws.String("secure-snap")})
	require.NoError(t, err)
	require.NoError(t, snapWaiter.Wait(ctx, &rds.DescribeDBClusterSnapshotsInput{DBClusterSnapshotIdentifier: aws.String("secure-snap")}, 10*time.Second))
	other := newKey(t, h, "us-east-1", "alias/other")
	re, err := c.CopyDBClusterSnapshot(ctx, &rds.CopyDBClusterSnapshotInput{SourceDBClusterSnapshotIdentifier: aws.String("secure-snap"),
		TargetDBClusterSnapshotIdentifier: aws.String("secure-rekeyed"), KmsKeyId: aws.String("alias/other")})
	require.NoError(t, err)
	assert.Equal(t, other, aws.ToString(re.DBClusterSnapshot.KmsKeyId))
	assert.Equal(t, "copying", aws.ToString(re.DBClusterSnapshot.Status))

	// Errors.
	_, err = c.RestoreDBClusterFromSnapshot(ctx, &rds.RestoreDBClusterFromSnapshotInput{DBClusterIdentifier: aws.String("x"),
		Engine: aws.String("aurora-mysql"), SnapshotIdentifier: aws.String("nope")})
	var snf *types.DBClusterSnapshotNotFoundFault
	assert.True(t, errors.As(err, &snf), "got %v", err)
	_, err = c.RestoreDBClusterFromSnapshot(ctx, &rds.RestoreDBClusterFromSnapshotInput{DBClusterIdentifier: aws.String("secure"),
		Engine: aws.String("aurora-mysql"), SnapshotIdentifier: aws.String("plain-snap")})
	var exists *types.DBClusterAlreadyExistsFault
	assert.True(t, errors.As(err, &exists), "got %v", err)
	_, err = c.RestoreDBClusterFromSnapshot(ctx, &rds.RestoreDBClusterFromSnapshotInput{DBClusterIdentifier: aws.String("x"),
		Engine: aws.String("aurora-postgresql"), SnapshotIdentifier: aws.String("plain-snap")})
	assert.Equal(t, "InvalidParameterValue", apiCode(t, err))
	_, err = c.RestoreDBClusterFromSnapshot(ctx, &rds.RestoreDBClusterFromSnapshotInput{DBClusterIdentifier: aws.String("x"),
		Engine: aws.String("aurora-mysql"), SnapshotIdentifier: aws.String("plain-snap"), KmsKeyId: aws.String("alias/missing")})
	var kf *types.KMSKeyNotAccessibleFault
	assert.True(t, errors.As(err, &kf), "got %v", err)
	_, err = c.CreateDBClusterSnapshot(ctx, &rds.CreateDBClusterSnapshotInput{DBClusterIdentifier: aws.String("secure"),
		DBClusterSnapshotIdentifier: aws.String("secure-snap")})
	var sexists *types.DBClusterSnapshotAlreadyExistsFault
	assert.True(t, errors.As(err, &sexists), "got %v", err)
	_, err = c.DeleteDBClusterSnapshot(ctx, &rds.DeleteDBClusterSnapshotInput{DBClusterSnapshotIdentifier: aws.String("plain-copy")})
	require.NoError(t, err)
	deleted := rds.NewDBClusterSnapshotDeletedWaiter(c, func(o *rds.DBClusterSnapshotDeletedWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, 5*time.Millisecond
	})
	require.NoError(t, deleted.Wait(ctx, &rds.DescribeDBClusterSnapshotsInput{DBClusterSnapshotIdentifier: aws.String("plain-copy")}, 10*time.Second))
}

func TestClusterSnapshotStatusesAndFilters(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c := h.RDS("us-east-1")
	createCluster(t, h, c, auroraMySQLInput("db1"))
	arn := "arn:aws:rds:us-east-1:" + h.Sim.AccountID() + ":cluster-snapshot:db1-s"
	_, err := c.CreateDBClusterSnapshot(ctx, &rds.CreateDBClusterSnapshotInput{DBClusterIdentifier: aws.String("db1"),
		DBClusterSnapshotIdentifier: aws.String("DB1-S")})
	require.NoError(t, err)
	assert.Equal(t, "backing-up", aws.ToString(describeCluster(t, c, "db1").Status))
	_, err = c.CreateDBClusterSnapshot(ctx, &rds.CreateDBClusterSnapshotInput{DBClusterIdentifier: aws.String("db1"),
		DBClusterSnapshotIdentifier: aws.String("db1-t")})
	assert.Equal(t, "InvalidDBClusterStateFault", apiCode(t, err), "busy cluster")
	sn := advanceUntilClusterSnapshot(t, h, c, arn, "available")
	assert.Equal(t, int32(100), aws.ToInt32(sn.PercentProgress))
	assert.Equal(t, []string{"creating", "available"}, statuses(h, "cluster-snapshot", arn))

	// The automated snapshot of the initial backup is listed with the manual one by default.
	all, err := c.DescribeDBClusterSnapshots(ctx, &rds.DescribeDBClusterSnapshotsInput{DBClusterIdentifier: aws.String("db1")})
	require.NoError(t, err)
	require.Len(t, all.DBClusterSnapshots, 2)
	manualOnly, err := c.DescribeDBClusterSnapshots(ctx, &rds.DescribeDBClusterSnapshotsInput{SnapshotType: aws.String("manual")})
	require.NoError(t, err)
	require.Len(t, manualOnly.DBClusterSnapshots, 1)
	byFilter, err := c.DescribeDBClusterSnapshots(ctx, &rds.DescribeDBClusterSnapshotsInput{Filters: []types.Filter{
		{Name: aws.String("snapshot-type"), Values: []string{"automated"}}, {Name: aws.String("engine"), Values: []string{"aurora-mysql"}}}})
	require.NoError(t, err)
	require.Len(t, byFilter.DBClusterSnapshots, 1)
	assert.Regexp(t, `^rds:db1-`, aws.ToString(byFilter.DBClusterSnapshots[0].DBClusterSnapshotIdentifier))
	_, err = c.DeleteDBClusterSnapshot(ctx, &rds.DeleteDBClusterSnapshotInput{DBClusterSnapshotIdentifier: byFilter.DBClusterSnapshots[0].DBClusterSnapshotIdentifier})
	assert.Equal(t, "InvalidDBClusterSnapshotStateFault", apiCode(t, err), "automated snapshots are not deleted by hand")
}

func TestCrossRegionClusterSnapshotCopy(t *testing.T) {
	t.Parallel()
	h := manual(t)
	east, west := h.RDS("us-east-1"), h.RDS("us-west-2")
	in := auroraMySQLInput("g")
	in.StorageEncrypted = aws.Bool(true)
	createCluster(t, h, east, in)
	_, err := east.CreateDBClusterSnapshot(ctx, &rds.CreateDBClusterSnapshotInput{DBClusterIdentifier: aws.String("g"), DBClusterSnapshotIdentifier: aws.String("g-s")})
	require.NoError(t, err)
	src := advanceUntilClusterSnapshot(t, h, east, "g-s", "available")
	westKey := newKey(t, h, "us-west-2", "alias/dr")
	_, err = west.CopyDBClusterSnapshot(ctx, &rds.CopyDBClusterSnapshotInput{SourceDBClusterSnapshotIdentifier: src.DBClusterSnapshotArn,
		TargetDBClusterSnapshotIdentifier: aws.String("g-dr"), SourceRegion: aws.String("us-east-1")})
	assert.Equal(t, "InvalidParameterValue", apiCode(t, err), "an encrypted cross-region copy needs a destination key")
	out, err := west.CopyDBClusterSnapshot(ctx, &rds.CopyDBClusterSnapshotInput{SourceDBClusterSnapshotIdentifier: src.DBClusterSnapshotArn,
		TargetDBClusterSnapshotIdentifier: aws.String("g-dr"), KmsKeyId: aws.String("alias/dr"), SourceRegion: aws.String("us-east-1")})
	require.NoError(t, err)
	assert.Equal(t, "pending", aws.ToString(out.DBClusterSnapshot.Status))
	cp := advanceUntilClusterSnapshot(t, h, west, "g-dr", "available")
	assert.Equal(t, westKey, aws.ToString(cp.KmsKeyId))
	assert.Equal(t, []string{"pending", "copying", "available"},
		statuses(h, "cluster-snapshot", "arn:aws:rds:us-west-2:"+h.Sim.AccountID()+":cluster-snapshot:g-dr"))
}

func TestModifyAndRenameCluster(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c := h.RDS("us-east-1")
	before := createCluster(t, h, c, auroraMySQLInput("old"))
	addMember(t, h, c, "old", "old-1", "db.r6g.large", 1)
	addMember(t, h, c, "old", "old-2", "db.r6g.large", 1)
	_, err := c.CreateDBClusterEndpoint(ctx, &rds.CreateDBClusterEndpointInput{DBClusterEndpointIdentifier: aws.String("reports"),
		DBClusterIdentifier: aws.String("old"), EndpointType: aws.String("READER"), StaticMembers: []string{"old-2"}})
	require.NoError(t, err)
	h.Advance(5 * time.Minute)
	custom := describeCluster(t, c, "old").CustomEndpoints
	require.Len(t, custom, 1)

	// Settings apply at once on Aurora, without ApplyImmediately.
	out, err := c.ModifyDBCluster(ctx, &rds.ModifyDBClusterInput{DBClusterIdentifier: aws.String("old"),
		BackupRetentionPeriod: aws.Int32(21), CloudwatchLogsExportConfiguration: &types.CloudwatchLogsExportConfiguration{EnableLogTypes: []string{"error"}}})
	require.NoError(t, err)
	assert.Equal(t, "modifying", aws.ToString(out.DBCluster.Status))
	assert.Equal(t, int32(21), aws.ToInt32(out.DBCluster.BackupRetentionPeriod))
	advanceUntilCluster(t, h, c, "old", "available")

	// A rename without ApplyImmediately waits for the maintenance window.
	out, err = c.ModifyDBCluster(ctx, &rds.ModifyDBClusterInput{DBClusterIdentifier: aws.String("old"), NewDBClusterIdentifier: aws.String("new")})
	require.NoError(t, err)
	require.NotNil(t, out.DBCluster.PendingModifiedValues)
	assert.Equal(t, "new", aws.ToString(out.DBCluster.PendingModifiedValues.DBClusterIdentifier))
	assert.Equal(t, "available", aws.ToString(out.DBCluster.Status))

	out, err = c.ModifyDBCluster(ctx, &rds.ModifyDBClusterInput{DBClusterIdentifier: aws.String("old"), NewDBClusterIdentifier: aws.String("New"), ApplyImmediately: aws.Bool(true)})
	require.NoError(t, err)
	assert.Equal(t, "renaming", aws.ToString(out.DBCluster.Status))
	_, err = c.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String("old")})
	var nf *types.DBClusterNotFoundFault
	require.True(t, errors.As(err, &nf), "got %v", err)
	after := advanceUntilCluster(t, h, c, "new", "available")
	assert.Equal(t, []string{"renaming", "available"}, statuses(h, "cluster", aws.ToString(after.DbClusterResourceId))[len(statuses(h, "cluster", aws.ToString(after.DbClusterResourceId)))-2:])
	assert.Equal(t, aws.ToString(before.DbClusterResourceId), aws.ToString(after.DbClusterResourceId))
	assert.Regexp(t, `^new\.cluster-`, aws.ToString(after.Endpoint))
	assert.Regexp(t, `^new\.cluster-ro-`, aws.ToString(after.ReaderEndpoint))
	assert.Equal(t, custom, after.CustomEndpoints, "custom endpoint addresses do not contain the cluster name")
	assert.Nil(t, after.PendingModifiedValues)
	assert.Contains(t, aws.ToString(after.DBClusterArn), ":cluster:new")
	assert.Equal(t, "new", aws.ToString(describeOne(t, c, "old-1").DBClusterIdentifier))
	eps, err := c.DescribeDBClusterEndpoints(ctx, &rds.DescribeDBClusterEndpointsInput{DBClusterIdentifier: aws.String("new")})
	require.NoError(t, err)
	require.Len(t, eps.DBClusterEndpoints, 3)
	assert.Equal(t, "WRITER", aws.ToString(eps.DBClusterEndpoints[0].EndpointType))
	assert.Equal(t, aws.ToString(after.Endpoint), aws.ToString(eps.DBClusterEndpoints[0].Endpoint))
	assert.Equal(t, "new", aws.ToString(eps.DBClusterEndpoints[2].DBClusterIdentifier))
	assert.Equal(t, []string{"old-2"}, eps.DBClusterEndpoints[2].StaticMembers)

	// The freed name can be taken by another cluster, whose writer endpoint is exactly the old
	// cluster's former one (the endpoint swap of docs/architecture.md#tags-and-names).
	other := createCluster(t, h, c, auroraMySQLInput("old"))
	assert.Equal(t, aws.ToString(before.Endpoint), aws.ToString(other.Endpoint))
	_, err = c.ModifyDBCluster(ctx, &rds.ModifyDBClusterInput{DBClusterIdentifier: aws.String("old"), NewDBClusterIdentifier: aws.String("new"), ApplyImmediately: aws.Bool(true)})
	var exists *types.DBClusterAlreadyExistsFault
	assert.True(t, errors.As(err, &exists), "got %v", err)
}

func TestDescribeDBClustersPagingAndFilters(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c := h.RDS("us-east-1")
	for i := range 23 {
		in := auroraMySQLInput(fmt.Sprintf("c%02d", i))
		if i%2 == 1 {
			in.Engine = aws.String("aurora-postgresql")
		}
		_, err := c.CreateDBCluster(ctx, in)
		require.NoError(t, err)
	}
	pages, ids := 0, []string{}
	pg := rds.NewDescribeDBClustersPaginator(c, &rds.DescribeDBClustersInput{MaxRecords: aws.Int32(20)})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		require.NoError(t, err)
		pages++
		for _, cl := range out.DBClusters {
			ids = append(ids, aws.ToString(cl.DBClusterIdentifier))
		}
	}
	assert.Equal(t, 2, pages)
	assert.Len(t, ids, 23)
	assert.Equal(t, "c00", ids[0])

	pgOnly, err := c.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{Filters: []types.Filter{{Name: aws.String("engine"), Values: []string{"aurora-postgresql"}}}})
	require.NoError(t, err)
	assert.Len(t, pgOnly.DBClusters, 11)
	rid := pgOnly.DBClusters[0].DbClusterResourceId
	byRID, err := c.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{Filters: []types.Filter{{Name: aws.String("db-cluster-resource-id"), Values: []string{aws.ToString(rid)}}}})
	require.NoError(t, err)
	require.Len(t, byRID.DBClusters, 1)
	assert.Equal(t, "c01", aws.ToString(byRID.DBClusters[0].DBClusterIdentifier))
	none, err := c.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{Filters: []types.Filter{{Name: aws.String("db-cluster-id"), Values: []string{"zzz"}}}})
	require.NoError(t, err)
	assert.Empty(t, none.DBClusters)
	byARN, err := c.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: pgOnly.DBClusters[0].DBClusterArn})
	require.NoError(t, err)
	assert.Equal(t, "c01", aws.ToString(byARN.DBClusters[0].DBClusterIdentifier))
	_, err = c.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{Filters: []types.Filter{{Name: aws.String("bogus"), Values: []string{"x"}}}})
	assert.Equal(t, "InvalidParameterValue", apiCode(t, err))
}

func TestDeleteDBClusterRules(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c := h.RDS("us-east-1")
	_, err := c.CreateDBCluster(ctx, auroraMySQLInput("gone"))
	require.NoError(t, err)
	h.Advance(time.Hour)
	avail := rds.NewDBClusterAvailableWaiter(c, func(o *rds.DBClusterAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, 5*time.Millisecond
	})
	require.NoError(t, avail.Wait(ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String("gone")}, 10*time.Second))
	_, err = c.DeleteDBCluster(ctx, &rds.DeleteDBClusterInput{DBClusterIdentifier: aws.String("gone")})
	assert.Equal(t, "InvalidParameterCombination", apiCode(t, err), "final snapshot or skip")
	_, err = c.DeleteDBCluster(ctx, &rds.DeleteDBClusterInput{DBClusterIdentifier: aws.String("gone"), SkipFinalSnapshot: aws.Bool(true), FinalDBSnapshotIdentifier: aws.String("f")})
	assert.Equal(t, "InvalidParameterCombination", apiCode(t, err))
	out, err := c.DeleteDBCluster(ctx, &rds.DeleteDBClusterInput{DBClusterIdentifier: aws.String("gone"), SkipFinalSnapshot: aws.Bool(true)})
	require.NoError(t, err)
	assert.Equal(t, "deleting", aws.ToString(out.DBCluster.Status))
	_, err = c.DeleteDBCluster(ctx, &rds.DeleteDBClusterInput{DBClusterIdentifier: aws.String("gone"), SkipFinalSnapshot: aws.Bool(true)})
	assert.Equal(t, "InvalidDBClusterStateFault", apiCode(t, err))
	// Once the cluster is gone, the NotFound fault is the Deleted waiter's success.
	h.Advance(time.Hour)
	deleted := rds.NewDBClusterDeletedWaiter(c, func(o *rds.DBClusterDeletedWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, 5*time.Millisecond
	})
	require.NoError(t, deleted.Wait(ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String("gone")}, 10*time.Second))
	snaps, err := c.DescribeDBClusterSnapshots(ctx, &rds.DescribeDBClusterSnapshotsInput{DBClusterIdentifier: aws.String("gone")})
	require.NoError(t, err)
	assert.Empty(t, snaps.DBClusterSnapshots, "automated snapshots go with the cluster")
	_, err = c.DeleteDBCluster(ctx, &rds.DeleteDBClusterInput{DBClusterIdentifier: aws.String("gone"), SkipFinalSnapshot: aws.Bool(true)})
	var nf *types.DBClusterNotFoundFault
	assert.True(t, errors.As(err, &nf))
	assert.Equal(t, []string{"creating", "backing-up", "available", "deleting", "deleted"}, statusesByID(h, "cluster", "gone"))
}

func TestClusterTags(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c := h.RDS("us-east-1")
	cl := createCluster(t, h, c, auroraMySQLInput("tagged"))
	_, err := c.CreateDBClusterSnapshot(ctx, &rds.CreateDBClusterSnapshotInput{DBClusterIdentifier: aws.String("tagged"), DBClusterSnapshotIdentifier: aws.String("tagged-s")})
	require.NoError(t, err)
	snap := advanceUntilClusterSnapshot(t, h, c, "tagged-s", "available")
	_, err = c.CreateDBClusterEndpoint(ctx, &rds.CreateDBClusterEndpointInput{DBClusterEndpointIdentifier: aws.String("tagged-ep"),
		DBClusterIdentifier: aws.String("tagged"), EndpointType: aws.String("ANY")})
	require.NoError(t, err)
	eps, err := c.DescribeDBClusterEndpoints(ctx, &rds.DescribeDBClusterEndpointsInput{DBClusterEndpointIdentifier: aws.String("tagged-ep")})
	require.NoError(t, err)
	require.Len(t, eps.DBClusterEndpoints, 1)
	for _, arn := range []*string{cl.DBClusterArn, snap.DBClusterSnapshotArn, eps.DBClusterEndpoints[0].DBClusterEndpointArn} {
		_, err := c.AddTagsToResource(ctx, &rds.AddTagsToResourceInput{ResourceName: arn, Tags: []types.Tag{
			{Key: aws.String("rdsencrypt:role"), Value: aws.String("source")}, {Key: aws.String("x"), Value: aws.String("1")}}})
		require.NoError(t, err)
		_, err = c.RemoveTagsFromResource(ctx, &rds.RemoveTagsFromResourceInput{ResourceName: arn, TagKeys: []string{"x"}})
		require.NoError(t, err)
		out, err := c.ListTagsForResource(ctx, &rds.ListTagsForResourceInput{ResourceName: arn})
		require.NoError(t, err)
		require.Len(t, out.TagList, 1, aws.ToString(arn))
		assert.Equal(t, "rdsencrypt:role", aws.ToString(out.TagList[0].Key))
	}
	assert.Equal(t, "rdsencrypt:role", aws.ToString(describeCluster(t, c, "tagged").TagList[0].Key))
	_, err = c.ListTagsForResource(ctx, &rds.ListTagsForResourceInput{ResourceName: aws.String("arn:aws:rds:us-east-1:" + h.Sim.AccountID() + ":cluster:nope")})
	var nf *types.DBClusterNotFoundFault
	assert.True(t, errors.As(err, &nf), "got %v", err)
}

func TestReplicaAndGlobalClusterFields(t *testing.T) {
	t.Parallel()
	h := manual(t)
	east, west := h.RDS("us-east-1"), h.RDS("us-west-2")
	in := auroraMySQLInput("primary")
	in.StorageEncrypted = aws.Bool(true)
	src := createCluster(t, h, east, in)
	addMember(t, h, east, "primary", "primary-1", "db.r6g.large", 1)
	assert.False(t, aws.ToBool(describeCluster(t, east, "primary").MultiAZ), "one instance, one AZ")

	replica := &rds.CreateDBClusterInput{DBClusterIdentifier: aws.String("replica"), Engine: aws.String("aurora-mysql"),
		ReplicationSourceIdentifier: src.DBClusterArn, SourceRegion: aws.String("us-east-1")}
	_, err := west.CreateDBCluster(ctx, replica)
	assert.Equal(t, "InvalidParameterCombination", apiCode(t, err), "an encrypted source needs a key of the replica's region")
	newKey(t, h, "us-west-2", "alias/replica")
	replica.KmsKeyId = aws.String("alias/replica")
	rep := createCluster(t, h, west, replica)
	assert.Equal(t, aws.ToString(src.DBClusterArn), aws.ToString(rep.ReplicationSourceIdentifier))
	assert.True(t, aws.ToBool(rep.StorageEncrypted))
	assert.Equal(t, "admin", aws.ToString(rep.MasterUsername), "credentials come from the source")
	assert.Equal(t, []string{aws.ToString(rep.DBClusterArn)}, describeCluster(t, east, "primary").ReadReplicaIdentifiers)

	global := auroraMySQLInput("member-of-global")
	global.GlobalClusterIdentifier = aws.String("Shop-Global")
	g := createCluster(t, h, east, global)
	assert.Equal(t, "shop-global", aws.ToString(g.GlobalClusterIdentifier))

	bad := auroraMySQLInput("x")
	bad.EngineVersion = aws.String("5.6.10a")
	_, err = east.CreateDBCluster(ctx, bad)
	assert.Equal(t, "InvalidParameterCombination", apiCode(t, err), "unknown engine version")
	bad = auroraMySQLInput("x")
	bad.DBClusterInstanceClass = aws.String("db.m6gd.large")
	_, err = east.CreateDBCluster(ctx, bad)
	assert.Equal(t, "InvalidParameterCombination", apiCode(t, err), "Multi-AZ DB cluster settings on Aurora")
}
