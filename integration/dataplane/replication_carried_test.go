package dataplane_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/rdsencrypt/rdsencrypt/internal/dataplane"
	"github.com/rdsencrypt/rdsencrypt/internal/replication"
	"github.com/rdsencrypt/rdsencrypt/internal/replication/postgres"
)

// TestPostgresTablesTheStreamDoesNotCarry (review V1): the keys decoded on the target see the
// source only through what the stream applies there. A table the stream does not carry gets
// none of the source's writes, so the verification inside the freeze must compare it in full:
// a table created on both sides after the stream started (not in the stream's FOR TABLE
// publication), a partition created on both sides after the subscription (published through
// its root on the source, but not in the subscription's pg_subscription_rel: the apply worker
// drops its changes), and a table dropped from the stream's publication after the verification
// ahead.
func TestPostgresTablesTheStreamDoesNotCarry(t *testing.T) {
	e := start(t, dataplane.Postgres)
	e.logicalGroup("logical")
	inst := e.create("orders", "postgres", func(in *rds.CreateDBInstanceInput) {
		in.DBParameterGroupName, in.BackupRetentionPeriod = aws.String("logical"), aws.Int32(0)
	})
	sc := e.mustPG(endpoint(inst))
	for _, q := range []string{"CREATE TABLE a (id int PRIMARY KEY, v int)", "INSERT INTO a SELECT g, g FROM generate_series(1, 100) g",
		"CREATE TABLE dropped (id int PRIMARY KEY, v int)", "INSERT INTO dropped SELECT g, g FROM generate_series(1, 10) g",
		"CREATE TABLE p (id int PRIMARY KEY, v int) PARTITION BY RANGE (id)", "CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (100)",
		"INSERT INTO p SELECT g, g FROM generate_series(0, 99) g"} {
		e.exec(sc, q)
	}
	src := pgEndpoint(inst)
	eng, n, ctx := &postgres.Engine{}, replication.NamesFor("rev00001"), e.ctx
	dst := e.pgStreamed(eng, src, n, "orders", "orders-new")
	// The operator creates a table and a partition on both sides (DDL is not replicated).
	tc := e.mustPG(endpoint(e.describe("orders-new")))
	for _, q := range []string{"CREATE TABLE b (id int PRIMARY KEY, v int)", "CREATE TABLE p2 PARTITION OF p FOR VALUES FROM (100) TO (200)"} {
		e.exec(sc, q)
		e.exec(tc, q)
	}
	tc.Close(ctx)
	e.exec(sc, "INSERT INTO a VALUES (101, 101)")
	ahead, err := eng.VerifyAhead(ctx, src, dst, n)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ahead.Tables {
		keys := strings.HasPrefix(c.TargetMarker, "keys:")
		if want := c.Table == `"public"."a"` || c.Table == `"public"."dropped"`; !c.Equal() || keys != want {
			t.Fatalf("verification ahead: %s equal %v, verified from keys %v, want %v", c.Table, c.Equal(), keys, want)
		}
	}
	if err := eng.Advance(ctx, src, dst, ahead.Tables); err != nil {
		t.Fatal(err)
	}
	// The application writes on the source: the new table, the new partition, a table the
	// stream's publication lost.
	for _, q := range []string{"INSERT INTO b SELECT g, g FROM generate_series(1, 50) g", "INSERT INTO p SELECT g, g FROM generate_series(100, 149) g",
		"ALTER PUBLICATION " + n.Publication + " DROP TABLE dropped", "UPDATE dropped SET v = v + 1 WHERE id = 1", "INSERT INTO a VALUES (102, 102)"} {
		e.exec(sc, q)
	}
	pos := e.rows(sc, "SELECT pg_current_wal_lsn()::text")
	if _, err := eng.Drain(ctx, src, dst, n, pos); err != nil {
		t.Fatal(err)
	}
	changed, err := eng.VerifyChanged(ctx, src, dst, ahead.Tables)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]replication.TableCheck{}
	for _, c := range changed.Differences() {
		got[c.Table] = c
	}
	if len(got) != 3 || got[`"public"."b"`].SourceRows != 50 || got[`"public"."b"`].TargetRows != 0 ||
		got[`"public"."p"`].SourceRows != 150 || got[`"public"."p"`].TargetRows != 100 || got[`"public"."dropped"`].Ahead ||
		!strings.Contains(changed.Note, `"public"."dropped" compared in full: the stream does not carry it`) {
		t.Fatalf("verification inside the freeze: differences %+v, note %q, warning %q", changed.Differences(), changed.Note, changed.Warning)
	}
	t.Logf("inside the freeze: %s", changed.Note)
}

