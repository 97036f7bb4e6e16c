package awsclient

import (
	"context"
	"reflect"
	"time"
)

// PollOptions bound the delay between two polls. The delay starts at Min, doubles while
// nothing changes, never exceeds Max, and drops back to Min as soon as the observed
// state changes: a resource that is moving is watched closely, one that is idle for an
// hour costs few calls.
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
	opts = opts.normalized()
	delay := opts.Min
	var last T
	first := true
	for {
		v, err := fetch(ctx)
		if err != nil {
			return v, err
		}
		statusChanged, progressChanged := compare(last, v)
		if first || statusChanged {
			delay = opts.Min
		} else {
			delay = min(delay*2, opts.Max)
		}
		if (first || statusChanged || progressChanged) && onChange != nil {
			onChange(v)
		}
		first, last = false, v
		done, err := check(v)
		if err != nil || done {
			return v, err
		}
		if err := sleep(ctx, delay); err != nil {
			return v, err
		}
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
