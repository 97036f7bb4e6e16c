package integration

import (
	"context"
	"testing"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/model"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// Cleanup and rollback delete only what the migration created, judged by its journal and
// the tags together, and the retired source only with a final snapshot.

// stopAfter runs a migration of ledger until step is done, then stops it.
func stopAfter(t *testing.T, e *env, step string) {
	t.Helper()
	eng := e.engine(fixedID, workflow.AutoApprove)
	ctx := e.cancelAt(eng, func(ev workflow.Event) bool { return ev.Type == workflow.EventStepDone && ev.Step == step })
	_, err := eng.Migrate(ctx, workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/k"})
	require.ErrorIs(t, err, workflow.ErrStopped)
}

// replaceSnapshot deletes a snapshot behind the tool's back and takes another, with tags,
// under the same name.
func (e *env) replaceSnapshot(id string, tags map[string]string) {
	e.t.Helper()
	ctx := context.Background()
	_, err := e.rds.DeleteDBSnapshot(ctx, &rds.DeleteDBSnapshotInput{DBSnapshotIdentifier: aws.String(id)})
	require.NoError(e.t, err)
	var list []rdstypes.Tag
	for k, v := range tags {
		list = append(list, rdstypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	e.h.Advance(10 * time.Minute)
	_, err = e.rds.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("other"),
		DBSnapshotIdentifier: aws.String(id), Tags: list})
	require.NoError(e.t, err)
	e.h.Advance(3 * time.Hour)
}

func TestRollbackAndCleanupNeverDeleteForeignResources(t *testing.T) {
	names := workflow.NamesFor(fixedID, "ledger")
	foreignTags := map[string]map[string]string{
		"untagged":             nil,
		"other migration's id": {model.TagMigrationID: "ffffffff", model.TagSource: "ledger"},
	}
	for label, tags := range foreignTags {
		t.Run("rollback spares a snapshot with "+label, func(t *testing.T) {
			e := newEnv(t)
			e.createKey("alias/k")
			e.createInstance(simpleSource("ledger"))
			e.createInstance(simpleSource("other"))
			stopAfter(t, e, workflow.StepCopy)
			e.replaceSnapshot(names.Snapshot, tags)

			_, err := e.engine("", workflow.AutoApprove).Rollback(e.ctx(), fixedID)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "refusing to delete DB snapshot "+names.Snapshot)
			assert.NotEmpty(t, workflow.NextOf(err))
			assert.Contains(t, e.snapshotIDs(), names.Snapshot, "the foreign snapshot is still there")
		})
		t.Run("cleanup spares a snapshot with "+label, func(t *testing.T) {
			e := newEnv(t)
			e.createKey("alias/k")
			e.createInstance(simpleSource("ledger"))
			e.createInstance(simpleSource("other"))
			eng := e.engine(fixedID, workflow.AutoApprove)
			_, err := eng.Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/k"})
			require.NoError(t, err)
			e.replaceSnapshot(names.Snapshot, tags)

			_, err = eng.Cleanup(e.ctx(), fixedID)
			require.Error(t, err)
			assert.Contains(t, err.Error(), names.Snapshot)
			assert.Contains(t, e.snapshotIDs(), names.Snapshot, "the foreign snapshot is still there")
		})
	}

	t.Run("rollback spares an instance that took the target's name", func(t *testing.T) {
		e := newEnv(t)
		e.createKey("alias/k")
		e.createInstance(simpleSource("ledger"))
		stopAfter(t, e, workflow.StepCopy) // before restore: the target does not exist yet
		e.createInstance(simpleSource(names.Target))

		_, err := e.engine("", workflow.AutoApprove).Rollback(e.ctx(), fixedID)
		require.Error(t, err)
		assert.Contains(t, err.Error(), names.Target)
		assert.Contains(t, err.Error(), "not created by migration "+fixedID)
		assert.Contains(t, e.instanceIDs(), names.Target, "the foreign instance is still there")
		assert.Contains(t, e.instanceIDs(), "ledger")
	})

}

func TestRetiredSourceIsDeletedOnlyWithAFinalSnapshot(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/k")
	in := simpleSource("ledger")
	in.DeletionProtection = aws.Bool(true)
	src := e.createInstance(in)
	eng := e.engine(fixedID, workflow.AutoApprove)
	_, err := eng.Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/k"})
	require.NoError(t, err)
	names := workflow.NamesFor(fixedID, "ledger")

	// A foreign snapshot holding the final snapshot's name makes the deletion fail: the
	// source is not deleted without its own final snapshot.
	_, err = e.rds.CreateDBSnapshot(context.Background(), &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("ledger"),
		DBSnapshotIdentifier: aws.String(names.FinalSnapshot)})
	require.NoError(t, err)
	e.h.Advance(3 * time.Hour)
	_, err = eng.Cleanup(e.ctx(), fixedID)
	require.Error(t, err)
	assert.Contains(t, e.instanceIDs(), names.Retired, "the retired source is still there")
	assert.Contains(t, err.Error(), "is taken by a snapshot of another instance")
	assert.True(t, e.describe(names.Retired).Settings.DeletionProtection, "and still protected: nothing was weakened")
	_, err = e.rds.DeleteDBSnapshot(context.Background(), &rds.DeleteDBSnapshotInput{DBSnapshotIdentifier: aws.String(names.FinalSnapshot)})
	require.NoError(t, err)
	e.h.Advance(time.Hour)

	rep, err := eng.Cleanup(e.ctx(), fixedID)
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusCleanedUp, rep.Status)

	// From the simulator's own log: the source's deletion started together with a
	// snapshot taken by that DeleteDBInstance, named as the final snapshot.
	deleted, snapped := false, false
	for _, ev := range e.h.Events() {
		if ev.Type == "instance" && ev.ResourceID == src.ResourceID && ev.Status == "deleting" {
			deleted = true
		}
		if ev.Type == "snapshot" && ev.ID == names.FinalSnapshot && ev.Action == "DeleteDBInstance" && ev.Status == "creating" {
			snapped = true
		}
	}
	assert.True(t, deleted, "the retired source was deleted")
	assert.True(t, snapped, "DeleteDBInstance of the retired source took the final snapshot")
	final, err := e.client.For(region).DescribeSnapshot(context.Background(), names.FinalSnapshot)
	require.NoError(t, err)
	assert.Equal(t, fixedID, final.Tags[model.TagMigrationID])
	assert.Equal(t, workflow.RoleFinalSnapshot, final.Tags[model.TagRole])
}

