package postgres

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"

	"github.com/rdsencrypt/rdsencrypt/internal/replication"
)

// Verification from changed keys (docs/replication.md#postgresql-the-changed-keys-decoded-from-a-slot):
// a *verify slot* on the target, with the pgoutput plugin and a publication of every user
// table, records from its start every row change there: the source's, as the stream applies
// them, and any other writer's. Ahead of the freeze each table is compared in one snapshot per
// side, less the rows whose keys the slot saw changed; inside the freeze only the rows of the
// keys changed since the slot's start are compared, found by their keys through the index. A
// table the stream does not carry, or a source transaction the subscription skipped, is not
// seen by the slot: those are compared in full (carriedSQL, verify_skip.go).

var _ replication.Advancer = (*Engine)(nil)

// verifySlot and verifyPublication name, on each side, the slot whose changes the verification
// decodes and the publication it decodes through.
func verifySlot(n replication.Names) string        { return n.Slot + "_vfy" }
func verifyPublication(n replication.Names) string { return n.Publication + "_vfy" }

// verifiedSubscription is the subscription whose applies the verify slot named slot decodes:
// the slot's name less "_vfy" (replication.Names gives the slot, the stream's publication and
// the subscription one name).
func verifiedSubscription(slot string) string { return strings.TrimSuffix(slot, "_vfy") }

// keysPrefix starts the marker of a table verified from keys:
// "keys:<slot>@<start>!<guard>#<shape>", the target's verify slot, the position it decodes
// from, the subscription's error counts read before the snapshots (verify_skip.go), and the
// table's shape on that side (shapeSQL); any other marker is a change-statistics marker
// (verify.go: a journal from before keys). A marker from before the guard has no "!<guard>".
const keysPrefix = "keys:"

func keysMarker(slot, start, guard, shape string) string {
	return keysPrefix + slot + "@" + start + "!" + guard + "#" + shape
}

func parseKeysMarker(m string) (slot, start, guard, shape string, ok bool) {
	rest, ok := strings.CutPrefix(m, keysPrefix)
	if !ok {
		return "", "", "", "", false
	}
	rest, shape, ok = strings.Cut(rest, "#")
	if !ok {
		return "", "", "", "", false
	}
	slot, start, ok = strings.Cut(rest, "@")
	start, guard, _ = strings.Cut(start, "!")
	return slot, start, guard, shape, ok
}

// keyBatch is how many keys one lookup sends.
var keyBatch = 20000

// DefaultMaxKeys is the default of Engine.MaxKeys: the changed keys held for one database.
// A key is kept as a Go string in a map (its text, 16 bytes of header, and the map's entry
// and spare room: 60 to 100 bytes for an integer or UUID key), so two million keys hold
// 120 to 200 MB; comparing them inside the freeze is 100 lookups of keyBatch keys per side.
const DefaultMaxKeys = 2_000_000

// keyShare is the share of a table's rows past which, once its changed keys need more than one
// lookup batch, the freeze compares the table in full rather than by key: a lookup reads an
// index path and a heap page per key in the keys' order, a full comparison reads the table
// in order once, so past a tenth of the rows the lookups no longer save much and can cost
// more.
const keyShare = 10

func (e *Engine) maxKeys() int {
	if e.MaxKeys > 0 {
		return e.MaxKeys
	}
	return DefaultMaxKeys
}

// manyKeys says why a table of rows rows with keys changed keys is compared in full inside
// the freeze rather than by key ("" when by key): more keys than one lookup batch and than a
// keyShare-th of its rows.
func manyKeys(keys int, rows int64) string {
	if keys <= keyBatch || int64(keys)*keyShare <= rows {
		return ""
	}
	return fmt.Sprintf("%d changed keys, more than a tenth of its %d rows: one pass over the table costs less than a lookup per key", keys, rows)
}

// keyChanges is what a slot's changes did to one table.
type keyChanges struct {
	// whole says why the keys do not account for the table's changes ("" when they do): it was
	// truncated, it has no usable key, a key came without its value. The table is then compared
	// in full.
	whole string
	cols  []string        // the key's columns
	keys  map[string]bool // each changed key: its columns' text joined by NUL, which text cannot hold
}

func (k *keyChanges) drop(why string) {
	if k.whole == "" {
		k.whole = why
	}
	k.keys = nil
}

// changeSet is the changed keys of each table (qualified as tables.List names it).
type changeSet map[string]*keyChanges

// merge adds o's changes to s.
func (s changeSet) merge(o changeSet) {
	for name, k := range o {
		m := s[name]
		if m == nil {
			m = &keyChanges{cols: k.cols, keys: map[string]bool{}}
			s[name] = m
		}
		switch {
		case m.whole != "":
		case k.whole != "":
			m.drop(k.whole)
		case !slices.Equal(m.cols, k.cols):
			m.drop("its key columns changed")
		default:
			for key := range k.keys {
				m.keys[key] = true
			}
		}
	}
}

// decoder reads pgoutput messages (protocol 1) into a changeSet: an insert gives its new key,
// an update its new key and, when the key changed, the old one ('K'), a delete its old key; a
// truncate, or a change of a table whose replica identity is FULL or nothing, makes the table
// compared in full.
//
// At most max keys are held in set (0: no bound): past it, the table holding the most has its
// keys dropped and is compared in full (review V11: the keys run from the verification ahead's
// start, so a long wait for the freeze's approval makes them grow without end).
type decoder struct {
	db   string // the qualifier of the tables' names: "" without Endpoint.Databases
	rels map[uint32]*pglogrepl.RelationMessage
	set  changeSet
	max  int // the bound on the keys held in set; 0: none
	held int // the keys held in set
}

