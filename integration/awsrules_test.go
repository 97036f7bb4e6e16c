package integration

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/fleet"
	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/rdssim"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// End-to-end tests of the AWS rules of issue 13 that the workflow must follow: each migration
// here failed before the workflow learnt the rule (the simulator refuses the call as AWS does).

func (e *env) pgParamGroup(reg, name string) {
	e.t.Helper()
	_, err := e.h.RDS(reg).CreateDBParameterGroup(context.Background(), &rds.CreateDBParameterGroupInput{DBParameterGroupName: aws.String(name),
		DBParameterGroupFamily: aws.String("postgres16"), Description: aws.String(name)})
	require.NoError(e.t, err)
}

// TestPostgresReplicasAndSmallGP3Migrate migrates a 100 GiB gp3 PostgreSQL primary with its own
// parameter group, a same-region replica with another group and a cross-region replica with
// a group of its region. AWS refuses explicit IOPS or throughput for gp3 below 400 GiB and a
// parameter group at PostgreSQL replica creation: the restore leaves them to the snapshot, and
// each replica gets its group by a modify and a reboot.
func TestPostgresReplicasAndSmallGP3Migrate(t *testing.T) {
	for _, order := range []string{workflow.ReplicasAfterCutover, workflow.ReplicasBeforeCutover} {
		t.Run(order, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			e.createKey("alias/ledger")
			createKeyIn(t, e.h.KMS(otherRegion), "alias/ledger-eu")
			e.pgParamGroup(region, "ledger-primary")
			e.pgParamGroup(region, "ledger-reader")
			e.pgParamGroup(otherRegion, "ledger-eu")
			in := simpleSource("ledger")
			in.AllocatedStorage, in.StorageType = aws.Int32(100), aws.String("gp3")
			in.DBParameterGroupName = aws.String("ledger-primary")
			primary := e.createInstance(in)
			require.Equal(t, int32(3000), primary.Settings.Iops, "gp3 baseline below 400 GiB")
			require.Equal(t, int32(125), primary.Settings.StorageThroughput)

			_, err := e.rds.CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("ledger-r1"),
				SourceDBInstanceIdentifier: aws.String("ledger")})
			require.NoError(t, err)
			e.h.Advance(2 * time.Hour)
			_, err = e.h.RDS(otherRegion).CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("ledger-eu"),
				SourceDBInstanceIdentifier: aws.String(primary.ARN), SourceRegion: aws.String(region)})
			require.NoError(t, err)
			e.h.Advance(2 * time.Hour)
			for _, r := range []struct{ reg, id, group string }{{region, "ledger-r1", "ledger-reader"}, {otherRegion, "ledger-eu", "ledger-eu"}} {
				_, err = e.h.RDS(r.reg).ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String(r.id),
					DBParameterGroupName: aws.String(r.group), ApplyImmediately: aws.Bool(true)})
				require.NoError(t, err)
				e.h.Advance(time.Hour)
				_, err = e.h.RDS(r.reg).RebootDBInstance(ctx, &rds.RebootDBInstanceInput{DBInstanceIdentifier: aws.String(r.id)})
				require.NoError(t, err)
				e.h.Advance(time.Hour)
			}
			oldR1, oldEU := e.describe("ledger-r1"), e.describeIn(otherRegion, "ledger-eu")
			require.Equal(t, "ledger-reader", oldR1.Settings.DBParameterGroupName)
			require.Equal(t, "ledger-eu", oldEU.Settings.DBParameterGroupName)

			req := workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/ledger",
				RegionKeys: map[string]string{otherRegion: "alias/ledger-eu"}, Options: workflow.RunOptions{Replicas: order}}
			eng := e.engine(fixedID, workflow.AutoApprove)
			plan, err := eng.Plan(e.ctx(), req)
			require.NoError(t, err)
			for _, s := range plan.Settings {
				if s.Name == "Iops" || s.Name == "StorageThroughput" || (s.Name == "DBParameterGroupName" && s.Resource != "ledger") {
					assert.NotEqual(t, "restore", s.Via, "%s %s", s.Resource, s.Name)
					assert.NotEqual(t, "replica", s.Via, "%s %s", s.Resource, s.Name)
					assert.NotEmpty(t, s.Note, "%s %s says why", s.Resource, s.Name)
				}
			}
			rep, err := eng.Migrate(e.ctx(), req)
			require.NoError(t, err)
			assert.Equal(t, workflow.StatusCompleted, rep.Status)
			assert.Empty(t, rep.Parity.Differences)

			p := e.describe("ledger")
			assert.True(t, p.Settings.StorageEncrypted)
			assertSameSettings(t, primary.Settings, p.Settings, "ledger")
			for _, c := range []struct {
				old *model.Instance
				got *model.Instance
			}{{oldR1, e.describe("ledger-r1")}, {oldEU, e.describeIn(otherRegion, "ledger-eu")}} {
				assert.NotEqual(t, c.old.ResourceID, c.got.ResourceID, "%s replaced", c.old.ID)
				assert.True(t, c.got.Settings.StorageEncrypted, c.old.ID)
				assertSameSettings(t, c.old.Settings, c.got.Settings, c.old.ID)
				assert.Equal(t, "in-sync", c.got.ParameterApplyStatus, "%s rebooted into its group", c.old.ID)
				assert.Equal(t, "ledger", lastPart(c.got.ReplicaSource))
			}
			assert.Positive(t, e.h.Calls()["RebootDBInstance"], "the replicas' groups need a reboot")
		})
	}
}

