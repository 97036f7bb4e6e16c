package workflow

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/replication"
)

// A PostgreSQL replication run says, in its plan, in the cutover approval and in the
// completion report, that the new instance keeps WAL for the retired source until cleanup and
// what to do about it (review S7); MariaDB and a snapshot run do not carry the line.
func TestReverseWALIsStatedWhereTheOperatorReads(t *testing.T) {
	key := &model.Key{ARN: "arn:aws:kms:us-east-1:111122223333:key/k"}
	plan := func(engine, strategy string) *Plan {
		src := &model.Instance{ID: "ledger", Region: "us-east-1", Settings: model.InstanceSettings{Engine: engine, DBParameterGroupName: "app", AllocatedStorage: 20}}
		return buildInstancePlan(instancePlanInput{id: "abcd1234", src: src, key: key, strategy: strategy})
	}
	walLine := func(lines []string) string {
		for _, l := range lines {
			if strings.Contains(l, "keeps WAL") {
				return l
			}
		}
		return ""
	}
	p := plan("postgres", StrategyReplication)
	line := walLine(p.Warnings)
	require.NotEmpty(t, line, "plan warnings: %q", p.Warnings)
	for _, want := range []string{"ledger", NamesFor("abcd1234", "ledger").Retired, "rdsencrypt_", "_rev",
		"DDL on the new instance", "stopping", "(or rollback) before DDL on the new instance or stopping the retired one",
		// the bound (review S7): a tenth of the 20 GiB, in the new instance's own copy of the group
		"max_slot_wal_keep_size=2048 MB", "app-rdsencrypt-abcd1234", "a rollback is then refused", "rdsencrypt status abcd1234"} {
		assert.Contains(t, line, want)
	}
	assert.NotContains(t, line, "storage runs out")
	// The bound is server-wide (review T12): it is said to bound every slot on the new
	// instance, and, when the tree has cross-Region read replicas, theirs by name.
	assert.Contains(t, line, "The bound applies to every replication slot on ledger until cleanup, including cross-Region read replicas' and other tools' slots")
	assert.NotContains(t, line, "here the slot of the cross-Region")
	withReplicas := func() *Plan {
		src := &model.Instance{ID: "ledger", Region: "us-east-1", Settings: model.InstanceSettings{Engine: "postgres", DBParameterGroupName: "app", AllocatedStorage: 20}}
		near := &model.Instance{ID: "ledger-ro", Region: "us-east-1"}
		far := &model.Instance{ID: "ledger-eu", Region: "eu-west-1"}
		return buildInstancePlan(instancePlanInput{id: "abcd1234", src: src, key: key, strategy: StrategyReplication,
			replicas: []replicaNode{{inst: near}, {inst: far}}})
	}
	assert.Contains(t, walLine(withReplicas().Warnings), "here the slot of the cross-Region read replica(s) ledger-eu (eu-west-1).")
	assert.NotContains(t, walLine(withReplicas().Warnings), "ledger-ro", "a same-Region replica is named nowhere in the line")
	assert.Empty(t, walLine(plan("mariadb", StrategyReplication).Warnings), "MariaDB's reverse stream holds binlogs by retention, not a slot")
	assert.Equal(t, int64(1024), reverseWALBoundMB(5), "at least 1 GiB")
	assert.Equal(t, int64(102400), reverseWALBoundMB(1000))
	assert.Empty(t, walLine(plan("postgres", StrategySnapshot).Warnings))

	st := newState(p, MigrateRequest{})
	st.Replication = &ReplicationState{Engine: "postgres", ReverseStart: "0/16B3748"}
	r := &run{st: st, names: NamesFor(st.ID, st.Source), src: &model.Instance{ID: "ledger", Settings: model.InstanceSettings{Engine: "postgres", AllocatedStorage: 20}}}
	var a Approval
	cutoverApproval(r, &a)
	assert.Equal(t, line, walLine(a.Details), "the cutover approval carries the plan's line")

	st.Status = StatusCompleted
	unbounded := walLine(ReportOf(st).Warnings)
	assert.Contains(t, unbounded, "storage runs out", "a journal whose bound was not set says the WAL is unbounded")
	st.Replication.ReverseWALBoundMB = 2048
	assert.Equal(t, []string{line}, ReportOf(st).Warnings, "the completion report carries it")
	st.Status = StatusCleanedUp
	assert.Empty(t, ReportOf(st).Warnings, "cleanup removed the slots")
	st.Status, st.Replication.ReverseDrained = StatusRolledBack, true
	assert.Empty(t, ReportOf(st).Warnings)
}

