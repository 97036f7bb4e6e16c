package workflow

import (
	"context"
	"sync"

	"github.com/rdsencrypt/rdsencrypt/internal/awsclient"
)

// callLedger counts the AWS calls of one Migrate, Resume, Rollback or Cleanup that no step
// counts (a rollback's and a cleanup's calls are all outside the steps): the preflight reads
// made before the run exists (source, key, replicas, names, other migrations) go to the
// preflight step, once the run starts; calls after the steps, outside any step, to
// State.OtherAPICalls. With the steps' own counts the report's api_calls is then every call
// the migration made.
type callLedger struct {
	mu    sync.Mutex
	early []awsclient.CallRecord
	run   *run
}

type ledgerKey struct{}

// withCallLedger returns ctx with a ledger observing every call made with it.
func withCallLedger(ctx context.Context) context.Context {
	l := &callLedger{}
	ctx = awsclient.WithCallObserver(ctx, l.observe)
	return context.WithValue(ctx, ledgerKey{}, l)
}

func (l *callLedger) observe(rec awsclient.CallRecord) {
	l.mu.Lock()
	r := l.run
	if r == nil {
		l.early = append(l.early, rec)
	}
	l.mu.Unlock()
	if r != nil {
		r.onOutsideCall(rec)
	}
}

// attachLedger hands the calls made before the run existed to the run's preflight step, and
// the later calls outside any step to the run.
func attachLedger(ctx context.Context, r *run) {
	l, _ := ctx.Value(ledgerKey{}).(*callLedger)
	if l == nil {
		return
	}
	l.mu.Lock()
	early := l.early
	l.early, l.run = nil, r
	l.mu.Unlock()
	r.mu.Lock()
	r.ledgered = true
	r.mu.Unlock()
	for _, rec := range early {
		r.recordCall(rec, 0)
	}
}

// onOutsideCall counts a call made while no step runs; calls inside a step are counted by
// the step's own observer.
func (r *run) onOutsideCall(rec awsclient.CallRecord) {
	r.mu.Lock()
	inStep := r.step >= 0
	if !inStep {
		r.st.OtherAPICalls++
	}
	r.mu.Unlock()
	if !inStep {
		r.recordCall(rec, -2)
	}
}
