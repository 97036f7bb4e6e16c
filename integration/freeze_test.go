package integration

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/rdssim"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// The enforced write freeze (docs/freeze.md), against the simulator's security groups, its
// modelled clients (who connect through the instance's groups, survive a group change and
// are dropped by a reboot) and CloudWatch DatabaseConnections.

var appGroups = []string{"sg-0app", "sg-0admin"}

// freezeEnv has the source "app" in two security groups that let its clients in, with
// clients connected.
func freezeEnv(t *testing.T) *env {
	e := newEnv(t)
	e.createKey("alias/k")
	in := simpleSource("app")
	in.VpcSecurityGroupIds = appGroups
	e.createInstance(in)
	e.h.Workload(region, "app", rdssim.Workload{Clients: 6, WriteIOPS: 100})
	require.NoError(t, e.h.Connect(region, "app"), "the source's own groups let clients in")
	return e
}

func enforcedRequest() workflow.MigrateRequest {
	return workflow.MigrateRequest{Region: region, Source: "app", KmsKey: "alias/k", Options: workflow.RunOptions{Freeze: workflow.FreezeEnforce, Precopy: true}}
}

// freezeGroupGone reports whether the security group no longer exists.
func (e *env) freezeGroupGone(id string) bool {
	e.t.Helper()
	_, err := e.client.Network(region).DescribeSecurityGroup(context.Background(), id)
	if model.IsNotFound(err) {
		return true
	}
	require.NoError(e.t, err)
	return false
}

func TestEnforcedFreezeLeavesNoConnectionBeforeTheFinalSnapshot(t *testing.T) {
	e := freezeEnv(t)
	require.NotNil(t, e.h.Sim, "the test reads the simulator's sessions")
	require.Positive(t, e.h.Sim.Sessions(region, "app"))
	atSnapshot := struct {
		sessions int
		connect  error
		asked    bool
	}{}
	approver := workflow.ApproverFunc(func(ctx context.Context, a workflow.Approval) (workflow.Decision, error) {
		if a.Step == workflow.StepSnapshot {
			atSnapshot.asked = true
			atSnapshot.sessions = e.h.Sim.Sessions(region, "app")
			atSnapshot.connect = e.h.Connect(region, "app")
		}
		if a.Step == workflow.StepFreeze {
			assert.Contains(t, a.Details[len(a.Details)-2], "sg-0app, sg-0admin", "the approval names the change to the source")
		}
		return workflow.Approve, nil
	})
	eng := e.enforcing(e.engine(fixedID, approver))
	plan, err := eng.Plan(e.ctx(), enforcedRequest())
	require.NoError(t, err)
	assert.Equal(t, workflow.FreezeEnforce, plan.Freeze)
	assert.Contains(t, plan.Warnings[len(plan.Warnings)-1], "sg-0app, sg-0admin")

	rep, err := eng.Migrate(e.ctx(), enforcedRequest())
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusCompleted, rep.Status)
	require.True(t, atSnapshot.asked)
	assert.Zero(t, atSnapshot.sessions, "no session left on the source at the final snapshot")
	assert.Error(t, atSnapshot.connect, "no new connection to the frozen source")

	st, err := e.store.Load(fixedID)
	require.NoError(t, err)
	require.NotNil(t, st.Freeze)
	assert.Equal(t, appGroups, st.Freeze.OriginalGroups)
	names := workflow.NamesFor(fixedID, "app")
	// the new instance answers as the source did, with the source's groups, not the freeze group
	assert.Equal(t, appGroups, e.describe("app").Settings.VpcSecurityGroupIDs)
	assert.NoError(t, e.h.Connect(region, "app"))
	// the retired source keeps the ingress-free group: a client with its address cannot write
	assert.Equal(t, []string{st.Freeze.GroupID}, e.describe(names.Retired).Settings.VpcSecurityGroupIDs)
	assert.Error(t, e.h.Connect(region, names.Retired), "the retired source refuses new connections after cutover")
	assert.Equal(t, 1, e.h.Calls()["CreateSecurityGroup"])

	_, err = eng.Cleanup(e.ctx(), fixedID)
	require.NoError(t, err)
	assert.True(t, e.freezeGroupGone(st.Freeze.GroupID), "cleanup deletes the freeze group after the retired source")
}

