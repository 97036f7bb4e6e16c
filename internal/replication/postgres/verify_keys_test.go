package postgres

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/replication"
)

// The messages below are built as pgoutput (protocol 1) encodes them: PostgreSQL manual,
// "Logical Replication Message Formats" (Relation, Insert, Update, Delete, Truncate, TupleData).

type col struct {
	name string
	key  bool
}

func relationMsg(id uint32, schema, table string, identity byte, cols ...col) []byte {
	b := []byte{'R'}
	b = binary.BigEndian.AppendUint32(b, id)
	b = append(append(b, schema...), 0)
	b = append(append(b, table...), 0)
	b = append(b, identity)
	b = binary.BigEndian.AppendUint16(b, uint16(len(cols)))
	for _, c := range cols {
		flags := byte(0)
		if c.key {
			flags = 1
		}
		b = append(b, flags)
		b = append(append(b, c.name...), 0)
		b = binary.BigEndian.AppendUint32(b, 23) // int4
		b = binary.BigEndian.AppendUint32(b, 0xffffffff)
	}
	return b
}

// tuple encodes values: nil is NULL ('n'), "\x00u" an unchanged TOAST value ('u'), else text.
func tuple(values ...*string) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(len(values)))
	for _, v := range values {
		switch {
		case v == nil:
			b = append(b, 'n')
		case *v == "\x00u":
			b = append(b, 'u')
		default:
			b = append(b, 't')
			b = binary.BigEndian.AppendUint32(b, uint32(len(*v)))
			b = append(b, *v...)
		}
	}
	return b
}

func s(v string) *string { return &v }

func insertMsg(id uint32, t []byte) []byte {
	return append(binary.BigEndian.AppendUint32([]byte{'I'}, id), append([]byte{'N'}, t...)...)
}

func updateMsg(id uint32, oldKind byte, old, t []byte) []byte {
	b := binary.BigEndian.AppendUint32([]byte{'U'}, id)
	if oldKind != 0 {
		b = append(append(b, oldKind), old...)
	}
	return append(append(b, 'N'), t...)
}

func deleteMsg(id uint32, kind byte, old []byte) []byte {
	return append(append(binary.BigEndian.AppendUint32([]byte{'D'}, id), kind), old...)
}

func truncateMsg(ids ...uint32) []byte {
	b := binary.BigEndian.AppendUint32([]byte{'T'}, uint32(len(ids)))
	b = append(b, 0)
	for _, id := range ids {
		b = binary.BigEndian.AppendUint32(b, id)
	}
	return b
}

func decode(t *testing.T, db string, msgs ...[]byte) changeSet {
	t.Helper()
	set := changeSet{}
	d := newDecoder(db, set, 0)
	for _, m := range msgs {
		require.NoError(t, d.add(m))
	}
	return set
}

func keysOf(k *keyChanges) []string {
	var out []string
	for key := range k.keys {
		out = append(out, key)
	}
	return out
}

func TestKeysFromPgoutputMessages(t *testing.T) {
	accounts := relationMsg(16401, "public", "pgbench_accounts", 'd', col{"aid", true}, col{"bid", false}, col{"abalance", false}, col{"filler", false})
	set := decode(t, "",
		accounts,
		insertMsg(16401, tuple(s("7"), s("1"), s("0"), nil)),
		// an update that keeps the key sends no old tuple
		updateMsg(16401, 0, nil, tuple(s("42"), s("1"), s("-5"), s("\x00u"))),
		// an update of the key sends the old key ('K'), with the other columns NULL
		updateMsg(16401, 'K', tuple(s("8"), nil, nil, nil), tuple(s("9"), s("1"), s("0"), nil)),
		deleteMsg(16401, 'K', tuple(s("100"), nil, nil, nil)),
	)
	k := set[`"public"."pgbench_accounts"`]
	require.NotNil(t, k)
	assert.Empty(t, k.whole)
	assert.Equal(t, []string{"aid"}, k.cols)
	assert.ElementsMatch(t, []string{"7", "42", "8", "9", "100"}, keysOf(k), "an unchanged TOAST value outside the key does not matter")
}

