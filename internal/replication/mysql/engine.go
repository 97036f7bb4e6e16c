package mysql

import (
	"context"
	gotls "crypto/tls"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/replication"
)

// Engine is binary log replication for RDS for MySQL and MariaDB (replication.Engine and
// replication.Reverser). docs/replication.md#mysql-and-mariadb-binlog-replication.
type Engine struct {
	// RetentionHours is the binary log retention the source must have for the migration
	// (mysql.rds_configuration 'binlog retention hours'): at least the estimated migration
	// time. Preconditions reports less as a blocker; PrepareSource raises it (an approved
	// change of the source).
	RetentionHours int
	// Quiet is how long the source's binary log must stay at the same position for Freeze
	// to call it stable.
	Quiet time.Duration
	// scans is what was read of each server's binary log for the verification ahead of the
	// freeze (changes.go).
	scans scanCache
	// Reconnect is how Lag and Drain treat a replica that is not connected to its source
	// (zero: the defaults, reconnect.go).
	Reconnect Reconnect

	down reconnects // Lag's follow-ups of replicas not connected to their source
}

// New is the engine with a 24-hour retention requirement.
func New() replication.Engine { return &Engine{RetentionHours: 24, Quiet: time.Second} }

var (
	_ replication.Engine   = (*Engine)(nil)
	_ replication.Reverser = (*Engine)(nil)
)

// Name is "mysql" (mysql and mariadb).
func (e *Engine) Name() string { return "mysql" }

func (e *Engine) open(ctx context.Context, ep replication.Endpoint) (*Conn, error) {
	tls := TLSVerify
	switch ep.TLS {
	case "prefer":
		tls = TLSPreferred
	case "disable":
		tls = TLSOff
	case "", "require":
	default:
		return nil, fmt.Errorf("database %s: unknown TLS mode %q (require, prefer or disable)", ep, ep.TLS)
	}
	var cfg *gotls.Config
	if tls == TLSVerify {
		cfg = &gotls.Config{ServerName: ep.Host, RootCAs: ep.RootCAs, MinVersion: gotls.VersionTLS12}
	}
	return Open(ctx, Endpoint{Host: ep.Host, Port: int(ep.Port), User: ep.User, Password: ep.Password, TLS: tls, TLSConfig: cfg, Cleartext: ep.Token})
}

func (e *Engine) with(ctx context.Context, ep replication.Endpoint, fn func(*Conn) error) error {
	c, err := e.open(ctx, ep)
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(c)
}

// Preconditions reads the source's binary log settings and tables.
func (e *Engine) Preconditions(ctx context.Context, src replication.Endpoint) ([]replication.Finding, error) {
	var out []replication.Finding
	err := e.with(ctx, src, func(c *Conn) error {
		ch, err := c.Check(ctx)
		if err != nil {
			return err
		}
		for _, p := range ch.Problems(e.RetentionHours) {
			f := replication.Finding{Severity: replication.Warning, What: p.What, Do: p.Fix}
			if p.Blocking {
				f.Severity = replication.Blocker
			}
			if strings.HasPrefix(p.What, "binlog retention hours") {
				// PrepareSource makes this change, inside the approval of its step.
				f.Severity = replication.Warning
				f.Do = fmt.Sprintf("rdsencrypt sets it to %d h when it prepares the source (%s); set it back after the migration if you want", e.RetentionHours, p.Fix)
			}
			switch {
			case strings.HasPrefix(p.What, "tables without a primary key"):
				f.Objects = ch.NoPrimaryKey
			case strings.HasPrefix(p.What, "tables not on InnoDB"):
				f.Objects = ch.NotTransactional
			}
			out = append(out, f)
		}
		out = append(out, replication.Finding{Severity: replication.Warning,
			What: "DDL during the migration is replicated, but a failed statement stops replication",
			Do:   "avoid schema changes until the cutover"})
		return nil
	})
	return out, err
}

