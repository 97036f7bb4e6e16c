package mysql

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	driver "github.com/go-sql-driver/mysql"

	"github.com/rdsencrypt/rdsencrypt/internal/replication"
)

var (
	_ replication.AheadVerifier = (*Engine)(nil)
	_ replication.Advancer      = (*Engine)(nil)
)

// VerifyAhead compares every table while the source takes writes (docs/replication-mysql.md).
func (e *Engine) VerifyAhead(ctx context.Context, src, dst replication.Endpoint, n replication.Names) (replication.Verification, error) {
	t := &tables{e: e}
	v, err := replication.AheadVerify(ctx, t, src, dst, n)
	v.Warning = t.warning()
	return v, err
}

// VerifyChanged compares, inside the freeze, the tables written since VerifyAhead.
func (e *Engine) VerifyChanged(ctx context.Context, src, dst replication.Endpoint, ahead []replication.TableCheck) (replication.Verification, error) {
	t := &tables{e: e}
	v, err := replication.ChangedVerify(ctx, t, src, dst, ahead)
	v.Warning, v.Note = t.warning(), t.note()
	return v, err
}

// tables is the engine's replication.Tables. A table is named `schema`.`table`. Its markers
// are binary log positions (docs/replication-mysql.md#verification-ahead-of-the-freeze).
type tables struct {
	e        *Engine
	warnings []string
	events   int           // binary log events read
	reading  time.Duration // reading them took (local clock)
}

func (t *tables) warning() string { return strings.Join(t.warnings, "; ") }

func (t *tables) note() string {
	return fmt.Sprintf("read %d binary log events in %.2f s to find the tables changed since", t.events, t.reading.Seconds())
}

// Advance reads both sides' binary logs from the markers of the tables verified ahead up to
// now (replication.Advancer): right before the freeze, so that the reading inside it covers
// only what was logged since.
func (e *Engine) Advance(ctx context.Context, src, dst replication.Endpoint, ahead []replication.TableCheck) error {
	t := &tables{e: e}
	sm, dm := map[string]string{}, map[string]string{}
	for _, c := range ahead {
		sm[c.Table], dm[c.Table] = c.Marker, c.TargetMarker
	}
	if _, err := t.Unchanged(ctx, src, sm, false); err != nil {
		return err
	}
	_, err := t.Unchanged(ctx, dst, dm, false)
	return err
}

var baseTablesSQL = "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN (" + systemSchemaList() + ") ORDER BY 1, 2"

// baseTables are the application's base tables.
func (c *Conn) baseTables(ctx context.Context) ([]string, error) {
	rs, err := c.db.QueryContext(ctx, baseTablesSQL)
	if err != nil {
		return nil, c.errorf("listing tables: %w", err)
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		var s, t string
		if err := rs.Scan(&s, &t); err != nil {
			return nil, err
		}
		out = append(out, ident(s)+"."+ident(t))
	}
	return out, rs.Err()
}

func (t *tables) List(ctx context.Context, ep replication.Endpoint) (out []string, err error) {
	err = t.e.with(ctx, ep, func(c *Conn) error {
		out, err = c.baseTables(ctx)
		return err
	})
	return out, err
}

func (t *tables) Sums(ctx context.Context, ep replication.Endpoint, names []string) (map[string]replication.Sum, error) {
	out := map[string]replication.Sum{}
	err := t.e.with(ctx, ep, func(c *Conn) error {
		for _, name := range names {
			sum, err := c.sum(ctx, name, name)
			if err != nil {
				var me *driver.MySQLError
				if errors.As(err, &me) && me.Number == 1146 { // no such table on this side
					continue
				}
				return err
			}
			out[name] = replication.Sum{Rows: sum.Rows, Checksum: strconv.FormatInt(sum.Checksum, 10)}
		}
		return nil
	})
	return out, err
}

// Markers: the server's binary log position, the same for every table (see changeMarker).
func (t *tables) Markers(ctx context.Context, ep replication.Endpoint, names []string) (map[string]string, error) {
	out := map[string]string{}
	err := t.e.with(ctx, ep, func(c *Conn) error {
		m, err := c.changeMarker(ctx)
		if m != "" {
			for _, name := range names {
				out[name] = m
			}
		}
		return err
	})
	return out, err
}

