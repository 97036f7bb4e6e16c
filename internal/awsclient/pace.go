package awsclient

import "time"

// expectedEnd is the pace of a wait whose end is expected at a known time: sparse while the
// end is far, close around it, backing off after it. The delay is a quarter of the distance
// to the expected end, at least Poll.Min, at most sparseDelay before it and Poll.Max after
// it: a wait that ends x early or late is seen about x/4 late, in few calls.
//
// The expected end is the step's estimate, or, once the resource reports progress, where its
// progress so far leads (PercentProgress of a snapshot or a copy).
//
// Expectations are on AWS's clock; delays are local. The pace measures how fast AWS's clock
// runs against the local one (1 against AWS, the simulator's speed against it) over the
// wait's first calibration of AWS time, and backs off from Poll.Min meanwhile.
type expectedEnd struct {
	opts     PollOptions
	clock    func() time.Time
	localNow func() time.Time
	expect   time.Duration // the step's estimate, from the first answer
	estimate time.Time     // the first answer + expect
	first    progressMark
	last     progressMark
	ref      struct{ aws, local time.Time }
	backoff  func(statusChanged bool) time.Duration
}

type progressMark struct {
	at      time.Time
	percent int
}

const (
	// sparseDelay is the longest delay before the expected end, on AWS's clock: a failure
	// is still seen within it.
	sparseDelay = 5 * time.Minute
	// calibration is how much AWS time a wait watches its clocks before it paces.
	calibration = 30 * time.Second
)

func newExpectedEnd(opts PollOptions, clock func() time.Time, expect time.Duration) *expectedEnd {
	return &expectedEnd{opts: opts, clock: clock, localNow: time.Now, expect: expect, backoff: backoff(opts)}
}

// observe notes the progress a poll reported.
func (p *expectedEnd) observe(o Observed) {
	if o.Percent <= 0 || o.Percent >= 100 {
		return
	}
	now := p.clock()
	if p.first.at.IsZero() {
		p.first = progressMark{at: now, percent: o.Percent}
	}
	if o.Percent > p.last.percent {
		p.last = progressMark{at: now, percent: o.Percent}
	}
}

// end is where the progress so far leads (it needs two readings apart), else the estimate.
func (p *expectedEnd) end() time.Time {
	done := p.last.percent - p.first.percent
	if done <= 0 {
		return p.estimate
	}
	perPercent := p.last.at.Sub(p.first.at) / time.Duration(done)
	// The percent is whole: the last reading is, on average, half a percent past its value.
	left := time.Duration(float64(perPercent) * (float64(100-p.last.percent) - 0.5))
	return p.last.at.Add(left)
}

func (p *expectedEnd) next(statusChanged bool) time.Duration {
	now, local := p.clock(), p.localNow()
	if p.ref.aws.IsZero() {
		p.ref.aws, p.ref.local = now, local
		p.estimate = now.Add(p.expect)
	}
	awsGone, localGone := now.Sub(p.ref.aws), local.Sub(p.ref.local)
	if awsGone < calibration || localGone <= 0 {
		return p.backoff(statusChanged)
	}
	speed := float64(awsGone) / float64(localGone) // AWS seconds per local second
	toLocal := func(d time.Duration) time.Duration { return time.Duration(float64(d) / speed) }
	left := p.end().Sub(now)
	if left > 0 {
		return min(max(toLocal(left/4), p.opts.Min), max(toLocal(sparseDelay), p.opts.Max))
	}
	return min(max(toLocal(-left/4), p.opts.Min), p.opts.Max)
}
