package dataplane_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/jackc/pgx/v5"

	"github.com/rdsencrypt/rdsencrypt/internal/replication"
	"github.com/rdsencrypt/rdsencrypt/internal/replication/postgres"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// TestLostReplicationJournalIsRollbackOnly: the journal of a replication-strategy migration
// lost with its stream running (stopped at the freeze's approval: slots and publication on the
// source, the subscription on the new instance) is rebuilt from the tags as a replication
// journal that serves the rollback alone. Resume refuses it (the old rebuild made a snapshot
// journal, whose resume would cut over to a copy of an unfrozen snapshot without the writes
// replicated since), and the rollback drops the replication objects from the source (the old
// rebuilt journal's rollback left the slots, which keep the source's WAL for ever).
func TestLostReplicationJournalIsRollbackOnly(t *testing.T) {
	e := startTool(t, 300)
	e.createLogical("orders")
	keyARN := e.createKey()
	const id = "lostrep1"
	eng := e.engine(id)
	eng.Approver = workflow.ApproverFunc(func(_ context.Context, a workflow.Approval) (workflow.Decision, error) {
		if a.Step == workflow.StepReplFreeze {
			return workflow.Quit, nil
		}
		return workflow.Approve, nil
	})
	if _, err := eng.Migrate(e.ctx, workflow.MigrateRequest{Region: region, Source: "orders", KmsKey: keyARN,
		Options: workflow.RunOptions{Strategy: workflow.StrategyReplication}}); !errors.Is(err, workflow.ErrStopped) {
		t.Fatalf("migrate up to the freeze: %v", err)
	}
	if left, err := postgres.New().Leftovers(e.ctx, pgEndpoint(e.describe("orders"))); err != nil || len(left) == 0 {
		t.Fatalf("no replication objects on the source before the journal is lost: %v %v", left, err)
	}
	if err := os.Remove(e.store.JournalPath(id)); err != nil {
		t.Fatal(err)
	}

	got, err := e.engine(id).Rebuild(e.ctx, workflow.KindInstance, region, "orders")
	if err != nil || got != id {
		t.Fatalf("rebuild: %q, %v", got, err)
	}
	_, err = e.engine(id).Resume(e.ctx, id)
	if err == nil || !strings.Contains(err.Error(), "rebuilt from tags") || !strings.Contains(workflow.NextOf(err), "rdsencrypt rollback "+id) {
		t.Fatalf("resume of the rebuilt journal: %v (next %q): want a refusal naming the rollback", err, workflow.NextOf(err))
	}
	rep, err := e.engine(id).Rollback(e.ctx, id)
	if err != nil || rep.Status != workflow.StatusRolledBack {
		t.Fatalf("rollback of the rebuilt journal: %v %+v", err, rep)
	}
	if left, err := postgres.New().Leftovers(e.ctx, pgEndpoint(e.describe("orders"))); err != nil || len(left) > 0 {
		t.Errorf("replication objects left on the source after the rollback: %v %v", left, err)
	}
	if aws.ToBool(e.describe("orders").StorageEncrypted) {
		t.Error("the source was replaced")
	}
}

