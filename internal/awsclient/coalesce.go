package awsclient

import (
	"context"
	"strings"
	"sync"
	"time"
)

// Request coalescing (Config.CoalesceWindow): many migrations of one batch poll their own
// resources by identifier, one Describe call each. Lookups of one kind in one region that
// arrive close together are served instead by one Describe call whose filter lists all their
// identifiers (docs/aws-behaviour.md#filters-and-pages: a filter accepts a list of values).
//
// A batch of lookups stays open for the window and, with a Limiter, until the limiter grants
// the call its turn: when the API budget is short, every lookup made while the call waits
// for the budget rides on it, so a fleet's polls cost about one call per turn of the budget
// instead of one per migration. The token is taken once, here; the call's first attempt does
// not wait again (retries and further pages do).

// maxFilterValues is how many identifiers one coalesced call names. AWS documents no limit
// for the values of the identifier filters that we found; 100 is the largest MaxRecords, so
// a full batch still fits in one page (later pages are read anyway).
const maxFilterValues = 100

// lookupSpec says how to serve lookups of resources R (SDK type) as T by identifier.
type lookupSpec[R, T any] struct {
	op string // the Describe action, for errors
	// fetch makes the real call(s) for ids, reading every page.
	fetch func(ctx context.Context, ids []string) ([]R, error)
	// key is the identifier a result answers to; convert builds each caller's own value.
	key      func(*R) string
	convert  func(*R) *T
	notFound func(id string) error
}

// coalescer merges concurrent lookups of one kind in one region.
type coalescer[R, T any] struct {
	spec    lookupSpec[R, T]
	window  time.Duration
	limiter Limiter // nil when the client has none
	hooks   *coalesceHooks

	mu   sync.Mutex
	open *lookupBatch[R] // the batch new lookups join; nil when none is open
}

// lookupBatch is one coalesced call: the lookups that joined it and, once done is closed,
// its outcome. Fields other than done are guarded by the coalescer's mu until done is closed.
type lookupBatch[R any] struct {
	ids     []string
	seen    map[string]bool
	waiters []*lookupWaiter
	live    int           // waiters still waiting
	full    chan struct{} // closed when no more ids fit: send without waiting out the window
	done    chan struct{}
	cancel  context.CancelFunc

	finished bool
	results  []R
	err      error
	records  []CallRecord
	owner    *lookupWaiter // the waiter whose call observer is told about the call
}

// coalesceHooks let tests order lookups against batches without sleeping: a test learns
// when a lookup has joined the open batch and when a batch is done, and ends a batch's
// window when it chooses. Nil outside tests (coalesce_internal_test.go sets them).
type coalesceHooks struct {
	// joined is called, without the lock, once a lookup of id has joined the open batch.
	joined func(id string)
	// sendNow ends the window of one waiting batch per value it yields.
	sendNow <-chan struct{}
	// finished is called once a batch is done, with its ids and whether it made the call.
	finished func(ids []string, called bool)
}

type lookupWaiter struct {
	observe func(CallRecord)
	left    bool
}

func newCoalescer[R, T any](spec lookupSpec[R, T], window time.Duration, limiter Limiter) *coalescer[R, T] {
	return &coalescer[R, T]{spec: spec, window: window, limiter: limiter}
}

// get returns the resource with identifier id, or the error one uncoalesced call would give:
// KindNotFound when the shared call did not return it, the shared call's error otherwise.
// Cancelling ctx abandons this lookup only; the call goes on for the others.
func (c *coalescer[R, T]) get(ctx context.Context, id string) (*T, error) {
	if err := ctx.Err(); err != nil {
		return nil, translateError(c.spec.op, id, context.Cause(ctx))
	}
	w := &lookupWaiter{observe: CallObserverFrom(ctx)}
	c.mu.Lock()
	b := c.open
	if b == nil {
		b = c.start()
	}
	if !b.seen[id] {
		b.seen[id] = true
		b.ids = append(b.ids, id)
	}
	b.waiters = append(b.waiters, w)
	b.live++
	if len(b.ids) >= maxFilterValues {
		c.open = nil
		close(b.full)
	}
	c.mu.Unlock()
	if c.hooks != nil && c.hooks.joined != nil {
		c.hooks.joined(id)
	}

	select {
	case <-b.done:
	case <-ctx.Done():
		c.mu.Lock()
		if !b.finished {
			w.left = true
			b.live--
			if b.live == 0 {
				// Nobody wants the answer any more: do not spend the budget on it.
				if c.open == b {
					c.open = nil
				}
				b.cancel()
			}
			c.mu.Unlock()
			return nil, translateError(c.spec.op, id, context.Cause(ctx))
		}
		c.mu.Unlock()
		<-b.done
	}
	if b.owner == w && w.observe != nil {
		for _, rec := range b.records {
			w.observe(rec)
		}
	}
	if b.err != nil {
		return nil, translateError(c.spec.op, id, b.err)
	}
	matches := c.match(b.results, id)
	if len(matches) > 1 {
		return nil, tooMany(c.spec.op, id, "identifier", len(matches))
	}
	if len(matches) == 1 {
		return c.spec.convert(matches[0]), nil
	}
	return nil, c.spec.notFound(id)
}

