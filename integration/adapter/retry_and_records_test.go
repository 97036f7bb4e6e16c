package adapter_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/model"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/awsclient"
	"github.com/rdsencrypt/rdsencrypt/internal/rdssim"
)

func TestThrottlingIsRetriedUntilItPasses(t *testing.T) {
	var mu sync.Mutex
	attempts := 0
	e := startSim(t, awsclient.Config{OnCall: func(r awsclient.CallRecord) {
		mu.Lock()
		defer mu.Unlock()
		attempts += r.Attempts
	}})
	ctx := e.ctx(t)
	e.seedInstance(t, "us-east-1", "app", nil)
	e.h.Faults(rdssim.FaultRequest{Throttle: &rdssim.Throttle{RatePerSecond: 50, Burst: 1, Actions: []string{"DescribeDBInstances"}}})
	for range 10 {
		_, err := e.api.DescribeInstance(ctx, "app")
		require.NoError(t, err)
	}
	if e.h.Sim != nil {
		assert.Positive(t, e.h.Sim.Throttled(), "the throttle did bite")
	}
	assert.Greater(t, attempts, 10, "throttled attempts were retried")
}

func TestThrottlingExhaustedIsKindThrottled(t *testing.T) {
	e := startSim(t, awsclient.Config{MaxAttempts: 3, MaxBackoff: time.Millisecond})
	e.h.Faults(rdssim.FaultRequest{Throttle: &rdssim.Throttle{RatePerSecond: 0.001, Burst: 1, Actions: []string{"DescribeDBSnapshots"}}})
	ctx := e.ctx(t)
	_, _ = e.api.DescribeSnapshot(ctx, "x") // spends the only token
	_, err := e.api.DescribeSnapshot(ctx, "x")
	got := requireKind(t, model.FailureThrottled, err)
	assert.Equal(t, "Throttling", got.Code)
}

type countingLimiter struct{ n atomic.Int32 }

func (l *countingLimiter) Wait(context.Context) error { l.n.Add(1); return nil }

func TestSharedLimiterSeesEveryAttempt(t *testing.T) {
	lim := &countingLimiter{}
	e := startSim(t, awsclient.Config{Limiter: lim})
	_, err := e.api.ListInstances(e.ctx(t))
	require.NoError(t, err)
	_, err = e.client.For("eu-west-1").ListSnapshots(e.ctx(t))
	require.NoError(t, err)
	assert.Equal(t, int32(2), lim.n.Load())
}

func TestCallRecordsCarryVirtualAWSTime(t *testing.T) {
	var mu sync.Mutex
	var records []awsclient.CallRecord
	e := startSim(t, awsclient.Config{OnCall: func(r awsclient.CallRecord) {
		mu.Lock()
		defer mu.Unlock()
		records = append(records, r)
	}})
	ctx := e.ctx(t)
	assert.True(t, e.api.ServerTime().IsZero(), "no response yet")
	e.seedInstance(t, "us-east-1", "app", nil)
	_, err := e.api.CreateSnapshot(ctx, "App", "Snap1", nil)
	require.NoError(t, err)

	mu.Lock()
	last := records[len(records)-1]
	mu.Unlock()
	assert.Equal(t, "CreateDBSnapshot", last.Action)
	assert.Equal(t, "us-east-1", last.Region)
	assert.Equal(t, "snap1", last.Target)
	assert.NotEmpty(t, last.RequestID)
	assert.NoError(t, last.Err)
	// The simulator's Date header is its virtual clock, far ahead of the start.
	assert.True(t, last.AWSTime.After(start), "AWSTime %v", last.AWSTime)
	assert.WithinDuration(t, e.h.Now(), e.api.ServerTime(), 24*time.Hour)
	assert.False(t, e.api.ServerTime().Before(last.AWSTime))
}