// TestLostReplicationJournalAfterCutoverDrainsTheReverseStream (review V6): the journal of a
// PostgreSQL replication migration lost after its cutover, while the new instance takes writes
// and the reverse stream carries them into the retired source. Rebuilt from the tags (which
// hold no position of the reverse stream), its rollback finds the stream by its slots' names
// on the new instance, freezes the new instance and drains the stream into the retired source
// before renaming back: every row written on the new instance since the cutover is on the
// restored source, also those the stream had not applied yet (its subscription disabled: the
// deterministic stand-in for an apply worker behind). The old rollback renamed back at once
// and dropped the stream: those rows were only in the new instance's final snapshot, the
// others also on the source.
func TestLostReplicationJournalAfterCutoverDrainsTheReverseStream(t *testing.T) {
	e := startTool(t, 300)
	inst := e.createLogical("orders")
	c := e.mustPG(endpoint(inst))
	e.exec(c, "CREATE TABLE notes (id int PRIMARY KEY, v text NOT NULL)")
	e.exec(c, "INSERT INTO notes SELECT g, 'before the migration' FROM generate_series(1, 100) g")
	c.Close(e.ctx)
	key := e.createKey()
	const id = "lostrev1"
	rep, err := e.engine(id).Migrate(e.ctx, workflow.MigrateRequest{Region: region, Source: "orders", KmsKey: key,
		Options: workflow.RunOptions{Strategy: workflow.StrategyReplication}})
	newInst := e.encryptedAfter("migrate", rep, err, "orders")
	if rep.Replication == nil || !rep.Replication.ReverseAttached {
		t.Fatalf("replication %+v: want the reverse stream attached", rep.Replication)
	}
	count := func(c *pgx.Conn) string { return e.rows(c, "SELECT count(*)::text FROM notes") }

	nc := e.mustPG(endpoint(newInst))
	e.exec(nc, "INSERT INTO notes SELECT g, 'after the cutover' FROM generate_series(101, 150) g")
	oc := e.mustPG(endpoint(e.waitAvailable(workflow.NamesFor(id, "orders").Retired)))
	e.eventually("the retired source has the rows written on the new instance", func() bool { return count(oc) == "150" })
	e.exec(oc, "SET default_transaction_read_only = off") // its databases are read-only by default
	e.exec(oc, "ALTER SUBSCRIPTION "+replication.NamesFor(id).In("shop").Reverse().Subscription+" DISABLE")
	oc.Close(e.ctx)
	e.exec(nc, "INSERT INTO notes SELECT g, 'while the reverse stream lags' FROM generate_series(151, 200) g")
	if got := count(nc); got != "200" {
		t.Fatalf("the new instance has %s rows, want 200", got)
	}
	nc.Close(e.ctx) // a client session left open there makes every table compared inside the rollback's freeze

	if err := os.Remove(e.store.JournalPath(id)); err != nil {
		t.Fatal(err)
	}
	if got, err := e.engine(id).Rebuild(e.ctx, workflow.KindInstance, region, "orders"); err != nil || got != id {
		t.Fatalf("rebuild: %q, %v", got, err)
	}
	rb, err := e.engine(id).Rollback(e.ctx, id)
	if err != nil || rb.Status != workflow.StatusRolledBack {
		t.Fatalf("rollback of the rebuilt journal: %v %+v", err, rb)
	}
	restored := e.waitAvailable("orders")
	if aws.ToBool(restored.StorageEncrypted) {
		t.Fatal("orders is still the encrypted instance after the rollback")
	}
	sc := e.mustPG(endpoint(restored))
	defer sc.Close(e.ctx)
	if got := count(sc); got != "200" {
		t.Errorf("the restored source has %s rows of notes, want the 200 the new instance had: the rows written after the cutover are split between it and the new instance's final snapshot", got)
	}
	if got := e.rows(sc, "SELECT count(*)::text FROM notes WHERE v = 'while the reverse stream lags'"); got != "50" {
		t.Errorf("the restored source has %s of the 50 rows the reverse stream had not applied", got)
	}
	if left, err := postgres.New().Leftovers(e.ctx, pgEndpoint(restored)); err != nil || len(left) > 0 {
		t.Errorf("replication objects left on the source after the rollback: %v %v", left, err)
	}
	var drained bool
	e.mu.Lock()
	for _, ev := range e.events {
		drained = drained || ev.Type == workflow.EventLog && strings.Contains(ev.Message, "the reverse stream is stopped")
	}
	e.mu.Unlock()
	if !drained {
		t.Error("the rollback logged no drained reverse stream")
	}
	if _, err := e.rds.DescribeDBSnapshots(e.ctx, &rds.DescribeDBSnapshotsInput{
		DBSnapshotIdentifier: aws.String(workflow.NamesFor(id, "orders").RollbackSnapshot)}); err != nil {
		t.Errorf("the new instance's final snapshot: %v", err)
	}
}
