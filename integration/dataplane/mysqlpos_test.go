package dataplane_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/go-sql-driver/mysql"

	"github.com/rdsencrypt/rdsencrypt/internal/dataplane"
	"github.com/rdsencrypt/rdsencrypt/internal/iampolicy"
	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// createMySQL creates an RDS `mysql` instance id (database shop, automated backups on) on a DB
// parameter group of its own with binlog_format ROW, and waits until it is available.
func (e *toolEnv) createMySQL(id string) types.DBInstance {
	e.t.Helper()
	return e.binlogSource(id, "mysql", "mysql8.0", id+"-params")
}

// TestMySQLStartsFromATemporaryReplica migrates an RDS `mysql` instance (MariaDB stands in for
// MySQL in the data plane: docs/replication-mysql.md#mariadb-stands-in-for-mysql) with
// `rdsencrypt migrate --strategy replication` as a process, while a client commits inserts
// through the instance's endpoint for the whole run. The start position comes from a temporary
// read replica: the process is killed with SIGKILL while the replica is being created (after the
// create call), at its stop, and at its deletion, and resumed each time by a new process. The
// migration completes; the replica existed tagged as the migration's temporary replica, the
// migration's snapshot was taken of it, and it is gone; every insert the client saw commit is on
// the final instance exactly once. All of it under the IAM policy `rdsencrypt iam-policy` prints.
func TestMySQLStartsFromATemporaryReplica(t *testing.T) {
	e := startTool(t, 300, dataplane.MariaDB)
	src := e.createMySQL("shop")
	db := e.maria(endpoint(src), "shop")
	if _, err := db.ExecContext(e.ctx, "CREATE TABLE orders (id BIGINT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(10)) ENGINE=InnoDB"); err != nil {
		t.Fatal(err)
	}
	keyARN := e.createKey()
	// Everything below runs under the policy rdsencrypt iam-policy prints: the temporary replica
	// is created with its tags and deleted there.
	policy, err := iampolicy.New(iampolicy.Options{Region: region}).JSON()
	if err != nil {
		t.Fatal(err)
	}
	e.h.EnforcePolicy(policy)

	// The plan names the temporary replica and snapshots it instead of the source.
	plan, err := e.engine("plan0001").Plan(e.ctx, workflow.MigrateRequest{Region: region, Source: "shop", KmsKey: keyARN,
		Options: workflow.RunOptions{Strategy: workflow.StrategyAuto}})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Strategy != workflow.StrategyReplication {
		t.Fatalf("auto chose %s for a mysql instance: %s", plan.Strategy, plan.StrategyReason)
	}
	var planned string
	for _, r := range plan.Resources {
		if r.Role == workflow.RolePositionReplica {
			planned = r.Name
		}
	}
	if !strings.HasPrefix(planned, "shop-pos-") || !strings.Contains(strings.Join(plan.Warnings, "\n"), "the start position is read from "+planned) {
		t.Fatalf("the plan's temporary replica %q; warnings:\n%s", planned, strings.Join(plan.Warnings, "\n"))
	}

	// At most about 200 commits a second: the new instance's single replication thread must
	// outrun the client on a loaded machine for the catch-up to end (a client at full speed
	// kept the lag at 1-4 MB for minutes at load average 16).
	c := startPacedCommitter(e.ctx, e.maria(endpoint(src), "shop"), 5*time.Millisecond)
	e.eventually("the client commits", func() bool { return c.count() > 20 })
	tl := buildTool(t, e)
	posReplica := func(st *workflow.State) *workflow.Resource {
		if st != nil {
			for i := range st.Resources {
				if st.Resources[i].Role == workflow.RolePositionReplica {
					return &st.Resources[i]
				}
			}
		}
		return nil
	}
	creating := func(st *workflow.State) bool {
		r := posReplica(st)
		return stepStatus(st, workflow.StepReplPosReplica) == workflow.StepRunning && r != nil && r.ResourceID != ""
	}
	st := tl.killWhen("migrate", creating, nil, nil, "migrate", "--db", "shop", "--kms-key", keyARN, "--strategy", "replication", "--yes")
	id := st.ID
	replica := workflow.NamesFor(id, "shop").PositionReplica
	out, err := e.rds.DescribeDBInstances(e.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(replica)})
	if err != nil {
		t.Fatalf("the temporary replica %s after the kill: %v", replica, err)
	}
	tags := map[string]string{}
	for _, tg := range out.DBInstances[0].TagList {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if tags[model.TagMigrationID] != id || tags[model.TagRole] != workflow.RolePositionReplica ||
		aws.ToString(out.DBInstances[0].ReadReplicaSourceDBInstanceIdentifier) != "shop" {
		t.Fatalf("the temporary replica %s: tags %v, source %q", replica, tags, aws.ToString(out.DBInstances[0].ReadReplicaSourceDBInstanceIdentifier))
	}

	stopping := func(st *workflow.State) bool {
		s := stepStatus(st, workflow.StepReplPosStop)
		return s == workflow.StepRunning || s == workflow.StepDone
	}
	tl.killWhen("resume1", stopping, nil, nil, "resume", id, "--yes")
	deleting := func(st *workflow.State) bool {
		return stepStatus(st, workflow.StepReplPosDelete) == workflow.StepRunning
	}
	st = tl.killWhen("resume2", deleting, nil, nil, "resume", id, "--yes")
	start := st.Replication.StartPosition
	if start == "" {
		t.Fatal("no start position journaled before the temporary replica's deletion")
	}
	if code := tl.run("resume3", "resume", id, "--yes"); code != 0 {
		t.Fatalf("resume after the kill at the replica's deletion exited %d:\n%s", code, tl.output("resume3"))
	}
	if st := tl.journal(); st.Status != workflow.StatusCompleted || st.Replication.StartPosition != start {
		t.Fatalf("after resume the migration is %s (%s), start position %s (was %s)", st.Status, st.LastError, st.Replication.StartPosition, start)
	}

	// The snapshot was taken of the stopped replica, which is gone.
	snaps, err := e.rds.DescribeDBSnapshots(e.ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String(workflow.NamesFor(id, "shop").Snapshot)})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(snaps.DBSnapshots[0].DBInstanceIdentifier); got != replica {
		t.Errorf("the migration's snapshot is of %s, want the temporary replica %s", got, replica)
	}
	_, err = e.rds.DescribeDBInstances(e.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(replica)})
	var nf *types.DBInstanceNotFoundFault
	if !errors.As(err, &nf) {
		t.Errorf("the temporary replica after the migration: %v, want DBInstanceNotFound", err)
	}

	final := e.waitAvailable("shop")
	if !aws.ToBool(final.StorageEncrypted) {
		t.Fatal("shop is not encrypted after the migration")
	}
	after := c.count()
	e.eventually("the client commits on the encrypted instance", func() bool { return c.count() > after+20 })
	ids := c.halt()
	rows, err := e.maria(endpoint(final), "shop").QueryContext(e.ctx, "SELECT id FROM orders")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	have := map[string]int{}
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		have[itoa(v)]++
	}
	cs := make([]dataplane.Commit, len(ids))
	for i, v := range ids {
		cs[i] = dataplane.Commit{Key: itoa(v)}
	}
	a := dataplane.AuditCommits(cs, have)
	if a.Lost != 0 || a.Duplicated != 0 {
		t.Errorf("of %d commits the client saw, %d lost (%v) and %d duplicated on the final instance", a.Committed, a.Lost, a.LostKeys, a.Duplicated)
	}
	t.Logf("temporary replica %s, start position %s; %d commits seen by the client, %d lost, %d duplicated, %d present but unacknowledged",
		replica, start, a.Committed, a.Lost, a.Duplicated, a.Unacknowledged)
}

