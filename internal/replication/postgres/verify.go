package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/rdsencrypt/rdsencrypt/internal/replication"
)

var _ replication.AheadVerifier = (*Engine)(nil)

// VerifyAhead compares every table while the source takes writes (docs/replication.md#verification-ahead-of-the-freeze).
func (e *Engine) VerifyAhead(ctx context.Context, src, dst replication.Endpoint, n replication.Names) (replication.Verification, error) {
	return replication.AheadVerify(ctx, tables{e}, src, dst, n)
}

// VerifyChanged compares, inside the freeze, the tables whose markers moved since VerifyAhead.
func (e *Engine) VerifyChanged(ctx context.Context, src, dst replication.Endpoint, ahead []replication.TableCheck) (replication.Verification, error) {
	return replication.ChangedVerify(ctx, tables{e}, src, dst, ahead)
}

// tables is the engine's replication.Tables.
type tables struct{ e *Engine }

func (tables) List(ctx context.Context, ep replication.Endpoint) ([]string, error) {
	var out []string
	err := with(ctx, ep, func(c *pgx.Conn) (err error) { out, err = userTables(ctx, c); return err })
	return out, err
}

func (tables) Sums(ctx context.Context, ep replication.Endpoint, names []string) (map[string]replication.Sum, error) {
	out := map[string]replication.Sum{}
	err := with(ctx, ep, func(c *pgx.Conn) error {
		for _, t := range names {
			var s replication.Sum
			if err := c.QueryRow(ctx, checksumSQL(t)).Scan(&s.Rows, &s.Checksum); err != nil {
				if isCode(err, "42P01") { // missing on this side
					continue
				}
				return fmt.Errorf("checksum %s on %s: %w", t, ep.Host, err)
			}
			out[t] = s
		}
		return nil
	})
	return out, err
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
	CASE WHEN c.relkind = 'p' OR current_setting('server_version_num')::int < 150000 OR current_setting('track_counts') <> 'on' THEN ''
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
	err := with(ctx, src, func(c *pgx.Conn) error {
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
			if name := ident(s, t); want[name] {
				out[name] = m
			}
		}
		return rows.Err()
	})
	return out, err
}

// Unchanged compares the markers with the source's now. Inside the freeze the counts are
// complete: Freeze waited until every session it ended was gone, and a session flushes its
// counts as it ends; the sessions that start afterwards are read-only (a write that overrides
// it is caught by CheckFrozen before any rename).
func (t tables) Unchanged(ctx context.Context, src replication.Endpoint, markers map[string]string, _ bool) (map[string]bool, error) {
	var names []string
	for name := range markers {
		names = append(names, name)
	}
	now, err := t.Markers(ctx, src, names)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
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
