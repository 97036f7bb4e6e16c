package rdssim

import "time"

// clock is the simulator's virtual clock:
//
//	now = start + offset + (real time elapsed since creation) * speed
//
// offset grows only through Advance. With manual set, real time does not count: the clock
// moves only when Advance is called, which gives tests exact virtual instants.
// The clock is guarded by Sim.mu.
type clock struct {
	start     time.Time
	realStart time.Time
	offset    time.Duration
	speed     float64
	manual    bool
}

func newClock(start time.Time, speed float64, manual bool) *clock {
	return &clock{start: start, realStart: time.Now(), speed: speed, manual: manual}
}

func (c *clock) now() time.Time {
	t := c.start.Add(c.offset)
	if !c.manual {
		t = t.Add(time.Duration(float64(time.Since(c.realStart)) * c.speed))
	}
	return t.UTC()
}

func (c *clock) advance(d time.Duration) {
	if d > 0 {
		c.offset += d
	}
}
