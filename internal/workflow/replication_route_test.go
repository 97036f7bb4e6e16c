package workflow

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/replication"
)

// The replication strategy's freeze covers only the drain, the verification, the sequences,
// the detach and the renames: everything from its freeze to the unfreeze, nothing before.
func TestReplicationOrderFreezesOnlyForTheCutover(t *testing.T) {
	order := replicationOrder(nil, "")
	var names []string
	freeze, unfreeze := -1, -1
	for i, ps := range order {
		names = append(names, ps.name)
		_, ok := stepByName(allInstanceSteps, ps.name)
		require.True(t, ok, "step %s is in the instance route's table (journals name it)", ps.name)
		switch ps.name {
		case StepReplFreeze:
			freeze = i
		case StepUnfreeze:
			unfreeze = i
		}
	}
	require.True(t, freeze > 0 && unfreeze > freeze)
	for i, ps := range order {
		assert.Equal(t, i >= freeze && i < unfreeze, ps.downtime, "step %s", ps.name)
	}
	assert.Equal(t, []string{StepPreflight, StepReplSourceGroup, StepReplPrepare, StepReplCopyGroup, StepReplPosReplica, StepReplPosStop, StepSnapshot, StepCopy, StepRestore, StepReplPosDelete, StepModify, StepAddRoles, StepParity,
		StepReplAttach, StepReplCatchUp, StepReplAhead, StepReplFreeze, StepReplDrain, StepReplVerify, StepReplSequences, StepReplDetach,
		StepRenameSource, StepRenameTarget, StepUnfreeze, StepModifyLate, StepVerify, StepReplCleanup,
		StepManagePassword}, names) // planned only when needed: the source's parameter group (PostgreSQL, rds.logical_replication off), copy-parameter-group (MySQL/MariaDB), the temporary replica's three (RDS for MySQL), add-roles (IAM roles), the last one (a managed password)
	assert.NotContains(t, names, StepFreeze, "the SQL freeze replaces the operator's freeze")
}

// A PostgreSQL source's read replicas: the new ones are built right after the stream is
// attached, before the catch-up and the freeze (their build time is outside it); their rename
// pairs follow the unfreeze, or the primary's pair inside the freeze when asked before the
// cutover. Parents come before their children in both.
func TestReplicationOrderRecreatesReplicasBeforeTheFreeze(t *testing.T) {
	reps := []replicaNode{{inst: &model.Instance{ID: "orders-ro", Region: "us-east-1"}},
		{inst: &model.Instance{ID: "orders-ro-2", Region: "us-east-1"}, parent: "us-east-1/orders-ro"}}
	index := func(order []plannedStep, name string) int {
		return slices.IndexFunc(order, func(ps plannedStep) bool { return ps.name == name })
	}
	for _, o := range []string{ReplicasAfterCutover, ReplicasBeforeCutover} {
		order := replicationOrder(reps, o)
		attach, catchUp, freeze := index(order, StepReplAttach), index(order, StepReplCatchUp), index(order, StepReplFreeze)
		promote, unfreeze := index(order, StepRenameTarget), index(order, StepUnfreeze)
		for _, sub := range []string{"us-east-1/orders-ro", "us-east-1/orders-ro-2"} {
			for _, s := range replicaPrepare {
				i := index(order, stepName(s.name, sub))
				require.True(t, i > attach && i < catchUp, "%s %s at %d: between attach %d and catch-up %d", o, s.name, i, attach, catchUp)
				assert.False(t, order[i].downtime, "%s %s", o, s.name)
			}
			for _, s := range replicaSwap {
				i := index(order, stepName(s.name, sub))
				if o == ReplicasBeforeCutover {
					require.True(t, i > promote && i < unfreeze, "%s %s inside the freeze after the primary's pair", o, s.name)
				} else {
					require.True(t, i > unfreeze, "%s %s after the unfreeze", o, s.name)
				}
				assert.Equal(t, o == ReplicasBeforeCutover, order[i].downtime, "%s %s", o, s.name)
			}
		}
		assert.Less(t, index(order, stepName(StepReplicaCreate, "us-east-1/orders-ro")), index(order, stepName(StepReplicaCreate, "us-east-1/orders-ro-2")), "a parent before its child")
		assert.Less(t, catchUp, freeze)
	}
}

// The run's downtime of a replica step follows the journaled replica order.
func TestRunDowntimeOfReplicaSteps(t *testing.T) {
	retire, _ := stepByName(allInstanceSteps, StepReplicaRetire)
	create, _ := stepByName(allInstanceSteps, StepReplicaCreate)
	r := &run{st: &State{Options: RunOptions{Strategy: StrategyReplication, Replicas: ReplicasAfterCutover},
		Replicas: []ReplicaState{{ID: "orders-ro", Region: "us-east-1"}}}}
	assert.False(t, r.downtime(retire))
	assert.False(t, r.downtime(create))
	r.st.Options.Replicas = ReplicasBeforeCutover
	assert.True(t, r.downtime(retire))
	assert.False(t, r.downtime(create))
}

