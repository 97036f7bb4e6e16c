package integration

import (
	"fmt"
	"testing"

	"github.com/rdsencrypt/rdsencrypt/internal/model"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// instanceStepNames are the steps of an instance migration, from a plan.
func instanceStepNames(t *testing.T) []string {
	t.Helper()
	e := newEnv(t)
	e.createKey("alias/k")
	e.createInstance(simpleSource("ledger"))
	plan, err := e.engine("", nil).Plan(e.ctx(), workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/k"})
	require.NoError(t, err)
	names := make([]string, len(plan.Steps))
	for i, s := range plan.Steps {
		names[i] = s.Name
	}
	return names
}

// stopPoints are the instants a run is interrupted at: after each step, and in the middle
// of each step that waits on AWS (at its first progress report).
func stopPoints(t *testing.T) []struct {
	name string
	stop func(workflow.Event) bool
} {
	var out []struct {
		name string
		stop func(workflow.Event) bool
	}
	for _, step := range instanceStepNames(t) {
		out = append(out, struct {
			name string
			stop func(workflow.Event) bool
		}{"after-" + step, func(ev workflow.Event) bool { return ev.Type == workflow.EventStepDone && ev.Step == step }})
		switch step {
		case workflow.StepSnapshot, workflow.StepCopy, workflow.StepRestore, workflow.StepRenameSource, workflow.StepRenameTarget:
			out = append(out, struct {
				name string
				stop func(workflow.Event) bool
			}{"during-" + step, func(ev workflow.Event) bool { return ev.Type == workflow.EventStepProgress && ev.Step == step }})
		}
	}
	return out
}

// TestCrashPointsResume stops a migration at every step boundary and in the middle of every
// wait, resumes it, and checks the end state equals an uninterrupted run's.
func TestCrashPointsResume(t *testing.T) {
	for _, p := range stopPoints(t) {
		t.Run(p.name, func(t *testing.T) {
			e := newEnv(t)
			key := e.createKey("alias/k")
			src := e.createInstance(simpleSource("ledger"))
			eng := e.engine(fixedID, workflow.AutoApprove)
			ctx := e.cancelAt(eng, p.stop)
			rep, err := eng.Migrate(ctx, workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/k"})
			if p.name == "after-"+workflow.StepVerify {
				require.NoError(t, err) // the last step: nothing left to interrupt
			} else {
				require.ErrorIs(t, err, workflow.ErrStopped, "stopped at %s", p.name)
				assert.Equal(t, workflow.StatusPaused, rep.Status)
				rep, err = e.engine("", workflow.AutoApprove).Resume(e.ctx(), fixedID)
				require.NoError(t, err)
			}
			assert.Equal(t, workflow.StatusCompleted, rep.Status)
			assertMigratedEndState(t, e, src, key)
		})
	}
}

func assertMigratedEndState(t *testing.T, e *env, src *model.Instance, key string) {
	t.Helper()
	names := workflow.NamesFor(fixedID, src.ID)
	got := e.describe(src.ID)
	assert.True(t, got.Settings.StorageEncrypted)
	assert.Equal(t, key, got.Settings.KmsKeyID)
	assert.Equal(t, src.Endpoint, got.Endpoint)
	assertSameSettings(t, src.Settings, got.Settings, "new instance")
	retired := e.describe(names.Retired)
	assert.Equal(t, src.ResourceID, retired.ResourceID)
	assertSameSettings(t, src.Settings, retired.Settings, "retired source")
	assert.ElementsMatch(t, []string{src.ID, names.Retired}, e.instanceIDs(), "no orphaned instance")
	assert.ElementsMatch(t, []string{names.Snapshot, names.EncryptedSnapshot}, e.snapshotIDs(), "no orphaned snapshot")
	assertSourceOnlyRenamed(t, e, src.ResourceID)
}

// TestCrashPointsRollback stops a migration at every point before cleanup and rolls it back:
// the account must be as it was before.
func TestCrashPointsRollback(t *testing.T) {
	for _, p := range stopPoints(t) {
		t.Run(p.name, func(t *testing.T) {
			e := newEnv(t)
			e.createKey("alias/k")
			src := e.createInstance(simpleSource("ledger"))
			eng := e.engine(fixedID, workflow.AutoApprove)
			ctx := e.cancelAt(eng, p.stop)
			_, _ = eng.Migrate(ctx, workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/k"})

			rep, err := e.engine("", workflow.AutoApprove).Rollback(e.ctx(), fixedID)
			require.NoError(t, err)
			assert.Equal(t, workflow.StatusRolledBack, rep.Status)
			got := e.describe("ledger")
			assert.Equal(t, src.ResourceID, got.ResourceID, "the source is back at its name")
			assert.Equal(t, src.Endpoint, got.Endpoint)
			assert.False(t, got.Settings.StorageEncrypted)
			assertSameSettings(t, src.Settings, got.Settings, "source")
			assert.Equal(t, []string{"ledger"}, e.instanceIDs(), "everything created was deleted")
			assertOnlyRollbackSnapshot(t, e, "ledger", rep)
		})
	}
}

// TestRollbackIsResumable interrupts a rollback itself and runs it again.
func TestRollbackIsResumable(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/k")
	src := e.createInstance(simpleSource("ledger"))
	eng := e.engine(fixedID, workflow.AutoApprove)
	_, err := eng.Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/k"})
	require.NoError(t, err)

	for i := 1; ; i++ {
		rb := e.engine("", workflow.AutoApprove)
		n := 0
		ctx := e.cancelAt(rb, func(ev workflow.Event) bool {
			if ev.Type == workflow.EventStepProgress {
				n++
			}
			return n == 3*i
		})
		rep, err := rb.Rollback(ctx, fixedID)
		if err == nil {
			assert.Equal(t, workflow.StatusRolledBack, rep.Status)
			break
		}
		require.Less(t, i, 50, fmt.Sprintf("rollback did not converge: %v", err))
	}
	assert.Equal(t, src.ResourceID, e.describe("ledger").ResourceID)
	assert.Equal(t, []string{"ledger"}, e.instanceIDs())
	assert.Equal(t, []string{workflow.NamesFor(fixedID, "ledger").RollbackSnapshot}, e.snapshotIDs(), "the new instance took writes after cutover: its data is kept")
}

// assertOnlyRollbackSnapshot checks that a rollback left no snapshot, except the final
// snapshot of the new instance when the rollback began after the cutover had started (the
// new instance may have taken writes).
func assertOnlyRollbackSnapshot(t *testing.T, e *env, source string, rep *workflow.Report) {
	t.Helper()
	snaps := e.snapshotIDs()
	if stepStatus(rep, workflow.StepRenameTarget) == workflow.StepPending {
		assert.Empty(t, snaps, "no snapshot left before cutover")
		return
	}
	assert.Equal(t, []string{workflow.NamesFor(fixedID, source).RollbackSnapshot}, snaps, "only the new instance's final snapshot")
}