// TestSQLServerMigrates migrates an RDS for SQL Server instance: restore takes no storage
// parameter there, the snapshot's storage applies.
func TestSQLServerMigrates(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/erp")
	in := simpleSource("erp")
	in.Engine, in.EngineVersion, in.LicenseModel = aws.String("sqlserver-se"), nil, aws.String("license-included")
	in.DBInstanceClass, in.MasterUsername, in.AllocatedStorage = aws.String("db.m5.large"), aws.String("admin"), aws.Int32(200)
	src := e.createInstance(in)

	rep, err := e.engine(fixedID, workflow.AutoApprove).Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "erp", KmsKey: "alias/erp"})
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusCompleted, rep.Status)
	assert.Empty(t, rep.Parity.Differences)
	got := e.describe("erp")
	assert.True(t, got.Settings.StorageEncrypted)
	assertSameSettings(t, src.Settings, got.Settings, "erp")
}

// TestPreflightRefusesWhatAWSCannotRestore: a source on an engine version AWS no longer
// offers, an RDS Custom instance, and a region whose manual snapshot quota cannot hold the
// migration's snapshots are refused at preflight, before any side effect, with what to do.
func TestPreflightRefusesWhatAWSCannotRestore(t *testing.T) {
	t.Run("retired-engine-version", func(t *testing.T) {
		e := newEnv(t)
		e.createKey("alias/old")
		in := simpleSource("old")
		in.EngineVersion = aws.String("15.10")
		e.createInstance(in)
		e.h.Sim.RetireEngineVersion("postgres", "15.10")
		before := e.h.Calls()
		_, err := e.engine(fixedID, workflow.AutoApprove).Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "old", KmsKey: "alias/old"})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "runs postgres 15.10, which AWS no longer offers")
		assert.Contains(t, workflow.NextOf(err), "describe-db-engine-versions --engine postgres")
		assertNoMutatingCalls(t, before, e.h.Calls())
		assert.Positive(t, e.h.Calls()["DescribeDBEngineVersions"]-before["DescribeDBEngineVersions"])
	})
	t.Run("rds-custom", func(t *testing.T) {
		e := newEnv(t)
		e.createKey("alias/cust")
		in := simpleSource("cust")
		in.Engine, in.EngineVersion, in.LicenseModel = aws.String("custom-oracle-ee"), nil, aws.String("bring-your-own-license")
		in.DBInstanceClass, in.CustomIamInstanceProfile = aws.String("db.m5.large"), aws.String("AWSRDSCustomInstanceProfile")
		e.createInstance(in)
		before := e.h.Calls()
		_, err := e.engine(fixedID, workflow.AutoApprove).Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "cust", KmsKey: "alias/cust"})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "is RDS Custom (custom-oracle-ee)")
		assert.Contains(t, workflow.NextOf(err), "--custom-iam-instance-profile")
		assertNoMutatingCalls(t, before, e.h.Calls())
	})
	t.Run("snapshot-quota", func(t *testing.T) {
		e := newEnvWith(t, rdssim.Options{Speed: testSpeed, ManualSnapshotQuota: 3})
		e.createKey("alias/full")
		e.createInstance(simpleSource("full"))
		_, err := e.rds.CreateDBSnapshot(context.Background(), &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("full"), DBSnapshotIdentifier: aws.String("keep-me")})
		require.NoError(t, err)
		e.h.Advance(time.Hour)
		before := e.h.Calls()
		_, err = e.engine(fixedID, workflow.AutoApprove).Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "full", KmsKey: "alias/full"})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "needs 3 manual DB snapshots and us-east-1 has 1 of its 3 in use")
		assert.Contains(t, workflow.NextOf(err), "Manual DB instance snapshots")
		assertNoMutatingCalls(t, before, e.h.Calls())
	})
}