// A session that survives the reboot (HoldSession) stops the migration before the final
// snapshot, resumably; once it ends, resume finishes; rollback instead puts the groups back.
func TestEnforcedFreezeRefusesWhileASessionPersists(t *testing.T) {
	for _, then := range []string{"resume", "rollback"} {
		t.Run(then, func(t *testing.T) {
			e := freezeEnv(t)
			e.h.HoldSession(region, "app", 1)
			eng := e.enforcing(e.engine(fixedID, workflow.AutoApprove))
			_, err := eng.Migrate(e.ctx(), enforcedRequest())
			require.Error(t, err)
			assert.Contains(t, err.Error(), "app still had 1 database connection")
			assert.Contains(t, workflow.NextOf(err), "rdsencrypt resume "+fixedID)
			assert.NotContains(t, err.Error(), "\n")
			names := workflow.NamesFor(fixedID, "app")
			assert.NotContains(t, e.snapshotIDs(), names.Snapshot, "no final snapshot while a session persists")
			assert.Error(t, e.h.Connect(region, "app"), "the source stays closed")
			st, err := e.store.Load(fixedID)
			require.NoError(t, err)
			require.NotNil(t, st.Freeze)

			switch then {
			case "resume":
				e.h.HoldSession(region, "app", -1)
				rep, err := eng.Resume(e.ctx(), fixedID)
				require.NoError(t, err)
				assert.Equal(t, workflow.StatusCompleted, rep.Status)
				assert.Equal(t, appGroups, e.describe("app").Settings.VpcSecurityGroupIDs)
				assert.Equal(t, 1, e.h.Calls()["CreateSecurityGroup"], "the resumed freeze reuses its group")
				assert.Equal(t, 1, e.h.Calls()["RebootDBInstance"], "and does not reboot again")
			case "rollback":
				_, err := eng.Rollback(e.ctx(), fixedID)
				require.NoError(t, err)
				assert.Equal(t, appGroups, e.describe("app").Settings.VpcSecurityGroupIDs, "the original groups, exactly")
				assert.True(t, e.freezeGroupGone(st.Freeze.GroupID))
				assert.NoError(t, e.h.Connect(region, "app"))
			}
		})
	}
}

func TestRollbackAfterCutoverRestoresTheSecurityGroups(t *testing.T) {
	e := freezeEnv(t)
	eng := e.enforcing(e.engine(fixedID, workflow.AutoApprove))
	_, err := eng.Migrate(e.ctx(), enforcedRequest())
	require.NoError(t, err)
	st, err := e.store.Load(fixedID)
	require.NoError(t, err)
	_, err = eng.Rollback(e.ctx(), fixedID)
	require.NoError(t, err)
	assert.Equal(t, []string{"app"}, e.instanceIDs())
	src := e.describe("app")
	assert.False(t, src.Settings.StorageEncrypted, "the source is back")
	assert.Equal(t, appGroups, src.Settings.VpcSecurityGroupIDs, "with its original groups, in order")
	assert.True(t, e.freezeGroupGone(st.Freeze.GroupID))
	assert.NoError(t, e.h.Connect(region, "app"))
}

// A run killed after creating the freeze group and before journaling it: the resumed run
// finds the group by its tags instead of creating a second one (whose name would be taken).
func TestAFreezeGroupNotYetJournaledIsFoundByItsTags(t *testing.T) {
	e := freezeEnv(t)
	src := e.describe("app")
	names := workflow.NamesFor(fixedID, "app")
	g, err := e.client.Network(region).CreateSecurityGroup(e.ctx(), names.FreezeGroup, "left by a killed run", src.VpcID,
		model.Tags{model.TagMigrationID: fixedID, model.TagSource: "app", model.TagRole: workflow.RoleFreezeGroup})
	require.NoError(t, err)
	eng := e.enforcing(e.engine(fixedID, workflow.AutoApprove))
	_, err = eng.Migrate(e.ctx(), enforcedRequest())
	require.NoError(t, err)
	st, err := e.store.Load(fixedID)
	require.NoError(t, err)
	assert.Equal(t, g.ID, st.Freeze.GroupID)
	assert.Equal(t, 1, e.h.Calls()["CreateSecurityGroup"])
	assert.Equal(t, []string{g.ID}, e.describe(names.Retired).Settings.VpcSecurityGroupIDs)
}

// A group carrying the migration's tags under another name is not the freeze group: the run
// creates its own (the journaled name) and cleanup leaves the other one alone. Tags alone
// never make a resource ours; the journal's name must match too.
func TestAFreezeGroupTaggedOursUnderAnotherNameIsNeitherAdoptedNorDeleted(t *testing.T) {
	e := freezeEnv(t)
	src := e.describe("app")
	other, err := e.client.Network(region).CreateSecurityGroup(e.ctx(), "copied-tags", "tags copied by hand", src.VpcID,
		model.Tags{model.TagMigrationID: fixedID, model.TagSource: "app", model.TagRole: workflow.RoleFreezeGroup})
	require.NoError(t, err)
	eng := e.enforcing(e.engine(fixedID, workflow.AutoApprove))
	_, err = eng.Migrate(e.ctx(), enforcedRequest())
	require.NoError(t, err)
	st, err := e.store.Load(fixedID)
	require.NoError(t, err)
	assert.NotEqual(t, other.ID, st.Freeze.GroupID, "the group named otherwise is not adopted")
	_, err = eng.Cleanup(e.ctx(), fixedID)
	require.NoError(t, err)
	assert.True(t, e.freezeGroupGone(st.Freeze.GroupID), "the journaled freeze group is deleted")
	assert.False(t, e.freezeGroupGone(other.ID), "the group named otherwise is kept")
}

