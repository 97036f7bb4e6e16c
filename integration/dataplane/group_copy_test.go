package dataplane_test

import (
	"database/sql"
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/go-sql-driver/mysql"

	"github.com/rdsencrypt/rdsencrypt/internal/dataplane"
	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// erReadOnly is MariaDB's ER_OPTION_PREVENTS_STATEMENT, the error of a write refused by
// read_only ("The MariaDB server is running with the --read-only option...").
const erReadOnly = 1290

// insertErr writes one row through db and returns the server's refusal, if any.
func insertErr(db *sql.DB, e *toolEnv, v int) error {
	_, err := db.ExecContext(e.ctx, "INSERT INTO items (v) VALUES (?)", v)
	return err
}

func readOnlyRefusal(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == erReadOnly
}

// TestReplicationStrategyKeepsRetiredSourceReadOnly (issue 17, review finding R18): a MariaDB
// migration with --strategy replication restores the new instance with a tagged copy of the
// source's DB parameter group, so the unfreeze lifts read_only on the new primary only: after
// the cutover a write through the retired source's address is refused with the read-only
// error while the new primary takes writes. Parity compares the groups by value and finds no
// difference. Rollback after the cutover renames back, lets the source take writes at its name
// again and deletes the copy; the source's group gets read_only back as it was.
func TestReplicationStrategyKeepsRetiredSourceReadOnly(t *testing.T) {
	e := startTool(t, 300, dataplane.MariaDB)
	const id, group = "grp00001", "shop-params"
	e.mariaSource("shop", group)
	src := e.maria(endpoint(e.waitAvailable("shop")), "shop")
	if _, err := src.ExecContext(e.ctx, "CREATE TABLE items (id INT AUTO_INCREMENT PRIMARY KEY, v INT) ENGINE=InnoDB"); err != nil {
		t.Fatal(err)
	}
	if err := insertErr(src, e, 1); err != nil {
		t.Fatal(err)
	}
	req := workflow.MigrateRequest{Region: region, Source: "shop", KmsKey: e.createKey(),
		Options: workflow.RunOptions{Strategy: workflow.StrategyReplication}}
	rep, err := e.engine(id).Migrate(e.ctx, req)
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if rep.Status != workflow.StatusCompleted {
		t.Fatalf("migration ended %s: %s", rep.Status, rep.Error)
	}
	groupCopy := "shop-params-rdsencrypt-" + id

	// After the cutover: the retired source refuses writes, the new primary takes them.
	retired := e.waitAvailable("shop-old-" + id)
	if err := insertErr(e.maria(endpoint(retired), "shop"), e, 2); !readOnlyRefusal(err) {
		t.Errorf("a write through the retired source's address %s: %v, want the read-only refusal (error %d)", endpoint(retired), err, erReadOnly)
	}
	primary := e.waitAvailable("shop")
	if err := insertErr(e.maria(endpoint(primary), "shop"), e, 3); err != nil {
		t.Errorf("a write on the new primary: %v", err)
	}

	// The copy: tagged as the migration's, used by the new primary; the retired source kept its group.
	if got := aws.ToString(primary.DBParameterGroups[0].DBParameterGroupName); got != groupCopy {
		t.Errorf("the new primary uses the parameter group %s, want the copy %s", got, groupCopy)
	}
	if got := aws.ToString(retired.DBParameterGroups[0].DBParameterGroupName); got != group {
		t.Errorf("the retired source uses the parameter group %s, want %s", got, group)
	}
	pg, err := e.rds.DescribeDBParameterGroups(e.ctx, &rds.DescribeDBParameterGroupsInput{DBParameterGroupName: aws.String(groupCopy)})
	if err != nil {
		t.Fatalf("the copy %s: %v", groupCopy, err)
	}
	tags, err := e.rds.ListTagsForResource(e.ctx, &rds.ListTagsForResourceInput{ResourceName: pg.DBParameterGroups[0].DBParameterGroupArn})
	if err != nil {
		t.Fatal(err)
	}
	tagged := map[string]string{}
	for _, tg := range tags.TagList {
		tagged[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if tagged[model.TagMigrationID] != id || tagged[model.TagRole] != workflow.RoleParameterGroup {
		t.Errorf("the copy's tags %v", tagged)
	}
	if len(rep.Parity.Differences) > 0 {
		t.Errorf("parity differences %+v: the copy holds the source group's values", rep.Parity.Differences)
	}

	// Rollback after the cutover: the source takes writes at its name again, the copy is gone.
	rb, err := e.engine(id).Rollback(e.ctx, id)
	if err != nil {
		t.Fatalf("rollback: %v", err)
	}
	if rb.Status != workflow.StatusRolledBack {
		t.Fatalf("rollback ended %s: %s", rb.Status, rb.Error)
	}
	back := e.waitAvailable("shop")
	if aws.ToBool(back.StorageEncrypted) || aws.ToString(back.DBParameterGroups[0].DBParameterGroupName) != group {
		t.Fatalf("shop after the rollback: encrypted %v, group %s", aws.ToBool(back.StorageEncrypted), aws.ToString(back.DBParameterGroups[0].DBParameterGroupName))
	}
	if err := insertErr(e.maria(endpoint(back), "shop"), e, 4); err != nil {
		t.Errorf("a write on the source after the rollback: %v", err)
	}
	var n int
	if err := e.maria(endpoint(back), "shop").QueryRowContext(e.ctx, "SELECT COUNT(*) FROM items WHERE v IN (1, 3, 4)").Scan(&n); err != nil || n != 3 {
		t.Errorf("rows 1 (before), 3 (on the new primary, reverse-replicated) and 4 (after the rollback) on the source: %d, %v", n, err)
	}
	// The group never set read_only: after the rollback it holds RDS's default again, not a
	// user value 0 (review S12: a replica later made with the group stays read-only).
	params, err := e.rds.DescribeDBParameters(e.ctx, &rds.DescribeDBParametersInput{DBParameterGroupName: aws.String(group)})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(params.Parameters, func(p types.Parameter) bool { return aws.ToString(p.ParameterName) == "read_only" })
	if i < 0 {
		t.Fatalf("no read_only in %s", group)
	}
	if p := params.Parameters[i]; aws.ToString(p.Source) == "user" || aws.ToString(p.ParameterValue) != "{TrueIfReplica}" {
		t.Errorf("%s's read_only after the rollback: %s (source %s), want the default {TrueIfReplica}", group, aws.ToString(p.ParameterValue), aws.ToString(p.Source))
	}
	_, err = e.rds.DescribeDBParameterGroups(e.ctx, &rds.DescribeDBParameterGroupsInput{DBParameterGroupName: aws.String(groupCopy)})
	var nf *types.DBParameterGroupNotFoundFault
	if !errors.As(err, &nf) {
		t.Errorf("the copy after the rollback: %v, want DBParameterGroupNotFound", err)
	}
}
