package dataplane_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rdsencrypt/rdsencrypt/internal/dataplane"
	"github.com/rdsencrypt/rdsencrypt/internal/replication"
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
	old.Close(e.ctx) // a client session left open there makes every table compared inside the rollback's freeze
	e.boundedReverseSlots(id)

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
	// ... and reports it, as the forward cutover does: every table, some of them (those
	// pgbench does not write) standing from the pass ahead of the new instance's freeze.
	rb, _, err := e.engine(id).Status(id)
	if err != nil {
		t.Fatal(err)
	}
	rd := rb.Replication.ReverseDrain
	if rd == nil || rd.TablesVerified < 5 || rd.RowsVerified < 100000 || rd.TablesAhead < 1 || rd.TablesAhead+rd.TablesInFreeze != rd.TablesVerified {
		t.Fatalf("the rollback's report: reverse drain %+v, want every table verified, some ahead of the freeze", rd)
	}
	left, err := postgres.New().Leftovers(e.ctx, pgEndpoint(final))
	if err != nil || len(left) > 0 {
		t.Errorf("replication objects left on the source after the rollback: %v %v", left, err)
	}
	var late []dataplane.Commit
	for _, c := range cs {
		if !c.At.Before(rollbackAt) {
			late = append(late, c)
		}
	}
	gap, gapAt := dataplane.LongestGap(cs)
	rollbackGap, _ := dataplane.LongestGap(late)
	t.Logf("replication then rollback: %d commits (%d after the rollback began); longest gap between commits %.1f s at %s, %.1f s from the rollback on (local clock); "+
		"the migration's write downtime %.0f s (AWS clock, report); %s; reverse drain %+v", len(cs), len(late), gap.Seconds(), gapAt.Format("15:04:05.000"),
		rollbackGap.Seconds(), rep.DowntimeSeconds, verified, *rd)
}

// boundedReverseSlots (review S7): the new instance runs with max_slot_wal_keep_size from its own
// copy of the group (a tenth of its 20 GiB), and status reads each reverse slot: read, then,
// with the retired source's subscription of shop disabled while pgbench writes, not read and
// keeping more WAL, with a warning; enabled again, read again (the rollback that follows
// proves no write was lost meanwhile).
func (e *toolEnv) boundedReverseSlots(id string) {
	e.t.Helper()
	eng := e.engine(id)
	_, st, err := eng.Status(id)
	if err != nil {
		e.t.Fatal(err)
	}
	if got := st.Replication.ReverseWALBoundMB; got != 2048 {
		e.t.Fatalf("reverse WAL bound %d MB, want 2048 (a tenth of 20 GiB)", got)
	}
	nc := e.mustPG(endpoint(e.waitAvailable("orders")))
	if got := e.rows(nc, "SELECT setting || unit FROM pg_settings WHERE name = 'max_slot_wal_keep_size'"); got != "2048MB" {
		e.t.Fatalf("the new instance runs with max_slot_wal_keep_size %q, want 2048MB", got)
	}
	nc.Close(e.ctx)
	slot := func() (workflow.Leftover, []string) {
		slots, err := eng.ReverseSlots(e.ctx, st)
		var r workflow.Report
		workflow.AddReverseSlots(&r, st, slots, err)
		for _, l := range slots {
			if strings.HasPrefix(l.Object, "slot "+replication.NamesFor(id).In("shop").Reverse().Slot) {
				return l, r.Warnings
			}
		}
		e.t.Fatalf("no reverse slot of shop in %v (%v)", slots, err)
		return workflow.Leftover{}, nil
	}
	e.eventually("the reverse slot of shop is read", func() bool { l, w := slot(); return l.Slot.Active && len(w) == 0 })
	l, _ := slot()
	if l.Slot.RetainedWAL < 0 || (l.Slot.WALStatus != "reserved" && l.Slot.WALStatus != "extended") {
		e.t.Fatalf("reverse slot %+v: want WAL kept and wal_status reserved or extended", *l.Slot)
	}
	sub := replication.NamesFor(id).In("shop").Reverse().Subscription
	oc := e.mustPG(endpoint(e.waitAvailable(workflow.NamesFor(id, "orders").Retired)))
	defer oc.Close(e.ctx)
	e.exec(oc, "SET default_transaction_read_only = off") // the retired source's databases are read-only by default
	e.exec(oc, "ALTER SUBSCRIPTION "+sub+" DISABLE")
	var stopped workflow.Leftover
	var warnings []string
	e.eventually("the reverse slot, not read, keeps more WAL while pgbench writes, with a warning", func() bool {
		stopped, warnings = slot()
		return !stopped.Slot.Active && stopped.Slot.RetainedWAL > l.Slot.RetainedWAL && len(warnings) == 1 && strings.Contains(warnings[0], "NOT read by anyone")
	})
	e.exec(oc, "ALTER SUBSCRIPTION "+sub+" ENABLE")
	e.eventually("the reverse slot of shop is read again", func() bool { l, _ := slot(); return l.Slot.Active })
	e.t.Logf("reverse slot of shop: %+v; not read for a while: %+v, warning %q", *l.Slot, *stopped.Slot, warnings[0])
}