// Before any rename of a cutover, both sides are re-read: the new instance must exist, be
// available, be encrypted with the journal's key and carry this migration's tags, and the
// source must be the resource the journal names. Otherwise nothing is renamed.
func TestCutoverRenamesNothingUnlessBothSidesAreTheJournals(t *testing.T) {
	names := workflow.NamesFor(fixedID, "ledger")
	setup := func(t *testing.T) (*env, *model.Instance) {
		e := newEnv(t)
		e.createKey("alias/k")
		src := e.createInstance(simpleSource("ledger"))
		stopAfter(t, e, workflow.StepParity)
		return e, src
	}
	assertNothingRenamed := func(t *testing.T, e *env, src *model.Instance, err error, says ...string) {
		t.Helper()
		require.Error(t, err)
		for _, s := range says {
			assert.Contains(t, err.Error(), s)
		}
		assert.NotContains(t, err.Error(), "\n", "one line")
		assert.NotEmpty(t, workflow.NextOf(err))
		assert.Equal(t, src.ResourceID, e.describe("ledger").ResourceID, "the source still answers at its name")
		assert.NotContains(t, e.instanceIDs(), names.Retired)
	}

	t.Run("the new instance was deleted by hand", func(t *testing.T) {
		e, src := setup(t)
		_, err := e.rds.DeleteDBInstance(context.Background(), &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String(names.Target),
			SkipFinalSnapshot: aws.Bool(true)})
		require.NoError(t, err)
		e.h.Advance(time.Hour)
		_, err = e.engine("", workflow.AutoApprove).Resume(e.ctx(), fixedID)
		assertNothingRenamed(t, e, src, err, names.Target, "no longer exists")

		rep, err := e.engine("", workflow.AutoApprove).Rollback(e.ctx(), fixedID)
		require.NoError(t, err)
		assert.Equal(t, workflow.StatusRolledBack, rep.Status)
		assert.Equal(t, []string{"ledger"}, e.instanceIDs())
	})

	t.Run("the new instance lost its migration tag", func(t *testing.T) {
		e, src := setup(t)
		_, err := e.rds.RemoveTagsFromResource(context.Background(), &rds.RemoveTagsFromResourceInput{
			ResourceName: aws.String(e.describe(names.Target).ARN), TagKeys: []string{model.TagMigrationID}})
		require.NoError(t, err)
		_, err = e.engine("", workflow.AutoApprove).Resume(e.ctx(), fixedID)
		assertNothingRenamed(t, e, src, err, names.Target, "no "+model.TagMigrationID+" tag")
	})

	t.Run("a valid journal names another database", func(t *testing.T) {
		e, src := setup(t)
		other := e.createInstance(simpleSource("other"))
		st, err := e.store.Load(fixedID)
		require.NoError(t, err)
		st.Source, st.SourceARN, st.SourceRID, st.SourceAddr = other.ID, other.ARN, other.ResourceID, other.Endpoint
		require.NoError(t, e.store.Save(st)) // a fresh checksum: only the content lies
		_, err = e.engine("", workflow.AutoApprove).Resume(e.ctx(), fixedID)
		assertNothingRenamed(t, e, src, err, model.TagSource, `"ledger", not "other"`)
		assert.Equal(t, other.ResourceID, e.describe("other").ResourceID, "the unrelated database keeps its name")

		_, _ = e.engine("", workflow.AutoApprove).Rollback(e.ctx(), fixedID)
		assert.Equal(t, other.ResourceID, e.describe("other").ResourceID, "rollback does not rename it either")
		assert.Equal(t, src.ResourceID, e.describe("ledger").ResourceID)
	})
}