// PrepareSource creates the replication user (REPLICATION SLAVE only) and raises the binary log
// retention to RetentionHours when it is lower. It returns the source's binary log position
// (for the record: the stream starts where the restored target's recovery ended).
func (e *Engine) PrepareSource(ctx context.Context, src replication.Endpoint, n replication.Names) (string, error) {
	var pos Position
	err := e.with(ctx, src, func(c *Conn) error {
		if err := c.EnsureUser(ctx, n.User, NewPassword(), src.TLS == "" || src.TLS == "require"); err != nil {
			return err
		}
		hours, err := c.RetentionHours(ctx)
		if err != nil {
			return err
		}
		if hours < e.RetentionHours {
			if err := c.SetRetentionHours(ctx, e.RetentionHours); err != nil {
				return err
			}
		}
		pos, err = c.MasterStatus(ctx)
		return err
	})
	return pos.String(), err
}

// RecoveryLog is the MariaDB error log, where a restore's crash recovery writes its position.
func (e *Engine) RecoveryLog() string { return "mysql-error-running" }

// StartPosition is the source's binary log position the restored data ends at.
func (e *Engine) StartPosition(logText string) (string, bool, error) {
	p, err := RecoveryPosition(logText)
	if err != nil {
		return "", false, nil
	}
	return p.String(), true, nil
}

// ParsePosition reads "file:pos".
func ParsePosition(s string) (Position, error) {
	i := strings.LastIndexByte(s, ':')
	if i <= 0 {
		return Position{}, fmt.Errorf("binary log position %q: want file:position", s)
	}
	pos, err := strconv.ParseInt(s[i+1:], 10, 64)
	if err != nil || pos <= 0 {
		return Position{}, fmt.Errorf("binary log position %q: want file:position", s)
	}
	return Position{File: s[:i], Pos: pos}, nil
}

// Attach makes dst a replica of src from start. When dst already replicates from src (a run
// interrupted after attaching), it only makes sure replication runs: attaching again from start
// would apply the events since then a second time.
func (e *Engine) Attach(ctx context.Context, src, dst replication.Endpoint, n replication.Names, start string) error {
	p, err := ParsePosition(start)
	if err != nil {
		return err
	}
	return e.attach(ctx, src, dst, n, p)
}

func (e *Engine) attach(ctx context.Context, src, dst replication.Endpoint, n replication.Names, p Position) error {
	s, err := e.open(ctx, src)
	if err != nil {
		return err
	}
	defer s.Close()
	d, err := e.open(ctx, dst)
	if err != nil {
		return err
	}
	defer d.Close()
	st, err := d.ReplicaStatus(ctx)
	if err != nil {
		return err
	}
	if st.Configured && st.SourceHost == src.Host && st.SourcePort == int(src.Port) {
		if msg := st.Broken(); msg != "" {
			return d.errorf("replication from %s is broken: %s", src.Host, msg)
		}
		if !st.Running() {
			return d.Start(ctx)
		}
		return nil
	}
	// TLS on the replica's own connection whenever the tool's connection requires it.
	ssl := src.TLS == "" || src.TLS == "require"
	password := NewPassword()
	if err := s.EnsureUser(ctx, n.User, password, ssl); err != nil {
		return err
	}
	return d.Attach(ctx, Source{Host: src.Host, Port: int(src.Port), User: n.User, Password: password, SSL: ssl}, p)
}

func toLag(l Lag) replication.Lag {
	return replication.Lag{Source: l.Source.String(), Applied: l.Executed.String(), Bytes: l.Bytes,
		Seconds: float64(l.Seconds), Caught: l.CaughtUp()}
}

// Lag compares the source's binary log end with the target's applied position; a broken
// replication is an error carrying the server's message. A replica not connected to its source
// is restarted and reported in the Lag's Warning until Reconnect's bound, then an error
// (reconnect.go).
func (e *Engine) Lag(ctx context.Context, src, dst replication.Endpoint, n replication.Names) (replication.Lag, error) {
	s, err := e.open(ctx, src)
	if err != nil {
		return replication.Lag{}, err
	}
	defer s.Close()
	d, err := e.open(ctx, dst)
	if err != nil {
		return replication.Lag{}, err
	}
	defer d.Close()
	l, st, err := LagOf(ctx, s, d)
	if err != nil {
		return replication.Lag{}, err
	}
	if !st.Configured {
		return toLag(l), d.errorf("%w", replication.ErrNotReplicating)
	}
	if err := d.brokenErr(st); err != nil {
		return toLag(l), err
	}
	out := toLag(l)
	step := e.down.step(d.addr, st, time.Now(), e.Reconnect)
	if step.broken != "" {
		return out, d.errorf("replication broken: %s", step.broken)
	}
	if step.restart {
		if err := d.Restart(ctx); err != nil {
			return out, err
		}
	}
	out.Warning = step.warning
	return out, nil
}