// databasesChanged is an engine whose freeze finds a database created since the migration
// began, as the PostgreSQL engine's does.
type databasesChanged struct{ replication.Engine }

func (databasesChanged) Freeze(context.Context, replication.Endpoint, replication.Names) (replication.Frozen, error) {
	return replication.Frozen{}, fmt.Errorf("%w (created reports on shop.example): DDL is not replicated", replication.ErrDatabasesChanged)
}

func (databasesChanged) Lag(context.Context, replication.Endpoint, replication.Endpoint, replication.Names) (replication.Lag, error) {
	return replication.Lag{}, nil
}

// reverseLost is an engine whose reverse slot on the new instance was invalidated
// (max_slot_wal_keep_size reached), as the PostgreSQL engine's Lag reports it; it counts the
// freezes it was asked for.
type reverseLost struct {
	replication.Engine
	freezes *int
}

func (reverseLost) Lag(_ context.Context, src, _ replication.Endpoint, n replication.Names) (replication.Lag, error) {
	return replication.Lag{}, fmt.Errorf("replication slot %s of database shop was invalidated by the source: WAL it needs was removed (max_slot_wal_keep_size): %w", n.Slot, replication.ErrStreamLost)
}

func (e reverseLost) Freeze(context.Context, replication.Endpoint, replication.Names) (replication.Frozen, error) {
	*e.freezes++
	return replication.Frozen{}, fmt.Errorf("not expected")
}

// A rollback after cutover whose reverse stream is lost (its slot invalidated by
// max_slot_wal_keep_size, or dropped) refuses before it freezes the new instance, saying that
// the writes made there since are on it only, with keeping it (cleanup) as the next command.
func TestRollbackRefusesALostReverseStream(t *testing.T) {
	pg := model.InstanceSettings{Engine: "postgres", Port: 5432}
	old := &model.Instance{ID: "shop-old", ResourceID: "db-SRC", Endpoint: "shop-old.example", MasterUsername: "master", Settings: pg}
	newInst := &model.Instance{ID: "shop", ResourceID: "db-NEW", Endpoint: "shop.example", MasterUsername: "master", Settings: pg}
	var freezes int
	e := &Engine{Replication: map[string]replication.Engine{"postgres": reverseLost{freezes: &freezes}}, Credentials: CredentialChain{EnvPassword: "pw"}}
	st := &State{ID: "m1", Source: "shop", SourceRID: "db-SRC", Options: RunOptions{Strategy: StrategyReplication},
		Replication: &ReplicationState{Engine: "postgres", ReverseStart: "0/1", ReverseAttached: true}}
	r := &run{e: e, st: st, api: describeByRID{byRID: map[string]*model.Instance{"db-SRC": old}}}
	err := r.drainReverse(context.Background(), newInst, old)
	require.ErrorIs(t, err, replication.ErrStreamLost)
	assert.Contains(t, err.Error(), "the reverse stream from shop into shop-old is lost")
	assert.Contains(t, err.Error(), "exist only there")
	assert.Contains(t, err.Error(), "nothing was changed")
	assert.Contains(t, NextOf(err), "rdsencrypt cleanup m1")
	assert.Zero(t, freezes, "the new instance is not frozen for a rollback that cannot happen")
	assert.False(t, st.Replication.ReverseDrained)
}

// A database created on the new instance after the cutover stops a rollback with a message
// naming it and a next step that ends the stop (copy it, drop it, roll back again; or keep
// the new instance), not "rdsencrypt rollback ID", which failed the same way for ever (review S14).
func TestRollbackNamesADatabaseCreatedAfterTheCutover(t *testing.T) {
	pg := model.InstanceSettings{Engine: "postgres", Port: 5432}
	old := &model.Instance{ID: "shop-old", ResourceID: "db-SRC", Endpoint: "shop-old.example", MasterUsername: "master", Settings: pg}
	newInst := &model.Instance{ID: "shop", ResourceID: "db-NEW", Endpoint: "shop.example", MasterUsername: "master", Settings: pg}
	e := &Engine{Replication: map[string]replication.Engine{"postgres": databasesChanged{}}, Credentials: CredentialChain{EnvPassword: "pw"}}
	st := &State{ID: "m1", Source: "shop", SourceRID: "db-SRC", Options: RunOptions{Strategy: StrategyReplication},
		Replication: &ReplicationState{Engine: "postgres", ReverseStart: "0/1", ReverseAttached: true}}
	r := &run{e: e, st: st, api: describeByRID{byRID: map[string]*model.Instance{"db-SRC": old}}}
	err := r.drainReverse(context.Background(), newInst, old)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "created reports", "the database is named")
	assert.Contains(t, err.Error(), "has no reverse stream into shop-old")
	next := NextOf(err)
	assert.Contains(t, next, "drop it on shop")
	assert.Contains(t, next, "pg_dump -Fc from shop, then PGOPTIONS='-c default_transaction_read_only=off' pg_restore -C -d postgres into shop-old")
	assert.Contains(t, next, "rdsencrypt cleanup m1")
	assert.NotEqual(t, "rdsencrypt rollback m1", next)
	assert.False(t, st.Replication.ReverseDrained)
}

