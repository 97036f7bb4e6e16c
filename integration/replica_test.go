package integration

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/model"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/iampolicy"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// topology is a MySQL primary with two same-region replicas, one cross-region replica and one
// cascading replica (a replica of the first replica), all with non-default settings.
type topology struct {
	primary  *model.Instance
	replicas map[string]*model.Instance // subject -> replica as created
	key      string                     // us-east-1 key ARN
	euKey    string
}

const (
	sameRegion1 = "us-east-1/shop-r1"
	sameRegion2 = "us-east-1/shop-r2"
	crossRegion = "eu-west-1/shop-eu"
	cascading   = "us-east-1/shop-r1-c"
)

func (e *env) createTopology() *topology {
	t := e.t
	t.Helper()
	ctx := context.Background()
	top := &topology{replicas: map[string]*model.Instance{}}
	top.key = e.createKey("alias/shop")
	top.euKey = createKeyIn(t, e.h.KMS(otherRegion), "alias/shop-eu")
	in := simpleSource("shop")
	in.Engine, in.EngineVersion, in.DBInstanceClass = aws.String("mysql"), aws.String("8.0.36"), aws.String("db.r6g.large")
	in.AllocatedStorage, in.Port = aws.Int32(50), aws.Int32(3306)
	in.EnableCloudwatchLogsExports = []string{"error"}
	top.primary = e.createInstance(in)

	replica := func(region, id, source string, mod func(*rds.CreateDBInstanceReadReplicaInput)) {
		rin := &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String(id), SourceDBInstanceIdentifier: aws.String(source),
			DBInstanceClass: aws.String("db.r6g.xlarge"), AutoMinorVersionUpgrade: aws.Bool(false), CopyTagsToSnapshot: aws.Bool(true),
			MonitoringInterval: aws.Int32(15), MonitoringRoleArn: aws.String("arn:aws:iam::123456789012:role/rds-monitoring"),
			DeletionProtection: aws.Bool(true), EnableIAMDatabaseAuthentication: aws.Bool(true),
			Tags: []rdstypes.Tag{{Key: aws.String("role"), Value: aws.String("reader-" + id)}}}
		if mod != nil {
			mod(rin)
		}
		_, err := e.h.RDS(region).CreateDBInstanceReadReplica(ctx, rin)
		var exists *rdstypes.DBInstanceAlreadyExistsFault
		if errors.As(err, &exists) {
			// The SDK retried a call whose first attempt had been applied: AWS calls are
			// at-least-once, and so are the simulator's.
			err = nil
		}
		require.NoError(t, err, "create replica %s", id)
		e.h.Advance(2 * time.Hour)
	}
	replica(region, "shop-r1", "shop", nil)
	replica(region, "shop-r2", "shop", func(in *rds.CreateDBInstanceReadReplicaInput) {
		in.DBInstanceClass, in.PubliclyAccessible = aws.String("db.r6g.large"), aws.Bool(true)
		in.EnableCloudwatchLogsExports = []string{"slowquery"}
	})
	replica(otherRegion, "shop-eu", top.primary.ARN, func(in *rds.CreateDBInstanceReadReplicaInput) {
		in.SourceRegion = aws.String(region)
	})
	// A cascading replica needs backups on its parent.
	_, err := e.rds.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("shop-r1"),
		BackupRetentionPeriod: aws.Int32(3), PreferredBackupWindow: aws.String("04:00-04:30"), ApplyImmediately: aws.Bool(true)})
	require.NoError(t, err)
	e.h.Advance(time.Hour)
	replica(region, "shop-r1-c", "shop-r1", nil)

	for _, s := range []string{sameRegion1, sameRegion2, cascading} {
		top.replicas[s] = e.describe(s[len(region)+1:])
	}
	eu, err := e.client.For(otherRegion).DescribeInstance(ctx, "shop-eu")
	require.NoError(t, err)
	top.replicas[crossRegion] = eu
	top.primary = e.describe("shop")
	return top
}

func (top *topology) request(order string) workflow.MigrateRequest {
	return workflow.MigrateRequest{Region: region, Source: "shop", KmsKey: "alias/shop",
		RegionKeys: map[string]string{otherRegion: "alias/shop-eu"}, Options: workflow.RunOptions{Replicas: order}}
}

