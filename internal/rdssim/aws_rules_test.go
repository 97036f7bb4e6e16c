package rdssim_test

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/rdssim"
	"github.com/rdsencrypt/rdsencrypt/internal/rdssim/simtest"
)

// Conformance tests of the AWS rules of issue 13 (sources in storage_rules.go and the
// handlers): each checks AWS's error code and message.

// apiMessage returns the error message of an SDK error.
func apiMessage(t *testing.T, err error) string {
	t.Helper()
	require.Error(t, err)
	var ae smithy.APIError
	require.True(t, errors.As(err, &ae), "not an API error: %v", err)
	return ae.ErrorMessage()
}

func postgresInput(id string, storage int32) *rds.CreateDBInstanceInput {
	in := mysqlInput(id)
	in.Engine, in.AllocatedStorage, in.StorageType = aws.String("postgres"), aws.Int32(storage), aws.String("gp3")
	return in
}

func pgParamGroup(t *testing.T, c *rds.Client, name string) {
	t.Helper()
	_, err := c.CreateDBParameterGroup(ctx, &rds.CreateDBParameterGroupInput{DBParameterGroupName: aws.String(name),
		DBParameterGroupFamily: aws.String("postgres16"), Description: aws.String(name)})
	require.NoError(t, err)
}

func TestReplicaParameterGroupOnlyWhereAWSAcceptsIt(t *testing.T) {
	t.Parallel()
	h := manual(t)
	east, west := h.RDS("us-east-1"), h.RDS("us-west-2")
	pgParamGroup(t, east, "pg-app")
	pgParamGroup(t, west, "pg-app")
	pg := postgresInput("pg", 100)
	pg.DBParameterGroupName = aws.String("pg-app")
	createAvailable(t, h, east, pg)
	pgARN := "arn:aws:rds:us-east-1:" + h.Sim.AccountID() + ":db:pg"

	_, err := east.CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("pg-r"),
		SourceDBInstanceIdentifier: aws.String("pg"), DBParameterGroupName: aws.String("pg-app")})
	assert.Equal(t, "InvalidParameterCombination", apiCode(t, err))
	assert.Equal(t, "A parameter group can't be specified during Read Replica creation for the following DB engine: postgres", apiMessage(t, err))
	_, err = west.CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("pg-w"),
		SourceDBInstanceIdentifier: aws.String(pgARN), SourceRegion: aws.String("us-east-1"), DBParameterGroupName: aws.String("pg-app")})
	assert.Equal(t, "A parameter group can't be specified during Read Replica creation for the following DB engine: postgres", apiMessage(t, err), "cross-region PostgreSQL too")

	// Without it: the same-region replica inherits the source's group, the cross-region one
	// gets its region's default.
	_, err = east.CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("pg-r"),
		SourceDBInstanceIdentifier: aws.String("pg")})
	require.NoError(t, err)
	h.Advance(5 * time.Minute)
	_, err = west.CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("pg-w"),
		SourceDBInstanceIdentifier: aws.String(pgARN), SourceRegion: aws.String("us-east-1")})
	require.NoError(t, err)
	assert.Equal(t, "pg-app", aws.ToString(describeOne(t, east, "pg-r").DBParameterGroups[0].DBParameterGroupName))
	assert.Equal(t, "default.postgres16", aws.ToString(describeOne(t, west, "pg-w").DBParameterGroups[0].DBParameterGroupName))

	// MySQL: refused in the same region, accepted across regions.
	ensureParamGroup(t, east, "my-app")
	ensureParamGroup(t, west, "my-app")
	createAvailable(t, h, east, mysqlInput("my"))
	_, err = east.CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("my-r"),
		SourceDBInstanceIdentifier: aws.String("my"), DBParameterGroupName: aws.String("my-app")})
	assert.Equal(t, "A parameter group can't be specified during Read Replica creation for the following DB engine: mysql", apiMessage(t, err))
	_, err = west.CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("my-w"),
		SourceDBInstanceIdentifier: aws.String("arn:aws:rds:us-east-1:" + h.Sim.AccountID() + ":db:my"), SourceRegion: aws.String("us-east-1"),
		DBParameterGroupName: aws.String("my-app")})
	require.NoError(t, err)
	assert.Equal(t, "my-app", aws.ToString(describeOne(t, west, "my-w").DBParameterGroups[0].DBParameterGroupName))
}

