package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
)

// Checks is what the plan needs to know about a source before binlog replication.
type Checks struct {
	Version      string // @@version, e.g. 10.11.6-MariaDB-0+deb12u1
	MariaDB      bool
	BinaryLog    bool   // log_bin: on exactly when automated backups are on (RDS)
	BinlogFormat string // ROW, MIXED or STATEMENT
	// RetentionHours is mysql.rds_configuration's 'binlog retention hours' (0 when NULL: RDS
	// then removes binary logs as soon as it can).
	RetentionHours int
	// GTID: MariaDB always writes GTIDs; MySQL when gtid_mode is ON.
	GTID bool
	// NoPrimaryKey lists schema.table of base tables without a primary key: replicated
	// row by row with ROW format, but an UPDATE or DELETE scans the whole table on the target
	// for each row, and the tables' verification cannot order their rows.
	NoPrimaryKey []string
	// NotTransactional lists schema.table of tables on an engine other than InnoDB: the
	// snapshot's position is exact for InnoDB only.
	NotTransactional []string
	// Schemas are the application's databases (system schemas excluded).
	Schemas []string
}

// systemSchemas are not the application's: they are not verified and not listed.
var systemSchemas = []string{"mysql", "information_schema", "performance_schema", "sys"}

func systemSchemaList() string {
	q := make([]string, len(systemSchemas))
	for i, s := range systemSchemas {
		q[i] = "'" + s + "'"
	}
	return strings.Join(q, ", ")
}

