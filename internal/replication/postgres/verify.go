package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rdsencrypt/rdsencrypt/internal/replication"
)

var _ replication.AheadVerifier = (*Engine)(nil)

// tables is the engine's replication.Tables. With Endpoint.Databases a table is named
// "database"."schema"."table" and each is read in its database; without, "schema"."table"
// in the connected database.
// skip are tables another comparison settled (verify_keys.go): List leaves them out.
type tables struct {
	e    *Engine
	skip map[string]replication.TableCheck
}

func (t tables) List(ctx context.Context, ep replication.Endpoint) ([]string, error) {
	var out []string
	err := inDatabases(ctx, ep, nil, func(c *pgx.Conn, db string, _ []string) error {
		names, err := userTables(ctx, c)
		for _, name := range names {
			if _, ok := t.skip[qualify(db, name)]; !ok {
				out = append(out, qualify(db, name))
			}
		}
		return err
	})
	return out, err
}

func (tables) Sums(ctx context.Context, ep replication.Endpoint, names []string) (map[string]replication.Sum, error) {
	out := map[string]replication.Sum{}
	err := inDatabases(ctx, ep, names, func(c *pgx.Conn, db string, names []string) error {
		for _, t := range names {
			var s replication.Sum
			if err := c.QueryRow(ctx, checksumSQL(t)).Scan(&s.Rows, &s.Checksum); err != nil {
				if isCode(err, "42P01") { // missing on this side
					continue
				}
				return fmt.Errorf("checksum %s on %s: %w", t, ep.Host, err)
			}
			out[qualify(db, t)] = s
		}
		return nil
	})
	return out, err
}

// qualify names table t of database db ("" without Endpoint.Databases).
func qualify(db, t string) string {
	if db == "" {
		return t
	}
	return ident(db) + "." + t
}

// inDatabases runs f in each database of ep (ep.Databases; without, the connected one, db "")
// with the names of tables there, unqualified; with tables nil, in every database.
func inDatabases(ctx context.Context, ep replication.Endpoint, tables []string, f func(c *pgx.Conn, db string, tables []string) error) error {
	if len(ep.Databases) == 0 {
		return with(ctx, ep, func(c *pgx.Conn) error { return f(c, "", tables) })
	}
	byDB := map[string][]string{}
	for _, t := range tables {
		db, rest := splitDatabase(t)
		byDB[db] = append(byDB[db], rest)
	}
	for _, db := range ep.Databases {
		if tables != nil && len(byDB[db]) == 0 {
			continue
		}
		if err := with(ctx, ep.In(db), func(c *pgx.Conn) error { return f(c, db, byDB[db]) }); err != nil {
			return fmt.Errorf("database %s: %w", db, err)
		}
	}
	return nil
}

// splitDatabase splits a qualified name into its database and the rest: the first quoted
// identifier ("" inside it is a quote) and what follows its dot.
func splitDatabase(name string) (db, rest string) {
	for i := 1; i < len(name); i++ {
		if name[i] != '"' {
			continue
		}
		if i+1 < len(name) && name[i+1] == '"' {
			i++
			continue
		}
		return strings.ReplaceAll(name[1:i], `""`, `"`), strings.TrimPrefix(name[i+1:], ".")
	}
	return "", name
}

// markersSQL reads each table's change marker: its file node (TRUNCATE, VACUUM FULL and
// CLUSTER give a new one), its cumulative counts of inserted, updated (HOT included) and
// deleted rows, and what would reset those counts: the database's stats_reset (pg_stat_reset,
// pg_stat_reset_single_table_counters), the postmaster's start (a restart) and
// pg_stat_bgwriter's stats_reset (statistics discarded after a crash reset it). A partitioned
// table has no counts of its own (its partitions have), so it gets no marker. Markers need
// PostgreSQL 15 (statistics in shared memory, flushed at the latest when a session ends; before
// 15 a collector process received them by UDP and could drop them) and track_counts on.
const markersSQL = `SELECT n.nspname, c.relname,
	CASE WHEN c.relkind = 'p' OR s.relid IS NULL OR current_setting('server_version_num')::int < 150000 OR current_setting('track_counts') <> 'on' THEN ''
	ELSE concat_ws(':', c.relfilenode, s.n_tup_ins, s.n_tup_upd, s.n_tup_del,
		(SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()),
		pg_postmaster_start_time(), (SELECT stats_reset FROM pg_stat_bgwriter)) END
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
	WHERE c.relkind IN ('r', 'p') AND c.relpersistence = 'p' AND NOT c.relispartition`