// TestSnapshotQuotaCountsThePlannedSteps: the quota check counts the snapshots of the steps
// actually planned, and the final snapshot of cleanup. With the pre-copy (the CLI's default)
// an instance migration holds five at its peak: precopy-snapshot, precopy-encrypted-copy,
// snapshot, encrypted-copy, then cleanup's final snapshot before it deletes the others; three
// without it; an Aurora cluster two (its snapshot is restored encrypted, no copy). Each is
// refused below its peak, before any side effect (a quota of 3 used to let the pre-copy run
// and fail at encrypted-copy, inside the write freeze), and runs through cleanup at exactly it.
func TestSnapshotQuotaCountsThePlannedSteps(t *testing.T) {
	precopy := workflow.MigrateRequest{Region: region, Source: "full", KmsKey: "alias/full", Options: workflow.RunOptions{Precopy: true}}
	t.Run("precopy-refused-at-3", func(t *testing.T) {
		e := newEnvWith(t, rdssim.Options{Speed: testSpeed, ManualSnapshotQuota: 3})
		e.createKey("alias/full")
		e.createInstance(simpleSource("full"))
		before := e.h.Calls()
		_, err := e.engine(fixedID, workflow.AutoApprove).Migrate(e.ctx(), precopy)
		require.Error(t, err)
		assertNoMutatingCalls(t, before, e.h.Calls())
		_, planErr := e.engine("", nil).Plan(e.ctx(), precopy)
		require.Error(t, planErr, "plan refuses as migrate does")
		assert.Contains(t, err.Error(), "the migration of full needs 5 manual DB snapshots and us-east-1 has 0 of its 3 in use")
		assert.Contains(t, err.Error(), "precopy-snapshot, precopy-encrypted-copy, snapshot, encrypted-copy")
		assert.NotContains(t, err.Error(), "\n")
		next := workflow.NextOf(err)
		assert.Contains(t, next, "Manual DB instance snapshots")
		assert.Contains(t, next, "or without the pre-copy, which needs 3: rdsencrypt plan --db full --kms-key alias/full --precopy=false")

		// The way out it names fits exactly: the migration without the pre-copy, then its
		// cleanup (the final snapshot is the third).
		noPrecopy := precopy
		noPrecopy.Options.Precopy = false
		migrateAndCleanUp(t, e, noPrecopy)
	})
	t.Run("precopy-fits-at-5", func(t *testing.T) {
		e := newEnvWith(t, rdssim.Options{Speed: testSpeed, ManualSnapshotQuota: 5})
		e.createKey("alias/full")
		e.createInstance(simpleSource("full"))
		migrateAndCleanUp(t, e, precopy)
	})
	t.Run("cluster-refused-at-1-fits-at-2", func(t *testing.T) {
		e := newEnvWith(t, rdssim.Options{Speed: testSpeed, ManualSnapshotQuota: 1})
		e.createKey("alias/shop")
		shopCluster(e)
		before := e.h.Calls()
		_, err := e.engine(fixedID, workflow.AutoApprove).Migrate(e.ctx(), clusterRequest("shop", "alias/shop"))
		require.Error(t, err)
		assertNoMutatingCalls(t, before, e.h.Calls())
		assert.Contains(t, err.Error(), "the migration of shop needs 2 manual DB cluster snapshots and us-east-1 has 0 of its 1 in use")
		assert.Contains(t, workflow.NextOf(err), "rdsencrypt plan --cluster shop --kms-key alias/shop")

		e = newEnvWith(t, rdssim.Options{Speed: testSpeed, ManualSnapshotQuota: 2})
		e.createKey("alias/shop")
		shopCluster(e)
		migrateAndCleanUp(t, e, clusterRequest("shop", "alias/shop"))
	})
}

// migrateAndCleanUp runs a migration through to cleanup, which takes the final snapshot: the
// peak of its snapshots.
func migrateAndCleanUp(t *testing.T, e *env, req workflow.MigrateRequest) {
	t.Helper()
	rep, err := e.engine(fixedID, workflow.AutoApprove).Migrate(e.ctx(), req)
	require.NoError(t, err)
	require.Equal(t, workflow.StatusCompleted, rep.Status)
	_, err = e.engine("", workflow.AutoApprove).Cleanup(e.ctx(), fixedID)
	require.NoError(t, err, "cleanup's final snapshot fits")
}

// callsSince sums the simulator's call counts made since before.
func callsSince(before, after map[string]int) int {
	n := 0
	for action, c := range after {
		n += c - before[action]
	}
	return n
}