func (e *env) describeIn(reg, id string) *model.Instance {
	e.t.Helper()
	inst, err := e.client.For(reg).DescribeInstance(context.Background(), id)
	require.NoError(e.t, err, "describe %s in %s", id, reg)
	return inst
}

// assertTopologyMigrated checks every replica was replaced by an encrypted one at its old
// name and endpoint, replicating from the right parent, with the old settings and tags.
func assertTopologyMigrated(t *testing.T, e *env, top *topology) {
	t.Helper()
	p := e.describe("shop")
	assert.True(t, p.Settings.StorageEncrypted)
	assert.Equal(t, top.primary.Endpoint, p.Endpoint)
	parents := map[string]string{sameRegion1: "shop", sameRegion2: "shop", crossRegion: "shop", cascading: "shop-r1"}
	for subject, old := range top.replicas {
		got := e.describeIn(old.Region, old.ID)
		assert.NotEqual(t, old.ResourceID, got.ResourceID, "%s replaced", subject)
		assert.True(t, got.Settings.StorageEncrypted, subject)
		want := top.key
		if old.Region == otherRegion {
			want = top.euKey
		}
		assert.Equal(t, want, got.Settings.KmsKeyID, "%s key", subject)
		assert.Equal(t, old.Endpoint, got.Endpoint, "%s endpoint", subject)
		assert.Equal(t, parents[subject], lastPart(got.ReplicaSource), "%s parent", subject)
		assertSameSettings(t, old.Settings, got.Settings, subject)
		for k, v := range old.Tags {
			assert.Equal(t, v, got.Tags[k], "%s tag %s", subject, k)
		}
	}
}

func lastPart(s string) string {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == ':' {
			return s[i+1:]
		}
	}
	return s
}

func TestMigrateReplicaTopology(t *testing.T) {
	for _, order := range []string{workflow.ReplicasAfterCutover, workflow.ReplicasBeforeCutover} {
		t.Run(order, func(t *testing.T) {
			e := newEnv(t)
			top := e.createTopology()
			eng := e.engine(fixedID, workflow.AutoApprove)
			plan, err := eng.Plan(e.ctx(), top.request(order))
			require.NoError(t, err)
			assert.Equal(t, order, plan.ReplicaOrder)

			rep, err := eng.Migrate(e.ctx(), top.request(order))
			require.NoError(t, err)
			assert.Equal(t, workflow.StatusCompleted, rep.Status)
			assert.Empty(t, rep.Parity.Differences)
			assertTopologyMigrated(t, e, top)
			require.Len(t, rep.Replicas, 4)
			for _, r := range rep.Replicas {
				if order == workflow.ReplicasBeforeCutover {
					assert.Zero(t, r.StaleReadSeconds, "%s: no stale reads when swapped during the freeze", r.Replica)
				} else {
					assert.Positive(t, r.StaleReadSeconds, "%s serves frozen data until its swap", r.Replica)
				}
			}

			rep, err = eng.Cleanup(e.ctx(), fixedID)
			require.NoError(t, err)
			assert.Equal(t, workflow.StatusCleanedUp, rep.Status)
			assert.ElementsMatch(t, []string{"shop", "shop-r1", "shop-r2", "shop-r1-c"}, e.instanceIDsIn(region))
			assert.Equal(t, []string{"shop-eu"}, e.instanceIDsIn(otherRegion))
		})
	}
}

func TestReplicaRegionWithoutKeyFailsThePlan(t *testing.T) {
	e := newEnv(t)
	top := e.createTopology()
	req := top.request("")
	req.RegionKeys = nil
	before := e.h.Calls()
	_, err := e.engine("", nil).Plan(e.ctx(), req)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "shop-eu is in eu-west-1, and no KMS key was given for eu-west-1")
	assert.Contains(t, workflow.NextOf(err), "eu-west-1=")
	assertNoMutatingCalls(t, before, e.h.Calls())
}