// TestPostgresInheritanceByKeys (review V14): a parent table's scan also returns its inheritance
// children's rows, and a child has a key of its own, so the parent's key 1 can name a row of
// each. The verification by keys reads a plain table's own rows (ONLY): a stray write to the
// parent's row 1 on the target is found though the child has a row 1 too, equal on both sides.
func TestPostgresInheritanceByKeys(t *testing.T) {
	e := start(t, dataplane.Postgres)
	e.logicalGroup("logical")
	inst := e.create("orders", "postgres", func(in *rds.CreateDBInstanceInput) {
		in.DBParameterGroupName, in.BackupRetentionPeriod = aws.String("logical"), aws.Int32(0)
	})
	sc := e.mustPG(endpoint(inst))
	for _, q := range []string{"CREATE TABLE p (id int PRIMARY KEY, v int)", "CREATE TABLE c (PRIMARY KEY (id)) INHERITS (p)",
		"INSERT INTO p VALUES (1, 0), (2, 0)", "INSERT INTO c VALUES (1, 0), (3, 0)"} {
		e.exec(sc, q)
	}
	src := pgEndpoint(inst)
	eng, n, ctx := &postgres.Engine{}, replication.NamesFor("rev00004"), e.ctx
	dst := e.pgStreamed(eng, src, n, "orders", "orders-new")
	drain := func() { e.pgDrain(eng, sc, src, dst, n) }
	e.exec(sc, "UPDATE ONLY p SET v = 1 WHERE id = 2") // a key changed before the verification ahead
	drain()
	ahead, err := eng.VerifyAhead(ctx, src, dst, n)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ahead.Tables {
		if !c.Equal() || !strings.HasPrefix(c.TargetMarker, "keys:") {
			t.Fatalf("verification ahead: %+v", ahead.Tables)
		}
	}
	if err := eng.Advance(ctx, src, dst, ahead.Tables); err != nil {
		t.Fatal(err)
	}
	tc := e.mustPG(endpoint(e.describe("orders-new")))
	e.exec(tc, "UPDATE ONLY p SET v = 99 WHERE id = 1") // a stray write to the target's parent row
	tc.Close(ctx)
	drain()
	changed, err := eng.VerifyChanged(ctx, src, dst, ahead.Tables)
	if err != nil {
		t.Fatal(err)
	}
	if d := changed.Differences(); len(d) != 1 || d[0].Table != `"public"."p"` || d[0].KeysCompared != 1 ||
		!strings.Contains(changed.Warning, "key (id)=(1)") {
		t.Fatalf("verification inside the freeze: differences %+v, note %q, warning %q", d, changed.Note, changed.Warning)
	}
}

// TestPostgresKeyChangedOnBothSides (review V3): the table's key changes (DDL on both sides)
// after the verify slot started; pgoutput sends its Relation message again with the new key's
// columns. Keys decoded under the old key cannot be looked up by the new one, so the table is
// compared in full, which finds a stray write on the target.
func TestPostgresKeyChangedOnBothSides(t *testing.T) {
	e := start(t, dataplane.Postgres)
	e.logicalGroup("logical")
	inst := e.create("orders", "postgres", func(in *rds.CreateDBInstanceInput) {
		in.DBParameterGroupName, in.BackupRetentionPeriod = aws.String("logical"), aws.Int32(0)
	})
	sc := e.mustPG(endpoint(inst))
	e.exec(sc, "CREATE TABLE c (a int PRIMARY KEY, b int NOT NULL, v int)")
	e.exec(sc, "INSERT INTO c SELECT g, g + 1000, 0 FROM generate_series(1, 100) g")
	src := pgEndpoint(inst)
	eng, n, ctx := &postgres.Engine{}, replication.NamesFor("rev00003"), e.ctx
	dst := e.pgStreamed(eng, src, n, "orders", "orders-new")
	drain := func() { e.pgDrain(eng, sc, src, dst, n) }
	drain()
	tc := e.mustPG(endpoint(e.describe("orders-new")))
	defer tc.Close(ctx)
	// The verify slot made as VerifyAhead makes it (it adopts an existing one), so that the key
	// change falls after its start.
	e.exec(tc, "CREATE PUBLICATION "+n.Slot+"_vfy FOR TABLE c WITH (publish_via_partition_root = true)")
	e.exec(tc, "SELECT pg_create_logical_replication_slot('"+n.Slot+"_vfy', 'pgoutput')")
	e.exec(sc, "UPDATE c SET v = 1 WHERE a = 1") // decoded under key (a)
	drain()
	for _, q := range []string{"ALTER TABLE c DROP CONSTRAINT c_pkey", "ALTER TABLE c ADD PRIMARY KEY (b)"} {
		e.exec(sc, q)
		e.exec(tc, q)
	}
	e.exec(sc, "UPDATE c SET v = 1 WHERE a = 5") // decoded under key (b): b = 1005
	drain()
	ahead, err := eng.VerifyAhead(ctx, src, dst, n)
	if err != nil {
		t.Fatal(err)
	}
	e.exec(tc, "UPDATE c SET v = 99 WHERE b = 1006") // a stray write on the target
	if err := eng.Advance(ctx, src, dst, ahead.Tables); err != nil {
		t.Fatal(err)
	}
	drain()
	changed, err := eng.VerifyChanged(ctx, src, dst, ahead.Tables)
	if err != nil {
		t.Fatal(err)
	}
	if d := changed.Differences(); len(d) != 1 || d[0].Table != `"public"."c"` || d[0].Ahead {
		t.Fatalf("verification inside the freeze: differences %+v, note %q, warning %q", d, changed.Note, changed.Warning)
	}
}
