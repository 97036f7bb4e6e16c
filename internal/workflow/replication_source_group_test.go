package workflow

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/replication"
)

// groupValues answers Parameter from a map; planSourceChange calls nothing else.
type groupValues struct {
	model.RDS
	values map[string]string // group/parameter -> value
}

func (g groupValues) Parameter(_ context.Context, group, name string) (model.Parameter, error) {
	return model.Parameter{Value: g.values[group+"/"+name], Source: model.ParameterSourceUser}, nil
}

// The plan changes the source only when the engine says rds.logical_replication is off and
// the group does not hold 1 already; a group that holds it and waits for a reboot stays a
// blocker that says to reboot.
func TestPlanSourceChangeOnlyWhenTheGroupLacksIt(t *testing.T) {
	src := &model.Instance{ID: "ledger", ParameterApplyStatus: model.ParameterPendingReboot,
		Settings: model.InstanceSettings{DBParameterGroupName: "app"}}
	off := replication.Finding{Severity: replication.Blocker, What: "rds.logical_replication is off", Parameter: "rds.logical_replication", Value: "1"}
	other := replication.Finding{Severity: replication.Warning, What: "tables without a primary key"}
	ctx := context.Background()

	fs, change, err := planSourceChange(ctx, groupValues{values: map[string]string{"app/rds.logical_replication": "0"}}, src, []replication.Finding{other, off})
	require.NoError(t, err)
	assert.True(t, change)
	assert.Equal(t, []replication.Finding{other}, fs, "the finding the change lifts is gone")

	fs, change, err = planSourceChange(ctx, groupValues{values: map[string]string{"app/rds.logical_replication": "1"}}, src, []replication.Finding{off})
	require.NoError(t, err)
	assert.False(t, change)
	require.Len(t, blockers(fs), 1)
	assert.Contains(t, fs[0].Do, "reboot ledger")

	fs, change, err = planSourceChange(ctx, groupValues{}, src, []replication.Finding{other})
	require.NoError(t, err)
	assert.False(t, change)
	assert.Equal(t, []replication.Finding{other}, fs)
}

// The change's step is planned only with a source change, before the publication and slot.
func TestSourceChangeStepIsPlannedOnlyWhenNeeded(t *testing.T) {
	src := &model.Instance{ID: "ledger", Region: "us-east-1", Settings: model.InstanceSettings{Engine: "postgres", DBParameterGroupName: "app", AllocatedStorage: 20}}
	key := &model.Key{ARN: "arn:aws:kms:us-east-1:111122223333:key/k"}
	in := instancePlanInput{id: "abcd1234", src: src, key: key, strategy: StrategyReplication}
	names := func(p *Plan) []string {
		var out []string
		for _, s := range p.Steps {
			out = append(out, s.Name)
		}
		return out
	}
	p := buildInstancePlan(in)
	assert.NotContains(t, names(p), StepReplSourceGroup)
	assert.Nil(t, p.SourceChange)
	assert.NotContains(t, p.Acknowledgements, AckSourceReboot)

	in.sourceChange = true
	p = buildInstancePlan(in)
	assert.Equal(t, []string{StepPreflight, StepReplSourceGroup, StepReplPrepare}, names(p)[:3])
	require.NotNil(t, p.SourceChange)
	assert.Equal(t, "app-rdsencrypt-abcd1234", p.SourceChange.Copy)
	tags := migrationTags("abcd1234", "ledger", RoleParameterGroup)
	tags[TagOriginalParameterGroup] = "app" // a journal rebuilt from tags knows what to put back (review S19)
	assert.Equal(t, tags, p.SourceChange.Tags)
	assert.Contains(t, p.Acknowledgements, AckSourceReboot)
	assert.NotContains(t, names(p), StepReplCopyGroup, "the source change makes the copy")
	assert.Contains(t, p.Resources, PlannedResource{Role: RoleParameterGroup, Type: TypeDBParameterGroup, Region: "us-east-1", Name: "app-rdsencrypt-abcd1234"})
	st := newState(p, MigrateRequest{})
	require.NotNil(t, st.SourceGroup, "the source's group is journaled before any call")
	assert.Equal(t, SourceGroupState{Original: "app"}, *st.SourceGroup)
	r := &run{st: st}
	assert.Equal(t, "app-rdsencrypt-abcd1234", r.groupCopy(), "the copy's name is journaled before any call")
}

// slotEngine is a PostgreSQL engine whose source holds the given logical slots.
type slotEngine struct {
	fakeEngine
	slots []string
}

func (s slotEngine) LogicalSlots(context.Context, replication.Endpoint) ([]string, error) {
	return s.slots, nil
}

// noChange answers the source's description and fails the test on a modify or a reboot.
type noChange struct {
	describeByRID
	t *testing.T
}

func (n noChange) ModifyInstance(context.Context, string, model.InstanceSettings, []model.Setting) (*model.Instance, error) {
	n.t.Fatal("the source was modified")
	return nil, nil
}

func (n noChange) RebootInstance(context.Context, string) (*model.Instance, error) {
	n.t.Fatal("the source was rebooted")
	return nil, nil
}

