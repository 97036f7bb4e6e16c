package dataplane_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

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
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if rep.Status != workflow.StatusCompleted {
		t.Fatalf("run ended %s: %s", rep.Status, rep.Error)
	}
	final := e.waitAvailable("orders")
	if !aws.ToBool(final.StorageEncrypted) {
		t.Fatal("orders is not encrypted after the migration")
	}
	for _, db := range dbs {
		after := len(writers[db].Commits())
		e.eventually("pgbench commits in "+db+" on the encrypted instance", func() bool { return len(writers[db].Commits()) > after+10 })
	}
	for _, db := range dbs {
		w := writers[db]
		w.Stop()
		a := auditTokens(e.ctx, t, e.mustPGIn(endpoint(final), db), "ledger", w.Commits())
		t.Logf("database %s: committed %d, lost %d, duplicated %d, committed unseen %d", db, a.committed, a.lost, a.duplicated, a.unacknowledged)
		if a.lost != 0 || a.duplicated != 0 {
			t.Errorf("database %s: %d lost (%v), %d duplicated", db, a.lost, a.lostTokens[:min(5, len(a.lostTokens))], a.duplicated)
		}
	}
	rp := rep.Replication
	// pgbench's four tables and the ledger in each database, compared inside the freeze.
	if rp == nil || rp.TablesVerified != 10 || rp.RowsVerified < 200000 || !slices.Equal(rp.Databases, []string{"crm", "postgres", "shop"}) {
		t.Fatalf("report's replication figures %+v", rp)
	}
	t.Logf("write downtime %.0f s on the AWS clock; drain %.1f s; %d tables, %d rows verified; %d sequences",
		rep.DowntimeSeconds, rp.DrainSeconds, rp.TablesVerified, rp.RowsVerified, rp.SequencesSynced)
}
