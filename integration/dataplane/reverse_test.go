package dataplane_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rdsencrypt/rdsencrypt/internal/replication/postgres"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// TestReplicationRollbackAfterCutoverLosesNoCommit: PostgreSQL's reverse stream. pgbench
// writes through the instance's endpoint for the whole run: the replication migration, then,
// once its writes land on the encrypted instance and stream back into the retired source
// (which refuses the application's own writes), a rollback that freezes the encrypted
// instance, drains the reverse stream, verifies both and renames back. Every transaction
// pgbench saw commit, before, during and after the cutover and the rollback, is on the source
// exactly once, and no replication object is left on it (docs/replication.md, "The reverse
// stream (PostgreSQL)").
func TestReplicationRollbackAfterCutoverLosesNoCommit(t *testing.T) {
	e := startTool(t, 300)
	inst := e.createLogical("orders")
	host, port := aws.ToString(inst.Endpoint.Address), int(aws.ToInt32(inst.Endpoint.Port))
	e.pgbenchInit(host, port, 1)
	key := e.createKey()
	w := startPgbench(t, host, port, 2)
	e.eventually("pgbench commits", func() bool { return len(w.Commits()) > 20 })

	const id = "back0001"
	rep, err := e.engine(id).Migrate(e.ctx, workflow.MigrateRequest{Region: region, Source: "orders", KmsKey: key,
		Options: workflow.RunOptions{Strategy: workflow.StrategyReplication}})
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if rep.Status != workflow.StatusCompleted || rep.Replication == nil || rep.Replication.ReverseStart == "" || !rep.Replication.ReverseAttached {
		t.Fatalf("migration ended %s, replication %+v: want completed with the reverse stream attached", rep.Status, rep.Replication)
	}
	if !aws.ToBool(e.waitAvailable("orders").StorageEncrypted) {
		t.Fatal("orders is not encrypted after the migration")
	}
	cutover := len(w.Commits())
	e.eventually("pgbench commits on the encrypted instance", func() bool { return len(w.Commits()) > cutover+30 })

	// The retired source follows the new instance, and refuses the application's writes.
	retired := e.waitAvailable(workflow.NamesFor(id, "orders").Retired)
	newest := e.rows(e.mustPG(endpoint(e.waitAvailable("orders"))), "SELECT max(id)::text FROM ledger")
	old := e.mustPG(endpoint(retired))
	e.eventually("the retired source has the ledger row "+newest+" written on the new instance", func() bool {
		var have bool
		return old.QueryRow(e.ctx, "SELECT EXISTS (SELECT 1 FROM ledger WHERE id = "+newest+")").Scan(&have) == nil && have
	})
	_, err = old.Exec(e.ctx, "INSERT INTO ledger (token) VALUES ('written to the retired source')")
	if pe, ok := err.(*pgconn.PgError); !ok || pe.Code != "25006" { // read_only_sql_transaction
		t.Fatalf("a write to the retired source: %v, want it refused as read-only", err)
	}

	rollbackAt := time.Now()
	final, cs := e.rollbackUnderPgbench(id, w)
	fc := e.mustPG(endpoint(final))
	e.auditPgbench(fc, cs, "replication then rollback after cutover")
	// The rollback compared every table of both instances (row counts and checksums) before
	// renaming back.
	var verified string
	e.mu.Lock()
	for _, ev := range e.events {
		if ev.Type == workflow.EventLog && strings.Contains(ev.Message, "the reverse stream is stopped") {
			verified = ev.Message
		}
	}
	e.mu.Unlock()
	if verified == "" {
		t.Error("the rollback logged no verified reverse drain")
	}
	left, err := postgres.New().Leftovers(e.ctx, pgEndpoint(final))
	if err != nil || len(left) > 0 {
		t.Errorf("replication objects left on the source after the rollback: %v %v", left, err)
	}
	var late []commit
	for _, c := range cs {
		if !c.at.Before(rollbackAt) {
			late = append(late, c)
		}
	}
	gap, gapAt := longestGap(cs)
	rollbackGap, _ := longestGap(late)
	t.Logf("replication then rollback: %d commits (%d after the rollback began); longest gap between commits %.1f s at %s, %.1f s from the rollback on (local clock); "+
		"the migration's write downtime %.0f s (AWS clock, report); %s", len(cs), len(late), gap.Seconds(), gapAt.Format("15:04:05.000"),
		rollbackGap.Seconds(), rep.DowntimeSeconds, verified)
}
