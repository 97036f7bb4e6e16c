package mysql

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/replication"
)

// connecting is a replica whose I/O thread lost its source and waits for its next attempt.
var connecting = ReplicaStatus{Configured: true, IOConnecting: true, SQLRunning: true, LastIOErrno: 2013,
	LastIOError: "error reconnecting to master 'repl@source:3306' - retry-time: 60  maximum-retries: 100000  message: Lost connection to server at 'reading initial communication packet'"}

// TestReconnectingIsNotBroken: an I/O thread still connecting is not broken whatever its last
// error; an SQL thread error and the binary log gone (1236) are, at once (the old Broken called
// every I/O error of a thread not "Yes" broken).
func TestReconnectingIsNotBroken(t *testing.T) {
	if msg := connecting.Broken(); msg != "" {
		t.Fatalf("a reconnecting replica is broken: %s", msg)
	}
	sqlErr := connecting
	sqlErr.LastSQLError = "Could not execute Write_rows_v1 event on table shop.orders; Duplicate entry '7' for key 'PRIMARY'"
	if msg := sqlErr.Broken(); !strings.HasPrefix(msg, "SQL thread: ") {
		t.Fatalf("an SQL thread error while reconnecting: %q", msg)
	}
	gone := ReplicaStatus{Configured: true, SQLRunning: true, LastIOErrno: errBinlogGone,
		LastIOError: "Got fatal error 1236 from master when reading data from binary log: 'Could not find first log file name in binary log index file'"}
	if !gone.Lost() || gone.Broken() == "" {
		t.Fatalf("the binary log gone: lost %v, broken %q", gone.Lost(), gone.Broken())
	}
	c := &Conn{addr: "target:3306"}
	if err := c.brokenErr(gone); !errors.Is(err, replication.ErrStreamLost) {
		t.Fatalf("the binary log gone: %v", err)
	}
	if err := c.brokenErr(sqlErr); err == nil || errors.Is(err, replication.ErrStreamLost) {
		t.Fatalf("an SQL thread error: %v", err)
	}
	if err := c.brokenErr(connecting); err != nil {
		t.Fatalf("reconnecting: %v", err)
	}
	stopped := ReplicaStatus{Configured: true, SQLRunning: true, LastIOErrno: 1045, LastIOError: "Access denied"}
	if stopped.Broken() == "" {
		t.Fatal("an I/O thread stopped with an error is not broken")
	}
}

// TestReconnectSteps: a replica not connected is restarted at once when its I/O thread shows
// an error, again only every Every, reported in a warning meanwhile, broken at the bound, and
// forgotten once connected. The clock is the caller's: no real time passes.
func TestReconnectSteps(t *testing.T) {
	rc := Reconnect{Bound: time.Minute, Every: 5 * time.Second}
	t0 := time.Date(2026, 12, 6, 20, 0, 0, 0, time.UTC)
	var r reconnect
	first := ReplicaStatus{Configured: true, IOConnecting: true, SQLRunning: true} // the first attempt, no error yet
	if s, done := r.step(first, t0, rc); done || s.restart || s.broken != "" || s.warning != "" {
		t.Fatalf("first attempt: %+v %v", s, done)
	}
	if s, _ := r.step(connecting, t0.Add(time.Second), rc); !s.restart || !strings.Contains(s.warning, "Lost connection") {
		t.Fatalf("failed attempt: %+v", s)
	}
	if s, _ := r.step(connecting, t0.Add(3*time.Second), rc); s.restart || s.broken != "" {
		t.Fatalf("within Every of the restart: %+v", s)
	}
	if s, _ := r.step(connecting, t0.Add(6*time.Second), rc); !s.restart || !strings.Contains(s.warning, "restarted 2 time(s)") {
		t.Fatalf("Every after the restart: %+v", s)
	}
	s, _ := r.step(connecting, t0.Add(time.Minute), rc)
	if s.restart || !strings.Contains(s.broken, "not connected to the source for 1m0s") || !strings.Contains(s.broken, "Lost connection") {
		t.Fatalf("at the bound: %+v", s)
	}

	// A replica that connects again starts afresh.
	var rs reconnects
	rs.step("target:3306", connecting, t0, rc)
	if s := rs.step("target:3306", ReplicaStatus{Configured: true, IORunning: true, SQLRunning: true}, t0.Add(30*time.Second), rc); s != (reconnectStep{}) {
		t.Fatalf("connected: %+v", s)
	}
	if s := rs.step("target:3306", connecting, t0.Add(time.Hour), rc); s.broken != "" || !s.restart {
		t.Fatalf("lost again an hour later: %+v", s)
	}
	if s := rs.step("other:3306", connecting, t0.Add(time.Hour+rc.bound()), rc); s.broken != "" {
		t.Fatalf("another replica shares the follow-up: %+v", s)
	}
}