// Check reads the replication preconditions of the source.
func (c *Conn) Check(ctx context.Context) (Checks, error) {
	var ch Checks
	var logBin int
	if err := c.db.QueryRowContext(ctx, "SELECT @@version, @@GLOBAL.log_bin, @@GLOBAL.binlog_format").Scan(&ch.Version, &logBin, &ch.BinlogFormat); err != nil {
		return ch, c.errorf("reading version and binary log settings: %w", err)
	}
	ch.BinaryLog = logBin == 1
	ch.MariaDB = strings.Contains(ch.Version, "MariaDB")
	if ch.MariaDB {
		ch.GTID = true
	} else {
		var mode string
		if err := c.db.QueryRowContext(ctx, "SELECT @@gtid_mode").Scan(&mode); err == nil {
			ch.GTID = strings.EqualFold(mode, "ON")
		}
	}
	hours, err := c.RetentionHours(ctx)
	if err != nil {
		return ch, err
	}
	ch.RetentionHours = hours
	rows, err := c.db.QueryContext(ctx, `SELECT t.TABLE_SCHEMA, t.TABLE_NAME, IFNULL(t.ENGINE, ''),
	    EXISTS(SELECT 1 FROM information_schema.TABLE_CONSTRAINTS k WHERE k.TABLE_SCHEMA = t.TABLE_SCHEMA
	      AND k.TABLE_NAME = t.TABLE_NAME AND k.CONSTRAINT_TYPE = 'PRIMARY KEY')
	  FROM information_schema.TABLES t
	  WHERE t.TABLE_TYPE = 'BASE TABLE' AND t.TABLE_SCHEMA NOT IN (`+systemSchemaList()+`)
	  ORDER BY t.TABLE_SCHEMA, t.TABLE_NAME`)
	if err != nil {
		return ch, c.errorf("listing tables: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var schema, table, engine string
		var pk bool
		if err := rows.Scan(&schema, &table, &engine, &pk); err != nil {
			return ch, err
		}
		name := schema + "." + table
		if !pk {
			ch.NoPrimaryKey = append(ch.NoPrimaryKey, name)
		}
		if !strings.EqualFold(engine, "InnoDB") {
			ch.NotTransactional = append(ch.NotTransactional, name+" ("+engine+")")
		}
	}
	if err := rows.Err(); err != nil {
		return ch, err
	}
	ch.Schemas, err = c.schemas(ctx)
	return ch, err
}

func (c *Conn) schemas(ctx context.Context) ([]string, error) {
	rows, err := c.db.QueryContext(ctx, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN ("+systemSchemaList()+") ORDER BY 1")
	if err != nil {
		return nil, c.errorf("listing databases: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// RetentionHours reads 'binlog retention hours' with mysql.rds_show_configuration (0: NULL).
func (c *Conn) RetentionHours(ctx context.Context) (int, error) {
	rows, err := c.db.QueryContext(ctx, "CALL mysql.rds_show_configuration")
	if err != nil {
		return 0, c.errorf("CALL mysql.rds_show_configuration: %w", err)
	}
	defer rows.Close()
	hours := 0
	for rows.Next() {
		var name, desc sql.NullString
		var value sql.NullString
		if err := rows.Scan(&name, &value, &desc); err != nil {
			return 0, c.errorf("mysql.rds_show_configuration: %w", err)
		}
		if name.String == "binlog retention hours" && value.Valid {
			hours, _ = strconv.Atoi(value.String)
		}
	}
	for rows.NextResultSet() {
	}
	return hours, rows.Err()
}

// SetRetentionHours keeps binary logs at least this many hours (mysql.rds_set_configuration;
// RDS accepts 1 to 2160). A change to the source: the plan asks for it.
func (c *Conn) SetRetentionHours(ctx context.Context, hours int) error {
	if hours < 1 || hours > 2160 {
		return fmt.Errorf("binlog retention hours %d: RDS accepts 1 to 2160", hours)
	}
	return c.call(ctx, "CALL mysql.rds_set_configuration('binlog retention hours', ?)", hours)
}

// RestoreRetentionHours puts back the value read before the change (0: NULL, RDS's default).
func (c *Conn) RestoreRetentionHours(ctx context.Context, hours int) error {
	if hours == 0 {
		return c.call(ctx, "CALL mysql.rds_set_configuration('binlog retention hours', NULL)")
	}
	return c.SetRetentionHours(ctx, hours)
}

// Problem is one unmet precondition and what to do about it.
type Problem struct {
	What string
	Fix  string
	// Change is true when the fix is a change to the source the tool can make with approval
	// (the parameter group's binlog_format, the retention hours); false when the operator
	// must act (turn automated backups on).
	Change bool
	// Blocking problems make replication impossible until fixed; the others are warnings.
	Blocking bool
}

// Problems lists what stands in the way of replicating this source for a migration that is
// estimated to take hoursNeeded hours.
func (ch Checks) Problems(hoursNeeded int) []Problem {
	var out []Problem
	if !ch.BinaryLog {
		out = append(out, Problem{What: "binary log off (automated backups off)",
			Fix: "turn automated backups on (backup retention period 1 or more); the change takes a reboot", Blocking: true})
	}
	if ch.BinlogFormat != "ROW" {
		out = append(out, Problem{What: "binlog_format is " + ch.BinlogFormat + ", not ROW",
			Fix: "set binlog_format=ROW in the source's DB parameter group (dynamic, applies to new sessions at once)", Change: true, Blocking: true})
	}
	if ch.RetentionHours < hoursNeeded {
		have := "NULL (binary logs are purged as soon as possible)"
		if ch.RetentionHours > 0 {
			have = strconv.Itoa(ch.RetentionHours)
		}
		out = append(out, Problem{What: "binlog retention hours " + have + ", the migration is estimated to take " + strconv.Itoa(hoursNeeded) + " h",
			Fix: fmt.Sprintf("CALL mysql.rds_set_configuration('binlog retention hours', %d)", hoursNeeded), Change: true, Blocking: true})
	}
	if len(ch.NoPrimaryKey) > 0 {
		out = append(out, Problem{What: "tables without a primary key: " + strings.Join(ch.NoPrimaryKey, ", "),
			Fix: "add a primary key: each replicated UPDATE or DELETE scans the whole table on the target"})
	}
	if len(ch.NotTransactional) > 0 {
		out = append(out, Problem{What: "tables not on InnoDB: " + strings.Join(ch.NotTransactional, ", "),
			Fix: "convert them to InnoDB (ALTER TABLE ... ENGINE=InnoDB): the snapshot's binary log position is exact for InnoDB only", Blocking: true})
	}
	return out
}
