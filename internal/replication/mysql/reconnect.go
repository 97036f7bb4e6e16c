package mysql

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// A replica's I/O thread that loses its connection to the source (the source restarting, a
// network fault, a connection ended on the source) reconnects on its own, but after a failed
// attempt it waits MASTER_CONNECT_RETRY (60 s by default) before the next one, showing
// Slave_IO_Running "Connecting" and the attempt's error meanwhile. RDS's
// mysql.rds_set_external_master has no parameter for that interval (RDS user guide,
// "Configuring, starting, and stopping binary log (binlog) replication"), so Lag and Drain help
// such a replica themselves: within a bound they restart replication with
// mysql.rds_stop_replication and mysql.rds_start_replication, which makes the I/O thread connect
// at once from the position it had read (no event is skipped or read twice), and only past the
// bound call the stream broken. docs/replication-mysql.md#a-replica-that-loses-its-source.

// Reconnect is how Lag and Drain treat a replica whose I/O thread is not connected to its
// source.
type Reconnect struct {
	// Bound is how long the I/O thread may stay unconnected before the stream is called
	// broken (a resumable error, not replication.ErrStreamLost); zero: a minute.
	Bound time.Duration
	// Every is the least time between two restarts; zero: 5 s. A connection attempt (TCP, TLS,
	// authentication) takes well under that on a live source.
	Every time.Duration
}

func (rc Reconnect) bound() time.Duration {
	if rc.Bound > 0 {
		return rc.Bound
	}
	return time.Minute
}

func (rc Reconnect) every() time.Duration {
	if rc.Every > 0 {
		return rc.Every
	}
	return 5 * time.Second
}

// reconnect follows one replica whose I/O thread is not connected to its source.
type reconnect struct {
	since     time.Time // first seen not connected
	restarted time.Time // last restart by the engine (zero: none)
	restarts  int
	lastError string // the I/O thread's error that the last restart answered
}

// reconnectStep is what to do about a replica's status.
type reconnectStep struct {
	restart bool   // restart replication now
	broken  string // the stream is broken (past the bound): the reason
	warning string // the stream is reconnecting within the bound: what the operator should know
}

// step decides, at now, about a replica in status st. A replica whose I/O thread is connected
// ends the follow-up (done). A fatal error (Broken, the binary log gone) is not handled here.
func (r *reconnect) step(st ReplicaStatus, now time.Time, rc Reconnect) (s reconnectStep, done bool) {
	bound, every := rc.bound(), rc.every()
	if !st.IOConnecting {
		return s, true
	}
	if r.since.IsZero() {
		r.since = now
	}
	down := now.Sub(r.since)
	if down >= bound {
		s.broken = fmt.Sprintf("I/O thread: not connected to the source for %s (restarted %d time(s)): %s", down.Round(time.Second), r.restarts, r.ioError(st))
		return s, false
	}
	// An error shown means an attempt failed and the thread waits for the next one; restart,
	// but not more often than every: a source that is down is not hammered, and the attempt a
	// restart began has time to finish (the error that restart answered may still show).
	if st.LastIOError != "" && (r.restarted.IsZero() || now.Sub(r.restarted) >= every) {
		s.restart = true
		r.restarted, r.lastError = now, st.LastIOError
		r.restarts++
	}
	// A first attempt under way (no error, no restart yet) is not worth a warning.
	if e := r.ioError(st); e != "" {
		s.warning = fmt.Sprintf("the replica is not connected to the source for %s (replication restarted %d time(s)); calling it broken after %s: %s",
			down.Round(time.Second), r.restarts, bound, e)
	}
	return s, false
}

func (r *reconnect) ioError(st ReplicaStatus) string {
	if st.LastIOError != "" {
		return st.LastIOError
	}
	return r.lastError
}

// Restart stops and starts replication (mysql.rds_stop_replication, then
// mysql.rds_start_replication): the I/O thread connects to its source at once, from the
// position it had read.
func (c *Conn) Restart(ctx context.Context) error {
	if err := c.Stop(ctx); err != nil {
		return err
	}
	return c.Start(ctx)
}

// reconnects holds the follow-ups of the replicas Lag looks at, by the replica's address: Lag
// is called again and again, and the bound runs across the calls.
type reconnects struct {
	mu sync.Mutex
	by map[string]*reconnect
}

// step is reconnect.step for the replica at addr; a connected replica's follow-up ends.
func (rs *reconnects) step(addr string, st ReplicaStatus, now time.Time, rc Reconnect) reconnectStep {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	r := rs.by[addr]
	if r == nil {
		r = &reconnect{}
	}
	s, done := r.step(st, now, rc)
	switch {
	case done:
		delete(rs.by, addr)
	case rs.by == nil:
		rs.by = map[string]*reconnect{addr: r}
	default:
		rs.by[addr] = r
	}
	return s
}
