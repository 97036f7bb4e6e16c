package awsclient

import (
	"net/http"
	"sync"
	"time"
)

// serverClock tracks AWS's idea of the time: the Date header of the latest response plus
// the local time elapsed since it arrived. Date has a resolution of one second, which is
// plenty for comparing against AWS timestamps such as SnapshotCreateTime.
//
// The estimate never goes back between readings: another response stamped with the same
// second (whose true time may be up to a second later than the stamp), or a new second
// arriving after the local clock ran ahead of AWS's, would otherwise move it back, and a
// duration measured between two readings (the write downtime) could come out negative.
type serverClock struct {
	mu       sync.Mutex
	awsTime  time.Time // Date of the latest response
	observed time.Time // local monotonic time when the first response with that Date arrived
	last     time.Time // the latest estimate handed out
	// local is the local clock; nil is time.Now (tests give a manual one).
	local func() time.Time
}

func (c *serverClock) localNow() time.Time {
	if c.local != nil {
		return c.local()
	}
	return time.Now()
}

// observe records the Date header of a response; it returns the parsed time, or the
// zero time when the header is missing or malformed.
func (c *serverClock) observe(header http.Header) time.Time {
	date := header.Get("Date")
	if date == "" {
		return time.Time{}
	}
	t, err := http.ParseTime(date)
	if err != nil {
		return time.Time{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.awsTime) { // the same second again says nothing new: keep counting from its first sight
		c.awsTime = t
		c.observed = c.localNow()
	}
	return t
}

// now is the estimated AWS time, or the zero time before any response was seen. Successive
// readings never decrease.
func (c *serverClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.awsTime.IsZero() {
		return time.Time{}
	}
	est := c.awsTime.Add(c.localNow().Sub(c.observed))
	if est.Before(c.last) {
		est = c.last
	}
	c.last = est
	return est
}