func TestGP3IopsAndThroughputBelowTheThreshold(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c := h.RDS("us-east-1")
	const msg = "You can't specify IOPS or storage throughput for engine postgres and a storage size less than 400."

	small := postgresInput("small", 100)
	small.Iops, small.StorageThroughput = aws.Int32(3000), aws.Int32(125) // the baseline values Describe reports
	_, err := c.CreateDBInstance(ctx, small)
	assert.Equal(t, "InvalidParameterCombination", apiCode(t, err))
	assert.Equal(t, msg, apiMessage(t, err))

	small.Iops, small.StorageThroughput = nil, nil
	got := createAvailable(t, h, c, small)
	assert.Equal(t, int32(3000), aws.ToInt32(got.Iops), "gp3 baseline below the threshold")
	assert.Equal(t, int32(125), aws.ToInt32(got.StorageThroughput))

	_, err = c.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("small"), Iops: aws.Int32(3000), ApplyImmediately: aws.Bool(true)})
	assert.Equal(t, msg, apiMessage(t, err), "modify (the stricter reading)")

	_, err = c.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("small"), DBSnapshotIdentifier: aws.String("small-s")})
	require.NoError(t, err)
	advanceUntilSnapshot(t, h, c, "small-s", "available")
	_, err = c.RestoreDBInstanceFromDBSnapshot(ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{DBInstanceIdentifier: aws.String("small-r"),
		DBSnapshotIdentifier: aws.String("small-s"), StorageType: aws.String("gp3"), Iops: aws.Int32(3000)})
	assert.Equal(t, msg, apiMessage(t, err), "restore")
	_, err = c.CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("small-rr"),
		SourceDBInstanceIdentifier: aws.String("small"), StorageThroughput: aws.Int32(125)})
	assert.Equal(t, msg, apiMessage(t, err), "replica creation")
	_, err = c.RestoreDBInstanceFromDBSnapshot(ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{DBInstanceIdentifier: aws.String("small-r"),
		DBSnapshotIdentifier: aws.String("small-s")})
	require.NoError(t, err, "without them the snapshot's apply")

	// From the threshold on, the values may be chosen; Oracle's threshold is 200 GiB.
	big := postgresInput("big", 400)
	big.Iops, big.StorageThroughput = aws.Int32(12000), aws.Int32(500)
	_, err = c.CreateDBInstance(ctx, big)
	require.NoError(t, err)
	ora := mysqlInput("ora")
	ora.Engine, ora.LicenseModel, ora.StorageType = aws.String("oracle-ee"), aws.String("bring-your-own-license"), aws.String("gp3")
	ora.AllocatedStorage, ora.Iops = aws.Int32(100), aws.Int32(3000)
	_, err = c.CreateDBInstance(ctx, ora)
	assert.Equal(t, "You can't specify IOPS or storage throughput for engine oracle-ee and a storage size less than 200.", apiMessage(t, err))
	ora.AllocatedStorage, ora.Iops = aws.Int32(200), aws.Int32(12000)
	_, err = c.CreateDBInstance(ctx, ora)
	require.NoError(t, err)
}

func TestSQLServerStorageIsNotValidOnRestoreOrReplica(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c := h.RDS("us-east-1")
	ss := mysqlInput("ss")
	ss.Engine, ss.LicenseModel = aws.String("sqlserver-se"), aws.String("license-included")
	createAvailable(t, h, c, ss)
	_, err := c.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("ss"), DBSnapshotIdentifier: aws.String("ss-s")})
	require.NoError(t, err)
	advanceUntilSnapshot(t, h, c, "ss-s", "available")

	_, err = c.RestoreDBInstanceFromDBSnapshot(ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{DBInstanceIdentifier: aws.String("ss-r"),
		DBSnapshotIdentifier: aws.String("ss-s"), AllocatedStorage: aws.Int32(100)})
	assert.Equal(t, "InvalidParameterCombination", apiCode(t, err))
	assert.Contains(t, apiMessage(t, err), "AllocatedStorage isn't valid for RestoreDBInstanceFromDBSnapshot with engine sqlserver-se")
	_, err = c.CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("ss-rr"),
		SourceDBInstanceIdentifier: aws.String("ss"), AllocatedStorage: aws.Int32(100)})
	assert.Contains(t, apiMessage(t, err), "AllocatedStorage isn't valid for CreateDBInstanceReadReplica with engine sqlserver-se")
	_, err = c.RestoreDBInstanceFromDBSnapshot(ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{DBInstanceIdentifier: aws.String("ss-r"),
		DBSnapshotIdentifier: aws.String("ss-s")})
	require.NoError(t, err)
	assert.Equal(t, int32(100), aws.ToInt32(describeOne(t, c, "ss-r").AllocatedStorage), "the snapshot's storage")
}

