package workflow

import (
	"context"
	"strings"
	"testing"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/replication"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An RDS for MySQL source under the replication strategy: the plan names the temporary read
// replica the start position is read from (a resource, and the three steps around the
// snapshot, which is taken of it), says why, what it costs and that rollback deletes it. A
// MariaDB source keeps the crash-recovery position: no temporary replica. On the old code the
// MySQL source was refused (the engine's blocker) and no plan named a temporary replica.
func TestMySQLPlanStartsFromATemporaryReplica(t *testing.T) {
	src := sampleSource()
	src.Settings.Engine, src.Settings.DBParameterGroupName = "mysql", "orders-params"
	p := buildInstancePlan(instancePlanInput{id: "0a1b2c3d", src: src, key: sampleKey, strategy: StrategyReplication})
	replica := NamesFor("0a1b2c3d", src.ID).PositionReplica
	assert.Equal(t, src.ID+"-pos-0a1b2c3d", replica)
	assert.Equal(t, replica, p.resourceName(RolePositionReplica))
	var names []string
	steps := map[string]PlannedStep{}
	for _, s := range p.Steps {
		names = append(names, s.Name)
		steps[s.Name] = s
	}
	order := strings.Join(names, " ")
	assert.Contains(t, order, StepReplPosReplica+" "+StepReplPosStop+" "+StepSnapshot)
	assert.Contains(t, order, StepRestore+" "+StepReplPosDelete)
	assert.Contains(t, steps[StepReplPosReplica].Description, replica)
	assert.Equal(t, []string{"CreateDBInstanceReadReplica"}, steps[StepReplPosReplica].Actions)
	assert.Contains(t, steps[StepSnapshot].Description, "snapshot the temporary replica "+replica)
	assert.Contains(t, steps[StepReplAttach].Description, "at the position "+replica+" stopped at")
	assert.Contains(t, steps[StepReplPosDelete].Description, "without a final snapshot")
	for _, s := range []string{StepReplPosReplica, StepReplPosStop, StepReplPosDelete} {
		assert.True(t, steps[s].Mutating, s)
		assert.False(t, steps[s].Downtime, s)
	}
	warnings := strings.Join(p.Warnings, "\n")
	assert.Contains(t, warnings, "the start position is read from "+replica)
	assert.Contains(t, warnings, "MySQL 8.0 and later do not log")
	assert.Contains(t, warnings, "one more "+src.Settings.DBInstanceClass+" instance")
	assert.Contains(t, warnings, "rollback deletes it")

	maria := *src
	maria.Settings.Engine = "mariadb"
	mp := buildInstancePlan(instancePlanInput{id: "0a1b2c3d", src: &maria, key: sampleKey, strategy: StrategyReplication})
	assert.Empty(t, mp.resourceName(RolePositionReplica))
	snap := buildInstancePlan(instancePlanInput{id: "0a1b2c3d", src: src, key: sampleKey, strategy: StrategySnapshot})
	assert.Empty(t, snap.resourceName(RolePositionReplica))
	for _, other := range []*Plan{mp, snap} {
		for _, s := range other.Steps {
			assert.NotContains(t, []string{StepReplPosReplica, StepReplPosStop, StepReplPosDelete}, s.Name)
		}
	}
}

// RDS creates no read replica of a MySQL instance whose master password Secrets Manager
// manages, so the replication strategy refuses such a source and auto falls back, saying why.
func TestMySQLWithManagedPasswordFallsBackToSnapshot(t *testing.T) {
	ctx := context.Background()
	e := &Engine{Replication: map[string]replication.Engine{"mysql": fakeEngine{}}}
	in := &instancePlanInput{src: &model.Instance{ID: "orders", Region: "us-east-1", Endpoint: "orders.example",
		MasterUserSecretARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1", Settings: model.InstanceSettings{Engine: "mysql"}}}
	require.NoError(t, e.chooseStrategy(ctx, in, StrategyAuto))
	assert.Equal(t, StrategySnapshot, in.strategy)
	assert.Contains(t, in.strategyReason, "temporary read replica")
	err := e.chooseStrategy(ctx, in, StrategyReplication)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "\n")
	in.src.Settings.Engine = "mariadb" // MariaDB needs no temporary replica: the next precondition speaks
	reason, _, _, err := e.replicationUsable(ctx, in)
	require.NoError(t, err)
	assert.Equal(t, "no way to obtain the master password", reason)
}

// RDS for MySQL 8.4 and later have only the _source names of the replication procedures the
// engine calls by their _master names, and no SHOW MASTER STATUS: the replication strategy
// refuses such a source at plan, auto falls back to the snapshot strategy saying why, and
// --strategy replication is refused in one line naming --strategy snapshot. MySQL 8.0 and
// MariaDB pass this check (the next precondition speaks). On the old code an 8.4 source went on
// to the next precondition like 8.0.
func TestMySQL84FallsBackToSnapshot(t *testing.T) {
	ctx := context.Background()
	e := &Engine{Replication: map[string]replication.Engine{"mysql": fakeEngine{}}}
	for _, version := range []string{"8.4.3", "9.1.0"} {
		in := &instancePlanInput{src: &model.Instance{ID: "orders", Region: "us-east-1", Endpoint: "orders.example",
			Settings: model.InstanceSettings{Engine: "mysql", EngineVersion: version}}}
		require.NoError(t, e.chooseStrategy(ctx, in, StrategyAuto))
		assert.Equal(t, StrategySnapshot, in.strategy, version)
		assert.Contains(t, in.strategyReason, "auto chose snapshot: orders runs MySQL "+version+": RDS for MySQL 8.4 and later renamed the replication procedures")
		err := e.chooseStrategy(ctx, in, StrategyReplication)
		require.Error(t, err, version)
		assert.NotContains(t, err.Error(), "\n")
		assert.Contains(t, err.Error(), "--strategy snapshot")
		assert.Contains(t, err.Error(), "MySQL "+version)
	}
	for _, s := range []model.InstanceSettings{{Engine: "mysql", EngineVersion: "8.0.39"}, {Engine: "mariadb", EngineVersion: "11.4.3"}, {Engine: "mysql"}} {
		in := &instancePlanInput{src: &model.Instance{ID: "orders", Region: "us-east-1", Endpoint: "orders.example", Settings: s}}
		reason, _, _, err := e.replicationUsable(ctx, in)
		require.NoError(t, err)
		assert.Equal(t, "no way to obtain the master password", reason, s.EngineVersion)
	}
}
