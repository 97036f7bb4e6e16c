package dataplane_test

import (
	"context"
	"testing"

	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// TestTheFreezeCatchesUpFirst: writes made on the source after the verification ahead, while the
// freeze waits for its approval (a burst of some 40 MB of WAL, inserted as the approval is
// given), are caught up with before writes are frozen, not drained inside the freeze: the lag at
// the freeze is within the catch-up's bound (1 MiB). On the code before, the freeze measured the
// burst's lag and froze at once.
func TestTheFreezeCatchesUpFirst(t *testing.T) {
	e := startTool(t, 300)
	inst := e.createLogical("orders")
	sc := e.mustPG(endpoint(inst))
	e.exec(sc, "CREATE TABLE burst (id bigint PRIMARY KEY, pad text NOT NULL)")
	req := workflow.MigrateRequest{Region: region, Source: "orders", KmsKey: e.createKey(),
		Options: workflow.RunOptions{Strategy: workflow.StrategyReplication}}
	eng := e.engine("catch001")
	burst := false
	eng.Approver = workflow.ApproverFunc(func(_ context.Context, a workflow.Approval) (workflow.Decision, error) {
		if a.Step == workflow.StepReplFreeze && !burst {
			burst = true
			e.exec(sc, "INSERT INTO burst SELECT g, repeat('x', 100) FROM generate_series(1, 200000) g")
		}
		return workflow.Approve, nil
	})
	rep, err := eng.Migrate(e.ctx, req)
	final := e.encryptedAfter("migrate", rep, err, "orders")
	if !burst {
		t.Fatal("the freeze's approval was never asked")
	}
	rp := rep.Replication
	if rp == nil || rp.LagAtFreezeBytes < 0 || rp.LagAtFreezeBytes > 1<<20 {
		t.Fatalf("lag at the freeze %+v: want it caught up (at most 1 MiB) after the burst", rp)
	}
	var n int
	if err := e.mustPG(endpoint(final)).QueryRow(e.ctx, "SELECT count(*) FROM burst").Scan(&n); err != nil || n != 200000 {
		t.Fatalf("the burst on the new instance: %d rows, %v", n, err)
	}
	t.Logf("lag at the freeze %d bytes, drain %.1f s (local clock)", rp.LagAtFreezeBytes, rp.DrainSeconds)
}