// A group of the same name that is not the migration's is never adopted.
func TestAFreezeGroupNameTakenByAnotherGroupIsRefused(t *testing.T) {
	e := freezeEnv(t)
	src := e.describe("app")
	names := workflow.NamesFor(fixedID, "app")
	_, err := e.client.Network(region).CreateSecurityGroup(e.ctx(), names.FreezeGroup, "someone else's", src.VpcID, model.Tags{"team": "web"})
	require.NoError(t, err)
	eng := e.enforcing(e.engine(fixedID, workflow.AutoApprove))
	_, err = eng.Migrate(e.ctx(), enforcedRequest())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not tagged as migration "+fixedID)
	assert.Equal(t, appGroups, e.describe("app").Settings.VpcSecurityGroupIDs, "the source was not touched")
}

// A journal lost after the enforced freeze is rebuilt from the tags, the freeze group's
// included: the new instance still gets the source's original groups, not the freeze group
// the source carries.
func TestAJournalLostAfterTheEnforcedFreezeIsRebuiltWithTheOriginalGroups(t *testing.T) {
	e := freezeEnv(t)
	eng := e.enforcing(e.engine(fixedID, workflow.AutoApprove))
	ctx := e.cancelAt(eng, func(ev workflow.Event) bool {
		return ev.Type == workflow.EventStepDone && ev.Step == workflow.StepSnapshot
	})
	_, err := eng.Migrate(ctx, enforcedRequest())
	require.ErrorIs(t, err, workflow.ErrStopped)
	require.NoError(t, os.Remove(filepath.Join(e.store.Dir(), fixedID+".json")))

	id, err := eng.Rebuild(e.ctx(), workflow.KindInstance, region, "app")
	require.NoError(t, err)
	st, err := e.store.Load(id)
	require.NoError(t, err)
	require.NotNil(t, st.Freeze)
	assert.Equal(t, appGroups, st.Freeze.OriginalGroups)
	rep, err := eng.Resume(e.ctx(), id)
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusCompleted, rep.Status)
	assert.Equal(t, appGroups, e.describe("app").Settings.VpcSecurityGroupIDs)
	assert.Equal(t, []string{st.Freeze.GroupID}, e.describe(workflow.NamesFor(fixedID, "app").Retired).Settings.VpcSecurityGroupIDs)
	assert.Equal(t, 1, e.h.Calls()["RebootDBInstance"], "a verified freeze is not done again")
}

// BenchmarkEnforcedFreezeDowntime: what the enforced freeze adds to the write downtime. On one
// simulator, two identical 400 GiB instances with the same write load and the pre-copy, one
// with --freeze none, one with --freeze enforce; it reports both downtimes (AWS clock), the
// difference and each plan estimate's error. Measured, never asserted (the AWS clock runs
// with the real one at precopySpeed).
//
//	go test ./integration/ -run '^$' -bench EnforcedFreezeDowntime -benchtime 1x
func BenchmarkEnforcedFreezeDowntime(b *testing.B) {
	for range b.N {
		e := newEnvWith(b, rdssim.Options{Speed: precopySpeed})
		e.createKey("alias/k")
		for _, id := range []string{"none-400", "enforce-400"} {
			in := simpleSource(id)
			in.AllocatedStorage = aws.Int32(400)
			e.createInstance(in)
			e.h.Workload(region, id, precopyLoad)
		}
		got := migrateMeasured(b, e, precopySpeed, []measured{{source: "none-400", gib: 400, precopy: true, freeze: workflow.FreezeNone},
			{source: "enforce-400", gib: 400, precopy: true, freeze: workflow.FreezeEnforce}})
		b.ReportMetric(got[0].downtime.Seconds(), "none-downtime-s")
		b.ReportMetric(got[1].downtime.Seconds(), "enforce-downtime-s")
		b.ReportMetric(got[1].downtime.Seconds()-got[0].downtime.Seconds(), "enforce-adds-s")
		b.ReportMetric(100*(got[0].estimate.Seconds()/got[0].downtime.Seconds()-1), "none-plan-err-%")
		b.ReportMetric(100*(got[1].estimate.Seconds()/got[1].downtime.Seconds()-1), "enforce-plan-err-%")
	}
}