// TestReportCountsEveryCall: the report's api_calls is every call the migration made, the
// preflight reads included, as the simulator counts them (instance with replicas in two
// regions, and an Aurora cluster).
func TestReportCountsEveryCall(t *testing.T) {
	t.Run("instance-with-replicas", func(t *testing.T) {
		e := newEnv(t)
		top := e.createTopology()
		before := e.h.Calls()
		rep, err := e.engine(fixedID, workflow.AutoApprove).Migrate(e.ctx(), top.request(""))
		require.NoError(t, err)
		assert.Equal(t, callsSince(before, e.h.Calls()), rep.APICalls)
		require.Equal(t, workflow.StepPreflight, rep.Steps[0].Name)
		assert.Positive(t, rep.Steps[0].APICalls, "the preflight reads count for the preflight step")
	})
	t.Run("cluster", func(t *testing.T) {
		e := newEnv(t)
		e.createKey("alias/shop")
		shopCluster(e)
		before := e.h.Calls()
		rep, err := e.engine(fixedID, workflow.AutoApprove).Migrate(e.ctx(), clusterRequest("shop", "alias/shop"))
		require.NoError(t, err)
		assert.Equal(t, callsSince(before, e.h.Calls()), rep.APICalls)
	})
	t.Run("resume", func(t *testing.T) {
		e := newEnv(t)
		e.createKey("alias/ledger")
		e.createInstance(simpleSource("ledger"))
		eng := e.engine(fixedID, workflow.AutoApprove)
		ctx := e.cancelAt(eng, func(ev workflow.Event) bool {
			return ev.Type == workflow.EventStepDone && ev.Step == workflow.StepRestore
		})
		before := e.h.Calls()
		_, err := eng.Migrate(ctx, workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/ledger"})
		require.ErrorIs(t, err, workflow.ErrStopped)
		rep, err := e.engine("", workflow.AutoApprove).Resume(e.ctx(), fixedID)
		require.NoError(t, err)
		assert.Equal(t, callsSince(before, e.h.Calls()), rep.APICalls, "both runs together")
	})
	// Rollback and cleanup make their calls outside any step: they count too (issue 13 item 14).
	for _, then := range []string{"rollback", "cleanup"} {
		t.Run(then, func(t *testing.T) {
			e := newEnv(t)
			e.createKey("alias/ledger")
			e.createInstance(simpleSource("ledger"))
			eng := e.engine(fixedID, workflow.AutoApprove)
			before := e.h.Calls()
			_, err := eng.Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/ledger"})
			require.NoError(t, err)
			migrated := e.h.Calls()
			var rep *workflow.Report
			if then == "rollback" {
				rep, err = eng.Rollback(e.ctx(), fixedID)
			} else {
				rep, err = eng.Cleanup(e.ctx(), fixedID)
			}
			require.NoError(t, err)
			require.Positive(t, callsSince(migrated, e.h.Calls()), "%s made calls", then)
			assert.Equal(t, callsSince(before, e.h.Calls()), rep.APICalls, "the migration and its %s together", then)
		})
	}
}

// TestBatchReportCountsEveryCall: in a batch, the migrations' api_calls add up to every call
// the run made, the coalesced lookups (counted once, by the migration whose lookup sent them)
// and the preflight reads included.
func TestBatchReportCountsEveryCall(t *testing.T) {
	f := newFleetEnv(t, fleetOptions{speed: 40000, rate: 1000, burst: 50})
	createKeyIn(t, f.h.KMS(region), "alias/fleet")
	f.createFleet("ledger", 6)
	b := f.batch(nil)
	plan, err := b.Plan(f.ctx(), fleet.BatchRequest{Regions: []string{region}, KmsKey: "alias/fleet",
		Concurrency: 6, Cutover: fleet.CutoverAuto})
	require.NoError(t, err)
	before := f.h.Calls()
	rep := b.Run(f.ctx(), plan)
	require.Equal(t, 6, rep.Summary.Completed)
	sum := 0
	for _, m := range rep.Migrations {
		assert.Greater(t, m.Steps[0].APICalls, 0, "%s: preflight reads counted", m.Source)
		sum += m.APICalls
	}
	assert.Equal(t, callsSince(before, f.h.Calls()), sum)
	assert.Equal(t, sum, rep.Summary.APICalls)
}

// TestCleanupKeepsTheRetiredSourcesAutomatedBackups: cleanup deletes the retired source with
// DeleteAutomatedBackups=false (AWS removes them at once by default), and its approval says so.
func TestCleanupKeepsTheRetiredSourcesAutomatedBackups(t *testing.T) {
	recording := func(got *[]workflow.Approval) workflow.Approver {
		return workflow.ApproverFunc(func(_ context.Context, a workflow.Approval) (workflow.Decision, error) {
			*got = append(*got, a)
			return workflow.Approve, nil
		})
	}
	cleanupNote := func(t *testing.T, approvals []workflow.Approval) {
		t.Helper()
		require.NotEmpty(t, approvals)
		last := approvals[len(approvals)-1]
		assert.Contains(t, strings.Join(last.Details, "\n"), "retained (DeleteAutomatedBackups=false)", last.Summary)
	}
	t.Run("instance", func(t *testing.T) {
		e := newEnv(t)
		e.createKey("alias/ledger")
		src := e.createInstance(simpleSource("ledger"))
		_, err := e.engine(fixedID, workflow.AutoApprove).Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/ledger"})
		require.NoError(t, err)
		var approvals []workflow.Approval
		_, err = e.engine("", recording(&approvals)).Cleanup(e.ctx(), fixedID)
		require.NoError(t, err)
		cleanupNote(t, approvals)
		e.h.Advance(time.Hour)
		out, err := e.rds.DescribeDBSnapshots(context.Background(), &rds.DescribeDBSnapshotsInput{SnapshotType: aws.String("automated")})
		require.NoError(t, err)
		kept := 0
		for _, sn := range out.DBSnapshots {
			if aws.ToString(sn.DbiResourceId) == src.ResourceID {
				kept++
			}
		}
		assert.Positive(t, kept, "the retired source's automated backups outlive it")
	})
	t.Run("cluster", func(t *testing.T) {
		e := newEnv(t)
		e.createKey("alias/shop")
		src := shopCluster(e)
		_, err := e.engine(fixedID, workflow.AutoApprove).Migrate(e.ctx(), clusterRequest("shop", "alias/shop"))
		require.NoError(t, err)
		var approvals []workflow.Approval
		_, err = e.engine("", recording(&approvals)).Cleanup(e.ctx(), fixedID)
		require.NoError(t, err)
		cleanupNote(t, approvals)
		e.h.Advance(time.Hour)
		out, err := e.rds.DescribeDBClusterSnapshots(context.Background(), &rds.DescribeDBClusterSnapshotsInput{SnapshotType: aws.String("automated")})
		require.NoError(t, err)
		kept := 0
		for _, sn := range out.DBClusterSnapshots {
			if aws.ToString(sn.DbClusterResourceId) == src.cluster.ResourceID {
				kept++
			}
		}
		assert.Positive(t, kept, "the retired cluster's automated backups outlive it")
	})
}

// TestIAMAuthNeedsAnAcknowledgementUnattended: with IAM database authentication on, the plan
// names the old resource id and the policy ARN pattern, an unattended run without the
// acknowledgement is refused before any side effect, and the cutover approval repeats the
// old and new resource ids.
func TestIAMAuthNeedsAnAcknowledgementUnattended(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/ledger")
	in := simpleSource("ledger")
	in.EnableIAMDatabaseAuthentication = aws.Bool(true)
	src := e.createInstance(in)
	req := workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/ledger"}
	pattern := "arn:aws:rds-db:us-east-1:" + e.h.Sim.AccountID() + ":dbuser:" + src.ResourceID + "/*"

	plan, err := e.engine("", nil).Plan(e.ctx(), req)
	require.NoError(t, err)
	assert.Contains(t, strings.Join(plan.Warnings, "\n"), pattern)
	assert.Equal(t, []string{workflow.AckIAMAuth}, plan.Acknowledgements)

	before := e.h.Calls()
	_, err = e.engine(fixedID, workflow.AutoApproveAcknowledging()).Migrate(e.ctx(), req)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "needs --acknowledge-iam-auth")
	assertNoMutatingCalls(t, before, e.h.Calls())

	rec, cutover := iamAckedRecordingCutover()
	rep, err := e.engine(fixedID, rec).Migrate(e.ctx(), req)
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusCompleted, rep.Status)
	got := e.describe("ledger")
	details := strings.Join(cutover.Details, "\n")
	assert.Contains(t, details, "from "+src.ResourceID+" to "+got.ResourceID)
	assert.Contains(t, details, "dbuser:"+got.ResourceID+"/*")
}

