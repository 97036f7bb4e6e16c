package mysql

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"

	driver "github.com/go-sql-driver/mysql"

	"github.com/rdsencrypt/rdsencrypt/internal/replication"
)

var _ replication.AheadVerifier = (*Engine)(nil)

// VerifyAhead compares every table while the source takes writes (docs/replication-mysql.md).
func (e *Engine) VerifyAhead(ctx context.Context, src, dst replication.Endpoint, n replication.Names) (replication.Verification, error) {
	return replication.AheadVerify(ctx, tables{e}, src, dst, n)
}

// VerifyChanged compares, inside the freeze, the tables written since VerifyAhead.
func (e *Engine) VerifyChanged(ctx context.Context, src, dst replication.Endpoint, ahead []replication.TableCheck) (replication.Verification, error) {
	return replication.ChangedVerify(ctx, tables{e}, src, dst, ahead)
}

// tables is the engine's replication.Tables. A table is named `schema`.`table`.
type tables struct{ e *Engine }

var baseTablesSQL = "SELECT TABLE_SCHEMA, TABLE_NAME, ENGINE, CREATE_OPTIONS, UNIX_TIMESTAMP(UPDATE_TIME) FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN (" + systemSchemaList() + ") ORDER BY 1, 2"

// tableRow is one base table and what its marker is made of.
type tableRow struct {
	name        string
	innodb      bool
	partitioned bool
	updated     sql.NullInt64 // UNIX_TIMESTAMP(UPDATE_TIME)
}

// baseTables reads the base tables and their UPDATE_TIME on one connection, in UTC (so
// UNIX_TIMESTAMP does not meet a daylight-saving fold) and, on MySQL 8, with
// information_schema_stats_expiry 0 (its cached statistics would show an old UPDATE_TIME
// for a day). now is the server's clock.
func (c *Conn) baseTables(ctx context.Context) (rows []tableRow, now int64, err error) {
	conn, err := c.db.Conn(ctx)
	if err != nil {
		return nil, 0, c.errorf("%w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET SESSION time_zone = '+00:00'"); err != nil {
		return nil, 0, c.errorf("set the session time zone: %w", err)
	}
	var me *driver.MySQLError
	if _, err := conn.ExecContext(ctx, "SET SESSION information_schema_stats_expiry = 0"); err != nil && !(errors.As(err, &me) && me.Number == 1193) { // 1193: unknown variable (MariaDB)
		return nil, 0, c.errorf("set information_schema_stats_expiry: %w", err)
	}
	if err := conn.QueryRowContext(ctx, "SELECT UNIX_TIMESTAMP()").Scan(&now); err != nil {
		return nil, 0, c.errorf("read the server's clock: %w", err)
	}
	rs, err := conn.QueryContext(ctx, baseTablesSQL)
	if err != nil {
		return nil, 0, c.errorf("listing tables: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var s, t string
		var engine, options sql.NullString
		var r tableRow
		if err := rs.Scan(&s, &t, &engine, &options, &r.updated); err != nil {
			return nil, 0, err
		}
		r.name = ident(s) + "." + ident(t)
		r.innodb = engine.String == "InnoDB"
		r.partitioned = options.Valid && strings.Contains(options.String, "partitioned")
		rows = append(rows, r)
	}
	return rows, now, rs.Err()
}

func (t tables) List(ctx context.Context, ep replication.Endpoint) ([]string, error) {
	var out []string
	err := t.e.with(ctx, ep, func(c *Conn) error {
		rows, _, err := c.baseTables(ctx)
		for _, r := range rows {
			out = append(out, r.name)
		}
		return err
	})
	return out, err
}

func (t tables) Sums(ctx context.Context, ep replication.Endpoint, names []string) (map[string]replication.Sum, error) {
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

// Markers: the server's clock (seconds) when they were read, for every non-partitioned InnoDB
// table. InnoDB keeps in memory, per table, the time of the last commit that changed it
// (information_schema.TABLES UPDATE_TIME); Unchanged compares it with that clock.
func (t tables) Markers(ctx context.Context, src replication.Endpoint, names []string) (map[string]string, error) {
	out := map[string]string{}
	err := t.e.with(ctx, src, func(c *Conn) error {
		rows, now, err := c.baseTables(ctx)
		for _, r := range rows {
			if r.innodb && !r.partitioned {
				out[r.name] = strconv.FormatInt(now, 10)
			}
		}
		return err
	})
	return out, err
}

// Unchanged: a table is unchanged when its UPDATE_TIME is known and more than a second older
// than its marker. UPDATE_TIME is NULL after a restart, for a table InnoDB evicted from its
// cache, and for a table not written since the server started: all "changed". It has
// one-second resolution, and InnoDB takes the time as a transaction commits: the extra second
// covers a commit whose time was taken just before the marker and that became visible just
// after.
func (t tables) Unchanged(ctx context.Context, src replication.Endpoint, markers map[string]string, _ bool) (map[string]bool, error) {
	out := map[string]bool{}
	err := t.e.with(ctx, src, func(c *Conn) error {
		rows, _, err := c.baseTables(ctx)
		for _, r := range rows {
			m, err := strconv.ParseInt(markers[r.name], 10, 64)
			out[r.name] = err == nil && r.innodb && !r.partitioned && r.updated.Valid && r.updated.Int64 < m-1
		}
		return err
	})
	return out, err
}

// CaughtUp waits until dst has applied the source's current binary log end.
func (t tables) CaughtUp(ctx context.Context, src, dst replication.Endpoint, n replication.Names) error {
	var p Position
	if err := t.e.with(ctx, src, func(c *Conn) (err error) { p, err = c.MasterStatus(ctx); return err }); err != nil {
		return err
	}
	_, err := t.e.Drain(ctx, src, dst, n, p.String())
	return err
}
