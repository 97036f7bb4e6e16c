package dataplane_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/rdsencrypt/rdsencrypt/internal/dataplane"
	"github.com/rdsencrypt/rdsencrypt/internal/replication"
	"github.com/rdsencrypt/rdsencrypt/internal/replication/postgres"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// TestReplicationStrategyReplicatesEveryDatabase: an instance with two application
// databases, shop (made with the instance) and crm (CREATE DATABASE), pgbench writing to
// each through the endpoint for the whole migration. Every transaction pgbench saw commit is
// on the final instance exactly once in both databases, and the tool verified every table of
// both (row counts and checksums) inside the freeze. Replicating only the database the tool
// connects to loses crm's writes made after the snapshot.
func TestReplicationStrategyReplicatesEveryDatabase(t *testing.T) {
	e := startTool(t, 300)
	inst := e.createLogical("orders")
	host, port := aws.ToString(inst.Endpoint.Address), int(aws.ToInt32(inst.Endpoint.Port))
	e.exec(e.mustPG(endpoint(inst)), "CREATE DATABASE crm")
	// Hardened as some are: only the roles granted it may connect (the master is one).
	e.exec(e.mustPG(endpoint(inst)), "REVOKE CONNECT ON DATABASE crm FROM PUBLIC")
	dbs := []string{"shop", "crm"}
	writers := map[string]*pgbenchWriter{}
	for _, db := range dbs {
		e.pgbenchInitIn(host, port, 1, db)
		writers[db] = startPgbenchIn(t, host, port, 1, db, pgbenchScript)
	}
	for _, db := range dbs {
		e.eventually("pgbench commits in "+db, func() bool { return len(writers[db].Commits()) > 10 })
	}
	key, err := e.h.KMS(region).CreateKey(e.ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	req := workflow.MigrateRequest{Region: region, Source: "orders", KmsKey: aws.ToString(key.KeyMetadata.Arn),
		Options: workflow.RunOptions{Strategy: workflow.StrategyReplication}}
	eng := e.engine("multi001")
	plan, err := eng.Plan(e.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(plan.Warnings, func(w string) bool {
		return strings.Contains(w, "every database is replicated (3)") && strings.Contains(w, "crm, postgres, shop")
	}) {
		t.Errorf("the plan does not list every database as replicated: %q", plan.Warnings)
	}
	rep, err := eng.Migrate(e.ctx, req)
	final := e.encryptedAfter("migrate", rep, err, "orders")
	for _, db := range dbs {
		after := len(writers[db].Commits())
		e.eventually("pgbench commits in "+db+" on the encrypted instance", func() bool { return len(writers[db].Commits()) > after+10 })
	}
	for _, db := range dbs {
		w := writers[db]
		w.Stop()
		auditTable(e.ctx, t, e.mustPGIn(endpoint(final), db), "ledger", w.Commits(), "database "+db)
	}
	// The reverse stream runs in every database until cleanup (docs/replication.md, "The
	// reverse stream (PostgreSQL)"); cleanup removes it with the rest.
	left, err := postgres.New().Leftovers(e.ctx, pgEndpoint(final))
	var reverseSlots int
	for _, o := range left {
		if strings.HasPrefix(o.Object, "slot ") && strings.HasSuffix(o.Object, "_rev") {
			reverseSlots++
		}
	}
	if err != nil || reverseSlots != 3 {
		t.Errorf("replication objects on the new instance before cleanup: %v %v, want a reverse slot in each of the 3 databases", left, err)
	}
	if _, err := e.engine("multi001").Cleanup(e.ctx, "multi001"); err != nil {
		t.Fatalf("cleanup: %v", err)
	}
	if left, err := postgres.New().Leftovers(e.ctx, pgEndpoint(final)); err != nil || len(left) > 0 {
		t.Errorf("replication objects left on the new instance after cleanup: %v %v", left, err)
	}
	rp := rep.Replication
	// pgbench's four tables and the ledger in each database, compared inside the freeze.
	if rp == nil || rp.TablesVerified != 10 || rp.RowsVerified < 200000 || !slices.Equal(rp.Databases, []string{"crm", "postgres", "shop"}) {
		t.Fatalf("report's replication figures %+v", rp)
	}
	t.Logf("write downtime %.0f s on the AWS clock; drain %.1f s; %d tables, %d rows verified; %d sequences",
		rep.DowntimeSeconds, rp.DrainSeconds, rp.TablesVerified, rp.RowsVerified, rp.SequencesSynced)
}

// TestADatabaseCreatedDuringTheMigrationStopsIt: DDL is not replicated, so a database
// created after the list was journaled has no stream. The route stops at the freeze with
// nothing frozen, the databases named and rollback as the next command; resume stops again
// (the journaled list stands); rollback drops every database's publication and slot and the
// source takes writes.
func TestADatabaseCreatedDuringTheMigrationStopsIt(t *testing.T) {
	e := startTool(t, 300)
	inst := e.createLogical("orders")
	admin := e.mustPG(endpoint(inst))
	e.exec(admin, "CREATE DATABASE crm")
	for _, db := range []string{"shop", "crm"} {
		e.exec(e.mustPGIn(endpoint(inst), db), "CREATE TABLE items (id int PRIMARY KEY)")
	}
	key, err := e.h.KMS(region).CreateKey(e.ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	// The freeze hook, which runs just before the freeze, makes the database (once).
	createLate := fmt.Sprintf(`echo "SELECT 'CREATE DATABASE late' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'late') \gexec" | `+
		"PGPASSWORD=%s /usr/lib/postgresql/15/bin/psql -h %s -p %d -U %s -d shop -v ON_ERROR_STOP=1",
		password, aws.ToString(inst.Endpoint.Address), aws.ToInt32(inst.Endpoint.Port), master)
	req := workflow.MigrateRequest{Region: region, Source: "orders", KmsKey: aws.ToString(key.KeyMetadata.Arn),
		Options: workflow.RunOptions{Strategy: workflow.StrategyReplication, FreezeHook: createLate}}
	_, err = e.engine("late0001").Migrate(e.ctx, req)
	for _, run := range []string{"migrate", "resume"} {
		if err == nil || !strings.Contains(err.Error(), "created late") || !strings.Contains(err.Error(), "rdsencrypt rollback late0001") || strings.Contains(err.Error(), "\n") {
			t.Fatalf("%s with a database created during the migration: %v", run, err)
		}
		if got := e.rows(admin, "SELECT count(*)::text FROM pg_db_role_setting"); got != "0" {
			t.Fatalf("%s: the refused freeze left %s read-only setting(s)", run, got)
		}
		_, err = e.engine("late0001").Resume(e.ctx, "late0001")
	}
	if _, err := e.engine("late0001").Rollback(e.ctx, "late0001"); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	if left, err := postgres.New().Leftovers(e.ctx, pgEndpoint(e.waitAvailable("orders"))); err != nil || len(left) > 0 {
		t.Fatalf("replication objects left on the source after rollback: %v %v", left, err)
	}
	e.exec(e.mustPGIn(endpoint(inst), "crm"), "INSERT INTO items VALUES (1)")
}

// TestTheFreezeCheckCoversEveryDatabase: each database has its own check slot (a logical
// slot decodes its own database), so a write in any database that overrides the read-only
// default stops the cutover; so does a database created while frozen. Cleanup drops the
// objects of every database.
func TestTheFreezeCheckCoversEveryDatabase(t *testing.T) {
	e := start(t, dataplane.Postgres)
	e.logicalGroup("logical")
	inst := e.create("orders", "postgres", func(in *rds.CreateDBInstanceInput) {
		in.DBParameterGroupName, in.BackupRetentionPeriod = aws.String("logical"), aws.Int32(0)
	})
	e.exec(e.mustPG(endpoint(inst)), "CREATE DATABASE crm")
	for _, db := range []string{"shop", "crm"} {
		e.exec(e.mustPGIn(endpoint(inst), db), "CREATE TABLE items (id int PRIMARY KEY)")
	}
	eng := &postgres.Engine{StableFor: 200 * time.Millisecond}
	n := replication.NamesFor("check001")
	src := pgEndpoint(inst)
	dbs, err := eng.Databases(e.ctx, src)
	if err != nil || !slices.Equal(dbs, []string{"crm", "postgres", "shop"}) {
		t.Fatalf("databases %v: %v", dbs, err)
	}
	src.Databases = dbs
	if _, err := eng.PrepareSource(e.ctx, src, n); err != nil {
		t.Fatalf("prepare: %v", err)
	}
	// crm's owner made it read-only by default on purpose: the unfreeze leaves it so (review S9).
	e.exec(e.mustPG(endpoint(inst)), "ALTER DATABASE crm SET default_transaction_read_only = on")
	readOnly, err := eng.ReadOnlyDatabases(e.ctx, src)
	if err != nil || !slices.Equal(readOnly, []string{"crm"}) {
		t.Fatalf("databases read-only before the freeze %v: %v", readOnly, err)
	}
	if _, err := eng.Freeze(e.ctx, src, n); err != nil {
		t.Fatalf("freeze: %v", err)
	}
	if err := eng.CheckFrozen(e.ctx, src, n); err != nil {
		t.Fatalf("check with no write since the freeze: %v", err)
	}
	rogue := e.mustPGIn(endpoint(inst), "crm")
	e.exec(rogue, "SET default_transaction_read_only = off")
	e.exec(rogue, "INSERT INTO items VALUES (1)")
	if err := eng.CheckFrozen(e.ctx, src, n); err == nil || !strings.Contains(err.Error(), "database crm") || !strings.Contains(err.Error(), "1 row change(s)") {
		t.Fatalf("check after a write to crm that overrode the freeze: %v", err)
	}
	e.exec(rogue, "CREATE DATABASE late")
	if err := eng.CheckFrozen(e.ctx, src, n); !errors.Is(err, replication.ErrDatabasesChanged) || !strings.Contains(err.Error(), "created late") {
		t.Fatalf("check after a database was created while frozen: %v", err)
	}
	if left, err := eng.Leftovers(e.ctx, src); err != nil || len(left) != 10 { // 3 slots, 3 check slots, 3 publications, the user
		t.Fatalf("leftovers before cleanup %v: %v", left, err)
	}
	if err := eng.Cleanup(e.ctx, src, n); err != nil {
		t.Fatalf("cleanup: %v", err)
	}
	if left, err := eng.Leftovers(e.ctx, src); err != nil || len(left) != 0 {
		t.Fatalf("leftovers after cleanup %v: %v", left, err)
	}
	if err := eng.Unfreeze(e.ctx, src, readOnly); err != nil {
		t.Fatal(err)
	}
	if got := e.rows(e.mustPG(endpoint(inst)), `SELECT string_agg(d.datname, ',' ORDER BY d.datname) FROM pg_db_role_setting s
		JOIN pg_database d ON d.oid = s.setdatabase WHERE s.setrole = 0 AND 'default_transaction_read_only=on' = ANY (s.setconfig)`); got != "crm" {
		t.Fatalf("read-only by default after the unfreeze: %q, want crm only", got)
	}
}