// TestSettingsOnceNeverReadAreCarried: EngineLifecycleSupport (restore's default enrols the new
// instance in paid Extended Support), DedicatedLogVolume and ProcessorFeatures reach the new
// instance and are compared; a Kerberos domain membership is refused at preflight.
func TestSettingsOnceNeverReadAreCarried(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/ledger")
	in := simpleSource("ledger")
	in.EngineLifecycleSupport = aws.String("open-source-rds-extended-support-disabled")
	in.DedicatedLogVolume = aws.Bool(true)
	in.ProcessorFeatures = []rdstypes.ProcessorFeature{{Name: aws.String("coreCount"), Value: aws.String("2")}}
	src := e.createInstance(in)
	require.Equal(t, "open-source-rds-extended-support-disabled", src.Settings.EngineLifecycleSupport)

	rep, err := e.engine(fixedID, workflow.AutoApprove).Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/ledger"})
	require.NoError(t, err)
	assert.Empty(t, rep.Parity.Differences)
	got := e.describe("ledger")
	assert.True(t, got.Settings.StorageEncrypted)
	assert.Equal(t, "open-source-rds-extended-support-disabled", got.Settings.EngineLifecycleSupport)
	assert.True(t, got.Settings.DedicatedLogVolume)
	assert.Equal(t, []string{"coreCount=2"}, got.Settings.ProcessorFeatures)

	e2 := newEnv(t)
	e2.createKey("alias/ad")
	ad := simpleSource("ad")
	ad.Domain, ad.DomainIAMRoleName = aws.String("d-1234567890"), aws.String("rds-directory")
	e2.createInstance(ad)
	before := e2.h.Calls()
	_, err = e2.engine(fixedID, workflow.AutoApprove).Migrate(e2.ctx(), workflow.MigrateRequest{Region: region, Source: "ad", KmsKey: "alias/ad"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "joined to Active Directory domain d-1234567890")
	assertNoMutatingCalls(t, before, e2.h.Calls())
}

// followingDNS answers for the new resources' temporary names (by host name prefix, first
// match) with their addresses at once, and for each original endpoint name with the old
// address for the first stale lookups after the rename, then its new resource's.
type followingDNS struct {
	temp  [][2]string       // host name prefix, address
	names map[string]string // original endpoint name -> the new resource's address
	stale int

	mu      sync.Mutex
	lookups map[string]int
}

func (d *followingDNS) LookupHost(_ context.Context, host string) ([]string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, t := range d.temp {
		if strings.HasPrefix(host, t[0]) {
			return []string{t[1]}, nil
		}
	}
	if a, ok := d.names[host]; ok {
		if d.lookups == nil {
			d.lookups = map[string]int{}
		}
		d.lookups[host]++
		if d.lookups[host] <= d.stale {
			return []string{"10.0.0.1"}, nil
		}
		return []string{a}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func (d *followingDNS) lookupsOf(host string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.lookups[host]
}

// TestWritesResumeOnceTheEndpointNameFollows: before unfreezing, the original endpoint name
// must resolve where the new instance's temporary name did; when nothing resolves from here
// the report says so.
func TestWritesResumeOnceTheEndpointNameFollows(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/ledger")
	src := e.createInstance(simpleSource("ledger"))
	dns := &followingDNS{temp: [][2]string{{workflow.NamesFor(fixedID, "ledger").Target + ".", "10.0.0.2"}},
		names: map[string]string{src.Endpoint: "10.0.0.2"}, stale: 3}
	eng := e.engine(fixedID, workflow.AutoApprove)
	eng.Resolver = dns
	rep, err := eng.Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/ledger"})
	require.NoError(t, err)
	assert.Equal(t, src.Endpoint+" resolves to the new instance (10.0.0.2)", rep.DNS)
	assert.Equal(t, 4, dns.lookupsOf(src.Endpoint), "waited through the stale answers")

	e2 := newEnv(t)
	e2.createKey("alias/ledger")
	e2.createInstance(simpleSource("ledger"))
	rep, err = e2.engine(fixedID, workflow.AutoApprove).Migrate(e2.ctx(), workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/ledger"})
	require.NoError(t, err)
	assert.Contains(t, rep.DNS, "not resolvable from here")
}

// TestClusterWritesResumeOnceTheWriterEndpointFollows: as for an instance, an Aurora
// cluster's writer endpoint name must resolve where the new cluster's temporary writer
// endpoint did before writes resume, and its reader endpoint name to one of the new
// cluster's instances (here the new reader endpoint's address, which differs from the
// writer's).
func TestClusterWritesResumeOnceTheWriterEndpointFollows(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/shop")
	src := shopCluster(e)
	target := workflow.ClusterNamesFor(fixedID, "shop").Target
	dns := &followingDNS{temp: [][2]string{{target + ".cluster-ro-", "10.0.0.3"}, {target + ".", "10.0.0.2"}},
		names: map[string]string{src.cluster.Endpoint: "10.0.0.2", src.cluster.ReaderEndpoint: "10.0.0.3"}, stale: 2}
	eng := e.engine(fixedID, workflow.AutoApprove)
	eng.Resolver = dns
	rep, err := eng.Migrate(e.ctx(), clusterRequest("shop", "alias/shop"))
	require.NoError(t, err)
	assert.Equal(t, src.cluster.Endpoint+" resolves to the new cluster's writer (10.0.0.2); "+
		src.cluster.ReaderEndpoint+" resolves to the new cluster's instances (10.0.0.3)", rep.DNS)
	assert.Equal(t, 3, dns.lookupsOf(src.cluster.Endpoint), "waited through the stale answers")
	assert.Equal(t, 3, dns.lookupsOf(src.cluster.ReaderEndpoint), "waited through the reader's stale answers")
}

// TestReplicaEndpointsFollowTheirReplacements: each read replica's endpoint name must
// resolve to its replacement once that took the name; with replicas swapped before cutover,
// that is before writes resume.
func TestReplicaEndpointsFollowTheirReplacements(t *testing.T) {
	for _, order := range []string{workflow.ReplicasBeforeCutover, workflow.ReplicasAfterCutover} {
		t.Run(order, func(t *testing.T) {
			e := newEnv(t)
			e.createKey("alias/ledger")
			src := e.createInstance(simpleSource("ledger"))
			_, err := e.rds.CreateDBInstanceReadReplica(context.Background(), &rds.CreateDBInstanceReadReplicaInput{
				DBInstanceIdentifier: aws.String("ledger-r1"), SourceDBInstanceIdentifier: aws.String("ledger")})
			require.NoError(t, err)
			e.h.Advance(2 * time.Hour)
			rep1 := e.describe("ledger-r1")
			dns := &followingDNS{temp: [][2]string{{workflow.NamesFor(fixedID, "ledger").Target + ".", "10.0.0.2"},
				{workflow.NamesFor(fixedID, "ledger-r1").Target + ".", "10.0.0.4"}},
				names: map[string]string{src.Endpoint: "10.0.0.2", rep1.Endpoint: "10.0.0.4"}, stale: 2}
			lookupsAtUnfreeze := -1
			approve := workflow.ApproverFunc(func(ctx context.Context, a workflow.Approval) (workflow.Decision, error) {
				if a.Step == workflow.StepUnfreeze {
					lookupsAtUnfreeze = dns.lookupsOf(rep1.Endpoint)
				}
				return workflow.AutoApprove.Approve(ctx, a)
			})
			eng := e.engine(fixedID, approve)
			eng.Resolver = dns
			rep, err := eng.Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/ledger",
				Options: workflow.RunOptions{Replicas: order}})
			require.NoError(t, err)
			require.Len(t, rep.Replicas, 1)
			assert.Equal(t, rep1.Endpoint+" resolves to the new replica (10.0.0.4)", rep.Replicas[0].DNS)
			assert.Equal(t, 3, dns.lookupsOf(rep1.Endpoint), "waited through the stale answers")
			if order == workflow.ReplicasBeforeCutover {
				assert.Equal(t, 3, lookupsAtUnfreeze, "the replica's name followed before writes may resume")
			}
		})
	}
}

// TestBatchNeedsTheIAMAuthAcknowledgement: a batch migrates unattended, so a database with IAM
// database authentication on is refused at its preflight unless the batch was given the
// acknowledgement.
func TestBatchNeedsTheIAMAuthAcknowledgement(t *testing.T) {
	for _, acked := range []bool{false, true} {
		f := newFleetEnv(t, fleetOptions{speed: 40000, rate: 1000, burst: 50})
		createKeyIn(t, f.h.KMS(region), "alias/fleet")
		in := simpleSource("iam")
		in.EnableIAMDatabaseAuthentication = aws.Bool(true)
		_, err := f.rds.CreateDBInstance(context.Background(), in)
		require.NoError(t, err)
		f.h.Advance(3 * time.Hour)
		req := fleet.BatchRequest{Regions: []string{region}, KmsKey: "alias/fleet", Concurrency: 1, Cutover: fleet.CutoverAuto}
		if acked {
			req.Acknowledge = []string{workflow.AckIAMAuth}
		}
		b := f.batch(nil)
		plan, err := b.Plan(f.ctx(), req)
		require.NoError(t, err)
		rep := b.Run(f.ctx(), plan)
		m := byID(rep, "iam")
		require.NotNil(t, m)
		if acked {
			assert.Equal(t, fleet.OutcomeCompleted, m.Outcome, m.Reason)
			assert.Equal(t, workflow.StatusCompleted, m.Status)
		} else {
			assert.Equal(t, fleet.OutcomeFailed, m.Outcome)
			assert.Contains(t, m.Reason+m.Error, "needs --acknowledge-iam-auth")
		}
	}
}

// TestClusterIAMAuthNeedsAnAcknowledgementUnattended: for an Aurora cluster the rds-db:connect
// policies name the cluster's resource id (dbuser:cluster-…/*): the plan names it, an
// unattended run without the acknowledgement is refused before any side effect, and the
// cutover approval names the old and new cluster resource ids.
func TestClusterIAMAuthNeedsAnAcknowledgementUnattended(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/shop")
	src := shopCluster(e)
	require.True(t, src.cluster.Settings.IAMDatabaseAuthenticationEnabled)
	require.True(t, strings.HasPrefix(src.cluster.ResourceID, "cluster-"), src.cluster.ResourceID)
	req := clusterRequest("shop", "alias/shop")

	plan, err := e.engine("", nil).Plan(e.ctx(), req)
	require.NoError(t, err)
	assert.Contains(t, strings.Join(plan.Warnings, "\n"),
		"arn:aws:rds-db:us-east-1:"+e.h.Sim.AccountID()+":dbuser:"+src.cluster.ResourceID+"/*")
	assert.Equal(t, []string{workflow.AckIAMAuth}, plan.Acknowledgements)

	before := e.h.Calls()
	_, err = e.engine(fixedID, workflow.AutoApproveAcknowledging()).Migrate(e.ctx(), req)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "shop has IAM database authentication on")
	assert.Contains(t, workflow.NextOf(err), "--acknowledge-iam-auth")
	assertNoMutatingCalls(t, before, e.h.Calls())

	rec, cutover := iamAckedRecordingCutover()
	rep, err := e.engine(fixedID, rec).Migrate(e.ctx(), req)
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusCompleted, rep.Status)
	got := e.describeAurora("shop").cluster
	require.NotEqual(t, src.cluster.ResourceID, got.ResourceID)
	details := strings.Join(cutover.Details, "\n")
	assert.Contains(t, details, "from "+src.cluster.ResourceID+" to "+got.ResourceID)
	assert.Contains(t, details, "dbuser:"+got.ResourceID+"/*")
}

