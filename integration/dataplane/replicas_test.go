package dataplane_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// TestReplicationStrategyRecreatesTheReplicaTree: a PostgreSQL source with a chain of read
// replicas (orders -> orders-ro -> orders-ro-2; the data plane backs every replica with a
// streaming standby) migrated by the replication strategy while pgbench writes through the
// source's endpoint: auto chooses replication; the new replicas are built from the new
// instance while writes continue (outside the freeze), the run is interrupted during one of
// those builds and resumed; the cutover renames the primary, then each replica; the new
// replicas answer at the old names, encrypted, following the new instance; the old ones,
// at their retired names, keep following the retired source, fed by the reverse stream.
// Then a rollback after the cutover swaps every name back, deletes the new tree (the new
// instance with a final snapshot) and loses no commit: the old replicas, back at their names,
// have every row. docs/replication.md#read-replicas.
func TestReplicationStrategyRecreatesTheReplicaTree(t *testing.T) {
	e := startTool(t, 300)
	e.logicalGroup("logical")
	if _, err := e.rds.CreateDBInstance(e.ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("orders"), Engine: aws.String("postgres"),
		DBInstanceClass: aws.String("db.t3.micro"), AllocatedStorage: aws.Int32(20), MasterUsername: aws.String(master),
		MasterUserPassword: aws.String(password), DBName: aws.String("shop"), DBParameterGroupName: aws.String("logical"),
		BackupRetentionPeriod: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	inst := e.waitAvailable("orders")
	host, port := aws.ToString(inst.Endpoint.Address), int(aws.ToInt32(inst.Endpoint.Port))
	e.pgbenchInit(host, port, 1)
	e.readReplica("orders-ro", "orders")
	// A replica of a replica needs backups on its parent (PostgreSQL 14.1 and later).
	if _, err := e.rds.ModifyDBInstance(e.ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("orders-ro"),
		BackupRetentionPeriod: aws.Int32(1), ApplyImmediately: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	e.within("backups on orders-ro", 5*time.Minute, func() bool {
		out, err := e.rds.DescribeDBInstances(e.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("orders-ro")})
		return err == nil && aws.ToInt32(out.DBInstances[0].BackupRetentionPeriod) == 1 && aws.ToString(out.DBInstances[0].DBInstanceStatus) == "available"
	})
	e.readReplica("orders-ro-2", "orders-ro")
	key := e.createKey()
	w := startPgbench(t, host, port, 2)
	e.eventually("pgbench commits", func() bool { return len(w.Commits()) > 20 })

	const id = "tree0001"
	eng := e.engine(id)
	req := workflow.MigrateRequest{Region: region, Source: "orders", KmsKey: key, Options: workflow.RunOptions{Strategy: workflow.StrategyAuto}}
	plan, err := eng.Plan(e.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Strategy != workflow.StrategyReplication {
		t.Fatalf("auto chose %q for a source with read replicas: %s", plan.Strategy, plan.StrategyReason)
	}
	var renames []string
	for _, r := range plan.Renames {
		renames = append(renames, r.From+">"+r.To)
	}
	ro, ro2, src := workflow.NamesFor(id, "orders-ro"), workflow.NamesFor(id, "orders-ro-2"), workflow.NamesFor(id, "orders")
	want := []string{"orders>" + src.Retired, src.Target + ">orders", "orders-ro>" + ro.Retired, ro.Target + ">orders-ro",
		"orders-ro-2>" + ro2.Retired, ro2.Target + ">orders-ro-2"}
	if !slices.Equal(renames, want) {
		t.Fatalf("the plan's cutover renames %v, want %v", renames, want)
	}
	for _, s := range plan.Steps {
		if strings.HasPrefix(s.Name, workflow.StepReplicaCreate+":") && s.Downtime {
			t.Fatalf("%s is inside the write downtime", s.Name)
		}
	}

	// Interrupt the run while the chain's second replica is being built, then resume.
	req.Options.Strategy = workflow.StrategyReplication
	runCtx, stop := context.WithCancel(e.ctx)
	go func() {
		for runCtx.Err() == nil {
			if e.stepStarted(workflow.StepReplicaCreate + ":" + region + "/orders-ro-2") {
				stop()
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	_, err = eng.Migrate(runCtx, req)
	stop()
	if err == nil {
		t.Fatal("the interrupted run finished")
	}
	rep, err := e.engine(id).Resume(e.ctx, id)
	e.encryptedAfter("resume", rep, err, "orders")
	if !finishedBefore(rep, workflow.StepReplicaCreate+":"+region+"/orders-ro-2", workflow.StepReplFreeze) {
		t.Errorf("the replicas were not built before the freeze: %s", stepTimes(rep))
	}
	if !finishedBefore(rep, workflow.StepUnfreeze, workflow.StepReplicaRetire+":"+region+"/orders-ro") {
		t.Errorf("the replicas were renamed before writes resumed: %s", stepTimes(rep))
	}
	cutover := len(w.Commits())
	e.eventually("pgbench commits on the encrypted instance", func() bool { return len(w.Commits()) > cutover+30 })

	// The new tree answers at the old names, encrypted, and follows the new instance; the old
	// replicas follow the retired source, which the reverse stream feeds.
	newest := e.rows(e.mustPG(endpoint(e.waitAvailable("orders"))), "SELECT max(id)::text FROM ledger")
	for _, name := range []string{"orders-ro", "orders-ro-2"} {
		r := e.waitAvailable(name)
		if !aws.ToBool(r.StorageEncrypted) {
			t.Errorf("%s is not encrypted after the migration", name)
		}
		e.hasLedgerRow(r, newest)
		retired := e.waitAvailable(workflow.NamesFor(id, name).Retired)
		if aws.ToBool(retired.StorageEncrypted) {
			t.Errorf("the old replica %s is encrypted", aws.ToString(retired.DBInstanceIdentifier))
		}
		e.hasLedgerRow(retired, newest)
	}

	rb, err := e.engine(id).Rollback(e.ctx, id)
	if err != nil || rb.Status != workflow.StatusRolledBack {
		t.Fatalf("rollback after the cutover: %v %+v", err, rb)
	}
	final := e.waitAvailable("orders")
	if aws.ToBool(final.StorageEncrypted) {
		t.Fatal("orders is still the encrypted instance after the rollback")
	}
	after := len(w.Commits())
	e.eventually("pgbench commits on the source after the rollback", func() bool { return len(w.Commits()) > after+20 })
	w.Stop()
	cs := w.Commits()
	e.auditPgbench(e.mustPG(endpoint(final)), cs, "replica tree: replication, then rollback after cutover")
	last := e.rows(e.mustPG(endpoint(final)), "SELECT max(id)::text FROM ledger")
	for _, name := range []string{"orders-ro", "orders-ro-2"} {
		r := e.waitAvailable(name)
		if aws.ToBool(r.StorageEncrypted) {
			t.Errorf("%s is still the encrypted replica after the rollback", name)
		}
		e.hasLedgerRow(r, last)
		for _, gone := range []string{workflow.NamesFor(id, name).Target, workflow.NamesFor(id, name).Retired} {
			if _, err := e.rds.DescribeDBInstances(e.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(gone)}); err == nil {
				t.Errorf("%s still exists after the rollback", gone)
			}
		}
	}
	if _, err := e.rds.DescribeDBSnapshots(e.ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String(src.RollbackSnapshot)}); err != nil {
		t.Errorf("the new instance's final snapshot %s: %v", src.RollbackSnapshot, err)
	}
	t.Logf("replica tree: write downtime %.0f s (AWS clock, report); %s", rep.DowntimeSeconds, stepTimes(rep))
}

// readReplica creates a read replica of source and waits until both are available.
func (e *toolEnv) readReplica(id, source string) types.DBInstance {
	e.t.Helper()
	if _, err := e.rds.CreateDBInstanceReadReplica(e.ctx, &rds.CreateDBInstanceReadReplicaInput{
		DBInstanceIdentifier: aws.String(id), SourceDBInstanceIdentifier: aws.String(source)}); err != nil {
		e.t.Fatal(err)
	}
	e.waitAvailable(source)
	return e.waitAvailable(id)
}

// hasLedgerRow waits until the instance has the ledger row id (it follows the writes).
func (e *toolEnv) hasLedgerRow(inst types.DBInstance, id string) {
	e.t.Helper()
	c := e.mustPG(endpoint(inst))
	e.eventually(aws.ToString(inst.DBInstanceIdentifier)+" has ledger row "+id, func() bool {
		var have bool
		return c.QueryRow(e.ctx, "SELECT EXISTS (SELECT 1 FROM ledger WHERE id = "+id+")").Scan(&have) == nil && have
	})
}

// stepStarted says whether the run has started the step.
func (e *toolEnv) stepStarted(step string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.ContainsFunc(e.events, func(ev workflow.Event) bool { return ev.Type == workflow.EventStepStarted && ev.Step == step })
}
