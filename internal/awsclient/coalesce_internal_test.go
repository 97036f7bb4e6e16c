package awsclient

// Request coalescing against the simulator. These tests live in package awsclient, not in
// simulated_test, to reach the coalescer's test hooks (coalesceHooks): a lookup's joining a
// batch, a batch's end and the end of its window are signalled, so no test depends on how
// long a goroutine takes to be scheduled. The window is a minute: a batch is sent when a test
// says so (or when it is full), never because time went by. The simulator is started here
// directly (integration/rdssim/simtest imports awsclient, which an internal test cannot).

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/model"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/smithy-go/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/rdssim"
)

// longWindow is the window of the coalescing tests: longer than any test, so that only
// sendNow (or a full batch) sends one.
const longWindow = time.Minute

// coalesceSim is a simulator, a plain client on it for seeding, and the context of a test.
type coalesceSim struct {
	sim *rdssim.Sim
	url string
	api model.RDS // us-east-1, not coalescing
	ctx context.Context
}

func startCoalesceSim(t *testing.T) *coalesceSim {
	t.Helper()
	sim := rdssim.New(rdssim.Options{Start: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC), Speed: 50000})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	c := NewForSimulator(Config{Region: "us-east-1", EndpointURL: srv.URL, MaxBackoff: 20 * time.Millisecond})
	return &coalesceSim{sim: sim, url: srv.URL, api: c.For("us-east-1"), ctx: ctx}
}

func (s *coalesceSim) callsOf(action string) int { return s.sim.Calls()[action] }

// seedInstance creates an unencrypted MySQL instance with the raw SDK (awsclient has no
// CreateDBInstance outside clusters) and waits until it is available.
func (s *coalesceSim) seedInstance(t *testing.T, id string) *model.Instance {
	t.Helper()
	raw := rds.New(rds.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(s.url),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDSIMULATOR", "simulator-secret", ""),
		APIOptions:   []func(*middleware.Stack) error{GuardRequestBody},
	})
	out, err := raw.CreateDBInstance(s.ctx, &rds.CreateDBInstanceInput{
		DBInstanceIdentifier:  aws.String(id),
		DBInstanceClass:       aws.String("db.t3.micro"),
		Engine:                aws.String("mysql"),
		MasterUsername:        aws.String("admin"),
		MasterUserPassword:    aws.String("secret-password"),
		AllocatedStorage:      aws.Int32(100),
		BackupRetentionPeriod: aws.Int32(7),
	})
	require.NoError(t, err)
	inst, err := InstanceAvailable(s.api, aws.ToString(out.DBInstance.DbiResourceId), nil).Until(s.ctx,
		Watch{Poll: PollOptions{Min: time.Millisecond, Max: 5 * time.Millisecond}})
	require.NoError(t, err)
	return inst
}

// batchEnd is what the finished hook reported about one batch.
type batchEnd struct {
	ids    []string
	called bool
}

// coalescingClient is a client on the simulator whose lookups are coalesced within window,
// with its OnCall records and the signals of its coalescers' hooks.
type coalescingClient struct {
	api model.RDS
	ctx context.Context // the test's

	mu      sync.Mutex
	records []CallRecord

	joins    chan string
	sendNow  chan struct{} // unbuffered: a send returns once a batch has taken it
	finished chan batchEnd
}

func (s *coalesceSim) coalescing(t *testing.T, window time.Duration, limiter Limiter) *coalescingClient {
	t.Helper()
	cc := &coalescingClient{ctx: s.ctx, joins: make(chan string, 1024), sendNow: make(chan struct{}), finished: make(chan batchEnd, 64)}
	c := NewForSimulator(Config{Region: "us-east-1", EndpointURL: s.url, MaxBackoff: 20 * time.Millisecond,
		CoalesceWindow: window, Limiter: limiter, OnCall: func(r CallRecord) {
			cc.mu.Lock()
			defer cc.mu.Unlock()
			cc.records = append(cc.records, r)
		}})
	rc := c.For("us-east-1").(*regionClient)
	if l := rc.lookups; l != nil {
		h := &coalesceHooks{
			joined:  func(id string) { cc.joins <- id },
			sendNow: cc.sendNow,
			finished: func(ids []string, called bool) {
				cc.finished <- batchEnd{ids: append([]string(nil), ids...), called: called}
			},
		}
		// Set before any lookup starts a goroutine that reads them.
		l.instances.hooks, l.clusters.hooks, l.snapshots.hooks, l.clusterSnapshots.hooks = h, h, h, h
	}
	cc.api = rc
	return cc
}

