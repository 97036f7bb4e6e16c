package simulated_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/awsclient"
	"github.com/rdsencrypt/rdsencrypt/integration/rdssim"
)

// coalescingClient is a second client on the simulator of e whose lookups are coalesced
// within window; its OnCall records are kept.
type coalescingClient struct {
	api     awsclient.RDS
	mu      sync.Mutex
	records []awsclient.CallRecord
}

func (e *env) coalescing(window time.Duration, limiter awsclient.Limiter) *coalescingClient {
	cc := &coalescingClient{}
	c := awsclient.NewForSimulator(awsclient.Config{Region: "us-east-1", EndpointURL: e.h.URL, MaxBackoff: 20 * time.Millisecond,
		CoalesceWindow: window, Limiter: limiter, OnCall: func(r awsclient.CallRecord) {
			cc.mu.Lock()
			defer cc.mu.Unlock()
			cc.records = append(cc.records, r)
		}})
	cc.api = c.For("us-east-1")
	return cc
}

func (cc *coalescingClient) calls() []awsclient.CallRecord {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return append([]awsclient.CallRecord(nil), cc.records...)
}

// lookupResult is what one concurrent lookup got, and the calls its context observed.
type lookupResult struct {
	id       string
	err      error
	observed int
}

// lookupAll looks every id up at once, each from its own goroutine and context.
func lookupAll[T any](ctx context.Context, ids []string, lookup func(context.Context, string) (*T, error), idOf func(*T) string) []lookupResult {
	out := make([]lookupResult, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			var observed atomic.Int32
			cctx := awsclient.WithCallObserver(ctx, func(awsclient.CallRecord) { observed.Add(1) })
			v, err := lookup(cctx, id)
			out[i] = lookupResult{err: err, observed: int(observed.Load())}
			if v != nil {
				out[i].id = idOf(v)
			}
		})
	}
	wg.Wait()
	return out
}

func instanceID(i *awsclient.Instance) string { return i.ID }

func callsOf(e *env, action string) int { return e.h.Calls()[action] }

func TestCoalescedInstanceLookupsShareOneCall(t *testing.T) {
	e := startSim(t, awsclient.Config{})
	ctx := e.ctx(t)
	byRID := map[string]string{}
	var rids []string
	for i := range 5 {
		inst := e.seedInstance(t, "us-east-1", fmt.Sprintf("app-%d", i), nil)
		byRID[inst.ResourceID] = inst.ID
		rids = append(rids, inst.ResourceID)
	}
	// The same instance asked twice, and one that does not exist.
	ids := append(append([]string{}, rids...), rids[0], "db-NOSUCHRESOURCE")
	cc := e.coalescing(200*time.Millisecond, nil)

	before := callsOf(e, "DescribeDBInstances")
	got := lookupAll(ctx, ids, cc.api.DescribeInstanceByResourceID, instanceID)
	assert.Equal(t, 1, callsOf(e, "DescribeDBInstances")-before, "one call served all lookups")

	observed := 0
	for i, id := range ids {
		observed += got[i].observed
		if id == "db-NOSUCHRESOURCE" {
			e := requireKind(t, awsclient.KindNotFound, got[i].err)
			assert.Equal(t, id, e.Resource)
			continue
		}
		require.NoError(t, got[i].err, id)
		assert.Equal(t, byRID[id], got[i].id, "each caller gets its own instance")
	}
	assert.Equal(t, 1, observed, "the call is reported to one caller's observer, not to each")

	recs := cc.calls()
	require.Len(t, recs, 1)
	assert.Equal(t, "DescribeDBInstances", recs[0].Action)
	assert.Equal(t, len(ids), recs[0].Coalesced)
	assert.ElementsMatch(t, append(rids, "db-NOSUCHRESOURCE"), strings.Split(recs[0].Target, ","), "the target lists the ids, once each")
}

