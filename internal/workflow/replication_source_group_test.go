package workflow

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/replication"
)

// groupValues answers ParameterValue from a map; planSourceChange calls nothing else.
type groupValues struct {
	model.RDS
	values map[string]string // group/parameter -> value
}

func (g groupValues) ParameterValue(_ context.Context, group, name string) (string, error) {
	return g.values[group+"/"+name], nil
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
	assert.Equal(t, migrationTags("abcd1234", "ledger", RoleParameterGroup), p.SourceChange.Tags)
	assert.Contains(t, p.Acknowledgements, AckSourceReboot)
	assert.NotContains(t, names(p), StepReplCopyGroup, "the source change makes the copy")
	assert.Contains(t, p.Resources, PlannedResource{Role: RoleParameterGroup, Type: TypeDBParameterGroup, Region: "us-east-1", Name: "app-rdsencrypt-abcd1234"})
	st := newState(p, MigrateRequest{})
	require.NotNil(t, st.SourceGroup, "the source's group is journaled before any call")
	assert.Equal(t, SourceGroupState{Original: "app"}, *st.SourceGroup)
	r := &run{st: st}
	assert.Equal(t, "app-rdsencrypt-abcd1234", r.groupCopy(), "the copy's name is journaled before any call")
}