func TestRunDowntimeFollowsTheStrategy(t *testing.T) {
	snap, _ := stepByName(allInstanceSteps, StepSnapshot)
	r := &run{st: &State{Options: RunOptions{Strategy: StrategyReplication}}}
	assert.False(t, r.downtime(snap))
	r.st.Options.Strategy = StrategySnapshot
	assert.True(t, r.downtime(snap))
}

// binlogTree is a MySQL/MariaDB engine whose source passes the writes it applies on to its
// replicas, or not (log_slave_updates).
type binlogTree struct {
	replication.Engine
	cascades string
}

func (binlogTree) Preconditions(context.Context, replication.Endpoint) ([]replication.Finding, error) {
	return nil, nil
}

func (b binlogTree) Cascades(context.Context, replication.Endpoint) (string, error) {
	return b.cascades, nil
}

func (binlogTree) ReplicaLag(context.Context, replication.Endpoint, replication.Endpoint) (replication.Lag, error) {
	return replication.Lag{}, nil
}

// groupUsers answers ListInstances and the shared group's parameters.
type groupUsers struct {
	model.RDS
	insts    []model.Instance
	readOnly string
}

func (g groupUsers) ListInstances(context.Context) ([]model.Instance, error) { return g.insts, nil }

func (g groupUsers) Parameter(_ context.Context, _, name string) (model.Parameter, error) {
	if name != "read_only" {
		return model.Parameter{}, nil
	}
	return model.Parameter{Value: g.readOnly, Source: model.ParameterSourceUser}, nil
}

// A source with read replicas takes the replication strategy: PostgreSQL's tree, and MySQL's
// and MariaDB's when the engine recreates binlog replicas (replication.ReadReplicas) and the
// source logs the writes it applies (log_slave_updates); the replicas may share the source's
// parameter group unless it makes them writable. On the old code every MySQL/MariaDB source
// with replicas was refused ("recreates for PostgreSQL only so far").
func TestReplicationTakesAReplicaTree(t *testing.T) {
	ctx := context.Background()
	reps := []replicaNode{{inst: &model.Instance{ID: "orders-ro", Region: "us-east-1"}}}
	source := func(engine string) *instancePlanInput {
		return &instancePlanInput{src: &model.Instance{ID: "orders", Region: "us-east-1", Endpoint: "orders.example",
			Settings: model.InstanceSettings{Engine: engine, DBParameterGroupName: "orders-params"}}, replicas: reps}
	}
	e := &Engine{Replication: map[string]replication.Engine{"postgres": fakeEngine{}, "mysql": fakeEngine{}}}
	reason, _, _, err := e.replicationUsable(ctx, source("postgres"))
	require.NoError(t, err)
	assert.Equal(t, "no way to obtain the master password", reason, "the replicas pass; the next precondition speaks")

	// An engine that cannot recreate binlog replicas refuses them: auto picks snapshot.
	in := source("mariadb")
	reason, _, _, err = e.replicationUsable(ctx, in)
	require.NoError(t, err)
	assert.Contains(t, reason, "read replicas")
	require.NoError(t, e.chooseStrategy(ctx, in, StrategyAuto))
	assert.Equal(t, StrategySnapshot, in.strategy)
	err = e.chooseStrategy(ctx, in, StrategyReplication)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "orders")
	assert.NotContains(t, err.Error(), "\n")

	api := groupUsers{insts: []model.Instance{*source("mariadb").src,
		{ID: "orders-ro", Region: "us-east-1", Settings: model.InstanceSettings{Engine: "mariadb", DBParameterGroupName: "orders-params"}}}, readOnly: "{TrueIfReplica}"}
	for _, engine := range []string{"mariadb", "mysql"} {
		e := &Engine{Replication: map[string]replication.Engine{"mysql": binlogTree{}}, Credentials: CredentialChain{EnvPassword: "pw"},
			Clients: func(string) (model.RDS, error) { return api, nil }}
		in := source(engine)
		require.NoError(t, e.chooseStrategy(ctx, in, StrategyAuto))
		assert.Equal(t, StrategyReplication, in.strategy, "%s with a read replica on its own group: %s", engine, in.strategyReason)

		e.Replication["mysql"] = binlogTree{cascades: "log_slave_updates is OFF there: read replicas of it would not receive the writes it applies as a replica (the replication stream)"}
		in = source(engine)
		require.NoError(t, e.chooseStrategy(ctx, in, StrategyAuto))
		assert.Equal(t, StrategySnapshot, in.strategy)
		assert.Contains(t, in.strategyReason, "orders has read replicas and log_slave_updates is OFF", engine)

		e.Replication["mysql"] = binlogTree{}
		writable := api
		writable.readOnly = "0"
		e.Clients = func(string) (model.RDS, error) { return writable, nil }
		in = source(engine)
		require.NoError(t, e.chooseStrategy(ctx, in, StrategyAuto))
		assert.Equal(t, StrategySnapshot, in.strategy)
		assert.Contains(t, in.strategyReason, "read_only=0 and orders's read replicas orders-ro use it", engine)

		other := api
		other.insts = append(slices.Clone(api.insts), model.Instance{ID: "billing", Settings: model.InstanceSettings{DBParameterGroupName: "orders-params"}})
		e.Clients = func(string) (model.RDS, error) { return other, nil }
		in = source(engine)
		require.NoError(t, e.chooseStrategy(ctx, in, StrategyAuto))
		assert.Contains(t, in.strategyReason, "also used by billing,", "an instance outside the tree on the group is still refused")
		assert.NotContains(t, in.strategyReason, "orders-ro")
	}
}

