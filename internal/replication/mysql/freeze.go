package mysql

import (
	"context"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/replication"
)

// ReadOnly reports @@GLOBAL.read_only: on RDS the master user has no SUPER (nor MariaDB's READ
// ONLY ADMIN), so read_only set through the DB parameter group refuses its writes and every
// application user's; only replication threads still apply changes.
func (c *Conn) ReadOnly(ctx context.Context) (bool, error) {
	var ro bool
	if err := c.db.QueryRowContext(ctx, "SELECT @@GLOBAL.read_only").Scan(&ro); err != nil {
		return false, c.errorf("reading read_only: %w", err)
	}
	return ro, nil
}

// Session is another client's connection.
type Session struct {
	ID      int64
	User    string
	Host    string
	Command string
}

// serviceUsers are never ended: RDS's own, the server's threads, and replication connections.
var serviceUsers = map[string]bool{"rdsadmin": true, "rdsrepladmin": true, "system user": true, "event_scheduler": true}

// handshakeUser is PROCESSLIST's USER of a connection that has not authenticated yet (MariaDB
// and MySQL): the server learns the user name only from the client's authentication packet.
const handshakeUser = "unauthenticated user"

// Sessions lists the client sessions other than this pool's own, RDS's, the server's, the
// replication connections (Binlog Dump) and the connections still in their handshake: the
// sessions a freeze ends.
//
// A connection in its handshake is left alone because it may be a replica's I/O thread
// connecting to this source (for the first time after the attach, or again after losing its
// connection): until it authenticates, it cannot be told from an application's connection,
// and ending it stops the stream the drain waits for (the replica then waits MariaDB's
// connect retry, 60 s, inside the freeze). Leaving an application's connection in its
// handshake loses nothing: it has run no statement and holds no transaction or lock, and once
// it authenticates read_only binds it like every session opened after this list was read.
func (c *Conn) Sessions(ctx context.Context) ([]Session, error) {
	conn, err := c.db.Conn(ctx)
	if err != nil {
		return nil, c.errorf("%w", err)
	}
	defer conn.Close()
	rows, err := conn.QueryContext(ctx, `SELECT ID, USER, IFNULL(HOST, ''), IFNULL(COMMAND, '') FROM information_schema.PROCESSLIST
	  WHERE ID <> CONNECTION_ID() AND COMMAND NOT LIKE 'Binlog Dump%' AND COMMAND NOT IN ('Daemon', 'Slave_IO', 'Slave_SQL', 'Slave_worker')
	  AND USER <> ?`, handshakeUser)
	if err != nil {
		return nil, c.errorf("listing sessions: %w", err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		var s Session
		if err := rows.Scan(&s.ID, &s.User, &s.Host, &s.Command); err != nil {
			return nil, err
		}
		if !serviceUsers[s.User] {
			out = append(out, s)
		}
	}
	return out, rows.Err()
}

// EndSessions ends the given sessions with mysql.rds_kill (the master user's way without SUPER;
// RDS refuses rdsadmin's). A session that ended on its own meanwhile is not an error.
func (c *Conn) EndSessions(ctx context.Context, sessions []Session) (ended int, err error) {
	for _, s := range sessions {
		if err := c.call(ctx, "CALL mysql.rds_kill(?)", s.ID); err != nil {
			if gone, _ := c.sessionGone(ctx, s.ID); gone {
				continue
			}
			return ended, err
		}
		ended++
	}
	return ended, nil
}

func (c *Conn) sessionGone(ctx context.Context, id int64) (bool, error) {
	var n int
	err := c.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ?", id).Scan(&n)
	return n == 0, err
}

// StablePosition waits until the binary log end stays the same over `quiet` (no write is being
// logged: the freeze holds), polling every interval, and returns it. It gives up when ctx ends.
func (c *Conn) StablePosition(ctx context.Context, quiet, interval time.Duration) (Position, error) {
	last, err := c.MasterStatus(ctx)
	if err != nil {
		return Position{}, err
	}
	since := time.Now()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return last, c.errorf("the binary log did not stay at %s for %s: writes are still being logged (%w)", last, quiet, ctx.Err())
		case <-t.C:
		}
		p, err := c.MasterStatus(ctx)
		if err != nil {
			return Position{}, err
		}
		if p != last {
			last, since = p, time.Now()
			continue
		}
		if time.Since(since) >= quiet {
			return p, nil
		}
	}
}

// WaitApplied waits until the replica has applied the source's log up to p (the drain),
// polling every interval. It returns the replication error at once when replication breaks
// (wrapping replication.ErrStreamLost when the binary log it needs is gone). An I/O thread that
// is not connected to its source is restarted and waited for within rc (reconnect.go); past
// rc's bound the drain stops with an error. warning says what happened meanwhile ("" when
// the replica stayed connected).
func (c *Conn) WaitApplied(ctx context.Context, p Position, interval time.Duration, rc Reconnect) (st ReplicaStatus, warning string, err error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var down reconnect
	for {
		st, err := c.ReplicaStatus(ctx)
		if err != nil {
			return st, warning, err
		}
		if !st.Configured {
			return st, warning, c.errorf("%w", replication.ErrNotReplicating)
		}
		if err := c.brokenErr(st); err != nil {
			return st, warning, err
		}
		if !st.Executed.Before(p) && st.Executed.File != "" {
			return st, warning, nil
		}
		step, _ := down.step(st, time.Now(), rc)
		if step.broken != "" {
			return st, warning, c.errorf("replication broken: %s", step.broken)
		}
		if step.warning != "" {
			warning = step.warning
		}
		if step.restart {
			if err := c.Restart(ctx); err != nil {
				return st, warning, err
			}
		}
		select {
		case <-ctx.Done():
			return st, warning, c.errorf("replication applied %s, not yet %s (%w)", st.Executed, p, ctx.Err())
		case <-t.C:
		}
	}
}

// brokenErr is the error of a replica whose replication is broken (Broken), nil when it is not;
// a lost stream (Lost) wraps replication.ErrStreamLost.
func (c *Conn) brokenErr(st ReplicaStatus) error {
	msg := st.Broken()
	switch {
	case msg == "":
		return nil
	case st.Lost():
		return c.errorf("replication broken: %s: %w", msg, replication.ErrStreamLost)
	}
	return c.errorf("replication broken: %s", msg)
}