func TestCoalescedLookupsAreChunked(t *testing.T) {
	e := startSim(t, awsclient.Config{})
	inst := e.seedInstance(t, "us-east-1", "app", nil)
	ids := []string{inst.ResourceID}
	for i := range 149 {
		ids = append(ids, fmt.Sprintf("db-MISSING%03d", i))
	}
	cc := e.coalescing(300*time.Millisecond, nil)

	before := callsOf(e, "DescribeDBInstances")
	got := lookupAll(e.ctx(t), ids, cc.api.DescribeInstanceByResourceID, instanceID)
	assert.Equal(t, 2, callsOf(e, "DescribeDBInstances")-before, "150 ids make ceil(150/100) calls")
	require.NoError(t, got[0].err)
	assert.Equal(t, "app", got[0].id)
	for _, r := range got[1:] {
		requireKind(t, awsclient.KindNotFound, r.err)
	}
	for _, rec := range cc.calls() {
		assert.LessOrEqual(t, len(strings.Split(rec.Target, ",")), 100)
	}
}

func TestCoalescedSnapshotAndClusterLookups(t *testing.T) {
	e := startSim(t, awsclient.Config{})
	ctx := e.ctx(t)
	for _, id := range []string{"a", "b"} {
		e.seedInstance(t, "us-east-1", "app-"+id, nil)
		_, err := e.api.CreateSnapshot(ctx, "app-"+id, "snap-"+id, nil)
		require.NoError(t, err)
	}
	cc := e.coalescing(200*time.Millisecond, nil)

	before := callsOf(e, "DescribeDBSnapshots")
	got := lookupAll(ctx, []string{"SNAP-A", "snap-b", "snap-missing"}, cc.api.DescribeSnapshot,
		func(s *awsclient.Snapshot) string { return s.ID })
	assert.Equal(t, 1, callsOf(e, "DescribeDBSnapshots")-before)
	require.NoError(t, got[0].err)
	assert.Equal(t, "snap-a", got[0].id, "identifiers are matched as AWS stores them")
	require.NoError(t, got[1].err)
	assert.Equal(t, "snap-b", got[1].id)
	requireKind(t, awsclient.KindNotFound, got[2].err)

	// Clusters and cluster snapshots go the same way (here: none exists).
	before = callsOf(e, "DescribeDBClusters")
	clusters := lookupAll(ctx, []string{"cluster-X1", "cluster-X2", "cluster-X3"}, cc.api.DescribeClusterByResourceID,
		func(c *awsclient.Cluster) string { return c.ID })
	assert.Equal(t, 1, callsOf(e, "DescribeDBClusters")-before)
	before = callsOf(e, "DescribeDBClusterSnapshots")
	snaps := lookupAll(ctx, []string{"cs-1", "cs-2"}, cc.api.DescribeClusterSnapshot, func(s *awsclient.Snapshot) string { return s.ID })
	assert.Equal(t, 1, callsOf(e, "DescribeDBClusterSnapshots")-before)
	for _, r := range append(clusters, snaps...) {
		requireKind(t, awsclient.KindNotFound, r.err)
	}
}

func TestCoalescedCallErrorGoesToEveryCaller(t *testing.T) {
	e := startSim(t, awsclient.Config{})
	cc := e.coalescing(200*time.Millisecond, nil)
	e.h.Faults(rdssim.FaultRequest{FailCalls: []rdssim.CallFailure{{Action: "DescribeDBInstances", Nth: 1, Code: "AccessDenied"}}})
	ids := []string{"db-ONE", "db-TWO", "db-THREE"}
	got := lookupAll(e.ctx(t), ids, cc.api.DescribeInstanceByResourceID, instanceID)
	for i, r := range got {
		err := requireKind(t, awsclient.KindAccessDenied, r.err)
		assert.Equal(t, ids[i], err.Resource, "the error names each caller's resource")
		assert.Equal(t, "DescribeDBInstances", err.Op)
	}
	recs := cc.calls()
	require.Len(t, recs, 1)
	assert.Equal(t, awsclient.KindAccessDenied, awsclient.KindOf(recs[0].Err))
}

