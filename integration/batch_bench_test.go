package integration

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/fleet"

	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/rdsencrypt/rdsencrypt/internal/awsclient"
)

// BenchmarkBatch200 migrates a fleet of 200 instances with one batch, all of them at once
// under one shared API budget, and compares the virtual time the batch took with the ideal:
// every migration running in parallel, limited only by the budget, i.e. the longer of one
// migration run alone and (all the calls the batch made) / (the budget).
//
// The simulator runs benchSpeed virtual seconds per real second; the budget is
// benchRatePerVirtualSecond calls per virtual second, and polls back off from 5 s to 30 s
// of virtual time as they do against AWS (awsclient.DefaultPollOptions), so the calls per
// migration are those of a real run. Lookups are coalesced as in `rdsencrypt batch`, with
// awsclient.DefaultCoalesceWindow of virtual time. RDSENCRYPT_BENCH_N changes the fleet size,
// RDSENCRYPT_BENCH_CONCURRENCY the migrations running at once (default: all of them) and
// RDSENCRYPT_BENCH_COALESCE the window in virtual time (0 turns coalescing off).
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
	window := awsclient.DefaultCoalesceWindow
	if v, err := time.ParseDuration(os.Getenv("RDSENCRYPT_BENCH_COALESCE")); err == nil && v >= 0 {
		window = v
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
		burst := int(benchRatePerVirtualSecond * 2)
		f := newFleetEnv(b, fleetOptions{speed: benchSpeed, rate: realRate, burst: burst, snapshotQuota: 4 * n})
		f.client = awsclient.NewForSimulator(awsclient.Config{Region: region, EndpointURL: f.h.URL, MaxBackoff: 5 * time.Millisecond,
			Limiter: rate.NewLimiter(rate.Limit(realRate), burst), CoalesceWindow: time.Duration(float64(window) / benchSpeed)})
		f.createKey("alias/fleet")
		f.createFleet("bench", n)
		f.createFleet("solo", 1)

		// One migration alone, uncontended: the floor of any batch.
		solo := f.batch(nil)
		solo.Base.Poll = poll
		soloReq := fleet.BatchRequest{Regions: []string{region}, KmsKey: "alias/fleet", Concurrency: 1, Cutover: fleet.CutoverAuto,
			Selection: fleet.Selection{Exclude: []fleet.Glob{mustGlob(b, "bench-*")}}}
		plan, err := solo.Plan(context.Background(), soloReq)
		require.NoError(b, err)
		require.Equal(b, 1, plan.Planned())
		t0 := f.h.Now()
		rep := solo.Run(context.Background(), plan)
		require.Equal(b, 1, rep.Summary.Completed)
		soloVirtual := f.h.Now().Sub(t0)

		batch := f.batch(nil)
		batch.Base.Poll = poll
		req := fleet.BatchRequest{Regions: []string{region}, KmsKey: "alias/fleet", Concurrency: concurrency, Cutover: fleet.CutoverAuto,
			Selection: fleet.Selection{Exclude: []fleet.Glob{mustGlob(b, "solo-*")}}}
		plan, err = batch.Plan(context.Background(), req)
		require.NoError(b, err)
		require.Equal(b, n, plan.Planned())
		b.StartTimer()
		t0 = f.h.Now()
		before := f.h.Calls()
		rep = batch.Run(context.Background(), plan)
		actual := f.h.Now().Sub(t0)
		b.StopTimer()
		b.Logf("coalesce window %v (virtual); calls per migration by action: %s", window, perMigration(before, f.h.Calls(), n))
		if rep.Summary.Completed != n {
			for _, m := range rep.Migrations {
				if m.Outcome != fleet.OutcomeCompleted {
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

// perMigration lists the calls of each action made between two snapshots of the
// simulator's counts, per migration.
func perMigration(before, after map[string]int, n int) string {
	actions := make([]string, 0, len(after))
	for a := range after {
		if after[a] > before[a] {
			actions = append(actions, a)
		}
	}
	sort.Strings(actions)
	var sb strings.Builder
	for _, a := range actions {
		fmt.Fprintf(&sb, "%s=%.2f ", a, float64(after[a]-before[a])/float64(n))
	}
	return sb.String()
}

func mustGlob(tb testing.TB, s string) fleet.Glob {
	tb.Helper()
	g, err := fleet.ParseGlob(s)
	require.NoError(tb, err)
	return g
}
