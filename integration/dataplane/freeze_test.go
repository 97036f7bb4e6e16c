package dataplane_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/rdsencrypt/rdsencrypt/internal/dataplane"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// TestIngressFreeGroupClosesTheRealServer: what rdsencrypt's enforced freeze relies on, with a
// real PostgreSQL server behind the endpoint. An instance put in a security group without
// inbound rules keeps the sessions already open (security groups are stateful) but takes no
// new connection; a reboot ends the open ones; its own groups back, it takes connections again.
func TestIngressFreeGroupClosesTheRealServer(t *testing.T) {
	e := start(t, dataplane.Postgres)
	inst := e.create("orders", "postgres", func(in *rds.CreateDBInstanceInput) { in.BackupRetentionPeriod = aws.Int32(0) })
	addr := endpoint(inst)
	var original []string
	for _, g := range inst.VpcSecurityGroups {
		original = append(original, aws.ToString(g.VpcSecurityGroupId))
	}
	c := e.mustPG(addr)
	e.exec(c, "CREATE TABLE t (v int)")

	g, err := e.h.EC2(region).CreateSecurityGroup(e.ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("orders-freeze"),
		Description: aws.String("no inbound rule"), VpcId: inst.DBSubnetGroup.VpcId})
	if err != nil {
		t.Fatal(err)
	}
	modify := func(groups []string) {
		t.Helper()
		if _, err := e.rds.ModifyDBInstance(e.ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("orders"),
			VpcSecurityGroupIds: groups, ApplyImmediately: aws.Bool(true)}); err != nil {
			t.Fatal(err)
		}
		e.advance(10 * time.Minute)
		e.requireStatus("orders", "available")
	}
	modify([]string{aws.ToString(g.GroupId)})
	e.exec(c, "INSERT INTO t VALUES (1)") // the session opened before goes on
	if c2, err := e.pg(addr); err == nil {
		c2.Close(e.ctx)
		t.Fatal("a new connection got through the ingress-free group")
	}

	if _, err := e.rds.RebootDBInstance(e.ctx, &rds.RebootDBInstanceInput{DBInstanceIdentifier: aws.String("orders")}); err != nil {
		t.Fatal(err)
	}
	e.advance(2 * time.Minute)
	e.requireStatus("orders", "available")
	if _, err := c.Exec(e.ctx, "INSERT INTO t VALUES (2)"); err == nil {
		t.Fatal("the session from before the reboot still writes")
	}
	if c2, err := e.pg(addr); err == nil {
		c2.Close(e.ctx)
		t.Fatal("a new connection got through after the reboot")
	}

	modify(original)
	c3 := e.mustPG(addr)
	if got := e.rows(c3, "SELECT string_agg(v::text, ',') FROM t"); got != "1" {
		t.Fatalf("rows %q, want the one written before the reboot", got)
	}
}

// TestEnforcedFreezeLosesNoCommit runs the tool's snapshot strategy with --freeze enforce on a
// PostgreSQL instance that pgbench writes to through its endpoint for the whole migration
// (a new connection per transaction). The freeze closes the source to new connections and
// its reboot ends the open ones, so no transaction commits on the source after the final
// snapshot: every commit pgbench saw is on the encrypted instance, exactly once. The same
// run with --freeze none loses the commits made between the final snapshot and the cutover,
// which is what the enforced freeze is for.
func TestEnforcedFreezeLosesNoCommit(t *testing.T) {
	for _, mode := range []workflow.FreezeMode{workflow.FreezeEnforce, workflow.FreezeNone} {
		t.Run(string(mode), func(t *testing.T) {
			e := startTool(t, 300)
			if _, err := e.rds.CreateDBInstance(e.ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("orders"), Engine: aws.String("postgres"),
				DBInstanceClass: aws.String("db.t3.micro"), AllocatedStorage: aws.Int32(20), MasterUsername: aws.String(master),
				MasterUserPassword: aws.String(password), DBName: aws.String("shop"), BackupRetentionPeriod: aws.Int32(0)}); err != nil {
				t.Fatal(err)
			}
			inst := e.waitAvailable("orders")
			host, port := aws.ToString(inst.Endpoint.Address), int(aws.ToInt32(inst.Endpoint.Port))
			e.pgbenchInit(host, port, 1)
			key, err := e.h.KMS(region).CreateKey(e.ctx, &kms.CreateKeyInput{})
			if err != nil {
				t.Fatal(err)
			}
			w := startPgbench(t, host, port, 2)
			e.eventually("pgbench commits", func() bool { return len(w.Commits()) > 20 })
			rep, err := e.engine("frz00001").Migrate(e.ctx, workflow.MigrateRequest{Region: region, Source: "orders", KmsKey: aws.ToString(key.KeyMetadata.Arn),
				Options: workflow.RunOptions{Strategy: workflow.StrategySnapshot, Freeze: mode, Precopy: true}})
			if err != nil {
				t.Fatalf("migrate: %v", err)
			}
			final := e.waitAvailable("orders")
			if !aws.ToBool(final.StorageEncrypted) {
				t.Fatal("orders is not encrypted after the migration")
			}
			after := len(w.Commits())
			e.eventually("pgbench commits on the encrypted instance", func() bool { return len(w.Commits()) > after+20 })
			w.Stop()
			cs := w.Commits()
			a := auditTokens(e.ctx, t, e.mustPG(endpoint(final)), "ledger", cs)
			gap, _ := dataplane.LongestGap(cs)
			t.Logf("--freeze %s: committed %d, lost %d, duplicated %d; write downtime %.0f s on the AWS clock; longest gap between commits %.1f s (local clock)",
				mode, a.Committed, a.Lost, a.Duplicated, rep.DowntimeSeconds, gap.Seconds())
			if a.Duplicated != 0 {
				t.Errorf("%d duplicated", a.Duplicated)
			}
			switch mode {
			case workflow.FreezeEnforce:
				if a.Lost != 0 {
					t.Errorf("--freeze enforce lost %d commits (%v)", a.Lost, a.LostKeys[:min(5, len(a.LostKeys))])
				}
			case workflow.FreezeNone:
				if a.Lost == 0 {
					t.Error("--freeze none lost nothing: the test does not tell an enforced freeze from none")
				}
			}
		})
	}
}