// TestReplicaIAMAuthNeedsAnAcknowledgementUnattended: a read replica with IAM database
// authentication on (the primary without) gets its own plan warning naming its resource id,
// and an unattended run needs the acknowledgement for it too; with it, the new replica keeps
// IAM authentication.
func TestReplicaIAMAuthNeedsAnAcknowledgementUnattended(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.createKey("alias/ledger")
	e.createInstance(simpleSource("ledger"))
	_, err := e.rds.CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("ledger-r1"),
		SourceDBInstanceIdentifier: aws.String("ledger")})
	require.NoError(t, err)
	e.h.Advance(2 * time.Hour)
	_, err = e.rds.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("ledger-r1"),
		EnableIAMDatabaseAuthentication: aws.Bool(true), ApplyImmediately: aws.Bool(true)})
	require.NoError(t, err)
	e.h.Advance(time.Hour)
	replica := e.describe("ledger-r1")
	require.True(t, replica.Settings.IAMDatabaseAuthenticationEnabled)
	require.False(t, e.describe("ledger").Settings.IAMDatabaseAuthenticationEnabled)
	req := workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/ledger"}

	plan, err := e.engine("", nil).Plan(e.ctx(), req)
	require.NoError(t, err)
	warnings := strings.Join(plan.Warnings, "\n")
	assert.Contains(t, warnings, "the read replica ledger-r1's resource id "+replica.ResourceID)
	assert.Contains(t, warnings, "dbuser:"+replica.ResourceID+"/*")
	assert.Equal(t, []string{workflow.AckIAMAuth}, plan.Acknowledgements)

	before := e.h.Calls()
	_, err = e.engine(fixedID, workflow.AutoApproveAcknowledging()).Migrate(e.ctx(), req)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "needs --acknowledge-iam-auth")
	assertNoMutatingCalls(t, before, e.h.Calls())

	rep, err := e.engine(fixedID, workflow.AutoApproveAcknowledging(workflow.AckIAMAuth)).Migrate(e.ctx(), req)
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusCompleted, rep.Status)
	got := e.describe("ledger-r1")
	assert.NotEqual(t, replica.ResourceID, got.ResourceID)
	assert.True(t, got.Settings.StorageEncrypted)
	assert.True(t, got.Settings.IAMDatabaseAuthenticationEnabled)
}