func newDecoder(db string, set changeSet, bound int) *decoder {
	d := &decoder{db: db, rels: map[uint32]*pglogrepl.RelationMessage{}, set: set, max: bound}
	for _, k := range set {
		d.held += len(k.keys)
	}
	return d
}

// shed drops the keys of the table holding the most, which is then compared in full.
func (d *decoder) shed() {
	var most *keyChanges
	for _, k := range d.set {
		if most == nil || len(k.keys) > len(most.keys) {
			most = k
		}
	}
	if most == nil || len(most.keys) == 0 {
		return
	}
	d.held -= len(most.keys)
	most.drop(fmt.Sprintf("more changed keys than the %d the verification holds in memory", d.max))
}

func (d *decoder) add(data []byte) error {
	if len(data) == 0 {
		return nil
	}
	m, err := pglogrepl.Parse(data)
	if err != nil {
		return fmt.Errorf("decode a pgoutput message %q: %w", data[0], err)
	}
	switch m := m.(type) {
	case *pglogrepl.RelationMessage:
		d.rels[m.RelationID] = m
		// pgoutput sends a relation again after DDL changed it: keys recorded under other key
		// columns (in this decoding, or merged from an earlier one) cannot be looked up by
		// these (review V3).
		if k := d.set[qualify(d.db, ident(m.Namespace, m.RelationName))]; k != nil && k.whole == "" {
			if why := unkeyed(m); why != "" {
				k.drop(why)
			} else if !slices.Equal(k.cols, keyCols(m)) {
				k.drop("its key columns changed")
			}
		}
	case *pglogrepl.InsertMessage:
		return d.key(m.RelationID, m.Tuple)
	case *pglogrepl.UpdateMessage:
		if m.OldTuple != nil {
			if err := d.key(m.RelationID, m.OldTuple); err != nil {
				return err
			}
		}
		return d.key(m.RelationID, m.NewTuple)
	case *pglogrepl.DeleteMessage:
		return d.key(m.RelationID, m.OldTuple)
	case *pglogrepl.TruncateMessage:
		for _, id := range m.RelationIDs {
			_, k, err := d.table(id)
			if err != nil {
				return err
			}
			k.drop("it was truncated")
		}
	}
	return nil
}

// table is the relation of a change and its entry in the set.
func (d *decoder) table(id uint32) (*pglogrepl.RelationMessage, *keyChanges, error) {
	rel, ok := d.rels[id]
	if !ok {
		return nil, nil, fmt.Errorf("a change of relation %d came before its relation message", id)
	}
	name := qualify(d.db, ident(rel.Namespace, rel.RelationName))
	k := d.set[name]
	if k == nil {
		k = &keyChanges{keys: map[string]bool{}, cols: keyCols(rel)}
		if why := unkeyed(rel); why != "" {
			k.drop(why)
		}
		d.set[name] = k
	}
	return rel, k, nil
}

// keyCols are the key's columns of rel (flag 1: the primary key or replica identity index).
func keyCols(rel *pglogrepl.RelationMessage) []string {
	var cols []string
	for _, c := range rel.Columns {
		if c.Flags&1 != 0 {
			cols = append(cols, c.Name)
		}
	}
	return cols
}

// unkeyed says why rel's changes cannot be accounted for by keys, "" when they can.
func unkeyed(rel *pglogrepl.RelationMessage) string {
	switch {
	case rel.ReplicaIdentity == 'f':
		return "its replica identity is FULL"
	case rel.ReplicaIdentity == 'n' || len(keyCols(rel)) == 0:
		return "it has no primary key or replica identity index"
	}
	return ""
}

// key records the key of tuple, a change of relation id.
func (d *decoder) key(id uint32, tuple *pglogrepl.TupleData) error {
	rel, k, err := d.table(id)
	if err != nil || k.whole != "" {
		return err
	}
	if tuple == nil || len(tuple.Columns) != len(rel.Columns) {
		k.drop("a change came without its key")
		return nil
	}
	parts := make([]string, 0, len(k.cols))
	for i, c := range rel.Columns {
		if c.Flags&1 == 0 {
			continue
		}
		if v := tuple.Columns[i]; v.DataType == pglogrepl.TupleDataTypeText {
			parts = append(parts, string(v.Data))
		} else {
			k.drop(fmt.Sprintf("key column %s came without its value (%q)", c.Name, v.DataType))
			return nil
		}
	}
	if len(parts) != len(k.cols) {
		k.drop("its key columns changed")
		return nil
	}
	key := strings.Join(parts, "\x00")
	if k.keys[key] {
		return nil
	}
	if d.max > 0 && d.held >= d.max {
		d.shed()
		if k.whole != "" {
			return nil
		}
	}
	k.keys[key] = true
	d.held++
	return nil
}

// changesSQL decodes a slot's changes from its position to now through its publication: only
// relation, insert, update, delete and truncate messages ('R', 'I', 'U', 'D', 'T').
func changesSQL(consume bool) string {
	f := "pg_logical_slot_peek_binary_changes"
	if consume {
		f = "pg_logical_slot_get_binary_changes"
	}
	return `SELECT data FROM ` + f + `($1, NULL, NULL, 'proto_version', '1', 'publication_names', $2)
		WHERE get_byte(data, 0) IN (82, 73, 85, 68, 84)`
}

// readChanges decodes slot (through pub) on c into d; consume: the slot moves past them.
func readChanges(ctx context.Context, c *pgx.Conn, slot, pub string, consume bool, d *decoder) error {
	rows, err := c.Query(ctx, changesSQL(consume), slot, pub)
	if err != nil {
		return fmt.Errorf("decode the changes of slot %s: %w", slot, err)
	}
	defer rows.Close()
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return err
		}
		if err := d.add(data); err != nil {
			return fmt.Errorf("slot %s: %w", slot, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("decode the changes of slot %s: %w", slot, err)
	}
	return nil
}