func (tables) Markers(ctx context.Context, src replication.Endpoint, names []string) (map[string]string, error) {
	want := map[string]bool{}
	for _, t := range names {
		want[t] = true
	}
	out := map[string]string{}
	err := inDatabases(ctx, src, names, func(c *pgx.Conn, db string, _ []string) error {
		// A fresh snapshot of the statistics (stats_fetch_consistency caches them per transaction).
		if _, err := c.Exec(ctx, "SELECT pg_stat_clear_snapshot()"); err != nil {
			return fmt.Errorf("clear the statistics snapshot: %w", err)
		}
		rows, err := c.Query(ctx, markersSQL)
		if err != nil {
			return fmt.Errorf("read the tables' change counts: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var s, t, m string
			if err := rows.Scan(&s, &t, &m); err != nil {
				return err
			}
			if name := qualify(db, ident(s, t)); want[name] {
				out[name] = m
			}
		}
		return rows.Err()
	})
	return out, err
}

// Unchanged compares the markers with ep's now. A session flushes its counts at the latest as
// it ends (before it leaves pg_stat_activity), but while it lives it may hold counts not yet
// flushed. So inside the freeze (frozen) the counts are complete only once no client session
// is left that could have written: every one but the tool's own, rdsadmin's and, on a source
// this process froze, those started after the freeze (read-only; a write that overrides it is
// caught by CheckFrozen before any rename). Unchanged waits up to SessionWait for the others
// to end (Freeze ended the source's; a pg_terminate_backend that timed out, a session Freeze
// may not signal, a client of the target), then calls every table changed (review S2).
func (t tables) Unchanged(ctx context.Context, src replication.Endpoint, markers map[string]string, frozen bool) (map[string]bool, error) {
	out := map[string]bool{}
	if frozen {
		quiet, err := t.e.noWriterLeft(ctx, src)
		if err != nil {
			return nil, err
		}
		if !quiet {
			for name := range markers {
				out[name] = false
			}
			return out, nil
		}
	}
	var names []string
	for name := range markers {
		names = append(names, name)
	}
	now, err := t.Markers(ctx, src, names)
	if err != nil {
		return nil, err
	}
	for name, m := range markers {
		out[name] = m != "" && now[name] == m
	}
	return out, nil
}

// CaughtUp waits until the subscriber has confirmed the source's current WAL position.
func (t tables) CaughtUp(ctx context.Context, src, dst replication.Endpoint, n replication.Names) error {
	var pos string
	if err := with(ctx, src, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&pos)
	}); err != nil {
		return err
	}
	_, err := t.e.Drain(ctx, src, dst, n, pos)
	return err
}

// noWriterLeft waits up to SessionWait until ep has no client session whose unflushed counts
// a marker could miss (see Unchanged); false when one is still there.
func (e *Engine) noWriterLeft(ctx context.Context, ep replication.Endpoint) (bool, error) {
	e.mu.Lock()
	at, ok := e.frozenAt[hostPort(ep)]
	e.mu.Unlock()
	var since *time.Time // nil: every session counts (the target, or a freeze made by another process)
	if ok {
		since = &at
	}
	wait := e.SessionWait
	if wait <= 0 {
		wait = 10 * time.Second
	}
	deadline := time.Now().Add(wait)
	for {
		var left int
		if err := with(ctx, ep, func(c *pgx.Conn) error {
			return c.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
				WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
				AND application_name <> $1 AND usename IS DISTINCT FROM 'rdsadmin'
				AND ($2::timestamptz IS NULL OR backend_start < $2)`, ApplicationName, since).Scan(&left)
		}); err != nil {
			return false, fmt.Errorf("list the sessions on %s: %w", ep.Host, err)
		}
		if left == 0 {
			return true, nil
		}
		if time.Now().After(deadline) {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func hostPort(ep replication.Endpoint) string {
	return ep.Host + ":" + strconv.Itoa(int(ep.Port))
}