func (cc *coalescingClient) calls() []CallRecord {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return append([]CallRecord(nil), cc.records...)
}

// awaitJoins waits until n more lookups have joined a batch.
func (cc *coalescingClient) awaitJoins(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		select {
		case <-cc.joins:
		case <-cc.ctx.Done():
			t.Fatalf("%d of %d lookups joined a batch: %v", i, n, cc.ctx.Err())
		}
	}
}

// send ends the window of the batch waiting for it.
func (cc *coalescingClient) send(t *testing.T) {
	t.Helper()
	select {
	case cc.sendNow <- struct{}{}:
	case <-cc.ctx.Done():
		t.Fatalf("no batch waits to be sent: %v", cc.ctx.Err())
	}
}

// awaitFinished waits for the next batch to be done.
func (cc *coalescingClient) awaitFinished(t *testing.T) batchEnd {
	t.Helper()
	select {
	case b := <-cc.finished:
		return b
	case <-cc.ctx.Done():
		t.Fatalf("no batch finished: %v", cc.ctx.Err())
		return batchEnd{}
	}
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
			cctx := WithCallObserver(ctx, func(CallRecord) { observed.Add(1) })
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

// goLookupAll starts lookupAll; the channel yields its results.
func goLookupAll[T any](ctx context.Context, ids []string, lookup func(context.Context, string) (*T, error), idOf func(*T) string) <-chan []lookupResult {
	done := make(chan []lookupResult, 1)
	go func() { done <- lookupAll(ctx, ids, lookup, idOf) }()
	return done
}

// lookupTogether looks every id up at once and sends the batch once all of them joined it.
func lookupTogether[T any](t *testing.T, cc *coalescingClient, ids []string, lookup func(context.Context, string) (*T, error), idOf func(*T) string) []lookupResult {
	t.Helper()
	done := goLookupAll(cc.ctx, ids, lookup, idOf)
	cc.awaitJoins(t, len(ids))
	cc.send(t)
	return <-done
}

func instanceID(i *model.Instance) string { return i.ID }

func requireFailure(t *testing.T, want model.Failure, err error) *model.Error {
	t.Helper()
	var e *model.Error
	require.ErrorAs(t, err, &e, "want %v", want)
	assert.Equal(t, want, e.Failure, "%v", err)
	return e
}

func TestCoalescedInstanceLookupsShareOneCall(t *testing.T) {
	s := startCoalesceSim(t)
	byRID := map[string]string{}
	var rids []string
	for i := range 5 {
		inst := s.seedInstance(t, fmt.Sprintf("app-%d", i))
		byRID[inst.ResourceID] = inst.ID
		rids = append(rids, inst.ResourceID)
	}
	// The same instance asked twice, and one that does not exist.
	ids := append(append([]string{}, rids...), rids[0], "db-NOSUCHRESOURCE")
	cc := s.coalescing(t, longWindow, nil)

	before := s.callsOf("DescribeDBInstances")
	got := lookupTogether(t, cc, ids, cc.api.DescribeInstanceByResourceID, instanceID)
	assert.Equal(t, 1, s.callsOf("DescribeDBInstances")-before, "one call served all lookups")

	observed := 0
	for i, id := range ids {
		observed += got[i].observed
		if id == "db-NOSUCHRESOURCE" {
			e := requireFailure(t, model.FailureNotFound, got[i].err)
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
	s := startCoalesceSim(t)
	inst := s.seedInstance(t, "app")
	ids := []string{inst.ResourceID}
	for i := range 149 {
		ids = append(ids, fmt.Sprintf("db-MISSING%03d", i))
	}
	cc := s.coalescing(t, longWindow, nil)

	before := s.callsOf("DescribeDBInstances")
	done := goLookupAll(s.ctx, ids, cc.api.DescribeInstanceByResourceID, instanceID)
	cc.awaitJoins(t, len(ids))
	first := cc.awaitFinished(t) // full: sent without waiting out the window
	assert.Len(t, first.ids, maxFilterValues)
	assert.True(t, first.called)
	cc.send(t) // the rest
	got := <-done
	assert.Len(t, cc.awaitFinished(t).ids, len(ids)-maxFilterValues)
	assert.Equal(t, 2, s.callsOf("DescribeDBInstances")-before, "150 ids make ceil(150/100) calls")
	require.NoError(t, got[0].err)
	assert.Equal(t, "app", got[0].id)
	for _, r := range got[1:] {
		requireFailure(t, model.FailureNotFound, r.err)
	}
	for _, rec := range cc.calls() {
		assert.LessOrEqual(t, len(strings.Split(rec.Target, ",")), 100)
	}
}

func TestCoalescedSnapshotAndClusterLookups(t *testing.T) {
	s := startCoalesceSim(t)
	for _, id := range []string{"a", "b"} {
		s.seedInstance(t, "app-"+id)
		_, err := s.api.CreateSnapshot(s.ctx, "app-"+id, "snap-"+id, nil)
		require.NoError(t, err)
	}
	cc := s.coalescing(t, longWindow, nil)

	before := s.callsOf("DescribeDBSnapshots")
	got := lookupTogether(t, cc, []string{"SNAP-A", "snap-b", "snap-missing"}, cc.api.DescribeSnapshot,
		func(s *model.Snapshot) string { return s.ID })
	assert.Equal(t, 1, s.callsOf("DescribeDBSnapshots")-before)
	require.NoError(t, got[0].err)
	assert.Equal(t, "snap-a", got[0].id, "identifiers are matched as AWS stores them")
	require.NoError(t, got[1].err)
	assert.Equal(t, "snap-b", got[1].id)
	requireFailure(t, model.FailureNotFound, got[2].err)

	// Clusters and cluster snapshots go the same way (here: none exists).
	before = s.callsOf("DescribeDBClusters")
	clusters := lookupTogether(t, cc, []string{"cluster-X1", "cluster-X2", "cluster-X3"}, cc.api.DescribeClusterByResourceID,
		func(c *model.Cluster) string { return c.ID })
	assert.Equal(t, 1, s.callsOf("DescribeDBClusters")-before)
	before = s.callsOf("DescribeDBClusterSnapshots")
	snaps := lookupTogether(t, cc, []string{"cs-1", "cs-2"}, cc.api.DescribeClusterSnapshot, func(s *model.Snapshot) string { return s.ID })
	assert.Equal(t, 1, s.callsOf("DescribeDBClusterSnapshots")-before)
	for _, r := range append(clusters, snaps...) {
		requireFailure(t, model.FailureNotFound, r.err)
	}
}

func TestCoalescedCallErrorGoesToEveryCaller(t *testing.T) {
	s := startCoalesceSim(t)
	cc := s.coalescing(t, longWindow, nil)
	require.NoError(t, s.sim.ApplyFaults(rdssim.FaultRequest{FailCalls: []rdssim.CallFailure{{Action: "DescribeDBInstances", Nth: 1, Code: "AccessDenied"}}}))
	ids := []string{"db-ONE", "db-TWO", "db-THREE"}
	got := lookupTogether(t, cc, ids, cc.api.DescribeInstanceByResourceID, instanceID)
	for i, r := range got {
		err := requireFailure(t, model.FailureAccessDenied, r.err)
		assert.Equal(t, ids[i], err.Resource, "the error names each caller's resource")
		assert.Equal(t, "DescribeDBInstances", err.Op)
	}
	recs := cc.calls()
	require.Len(t, recs, 1)
	assert.Equal(t, model.FailureAccessDenied, model.FailureOf(recs[0].Err))
}

func TestCancellingOneLookupLeavesTheSharedCall(t *testing.T) {
	s := startCoalesceSim(t)
	inst := s.seedInstance(t, "app")
	cc := s.coalescing(t, longWindow, nil)

	var quitterObserved, stayerObserved atomic.Int32
	quitCtx, quit := context.WithCancel(WithCallObserver(s.ctx, func(CallRecord) { quitterObserved.Add(1) }))
	defer quit()
	quitErr := make(chan error, 1)
	go func() {
		_, err := cc.api.DescribeInstanceByResourceID(quitCtx, inst.ResourceID)
		quitErr <- err
	}()
	cc.awaitJoins(t, 1) // the quitter opens the batch: it would be told about the call
	stayCtx := WithCallObserver(s.ctx, func(CallRecord) { stayerObserved.Add(1) })
	stayed := make(chan error, 1)
	go func() {
		got, err := cc.api.DescribeInstanceByResourceID(stayCtx, inst.ResourceID)
		if err == nil && got.ID != "app" {
			err = fmt.Errorf("got %s", got.ID)
		}
		stayed <- err
	}()
	cc.awaitJoins(t, 1) // the stayer joins the same batch, whose window has not ended
	before := s.callsOf("DescribeDBInstances")
	quit()
	require.ErrorIs(t, <-quitErr, context.Canceled)
	cc.send(t) // the batch outlives the quitter and is sent for the stayer
	require.NoError(t, <-stayed, "the other caller still gets its answer")
	assert.Equal(t, 1, s.callsOf("DescribeDBInstances")-before)
	assert.Zero(t, quitterObserved.Load(), "a caller that left is not told about the call")
	assert.Equal(t, int32(1), stayerObserved.Load(), "the first caller still waiting is")
}

func TestLookupsAllCancelledMakeNoCall(t *testing.T) {
	s := startCoalesceSim(t)
	lim := &countingLimiter{}
	cc := s.coalescing(t, longWindow, lim)
	before := s.callsOf("DescribeDBInstances")
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	done := goLookupAll(ctx, []string{"db-A", "db-B"}, cc.api.DescribeInstanceByResourceID, instanceID)
	cc.awaitJoins(t, 2) // both wait in one batch, within its window
	cancel()
	for _, r := range <-done {
		require.ErrorIs(t, r.err, context.Canceled)
	}
	end := cc.awaitFinished(t) // the batch is over without its window having ended
	assert.False(t, end.called, "nobody waits for the answer: no call")
	assert.ElementsMatch(t, []string{"db-A", "db-B"}, end.ids)
	assert.Zero(t, s.callsOf("DescribeDBInstances")-before, "nobody waits for the answer: no call")
	assert.Empty(t, cc.calls())
}

func TestCoalescedCallWaitsOnTheLimiterOnce(t *testing.T) {
	s := startCoalesceSim(t)
	lim := &countingLimiter{}
	cc := s.coalescing(t, longWindow, lim)
	got := lookupTogether(t, cc, []string{"db-A", "db-B", "db-C"}, cc.api.DescribeInstanceByResourceID, instanceID)
	for _, r := range got {
		requireFailure(t, model.FailureNotFound, r.err)
	}
	assert.Equal(t, int32(1), lim.n.Load(), "the turn taken while gathering is the call's first attempt")
	_, err := cc.api.ListInstances(s.ctx)
	require.NoError(t, err)
	assert.Equal(t, int32(2), lim.n.Load(), "other calls still wait on the limiter")
}

func TestZeroWindowMakesOneCallPerLookup(t *testing.T) {
	s := startCoalesceSim(t)
	cc := s.coalescing(t, 0, nil)
	before := s.callsOf("DescribeDBInstances")
	got := lookupAll(s.ctx, []string{"db-A", "db-B", "db-C"}, cc.api.DescribeInstanceByResourceID, instanceID)
	for _, r := range got {
		requireFailure(t, model.FailureNotFound, r.err)
		assert.Equal(t, 1, r.observed)
	}
	assert.Equal(t, 3, s.callsOf("DescribeDBInstances")-before)
	for _, rec := range cc.calls() {
		assert.Zero(t, rec.Coalesced)
	}
}

func TestSnapshotLookupByARNIsNotCoalesced(t *testing.T) {
	s := startCoalesceSim(t)
	cc := s.coalescing(t, longWindow, nil) // a coalesced lookup would not come back in time
	_, err := cc.api.DescribeSnapshot(s.ctx, "arn:aws:rds:us-east-1:123456789012:snapshot:elsewhere")
	requireFailure(t, model.FailureNotFound, err)
	assert.Empty(t, cc.joins, "no lookup joined a batch")
}