func TestCancellingOneLookupLeavesTheSharedCall(t *testing.T) {
	e := startSim(t, awsclient.Config{})
	inst := e.seedInstance(t, "us-east-1", "app", nil)
	cc := e.coalescing(300*time.Millisecond, nil)
	ctx := e.ctx(t)

	var quitterObserved, stayerObserved atomic.Int32
	quitCtx, quit := context.WithCancel(awsclient.WithCallObserver(ctx, func(awsclient.CallRecord) { quitterObserved.Add(1) }))
	quitErr := make(chan error, 1)
	go func() {
		_, err := cc.api.DescribeInstanceByResourceID(quitCtx, inst.ResourceID)
		quitErr <- err
	}()
	time.Sleep(20 * time.Millisecond) // the quitter opens the batch: it would be told about the call
	stayCtx := awsclient.WithCallObserver(ctx, func(awsclient.CallRecord) { stayerObserved.Add(1) })
	stayed := make(chan error, 1)
	go func() {
		got, err := cc.api.DescribeInstanceByResourceID(stayCtx, inst.ResourceID)
		if err == nil && got.ID != "app" {
			err = fmt.Errorf("got %s", got.ID)
		}
		stayed <- err
	}()
	time.Sleep(20 * time.Millisecond)
	before := callsOf(e, "DescribeDBInstances")
	quit()
	require.ErrorIs(t, <-quitErr, context.Canceled)
	require.NoError(t, <-stayed, "the other caller still gets its answer")
	assert.Equal(t, 1, callsOf(e, "DescribeDBInstances")-before)
	assert.Zero(t, quitterObserved.Load(), "a caller that left is not told about the call")
	assert.Equal(t, int32(1), stayerObserved.Load(), "the first caller still waiting is")
}

func TestLookupsAllCancelledMakeNoCall(t *testing.T) {
	e := startSim(t, awsclient.Config{})
	lim := &countingLimiter{}
	cc := e.coalescing(200*time.Millisecond, lim)
	before := callsOf(e, "DescribeDBInstances")
	ctx, cancel := context.WithTimeout(e.ctx(t), 30*time.Millisecond)
	defer cancel()
	got := lookupAll(ctx, []string{"db-A", "db-B"}, cc.api.DescribeInstanceByResourceID, instanceID)
	for _, r := range got {
		require.ErrorIs(t, r.err, context.DeadlineExceeded)
	}
	time.Sleep(300 * time.Millisecond) // past the window
	assert.Zero(t, callsOf(e, "DescribeDBInstances")-before, "nobody waits for the answer: no call")
	assert.Empty(t, cc.calls())
}

func TestCoalescedCallWaitsOnTheLimiterOnce(t *testing.T) {
	e := startSim(t, awsclient.Config{})
	lim := &countingLimiter{}
	cc := e.coalescing(100*time.Millisecond, lim)
	got := lookupAll(e.ctx(t), []string{"db-A", "db-B", "db-C"}, cc.api.DescribeInstanceByResourceID, instanceID)
	for _, r := range got {
		requireKind(t, awsclient.KindNotFound, r.err)
	}
	assert.Equal(t, int32(1), lim.n.Load(), "the turn taken while gathering is the call's first attempt")
	_, err := cc.api.ListInstances(e.ctx(t))
	require.NoError(t, err)
	assert.Equal(t, int32(2), lim.n.Load(), "other calls still wait on the limiter")
}

func TestZeroWindowMakesOneCallPerLookup(t *testing.T) {
	e := startSim(t, awsclient.Config{})
	cc := e.coalescing(0, nil)
	before := callsOf(e, "DescribeDBInstances")
	got := lookupAll(e.ctx(t), []string{"db-A", "db-B", "db-C"}, cc.api.DescribeInstanceByResourceID, instanceID)
	for _, r := range got {
		requireKind(t, awsclient.KindNotFound, r.err)
		assert.Equal(t, 1, r.observed)
	}
	assert.Equal(t, 3, callsOf(e, "DescribeDBInstances")-before)
	for _, rec := range cc.calls() {
		assert.Zero(t, rec.Coalesced)
	}
}

func TestSnapshotLookupByARNIsNotCoalesced(t *testing.T) {
	e := startSim(t, awsclient.Config{})
	cc := e.coalescing(time.Hour, nil) // a coalesced lookup would not come back in time
	ctx, cancel := context.WithTimeout(e.ctx(t), 5*time.Second)
	defer cancel()
	_, err := cc.api.DescribeSnapshot(ctx, "arn:aws:rds:us-east-1:123456789012:snapshot:elsewhere")
	requireKind(t, awsclient.KindNotFound, err)
}