// TestClusterCutoverRenamesNothingUnlessBothSidesAreTheJournals is the cluster counterpart:
// a new cluster without this migration's tags is not swapped in.
func TestClusterCutoverRenamesNothingUnlessBothSidesAreTheJournals(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/k")
	src := smallCluster(e)
	eng := e.engine(fixedID, workflow.AutoApprove)
	ctx := e.cancelAt(eng, func(ev workflow.Event) bool {
		return ev.Type == workflow.EventStepDone && ev.Step == workflow.StepParity
	})
	_, err := eng.Migrate(ctx, clusterRequest("shop", "alias/k"))
	require.ErrorIs(t, err, workflow.ErrStopped)
	n := workflow.ClusterNamesFor(fixedID, "shop")
	target, err := e.client.For(region).DescribeCluster(context.Background(), n.Target)
	require.NoError(t, err)
	_, err = e.rds.RemoveTagsFromResource(context.Background(), &rds.RemoveTagsFromResourceInput{
		ResourceName: aws.String(target.ARN), TagKeys: []string{model.TagSource}})
	require.NoError(t, err)

	_, err = e.engine("", workflow.AutoApprove).Resume(e.ctx(), fixedID)
	require.Error(t, err)
	assert.Contains(t, err.Error(), n.Target)
	assert.Contains(t, err.Error(), "no "+model.TagSource+" tag")
	got := e.describeAurora("shop")
	assert.Equal(t, src.cluster.ResourceID, got.cluster.ResourceID, "the source cluster still answers at its name")
	assert.NotContains(t, e.clusterIDs(), n.Retired)
	for id, m := range src.members {
		assert.Equal(t, m.ResourceID, got.members[id].ResourceID, "member %s not renamed", id)
	}

	// Rollback, which finds the new cluster by the journal's resource id, does not touch it
	// either (its endpoints, members, itself) while its tags do not say it is the migration's.
	endpoints, instances := e.allEndpointIDs(), e.instanceIDs()
	_, err = e.engine("", workflow.AutoApprove).Rollback(e.ctx(), fixedID)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no "+model.TagSource+" tag")
	assert.ElementsMatch(t, endpoints, e.allEndpointIDs(), "no endpoint deleted")
	assert.ElementsMatch(t, instances, e.instanceIDs(), "no member deleted")
	assert.Contains(t, e.clusterIDs(), n.Target)
}

// wrongRestore is an account whose restores come out other than asked: an instance restored
// from the unencrypted snapshot, a cluster restored with another key. The simulator does the
// restore; only the request is bent.
type wrongRestore struct {
	model.RDS
	snapshot, key string
}

func (w wrongRestore) RestoreInstance(ctx context.Context, in model.RestoreInstanceInput) (*model.Instance, error) {
	in.SnapshotID = w.snapshot
	return w.RDS.RestoreInstance(ctx, in)
}

func (w wrongRestore) RestoreCluster(ctx context.Context, in model.RestoreClusterInput) (*model.Cluster, error) {
	in.KmsKeyID = w.key
	return w.RDS.RestoreCluster(ctx, in)
}

