package workflow

import (
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
		"DDL on the new instance", "stopping", "storage runs out", "(or rollback) before DDL on the new instance or stopping the retired one"} {
		assert.Contains(t, line, want)
	}
	assert.Empty(t, walLine(plan("mariadb", StrategyReplication).Warnings), "MariaDB's reverse stream holds binlogs by retention, not a slot")
	assert.Empty(t, walLine(plan("postgres", StrategySnapshot).Warnings))

	st := newState(p, MigrateRequest{})
	st.Replication = &ReplicationState{Engine: "postgres", ReverseStart: "0/16B3748"}
	r := &run{st: st, names: NamesFor(st.ID, st.Source)}
	var a Approval
	cutoverApproval(r, &a)
	assert.Equal(t, line, walLine(a.Details), "the cutover approval carries the plan's line")

	st.Status = StatusCompleted
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
	assert.Contains(t, next, "pg_dump from shop, pg_restore into shop-old")
	assert.Contains(t, next, "rdsencrypt cleanup m1")
	assert.NotEqual(t, "rdsencrypt rollback m1", next)
	assert.False(t, st.Replication.ReverseDrained)
}