func TestCompositeKeysAreQualifiedByDatabase(t *testing.T) {
	lines := relationMsg(5, "sales", "order lines", 'i', col{"order_id", true}, col{"note", false}, col{"line", true})
	set := decode(t, "shop",
		lines,
		insertMsg(5, tuple(s("1"), s("a, b"), s("2"))),
		deleteMsg(5, 'K', tuple(s("3"), nil, s("4"))),
	)
	k := set[`"shop"."sales"."order lines"`]
	require.NotNil(t, k, "%v", set)
	assert.Equal(t, []string{"order_id", "line"}, k.cols)
	assert.ElementsMatch(t, []string{"1\x002", "3\x004"}, keysOf(k))
	// the batches carry one array per key column, in the key's order
	b := batches(k.keys, 2)
	require.Len(t, b, 1)
	assert.Equal(t, []any{[]string{"1", "3"}, []string{"2", "4"}}, b[0])
	assert.Equal(t, `"sales"."order lines" t JOIN unnest($1::text[], $2::text[]) AS k(k0, k1) ON t."order_id" = k.k0::integer AND t."line" = k.k1::bigint`,
		byKeys(`"sales"."order lines"`, k.cols, []string{"integer", "bigint"}))
}

func TestTablesTheKeysCannotAccountFor(t *testing.T) {
	set := decode(t, "",
		relationMsg(1, "public", "history", 'd', col{"tid", false}, col{"delta", false}), // no primary key
		relationMsg(2, "public", "full", 'f', col{"a", true}, col{"b", true}),
		relationMsg(3, "public", "truncated", 'd', col{"id", true}),
		relationMsg(4, "public", "toasted", 'i', col{"doc", true}),
		relationMsg(5, "public", "untouched", 'd', col{"id", true}),
		insertMsg(1, tuple(s("1"), s("5"))),
		updateMsg(2, 'O', tuple(s("1"), s("2")), tuple(s("1"), s("3"))),
		insertMsg(3, tuple(s("1"))),
		truncateMsg(3),
		updateMsg(4, 0, nil, tuple(s("\x00u"))),
	)
	for table, why := range map[string]string{
		`"public"."history"`:   "no primary key",
		`"public"."full"`:      "FULL",
		`"public"."truncated"`: "truncated",
		`"public"."toasted"`:   "without its value",
	} {
		require.NotNil(t, set[table], table)
		assert.Contains(t, set[table].whole, why, table)
		assert.Empty(t, set[table].keys, table)
	}
	assert.Nil(t, set[`"public"."untouched"`], "a relation message alone is no change")

	// merged with a set in which the truncated table had keys, it stays whole
	other := decode(t, "", relationMsg(3, "public", "truncated", 'd', col{"id", true}), insertMsg(3, tuple(s("9"))))
	other.merge(set)
	assert.Contains(t, other[`"public"."truncated"`].whole, "truncated")
}