// keySession sets what the text of a value depends on, the same on both sides, so that a key
// decoded on one side reads back on the other and a row's text hashes alike; and lifts, for the
// tool's own session, the database's statement and idle-in-transaction timeouts, which would
// end the verification ahead's snapshot half way.
func keySession(ctx context.Context, c *pgx.Conn) error {
	for _, q := range []string{"SET DateStyle = 'ISO, YMD'", "SET IntervalStyle = 'postgres'", "SET TimeZone = 'UTC'", "SET extra_float_digits = 3", "SET bytea_output = 'hex'",
		"SET statement_timeout = 0", "SET idle_in_transaction_session_timeout = 0"} {
		if _, err := c.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// onBoth runs f for the source (0) and the target (1) at once: they are different servers.
func onBoth(f func(side int) error) error {
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(i)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// ensureVerifySlot creates, in the connected database, the verify publication (every user
// table; changes of a partition published as its root's, which is the table the verification
// lists) and then the verify slot, and returns the slot's position: the changes committed after
// it are decoded. PostgreSQL's slot creation waits for the transactions running then to end.
func ensureVerifySlot(ctx context.Context, c *pgx.Conn, n replication.Names) (string, error) {
	if err := ensurePublication(ctx, c, verifyPublication(n), " WITH (publish_via_partition_root = true)"); err != nil {
		return "", err
	}
	return ensureSlot(ctx, c, verifySlot(n))
}

// dropVerifySlot drops the verify slot and publication of n in the connected database.
func dropVerifySlot(ctx context.Context, c *pgx.Conn, n replication.Names) error {
	if err := dropSlot(ctx, c, verifySlot(n)); err != nil {
		return err
	}
	if _, err := c.Exec(ctx, "DROP PUBLICATION IF EXISTS "+ident(verifyPublication(n))); err != nil {
		return fmt.Errorf("drop publication %s: %w", verifyPublication(n), err)
	}
	return nil
}

// VerifyAhead compares every table while the source takes writes, from keys decoded from the
// target's verify slot (docs/replication.md#postgresql-the-changed-keys-decoded-from-a-slot;
// publish_via_partition_root needs PostgreSQL 13, the engine's minVersion). The source gets no
// slot: the target's sees every source commit the stream applies there, and every other write.
func (e *Engine) VerifyAhead(ctx context.Context, src, dst replication.Endpoint, n replication.Names) (replication.Verification, error) {
	// 1. The target's verify slot in every database: its start B.
	type started struct {
		s          stream
		start      string
		guard      string // the subscription's error counts before the snapshots (verify_skip.go)
		qualifier  string
		srcEP, dEP replication.Endpoint
	}
	var all []started
	for _, s := range streams(src, n) {
		st := started{s: s, srcEP: src.In(s.db), dEP: dst.In(s.db)}
		if len(src.Databases) > 0 {
			st.qualifier = s.db
		} else {
			st.srcEP, st.dEP = src, dst
		}
		if err := with(ctx, st.dEP, func(c *pgx.Conn) error {
			var err error
			if st.start, err = ensureVerifySlot(ctx, c, s.names); err != nil {
				return err
			}
			// Read before any snapshot of step 3: a transaction committed after the
			// source's snapshot fails, if it does, after this reading.
			st.guard, err = readSkipGuard(ctx, c, s.names.Subscription)
			return err
		}); err != nil {
			return replication.Verification{}, fmt.Errorf("database %s on %s: %w", s.db, dst.Host, err)
		}
		all = append(all, st)
	}
	// caughtUp waits until the target applied every source commit made before it was called.
	caughtUp := func() (bool, error) {
		waitCtx, cancel := context.WithTimeout(ctx, replication.AheadWait)
		defer cancel()
		err := tables{e: e}.CaughtUp(waitCtx, src, dst, n)
		if err != nil && ctx.Err() == nil && waitCtx.Err() != nil {
			return false, nil
		}
		return err == nil, err
	}
	lagged := replication.Verification{Warning: fmt.Sprintf("%s did not catch up with %s within %s: the tables are compared inside the freeze", dst.Host, src.Host, replication.AheadWait)}
	// 2. The target applies every source commit made before B: the source's rows as of then.
	if ok, err := caughtUp(); !ok || err != nil {
		return lagged, err
	}
	var v replication.Verification
	for _, st := range all {
		checks, ok, err := aheadByKeys(ctx, st.srcEP, st.dEP, st.s.names, st.qualifier, st.start, st.guard, e.maxKeys(), caughtUp)
		if err != nil {
			return replication.Verification{}, fmt.Errorf("database %s: %w", st.s.db, err)
		}
		if !ok {
			return lagged, nil
		}
		v.Tables = append(v.Tables, checks...)
	}
	sort.Slice(v.Tables, func(i, j int) bool { return v.Tables[i].Table < v.Tables[j].Table })
	return v, nil
}

// snapshotSide is one side's REPEATABLE READ transaction of the verification ahead.
type snapshotSide struct {
	c         *pgx.Conn
	sums      map[string]replication.Sum
	shapes    map[string]string
	uncarried map[string]bool // tables the stream does not carry (carriedSQL)
	published map[string]bool
}

// shapeSQL reads what changes a table's rows, or which rows it has, without a row change a
// slot decodes: its oid (DROP and CREATE, a rename swap), its file node (a rewrite: ALTER
// COLUMN TYPE ... USING, VACUUM FULL, CLUSTER; TRUNCATE), its columns (ADD COLUMN ... DEFAULT
// fills every row without writing one), its key and replica identity, and for a partitioned
// table each partition and its file node (TRUNCATE of a partition sends no message through a
// publication that publishes via the root; ATTACH and DETACH send none at all). Any difference
// between the verification ahead and the freeze: the table is compared in full.
const shapeSQL = `SELECT n.nspname, c.relname, md5(concat_ws('|', c.oid, c.relfilenode, c.relreplident,
	(SELECT string_agg(concat_ws(':', a.attnum, a.attname, a.atttypid, a.atttypmod, a.attisdropped, a.attgenerated), ',' ORDER BY a.attnum)
		FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0),
	(SELECT string_agg(concat_ws(':', i.indexrelid, i.indkey::text), ',' ORDER BY i.indexrelid)
		FROM pg_index i WHERE i.indrelid = c.oid AND (i.indisprimary OR i.indisreplident)),
	(SELECT string_agg(concat_ws(':', p.relid, pc.relfilenode), ',' ORDER BY p.relid)
		FROM pg_partition_tree(c.oid) p JOIN pg_class pc ON pc.oid = p.relid WHERE c.relkind = 'p')))
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE c.relkind IN ('r', 'p') AND c.relpersistence = 'p' AND NOT c.relispartition`

// carriedSQL says, for each table of shapeSQL, whether the stream carries every leaf of its
// partition tree (the table itself when not partitioned) from the source to the target: on the
// source, the rows of the stream's publication ($1) in pg_publication_rel that publish the leaf
// (itself or an ancestor: FOR TABLE of a partitioned table covers its later partitions); on the
// target, the leaf's state in the subscription's ($1) pg_subscription_rel (the apply worker
// drops the changes of a relation not there: a partition created after the subscription).
// "-" for a leaf not carried. A table the stream does not carry gets no source write decoded
// by the target's slot, so the keys cannot account for it (review V1).
var carriedSQL = [2]string{
	`SELECT n.nspname, c.relname, (SELECT string_agg(coalesce((SELECT string_agg(pr.oid::text, '.' ORDER BY pr.oid)
		FROM pg_publication_rel pr JOIN pg_publication pb ON pb.oid = pr.prpubid
		WHERE pb.pubname = $1 AND (pr.prrelid = p.relid OR pr.prrelid IN (SELECT relid FROM pg_partition_ancestors(p.relid)))), '-'), ',' ORDER BY p.relid)
		FROM ` + leavesSQL + `)
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE c.relkind IN ('r', 'p') AND c.relpersistence = 'p' AND NOT c.relispartition`,
	`SELECT n.nspname, c.relname, (SELECT string_agg(coalesce((SELECT r.srsubstate::text FROM pg_subscription_rel r
		JOIN pg_subscription s ON s.oid = r.srsubid
		WHERE s.subname = $1 AND s.subdbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND r.srrelid = p.relid), '-'), ',' ORDER BY p.relid)
		FROM ` + leavesSQL + `)
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE c.relkind IN ('r', 'p') AND c.relpersistence = 'p' AND NOT c.relispartition`,
}

// leavesSQL are the leaves (relid) of table c's partition tree: c itself when it is not
// partitioned (pg_partition_tree lists nothing for a table outside any partition tree).
const leavesSQL = `(SELECT c.oid AS relid WHERE c.relkind = 'r'
		UNION ALL SELECT t.relid FROM pg_partition_tree(c.oid) t WHERE c.relkind = 'p' AND t.isleaf) p`

// carried says whether carriedSQL's answer for a table on side (0 the source, 1 the target)
// is that the stream carries it: every leaf published, or every leaf ready ('r') in the
// subscription. A partitioned table without partitions has no rows to carry.
func carried(side int, leaves string) bool {
	if leaves == "" {
		return true
	}
	for _, l := range strings.Split(leaves, ",") {
		if l == "-" || (side == 1 && l != "r") {
			return false
		}
	}
	return true
}

// streamShapes is shapes on side (0 the source, 1 the target) with what carriedSQL says of
// each table folded into its shape, so that a table leaving the publication or the
// subscription since (or dropped from and added again to the publication: another
// pg_publication_rel row) has another shape; and the tables the stream does not carry now.
// stream names the stream's publication on the source, its subscription on the target.
func streamShapes(ctx context.Context, c *pgx.Conn, db string, side int, stream string) (map[string]string, map[string]bool, error) {
	out, err := shapes(ctx, c, db)
	if err != nil {
		return nil, nil, err
	}
	rows, err := c.Query(ctx, carriedSQL[side], stream)
	if err != nil {
		return nil, nil, fmt.Errorf("read what the stream carries: %w", err)
	}
	uncarried := map[string]bool{}
	var schema, table string
	var leaves *string
	_, err = pgx.ForEachRow(rows, []any{&schema, &table, &leaves}, func() error {
		name, l := qualify(db, ident(schema, table)), ""
		if leaves != nil {
			l = *leaves
		}
		if !carried(side, l) {
			uncarried[name] = true
		}
		if shape, ok := out[name]; ok {
			out[name] = fmt.Sprintf("%x", md5.Sum([]byte(shape+"|"+l)))
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read what the stream carries: %w", err)
	}
	return out, uncarried, nil
}

// shapes reads shapeSQL on c, names qualified with db.
func shapes(ctx context.Context, c *pgx.Conn, db string) (map[string]string, error) {
	rows, err := c.Query(ctx, shapeSQL)
	if err != nil {
		return nil, fmt.Errorf("read the tables' definitions: %w", err)
	}
	out := map[string]string{}
	var schema, table, shape string
	_, err = pgx.ForEachRow(rows, []any{&schema, &table, &shape}, func() error {
		out[qualify(db, ident(schema, table))] = shape
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the tables' definitions: %w", err)
	}
	return out, nil
}

// aheadByKeys is steps 3 to 5 of the verification ahead in one database: each side's sums and
// shapes in one snapshot, a second catch-up (the target applies every source commit made
// before the source's snapshot), the keys the target's slot saw changed since B, the sums of
// those keys' rows in the same snapshots, and the comparison of the rest. ok is false when the
// target did not catch up in time.
func aheadByKeys(ctx context.Context, src, dst replication.Endpoint, n replication.Names, db, start, guard string, maxKeys int, caughtUp func() (bool, error)) (_ []replication.TableCheck, ok bool, _ error) {
	eps := [2]replication.Endpoint{src, dst}
	var sides [2]*snapshotSide
	defer func() {
		for _, s := range sides {
			if s != nil {
				s.c.Close(context.WithoutCancel(ctx))
			}
		}
	}()
	err := onBoth(func(i int) error {
		c, err := connect(ctx, eps[i])
		if err != nil {
			return err
		}
		side := &snapshotSide{c: c, sums: map[string]replication.Sum{}, published: map[string]bool{}}
		sides[i] = side
		if err := keySession(ctx, c); err != nil {
			return err
		}
		if _, err := c.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); err != nil {
			return fmt.Errorf("begin the snapshot on %s: %w", eps[i].Host, err)
		}
		names, err := userTables(ctx, c) // the snapshot is taken here
		if err != nil {
			return err
		}
		if side.shapes, side.uncarried, err = streamShapes(ctx, c, db, i, [2]string{n.Publication, n.Subscription}[i]); err != nil {
			return err
		}
		if i == 1 {
			rows, err := c.Query(ctx, `SELECT schemaname::text, tablename::text FROM pg_publication_tables WHERE pubname = $1`, verifyPublication(n))
			if err != nil {
				return fmt.Errorf("list the tables of publication %s: %w", verifyPublication(n), err)
			}
			var schema, table string
			if _, err := pgx.ForEachRow(rows, []any{&schema, &table}, func() error {
				side.published[qualify(db, ident(schema, table))] = true
				return nil
			}); err != nil {
				return fmt.Errorf("list the tables of publication %s: %w", verifyPublication(n), err)
			}
		}
		for _, t := range names {
			var s replication.Sum
			// The table's own rows, as the keys' rows subtracted from them (ownRows).
			from, err := ownRows(ctx, c, t)
			if err != nil {
				return err
			}
			if err := c.QueryRow(ctx, checksumSQL(from)).Scan(&s.Rows, &s.Checksum); err != nil {
				return fmt.Errorf("checksum %s on %s: %w", t, eps[i].Host, err)
			}
			side.sums[qualify(db, t)] = s
		}
		return nil
	})
	if err != nil {
		return nil, false, redactBoth(err, src, dst)
	}
	// 4. The target applies every source commit made before the source's snapshot; then the
	// keys its slot saw changed since B.
	if ok, err := caughtUp(); !ok || err != nil {
		return nil, false, err
	}
	changed := changeSet{}
	if err := with(ctx, dst, func(c *pgx.Conn) error {
		if err := keySession(ctx, c); err != nil {
			return err
		}
		return readChanges(ctx, c, verifySlot(n), verifyPublication(n), false, newDecoder(db, changed, maxKeys))
	}); err != nil {
		return nil, false, fmt.Errorf("on %s: %w", dst.Host, err)
	}
	// 5. Each table less its changed keys' rows, in the same snapshots.
	names := map[string]bool{}
	for _, s := range sides {
		for name := range s.sums {
			names[name] = true
		}
	}
	var out []replication.TableCheck
	for name := range names {
		check := replication.TableCheck{Table: name, SourceRows: -1, TargetRows: -1, SourceChecksum: "missing", TargetChecksum: "missing"}
		ss, inSrc := sides[0].sums[name]
		ds, inDst := sides[1].sums[name]
		if inSrc {
			check.SourceRows, check.SourceChecksum = ss.Rows, ss.Checksum
		}
		if inDst {
			check.TargetRows, check.TargetChecksum = ds.Rows, ds.Checksum
		}
		k := changed[name]
		if !inSrc || !inDst || !sides[1].published[name] || sides[0].uncarried[name] || sides[1].uncarried[name] || (k != nil && k.whole != "") {
			out = append(out, check) // compared inside the freeze, in full
			continue
		}
		if k != nil && len(k.keys) > 0 {
			var less [2]replication.Sum
			err := onBoth(func(i int) error {
				var err error
				less[i], err = keyedSum(ctx, sides[i].c, strings.TrimPrefix(name, qualify(db, "")), k)
				return err
			})
			if err != nil {
				return nil, false, redactBoth(err, src, dst)
			}
			if ss, err = subtract(ss, less[0]); err == nil {
				ds, err = subtract(ds, less[1])
			}
			if err != nil {
				return nil, false, fmt.Errorf("%s: %w", name, err)
			}
			check.SourceRows, check.SourceChecksum, check.TargetRows, check.TargetChecksum = ss.Rows, ss.Checksum, ds.Rows, ds.Checksum
		}
		if check.Equal() {
			check.Marker = keysMarker(verifySlot(n), start, guard, sides[0].shapes[name])
			check.TargetMarker = keysMarker(verifySlot(n), start, guard, sides[1].shapes[name])
		}
		out = append(out, check)
	}
	for _, s := range sides {
		if _, err := s.c.Exec(ctx, "COMMIT"); err != nil {
			return nil, false, err
		}
	}
	return out, true, nil
}

func redactBoth(err error, src, dst replication.Endpoint) error {
	return redactErr(redactErr(err, src.Password), dst.Password)
}

// subtract is a's rows and checksum less b's.
func subtract(a, b replication.Sum) (replication.Sum, error) {
	x, ok := new(big.Int).SetString(a.Checksum, 10)
	y, ok2 := new(big.Int).SetString(b.Checksum, 10)
	if !ok || !ok2 {
		return replication.Sum{}, fmt.Errorf("checksums %q and %q are not numbers", a.Checksum, b.Checksum)
	}
	return replication.Sum{Rows: a.Rows - b.Rows, Checksum: x.Sub(x, y).String()}, nil
}

// keyColumns is the key's columns of table on c and their types, to look rows up by key, and
// the table as the lookups read it (ownRows).
func keyColumns(ctx context.Context, c *pgx.Conn, table string, cols []string) (from string, types []string, err error) {
	if from, err = ownRows(ctx, c, table); err != nil {
		return "", nil, err
	}
	types, err = strings1(ctx, c, `SELECT format_type(a.atttypid, a.atttypmod) FROM unnest($2::text[]) WITH ORDINALITY AS w(name, i)
		JOIN pg_attribute a ON a.attrelid = $1::regclass AND a.attname = w.name AND NOT a.attisdropped ORDER BY w.i`, table, cols)
	if err != nil {
		return "", nil, fmt.Errorf("read the key columns of %s: %w", table, err)
	}
	if len(types) != len(cols) {
		return "", nil, fmt.Errorf("%s has no columns %s", table, strings.Join(cols, ", "))
	}
	return from, types, nil
}

// ownRows is table as the verification by keys reads it: ONLY its own rows for a plain table
// (a parent's scan also returns its inheritance children's rows, each child with its own key,
// so one key could return two rows: review V14), and its partitions' for a partitioned table.
func ownRows(ctx context.Context, c *pgx.Conn, table string) (string, error) {
	var kind string
	if err := c.QueryRow(ctx, `SELECT relkind::text FROM pg_class WHERE oid = $1::regclass`, table).Scan(&kind); err != nil {
		return "", fmt.Errorf("look up %s: %w", table, err)
	}
	if kind == "r" {
		return "ONLY " + table, nil
	}
	return table, nil
}

// errDuplicateKey: a key returned two rows of a table (its key is not unique there).
var errDuplicateKey = errors.New("a changed key returned two rows")

// byKeys is table joined with the keys in the arrays $1.. (one text[] per key column, cast to
// the column's type, so the lookup uses the key's index), the table as t and the keys as k.
func byKeys(table string, cols, types []string) string {
	var args, names, on []string
	for i, col := range cols {
		args = append(args, fmt.Sprintf("$%d::text[]", i+1))
		names = append(names, fmt.Sprintf("k%d", i))
		on = append(on, fmt.Sprintf("t.%s = k.k%d::%s", ident(col), i, types[i]))
	}
	return table + " t JOIN unnest(" + strings.Join(args, ", ") + ") AS k(" + strings.Join(names, ", ") + ") ON " + strings.Join(on, " AND ")
}

// batches cuts keys (sorted) into column arrays of at most keyBatch keys.
func batches(keys map[string]bool, ncols int) [][]any {
	all := make([]string, 0, len(keys))
	for k := range keys {
		all = append(all, k)
	}
	sort.Strings(all)
	var out [][]any
	for len(all) > 0 {
		part := all[:min(keyBatch, len(all))]
		all = all[len(part):]
		cols := make([][]string, ncols)
		for _, key := range part {
			for i, v := range strings.SplitN(key, "\x00", ncols) {
				cols[i] = append(cols[i], v)
			}
		}
		args := make([]any, ncols)
		for i := range cols {
			args[i] = cols[i]
		}
		out = append(out, args)
	}
	return out
}

// keyedSum is the count and checksum (checksumSQL's) of table's rows whose keys are in k.
func keyedSum(ctx context.Context, c *pgx.Conn, table string, k *keyChanges) (replication.Sum, error) {
	from, types, err := keyColumns(ctx, c, table, k.cols)
	if err != nil {
		return replication.Sum{}, err
	}
	total := replication.Sum{Checksum: "0"}
	for _, args := range batches(k.keys, len(k.cols)) {
		var s replication.Sum
		if err := c.QueryRow(ctx, sumSQL(byKeys(from, k.cols, types)), args...).Scan(&s.Rows, &s.Checksum); err != nil {
			return replication.Sum{}, fmt.Errorf("checksum the changed rows of %s: %w", table, err)
		}
		if total, err = subtract(total, replication.Sum{Rows: -s.Rows, Checksum: "-" + s.Checksum}); err != nil {
			return replication.Sum{}, err
		}
	}
	return total, nil
}

// rowHashes reads the md5 of the text of each row of table whose key is in k, by key;
// errDuplicateKey when a key returns two rows.
func rowHashes(ctx context.Context, c *pgx.Conn, table string, k *keyChanges) (map[string]string, error) {
	from, types, err := keyColumns(ctx, c, table, k.cols)
	if err != nil {
		return nil, err
	}
	var sel []string
	for i := range k.cols {
		sel = append(sel, fmt.Sprintf("k.k%d", i))
	}
	q := "SELECT " + strings.Join(sel, ", ") + ", md5(t::text) FROM " + byKeys(from, k.cols, types)
	out := map[string]string{}
	vals := make([]string, len(k.cols)+1)
	dest := make([]any, len(vals))
	for i := range vals {
		dest[i] = &vals[i]
	}
	for _, args := range batches(k.keys, len(k.cols)) {
		rows, err := c.Query(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("read the changed rows of %s: %w", table, err)
		}
		for rows.Next() {
			if err := rows.Scan(dest...); err != nil {
				rows.Close()
				return nil, err
			}
			key := strings.Join(vals[:len(k.cols)], "\x00")
			if _, dup := out[key]; dup {
				rows.Close()
				return nil, fmt.Errorf("%s: %w", table, errDuplicateKey)
			}
			out[key] = vals[len(k.cols)]
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read the changed rows of %s: %w", table, err)
		}
	}
	return out, nil
}

// keyGroup is the tables of one database verified ahead from its verify slots.
type keyGroup struct {
	db          string // "" without Endpoint.Databases
	slot, start string // the target's verify slot and its start
	guard       string // the subscription's error counts before the verification ahead
	checks      []replication.TableCheck
}

// on is ep connected to the group's database.
func (g *keyGroup) on(ep replication.Endpoint) replication.Endpoint {
	if g.db == "" {
		return ep
	}
	return ep.In(g.db)
}

// keyGroups sorts the tables verified ahead from keys by database and slots; rest are those
// with change-statistics markers (a journal from before keys) or none.
func keyGroups(src replication.Endpoint, ahead []replication.TableCheck) (groups []*keyGroup, rest []replication.TableCheck) {
	byKey := map[string]*keyGroup{}
	for _, c := range ahead {
		_, _, _, _, ok := parseKeysMarker(c.Marker)
		slot, start, guard, _, ok2 := parseKeysMarker(c.TargetMarker)
		if !ok || !ok2 || !c.Equal() {
			rest = append(rest, c)
			continue
		}
		db := ""
		if len(src.Databases) > 0 {
			db, _ = splitDatabase(c.Table)
		}
		id := db + "\x00" + slot + "\x00" + start
		g := byKey[id]
		if g == nil {
			g = &keyGroup{db: db, slot: slot, start: start, guard: guard}
			byKey[id] = g
			groups = append(groups, g)
		}
		g.checks = append(g.checks, c)
	}
	return groups, rest
}

// readKeys are the keys this process consumed from a verify slot (Advance), up to upTo, the
// slot's position after.
type readKeys struct {
	upTo string
	set  changeSet
}

// slotChanges decodes the verify slot of g on ep (the target, connected to g's database): the keys
// changed since the slot's start. consume (Advance) moves the slot on and keeps the keys in
// the engine; without, the slot is peeked and the keys kept add to what it consumed. why says
// why the slot cannot account for the changes since its start (gone, invalidated, consumed by
// another process): its tables are then compared in full.
func (e *Engine) slotChanges(ctx context.Context, ep replication.Endpoint, g *keyGroup, consume bool) (set changeSet, why string, err error) {
	slot, start, db := g.slot, g.start, g.db
	key := hostPort(ep) + "/" + slot
	err = with(ctx, ep, func(c *pgx.Conn) error {
		var confirmed *string
		var walStatus string
		err := c.QueryRow(ctx, `SELECT confirmed_flush_lsn::text, coalesce(wal_status, '') FROM pg_replication_slots WHERE slot_name = $1`, slot).Scan(&confirmed, &walStatus)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			why = "slot " + slot + " is gone from " + ep.Host
			return nil
		case err != nil:
			return fmt.Errorf("look up slot %s: %w", slot, err)
		case walStatus == "lost" || confirmed == nil:
			why = "slot " + slot + " on " + ep.Host + " was invalidated (the WAL it needs was removed)"
			return nil
		}
		set = changeSet{}
		if *confirmed != start {
			e.mu.Lock()
			r := e.read[key]
			e.mu.Unlock()
			if r == nil || r.upTo != *confirmed {
				why = "slot " + slot + " on " + ep.Host + " was read past " + start + " by an earlier run of the tool, whose keys are lost"
				return nil
			}
			set.merge(r.set)
		}
		if err := keySession(ctx, c); err != nil {
			return err
		}
		// The publication has the slot's name (verifySlot, verifyPublication).
		if err := readChanges(ctx, c, slot, slot, consume, newDecoder(db, set, e.maxKeys())); err != nil {
			return err
		}
		if !consume {
			return nil
		}
		if err := c.QueryRow(ctx, `SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1`, slot).Scan(&confirmed); err != nil || confirmed == nil {
			return fmt.Errorf("look up slot %s: %w", slot, err)
		}
		e.mu.Lock()
		if e.read == nil {
			e.read = map[string]*readKeys{}
		}
		e.read[key] = &readKeys{upTo: *confirmed, set: set}
		e.mu.Unlock()
		return nil
	})
	return set, why, err
}

// Advance consumes, right before the freeze, the target's verify slots up to now and keeps the
// keys they held in the engine, so that the verification inside the freeze decodes only what
// was written since. A process started later has not these keys: it compares those tables in
// full (slotChanges).
func (e *Engine) Advance(ctx context.Context, src, dst replication.Endpoint, ahead []replication.TableCheck) error {
	groups, _ := keyGroups(src, ahead)
	for _, g := range groups {
		if _, _, err := e.slotChanges(ctx, g.on(dst), g, true); err != nil {
			return err
		}
	}
	return nil
}

// VerifyChanged compares, inside the freeze, the rows of the keys changed since the verify
// slots' starts for the tables verified ahead from keys, and in full every other table (those
// with change-statistics markers as verify.go does).
func (e *Engine) VerifyChanged(ctx context.Context, src, dst replication.Endpoint, ahead []replication.TableCheck) (replication.Verification, error) {
	groups, rest := keyGroups(src, ahead)
	done := map[string]replication.TableCheck{}
	var notes, warnings []string
	if len(groups) > 0 {
		present := map[string]int{}
		for _, ep := range []replication.Endpoint{src, dst} {
			list, err := tables{e: e}.List(ctx, ep)
			if err != nil {
				return replication.Verification{}, err
			}
			for _, name := range list {
				present[name]++
			}
		}
		for _, g := range groups {
			checks, note, warning, err := e.changedByKeys(ctx, src, dst, g, present)
			if err != nil {
				return replication.Verification{}, err
			}
			for _, c := range checks {
				done[c.Table] = c
			}
			notes, warnings = append(notes, note...), append(warnings, warning...)
		}
	}
	v, err := replication.ChangedVerify(ctx, tables{e: e, skip: done}, src, dst, rest)
	if err != nil {
		return v, err
	}
	for _, c := range done {
		v.Tables = append(v.Tables, c)
	}
	sort.Slice(v.Tables, func(i, j int) bool { return v.Tables[i].Table < v.Tables[j].Table })
	v.Note = strings.Join(append(notes, nonEmpty(v.Note)...), "; ")
	v.Warning = strings.Join(append(warnings, nonEmpty(v.Warning)...), "; ")
	return v, nil
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// changedByKeys settles the tables of g that the keys account for: unchanged since the
// verification ahead on both sides (carried), or their changed keys' rows compared now. The
// others (slot gone, table truncated, keyless, missing on a side) are left to the comparison in
// full, with a note or warning saying why.
func (e *Engine) changedByKeys(ctx context.Context, src, dst replication.Endpoint, g *keyGroup, present map[string]int) (checks []replication.TableCheck, notes, warnings []string, err error) {
	eps := [2]replication.Endpoint{g.on(src), g.on(dst)}
	changed, why, err := e.slotChanges(ctx, eps[1], g, false)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read the changes since the verification ahead on %s: %w", dst.Host, err)
	}
	if why == "" {
		// After the drain: every source commit made before the freeze was applied, or skipped.
		sub := verifiedSubscription(g.slot)
		var guard string
		if err := with(ctx, eps[1], func(c *pgx.Conn) error {
			var err error
			guard, err = readSkipGuard(ctx, c, sub)
			return err
		}); err != nil {
			return nil, nil, nil, fmt.Errorf("on %s: %w", dst.Host, err)
		}
		why = skipGuardWhy(sub, dst.Host, g.guard, guard)
	}
	if why != "" {
		return nil, nil, []string{fmt.Sprintf("%s: the %d table(s) verified ahead there are compared in full", why, len(g.checks))}, nil
	}
	var now [2]map[string]string
	var uncarried [2]map[string]bool
	for i, ep := range eps {
		if err := with(ctx, ep, func(c *pgx.Conn) error {
			var err error
			// The stream's publication and subscription have one name (verifiedSubscription).
			now[i], uncarried[i], err = streamShapes(ctx, c, g.db, i, verifiedSubscription(g.slot))
			return err
		}); err != nil {
			return nil, nil, nil, fmt.Errorf("on %s: %w", ep.Host, err)
		}
	}
	var conns [2]*pgx.Conn
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close(context.WithoutCancel(ctx))
			}
		}
	}()
	for _, c := range g.checks {
		k := changed[c.Table]
		switch {
		case present[c.Table] != 2:
			continue // missing on a side: compared in full, which says so
		case uncarried[0][c.Table] || uncarried[1][c.Table]:
			notes = append(notes, fmt.Sprintf("%s compared in full: the stream does not carry it (not in its publication on the source, or not ready in its subscription on the target)", c.Table))
			continue
		case !sameShape(c.Marker, now[0][c.Table]) || !sameShape(c.TargetMarker, now[1][c.Table]):
			notes = append(notes, fmt.Sprintf("%s compared in full: its definition or storage changed since the verification ahead (DDL, TRUNCATE of a partition, VACUUM FULL)", c.Table))
			continue
		case k != nil && k.whole != "":
			notes = append(notes, fmt.Sprintf("%s compared in full: %s", c.Table, k.whole))
			continue
		case k == nil || len(k.keys) == 0:
			c.Ahead = true
			checks = append(checks, c)
			continue
		case manyKeys(len(k.keys), max(c.SourceRows, c.TargetRows)) != "":
			notes = append(notes, fmt.Sprintf("%s compared in full: %s", c.Table, manyKeys(len(k.keys), max(c.SourceRows, c.TargetRows))))
			continue
		}
		var hashes [2]map[string]string
		err := onBoth(func(i int) error {
			if conns[i] == nil {
				c, err := connect(ctx, eps[i])
				if err != nil {
					return err
				}
				conns[i] = c
				if err := keySession(ctx, c); err != nil {
					return err
				}
			}
			var err error
			hashes[i], err = rowHashes(ctx, conns[i], strings.TrimPrefix(c.Table, qualify(g.db, "")), k)
			return err
		})
		if errors.Is(err, errDuplicateKey) {
			notes = append(notes, fmt.Sprintf("%s compared in full: %v", c.Table, errDuplicateKey))
			continue
		}
		if err != nil {
			return nil, nil, nil, redactBoth(err, src, dst)
		}
		c.Ahead, c.KeysCompared = true, int64(len(k.keys))
		notes = append(notes, fmt.Sprintf("%s: %d changed keys compared", c.Table, len(k.keys)))
		if differ := differingKeys(hashes[0], hashes[1], k); len(differ) > 0 {
			c.SourceRows, c.TargetRows = int64(len(hashes[0])), int64(len(hashes[1]))
			c.SourceChecksum = fmt.Sprintf("%d of %d changed keys differ", len(differ), len(k.keys))
			c.TargetChecksum = "key " + strings.Join(differ[:min(3, len(differ))], ", key ")
			warnings = append(warnings, fmt.Sprintf("%s differs by key: %s", c.Table, c.TargetChecksum))
		}
		checks = append(checks, c)
	}
	return checks, notes, warnings, nil
}

// sameShape says the shape in marker is shape (shapeSQL).
func sameShape(marker, shape string) bool {
	_, _, _, was, ok := parseKeysMarker(marker)
	return ok && shape != "" && was == shape
}

// differingKeys names the keys whose rows differ: on one side only, or with different texts.
func differingKeys(src, dst map[string]string, k *keyChanges) []string {
	var out []string
	for key := range k.keys {
		s, inSrc := src[key]
		d, inDst := dst[key]
		if inSrc != inDst || s != d {
			out = append(out, "("+strings.Join(k.cols, ", ")+")=("+strings.ReplaceAll(key, "\x00", ", ")+")")
		}
	}
	sort.Strings(out)
	return out
}
