package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
)

// TableSum is one table's row count and checksum.
type TableSum struct {
	Table    string // schema.table
	Rows     int64
	Checksum int64 // CHECKSUM TABLE (-1: NULL, the table is gone)
}

// Sums counts the rows and checksums every base table of the application's databases
// (CHECKSUM TABLE: the same rows with the same column types give the same value, and the
// target is a physical copy of the source, so the types are the same). Compare the source's and
// the target's sums only at a consistent point: the source frozen and the target caught up to
// its stable position.
func (c *Conn) Sums(ctx context.Context) ([]TableSum, error) {
	rows, err := c.db.QueryContext(ctx, "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN ("+systemSchemaList()+") ORDER BY 1, 2")
	if err != nil {
		return nil, c.errorf("listing tables: %w", err)
	}
	var tables [][2]string
	for rows.Next() {
		var s, t string
		if err := rows.Scan(&s, &t); err != nil {
			rows.Close()
			return nil, err
		}
		tables = append(tables, [2]string{s, t})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]TableSum, 0, len(tables))
	for _, st := range tables {
		sum, err := c.sum(ctx, ident(st[0])+"."+ident(st[1]), st[0]+"."+st[1])
		if err != nil {
			return nil, err
		}
		out = append(out, sum)
	}
	return out, nil
}

// sum counts and checksums one table (name quoted for SQL, table as shown).
func (c *Conn) sum(ctx context.Context, name, table string) (TableSum, error) {
	sum := TableSum{Table: table}
	if err := c.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+name).Scan(&sum.Rows); err != nil {
		return sum, c.errorf("counting %s: %w", table, err)
	}
	var tname string
	var cs sql.NullInt64
	if err := c.db.QueryRowContext(ctx, "CHECKSUM TABLE "+name).Scan(&tname, &cs); err != nil {
		return sum, c.errorf("CHECKSUM TABLE %s: %w", table, err)
	}
	sum.Checksum = -1
	if cs.Valid {
		sum.Checksum = cs.Int64
	}
	return sum, nil
}

func ident(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// Verification compares two sets of sums.
type Verification struct {
	Tables      int
	Rows        int64
	Differences []string // one line per table that differs or exists on one side only
}

// OK reports no difference.
func (v Verification) OK() bool { return len(v.Differences) == 0 }

// Compare compares the source's sums with the target's.
func Compare(source, target []TableSum) Verification {
	byName := map[string]TableSum{}
	for _, s := range target {
		byName[s.Table] = s
	}
	var v Verification
	for _, s := range source {
		v.Tables++
		v.Rows += s.Rows
		t, ok := byName[s.Table]
		delete(byName, s.Table)
		switch {
		case !ok:
			v.Differences = append(v.Differences, s.Table+": missing on the target")
		case t.Rows != s.Rows || t.Checksum != s.Checksum:
			v.Differences = append(v.Differences, fmt.Sprintf("%s: source %d rows checksum %d, target %d rows checksum %d", s.Table, s.Rows, s.Checksum, t.Rows, t.Checksum))
		}
	}
	var extra []string
	for name := range byName {
		extra = append(extra, name+": on the target only")
	}
	sort.Strings(extra)
	v.Differences = append(v.Differences, extra...)
	return v
}