func TestSameRegionReplicaMayTakeItsOwnKey(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c := h.RDS("us-east-1")
	first := newKey(t, h, "us-east-1", "alias/first")
	second := newKey(t, h, "us-east-1", "alias/second")
	enc := mysqlInput("enc")
	enc.StorageEncrypted, enc.KmsKeyId = aws.Bool(true), aws.String(first)
	createAvailable(t, h, c, enc)
	out, err := c.CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("enc-r"),
		SourceDBInstanceIdentifier: aws.String("enc"), KmsKeyId: aws.String("alias/second")})
	require.NoError(t, err)
	assert.Equal(t, second, aws.ToString(out.DBInstance.KmsKeyId))
	assert.True(t, aws.ToBool(out.DBInstance.StorageEncrypted))

	plain := mysqlInput("plain")
	createAvailable(t, h, c, plain)
	_, err = c.CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("plain-r"),
		SourceDBInstanceIdentifier: aws.String("plain"), KmsKeyId: aws.String("alias/second")})
	assert.Equal(t, "InvalidParameterCombination", apiCode(t, err), "no encrypted replica of an unencrypted source")
}

func TestEngineVersionsFollowDescribeDBEngineVersions(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c := h.RDS("us-east-1")
	old := mysqlInput("old")
	old.EngineVersion = aws.String("5.6.10")
	_, err := c.CreateDBInstance(ctx, old)
	assert.Equal(t, "InvalidParameterCombination", apiCode(t, err))
	assert.Equal(t, "Cannot find version 5.6.10 for mysql", apiMessage(t, err))

	out, err := c.DescribeDBEngineVersions(ctx, &rds.DescribeDBEngineVersionsInput{Engine: aws.String("mysql"), EngineVersion: aws.String("8.0.36")})
	require.NoError(t, err)
	require.Len(t, out.DBEngineVersions, 1)
	assert.Equal(t, "mysql8.0", aws.ToString(out.DBEngineVersions[0].DBParameterGroupFamily))
	assert.Equal(t, "available", aws.ToString(out.DBEngineVersions[0].Status))

	app := mysqlInput("app")
	app.EngineVersion = aws.String("8.0.36")
	createAvailable(t, h, c, app)
	_, err = c.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("app"), DBSnapshotIdentifier: aws.String("app-s")})
	require.NoError(t, err)
	advanceUntilSnapshot(t, h, c, "app-s", "available")

	// AWS stops offering the version: the instance runs on, the version is listed only with
	// IncludeAll, new instances and restores of its snapshots are refused.
	h.Sim.RetireEngineVersion("mysql", "8.0.36")
	out, err = c.DescribeDBEngineVersions(ctx, &rds.DescribeDBEngineVersionsInput{Engine: aws.String("mysql"), EngineVersion: aws.String("8.0.36")})
	require.NoError(t, err)
	assert.Empty(t, out.DBEngineVersions)
	out, err = c.DescribeDBEngineVersions(ctx, &rds.DescribeDBEngineVersionsInput{Engine: aws.String("mysql"), EngineVersion: aws.String("8.0.36"), IncludeAll: aws.Bool(true)})
	require.NoError(t, err)
	require.Len(t, out.DBEngineVersions, 1)
	assert.Equal(t, "deprecated", aws.ToString(out.DBEngineVersions[0].Status))
	_, err = c.CreateDBInstance(ctx, func() *rds.CreateDBInstanceInput {
		in := mysqlInput("app2")
		in.EngineVersion = aws.String("8.0.36")
		return in
	}())
	assert.Equal(t, "Cannot find version 8.0.36 for mysql", apiMessage(t, err))
	_, err = c.RestoreDBInstanceFromDBSnapshot(ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{DBInstanceIdentifier: aws.String("app-r"), DBSnapshotIdentifier: aws.String("app-s")})
	assert.Equal(t, "Cannot find version 8.0.36 for mysql", apiMessage(t, err))
	assert.Equal(t, "available", aws.ToString(describeOne(t, c, "app").DBInstanceStatus))
}

