package dataplane_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/rdsencrypt/rdsencrypt/internal/dataplane"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// TestMariaDBReplicationStrategyRecreatesTheReplica: a MariaDB source with a read replica
// (shop -> shop-ro, on the source's parameter group as RDS gives it; the data plane backs the
// replica with a binlog replica of the source's server) migrated by the replication strategy
// while a client commits through the source's endpoint: auto chooses replication; the tool, run
// as a process, is killed (SIGKILL) right after its call that creates the new replica, and
// resumed; the new replica is built from the new instance, itself a binlog replica of the
// source, while writes continue (it receives the stream through the new instance's binary log,
// log_slave_updates); the cutover renames the primary, then the replica after writes resume;
// the new replica answers at the old name, encrypted, with the rows written on the new primary
// after the cutover; the old one, at its retired name, has them too (the reverse stream feeds
// the retired source, whose binary log feeds it). A rollback after the cutover puts every name
// back and loses no commit. A second migration with --replicas before-cutover renames the
// replica inside the freeze and loses no commit either. docs/replication.md#mysql-and-mariadb-replicas.
func TestMariaDBReplicationStrategyRecreatesTheReplica(t *testing.T) {
	e := startTool(t, 300, dataplane.MariaDB)
	const group = "shop-params"
	e.mariaSource("shop", group)
	src := e.maria(endpoint(e.waitAvailable("shop")), "shop")
	if _, err := src.ExecContext(e.ctx, "CREATE TABLE orders (id BIGINT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(8)) ENGINE=InnoDB"); err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(e.readReplica("shop-ro", "shop").DBParameterGroups[0].DBParameterGroupName); got != group {
		t.Fatalf("the replica has the group %s, want its source's %s (CreateDBInstanceReadReplica inherits it)", got, group)
	}
	// The client writes through the source's address: after the cutover the name, and so the
	// address, is the new instance's; after the rollback the source's again.
	w := startCommitter(e.ctx, e.maria(endpoint(e.waitAvailable("shop")), ""))
	e.eventually("commits on the source", func() bool { return w.count() > 20 })

	key := e.createKey()
	req := workflow.MigrateRequest{Region: region, Source: "shop", KmsKey: key, Options: workflow.RunOptions{Strategy: workflow.StrategyAuto}}
	plan := e.planTree(e.engine("mrep0000"), req, "shop", "shop-ro")
	for _, s := range plan.Steps {
		if s.Name == workflow.StepReplicaRetire+":"+region+"/shop-ro" && !strings.Contains(s.Description, "caught up with its parent") {
			t.Errorf("the plan's %s does not say it waits for the new replica: %s", s.Name, s.Description)
		}
	}
	// `rdsencrypt migrate` as a process, killed (SIGKILL) right after its call that creates the
	// new replica, before the answer: the replica is being built from the new instance and the
	// journal does not have its resource id (resume finds it by its name and our tags); then
	// resumed in process.
	tl := buildTool(t, e)
	e.store = tl.store // the in-process engine takes the killed process's journal over
	sub := workflow.StepReplicaCreate + ":" + region + "/shop-ro"
	st := tl.killAtCall("migrate", "CreateDBInstanceReadReplica", func(st *workflow.State) bool { return stepStatus(st, sub) == workflow.StepRunning },
		"migrate", "--db", "shop", "--kms-key", key, "--strategy", "replication", "--yes")
	id := st.ID
	if i := slices.IndexFunc(st.Replicas, func(rs workflow.ReplicaState) bool { return rs.ID == "shop-ro" }); i < 0 || st.Replicas[i].TargetRID != "" {
		t.Fatalf("killed with the replicas journaled %+v, want shop-ro without its replacement's resource id", st.Replicas)
	}
	out, err := e.rds.DescribeDBInstances(e.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(workflow.NamesFor(id, "shop-ro").Target)})
	if err != nil {
		t.Fatalf("the new replica after the kill: %v", err)
	}
	t.Logf("killed with the new replica %s", aws.ToString(out.DBInstances[0].DBInstanceStatus))
	rep, err := e.engine(id).Resume(e.ctx, id)
	e.encryptedAfter("resume", rep, err, "shop")
	if !finishedBefore(rep, sub, workflow.StepReplFreeze) {
		t.Errorf("the replica was not built before the freeze: %s", stepTimes(rep))
	}
	if !finishedBefore(rep, workflow.StepUnfreeze, workflow.StepReplicaRetire+":"+region+"/shop-ro") {
		t.Errorf("the replica was renamed before writes resumed: %s", stepTimes(rep))
	}
	// The rename pair waited until the new replica had caught up with the new instance.
	if !e.eventSeen(func(ev workflow.Event) bool {
		return ev.Type == workflow.EventStepProgress && ev.Resource == workflow.NamesFor(id, "shop-ro").Target && strings.HasPrefix(ev.Status, "catching up with ")
	}) {
		t.Error("replica-retire did not wait for the new replica to catch up")
	}
	cutover := w.count()
	e.eventually("commits on the encrypted instance", func() bool { return w.count() > cutover+30 })

	// The new replica answers at the old name, encrypted, on the old replica's group, and has a
	// row committed on the new primary after the cutover; the old one, at its retired name,
	// has it too.
	newest := maxID(e, e.waitAvailable("shop"))
	r := e.waitAvailable("shop-ro")
	if !aws.ToBool(r.StorageEncrypted) {
		t.Error("shop-ro is not encrypted after the migration")
	}
	if got := aws.ToString(r.DBParameterGroups[0].DBParameterGroupName); got != group {
		t.Errorf("the new shop-ro has the group %s, want the old replica's %s", got, group)
	}
	e.hasOrder(r, newest)
	retired := e.waitAvailable(workflow.NamesFor(id, "shop-ro").Retired)
	if aws.ToBool(retired.StorageEncrypted) {
		t.Error("the old replica is encrypted")
	}
	e.hasOrder(retired, newest)
	for _, inst := range []types.DBInstance{r, retired} {
		if _, err := e.maria(endpoint(inst), "shop").ExecContext(e.ctx, "INSERT INTO orders (note) VALUES ('r')"); !readOnlyRefusal(err) {
			t.Errorf("a write on the replica %s: %v, want the read-only refusal", aws.ToString(inst.DBInstanceIdentifier), err)
		}
	}

	// Rollback after the cutover: the names go back, the new tree is deleted, no commit lost.
	rb, err := e.engine(id).Rollback(e.ctx, id)
	if err != nil || rb.Status != workflow.StatusRolledBack {
		t.Fatalf("rollback: %v %+v", err, rb)
	}
	final := e.waitAvailable("shop")
	if aws.ToBool(final.StorageEncrypted) {
		t.Fatal("shop is still the encrypted instance after the rollback")
	}
	after := w.count()
	e.eventually("commits on the source after the rollback", func() bool { return w.count() > after+20 })
	back := e.waitAvailable("shop-ro")
	if aws.ToBool(back.StorageEncrypted) {
		t.Error("shop-ro is still the encrypted replica after the rollback")
	}
	e.hasOrder(back, maxID(e, final))
	for _, gone := range []string{workflow.NamesFor(id, "shop-ro").Target, workflow.NamesFor(id, "shop-ro").Retired} {
		if _, err := e.rds.DescribeDBInstances(e.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(gone)}); err == nil {
			t.Errorf("%s still exists after the rollback", gone)
		}
	}
	t.Logf("MariaDB replica, after-cutover order: write downtime %.0f s (AWS clock, report); %s", rep.DowntimeSeconds, stepTimes(rep))

	// A second migration of the same tree with --replicas before-cutover: the replica's pair
	// runs inside the freeze, after it has caught up with the frozen new instance.
	const id2 = "mrep0002"
	req.Options.Replicas = workflow.ReplicasBeforeCutover
	rep2, err := e.engine(id2).Migrate(e.ctx, req)
	e.encryptedAfter("migrate, replicas before the cutover", rep2, err, "shop")
	if !finishedBefore(rep2, workflow.StepReplicaPromote+":"+region+"/shop-ro", workflow.StepUnfreeze) {
		t.Errorf("the replica was not renamed inside the freeze: %s", stepTimes(rep2))
	}
	cutover = w.count()
	e.eventually("commits on the second encrypted instance", func() bool { return w.count() > cutover+30 })
	primary := e.waitAvailable("shop")
	ids := w.halt()
	e.auditOrders(primary, ids)
	r2 := e.waitAvailable("shop-ro")
	if !aws.ToBool(r2.StorageEncrypted) {
		t.Error("shop-ro is not encrypted after the second migration")
	}
	e.hasOrder(r2, maxID(e, primary))
	t.Logf("MariaDB replica: %d commits through two migrations and a rollback, 0 lost; before-cutover write downtime %.0f s (AWS clock, report)", len(ids), rep2.DowntimeSeconds)
}

