package dataplane_test

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/rdsencrypt/rdsencrypt/internal/dataplane"
	"github.com/rdsencrypt/rdsencrypt/internal/replication"
	"github.com/rdsencrypt/rdsencrypt/internal/replication/postgres"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// breakAtCatchUp returns eng with an observer that runs fault once, synchronously, when the
// catch-up step starts: the fault is in place before the step's first look at the stream.
func (e *toolEnv) breakAtCatchUp(eng *workflow.Engine, fault func()) *workflow.Engine {
	var once sync.Once
	next := eng.Observer
	eng.Observer = workflow.ObserverFunc(func(ev workflow.Event) {
		if ev.Type == workflow.EventStepStarted && ev.Step == workflow.StepReplCatchUp {
			once.Do(fault)
		}
		next.Notify(ev)
	})
	return eng
}

// requireStoppedInCatchUp checks a run stopped by a broken stream: a one-line error naming
// the source and what broke, with next as the next command; the catch-up failed and the
// freeze never began.
func (e *toolEnv) requireStoppedInCatchUp(id string, err error, broken, next string) {
	e.t.Helper()
	if err == nil {
		e.t.Fatal("the run went on with a broken stream")
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || !strings.Contains(msg, "orders") || !strings.Contains(msg, broken) || !strings.Contains(workflow.NextOf(err), next) {
		e.t.Fatalf("error %q (next %q): want one line naming orders and %q, next %q", msg, workflow.NextOf(err), broken, next)
	}
	st, lerr := e.store.Load(id)
	if lerr != nil {
		e.t.Fatal(lerr)
	}
	for _, s := range st.Steps {
		if (s.Name == workflow.StepReplCatchUp && s.Status != workflow.StepFailed) || (s.Name == workflow.StepReplFreeze && s.Status != workflow.StepPending) {
			e.t.Fatalf("step %s is %s", s.Name, s.Status)
		}
	}
	if !st.FreezeAt.IsZero() {
		e.t.Fatal("the source was frozen")
	}
}

// auditFinal waits for more commits on instance id (more than 20 since the call), stops
// the writer and audits every commit it saw against id (auditPgbench).
func (e *toolEnv) auditFinal(w *pgbenchWriter, id, what string) []dataplane.Commit {
	e.t.Helper()
	after := len(w.Commits())
	e.eventually("pgbench commits on "+id, func() bool { return len(w.Commits()) > after+20 })
	w.Stop()
	cs := w.Commits()
	e.auditPgbench(e.mustPG(endpoint(e.waitAvailable(id))), cs, what)
	return cs
}

// migrateFaulty runs the replication strategy with eng on orders and checks it stopped in
// the catch-up (requireStoppedInCatchUp) and that the source still takes writes.
func (e *toolEnv) migrateFaulty(eng *workflow.Engine, w *pgbenchWriter, id, keyARN, broken, next string) {
	e.t.Helper()
	_, err := eng.Migrate(e.ctx, workflow.MigrateRequest{Region: region, Source: "orders", KmsKey: keyARN,
		Options: workflow.RunOptions{Strategy: workflow.StrategyReplication}})
	e.requireStoppedInCatchUp(id, err, broken, next)
	e.t.Logf("stopped: %v (next: %s)", err, workflow.NextOf(err))
	stopped := len(w.Commits())
	e.eventually("pgbench commits on the source after the stop", func() bool { return len(w.Commits()) > stopped+10 })
}

// TestCatchUpSlotDroppedStopsForRollback: the migration's slot is dropped on the source (its
// sender ended first, as an operator or a cleanup job would) while the catch-up runs. The
// run stops in the catch-up, not at the cutover, with the slot named and rollback as the next
// command (the stream's start is lost); the source was never frozen and keeps taking writes;
// the rollback leaves nothing of the tool on it and no commit is lost.
func TestCatchUpSlotDroppedStopsForRollback(t *testing.T) {
	e := startTool(t, 300)
	host, port, keyARN := e.pgbenchSource("orders")
	w := startPgbench(t, host, port, 2)
	e.eventually("pgbench commits", func() bool { return len(w.Commits()) > 20 })
	const id = "lost0001"
	slot := replication.NamesFor(id).In("shop").Slot // the stream of the database pgbench writes to
	src := e.mustPG(endpoint(e.describe("orders")))
	eng := e.breakAtCatchUp(e.engine(id), func() {
		// With scan's SQL for the slot, run once as printed while the subscription reads
		// the slot (and retries after its sender is ended).
		var drop string
		e.eventually("the subscription reads the slot", func() bool {
			left, err := postgres.New().Leftovers(e.ctx, pgEndpoint(e.describe("orders")))
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(left, func(l replication.Leftover) bool { return l.Object == "slot "+slot })
			if i < 0 || left[i].Slot == nil || !left[i].Slot.Active {
				return false
			}
			drop = left[i].Drop
			return true
		})
		if _, err := src.Exec(e.ctx, drop); err != nil {
			t.Fatalf("%q as printed: %v", drop, err)
		}
	})
	e.migrateFaulty(eng, w, id, keyARN, "slot "+slot, "rdsencrypt rollback "+id)

	rep, err := e.engine(id).Rollback(e.ctx, id)
	if err != nil || rep.Status != workflow.StatusRolledBack {
		t.Fatalf("rollback: %v %+v", err, rep)
	}
	if left, err := postgres.New().Leftovers(e.ctx, pgEndpoint(e.describe("orders"))); err != nil || len(left) > 0 {
		t.Errorf("replication objects left on the source: %v %v", left, err)
	}
	if enc := e.describe("orders").StorageEncrypted; aws.ToBool(enc) {
		t.Error("the source was replaced")
	}
	e.auditFinal(w, "orders", "slot dropped, rolled back")
}

// TestCatchUpSourceRebootStopsForResume: the source reboots while the catch-up runs (every
// session ends, the subscription's connection too). With no grace the run stops in the
// catch-up, resumable (the slot keeps the stream's position); the source keeps taking
// writes; resume finds the subscription connected again and completes with no commit lost.
// With the default grace (a minute) the catch-up would wait for the stream instead.
func TestCatchUpSourceRebootStopsForResume(t *testing.T) {
	e := startTool(t, 300)
	host, port, keyARN := e.pgbenchSource("orders")
	w := startPgbench(t, host, port, 2)
	e.eventually("pgbench commits", func() bool { return len(w.Commits()) > 20 })
	const id = "boot0001"
	eng := e.breakAtCatchUp(e.engine(id), func() {
		if _, err := e.rds.RebootDBInstance(e.ctx, &rds.RebootDBInstanceInput{DBInstanceIdentifier: aws.String("orders")}); err != nil {
			t.Fatal(err)
		}
		e.waitAvailable("orders") // rebooted: the subscription's connection ended with the server
	})
	eng.StreamGrace = time.Nanosecond
	e.migrateFaulty(eng, w, id, keyARN, "stopped during the catch-up", "rdsencrypt resume "+id)

	rep, err := e.engine(id).Resume(e.ctx, id)
	if err != nil || rep.Status != workflow.StatusCompleted {
		t.Fatalf("resume: %v %+v", err, rep)
	}
	final := e.waitAvailable("orders")
	if !aws.ToBool(final.StorageEncrypted) {
		t.Fatal("orders is not encrypted after the migration")
	}
	e.auditFinal(w, "orders", "source rebooted, resumed")
}

// pgbenchSource creates a PostgreSQL instance id with logical replication on, loads
// pgbench's tables (scale 1) and the ledger, and creates a KMS key; it returns the
// instance's endpoint and the key's ARN.
func (e *toolEnv) pgbenchSource(id string) (host string, port int, keyARN string) {
	e.t.Helper()
	inst := e.createLogical(id)
	host, port = aws.ToString(inst.Endpoint.Address), int(aws.ToInt32(inst.Endpoint.Port))
	e.pgbenchInit(host, port, 1)
	return host, port, e.createKey()
}
