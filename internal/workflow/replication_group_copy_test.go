package workflow

import (
	"context"
	"strings"
	"testing"

	"github.com/rdsencrypt/rdsencrypt/internal/model"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A MySQL/MariaDB replication plan lists the copy of the source's parameter group as a step
// and a resource, named for the migration, and says the retired source stays read-only; a
// PostgreSQL replication plan makes one too, a snapshot plan none.
func TestReplicationPlanCopiesTheParameterGroup(t *testing.T) {
	src := sampleSource()
	src.Settings.Engine, src.Settings.DBParameterGroupName = "mariadb", "orders-params"
	p := buildInstancePlan(instancePlanInput{id: "0a1b2c3d", src: src, key: sampleKey, strategy: StrategyReplication})
	want := "orders-params-rdsencrypt-0a1b2c3d"
	assert.Equal(t, want, p.resourceName(RoleParameterGroup))
	var step *PlannedStep
	for i := range p.Steps {
		if p.Steps[i].Name == StepReplCopyGroup {
			step = &p.Steps[i]
		}
	}
	require.NotNil(t, step, "no %s step", StepReplCopyGroup)
	assert.Contains(t, step.Description, want)
	assert.True(t, step.Mutating)
	assert.Contains(t, strings.Join(p.Warnings, "\n"), "stays read-only until cleanup")
	assert.NotContains(t, strings.Join(p.Warnings, "\n"), "accepts writes again")

	snap := buildInstancePlan(instancePlanInput{id: "0a1b2c3d", src: src, key: sampleKey, strategy: StrategySnapshot})
	assert.Empty(t, snap.resourceName(RoleParameterGroup))
	for _, s := range snap.Steps {
		assert.NotEqual(t, StepReplCopyGroup, s.Name)
	}

	// PostgreSQL: the copy carries the bound on the reverse slots' WAL (review S7), so the new
	// instance gets one too; the plan says a change to the source's group does not reach it.
	pgSrc := *src
	pgSrc.Settings.Engine = "postgres"
	pg := buildInstancePlan(instancePlanInput{id: "0a1b2c3d", src: &pgSrc, key: sampleKey, strategy: StrategyReplication})
	assert.Equal(t, want, pg.resourceName(RoleParameterGroup))
	step = nil
	for i := range pg.Steps {
		if pg.Steps[i].Name == StepReplCopyGroup {
			step = &pg.Steps[i]
		}
	}
	require.NotNil(t, step, "no %s step in the PostgreSQL plan", StepReplCopyGroup)
	assert.Contains(t, step.Description, "bound on the WAL its replication slots keep (max_slot_wal_keep_size: every slot on it until cleanup, the reverse ones included)")
	warnings := strings.Join(pg.Warnings, "\n")
	assert.Contains(t, warnings, "max_slot_wal_keep_size, every slot on it until cleanup, the reverse ones included", "the group copy note says the bound is server-wide (review T12)")
	assert.Contains(t, warnings, "a later change to orders-params does not reach the new instance")
	assert.NotContains(t, warnings, "read_only")
}

// The copy's name keeps AWS's identifier rules however long the source's group name is.
func TestParameterGroupCopyName(t *testing.T) {
	assert.Equal(t, "app-rdsencrypt-0a1b2c3d", ParameterGroupCopyName("app", "0a1b2c3d"))
	long := ParameterGroupCopyName(strings.Repeat("a", 240)+"-b", "0a1b2c3d")
	assert.Len(t, long, 255)
	assert.NotContains(t, long, "--")
	assert.True(t, strings.HasSuffix(long, "-rdsencrypt-0a1b2c3d"))
	// AWS refuses a period in a group's name: the default groups' one becomes a hyphen.
	assert.Equal(t, "default-postgres15-rdsencrypt-0a1b2c3d", ParameterGroupCopyName("default.postgres15", "0a1b2c3d"))
	assert.Equal(t, "default-mariadb10-11-rdsencrypt-0a1b2c3d", ParameterGroupCopyName("default.mariadb10.11", "0a1b2c3d"))
	assert.Equal(t, "pg-9x-y-rdsencrypt-0a1b2c3d", ParameterGroupCopyName("9x..y_", "0a1b2c3d"))
}

// copyGroups answers ParameterGroup with the given group and records the parameter writes.
type copyGroups struct {
	model.RDS
	pg     *model.ParameterGroup
	writes *[]string
}

func (c copyGroups) ParameterGroup(context.Context, string) (*model.ParameterGroup, error) {
	return c.pg, nil
}

func (c copyGroups) SetParameters(_ context.Context, group string, _ map[string]string) error {
	*c.writes = append(*c.writes, group)
	return nil
}

// mariadbWithForeignCopy is a MariaDB replication run whose parameter group copy is tagged
// as another migration's, and the list of groups it writes.
func mariadbWithForeignCopy() (r *run, copyName string, writes *[]string) {
	src := sampleSource()
	src.Settings.Engine, src.Settings.DBParameterGroupName = "mariadb", "orders-params"
	st := newState(buildInstancePlan(instancePlanInput{id: "0a1b2c3d", src: src, key: sampleKey, strategy: StrategyReplication}), MigrateRequest{})
	st.Replication = &ReplicationState{ReadOnlyGroup: "orders-params", ReadOnlyBefore: "0"}
	copyName, writes = "orders-params-rdsencrypt-0a1b2c3d", &[]string{}
	foreign := &model.ParameterGroup{Name: copyName, Tags: model.Tags{model.TagMigrationID: "other", model.TagRole: RoleParameterGroup}}
	return &run{e: &Engine{}, st: st, api: copyGroups{pg: foreign, writes: writes}}, copyName, writes
}

// Review S6: read_only is written to the copy only while its tags say it is this migration's:
// a copy deleted and made again under the same name by someone else is left alone. On the old
// code the journal's name alone was enough.
func TestCopyTagsRecheckedBeforeEveryWrite(t *testing.T) {
	ctx := context.Background()
	r, copyName, writes := mariadbWithForeignCopy()
	st := r.st
	err := r.thawGroup(ctx, copyName)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not tagged as migration "+st.ID)
	require.NoError(t, r.thawGroup(ctx, "orders-params"), "the source's group is the operator's own: no copy tags to check")
	assert.Equal(t, []string{"orders-params"}, *writes)

	r.api = copyGroups{pg: nil, writes: writes}
	require.Error(t, r.thawGroup(ctx, copyName), "a copy gone is not written")
	ours := &model.ParameterGroup{Name: copyName, Tags: r.ourTags(RoleParameterGroup)}
	r.api = copyGroups{pg: ours, writes: writes}
	require.NoError(t, r.thawGroup(ctx, copyName))
	assert.Equal(t, []string{"orders-params", copyName}, *writes)
}

// Review T7: the freeze checks the copy's tags before it writes read_only anywhere: a copy
// that is no longer this migration's stops it with the source's group untouched (production
// still writable). On the old code the source's group was written first.
func TestFreezeChecksTheCopyBeforeWritingTheSource(t *testing.T) {
	ctx := context.Background()
	r, copyName, writes := mariadbWithForeignCopy()
	require.Equal(t, []string{"orders-params", copyName}, r.frozenGroups())
	require.Error(t, r.freezeGroup(ctx))
	assert.Empty(t, *writes, "nothing written")

	r.api = copyGroups{pg: &model.ParameterGroup{Name: copyName, Tags: r.ourTags(RoleParameterGroup)}, writes: writes}
	require.NoError(t, r.freezeGroup(ctx))
	assert.Equal(t, []string{"orders-params", copyName}, *writes)
}

// resets records ResetParameters calls and fails the test on SetParameters.
type resets struct {
	copyGroups
	t     *testing.T
	reset *[]string
}

func (r resets) ResetParameters(_ context.Context, group string, names []string) error {
	*r.reset = append(*r.reset, group+":"+strings.Join(names, ","))
	return nil
}

func (r resets) SetParameters(context.Context, string, map[string]string) error {
	r.t.Fatal("read_only was set explicitly where it was the engine default")
	return nil
}

// Review S12: where read_only was the engine default in the source's group, rollback and
// cleanup put the default back with a reset, not an explicit value a replica made later with
// the group would inherit. Judged by DescribeDBParameters' Source when journaled (a default
// that reads "0" is still a default: the old rule, by value, wrote read_only=0), by the value
// in a journal from before the Source was kept ({TrueIfReplica} is the default).
func TestThawRestoresTheEngineDefault(t *testing.T) {
	ctx := context.Background()
	src := sampleSource()
	src.Settings.Engine, src.Settings.DBParameterGroupName = "mariadb", "orders-params"
	for _, before := range []ReplicationState{
		{ReadOnlyBefore: "{TrueIfReplica}"},
		{ReadOnlyBefore: "{TrueIfReplica}", ReadOnlyBeforeSource: "system"},
		{ReadOnlyBefore: "0", ReadOnlyBeforeSource: "engine-default"},
	} {
		st := newState(buildInstancePlan(instancePlanInput{id: "0a1b2c3d", src: src, key: sampleKey, strategy: StrategyReplication}), MigrateRequest{})
		st.Replication = &before
		st.Replication.ReadOnlyGroup = "orders-params"
		var done []string
		r := &run{e: &Engine{}, st: st, api: resets{t: t, reset: &done}}
		require.NoError(t, r.thawGroup(ctx, "orders-params"))
		assert.Equal(t, []string{"orders-params:read_only"}, done, "before %+v", before)
	}
}
