package dataplane_test

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/rdsencrypt/rdsencrypt/internal/dataplane"
)

// TestPostgresInstanceEndpointRebootDelete: a postgres instance is a real server in RDS's
// shape at a loopback endpoint; a reboot drops its sessions; a deleted instance refuses.
func TestPostgresInstanceEndpointRebootDelete(t *testing.T) {
	e := start(t, dataplane.Postgres)
	inst := e.create("orders", "postgres")
	ip := net.ParseIP(aws.ToString(inst.Endpoint.Address))
	if ip == nil || !ip.IsLoopback() || ip.Equal(net.IPv4(127, 0, 0, 1)) || aws.ToInt32(inst.Endpoint.Port) != 5432 {
		t.Fatalf("endpoint %s:%d, want a loopback address of its own on 5432", aws.ToString(inst.Endpoint.Address), aws.ToInt32(inst.Endpoint.Port))
	}
	addr := endpoint(inst)
	c := e.mustPG(addr)
	var super bool
	var roles string
	if err := c.QueryRow(e.ctx, `SELECT r.rolsuper, coalesce((SELECT string_agg(b.rolname, ',') FROM pg_auth_members m
		JOIN pg_roles b ON b.oid = m.roleid WHERE m.member = r.oid), '') FROM pg_roles r WHERE r.rolname = current_user`).Scan(&super, &roles); err != nil {
		t.Fatal(err)
	}
	// Superuser only because vanilla PostgreSQL 15 reserves CREATE SUBSCRIPTION to superusers
	// where RDS lets rds_superuser (docs/data-plane.md).
	if !super || !strings.Contains(roles, "rds_superuser") {
		t.Fatalf("master user superuser=%v member of %q; want rds_superuser and superuser", super, roles)
	}
	e.exec(c, "CREATE TABLE orders (id int PRIMARY KEY)")
	e.exec(c, "INSERT INTO orders VALUES (1)")

	if _, err := e.rds.RebootDBInstance(e.ctx, &rds.RebootDBInstanceInput{DBInstanceIdentifier: aws.String("orders")}); err != nil {
		t.Fatal(err)
	}
	e.requireStatus("orders", "rebooting")
	if !refused(addr) {
		t.Fatal("a rebooting instance answers")
	}
	e.advance(2 * time.Minute)
	e.requireStatus("orders", "available")
	if _, err := c.Exec(e.ctx, "SELECT 1"); err == nil {
		t.Fatal("the session from before the reboot still works")
	}
	c2 := e.mustPG(addr)
	if got := e.rows(c2, "SELECT string_agg(id::text, ',') FROM orders"); got != "1" {
		t.Fatalf("rows after reboot %q", got)
	}

	if _, err := e.rds.DeleteDBInstance(e.ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("orders"),
		SkipFinalSnapshot: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if !refused(addr) {
		t.Fatal("a deleting instance answers")
	}
	if _, err := c2.Exec(e.ctx, "SELECT 1"); err == nil {
		t.Fatal("a session survived the deletion")
	}
}

// TestRenameMovesAddress: the endpoint follows the identifier. During "renaming" neither name
// answers, the rename's reboot drops the session, and afterwards the new name's address
// answers with the same data while the old one refuses.
func TestRenameMovesAddress(t *testing.T) {
	e := start(t, dataplane.Postgres)
	old := endpoint(e.create("orders", "postgres", func(in *rds.CreateDBInstanceInput) { in.BackupRetentionPeriod = aws.Int32(0) }))
	c := e.mustPG(old)
	e.exec(c, "CREATE TABLE t (v text)")
	e.exec(c, "INSERT INTO t VALUES ('kept')")
	if _, err := e.rds.ModifyDBInstance(e.ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("orders"),
		NewDBInstanceIdentifier: aws.String("orders-old"), ApplyImmediately: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	// The grace period: the old name still answers.
	if refused(old) {
		t.Fatal("the old name refuses before the rename takes effect")
	}
	e.advance(e.h.Sim.Durations().RenameGrace)
	inst := e.requireStatus("orders-old", "renaming")
	renamed := endpoint(inst)
	if renamed == old {
		t.Fatal("the renamed instance kept the old address")
	}
	if !refused(old) || !refused(renamed) {
		t.Fatalf("during renaming: old refused=%v new refused=%v, want both refused", refused(old), refused(renamed))
	}
	if _, err := c.Exec(e.ctx, "SELECT 1"); err == nil {
		t.Fatal("the session survived the rename")
	}
	e.advance(e.h.Sim.Durations().Rename)
	e.requireStatus("orders-old", "available")
	if !refused(old) {
		t.Fatal("the old name answers after the rename")
	}
	if got := e.rows(e.mustPG(renamed), "SELECT string_agg(v, ',') FROM t"); got != "kept" {
		t.Fatalf("rows at the new name %q", got)
	}
	// The old name is free: a new instance under it gets the old address.
	if got := endpoint(e.create("orders", "postgres", func(in *rds.CreateDBInstanceInput) { in.BackupRetentionPeriod = aws.Int32(0) })); got != old {
		t.Fatalf("new instance under the old name at %s, want %s", got, old)
	}
	if got := e.rows(e.mustPG(old), "SELECT count(*)::text FROM pg_tables WHERE tablename = 't'"); got != "0" {
		t.Fatal("the old address reaches the renamed instance, not the new one")
	}
}