func TestRDSCustomNeedsItsInstanceProfile(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c := h.RDS("us-east-1")
	in := mysqlInput("cust")
	in.Engine, in.LicenseModel = aws.String("custom-oracle-ee"), aws.String("bring-your-own-license")
	_, err := c.CreateDBInstance(ctx, in)
	assert.Equal(t, "InvalidParameterCombination", apiCode(t, err))
	assert.Contains(t, apiMessage(t, err), "CustomIamInstanceProfile")
	in.CustomIamInstanceProfile = aws.String("AWSRDSCustomInstanceProfile")
	createAvailable(t, h, c, in)
	_, err = c.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("cust"), DBSnapshotIdentifier: aws.String("cust-s")})
	require.NoError(t, err)
	advanceUntilSnapshot(t, h, c, "cust-s", "available")
	_, err = c.RestoreDBInstanceFromDBSnapshot(ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{DBInstanceIdentifier: aws.String("cust-r"), DBSnapshotIdentifier: aws.String("cust-s")})
	assert.Contains(t, apiMessage(t, err), "CustomIamInstanceProfile")
}

func TestDescribeAccountAttributesCountsManualSnapshots(t *testing.T) {
	t.Parallel()
	h := simtest.Start(t, rdssim.Options{Start: testStart, ManualClock: true, ManualSnapshotQuota: 2})
	c := h.RDS("us-east-1")
	quota := func() (used, max int64) {
		out, err := c.DescribeAccountAttributes(ctx, &rds.DescribeAccountAttributesInput{})
		require.NoError(t, err)
		for _, q := range out.AccountQuotas {
			if aws.ToString(q.AccountQuotaName) == "ManualSnapshots" {
				return aws.ToInt64(q.Used), aws.ToInt64(q.Max)
			}
		}
		t.Fatal("no ManualSnapshots quota")
		return 0, 0
	}
	createAvailable(t, h, c, mysqlInput("q"))
	used, max := quota()
	assert.Equal(t, int64(0), used, "automated snapshots do not count")
	assert.Equal(t, int64(2), max)
	for _, id := range []string{"q1", "q2"} {
		_, err := c.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("q"), DBSnapshotIdentifier: aws.String(id)})
		require.NoError(t, err)
		advanceUntilSnapshot(t, h, c, id, "available")
	}
	used, _ = quota()
	assert.Equal(t, int64(2), used)
	_, err := c.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("q"), DBSnapshotIdentifier: aws.String("q3")})
	assert.Equal(t, "SnapshotQuotaExceeded", apiCode(t, err))
}

