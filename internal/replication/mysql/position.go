package mysql

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Position is a place in a server's binary log.
type Position struct {
	File string
	Pos  int64
}

func (p Position) String() string { return fmt.Sprintf("%s:%d", p.File, p.Pos) }

// IsZero reports a position not known.
func (p Position) IsZero() bool { return p.File == "" }

// Before reports whether p is earlier than q in the same server's log (file names sort in
// sequence: name.000001, name.000002...).
func (p Position) Before(q Position) bool {
	if p.File != q.File {
		return p.File < q.File
	}
	return p.Pos < q.Pos
}

// recoveryLine is what crash recovery of a restored copy logs about the binary log position its
// data ends at: mariabackup --prepare ("Last binlog file ./mysql-bin-changelog.000002, position
// 1234"), MariaDB's own InnoDB recovery, which quotes the name ("InnoDB: Last binlog file
// './mysql-bin-changelog.000002', position 1234"), and InnoDB's recovery in MySQL before 8.0
// ("Last MySQL binlog file position 0 1234, file name mysql-bin-changelog.000002"; 8.0 and
// later no longer log it, which Checks.Problems refuses).
var (
	recoveryMaria = regexp.MustCompile(`Last binlog file '?([^',\s]+)'?, position (\d+)`)
	recoveryMySQL = regexp.MustCompile(`Last MySQL binlog file position \d+ (\d+), file name (\S+)`)
)

// RecoveryPosition reads, from the log of an instance restored from a snapshot, the source's
// binary log position that the restored data ends at: every transaction the source logged
// before it is in the data, none after it. The last such line counts (a restore logs it once;
// a later restart of the restored server could log its own).
func RecoveryPosition(log string) (Position, error) {
	var found Position
	for _, line := range strings.Split(log, "\n") {
		if m := recoveryMaria.FindStringSubmatch(line); m != nil {
			pos, _ := strconv.ParseInt(m[2], 10, 64)
			found = Position{File: strings.TrimPrefix(m[1], "./"), Pos: pos}
		} else if m := recoveryMySQL.FindStringSubmatch(line); m != nil {
			pos, _ := strconv.ParseInt(m[1], 10, 64)
			found = Position{File: strings.TrimPrefix(m[2], "./"), Pos: pos}
		}
	}
	if found.IsZero() || found.Pos == 0 {
		return Position{}, fmt.Errorf("the restored instance's log does not say which binary log position its data ends at (no %q line)", "Last binlog file")
	}
	return found, nil
}

// MasterStatus is the server's current binary log position (where the next event goes).
func (c *Conn) MasterStatus(ctx context.Context) (Position, error) {
	m, err := c.rowMap(ctx, "SHOW MASTER STATUS")
	if err != nil {
		return Position{}, err
	}
	if m == nil {
		return Position{}, c.errorf("binary logging is off (SHOW MASTER STATUS is empty): turn automated backups on")
	}
	pos, err := strconv.ParseInt(m["Position"], 10, 64)
	if err != nil {
		return Position{}, c.errorf("SHOW MASTER STATUS position %q: %w", m["Position"], err)
	}
	return Position{File: m["File"], Pos: pos}, nil
}

// BytesBehind is how many bytes of the server's binary log lie between p and the server's end
// (SHOW BINARY LOGS: the sizes of the files after p's).
func (c *Conn) BytesBehind(ctx context.Context, p Position) (int64, error) {
	rows, err := c.db.QueryContext(ctx, "SHOW BINARY LOGS")
	if err != nil {
		return 0, c.errorf("SHOW BINARY LOGS: %w", err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var behind int64
	for rows.Next() {
		var name string
		var size int64
		dest := []any{&name, &size}
		for len(dest) < len(cols) {
			dest = append(dest, new(any))
		}
		if err := rows.Scan(dest...); err != nil {
			return 0, err
		}
		switch {
		case name == p.File:
			behind += max(size-p.Pos, 0)
		case name > p.File:
			behind += size
		}
	}
	return behind, rows.Err()
}