// errBinlogGone is ER_MASTER_FATAL_ERROR_READING_BINLOG, the replica's I/O error when the
// source has purged the binary log it needs (MariaDB's and MySQL's error references).
const errBinlogGone = 1236

// ErrNotReadOnly is Freeze's answer on a source whose read_only is off: without SUPER, only
// the DB parameter group can set it, which is the workflow's AWS call.
var ErrNotReadOnly = errors.New("read_only is off: set read_only=1 in the source's DB parameter group (ApplyMethod immediate) first")

// Freeze verifies the source refuses writes (read_only on, set by the workflow through the
// parameter group: the master user has no SUPER), ends the application sessions with
// mysql.rds_kill, and waits until the binary log end stays put for Quiet.
func (e *Engine) Freeze(ctx context.Context, src replication.Endpoint, n replication.Names) (replication.Frozen, error) {
	var fr replication.Frozen
	err := e.with(ctx, src, func(c *Conn) error {
		ro, err := c.ReadOnly(ctx)
		if err != nil {
			return err
		}
		if !ro {
			return c.errorf("%w", ErrNotReadOnly)
		}
		sessions, err := c.Sessions(ctx)
		if err != nil {
			return err
		}
		var ours []Session
		for _, s := range sessions {
			if s.User != n.User {
				ours = append(ours, s)
			}
		}
		if fr.SessionsEnded, err = c.EndSessions(ctx, ours); err != nil {
			return err
		}
		p, err := c.StablePosition(ctx, e.Quiet, replication.Poll)
		if err != nil {
			return err
		}
		fr.Position = p.String()
		return nil
	})
	return fr, err
}

// Unfreeze checks that writes are accepted again (read_only is lifted through the parameter
// group by the workflow).
func (e *Engine) Unfreeze(ctx context.Context, ep replication.Endpoint, _ []string) error {
	return e.with(ctx, ep, func(c *Conn) error {
		ro, err := c.ReadOnly(ctx)
		if err != nil {
			return err
		}
		if ro {
			return c.errorf("read_only is still on: reset read_only in the DB parameter group")
		}
		return nil
	})
}

// Drain waits until dst has applied the source's log up to the frozen position.
func (e *Engine) Drain(ctx context.Context, src, dst replication.Endpoint, n replication.Names, frozen string) (replication.Lag, error) {
	p, err := ParsePosition(frozen)
	if err != nil {
		return replication.Lag{}, err
	}
	var st ReplicaStatus
	var warning string
	err = e.with(ctx, dst, func(d *Conn) error {
		st, warning, err = d.WaitApplied(ctx, p, replication.Poll, e.Reconnect)
		return err
	})
	return replication.Lag{Source: p.String(), Applied: st.Executed.String(), Seconds: float64(st.SecondsBehind),
		Caught: err == nil, Warning: warning}, err
}

// Verify compares COUNT(*) and CHECKSUM TABLE of every base table on both sides.
func (e *Engine) Verify(ctx context.Context, src, dst replication.Endpoint) (replication.Verification, error) {
	var ss, ds []TableSum
	if err := e.with(ctx, src, func(c *Conn) (err error) { ss, err = c.Sums(ctx); return err }); err != nil {
		return replication.Verification{}, err
	}
	if err := e.with(ctx, dst, func(c *Conn) (err error) { ds, err = c.Sums(ctx); return err }); err != nil {
		return replication.Verification{}, err
	}
	byName := map[string]TableSum{}
	for _, t := range ds {
		byName[t.Table] = t
	}
	var v replication.Verification
	for _, s := range ss {
		t, ok := byName[s.Table]
		delete(byName, s.Table)
		tc := replication.TableCheck{Table: s.Table, SourceRows: s.Rows, SourceChecksum: strconv.FormatInt(s.Checksum, 10),
			TargetRows: -1, TargetChecksum: "missing"}
		if ok {
			tc.TargetRows, tc.TargetChecksum = t.Rows, strconv.FormatInt(t.Checksum, 10)
		}
		v.Tables = append(v.Tables, tc)
	}
	for _, t := range ds {
		if _, extra := byName[t.Table]; extra {
			v.Tables = append(v.Tables, replication.TableCheck{Table: t.Table, SourceRows: -1, SourceChecksum: "missing",
				TargetRows: t.Rows, TargetChecksum: strconv.FormatInt(t.Checksum, 10)})
		}
	}
	return v, nil
}

