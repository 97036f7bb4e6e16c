package postgres

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/replication"
)

func TestStartPositionIsOnePastTheLastReplayedRecord(t *testing.T) {
	e := &Engine{}
	log := "2026-12-06 13:00:00 UTC LOG:  redo starts at 0/2000028\n" +
		"2026-12-06 13:00:01 UTC LOG:  redo done at 0/30001A8 system usage: CPU: user: 0.00 s\n" +
		"2026-12-06 14:00:00 UTC LOG:  redo done at 0/9000000 system usage: a later crash of the new instance\n"
	pos, ok, err := e.StartPosition(log)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, "0/30001A9", pos, "the first line is the restore's recovery; X+1")

	pos, ok, err = e.StartPosition("LOG:  redo done at 1/FFFFFFFF system usage")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, "2/0", pos)

	_, ok, err = e.StartPosition("LOG:  database system is ready to accept connections\n")
	require.NoError(t, err)
	assert.False(t, ok, "no recovery line yet")
}

func TestLSNRoundTrip(t *testing.T) {
	v, err := parseLSN("16/B374D848")
	require.NoError(t, err)
	assert.Equal(t, uint64(0x16B374D848), v)
	assert.Equal(t, "16/B374D848", formatLSN(v))
	_, err = parseLSN("garbage")
	assert.Error(t, err)
}

func TestChecksumIsOrderIndependentSQL(t *testing.T) {
	q := checksumSQL(`"public"."t"`)
	assert.Contains(t, q, "sum(")
	assert.NotContains(t, q, "ORDER BY", "a sum does not depend on the order rows are read in")
}

func TestErrorsNeverCarryThePassword(t *testing.T) {
	err := redactErr(assert.AnError, "")
	assert.Equal(t, assert.AnError, err)
	err = redactErr(errString("password=hunter2 rejected"), "hunter2")
	assert.Equal(t, "password=******** rejected", err.Error())
}

type errString string

func (e errString) Error() string { return string(e) }

func TestQualifiedTableNamesSplitBackIntoTheirDatabase(t *testing.T) {
	for _, db := range []string{"shop", `we"ird.db`, "é x"} {
		name := qualify(db, ident("public", "t.1"))
		got, rest := splitDatabase(name)
		assert.Equal(t, db, got, name)
		assert.Equal(t, `"public"."t.1"`, rest)
	}
	assert.Equal(t, `"public"."t"`, qualify("", `"public"."t"`), "no database list: the connected database's names")
}

func TestStreamsNameEveryDatabaseOrTheConnectedOne(t *testing.T) {
	n := replication.NamesFor("m1")
	one := streams(replication.Endpoint{Database: "shop"}, n)
	assert.Equal(t, []stream{{db: "shop", names: n}}, one, "a journal without the list keeps its names")
	two := streams(replication.Endpoint{Database: "shop", Databases: []string{"crm", "shop"}}, n)
	require.Len(t, two, 2)
	assert.Equal(t, n.In("crm"), two[0].names)
	assert.NotEqual(t, two[0].names.Slot, two[1].names.Slot)
}

// A slot PostgreSQL invalidated (wal_status lost) is a lost stream, to be rolled back, not a
// stopped one to wait for; unreserved is a warning; the other states pass (review S3).
func TestSlotWALStatus(t *testing.T) {
	for _, tc := range []struct {
		status      string
		lost, warns bool
	}{{"lost", true, false}, {"unreserved", false, true}, {"reserved", false, false}, {"extended", false, false}, {"", false, false}} {
		warning, err := slotWAL(tc.status, "s1", "shop")
		if errors.Is(err, replication.ErrStreamLost) != tc.lost || (warning != "") != tc.warns {
			t.Errorf("wal_status %q: warning %q, err %v", tc.status, warning, err)
		}
		if tc.lost && !strings.Contains(err.Error(), "max_slot_wal_keep_size") {
			t.Errorf("wal_status lost: %v does not say why", err)
		}
	}
}

// PostgreSQL 10 to 12 have logical replication but not what the engine reads and writes
// (wal_status, pg_current_snapshot, max_slot_wal_keep_size): a blocker naming 13, not a run
// that fails in its catch-up.
func TestVersionsBefore13AreRefused(t *testing.T) {
	for _, c := range []struct {
		version int
		want    string
	}{{90624, "PostgreSQL 9 has no logical replication: the replication strategy needs 13 or later"}, {100023, "PostgreSQL 10: the replication strategy needs 13 or later"},
		{120022, "PostgreSQL 12: the replication strategy needs 13 or later"}, {130018, ""}, {170002, ""}} {
		f := versionFinding(c.version)
		switch {
		case c.want == "" && f != nil:
			t.Errorf("%d: %+v, want no finding", c.version, f)
		case c.want != "" && (f == nil || f.Severity != replication.Blocker || !strings.Contains(f.What, c.want) || !strings.Contains(f.Do, "--strategy snapshot")):
			t.Errorf("%d: %+v, want a blocker %q", c.version, f, c.want)
		}
	}
}
