package mysql

import (
	"strings"
	"testing"
)

func TestRecoveryPosition(t *testing.T) {
	for _, tc := range []struct {
		log  string
		want string
	}{
		{"[00] 2026-12-06 13:54:21 mariabackup: Last binlog file ./mysql-bin-changelog.000002, position 1234\n", "mysql-bin-changelog.000002:1234"},
		{"2026-12-06T13:54:21 0 [Note] InnoDB: Last MySQL binlog file position 0 987, file name mysql-bin-changelog.000007\n", "mysql-bin-changelog.000007:987"},
		// MariaDB's server recovery quotes the file name.
		{"2026-12-06 13:54:21 0 [Note] InnoDB: Last binlog file './mysql-bin-changelog.000002', position 1234\n", "mysql-bin-changelog.000002:1234"},
		// The last line counts.
		{"Last binlog file ./b.000001, position 10\nLast binlog file ./b.000003, position 20\n", "b.000003:20"},
	} {
		p, err := RecoveryPosition(tc.log)
		if err != nil || p.String() != tc.want {
			t.Errorf("RecoveryPosition(%q) = %s, %v; want %s", tc.log, p, err, tc.want)
		}
		back, err := ParsePosition(p.String())
		if err != nil || back != p {
			t.Errorf("ParsePosition(%s) = %v, %v", p, back, err)
		}
	}
	for _, bad := range []string{"", "InnoDB: Starting crash recovery", "Last binlog file ./b.000001, position 0"} {
		if p, err := RecoveryPosition(bad); err == nil {
			t.Errorf("RecoveryPosition(%q) = %s, want an error", bad, p)
		}
	}
	for _, bad := range []string{"", "file", "file:", "file:x", ":12", "file:0"} {
		if _, err := ParsePosition(bad); err == nil {
			t.Errorf("ParsePosition(%q) accepted", bad)
		}
	}
}

func TestPositionOrder(t *testing.T) {
	a, b, c := Position{"b.000001", 900}, Position{"b.000001", 1000}, Position{"b.000002", 4}
	if !a.Before(b) || !b.Before(c) || c.Before(a) || a.Before(a) {
		t.Fatal("positions out of order")
	}
	if (Lag{Source: b, Executed: a}).CaughtUp() || !(Lag{Source: b, Executed: b}).CaughtUp() || !(Lag{Source: b, Executed: c}).CaughtUp() {
		t.Fatal("CaughtUp wrong")
	}
}

func TestProblems(t *testing.T) {
	ok := Checks{Version: "10.11.6-MariaDB-log", MariaDB: true, BinaryLog: true, BinlogFormat: "ROW", RetentionHours: 24}
	if p := ok.Problems(24); len(p) != 0 {
		t.Fatalf("problems of a good source: %+v", p)
	}
	// MySQL 8.0 and later do not log the recovery position; the workflow reads the start from
	// a temporary read replica instead (stopped.go), so the engine no longer refuses them.
	mysql80 := ok
	mysql80.Version, mysql80.MariaDB = "8.0.39", false
	if p := mysql80.Problems(24); len(p) != 0 {
		t.Fatalf("problems of a MySQL 8.0 source: %+v", p)
	}
	bad := Checks{Version: "10.11.6-MariaDB-log", MariaDB: true, BinaryLog: false, BinlogFormat: "MIXED", RetentionHours: 0, NoPrimaryKey: []string{"shop.audit"}, NotTransactional: []string{"shop.c (MyISAM)"}}
	var blocking, changes int
	var all []string
	for _, p := range bad.Problems(5) {
		all = append(all, p.What+" / "+p.Fix)
		if p.Blocking {
			blocking++
		}
		if p.Change {
			changes++
		}
	}
	if blocking != 4 || changes != 2 || !strings.Contains(strings.Join(all, "\n"), "rds_set_configuration('binlog retention hours', 5)") {
		t.Fatalf("%d blocking, %d changes:\n%s", blocking, changes, strings.Join(all, "\n"))
	}
}

func TestCompare(t *testing.T) {
	src := []TableSum{{"s.a", 3, 11}, {"s.b", 2, 7}, {"s.c", 1, 1}}
	dst := []TableSum{{"s.a", 3, 11}, {"s.b", 2, 8}, {"s.d", 0, 0}}
	v := Compare(src, dst)
	if v.OK() || v.Tables != 3 || v.Rows != 6 || len(v.Differences) != 3 {
		t.Fatalf("%+v", v)
	}
	if !Compare(src, src).OK() {
		t.Fatal("a table set differs from itself")
	}
}