// The cutover's approval names each replica's rename pair and when it runs.
func TestCutoverApprovalNamesTheReplicaPairs(t *testing.T) {
	r := &run{st: &State{ID: "m1", Source: "orders", Options: RunOptions{Strategy: StrategyReplication, Replicas: ReplicasAfterCutover},
		Replicas: []ReplicaState{{ID: "orders-ro", Region: "us-east-1"}}}}
	r.names = NamesFor("m1", "orders")
	var a Approval
	cutoverApproval(r, &a)
	n := NamesFor("m1", "orders-ro")
	text := strings.Join(a.Details, "\n")
	assert.Contains(t, text, "after writes resume")
	assert.Contains(t, text, "orders-ro -> "+n.Retired+" and "+n.Target+" -> orders-ro")
	r.st.Options.Replicas = ReplicasBeforeCutover
	a = Approval{}
	cutoverApproval(r, &a)
	assert.Contains(t, strings.Join(a.Details, "\n"), "before writes resume, each read replica's pair, covered by this approval")
}

// Which approval covers a step (review T10): a replica's promote is covered by its own retire;
// its retire by the cutover's approval only when replicas are swapped inside the freeze
// (before-cutover), else it asks, writes running. On the old code every retire asked, inside
// the freeze too.
func TestReplicaPairApprovals(t *testing.T) {
	retire, _ := stepByName(allInstanceSteps, StepReplicaRetire)
	promote, _ := stepByName(allInstanceSteps, StepReplicaPromote)
	target, _ := stepByName(allInstanceSteps, StepRenameTarget)
	create, _ := stepByName(allInstanceSteps, StepReplicaCreate)
	for _, strategy := range []string{StrategySnapshot, StrategyReplication} {
		r := &run{st: &State{Options: RunOptions{Strategy: strategy, Replicas: ReplicasAfterCutover}}, subject: "us-east-1/orders-ro"}
		assert.Equal(t, StepReplicaRetire+":us-east-1/orders-ro", r.approvalCoveredBy(promote))
		assert.Empty(t, r.approvalCoveredBy(retire), "after the cutover, writes running: the pair is approved on its own")
		assert.Empty(t, r.approvalCoveredBy(create))
		r.st.Options.Replicas = ReplicasBeforeCutover
		assert.Equal(t, StepRenameSource, r.approvalCoveredBy(retire), "inside the freeze: the cutover's approval")
		r.subject = ""
		assert.Equal(t, StepRenameSource, r.approvalCoveredBy(target))
	}
}

// Under the replication strategy an old replica swapped after the unfreeze followed the
// retired source, fed by the reverse stream: the report counts no stale reads for it.
func TestReplicaReportFollowedTheReverseStream(t *testing.T) {
	unfreeze := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	st := &State{UnfreezeAt: unfreeze, Replicas: []ReplicaState{{ID: "orders-ro", Region: "us-east-1", PromotedAt: unfreeze.Add(90 * time.Second)}}}
	assert.Equal(t, 90.0, replicaReports(st)[0].StaleReadSeconds, "snapshot strategy: frozen data until the swap")
	assert.False(t, replicaReports(st)[0].Followed)
	st.Replication = &ReplicationState{Engine: "postgres", ReverseStart: "0/1", ReverseAttached: true}
	rr := replicaReports(st)[0]
	assert.True(t, rr.Followed)
	assert.Zero(t, rr.StaleReadSeconds)
}

// The plan says what the freeze compares again after the verification ahead: the rows of the
// changed keys for PostgreSQL, the tables written since for MySQL and MariaDB.
func TestVerifyAheadSaysWhatTheFreezeComparesAgain(t *testing.T) {
	s, ok := stepByName(allInstanceSteps, StepReplAhead)
	require.True(t, ok)
	n := NamesFor("m0000001", "shop")
	for engine, want := range map[string]string{"postgres": "only those keys' rows", "mysql": "only the tables written since", "mariadb": "only the tables written since"} {
		assert.Contains(t, s.describe(&Plan{Source: "shop", Engine: engine}, n), want, engine)
	}
}