// Storage encryption and its key are part of parity: a new resource not encrypted with the
// migration's key stops the migration before cutover, even when every difference is approved.
func TestParityStopsANewResourceNotEncryptedWithTheKey(t *testing.T) {
	t.Run("instance restored unencrypted", func(t *testing.T) {
		e := newEnv(t)
		e.createKey("alias/k")
		src := e.createInstance(simpleSource("ledger"))
		names := workflow.NamesFor(fixedID, "ledger")
		eng := e.engine(fixedID, workflow.AutoApprove)
		eng.Clients = func(r string) (model.RDS, error) {
			return wrongRestore{RDS: e.client.For(r), snapshot: names.Snapshot}, nil
		}
		rep, err := eng.Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/k"})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "storage is not encrypted")
		assert.Contains(t, workflow.NextOf(err), "rdsencrypt rollback "+fixedID)
		assert.Equal(t, workflow.StepPending, stepStatus(rep, workflow.StepRenameSource), "cutover not started")
		assert.Equal(t, src.ResourceID, e.describe("ledger").ResourceID)
		require.NotEmpty(t, rep.Parity.Differences)
		assert.Equal(t, "StorageEncrypted/KmsKeyId", rep.Parity.Differences[len(rep.Parity.Differences)-1].Setting)
	})
	t.Run("cluster restored with another key", func(t *testing.T) {
		e := newEnv(t)
		e.createKey("alias/k")
		other := e.createKey("alias/other")
		src := smallCluster(e)
		eng := e.engine(fixedID, workflow.AutoApprove)
		eng.Clients = func(r string) (model.RDS, error) { return wrongRestore{RDS: e.client.For(r), key: other}, nil }
		rep, err := eng.Migrate(e.ctx(), clusterRequest("shop", "alias/k"))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "storage is encrypted with "+other)
		assert.Equal(t, workflow.StepPending, stepStatus(rep, workflow.StepRenameSource), "cutover not started")
		assert.Equal(t, src.cluster.ResourceID, e.describeAurora("shop").cluster.ResourceID)
	})
}

// withStateDir is the same account driven from another state directory: a second operator,
// or the first one after losing the journal.
func (e *env) withStateDir(t *testing.T) *env {
	store, err := workflow.OpenStore(t.TempDir())
	require.NoError(t, err)
	return &env{t: t, h: e.h, rds: e.rds, kms: e.kms, client: e.client, store: store}
}

// AWS is the shared truth: a migration of a source that another migration, unknown to this
// state directory, has under way is refused with that migration's id before anything is
// created; a finished one does not block.
func TestSecondMigrationFromAnotherStateDirIsRefused(t *testing.T) {
	t.Run("instance", func(t *testing.T) {
		e := newEnv(t)
		e.createKey("alias/k")
		e.createInstance(simpleSource("ledger"))
		stopAfter(t, e, workflow.StepSnapshot)
		before := e.h.Calls()

		other := e.withStateDir(t)
		_, err := other.engine("ffffffff", workflow.AutoApprove).Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/k"})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "migration "+fixedID+" under way")
		assert.Contains(t, workflow.NextOf(err), "rdsencrypt resume --source ledger")
		assertNoMutatingCalls(t, before, e.h.Calls())

		// Once the first migration is finished (here: rolled back), the source is free.
		_, err = e.engine("", workflow.AutoApprove).Rollback(e.ctx(), fixedID)
		require.NoError(t, err)
		rep, err := other.engine("ffffffff", workflow.AutoApprove).Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/k"})
		require.NoError(t, err)
		assert.Equal(t, workflow.StatusCompleted, rep.Status)
	})
	t.Run("cluster", func(t *testing.T) {
		e := newEnv(t)
		e.createKey("alias/k")
		smallCluster(e)
		eng := e.engine(fixedID, workflow.AutoApprove)
		ctx := e.cancelAt(eng, func(ev workflow.Event) bool {
			return ev.Type == workflow.EventStepDone && ev.Step == workflow.StepRestore
		})
		_, err := eng.Migrate(ctx, clusterRequest("shop", "alias/k"))
		require.ErrorIs(t, err, workflow.ErrStopped)
		before := e.h.Calls()

		_, err = e.withStateDir(t).engine("ffffffff", workflow.AutoApprove).Migrate(e.ctx(), clusterRequest("shop", "alias/k"))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "migration "+fixedID+" under way")
		assert.Contains(t, workflow.NextOf(err), "--cluster")
		assertNoMutatingCalls(t, before, e.h.Calls())
	})
}