// The keys held are bounded (review V11): past the bound the table holding the most is
// dropped to the comparison in full, its keys freed; a key seen again costs nothing; the keys
// of a set carried from Advance count.
func TestTheKeysHeldAreBounded(t *testing.T) {
	set := changeSet{}
	d := newDecoder("", set, 3)
	for _, m := range [][]byte{
		relationMsg(1, "public", "accounts", 'd', col{"aid", true}),
		relationMsg(2, "public", "ledger", 'd', col{"id", true}),
		insertMsg(1, tuple(s("1"))), insertMsg(1, tuple(s("2"))),
		insertMsg(2, tuple(s("10"))),
		insertMsg(2, tuple(s("10"))), // seen again: still 3 held
	} {
		require.NoError(t, d.add(m))
	}
	assert.Equal(t, 3, d.held)
	assert.Empty(t, set[`"public"."accounts"`].whole, "at the bound, not past it")
	require.NoError(t, d.add(insertMsg(2, tuple(s("11"))))) // a fourth key: accounts, holding the most, goes
	assert.Contains(t, set[`"public"."accounts"`].whole, "more changed keys than the 3")
	assert.Empty(t, set[`"public"."accounts"`].keys)
	assert.ElementsMatch(t, []string{"10", "11"}, keysOf(set[`"public"."ledger"`]))
	require.NoError(t, d.add(insertMsg(1, tuple(s("3")))), "a table dropped takes no more keys")
	assert.Equal(t, 2, d.held)

	// The set Advance consumed counts from the start.
	carried := newDecoder("", set, 3)
	assert.Equal(t, 2, carried.held)
	for _, m := range [][]byte{relationMsg(2, "public", "ledger", 'd', col{"id", true}), insertMsg(2, tuple(s("12"))), insertMsg(2, tuple(s("13")))} {
		require.NoError(t, carried.add(m))
	}
	assert.Contains(t, set[`"public"."ledger"`].whole, "more changed keys than the 3", "the table holding the most is the one growing")
	assert.Zero(t, carried.held)
}

func TestManyKeysAreComparedInFull(t *testing.T) {
	assert.Empty(t, manyKeys(keyBatch, 1), "one lookup batch is always by key")
	assert.Empty(t, manyKeys(keyBatch+1, 10*int64(keyBatch+1)), "a tenth of the rows")
	assert.Contains(t, manyKeys(keyBatch+1, 10*int64(keyBatch+1)-1), "more than a tenth of its")
}

func TestAChangeBeforeItsRelationIsAnError(t *testing.T) {
	d := newDecoder("", changeSet{}, 0)
	assert.ErrorContains(t, d.add(insertMsg(9, tuple(s("1")))), "before its relation message")
}

func TestKeysMarkers(t *testing.T) {
	guard := skipGuard{sub: "16399", skipLSN: "0/0", applyErrors: 2, reset: "", started: "2026-12-06 23:50:01.5+00", crashed: "2026-12-06 23:50:01.2+00"}.String()
	m := keysMarker("rdsencrypt_m1_0a1b2c3d_vfy", "0/16B3748", guard, "9e107d9d372bb6826bd81d3542a419d6")
	slot, start, g, shape, ok := parseKeysMarker(m)
	assert.True(t, ok)
	assert.Equal(t, "rdsencrypt_m1_0a1b2c3d_vfy", slot)
	assert.Equal(t, "0/16B3748", start)
	assert.Equal(t, guard, g)
	assert.Equal(t, "9e107d9d372bb6826bd81d3542a419d6", shape)
	_, start, g, _, ok = parseKeysMarker("keys:s@0/1#abc") // from before the guard
	assert.True(t, ok)
	assert.Equal(t, "0/1", start)
	assert.Empty(t, g)
	assert.True(t, sameShape(m, "9e107d9d372bb6826bd81d3542a419d6"))
	assert.False(t, sameShape(m, "e4d909c290d0fb1ca068ffaddf22cbd0"), "a table rewritten, altered or swapped since")
	assert.False(t, sameShape(m, ""), "a table gone since")
	_, _, _, _, ok = parseKeysMarker("16384:12:3:0:2026-12-06 ...") // a change-statistics marker
	assert.False(t, ok)

	n := replication.NamesFor("0123456789abcdef0123456789").In("a database")
	assert.Equal(t, verifySlot(n), verifyPublication(n), "slotChanges decodes through the publication of the slot's name")
	assert.Equal(t, n.Subscription, verifiedSubscription(verifySlot(n)))
	assert.Equal(t, n.Publication, verifiedSubscription(verifySlot(n)), "changedByKeys reads the stream's publication by that name too")
	assert.LessOrEqual(t, len(verifySlot(n)), 63)

	ahead := []replication.TableCheck{
		{Table: `"shop"."public"."a"`, Marker: keysMarker("s1", "0/1", "", "a1"), TargetMarker: keysMarker("s1", "0/1", "", "a2"), SourceRows: 1, TargetRows: 1},
		{Table: `"shop"."public"."b"`, Marker: keysMarker("s1", "0/1", "", "b1"), TargetMarker: keysMarker("s1", "0/1", "", "b2")},
		{Table: `"crm"."public"."c"`, Marker: keysMarker("s2", "0/2", "", "c1"), TargetMarker: keysMarker("s2", "0/2", "", "c2")},
		{Table: `"crm"."public"."d"`, Marker: "16384:1:2:3", TargetMarker: "16384:1:2:3"},
		{Table: `"crm"."public"."e"`, Marker: keysMarker("s2", "0/2", "", "e1"), TargetMarker: keysMarker("s2", "0/2", "", "e2"), SourceRows: 1, TargetRows: 2},
	}
	ahead[0].TargetMarker = keysMarker("s1", "0/1", guard, "a2")
	groups, rest := keyGroups(replication.Endpoint{Databases: []string{"shop", "crm"}}, ahead)
	require.Len(t, groups, 2)
	assert.Equal(t, guard, groups[0].guard, "the target's marker carries the reading")
	assert.Equal(t, "shop", groups[0].db)
	assert.Equal(t, "s1", groups[0].slot)
	assert.Equal(t, "0/1", groups[0].start)
	assert.Len(t, groups[0].checks, 2)
	assert.Equal(t, "crm", groups[1].db)
	assert.Equal(t, []replication.TableCheck{ahead[3], ahead[4]}, rest, "a statistics marker, and a table that differed ahead, are not verified by keys")
}