// match finds the results for id: those with the same identifier, else those differing only
// in case (the server decides what a filter value matches; this only tells the matches
// apart). More than one is for the caller to refuse.
func (c *coalescer[R, T]) match(results []R, id string) []*R {
	var exact, folded []*R
	for i := range results {
		k := c.spec.key(&results[i])
		if k == id {
			exact = append(exact, &results[i])
		} else if strings.EqualFold(k, id) {
			folded = append(folded, &results[i])
		}
	}
	if len(exact) > 0 {
		return exact
	}
	return folded
}

// start opens a batch and sends it in its own goroutine, on a context of its own, so that no
// single caller's cancellation ends it. Called with mu held.
func (c *coalescer[R, T]) start() *lookupBatch[R] {
	ctx, cancel := context.WithCancel(context.Background())
	b := &lookupBatch[R]{seen: map[string]bool{}, full: make(chan struct{}), done: make(chan struct{}), cancel: cancel}
	c.open = b
	go c.send(ctx, b)
	return b
}

func (c *coalescer[R, T]) send(ctx context.Context, b *lookupBatch[R]) {
	defer b.cancel()
	deadline := time.Now().Add(c.window)
	var err error
	prepaid := false
	if c.limiter != nil {
		if err = c.limiter.Wait(ctx); err == nil {
			prepaid = true
		}
	}
	if err == nil {
		err = waitUntil(ctx, deadline, b.full, c.sendNow())
	}

	c.mu.Lock()
	if c.open == b {
		c.open = nil
	}
	ids := b.ids
	served := len(b.waiters)
	c.mu.Unlock()

	var results []R
	var records []CallRecord
	called := err == nil
	if called {
		callCtx := withCoalesced(withTarget(ctx, strings.Join(ids, ",")), served)
		callCtx = WithCallObserver(callCtx, func(rec CallRecord) {
			records = append(records, rec) // fetch calls sequentially, in this goroutine
		})
		if prepaid {
			callCtx = withPrepaidToken(callCtx)
		}
		results, err = c.spec.fetch(callCtx, ids)
	}

	c.mu.Lock()
	b.finished = true
	b.results, b.err, b.records = results, err, records
	for _, w := range b.waiters {
		if !w.left {
			b.owner = w
			break
		}
	}
	c.mu.Unlock()
	close(b.done)
	if c.hooks != nil && c.hooks.finished != nil {
		c.hooks.finished(ids, called)
	}
}

// sendNow is the test hook that ends a window early; nil, never ready, outside tests.
func (c *coalescer[R, T]) sendNow() <-chan struct{} {
	if c.hooks == nil {
		return nil
	}
	return c.hooks.sendNow
}

// waitUntil waits for the deadline, for full to close, for now to yield or for ctx to end.
func waitUntil(ctx context.Context, deadline time.Time, full, now <-chan struct{}) error {
	d := time.Until(deadline)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-full:
		return nil
	case <-now:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

type coalescedKey struct{}

// withCoalesced tells the call recorder how many lookups the calls made with ctx serve.
func withCoalesced(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, coalescedKey{}, n)
}

func coalescedOf(ctx context.Context) int {
	n, _ := ctx.Value(coalescedKey{}).(int)
	return n
}

// prepaidToken marks a call whose first attempt was already granted by the limiter.
type prepaidToken struct{ used bool }

type prepaidKey struct{}

func withPrepaidToken(ctx context.Context) context.Context {
	return context.WithValue(ctx, prepaidKey{}, &prepaidToken{})
}

// takePrepaid reports whether ctx carries an unused token, and uses it. A call's attempts
// run one after another, so the token needs no lock.
func takePrepaid(ctx context.Context) bool {
	t, _ := ctx.Value(prepaidKey{}).(*prepaidToken)
	if t == nil || t.used {
		return false
	}
	t.used = true
	return true
}