// TestMySQLRollbackDeletesTheTemporaryReplica: a MySQL migration stopped at the snapshot's
// approval, once the temporary replica is created and stopped, then rolled back. Rollback
// refuses to delete the replica while its role tag says it is not the migration's temporary
// replica (one line naming it); once the tag is back and the journal lost, the journal rebuilt
// from the tags names the replica and the rollback deletes it; the source is as before.
func TestMySQLRollbackDeletesTheTemporaryReplica(t *testing.T) {
	e := startTool(t, 300, dataplane.MariaDB)
	e.createMySQL("shop")
	const id = "rbpos001"
	eng := e.engine(id)
	eng.Approver = workflow.ApproverFunc(func(_ context.Context, a workflow.Approval) (workflow.Decision, error) {
		if a.Step == workflow.StepSnapshot {
			return workflow.Quit, nil
		}
		return workflow.Approve, nil
	})
	if _, err := eng.Migrate(e.ctx, workflow.MigrateRequest{Region: region, Source: "shop", KmsKey: e.createKey(),
		Options: workflow.RunOptions{Strategy: workflow.StrategyReplication}}); err == nil {
		t.Fatal("the migration did not stop at the snapshot's approval")
	}
	replica := e.waitAvailable(workflow.NamesFor(id, "shop").PositionReplica)
	arn := replica.DBInstanceArn
	if _, err := e.rds.RemoveTagsFromResource(e.ctx, &rds.RemoveTagsFromResourceInput{ResourceName: arn, TagKeys: []string{model.TagRole}}); err != nil {
		t.Fatal(err)
	}
	_, err := e.engine(id).Rollback(e.ctx, id)
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), aws.ToString(replica.DBInstanceIdentifier)) {
		t.Fatalf("rollback with the replica's role tag removed: %v, want a one-line refusal naming it", err)
	}
	t.Logf("rollback with the replica's role tag removed: %v", err)
	e.waitAvailable(aws.ToString(replica.DBInstanceIdentifier)) // not deleted
	if _, err := e.rds.AddTagsToResource(e.ctx, &rds.AddTagsToResourceInput{ResourceName: arn,
		Tags: []types.Tag{{Key: aws.String(model.TagRole), Value: aws.String(workflow.RolePositionReplica)}}}); err != nil {
		t.Fatal(err)
	}
	// The journal lost too: rebuilt from the tags, it names the temporary replica (the source's
	// replica, which alone would make the rebuild refuse: "involves read replicas").
	if err := os.Remove(e.store.JournalPath(id)); err != nil {
		t.Fatal(err)
	}
	if got, err := e.engine(id).Rebuild(e.ctx, workflow.KindInstance, region, "shop"); err != nil || got != id {
		t.Fatalf("rebuild with the temporary replica present: %q, %v", got, err)
	}
	rb, err := e.engine(id).Rollback(e.ctx, id)
	if err != nil || rb.Status != workflow.StatusRolledBack {
		t.Fatalf("rollback: %v (%+v)", err, rb)
	}
	_, err = e.rds.DescribeDBInstances(e.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: replica.DBInstanceIdentifier})
	var nf *types.DBInstanceNotFoundFault
	if !errors.As(err, &nf) {
		t.Errorf("the temporary replica after the rollback: %v, want DBInstanceNotFound", err)
	}
	if src := e.waitAvailable("shop"); aws.ToBool(src.StorageEncrypted) {
		t.Error("shop is encrypted after a rollback before the snapshot")
	}
}

