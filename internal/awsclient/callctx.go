package awsclient

import (
	"context"
	"time"
)

// CallRecord describes one AWS API call after it completed.
type CallRecord struct {
	Action    string
	Region    string
	Target    string // identifier or ARN the call was about
	RequestID string
	AWSTime   time.Time // from the response Date header; zero when there was no response
	Err       error     // nil on success, else an *Error
	Attempts  int       // HTTP attempts made, retries included
	Duration  time.Duration
	// Coalesced is how many lookups this one call served when Config.CoalesceWindow merged
	// them (Target then lists their identifiers); 0 for an ordinary call. Only the first
	// caller still waiting sees the record through its context's call observer, so counts
	// of calls per context add up to the calls made.
	Coalesced int
}

type callObserverKey struct{}

// WithCallObserver returns a context whose AWS calls are reported to fn, in addition to
// Config.OnCall. The workflow uses it to count calls per step and write the audit trail.
func WithCallObserver(ctx context.Context, fn func(CallRecord)) context.Context {
	if prev := CallObserverFrom(ctx); prev != nil {
		next := fn
		fn = func(r CallRecord) { prev(r); next(r) }
	}
	return context.WithValue(ctx, callObserverKey{}, fn)
}

// CallObserverFrom returns the call observer of ctx, or nil.
func CallObserverFrom(ctx context.Context) func(CallRecord) {
	fn, _ := ctx.Value(callObserverKey{}).(func(CallRecord))
	return fn
}
