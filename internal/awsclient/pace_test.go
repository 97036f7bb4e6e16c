package awsclient

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// fakeClocks are an AWS clock and a local one; AWS's runs speed times faster.
type fakeClocks struct {
	aws, local time.Time
	speed      float64
}

func (c *fakeClocks) advanceLocal(d time.Duration) {
	c.local = c.local.Add(d)
	c.aws = c.aws.Add(time.Duration(float64(d) * c.speed))
}

func newPace(c *fakeClocks, expect time.Duration) *expectedEnd {
	p := newExpectedEnd(DefaultPollOptions, func() time.Time { return c.aws }, expect)
	p.localNow = func() time.Time { return c.local }
	return p
}

func TestPaceIsSparseWhileTheEndIsFarAndCloseAroundIt(t *testing.T) {
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	c := &fakeClocks{aws: start, local: start, speed: 1}
	p := newPace(c, time.Hour)
	// Until AWS's clock has run calibration, it backs off from Min.
	assert.Equal(t, 5*time.Second, p.next(true))
	c.advanceLocal(5 * time.Second)
	assert.Equal(t, 10*time.Second, p.next(false))
	c.advanceLocal(40 * time.Second)
	// Far from the end: the sparse delay.
	assert.Equal(t, sparseDelay, p.next(false))
	// 8 min before the end: a quarter of it.
	c.advanceLocal(time.Hour - 45*time.Second - 8*time.Minute)
	assert.Equal(t, 2*time.Minute, p.next(false))
	// 12 s before: no less than Min.
	c.advanceLocal(8*time.Minute - 12*time.Second)
	assert.Equal(t, 5*time.Second, p.next(false))
	// 1 min late: a quarter of it; 10 min late: no more than Max.
	c.advanceLocal(72 * time.Second)
	assert.Equal(t, 15*time.Second, p.next(false))
	c.advanceLocal(9 * time.Minute)
	assert.Equal(t, 30*time.Second, p.next(false))
}

func TestPaceConvertsAWSTimeToLocalDelays(t *testing.T) {
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	c := &fakeClocks{aws: start, local: start, speed: 500}
	p := newExpectedEnd(PollOptions{Min: 10 * time.Millisecond, Max: 60 * time.Millisecond},
		func() time.Time { return c.aws }, time.Hour)
	p.localNow = func() time.Time { return c.local }
	p.next(true)
	c.advanceLocal(100 * time.Millisecond) // 50 s of AWS time: calibrated
	assert.Equal(t, time.Duration(float64(sparseDelay)/500), p.next(false))
}

func TestPaceFollowsProgress(t *testing.T) {
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	c := &fakeClocks{aws: start, local: start, speed: 1}
	p := newPace(c, 10*time.Hour) // the estimate is far off
	p.next(true)
	p.observe(Observed{Status: "creating", Percent: 10})
	c.advanceLocal(10 * time.Minute)
	p.observe(Observed{Status: "creating", Percent: 20})
	// 10 percent in 10 minutes: the remaining 80 (less the half percent the last reading is
	// already past) take 79.5 minutes.
	assert.Equal(t, c.aws.Add(79*time.Minute+30*time.Second), p.end())
}