// TestMySQLSnapshotRefusedWhenTheTemporaryReplicaRanAgain: while the migration's snapshot of
// the stopped temporary replica is being taken (after the check before it), the replica's
// replication is started again (mysql.rds_start_replication, as an operator could) and applies
// a write made on the source meanwhile. Once the snapshot is available the migration stops with
// one line naming the replica and the rollback, before the journaled position is used as the
// stream's start (no attach); the rollback deletes the replica. On the old code the snapshot
// step completed and the migration went on to the copy.
func TestMySQLSnapshotRefusedWhenTheTemporaryReplicaRanAgain(t *testing.T) {
	e := startTool(t, 300, dataplane.MariaDB)
	src := e.createMySQL("shop")
	if _, err := e.maria(endpoint(src), "shop").ExecContext(e.ctx, "CREATE TABLE orders (id BIGINT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(10)) ENGINE=InnoDB"); err != nil {
		t.Fatal(err)
	}
	const id = "restart1"
	replica := workflow.NamesFor(id, "shop").PositionReplica
	held, stop := e.h.Sim.HoldCalls(func(action string) bool { return action == "CreateDBSnapshot" })
	defer stop()
	restarted := make(chan error, 1)
	go func() {
		select {
		case h := <-held:
			defer h.Release()
			restarted <- restartReplication(e, endpoint(src), replica)
		case <-e.ctx.Done():
			restarted <- e.ctx.Err()
		}
	}()
	eng := e.engine(id)
	eng.Approver = workflow.ApproverFunc(func(_ context.Context, a workflow.Approval) (workflow.Decision, error) {
		if a.Step == workflow.StepCopy {
			return workflow.Quit, nil
		}
		return workflow.Approve, nil
	})
	_, err := eng.Migrate(e.ctx, workflow.MigrateRequest{Region: region, Source: "shop", KmsKey: e.createKey(),
		Options: workflow.RunOptions{Strategy: workflow.StrategyReplication}})
	if rerr := <-restarted; rerr != nil {
		t.Fatalf("starting the temporary replica's replication again: %v", rerr)
	}
	if err == nil || errors.Is(err, workflow.ErrStopped) || strings.Contains(err.Error(), "\n") ||
		!strings.Contains(err.Error(), replica+" did not stay stopped at the start position") || !strings.Contains(err.Error(), "rdsencrypt rollback "+id) {
		t.Fatalf("migration with the temporary replica run again during the snapshot: %v, want one line naming %s and the rollback", err, replica)
	}
	t.Logf("refused: %v", err)
	st, lerr := e.store.Load(id)
	if lerr != nil {
		t.Fatal(lerr)
	}
	if s := stepStatus(st, workflow.StepSnapshot); s != workflow.StepFailed {
		t.Errorf("the snapshot step is %s, want failed", s)
	}
	if s := stepStatus(st, workflow.StepReplAttach); s != workflow.StepPending {
		t.Errorf("the attach step is %s, want pending: the start position was used", s)
	}
	rb, err := e.engine(id).Rollback(e.ctx, id)
	if err != nil || rb.Status != workflow.StatusRolledBack {
		t.Fatalf("rollback: %v (%+v)", err, rb)
	}
	_, err = e.rds.DescribeDBInstances(e.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(replica)})
	var nf *types.DBInstanceNotFoundFault
	if !errors.As(err, &nf) {
		t.Errorf("the temporary replica after the rollback: %v, want DBInstanceNotFound", err)
	}
}