// Review S10: rollback does not put the source back on a group with logical decoding off (and
// reboot it) while a logical slot is on it, someone else's: PostgreSQL would not start. It
// stops with a one-line error naming the slots and the next command. On the old code the
// source was modified and rebooted.
func TestRollbackRefusesTheRebootWithForeignLogicalSlots(t *testing.T) {
	ctx := context.Background()
	src := &model.Instance{ID: "ledger", ResourceID: "db-SRC", Status: model.StatusAvailable, MasterUserSecretARN: "arn:src", MasterUsername: "master",
		Region: "us-east-1", Settings: model.InstanceSettings{Engine: "postgres", DBParameterGroupName: "app-rdsencrypt-abcd1234", AllocatedStorage: 20}}
	planned := *src
	planned.Settings.DBParameterGroupName = "app"
	p := buildInstancePlan(instancePlanInput{id: "abcd1234", src: &planned, key: &model.Key{ARN: "arn:aws:kms:us-east-1:111122223333:key/k"},
		strategy: StrategyReplication, sourceChange: true})
	st := newState(p, MigrateRequest{})
	st.SourceRID, st.SourceGroup.Modified = "db-SRC", true
	e := &Engine{Replication: map[string]replication.Engine{"postgres": slotEngine{slots: []string{"debezium", "dms_1"}}},
		Credentials: CredentialChain{Secrets: func(string) model.Secrets { return fakeSecrets{"arn:src": "pw"} }}}
	r := &run{e: e, st: st, api: noChange{describeByRID: describeByRID{byRID: map[string]*model.Instance{"db-SRC": src}}, t: t}}
	err := r.undoSourceGroup(ctx)
	require.ErrorIs(t, err, errForeignSlots)
	assert.Contains(t, err.Error(), "debezium, dms_1")
	assert.Equal(t, "drop them on ledger (SELECT pg_drop_replication_slot(name)), then rdsencrypt rollback "+st.ID, NextOf(err))
	assert.NotContains(t, err.Error(), "\n")
}

// Review S19: a journal rebuilt from the tags of a copy made without the original group's tag
// cannot tell which group to put back: rollback touches nothing and says, on one line, the
// commands that put it back by hand. The journal's own slots, which a rebuilt journal does not
// list, are named as the migration's.
func TestRollbackOfARebuiltJournalWithoutTheOriginalSaysWhatToRun(t *testing.T) {
	ctx := context.Background()
	src := &model.Instance{ID: "ledger", ResourceID: "db-SRC", Status: model.StatusAvailable, MasterUserSecretARN: "arn:src", MasterUsername: "master",
		Region: "us-east-1", Settings: model.InstanceSettings{Engine: "postgres", DBParameterGroupName: "app-rdsencrypt-abcd1234", AllocatedStorage: 20}}
	st := &State{ID: "abcd1234", Kind: KindInstance, Region: "us-east-1", Source: "ledger", SourceRID: "db-SRC",
		Resources:   []Resource{{Role: RoleParameterGroup, Type: TypeDBParameterGroup, Region: "us-east-1", Name: "app-rdsencrypt-abcd1234"}},
		SourceGroup: &SourceGroupState{Modified: true}}
	engine := func(slots ...string) *Engine {
		return &Engine{Replication: map[string]replication.Engine{"postgres": slotEngine{slots: slots}},
			Credentials: CredentialChain{Secrets: func(string) model.Secrets { return fakeSecrets{"arn:src": "pw"} }}}
	}
	api := noChange{describeByRID: describeByRID{byRID: map[string]*model.Instance{"db-SRC": src}}, t: t}
	err := (&run{e: engine(), st: st, api: api}).undoSourceGroup(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "does not say which group it copied")
	assert.Equal(t, "aws rds describe-db-parameter-groups --db-parameter-group-name app-rdsencrypt-abcd1234 (its description names the group it copies), "+
		"then aws rds modify-db-instance --db-instance-identifier ledger --db-parameter-group-name <that group> --apply-immediately, "+
		"then aws rds reboot-db-instance --db-instance-identifier ledger, then rdsencrypt rollback abcd1234", NextOf(err))
	assert.NotContains(t, err.Error(), "\n")

	ours := replication.NamesFor("abcd1234").In("ledger").Slot
	err = (&run{e: engine(ours), st: st, api: api}).undoSourceGroup(ctx)
	require.ErrorIs(t, err, errForeignSlots)
	assert.Contains(t, err.Error(), "the journal does not list")
	assert.NotContains(t, err.Error(), "not of this migration")
}

// A journal rebuilt before any encrypted resource existed does not know the KMS key: resume
// refuses it and says to roll back.
func TestAKeylessRebuiltJournalCanOnlyBeRolledBack(t *testing.T) {
	r := &run{e: &Engine{}, st: &State{ID: "abcd1234", Source: "ledger"}}
	_, err := r.reloadKey(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "can only be rolled back")
	assert.Equal(t, "rdsencrypt rollback abcd1234, then plan again", NextOf(err))
}
