package dataplane_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

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
