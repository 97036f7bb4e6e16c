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
// instance while writes continue (outside the freeze), the tool is killed (SIGKILL) during one
// of those builds and resumed; the cutover renames the primary, then each replica; the new
// replicas answer at the old names, encrypted, following the new instance; the old ones,
// at their retired names, keep following the retired source, fed by the reverse stream.
// Then a rollback after the cutover swaps every name back, deletes the new tree (the new
// instance with a final snapshot) and loses no commit: the old replicas, back at their names,
// have every row. A second migration, rolled back before its cutover, deletes the new tree and
// leaves the old one as it was. docs/replication.md#read-replicas.
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

	eng := e.engine("tree0000")
	req := workflow.MigrateRequest{Region: region, Source: "orders", KmsKey: key, Options: workflow.RunOptions{Strategy: workflow.StrategyAuto}}
	plan := e.planTree(eng, req, "orders", "orders-ro", "orders-ro-2")
	for _, s := range plan.Steps {
		if strings.HasPrefix(s.Name, workflow.StepReplicaCreate+":") && s.Downtime {
			t.Fatalf("%s is inside the write downtime", s.Name)
		}
	}

	// `rdsencrypt migrate` as a process, killed (SIGKILL) at its first look at the chain's second
	// replica once that replica's creation is journaled (its resource id with it): the replica
	// is being built and the process waits for it; then resumed.
	tl := buildTool(t, e)
	e.store = tl.store // the in-process engine takes the killed process's journal over
	sub := workflow.StepReplicaCreate + ":" + region + "/orders-ro-2"
	st := tl.killAtCall("migrate", "DescribeDBInstances", func(st *workflow.State) bool {
		return stepStatus(st, sub) == workflow.StepRunning && st != nil &&
			slices.ContainsFunc(st.Replicas, func(rs workflow.ReplicaState) bool { return rs.ID == "orders-ro-2" && rs.TargetRID != "" })
	}, "migrate", "--db", "orders", "--kms-key", key, "--strategy", "replication", "--yes")
	id := st.ID
	out, err := e.rds.DescribeDBInstances(e.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(workflow.NamesFor(id, "orders-ro-2").Target)})
	if err != nil {
		t.Fatalf("the second new replica after the kill: %v", err)
	}
	t.Logf("killed with the second new replica %s", aws.ToString(out.DBInstances[0].DBInstanceStatus))
	resumed := e.engine(id)
	var asked []string
	resumed.Approver = workflow.ApproverFunc(func(_ context.Context, a workflow.Approval) (workflow.Decision, error) {
		asked = append(asked, a.Step)
		return workflow.Approve, nil
	})
	rep, err := resumed.Resume(e.ctx, id)
	e.encryptedAfter("resume", rep, err, "orders")
	// A replica's rename pair is one approval, as the primary's: its name does not answer
	// between the two renames, so the second one must not wait for an operator.
	for _, sub := range []string{"orders-ro", "orders-ro-2"} {
		if !slices.Contains(asked, workflow.StepReplicaRetire+":"+region+"/"+sub) || slices.Contains(asked, workflow.StepReplicaPromote+":"+region+"/"+sub) {
			t.Errorf("approvals asked %v: want %s's retire asked and its promote covered by it", asked, sub)
		}
	}
	if !finishedBefore(rep, workflow.StepReplicaCreate+":"+region+"/orders-ro-2", workflow.StepReplFreeze) {
		t.Errorf("the replicas were not built before the freeze: %s", stepTimes(rep))
	}
	if !finishedBefore(rep, workflow.StepUnfreeze, workflow.StepReplicaRetire+":"+region+"/orders-ro") {
		t.Errorf("the replicas were renamed before writes resumed: %s", stepTimes(rep))
	}
	for _, rr := range rep.Replicas {
		if !rr.Swapped || !rr.Followed || rr.StaleReadSeconds != 0 {
			t.Errorf("report on replica %+v: want swapped, following the reverse stream until then", rr)
		}
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

	final, cs := e.rollbackUnderPgbench(id, w)
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
	if final := workflow.NamesFor(id, "orders").RollbackSnapshot; !e.snapshotExists(final) {
		t.Errorf("the new instance's final snapshot %s does not exist", final)
	}
	t.Logf("replica tree: write downtime %.0f s (AWS clock, report); %s", rep.DowntimeSeconds, stepTimes(rep))

	// A second migration of the same tree, rolled back at the freeze's approval: the new
	// replicas and the new instance, built while writes flowed, are deleted (before the
	// cutover: no final snapshot, the source's data is intact), the old tree is untouched.
	const id2 = "tree0002"
	w2 := startPgbench(t, host, port, 2)
	e.eventually("pgbench commits before the second migration", func() bool { return len(w2.Commits()) > 20 })
	eng2 := e.engine(id2)
	eng2.Approver = workflow.ApproverFunc(func(_ context.Context, a workflow.Approval) (workflow.Decision, error) {
		if a.Step == workflow.StepReplFreeze {
			return workflow.Rollback, nil
		}
		return workflow.Approve, nil
	})
	rep2, err := eng2.Migrate(e.ctx, req)
	if err != nil || rep2.Status != workflow.StatusRolledBack {
		t.Fatalf("migration rolled back at the freeze: %v %+v", err, rep2)
	}
	if !finishedBefore(rep2, workflow.StepReplicaParity+":"+region+"/orders-ro-2", workflow.StepReplCatchUp) {
		t.Errorf("the second migration did not build the replicas before the rollback: %s", stepTimes(rep2))
	}
	after := len(w2.Commits())
	e.eventually("pgbench commits after the rollback before the cutover", func() bool { return len(w2.Commits()) > after+20 })
	w2.Stop()
	e.auditPgbench(e.mustPG(endpoint(e.waitAvailable("orders"))), w2.Commits(), "replica tree: rollback before cutover")
	for _, name := range []string{"orders", "orders-ro", "orders-ro-2"} {
		if inst := e.waitAvailable(name); aws.ToBool(inst.StorageEncrypted) {
			t.Errorf("%s is encrypted after a rollback before the cutover", name)
		}
		if _, err := e.rds.DescribeDBInstances(e.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(workflow.NamesFor(id2, name).Target)}); err == nil {
			t.Errorf("%s still exists after the rollback", workflow.NamesFor(id2, name).Target)
		}
	}
	if final := workflow.NamesFor(id2, "orders").RollbackSnapshot; e.snapshotExists(final) {
		t.Errorf("a rollback before the cutover took final snapshot %s", final)
	}
}