// TestClusterPreflightRefusesWhatAWSCannotRestore: on the cluster route too, an Aurora engine
// version AWS no longer offers is refused at preflight, before any side effect.
func TestClusterPreflightRefusesWhatAWSCannotRestore(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/shop")
	src := shopCluster(e)
	version := src.cluster.Settings.EngineVersion
	e.h.Sim.RetireEngineVersion("aurora-mysql", version)
	before := e.h.Calls()
	_, err := e.engine(fixedID, workflow.AutoApprove).Migrate(e.ctx(), clusterRequest("shop", "alias/shop"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "shop runs aurora-mysql "+version+", which AWS no longer offers")
	assert.Contains(t, workflow.NextOf(err), "describe-db-engine-versions --engine aurora-mysql")
	assertNoMutatingCalls(t, before, e.h.Calls())
	assert.Positive(t, e.h.Calls()["DescribeDBEngineVersions"]-before["DescribeDBEngineVersions"])
}

// TestOracleMountedReplicaStaysMounted: an Oracle read replica in mounted mode (ReplicaMode,
// which CreateDBInstanceReadReplica defaults to open-read-only) is re-created mounted, and
// parity compares the mode.
func TestOracleMountedReplicaStaysMounted(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/erp")
	in := simpleSource("erp")
	in.Engine, in.EngineVersion, in.LicenseModel = aws.String("oracle-ee"), nil, aws.String("bring-your-own-license")
	in.DBInstanceClass, in.MasterUsername = aws.String("db.m5.large"), aws.String("admin")
	e.createInstance(in)
	_, err := e.rds.CreateDBInstanceReadReplica(context.Background(), &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("erp-standby"),
		SourceDBInstanceIdentifier: aws.String("erp"), ReplicaMode: rdstypes.ReplicaModeMounted})
	require.NoError(t, err)
	e.h.Advance(2 * time.Hour)
	old := e.describe("erp-standby")
	require.Equal(t, "mounted", old.Settings.ReplicaMode)

	rep, err := e.engine(fixedID, workflow.AutoApprove).Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "erp", KmsKey: "alias/erp"})
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusCompleted, rep.Status)
	assert.Empty(t, rep.Parity.Differences)
	got := e.describe("erp-standby")
	assert.NotEqual(t, old.ResourceID, got.ResourceID, "replaced")
	assert.True(t, got.Settings.StorageEncrypted)
	assert.Equal(t, "mounted", got.Settings.ReplicaMode)
	assertSameSettings(t, old.Settings, got.Settings, "erp-standby")
}