// TestReplicaTopologyCrashPoints stops the migration after every step (and in the middle of
// replica creation), resumes, and checks the same end state; then the same with rollback.
func TestReplicaTopologyCrashPoints(t *testing.T) {
	e0 := newEnv(t)
	top0 := e0.createTopology()
	plan, err := e0.engine(fixedID, nil).Plan(e0.ctx(), top0.request(""))
	require.NoError(t, err)
	for _, step := range plan.Steps {
		step := step.Name
		t.Run("resume-after-"+step, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			top := e.createTopology()
			eng := e.engine(fixedID, workflow.AutoApprove)
			ctx := e.cancelAt(eng, func(ev workflow.Event) bool { return ev.Type == workflow.EventStepDone && ev.Step == step })
			_, err := eng.Migrate(ctx, top.request(""))
			if err != nil {
				require.ErrorIs(t, err, workflow.ErrStopped)
				rep, err := e.engine("", workflow.AutoApprove).Resume(e.ctx(), fixedID)
				require.NoError(t, err)
				assert.Equal(t, workflow.StatusCompleted, rep.Status)
			}
			assertTopologyMigrated(t, e, top)
			assert.Len(t, e.instanceIDsIn(region), 8, "4 new + 4 retired in us-east-1, nothing orphaned")
			assert.Len(t, e.instanceIDsIn(otherRegion), 2)
		})
		t.Run("rollback-after-"+step, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			top := e.createTopology()
			eng := e.engine(fixedID, workflow.AutoApprove)
			ctx := e.cancelAt(eng, func(ev workflow.Event) bool { return ev.Type == workflow.EventStepDone && ev.Step == step })
			_, _ = eng.Migrate(ctx, top.request(""))
			rep, err := e.engine("", workflow.AutoApprove).Rollback(e.ctx(), fixedID)
			require.NoError(t, err)
			assert.Equal(t, workflow.StatusRolledBack, rep.Status)
			assert.Equal(t, top.primary.ResourceID, e.describe("shop").ResourceID)
			for subject, old := range top.replicas {
				got := e.describeIn(old.Region, old.ID)
				assert.Equal(t, old.ResourceID, got.ResourceID, "%s is the original again", subject)
				assert.Equal(t, old.Endpoint, got.Endpoint)
			}
			assert.ElementsMatch(t, []string{"shop", "shop-r1", "shop-r2", "shop-r1-c"}, e.instanceIDsIn(region))
			assert.Equal(t, []string{"shop-eu"}, e.instanceIDsIn(otherRegion))
			assertOnlyRollbackSnapshot(t, e, "shop", rep)
		})
	}
}

// TestReplicaTopologyUnderThePrintedPolicy migrates and cleans up a primary with same-region,
// cross-region and cascading replicas while the simulator enforces `iam-policy --cross-region`.
func TestReplicaTopologyUnderThePrintedPolicy(t *testing.T) {
	e := newEnv(t)
	top := e.createTopology()
	doc := iampolicy.New(iampolicy.Options{Region: region, Account: "123456789012", CrossRegion: true})
	enforce(t, e, doc)
	before := e.h.Calls()
	eng := e.engine(fixedID, workflow.AutoApprove)
	_, err := eng.Migrate(e.ctx(), top.request(""))
	require.NoError(t, err)
	assertTopologyMigrated(t, e, top)
	_, err = eng.Cleanup(e.ctx(), fixedID)
	require.NoError(t, err)
	assert.Positive(t, e.h.Calls()["CreateDBInstanceReadReplica"]-before["CreateDBInstanceReadReplica"])

	missing := doc.Without("rds:CreateDBInstanceReadReplica")
	e2 := newEnv(t)
	top2 := e2.createTopology()
	enforce(t, e2, missing)
	_, err = e2.engine(fixedID, workflow.AutoApprove).Migrate(e2.ctx(), top2.request(""))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "rds:CreateDBInstanceReadReplica")
	assert.NotEmpty(t, workflow.NextOf(err))
}

func TestLostJournalWithReplicasIsNotGuessed(t *testing.T) {
	e := newEnv(t)
	top := e.createTopology()
	eng := e.engine(fixedID, workflow.AutoApprove)
	ctx := e.cancelAt(eng, func(ev workflow.Event) bool {
		return ev.Type == workflow.EventStepDone && ev.Step == workflow.StepRestore
	})
	_, err := eng.Migrate(ctx, top.request(""))
	require.ErrorIs(t, err, workflow.ErrStopped)
	require.NoError(t, os.Remove(filepath.Join(e.store.Dir(), fixedID+".json")))
	_, err = eng.Rebuild(e.ctx(), workflow.KindInstance, region, "shop")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "involves read replicas")
	assert.Contains(t, workflow.NextOf(err), "from a backup")
}
