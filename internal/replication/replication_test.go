package replication

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNamesForAreValidIdentifiersOfTheMigration(t *testing.T) {
	n := NamesFor("20261206T1400-AbC7")
	assert.Equal(t, "rdsencrypt_20261206t1400_abc7", n.Slot)
	assert.Equal(t, n.Slot, n.Publication)
	assert.Equal(t, n.Slot, n.User)
	long := NamesFor("a-very-long-migration-identifier-0123456789")
	assert.LessOrEqual(t, len(long.Slot), 32, "fits MySQL's 32-byte user names")
	assert.NotEqual(t, NamesFor("m1").Slot, NamesFor("m2").Slot)
	assert.Equal(t, n.Slot+"_rev", n.Reverse().Slot)
}

func TestVerificationReportsOnlyTheTablesThatDiffer(t *testing.T) {
	v := Verification{Tables: []TableCheck{
		{Table: "a", SourceRows: 2, TargetRows: 2, SourceChecksum: "x", TargetChecksum: "x"},
		{Table: "b", SourceRows: 3, TargetRows: 3, SourceChecksum: "x", TargetChecksum: "y"},
		{Table: "c", SourceRows: 3, TargetRows: 2, SourceChecksum: "x", TargetChecksum: "x"},
	}}
	var names []string
	for _, d := range v.Differences() {
		names = append(names, d.Table)
	}
	assert.Equal(t, []string{"b", "c"}, names)
	assert.Equal(t, int64(8), v.Rows())
}

func TestFamily(t *testing.T) {
	assert.Equal(t, "postgres", Family("postgres"))
	assert.Equal(t, "mysql", Family("mariadb"))
	assert.Equal(t, "mysql", Family("mysql"))
	assert.Equal(t, "", Family("aurora-postgresql"))
}

func TestNamesInADatabaseAreDistinctSlotNamesWithinTheIdentifierLimit(t *testing.T) {
	n := NamesFor("a-very-long-migration-identifier-0123456789")
	long := strings.Repeat("é", 31) // 62 bytes: PostgreSQL's longest database name is 63
	a, b, c := n.In("shop"), n.In("Shop"), n.In(long)
	assert.Equal(t, a, n.In("shop"), "deterministic")
	assert.NotEqual(t, a.Slot, b.Slot, "slot names are cluster-wide: one per database")
	for _, in := range []Names{a, b, c} {
		for _, name := range []string{in.Slot, in.Reverse().Slot + "_frozen", in.Publication, in.Subscription} {
			assert.LessOrEqual(t, len(name), 63, name)
			assert.Regexp(t, `^[a-z0-9_]+$`, name, "a slot name's characters")
		}
		assert.Equal(t, n.User, in.User, "one replication user for every database")
	}
}

// The reverse stream's verbs receive n.Reverse() and name each database's objects with In,
// while Cleanup drops n.In(db).Reverse(): both must name the same objects, also for a
// migration id that itself ends in "rev".
func TestReverseNamesInADatabaseAreTheDatabasesReverseNames(t *testing.T) {
	for _, id := range []string{"20261206T1400-AbC7", "m-rev"} {
		n := NamesFor(id)
		assert.Equal(t, n.In("shop").Reverse(), n.Reverse().In("shop"), id)
		assert.Equal(t, n.In("shop").Slot+"_rev", n.Reverse().In("shop").Slot, id)
		assert.Equal(t, n.Reverse(), n.Reverse().Reverse(), "the reverse names are their own reverse")
		assert.NotEqual(t, n.In("shop").Slot, n.Reverse().In("shop").Slot)
	}
}