// Unchanged: a table is unchanged when no event of the server's binary log from its marker's
// position to the log's end names it, and none may have changed any table (ReadChanges). The
// reading goes on from where the previous one on this server stopped. A marker of another
// server, or a binary log file purged in between, is "changed" (the latter with a warning).
func (t *tables) Unchanged(ctx context.Context, ep replication.Endpoint, markers map[string]string, _ bool) (map[string]bool, error) {
	out := map[string]bool{}
	err := t.e.with(ctx, ep, func(c *Conn) error {
		names, err := c.baseTables(ctx)
		if err != nil {
			return err
		}
		var id int64
		if err := c.db.QueryRowContext(ctx, "SELECT @@server_id").Scan(&id); err != nil {
			return c.errorf("read server_id: %w", err)
		}
		parsed := map[string]changeMarker{}
		var ch *Changes
		for _, name := range names {
			m, ok := parseChangeMarker(markers[name])
			if !ok || m.server != id {
				continue
			}
			parsed[name] = m
			if ch == nil || m.pos.Before(ch.From) {
				ch = &Changes{ServerID: id, OwnOnly: m.own, From: m.pos, Through: m.pos, Touched: map[string]Position{}}
			}
		}
		if ch == nil {
			return nil
		}
		key := fmt.Sprintf("%s/%d/%t", c.addr, id, ch.OwnOnly)
		if seen := t.e.scans.get(key); seen != nil && !ch.From.Before(seen.From) {
			ch = seen
		}
		began, read := time.Now(), ch.Events
		err = c.ReadChanges(ctx, ch)
		t.events, t.reading = t.events+ch.Events-read, t.reading+time.Since(began)
		switch {
		case errors.Is(err, ErrLogGone):
			t.warnings = append(t.warnings, err.Error()+": every table is compared inside the freeze")
			return nil
		case err != nil:
			return err
		}
		t.e.scans.put(key, ch)
		for name, m := range parsed {
			out[name] = m.own == ch.OwnOnly && ch.Since(name, m.pos)
		}
		return nil
	})
	return out, err
}

// changeMarker is a server's binary log position as a table's change marker: every change
// of the table after the marker was read is an event at or after it. On the target of the
// stream (a replica through the tool's user) only the target's own events count: the
// stream's carry the source's server_id, a client of the target writes the target's.
type changeMarker struct {
	server int64
	own    bool
	pos    Position
}

const (
	markerAll = "binlog"     // every event counts (the source)
	markerOwn = "binlog-own" // only the server's own events count (the target)
)

func (m changeMarker) String() string {
	kind := markerAll
	if m.own {
		kind = markerOwn
	}
	return fmt.Sprintf("%s:%d:%s", kind, m.server, m.pos)
}

func parseChangeMarker(s string) (changeMarker, bool) {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) != 3 || parts[0] != markerAll && parts[0] != markerOwn {
		return changeMarker{}, false // "" or another format (UPDATE_TIME, from an older journal)
	}
	id, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return changeMarker{}, false
	}
	p, err := ParsePosition(parts[2])
	return changeMarker{server: id, own: parts[0] == markerOwn, pos: p}, err == nil
}

// changeMarker reads the server's change marker: "" when it writes no binary log (every
// table is then compared inside the freeze), or, on the stream's target, while a client of
// the target has a write in flight. InnoDB writes a transaction to the binary log before it
// commits: one logged before the position but committed after the target's rows were read
// would be in neither. (On the source such a transaction is in the target's rows, which are
// read once the target applied everything, and not in the source's: they differ and the
// table is compared again.)
func (c *Conn) changeMarker(ctx context.Context) (string, error) {
	var id int64
	var logBin int
	if err := c.db.QueryRowContext(ctx, "SELECT @@server_id, @@log_bin").Scan(&id, &logBin); err != nil {
		return "", c.errorf("read server_id and log_bin: %w", err)
	}
	if logBin != 1 {
		return "", nil
	}
	st, err := c.ReplicaStatus(ctx)
	if err != nil {
		return "", err
	}
	own := st.Configured && strings.HasPrefix(st.SourceUser, replication.Prefix)
	p, err := c.MasterStatus(ctx)
	if err != nil {
		return "", err
	}
	if own {
		var writers int
		if err := c.db.QueryRowContext(ctx, inFlightWritesSQL).Scan(&writers); err != nil {
			return "", c.errorf("read the transactions in flight: %w", err)
		}
		if writers > 0 {
			return "", nil
		}
	}
	return changeMarker{server: id, own: own, pos: p}.String(), nil
}

// inFlightWritesSQL counts the InnoDB transactions that changed rows and are not the replica's
// own threads ("system user").
const inFlightWritesSQL = "SELECT COUNT(*) FROM information_schema.INNODB_TRX t LEFT JOIN information_schema.PROCESSLIST p " +
	"ON p.ID = t.trx_mysql_thread_id WHERE t.trx_rows_modified > 0 AND COALESCE(p.USER, '') <> 'system user'"

// CaughtUp waits until dst has applied the source's current binary log end.
func (t *tables) CaughtUp(ctx context.Context, src, dst replication.Endpoint, n replication.Names) error {
	var p Position
	if err := t.e.with(ctx, src, func(c *Conn) (err error) { p, err = c.MasterStatus(ctx); return err }); err != nil {
		return err
	}
	_, err := t.e.Drain(ctx, src, dst, n, p.String())
	return err
}
