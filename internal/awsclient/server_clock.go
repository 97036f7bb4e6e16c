package awsclient

import (
	"net/http"
	"sync"
	"time"
)

// serverClock tracks AWS's idea of the time: the Date header of the latest response plus
// the local time elapsed since it arrived. Date has a resolution of one second, which is
// plenty for comparing against AWS timestamps such as SnapshotCreateTime.
type serverClock struct {
	mu       sync.Mutex
	awsTime  time.Time // Date of the latest response
	observed time.Time // local monotonic time when it arrived
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
	if !t.Before(c.awsTime) {
		c.awsTime = t
		c.observed = time.Now()
	}
	return t
}

// now is the estimated AWS time, or the zero time before any response was seen.
func (c *serverClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.awsTime.IsZero() {
		return time.Time{}
	}
	return c.awsTime.Add(time.Since(c.observed))
}