func TestSubtract(t *testing.T) {
	got, err := subtract(replication.Sum{Rows: 10, Checksum: "123456789012345678901234567890"}, replication.Sum{Rows: 3, Checksum: "1000"})
	require.NoError(t, err)
	assert.Equal(t, replication.Sum{Rows: 7, Checksum: "123456789012345678901234566890"}, got)
	_, err = subtract(replication.Sum{Checksum: "missing"}, replication.Sum{Checksum: "0"})
	assert.Error(t, err)
}

func TestSkipGuard(t *testing.T) {
	was := skipGuard{sub: "16399", skipLSN: "0/0", applyErrors: 3, syncErrors: 0, reset: "", started: "2026-12-06 23:50:01.5+00", crashed: "2026-12-06 23:50:01.2+00"}
	g, ok := parseSkipGuard(was.String())
	require.True(t, ok)
	assert.Equal(t, was, g)
	for _, bad := range []string{"", "16399,0/0,x,0,,a,b", "1,2,3"} {
		_, ok := parseSkipGuard(bad)
		assert.False(t, ok, bad)
	}
	why := func(now skipGuard) string {
		return skipGuardWhy("rdsencrypt_m1", "new.example", was.String(), now.String())
	}
	assert.Empty(t, why(was), "errors before the verification ahead: their transactions committed before the source's snapshot, which the comparison ahead saw")
	for _, c := range []struct {
		name string
		now  func(g skipGuard) skipGuard
		want string
	}{
		{"an apply error since", func(g skipGuard) skipGuard { g.applyErrors++; return g }, "failed 1 time(s) since the verification ahead"},
		{"a sync error since", func(g skipGuard) skipGuard { g.syncErrors += 2; return g }, "failed 2 time(s)"},
		{"a skip pending", func(g skipGuard) skipGuard { g.skipLSN = "0/14C0378"; return g }, "SKIP (lsn = 0/14C0378)"},
		{"the counts reset", func(g skipGuard) skipGuard { g.applyErrors, g.reset = 0, "2026-12-07 00:10:00+00"; return g }, "were reset"},
		{"a restart", func(g skipGuard) skipGuard { g.started = "2026-12-07 00:10:00+00"; return g }, "restarted"},
		{"a crash (the statistics discarded)", func(g skipGuard) skipGuard { g.crashed = "2026-12-07 00:10:00+00"; g.applyErrors = 3; return g }, "restarted"},
		{"another subscription of that name", func(g skipGuard) skipGuard { g.sub = "16500"; return g }, "created again"},
	} {
		assert.Contains(t, why(c.now(was)), c.want, c.name)
	}
	pending := was
	pending.skipLSN = "0/14C0378"
	assert.Contains(t, skipGuardWhy("s", "h", pending.String(), was.String()), "SKIP (lsn = 0/14C0378)", "a skip pending ahead, consumed since")
	assert.Contains(t, skipGuardWhy("s", "h", was.String(), ""), "gone")
	assert.Contains(t, skipGuardWhy("s", "h", "", was.String()), "not read ahead", "a marker from before the guard")
	assert.Empty(t, skipGuardWhy("s", "h", noSkipStats, noSkipStats), "PostgreSQL 13 and 14 have no counts: the blind spot the docs state")
}