// eventSeen says whether the run reported an event that matches.
func (e *toolEnv) eventSeen(match func(workflow.Event) bool) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.ContainsFunc(e.events, match)
}

// mariaSource creates a MariaDB instance (database shop, backups on) in a new parameter group
// with binlog_format ROW, and waits until it is available.
func (e *toolEnv) mariaSource(id, group string) types.DBInstance {
	e.t.Helper()
	return e.binlogSource(id, "mariadb", "mariadb10.11", group)
}

// binlogSource creates an instance of engine (database shop, backups on) in a new parameter
// group of family with binlog_format ROW, and waits until it is available.
func (e *toolEnv) binlogSource(id, engine, family, group string) types.DBInstance {
	e.t.Helper()
	if _, err := e.rds.CreateDBParameterGroup(e.ctx, &rds.CreateDBParameterGroupInput{DBParameterGroupName: aws.String(group),
		DBParameterGroupFamily: aws.String(family), Description: aws.String("binlog_format ROW")}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.rds.ModifyDBParameterGroup(e.ctx, &rds.ModifyDBParameterGroupInput{DBParameterGroupName: aws.String(group),
		Parameters: []types.Parameter{{ParameterName: aws.String("binlog_format"), ParameterValue: aws.String("ROW"), ApplyMethod: types.ApplyMethodImmediate}}}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.rds.CreateDBInstance(e.ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String(id), Engine: aws.String(engine),
		DBInstanceClass: aws.String("db.t3.micro"), AllocatedStorage: aws.Int32(20), MasterUsername: aws.String(master),
		MasterUserPassword: aws.String(password), DBName: aws.String("shop"), DBParameterGroupName: aws.String(group),
		BackupRetentionPeriod: aws.Int32(1)}); err != nil {
		e.t.Fatal(err)
	}
	return e.waitAvailable(id)
}

// maxID is the newest committed order on inst.
func maxID(e *toolEnv, inst types.DBInstance) int64 {
	e.t.Helper()
	var id int64
	if err := e.maria(endpoint(inst), "shop").QueryRowContext(e.ctx, "SELECT MAX(id) FROM orders").Scan(&id); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// hasOrder waits until inst has the order id (it follows the writes). After a rollback the old
// replica first sits out MariaDB's 60-second connect retry (the source's rename back restarted
// its server; docs/replication.md#mysql-and-mariadb-replicas says the rollback does not wait for
// it), then catches up with what was written meanwhile: the limit leaves that catch-up minutes
// on a loaded machine rather than the one minute it had.
func (e *toolEnv) hasOrder(inst types.DBInstance, id int64) {
	e.t.Helper()
	db := e.maria(endpoint(inst), "shop")
	e.within(aws.ToString(inst.DBInstanceIdentifier)+" has order "+strconv.FormatInt(id, 10), 5*time.Minute, func() bool {
		var n int
		return db.QueryRowContext(e.ctx, "SELECT COUNT(*) FROM orders WHERE id = ?", id).Scan(&n) == nil && n == 1
	})
}

// auditOrders fails the test unless every order the client saw commit is on inst exactly once
// (dataplane.AuditCommits, the shared audit: an audit of no commit fails too).
func (e *toolEnv) auditOrders(inst types.DBInstance, ids []int64) {
	e.t.Helper()
	rows, err := e.maria(endpoint(inst), "shop").QueryContext(e.ctx, "SELECT id FROM orders")
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	have := map[string]int{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			e.t.Fatal(err)
		}
		have[itoa(id)]++
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	cs := make([]dataplane.Commit, len(ids))
	for i, id := range ids {
		cs[i] = dataplane.Commit{Key: itoa(id)}
	}
	a := dataplane.AuditCommits(cs, have)
	if err := a.Err(); err != nil {
		e.t.Errorf("orders on %s: %v", aws.ToString(inst.DBInstanceIdentifier), err)
	}
	e.t.Logf("orders on %s: %s", aws.ToString(inst.DBInstanceIdentifier), a)
}