// status ID (review S7): each reverse slot is in the report; one that is not read, keeps more
// than SlotWALWarnBytes or was invalidated gets a warning saying what it means and what to do;
// no slot left, or no look possible, is a warning too.
func TestStatusWarnsAboutReverseSlots(t *testing.T) {
	st := &State{ID: "m1", Source: "shop", Status: StatusCompleted, Replication: &ReplicationState{Engine: "postgres", ReverseStart: "0/1", ReverseAttached: true, ReverseWALBoundMB: 2048}}
	require.True(t, KeepsReverseWAL(st))
	slot := func(name string, s replication.SlotState) Leftover { return Leftover{Object: "slot " + name, Slot: &s} }
	slots := []Leftover{
		slot("rdsencrypt_m1_a_rev", replication.SlotState{Active: true, RetainedWAL: 1 << 20, WALStatus: "reserved"}),
		slot("rdsencrypt_m1_b_rev", replication.SlotState{Active: false, RetainedWAL: 300 << 20, WALStatus: "reserved"}),
		slot("rdsencrypt_m1_c_rev", replication.SlotState{Active: true, RetainedWAL: 3 << 30, WALStatus: "unreserved"}),
		slot("rdsencrypt_m1_d_rev", replication.SlotState{Active: false, RetainedWAL: -1, WALStatus: "lost"}),
	}
	var rep Report
	AddReverseSlots(&rep, st, slots, nil)
	assert.Equal(t, slots, rep.ReverseSlots)
	require.Len(t, rep.Warnings, 3, "%q", rep.Warnings)
	assert.Contains(t, rep.Warnings[0], "reverse slot rdsencrypt_m1_b_rev on shop: NOT read by anyone, keeps 300 MiB of WAL")
	assert.Contains(t, rep.Warnings[0], "max_slot_wal_keep_size=2048 MB")
	assert.Contains(t, rep.Warnings[0], "is the retired source "+NamesFor("m1", "shop").Retired+" running? rdsencrypt cleanup m1")
	assert.Contains(t, rep.Warnings[1], "wal_status unreserved")
	assert.Contains(t, rep.Warnings[2], "invalidated")
	assert.Contains(t, rep.Warnings[2], "a rollback is refused now")

	rep = Report{}
	AddReverseSlots(&rep, st, nil, nil)
	require.Len(t, rep.Warnings, 1)
	assert.Contains(t, rep.Warnings[0], "no reverse slot of migration m1 on shop")
	rep = Report{}
	AddReverseSlots(&rep, st, nil, fmt.Errorf("connect: refused"))
	assert.Equal(t, []string{"the reverse slots on shop were not read: connect: refused"}, rep.Warnings)
}

// Cleanup's approval says the bound on the reverse slots' WAL is reset in the copy, which stays
// with the encrypted instance, also when the source change made the copy.
func TestCleanupSaysTheReverseWALBoundIsReset(t *testing.T) {
	for _, sg := range []*SourceGroupState{nil, {Original: "app", Modified: true}} {
		st := &State{ID: "m1", Source: "shop", Resources: []Resource{{Role: RoleParameterGroup, Name: "app-rdsencrypt-m1"}},
			SourceGroup: sg, Replication: &ReplicationState{Engine: "postgres", ReverseStart: "0/1", ReverseWALBoundMB: 2048}}
		notes := strings.Join(groupCopyCleanupNote(&run{st: st}), " ")
		assert.Contains(t, notes, "The DB parameter group app-rdsencrypt-m1 ")
		assert.Contains(t, notes, "stays")
		assert.Contains(t, notes, "max_slot_wal_keep_size (2048 MB, the bound on every replication slot's WAL since the cutover) goes back to the engine default")
	}
}

// walGroup is the new instance's copy of the group: its tags, and the values it sets, read,
// written and reset as DescribeDBParameters / ModifyDBParameterGroup / ResetDBParameterGroup
// do (a value it sets has Source user; a reset parameter reads as its engine default, -1).
type walGroup struct {
	model.RDS
	pg     *model.ParameterGroup
	values map[string]string
}

func (g walGroup) ParameterGroup(context.Context, string) (*model.ParameterGroup, error) {
	return g.pg, nil
}