func TestARelationSentAgainWithAnotherKey(t *testing.T) {
	// pgoutput sends a relation again after DDL (review V3): ALTER TABLE c DROP CONSTRAINT
	// c_pkey, ADD PRIMARY KEY (b) between two changes of one decoding.
	set := decode(t, "",
		relationMsg(7, "public", "c", 'd', col{"a", true}, col{"b", false}),
		insertMsg(7, tuple(s("1"), s("1001"))),
		relationMsg(7, "public", "c", 'd', col{"a", false}, col{"b", true}),
		insertMsg(7, tuple(s("5"), s("1005"))),
		relationMsg(8, "public", "same", 'd', col{"id", true}),
		insertMsg(8, tuple(s("1"))),
		relationMsg(8, "public", "same", 'd', col{"id", true}), // sent again, same key
		insertMsg(8, tuple(s("2"))),
		relationMsg(9, "public", "full", 'd', col{"id", true}),
		insertMsg(9, tuple(s("1"))),
		relationMsg(9, "public", "full", 'f', col{"id", true}), // REPLICA IDENTITY FULL since
	)
	assert.Contains(t, set[`"public"."c"`].whole, "key columns changed")
	assert.Empty(t, set[`"public"."c"`].keys)
	assert.Empty(t, set[`"public"."same"`].whole)
	assert.ElementsMatch(t, []string{"1", "2"}, keysOf(set[`"public"."same"`]))
	assert.Contains(t, set[`"public"."full"`].whole, "FULL")

	// Keys merged from an earlier decoding (Advance's) and a relation whose key changed since.
	earlier := decode(t, "", relationMsg(7, "public", "c", 'd', col{"a", true}, col{"b", false}), insertMsg(7, tuple(s("1"), s("1001"))))
	d := newDecoder("", earlier, 0)
	require.NoError(t, d.add(relationMsg(7, "public", "c", 'd', col{"a", false}, col{"b", true})))
	require.NoError(t, d.add(insertMsg(7, tuple(s("5"), s("1005")))))
	assert.Contains(t, earlier[`"public"."c"`].whole, "key columns changed")
}

func TestCarried(t *testing.T) {
	assert.True(t, carried(0, "16500"), "published")
	assert.True(t, carried(0, "16500.16501,16502"), "two leaves, one published twice")
	assert.False(t, carried(0, "16500,-"), "a leaf not in the publication (a table created after the stream started)")
	assert.True(t, carried(1, "r,r"))
	assert.False(t, carried(1, "r,-"), "a partition created after the subscription: not in pg_subscription_rel")
	assert.False(t, carried(1, "d"), "not ready")
	assert.True(t, carried(0, ""), "a partitioned table without partitions")
}