// TestClusterDatabaseInsightsAndDomain: an Aurora cluster's Database Insights mode is
// standard unless set; advanced needs Performance Insights kept 465 days, set in the same
// request (CreateDBCluster / ModifyDBCluster DatabaseInsightsMode doc comments, read
// strictly); RestoreDBClusterFromSnapshot takes Performance Insights and the Active Directory
// domain but not the mode, so a restored cluster is standard until modified. Domain "none"
// leaves the domain (ModifyDBCluster).
func TestClusterDatabaseInsightsAndDomain(t *testing.T) {
	t.Parallel()
	h := fast(t)
	c := h.RDS("us-east-1")
	avail := rds.NewDBClusterAvailableWaiter(c, func(o *rds.DBClusterAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, 5*time.Millisecond
	})
	wait := func(id string) {
		t.Helper()
		require.NoError(t, avail.Wait(ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String(id)}, 10*time.Second))
	}

	in := auroraMySQLInput("ad")
	in.DatabaseInsightsMode = types.DatabaseInsightsModeAdvanced
	_, err := c.CreateDBCluster(ctx, in)
	assert.Equal(t, "To turn on Database Insights advanced mode for a DB cluster, set EnablePerformanceInsights to true and PerformanceInsightsRetentionPeriod to 465.", apiMessage(t, err))
	assert.Equal(t, "InvalidParameterCombination", apiCode(t, err))
	in.EnablePerformanceInsights, in.PerformanceInsightsRetentionPeriod = aws.Bool(true), aws.Int32(465)
	in.Domain, in.DomainIAMRoleName = aws.String("d-1234567890"), aws.String("rds-directory")
	_, err = c.CreateDBCluster(ctx, in)
	require.NoError(t, err)
	wait("ad")
	cl := describeCluster(t, c, "ad")
	assert.Equal(t, types.DatabaseInsightsModeAdvanced, cl.DatabaseInsightsMode)
	assert.True(t, aws.ToBool(cl.PerformanceInsightsEnabled))
	assert.Equal(t, int32(465), aws.ToInt32(cl.PerformanceInsightsRetentionPeriod))
	assert.Contains(t, aws.ToString(cl.PerformanceInsightsKMSKeyId), ":key/", "the account's aws/rds key by default")
	require.Len(t, cl.DomainMemberships, 1)
	assert.Equal(t, "d-1234567890", aws.ToString(cl.DomainMemberships[0].Domain))
	assert.Equal(t, "rds-directory", aws.ToString(cl.DomainMemberships[0].IAMRoleName))

	plain := auroraMySQLInput("plain")
	_, err = c.CreateDBCluster(ctx, plain)
	require.NoError(t, err)
	wait("plain")
	cl = describeCluster(t, c, "plain")
	assert.Equal(t, types.DatabaseInsightsModeStandard, cl.DatabaseInsightsMode)
	assert.False(t, aws.ToBool(cl.PerformanceInsightsEnabled))
	assert.Empty(t, cl.DomainMemberships)
	_, err = c.ModifyDBCluster(ctx, &rds.ModifyDBClusterInput{DBClusterIdentifier: aws.String("plain"), ApplyImmediately: aws.Bool(true),
		DatabaseInsightsMode: types.DatabaseInsightsModeAdvanced})
	assert.Equal(t, "InvalidParameterCombination", apiCode(t, err))
	_, err = c.ModifyDBCluster(ctx, &rds.ModifyDBClusterInput{DBClusterIdentifier: aws.String("plain"), ApplyImmediately: aws.Bool(true),
		DatabaseInsightsMode: types.DatabaseInsightsModeAdvanced, EnablePerformanceInsights: aws.Bool(true), PerformanceInsightsRetentionPeriod: aws.Int32(465)})
	require.NoError(t, err)
	wait("plain")
	assert.Equal(t, types.DatabaseInsightsModeAdvanced, describeCluster(t, c, "plain").DatabaseInsightsMode)

	// A restore keeps neither the mode nor the domain, and takes only the domain and
	// Performance Insights.
	_, err = c.CreateDBClusterSnapshot(ctx, &rds.CreateDBClusterSnapshotInput{DBClusterIdentifier: aws.String("ad"), DBClusterSnapshotIdentifier: aws.String("ad-snap")})
	require.NoError(t, err)
	advanceUntilClusterSnapshot(t, h, c, "ad-snap", "available")
	_, err = c.RestoreDBClusterFromSnapshot(ctx, &rds.RestoreDBClusterFromSnapshotInput{DBClusterIdentifier: aws.String("bare"),
		Engine: aws.String("aurora-mysql"), SnapshotIdentifier: aws.String("ad-snap")})
	require.NoError(t, err)
	wait("bare")
	cl = describeCluster(t, c, "bare")
	assert.Equal(t, types.DatabaseInsightsModeStandard, cl.DatabaseInsightsMode)
	assert.False(t, aws.ToBool(cl.PerformanceInsightsEnabled))
	assert.Empty(t, cl.DomainMemberships)
	_, err = c.RestoreDBClusterFromSnapshot(ctx, &rds.RestoreDBClusterFromSnapshotInput{DBClusterIdentifier: aws.String("carried"),
		Engine: aws.String("aurora-mysql"), SnapshotIdentifier: aws.String("ad-snap"), Domain: aws.String("d-1234567890"),
		DomainIAMRoleName: aws.String("rds-directory"), EnablePerformanceInsights: aws.Bool(true), PerformanceInsightsRetentionPeriod: aws.Int32(465)})
	require.NoError(t, err)
	wait("carried")
	cl = describeCluster(t, c, "carried")
	assert.Equal(t, types.DatabaseInsightsModeStandard, cl.DatabaseInsightsMode, "restore takes no DatabaseInsightsMode")
	assert.Equal(t, int32(465), aws.ToInt32(cl.PerformanceInsightsRetentionPeriod))
	require.Len(t, cl.DomainMemberships, 1)
	assert.Equal(t, "d-1234567890", aws.ToString(cl.DomainMemberships[0].Domain))

	_, err = c.ModifyDBCluster(ctx, &rds.ModifyDBClusterInput{DBClusterIdentifier: aws.String("carried"), ApplyImmediately: aws.Bool(true),
		Domain: aws.String("none")})
	require.NoError(t, err)
	wait("carried")
	assert.Empty(t, describeCluster(t, c, "carried").DomainMemberships)
}

