package dataplane_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/rdsencrypt/rdsencrypt/internal/dataplane"
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