func (g walGroup) Parameter(_ context.Context, _, name string) (model.Parameter, error) {
	if v, ok := g.values[name]; ok {
		return model.Parameter{Value: v, Source: model.ParameterSourceUser}, nil
	}
	return model.Parameter{Value: "-1", Source: "engine-default"}, nil
}

func (g walGroup) SetParameters(_ context.Context, _ string, values map[string]string) error {
	for k, v := range values {
		g.values[k] = v
	}
	return nil
}

func (g walGroup) ResetParameters(_ context.Context, _ string, names []string) error {
	for _, n := range names {
		delete(g.values, n)
	}
	return nil
}

// Review T14: the operator's own max_slot_wal_keep_size in the copied group is journaled
// before the cutover writes the tool's bound, kept when smaller, and put back at cleanup;
// only a group that set none is reset to the engine default. On the old code the copy read
// -1 (reset) after cleanup whatever it held before.
func TestReverseWALBoundKeepsTheOperatorsValue(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, before       string // "" : the group sets none
		during             int64  // the bound between cutover and cleanup
		after              string // the copy's value after cleanup ("-1": the engine default)
		sets               bool   // whether the cutover writes the tool's bound
		cleanupNoteContain string
	}{
		{name: "default", during: 2048, after: "-1", sets: true, cleanupNoteContain: "goes back to the engine default"},
		{name: "larger bound", before: "51200", during: 2048, after: "51200", sets: true, cleanupNoteContain: "goes back to 51200 MB, the value the group had before the cutover"},
		{name: "smaller bound", before: "1024", during: 1024, after: "1024", cleanupNoteContain: "goes back to 1024 MB"},
		{name: "zero", before: "0", during: 2048, after: "0", sets: true, cleanupNoteContain: "goes back to 0 MB"},
		// The operator's own -1 (Source user) is put back as theirs, not reset to the
		// default that reads the same: the old rule judged by the value and reset it.
		{name: "unbounded by the operator", before: "-1", during: 2048, after: "-1", sets: true, cleanupNoteContain: "goes back to -1 (unbounded), the value the group had"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &model.Instance{ID: "ledger", Region: "us-east-1", Settings: model.InstanceSettings{Engine: "postgres", DBParameterGroupName: "app", AllocatedStorage: 20}}
			st := newState(buildInstancePlan(instancePlanInput{id: "abcd1234", src: src, key: sampleKey, strategy: StrategyReplication}), MigrateRequest{})
			st.Resources = append(st.Resources, Resource{Role: RoleParameterGroup, Name: "app-rdsencrypt-abcd1234"})
			st.Replication = &ReplicationState{Engine: "postgres", ReverseStart: "0/1"}
			r := &run{e: &Engine{Store: newTestStore(t)}, st: st, names: NamesFor(st.ID, st.Source), src: src}
			g := walGroup{pg: &model.ParameterGroup{Name: "app-rdsencrypt-abcd1234", Tags: r.ourTags(RoleParameterGroup)}, values: map[string]string{}}
			if tc.before != "" {
				g.values[maxSlotWALKeepSize] = tc.before
			}
			r.api = g

			require.NoError(t, r.boundReverseWAL(ctx, "rdsencrypt resume abcd1234"))
			assert.Equal(t, tc.during, st.Replication.ReverseWALBoundMB)
			assert.Equal(t, fmt.Sprint(tc.during), g.values[maxSlotWALKeepSize], "the copy holds the smaller bound")
			assert.Equal(t, cmp.Or(tc.before, "-1"), st.Replication.ReverseWALBoundBefore, "the value before is journaled")
			if !tc.sets {
				assert.Equal(t, tc.before, g.values[maxSlotWALKeepSize], "the operator's smaller bound is not rewritten")
			}
			require.NoError(t, r.boundReverseWAL(ctx, "rdsencrypt resume abcd1234"), "resumed")
			assert.Equal(t, cmp.Or(tc.before, "-1"), st.Replication.ReverseWALBoundBefore, "a resume does not read the tool's own value as the operator's")

			assert.Contains(t, strings.Join(groupCopyCleanupNote(r), " "), tc.cleanupNoteContain)
			require.NoError(t, r.unboundReverseWAL(ctx))
			got, _ := g.Parameter(ctx, "", maxSlotWALKeepSize)
			assert.Equal(t, tc.after, got.Value, "after cleanup")
			_, set := g.values[maxSlotWALKeepSize]
			assert.Equal(t, tc.before != "", set, "a group that set none is reset, one that set a value gets it back")
			assert.Zero(t, st.Replication.ReverseWALBoundMB)
		})
	}
}
