package awsclient

import (
	"context"
	"reflect"
	"time"
)

// PollOptions bound the delay between two polls. Without an expected end (see Watch.Expect)
// the delay starts at Min, doubles while nothing changes, never exceeds Max, and drops back
// to Min as soon as the observed state changes: a resource that is moving is watched
// closely, one that is idle for an hour costs few calls.
type PollOptions struct {
	Min time.Duration
	Max time.Duration
}

// DefaultPollOptions suit real AWS, where most transitions take minutes.
var DefaultPollOptions = PollOptions{Min: 5 * time.Second, Max: 30 * time.Second}

func (o PollOptions) normalized() PollOptions {
	if o.Min <= 0 {
		o.Min = DefaultPollOptions.Min
	}
	if o.Max < o.Min {
		o.Max = max(o.Min, DefaultPollOptions.Max)
	}
	return o
}

// observable is implemented by the described resources. observedState (identifier and
// status) drives the backoff; observedProgress only makes onChange fire, so a long copy
// reporting progress every poll is still polled at a relaxed pace.
type observable interface {
	StateKey() string
	ProgressKey() string
}

// compare says whether the status and the progress differ between two polls. Values that
// are not observable are compared in full, and any difference counts as a status change.
func compare(a, b any) (statusChanged, progressChanged bool) {
	oa, okA := a.(observable)
	ob, okB := b.(observable)
	if okA && okB {
		return oa.StateKey() != ob.StateKey(), oa.ProgressKey() != ob.ProgressKey()
	}
	differ := !reflect.DeepEqual(a, b)
	return differ, differ
}

// Poll calls fetch until check says done or returns an error, or ctx ends. onChange (may
// be nil) sees the first value and every value whose status or progress differs from the
// previous one.
// A fetch error ends the poll: the SDK has already retried throttling and 5xx.
func Poll[T any](ctx context.Context, opts PollOptions, fetch func(context.Context) (T, error),
	check func(T) (done bool, err error), onChange func(T),
) (T, error) {
	return poller[T]{fetch: fetch, check: check, onChange: onChange, pace: backoff(opts.normalized()), sleep: sleep}.run(ctx)
}

// poller is one poll loop; pace chooses each delay, sleep waits it out (tests record it).
type poller[T any] struct {
	fetch    func(context.Context) (T, error)
	check    func(T) (done bool, err error)
	onChange func(T)
	pace     func(statusChanged bool) time.Duration
	sleep    func(context.Context, time.Duration) error
}

func (p poller[T]) run(ctx context.Context) (T, error) {
	var last T
	first := true
	for {
		v, err := p.fetch(ctx)
		if err != nil {
			return v, err
		}
		statusChanged, progressChanged := compare(last, v)
		statusChanged = statusChanged || first
		if (statusChanged || progressChanged) && p.onChange != nil {
			p.onChange(v)
		}
		first, last = false, v
		done, err := p.check(v)
		if err != nil || done {
			return v, err
		}
		if err := p.sleep(ctx, p.pace(statusChanged)); err != nil {
			return v, err
		}
	}
}

// backoff is the pace without an expected end: Min after a change, doubling up to Max.
func backoff(opts PollOptions) func(statusChanged bool) time.Duration {
	delay := opts.Min
	return func(statusChanged bool) time.Duration {
		if statusChanged {
			delay = opts.Min
		} else {
			delay = min(delay*2, opts.Max)
		}
		return delay
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}