// planTree plans req, which auto must resolve to the replication strategy, and checks that its
// cutover renames are each instance's pair, in the order given (the primary first).
func (e *toolEnv) planTree(eng *workflow.Engine, req workflow.MigrateRequest, tree ...string) *workflow.Plan {
	e.t.Helper()
	plan, err := eng.Plan(e.ctx, req)
	if err != nil {
		e.t.Fatal(err)
	}
	if plan.Strategy != workflow.StrategyReplication {
		e.t.Fatalf("auto chose %q for a source with read replicas: %s", plan.Strategy, plan.StrategyReason)
	}
	var renames, want []string
	for _, r := range plan.Renames {
		renames = append(renames, r.From+">"+r.To)
	}
	for _, id := range tree {
		n := workflow.NamesFor("xxxxxxxx", id) // before the migration exists its id is shown so
		want = append(want, id+">"+n.Retired, n.Target+">"+id)
	}
	if !slices.Equal(renames, want) {
		e.t.Fatalf("the plan's cutover renames %v, want %v", renames, want)
	}
	return plan
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

// snapshotExists says whether the DB snapshot exists.
func (e *toolEnv) snapshotExists(id string) bool {
	_, err := e.rds.DescribeDBSnapshots(e.ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String(id)})
	return err == nil
}

// stepStarted says whether the run has started the step.
func (e *toolEnv) stepStarted(step string) bool {
	return e.eventSeen(func(ev workflow.Event) bool { return ev.Type == workflow.EventStepStarted && ev.Step == step })
}
