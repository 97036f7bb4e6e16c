package integration

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/awsclient"
	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/rdssim"
	"github.com/rdsencrypt/rdsencrypt/internal/rdssim/simtest"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// BenchmarkPolling migrates one instance of 20, 400 and 4,000 GiB each with the polling a
// real run uses (awsclient.DefaultPollOptions, on the simulator's virtual clock) and reports
// how late the waits see what they wait for, and what that costs in Describe calls:
//
//   - lag_median_s, lag_p90_s: per wait, the virtual time from the simulator's event that
//     ended it (a resource becoming available, or deleted) to the first Describe answer that
//     showed it;
//
//   - describe_per_min: Describe calls per virtual minute of the migration (nearly all of it
//     is waiting); describe_calls: their number.
//
//     go test -run '^$' -bench BenchmarkPolling -benchtime 1x ./integration
func BenchmarkPolling(b *testing.B) {
	for _, gib := range []int32{20, 400, 4000} {
		b.Run(fmt.Sprintf("%dGiB", gib), func(b *testing.B) {
			var lags []time.Duration
			var calls, minutes float64
			for range b.N {
				l, c, m := pollingRun(b, gib)
				lags = append(lags, l...)
				calls += c
				minutes += m
			}
			slices.Sort(lags)
			b.ReportMetric(quantile(lags, 0.5).Seconds(), "lag_median_s")
			b.ReportMetric(quantile(lags, 0.9).Seconds(), "lag_p90_s")
			b.ReportMetric(float64(len(lags))/float64(b.N), "waits")
			b.ReportMetric(calls/float64(b.N), "describe_calls")
			b.ReportMetric(calls/minutes, "describe_per_min")
		})
	}
}

// pollSpeed runs the simulator fast while a poll's real delay (5 s / pollSpeed at the least)
// stays well above the scheduler's noise.
const pollSpeed = 500.0

func pollingRun(b *testing.B, gib int32) (lags []time.Duration, describes, minutes float64) {
	b.StopTimer()
	h := simtest.Start(b, rdssim.Options{Speed: pollSpeed})
	store, err := workflow.OpenStore(b.TempDir())
	require.NoError(b, err)
	client := awsclient.NewForSimulator(awsclient.Config{Region: region, EndpointURL: h.URL, MaxBackoff: 5 * time.Millisecond})
	createKeyIn(b, h.KMS(region), "alias/k")
	in := simpleSource("ledger")
	in.AllocatedStorage = aws.Int32(gib)
	_, err = h.RDS(region).CreateDBInstance(context.Background(), in)
	require.NoError(b, err)
	h.Advance(48 * time.Hour)

	seen := &observations{h: h}
	poll := awsclient.DefaultPollOptions
	poll.Min = time.Duration(float64(poll.Min) / pollSpeed)
	poll.Max = time.Duration(float64(poll.Max) / pollSpeed)
	eng := &workflow.Engine{
		Clients:  func(r string) (model.RDS, error) { return observed{RDS: client.For(r), seen: seen}, nil },
		Store:    store,
		Approver: workflow.AutoApprove,
		Poll:     poll,
	}
	before, t0 := h.Calls(), h.Now()
	b.StartTimer()
	rep, err := eng.Migrate(context.Background(), workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/k"})
	b.StopTimer()
	require.NoError(b, err)
	require.Equal(b, workflow.StatusCompleted, rep.Status)
	minutes = h.Now().Sub(t0).Minutes()
	for action, n := range h.Calls() {
		if strings.HasPrefix(action, "Describe") {
			describes += float64(n - before[action])
		}
	}
	lags = seen.lags(h.Events(), t0, func(format string, args ...any) { b.Logf(format, args...) })
	return lags, describes, minutes
}

// observation is one Describe answer the engine got: what it showed, and when (virtual time).
type observation struct {
	at     time.Time
	status string
}

type observations struct {
	h  *simtest.Harness
	mu sync.Mutex
	by map[string][]observation // resource id (instances, clusters) or identifier (snapshots)
}

func (o *observations) add(key, status string) {
	at := o.h.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.by == nil {
		o.by = map[string][]observation{}
	}
	o.by[key] = append(o.by[key], observation{at: at, status: status})
}

// lags: for each event after t0 that ends a wait (available, deleted) of a resource the
// engine was watching (it saw it in another status before), the time until an answer
// showed it, before the resource's next event. An answer stamped after the event but showing
// the status before it was served just before the event (the stamp is taken on return).
func (o *observations) lags(events []rdssim.Event, t0 time.Time, logf func(string, ...any)) []time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	keyOf := func(ev rdssim.Event) string {
		if ev.Type == "snapshot" || ev.Type == "cluster-snapshot" {
			return ev.ID
		}
		return ev.ResourceID
	}
	var lags []time.Duration
	for i, ev := range events {
		if ev.Time.Before(t0) || (ev.Status != "available" && ev.Status != "deleted") {
			continue
		}
		key := keyOf(ev)
		until := time.Time{}
		for _, later := range events[i+1:] {
			if keyOf(later) == key {
				until = later.Time
				break
			}
		}
		want := ev.Status
		if want == "deleted" {
			want = awsclient.StatusGone
		}
		watching, seen := false, false
		for _, ob := range o.by[key] {
			if ob.at.Before(ev.Time) {
				watching = ob.status != want
				continue
			}
			if !until.IsZero() && !ob.at.Before(until) {
				break
			}
			if ob.status == want {
				seen = true
				if watching {
					lags = append(lags, ob.at.Sub(ev.Time))
					logf("%s %s %s at +%v: seen %v later", ev.Type, ev.ID, ev.Status, ev.Time.Sub(t0).Round(time.Second), ob.at.Sub(ev.Time).Round(time.Second))
				}
				break
			}
		}
		if !watching || !seen {
			logf("%s %s %s at +%v: not a wait's end (watched before: %v, seen: %v)", ev.Type, ev.ID, ev.Status, ev.Time.Sub(t0).Round(time.Second), watching, seen)
		}
	}
	return lags
}

// observed records what the engine's lookups answer.
type observed struct {
	model.RDS
	seen *observations
}

func statusOrGone(status string, err error) string {
	if model.IsNotFound(err) {
		return awsclient.StatusGone
	}
	return status
}

func (a observed) DescribeInstanceByResourceID(ctx context.Context, id string) (*model.Instance, error) {
	i, err := a.RDS.DescribeInstanceByResourceID(ctx, id)
	if err == nil || model.IsNotFound(err) {
		status := ""
		if i != nil {
			status = i.Status
		}
		a.seen.add(id, statusOrGone(status, err))
	}
	return i, err
}

func (a observed) DescribeSnapshot(ctx context.Context, id string) (*model.Snapshot, error) {
	s, err := a.RDS.DescribeSnapshot(ctx, id)
	if err == nil || model.IsNotFound(err) {
		status := ""
		if s != nil {
			status = s.Status
		}
		a.seen.add(id, statusOrGone(status, err))
	}
	return s, err
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}