// TestSQLServerWithAReplicaMigrates: an RDS for SQL Server Enterprise Edition instance with a
// same-region read replica (SQL Server has no cross-region replicas): neither the restore nor
// the replica's re-creation may send a storage parameter, the snapshot's and the source's
// storage apply.
func TestSQLServerWithAReplicaMigrates(t *testing.T) {
	for _, order := range []string{workflow.ReplicasAfterCutover, workflow.ReplicasBeforeCutover} {
		t.Run(order, func(t *testing.T) {
			e := newEnv(t)
			e.createKey("alias/erp")
			in := simpleSource("erp")
			in.Engine, in.EngineVersion, in.LicenseModel = aws.String("sqlserver-ee"), nil, aws.String("license-included")
			in.DBInstanceClass, in.MasterUsername, in.AllocatedStorage = aws.String("db.m5.xlarge"), aws.String("admin"), aws.Int32(200)
			in.StorageType, in.Iops = aws.String("io1"), aws.Int32(4000)
			src := e.createInstance(in)
			_, err := e.rds.CreateDBInstanceReadReplica(context.Background(), &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("erp-read"),
				SourceDBInstanceIdentifier: aws.String("erp")})
			require.NoError(t, err)
			e.h.Advance(2 * time.Hour)
			old := e.describe("erp-read")

			rep, err := e.engine(fixedID, workflow.AutoApprove).Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "erp", KmsKey: "alias/erp",
				Options: workflow.RunOptions{Replicas: order}})
			require.NoError(t, err)
			assert.Equal(t, workflow.StatusCompleted, rep.Status)
			assert.Empty(t, rep.Parity.Differences)
			got := e.describe("erp")
			assert.True(t, got.Settings.StorageEncrypted)
			assertSameSettings(t, src.Settings, got.Settings, "erp")
			r := e.describe("erp-read")
			assert.NotEqual(t, old.ResourceID, r.ResourceID, "replica replaced")
			assert.True(t, r.Settings.StorageEncrypted)
			assertSameSettings(t, old.Settings, r.Settings, "erp-read")
			assert.Equal(t, "erp", lastPart(r.ReplicaSource))
		})
	}
}

// iamAckedRecordingCutover approves every step, acknowledges IAM authentication, and keeps the
// cutover's approval (rename-source) for the test to read once the run returns.
func iamAckedRecordingCutover() (workflow.Approver, *workflow.Approval) {
	var cutover workflow.Approval
	acked := workflow.AutoApproveAcknowledging(workflow.AckIAMAuth)
	return struct {
		workflow.Approver
		workflow.Acknowledger
	}{workflow.ApproverFunc(func(ctx context.Context, a workflow.Approval) (workflow.Decision, error) {
		if a.Step == workflow.StepRenameSource {
			cutover = a
		}
		return acked.Approve(ctx, a)
	}), acked.(workflow.Acknowledger)}, &cutover
}
