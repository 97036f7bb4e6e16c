package integration

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/awsclient"
	"github.com/rdsencrypt/rdsencrypt/workflow"
)

// BenchmarkBatch200 migrates a fleet of 200 instances with one batch, all of them at once
// under one shared API budget, and compares the virtual time the batch took with the ideal:
// every migration running in parallel, limited only by the budget, i.e. the longer of one
// migration run alone and (all the calls the batch made) / (the budget).
//
// The simulator runs benchSpeed virtual seconds per real second; the budget is
// benchRatePerVirtualSecond calls per virtual second, and polls back off from 5 s to 30 s
// of virtual time as they do against AWS (awsclient.DefaultPollOptions), so the calls per
// migration are those of a real run. RDSENCRYPT_BENCH_N changes the fleet size and
// RDSENCRYPT_BENCH_CONCURRENCY the migrations running at once (default: all of them).
//
//	go test -run '^$' -bench BenchmarkBatch200 -benchtime 1x ./integration
func BenchmarkBatch200(b *testing.B) {
	const (
		benchSpeed                = 200.0
		benchRatePerVirtualSecond = 4.0
	)
	n := 200
	if v, err := strconv.Atoi(os.Getenv("RDSENCRYPT_BENCH_N")); err == nil && v > 0 {
		n = v
	}
	concurrency := n
	if v, err := strconv.Atoi(os.Getenv("RDSENCRYPT_BENCH_CONCURRENCY")); err == nil && v > 0 {
		concurrency = v
	}
	realRate := benchRatePerVirtualSecond * benchSpeed
	poll := awsclient.PollOptions{
		Min: time.Duration(float64(awsclient.DefaultPollOptions.Min) / benchSpeed),
		Max: time.Duration(float64(awsclient.DefaultPollOptions.Max) / benchSpeed),
	}
	var calls, ratio, actualMin, idealMin, soloMin float64
	for range b.N {
		b.StopTimer()
		// 200 migrations keep 400 snapshots until cleanup: the account's quota is raised, as
		// the batch plan's warning asks.
		f := newFleetEnv(b, fleetOptions{speed: benchSpeed, rate: realRate, burst: int(benchRatePerVirtualSecond * 2), snapshotQuota: 4 * n})
		f.createKey("alias/fleet")
		f.createFleet("bench", n)
		f.createFleet("solo", 1)

		// One migration alone, uncontended: the floor of any batch.
		solo := f.batch(nil)
		solo.Base.Poll = poll
		soloReq := workflow.BatchRequest{Regions: []string{region}, KmsKey: "alias/fleet", Concurrency: 1, Cutover: workflow.CutoverAuto,
			Selection: workflow.Selection{Exclude: []workflow.Glob{mustGlob(b, "bench-*")}}}
		plan, err := solo.Plan(context.Background(), soloReq)
		require.NoError(b, err)
		require.Equal(b, 1, plan.Planned())
		t0 := f.h.Now()
		rep := solo.Run(context.Background(), plan)
		require.Equal(b, 1, rep.Summary.Completed)
		soloVirtual := f.h.Now().Sub(t0)

		batch := f.batch(nil)
		batch.Base.Poll = poll
		req := workflow.BatchRequest{Regions: []string{region}, KmsKey: "alias/fleet", Concurrency: concurrency, Cutover: workflow.CutoverAuto,
			Selection: workflow.Selection{Exclude: []workflow.Glob{mustGlob(b, "solo-*")}}}
		plan, err = batch.Plan(context.Background(), req)
		require.NoError(b, err)
		require.Equal(b, n, plan.Planned())
		b.StartTimer()
		t0 = f.h.Now()
		rep = batch.Run(context.Background(), plan)
		actual := f.h.Now().Sub(t0)
		b.StopTimer()
		if rep.Summary.Completed != n {
			for _, m := range rep.Migrations {
				if m.Outcome != workflow.OutcomeCompleted {
					b.Fatalf("%s: %s: %s", m.Source, m.Outcome, m.Reason)
				}
			}
		}
		require.Empty(b, f.failedCalls())

		budgetBound := time.Duration(float64(rep.Summary.APICalls) / benchRatePerVirtualSecond * float64(time.Second))
		ideal := max(soloVirtual, budgetBound)
		calls += float64(rep.Summary.APICalls) / float64(n)
		ratio += actual.Seconds() / ideal.Seconds()
		actualMin += actual.Minutes()
		idealMin += ideal.Minutes()
		soloMin += soloVirtual.Minutes()
	}
	N := float64(b.N)
	b.ReportMetric(calls/N, "api_calls/migration")
	b.ReportMetric(ratio/N, "virtual_time_ratio")
	b.ReportMetric(actualMin/N, "virtual_min")
	b.ReportMetric(idealMin/N, "ideal_virtual_min")
	b.ReportMetric(soloMin/N, "solo_virtual_min")
}

func mustGlob(tb testing.TB, s string) workflow.Glob {
	tb.Helper()
	g, err := workflow.ParseGlob(s)
	require.NoError(tb, err)
	return g
}
