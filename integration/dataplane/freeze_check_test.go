package dataplane_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// TestAWriteThatOverridesTheSQLFreezeStopsTheCutover: the replication route's freeze is a
// read-only default, which a session may turn off. A session that does so and writes after
// the freeze (here while the route verifies) makes the run stop at replication-detach, before
// the renames: the source keeps its name and stays unencrypted (docs/replication.md, "The
// freeze is re-checked").
func TestAWriteThatOverridesTheSQLFreezeStopsTheCutover(t *testing.T) {
	e := startTool(t, 300)
	inst := e.createLogical("orders")
	addr := endpoint(inst)
	c := e.mustPG(addr)
	e.exec(c, "CREATE TABLE ledger (id bigserial PRIMARY KEY, token text NOT NULL)")
	e.exec(c, "INSERT INTO ledger (token) SELECT 'before ' || g FROM generate_series(1, 20) g")
	key, err := e.h.KMS(region).CreateKey(e.ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}

	eng := e.engine("rogue001")
	observe := eng.Observer
	var wrote error = fmt.Errorf("the rogue write never ran")
	eng.Observer = workflow.ObserverFunc(func(ev workflow.Event) {
		observe.Notify(ev)
		// The observer runs on the run's goroutine: the write is done before verification.
		if ev.Type != workflow.EventStepStarted || ev.Step != workflow.StepReplVerify {
			return
		}
		rogue, err := e.pg(addr)
		if err != nil {
			wrote = err
			return
		}
		defer rogue.Close(context.Background())
		if _, err := rogue.Exec(e.ctx, "INSERT INTO ledger (token) VALUES ('refused by default')"); err == nil || !strings.Contains(err.Error(), "read-only") {
			wrote = fmt.Errorf("a plain write after the freeze: %v, want read-only", err)
			return
		}
		if _, err := rogue.Exec(e.ctx, "SET default_transaction_read_only = off"); err != nil {
			wrote = err
			return
		}
		_, wrote = rogue.Exec(e.ctx, "INSERT INTO ledger (token) VALUES ('after the freeze')")
	})
	req := workflow.MigrateRequest{Region: region, Source: "orders", KmsKey: aws.ToString(key.KeyMetadata.Arn),
		Options: workflow.RunOptions{Strategy: workflow.StrategyReplication}}
	rep, err := eng.Migrate(e.ctx, req)
	if wrote != nil {
		t.Fatalf("rogue write: %v", wrote)
	}
	msg := fmt.Sprint(err)
	if rep != nil {
		msg += " " + rep.Error
	}
	if err == nil && (rep == nil || rep.Status == workflow.StatusCompleted) {
		t.Fatal("the migration completed although a row was written after the freeze")
	}
	if !strings.Contains(msg, "after the freeze") || !strings.Contains(msg, "rdsencrypt rollback rogue001") {
		t.Fatalf("the run stopped with %q, want the write after the freeze and the rollback command", msg)
	}
	out, err := e.rds.DescribeDBInstances(e.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("orders")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToBool(out.DBInstances[0].StorageEncrypted) {
		t.Fatal("the renames happened: orders is the encrypted instance")
	}
}