// restartReplication writes a row on the source at addr and starts the replication of its
// temporary replica named replica again, as its master user, until the row is there.
func restartReplication(e *toolEnv, addr, replica string) error {
	out, err := e.rds.DescribeDBInstances(e.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(replica)})
	if err != nil {
		return err
	}
	open := func(addr, db string) (*sql.DB, error) {
		cfg := mysql.NewConfig()
		cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = master, password, "tcp", addr, db
		return sql.Open("mysql", cfg.FormatDSN())
	}
	src, err := open(addr, "shop")
	if err != nil {
		return err
	}
	defer src.Close()
	if _, err := src.ExecContext(e.ctx, "INSERT INTO orders (note) VALUES ('after')"); err != nil {
		return err
	}
	rep, err := open(endpoint(out.DBInstances[0]), "shop")
	if err != nil {
		return err
	}
	defer rep.Close()
	if _, err := rep.ExecContext(e.ctx, "CALL mysql.rds_start_replication"); err != nil {
		return err
	}
	for {
		var n int
		if err := rep.QueryRowContext(e.ctx, "SELECT COUNT(*) FROM orders WHERE note = 'after'").Scan(&n); err != nil {
			return err
		}
		if n == 1 {
			return nil
		}
		select {
		case <-e.ctx.Done():
			return e.ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