// DeleteDBInstance and DeleteDBCluster remove the automated backups with the resource unless
// told DeleteAutomatedBackups=false (SDK v1.133.0 doc comments of
// DeleteDBInstanceInput.DeleteAutomatedBackups and DeleteDBClusterInput.DeleteAutomatedBackups:
// "The default is to remove automated backups immediately after the DB instance [cluster] is
// deleted"); a final snapshot does not change that.
func TestDeleteAutomatedBackupsDefaultsToRemovingThem(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		keep *bool
	}{{"unset", nil}, {"true", aws.Bool(true)}, {"false", aws.Bool(false)}} {
		keep, kept := tc.keep, tc.keep != nil && !*tc.keep
		h := manual(t)
		c := h.RDS("us-east-1")

		inst := createAvailable(t, h, c, mysqlInput("db"))
		automated := func() int {
			out, err := c.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{SnapshotType: aws.String("automated")})
			require.NoError(t, err)
			n := 0
			for _, sn := range out.DBSnapshots {
				if aws.ToString(sn.DbiResourceId) == aws.ToString(inst.DbiResourceId) {
					n++
				}
			}
			return n
		}
		require.Positive(t, automated(), "the initial backup")
		_, err := c.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("db"),
			FinalDBSnapshotIdentifier: aws.String("db-final"), DeleteAutomatedBackups: keep})
		require.NoError(t, err)
		h.Advance(2 * time.Hour)
		_, err = c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("db")})
		require.Equal(t, "DBInstanceNotFound", apiCode(t, err))
		assert.Equal(t, kept, automated() > 0, "DeleteAutomatedBackups %s: instance backups kept", tc.name)

		cl := createCluster(t, h, c, auroraMySQLInput("shop"))
		clusterAutomated := func() int {
			out, err := c.DescribeDBClusterSnapshots(ctx, &rds.DescribeDBClusterSnapshotsInput{SnapshotType: aws.String("automated")})
			require.NoError(t, err)
			n := 0
			for _, sn := range out.DBClusterSnapshots {
				if aws.ToString(sn.DbClusterResourceId) == aws.ToString(cl.DbClusterResourceId) {
					n++
				}
			}
			return n
		}
		require.Positive(t, clusterAutomated(), "the initial backup")
		_, err = c.DeleteDBCluster(ctx, &rds.DeleteDBClusterInput{DBClusterIdentifier: aws.String("shop"),
			FinalDBSnapshotIdentifier: aws.String("shop-final"), DeleteAutomatedBackups: keep})
		require.NoError(t, err)
		h.Advance(2 * time.Hour)
		_, err = c.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String("shop")})
		require.Equal(t, "DBClusterNotFoundFault", apiCode(t, err))
		assert.Equal(t, kept, clusterAutomated() > 0, "DeleteAutomatedBackups %s: cluster backups kept", tc.name)
	}
}