// SyncSequences does nothing: AUTO_INCREMENT counters and MariaDB SEQUENCE objects change
// through the binary log like rows, so the replica has them.
func (e *Engine) SyncSequences(ctx context.Context, src, dst replication.Endpoint) (int, error) {
	return 0, nil
}

// Detach stops replication on dst and forgets its source.
func (e *Engine) Detach(ctx context.Context, dst replication.Endpoint, n replication.Names) error {
	return e.with(ctx, dst, func(c *Conn) error { return c.Detach(ctx) })
}

// Cleanup stops replication that runs as the migration's user on ep and drops the user. A
// server that is read_only (the source between the freeze and the unfreeze, and the retired
// source after cutover) refuses DROP USER to the master user: there the user stays, holding
// REPLICATION SLAVE only with a password nobody knows, Cleanup succeeds, and Leftovers (scan)
// still lists it; a Cleanup after the server accepts writes again drops it.
func (e *Engine) Cleanup(ctx context.Context, ep replication.Endpoint, n replication.Names) error {
	return e.with(ctx, ep, func(c *Conn) error {
		st, err := c.replicaUser(ctx)
		if err != nil {
			return err
		}
		if st == n.User {
			if err := c.Detach(ctx); err != nil {
				return err
			}
		}
		ro, err := c.ReadOnly(ctx)
		if err != nil {
			return err
		}
		if ro {
			return nil
		}
		return c.DropUser(ctx, n.User)
	})
}

func (c *Conn) replicaUser(ctx context.Context) (string, error) {
	st, err := c.ReplicaStatus(ctx)
	return st.SourceUser, err
}

// Leftovers lists the tool's replication users on ep and a replication that runs as one.
func (e *Engine) Leftovers(ctx context.Context, ep replication.Endpoint) ([]replication.Leftover, error) {
	var out []replication.Leftover
	err := e.with(ctx, ep, func(c *Conn) error {
		users, err := c.Users(ctx)
		if err != nil {
			return err
		}
		for _, u := range users {
			out = append(out, replication.Leftover{Object: "user " + u, Drop: "DROP USER " + u})
		}
		if ru, err := c.replicaUser(ctx); err != nil {
			return err
		} else if strings.HasPrefix(ru, replication.Prefix) {
			st, err := c.ReplicaStatus(ctx)
			if err != nil {
				return err
			}
			out = append(out, replication.Leftover{Object: fmt.Sprintf("replication from %s:%d as %s", st.SourceHost, st.SourcePort, ru),
				Drop: "CALL mysql.rds_stop_replication; CALL mysql.rds_reset_external_master"})
		}
		return nil
	})
	return out, err
}

// PrepareReverse reads the new primary's binary log position while writes are still frozen:
// the reverse stream starts there.
func (e *Engine) PrepareReverse(ctx context.Context, newPrimary replication.Endpoint, n replication.Names) (string, error) {
	var p Position
	err := e.with(ctx, newPrimary, func(c *Conn) (err error) { p, err = c.MasterStatus(ctx); return err })
	return p.String(), err
}

// AttachReverse makes the old source a replica of the new primary from start (its replication
// thread applies changes although the old source stays read_only).
func (e *Engine) AttachReverse(ctx context.Context, newPrimary, old replication.Endpoint, n replication.Names, start string) error {
	return e.Attach(ctx, newPrimary, old, n, start)
}
