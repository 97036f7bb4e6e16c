package dataplane_test

import (
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/go-sql-driver/mysql"

	"github.com/rdsencrypt/rdsencrypt/internal/dataplane"
)

// TestPostgresReadReplicaFollowsThenPromoted: a read replica is a streaming standby that
// follows its source and refuses writes; after PromoteReadReplica it takes writes and no
// longer follows.
func TestPostgresReadReplicaFollowsThenPromoted(t *testing.T) {
	e := start(t, dataplane.Postgres)
	src := e.mustPG(endpoint(e.create("orders", "postgres")))
	e.exec(src, "CREATE TABLE t (v text)")
	e.exec(src, "INSERT INTO t VALUES ('one')")
	if _, err := e.rds.CreateDBInstanceReadReplica(e.ctx, &rds.CreateDBInstanceReadReplicaInput{
		DBInstanceIdentifier: aws.String("orders-ro"), SourceDBInstanceIdentifier: aws.String("orders")}); err != nil {
		t.Fatal(err)
	}
	e.advance(20 * time.Minute)
	rep := e.mustPG(endpoint(e.requireStatus("orders-ro", "available")))
	e.exec(src, "INSERT INTO t VALUES ('two')")
	e.eventually("the replica has the source's new row", func() bool {
		return e.rows(rep, "SELECT string_agg(v, ',' ORDER BY v) FROM t") == "one,two"
	})
	if _, err := rep.Exec(e.ctx, "INSERT INTO t VALUES ('x')"); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("write on the replica: %v", err)
	}

	if _, err := e.rds.PromoteReadReplica(e.ctx, &rds.PromoteReadReplicaInput{DBInstanceIdentifier: aws.String("orders-ro")}); err != nil {
		t.Fatal(err)
	}
	e.advance(10 * time.Minute)
	promoted := e.requireStatus("orders-ro", "available")
	if promoted.ReadReplicaSourceDBInstanceIdentifier != nil || aws.ToInt32(promoted.BackupRetentionPeriod) != 1 {
		t.Fatalf("promoted: source %v retention %d", aws.ToString(promoted.ReadReplicaSourceDBInstanceIdentifier), aws.ToInt32(promoted.BackupRetentionPeriod))
	}
	if src := e.describe("orders"); len(src.ReadReplicaDBInstanceIdentifiers) != 0 {
		t.Fatalf("source still lists replicas %v", src.ReadReplicaDBInstanceIdentifiers)
	}
	p := e.mustPG(endpoint(promoted))
	if got := e.rows(p, "SELECT pg_is_in_recovery()::text"); got != "false" {
		t.Fatalf("promoted server in recovery: %s", got)
	}
	e.exec(p, "INSERT INTO t VALUES ('promoted')")
	// Nothing streams from the source any more, so a row written there now cannot arrive.
	e.eventually("the source has no standby", func() bool {
		return e.rows(src, "SELECT count(*)::text FROM pg_stat_replication") == "0"
	})
	e.exec(src, "INSERT INTO t VALUES ('three')")
	if got := e.rows(p, "SELECT string_agg(v, ',' ORDER BY v) FROM t"); got != "one,promoted,two" {
		t.Fatalf("promoted instance rows %q", got)
	}
	if _, err := e.rds.PromoteReadReplica(e.ctx, &rds.PromoteReadReplicaInput{DBInstanceIdentifier: aws.String("orders")}); err == nil {
		t.Fatal("promoting an instance that is not a replica succeeded")
	}
}

// TestLogicalReplicationAfterReboot: rds.logical_replication=1 is static: until the reboot the
// instance reports pending-reboot and logical decoding is refused (a subscription on another
// instance cannot be created); afterwards the master user can create a logical slot and read
// the changes of a publication, and a subscription on a second instance receives its rows.
// CREATE SUBSCRIPTION runs through Sim.DataPlaneExec: RDS lets rds_superuser create
// subscriptions, vanilla PostgreSQL 15 only superusers.
func TestLogicalReplicationAfterReboot(t *testing.T) {
	e := start(t, dataplane.Postgres)
	if _, err := e.rds.CreateDBParameterGroup(e.ctx, &rds.CreateDBParameterGroupInput{DBParameterGroupName: aws.String("logical"),
		DBParameterGroupFamily: aws.String("postgres16"), Description: aws.String("logical replication")}); err != nil {
		t.Fatal(err)
	}
	inst := e.create("orders", "postgres", func(in *rds.CreateDBInstanceInput) {
		in.DBParameterGroupName, in.BackupRetentionPeriod = aws.String("logical"), aws.Int32(0)
	})
	c := e.mustPG(endpoint(inst))
	e.exec(c, "CREATE TABLE t (id int PRIMARY KEY, v text)")
	e.exec(c, "CREATE PUBLICATION pub FOR TABLE t")
	sub := e.create("orders-sub", "postgres", func(in *rds.CreateDBInstanceInput) { in.BackupRetentionPeriod = aws.Int32(0) })
	e.exec(e.mustPG(endpoint(sub)), "CREATE TABLE t (id int PRIMARY KEY, v text)")
	host, port := aws.ToString(inst.Endpoint.Address), aws.ToInt32(inst.Endpoint.Port)
	subscribe := fmt.Sprintf("CREATE SUBSCRIPTION sub CONNECTION 'host=%s port=%d user=%s password=%s dbname=shop' PUBLICATION pub",
		host, port, master, password)
	if _, err := e.rds.ModifyDBParameterGroup(e.ctx, &rds.ModifyDBParameterGroupInput{DBParameterGroupName: aws.String("logical"),
		Parameters: []types.Parameter{{ParameterName: aws.String("rds.logical_replication"), ParameterValue: aws.String("1"),
			ApplyMethod: types.ApplyMethodPendingReboot}}}); err != nil {
		t.Fatal(err)
	}
	if st := aws.ToString(e.describe("orders").DBParameterGroups[0].ParameterApplyStatus); st != "pending-reboot" {
		t.Fatalf("ParameterApplyStatus %q, want pending-reboot", st)
	}
	slot := "SELECT pg_create_logical_replication_slot('encrypt', 'pgoutput')"
	if _, err := c.Exec(e.ctx, slot); err == nil || !strings.Contains(err.Error(), "wal_level") {
		t.Fatalf("logical slot before the reboot: %v", err)
	}
	if err := e.h.Sim.DataPlaneExec(e.ctx, region, "orders-sub", "shop", subscribe); err == nil || !strings.Contains(err.Error(), "wal_level") {
		t.Fatalf("subscription before the publisher's reboot: %v", err)
	}
	if _, err := e.rds.RebootDBInstance(e.ctx, &rds.RebootDBInstanceInput{DBInstanceIdentifier: aws.String("orders")}); err != nil {
		t.Fatal(err)
	}
	e.advance(2 * time.Minute)
	inst = e.requireStatus("orders", "available")
	if st := aws.ToString(inst.DBParameterGroups[0].ParameterApplyStatus); st != "in-sync" {
		t.Fatalf("ParameterApplyStatus after reboot %q", st)
	}
	c = e.mustPG(endpoint(inst))
	if got := e.rows(c, "SHOW wal_level"); got != "logical" {
		t.Fatalf("wal_level %q", got)
	}
	e.exec(c, slot)
	e.exec(c, "INSERT INTO t VALUES (1, 'replicated')")
	var n int
	if err := c.QueryRow(e.ctx, `SELECT count(*) FROM pg_logical_slot_get_binary_changes('encrypt', NULL, NULL,
		'proto_version', '1', 'publication_names', 'pub')`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n < 3 { // BEGIN, RELATION, INSERT, COMMIT
		t.Fatalf("%d logical changes, want the insert's", n)
	}
	if err := e.h.Sim.DataPlaneExec(e.ctx, region, "orders-sub", "shop", subscribe); err != nil {
		t.Fatalf("subscription after the reboot: %v", err)
	}
	e.exec(c, "INSERT INTO t VALUES (3, 'subscribed')")
	sc := e.mustPG(endpoint(sub))
	e.eventually("the subscriber receives the publisher's rows", func() bool {
		return e.rows(sc, "SELECT string_agg(v, ',' ORDER BY id) FROM t") == "replicated,subscribed"
	})

	// A dynamic parameter applies at once.
	if _, err := e.rds.ModifyDBParameterGroup(e.ctx, &rds.ModifyDBParameterGroupInput{DBParameterGroupName: aws.String("logical"),
		Parameters: []types.Parameter{{ParameterName: aws.String("default_transaction_read_only"), ParameterValue: aws.String("1"),
			ApplyMethod: types.ApplyMethodImmediate}}}); err != nil {
		t.Fatal(err)
	}
	e.eventually("default_transaction_read_only applies without a reboot", func() bool {
		fresh, err := e.pg(endpoint(inst))
		if err != nil {
			return false
		}
		defer fresh.Close(e.ctx)
		_, err = fresh.Exec(e.ctx, "INSERT INTO t VALUES (2, 'refused')")
		return err != nil && strings.Contains(err.Error(), "read-only")
	})
}

// TestMariaDBReplicationWithRDSProcedures: the master user, who has no SUPER, sets up binlog
// replication between two MariaDB instances with RDS's mysql.rds_* procedures, and reads the
// replica's status through mysql.rds_replica_status, SHOW SLAVE STATUS being refused to it.
func TestMariaDBReplicationWithRDSProcedures(t *testing.T) {
	e := start(t, dataplane.MariaDB)
	srcInst := e.create("shop-src", "mariadb")
	dstInst := e.create("shop-dst", "mariadb")
	src, dst := e.maria(endpoint(srcInst), "shop"), e.maria(endpoint(dstInst), "")
	execAll := func(db *sql.DB, qs ...string) {
		t.Helper()
		for _, q := range qs {
			if _, err := db.ExecContext(e.ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
	execAll(src, "CREATE TABLE t (v VARCHAR(20)) ENGINE=InnoDB", "INSERT INTO t VALUES ('before')",
		"CREATE USER 'repl'@'%' IDENTIFIED BY 'repl-password'", "GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%'")
	// Without SUPER the master user cannot configure replication directly.
	if _, err := dst.ExecContext(e.ctx, "CHANGE MASTER TO MASTER_HOST='127.0.0.1'"); err == nil {
		t.Fatal("CHANGE MASTER as the master user succeeded")
	}
	execAll(dst, "CALL mysql.rds_set_configuration('binlog retention hours', 24)")
	var name, desc string
	var value sql.NullString
	found := false
	rows, err := dst.QueryContext(e.ctx, "CALL mysql.rds_show_configuration")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		if err := rows.Scan(&name, &value, &desc); err != nil {
			t.Fatal(err)
		}
		found = found || (name == "binlog retention hours" && value.String == "24")
	}
	rows.Close()
	if !found {
		t.Fatal("rds_show_configuration does not show binlog retention hours = 24")
	}
	if _, err := dst.ExecContext(e.ctx, "CALL mysql.rds_set_configuration('binlog retention hours', 99999)"); err == nil {
		t.Fatal("an out-of-range retention was accepted")
	}
	// Copy the existing data, then replicate from the binlog position of the copy.
	var file string
	var pos int64
	var doDB, ignoreDB any
	if err := src.QueryRowContext(e.ctx, "SHOW MASTER STATUS").Scan(&file, &pos, &doDB, &ignoreDB); err != nil {
		t.Fatal(err)
	}
	execAll(dst, "CREATE DATABASE IF NOT EXISTS shop", "CREATE TABLE shop.t (v VARCHAR(20)) ENGINE=InnoDB", "INSERT INTO shop.t VALUES ('before')")
	host, port := aws.ToString(srcInst.Endpoint.Address), aws.ToInt32(srcInst.Endpoint.Port)
	if _, err := dst.ExecContext(e.ctx, "CALL mysql.rds_set_external_master(?, ?, 'repl', 'repl-password', ?, ?, 0)", host, port, file, pos); err != nil {
		t.Fatal(err)
	}
	execAll(dst, "CALL mysql.rds_start_replication")
	execAll(src, "INSERT INTO t VALUES ('replicated')")
	count := func(v string) int {
		var n int
		if err := dst.QueryRowContext(e.ctx, "SELECT COUNT(*) FROM shop.t WHERE v = ?", v).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	e.eventually("the row written on the source arrives", func() bool { return count("replicated") == 1 })
	// RDS for MariaDB 10.5+ grants the master user no REPLICA MONITOR: SHOW SLAVE STATUS is
	// refused, mysql.rds_replica_status answers instead, and the engine reads the status so.
	for _, q := range []string{"SHOW SLAVE STATUS", "SHOW REPLICA STATUS"} {
		var me *mysql.MySQLError
		rows, err := dst.QueryContext(e.ctx, q)
		if err == nil {
			rows.Close()
		}
		if !errors.As(err, &me) || me.Number != 1227 {
			t.Fatalf("%s as the master user: %v, want access denied (1227)", q, err)
		}
	}
	st, err := e.binlogConn(dstInst).ReplicaStatus(e.ctx)
	if err != nil || !st.Configured || !st.SQLRunning || st.SourceUser != "repl" || st.Executed.Pos == 0 {
		t.Fatalf("the engine's replica status as the master user: %+v, %v", st, err)
	}
	execAll(dst, "CALL mysql.rds_stop_replication")
	execAll(src, "INSERT INTO t VALUES ('stopped')")
	execAll(dst, "CALL mysql.rds_start_replication")
	e.eventually("replication resumes", func() bool { return count("stopped") == 1 })
	execAll(dst, "CALL mysql.rds_stop_replication", "CALL mysql.rds_reset_external_master")
	// The GTID variant: replicate from the source's current GTID position.
	var gtid string
	if err := src.QueryRowContext(e.ctx, "SELECT @@GLOBAL.gtid_binlog_pos").Scan(&gtid); err != nil {
		t.Fatal(err)
	}
	if _, err := dst.ExecContext(e.ctx, "CALL mysql.rds_set_external_master_gtid(?, ?, 'repl', 'repl-password', ?, 0)", host, port, gtid); err != nil {
		t.Fatal(err)
	}
	execAll(dst, "CALL mysql.rds_start_replication")
	execAll(src, "INSERT INTO t VALUES ('by-gtid')")
	e.eventually("a row arrives through GTID replication", func() bool { return count("by-gtid") == 1 })
	execAll(dst, "CALL mysql.rds_stop_replication", "CALL mysql.rds_reset_external_master")
	if n := count("before"); n != 1 {
		t.Fatalf("%d copies of the copied row", n)
	}

	// rds_kill ends another session of the master user.
	victim, err := e.maria(endpoint(srcInst), "shop").Conn(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer victim.Close()
	var id int64
	if err := victim.QueryRowContext(e.ctx, "SELECT CONNECTION_ID()").Scan(&id); err != nil {
		t.Fatal(err)
	}
	execAll(src, "CALL mysql.rds_kill("+itoa(id)+")")
	if err := victim.QueryRowContext(e.ctx, "SELECT 1").Scan(new(int)); err == nil {
		t.Fatal("the killed session still answers")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestMariaDBReadReplicaFollowsThenPromoted: a MariaDB read replica is a binlog replica with
// read_only on (the master user has no READ_ONLY ADMIN, so it cannot write there), also after
// its group's read_only is set to 0 and reset to the engine default {TrueIfReplica} (as the
// tool's thaw does on the source's group); after PromoteReadReplica it takes writes and no
// longer follows.
func TestMariaDBReadReplicaFollowsThenPromoted(t *testing.T) {
	e := start(t, dataplane.MariaDB)
	if _, err := e.rds.CreateDBParameterGroup(e.ctx, &rds.CreateDBParameterGroupInput{DBParameterGroupName: aws.String("shared"),
		DBParameterGroupFamily: aws.String("mariadb10.11"), Description: aws.String("the source's and its replica's")}); err != nil {
		t.Fatal(err)
	}
	src := e.maria(endpoint(e.create("shop", "mariadb", func(in *rds.CreateDBInstanceInput) { in.DBParameterGroupName = aws.String("shared") })), "shop")
	if _, err := src.ExecContext(e.ctx, "CREATE TABLE t (v VARCHAR(20)) ENGINE=InnoDB"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rds.CreateDBInstanceReadReplica(e.ctx, &rds.CreateDBInstanceReadReplicaInput{
		DBInstanceIdentifier: aws.String("shop-ro"), SourceDBInstanceIdentifier: aws.String("shop")}); err != nil {
		t.Fatal(err)
	}
	e.advance(20 * time.Minute)
	rep := e.maria(endpoint(e.requireStatus("shop-ro", "available")), "shop")
	count := func(v string) int {
		var n int
		if err := rep.QueryRowContext(e.ctx, "SELECT COUNT(*) FROM t WHERE v = ?", v).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if _, err := src.ExecContext(e.ctx, "INSERT INTO t VALUES ('followed')"); err != nil {
		t.Fatal(err)
	}
	e.eventually("the replica has the source's row", func() bool { return count("followed") == 1 })
	readOnly := types.Parameter{ParameterName: aws.String("read_only"), ParameterValue: aws.String("0"), ApplyMethod: types.ApplyMethodImmediate}
	if _, err := e.rds.ModifyDBParameterGroup(e.ctx, &rds.ModifyDBParameterGroupInput{DBParameterGroupName: aws.String("shared"),
		Parameters: []types.Parameter{readOnly}}); err != nil {
		t.Fatal(err)
	}
	readOnly.ParameterValue = nil
	if _, err := e.rds.ResetDBParameterGroup(e.ctx, &rds.ResetDBParameterGroupInput{DBParameterGroupName: aws.String("shared"),
		ResetAllParameters: aws.Bool(false), Parameters: []types.Parameter{readOnly}}); err != nil {
		t.Fatal(err)
	}
	if _, err := rep.ExecContext(e.ctx, "INSERT INTO t VALUES ('x')"); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("write on the replica: %v", err)
	}
	if _, err := e.rds.PromoteReadReplica(e.ctx, &rds.PromoteReadReplicaInput{DBInstanceIdentifier: aws.String("shop-ro")}); err != nil {
		t.Fatal(err)
	}
	e.advance(10 * time.Minute)
	e.requireStatus("shop-ro", "available")
	if _, err := rep.ExecContext(e.ctx, "INSERT INTO t VALUES ('promoted')"); err != nil {
		t.Fatalf("write after promotion: %v", err)
	}
	var threads int
	e.eventually("the source has no replica connected", func() bool {
		if err := src.QueryRowContext(e.ctx, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'").Scan(&threads); err != nil {
			t.Fatal(err)
		}
		return threads == 0
	})
	if _, err := src.ExecContext(e.ctx, "INSERT INTO t VALUES ('unfollowed')"); err != nil {
		t.Fatal(err)
	}
	if count("unfollowed") != 0 {
		t.Fatal("the promoted instance still follows its source")
	}
}

// TestMariaDBParametersApply: dynamic MariaDB parameters of the instance's group apply at once
// to the running server; read_only binds the master user, who has no READ_ONLY ADMIN.
func TestMariaDBParametersApply(t *testing.T) {
	e := start(t, dataplane.MariaDB)
	if _, err := e.rds.CreateDBParameterGroup(e.ctx, &rds.CreateDBParameterGroupInput{DBParameterGroupName: aws.String("maria"),
		DBParameterGroupFamily: aws.String("mariadb10.11"), Description: aws.String("dynamic parameters")}); err != nil {
		t.Fatal(err)
	}
	db := e.maria(endpoint(e.create("shop", "mariadb", func(in *rds.CreateDBInstanceInput) { in.DBParameterGroupName = aws.String("maria") })), "shop")
	if _, err := db.ExecContext(e.ctx, "CREATE TABLE t (v INT)"); err != nil {
		t.Fatal(err)
	}
	set := func(name, value string) {
		t.Helper()
		if _, err := e.rds.ModifyDBParameterGroup(e.ctx, &rds.ModifyDBParameterGroupInput{DBParameterGroupName: aws.String("maria"),
			Parameters: []types.Parameter{{ParameterName: aws.String(name), ParameterValue: aws.String(value), ApplyMethod: types.ApplyMethodImmediate}}}); err != nil {
			t.Fatal(err)
		}
	}
	global := func(name string) string {
		var v string
		if err := db.QueryRowContext(e.ctx, "SELECT @@GLOBAL."+name).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	// The server starts with the group's value (the control plane's default).
	params, err := e.rds.DescribeDBParameters(e.ctx, &rds.DescribeDBParametersInput{DBParameterGroupName: aws.String("maria")})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range params.Parameters {
		if aws.ToString(p.ParameterName) == "binlog_format" {
			if got, want := global("binlog_format"), aws.ToString(p.ParameterValue); got != want {
				t.Fatalf("binlog_format %s, the group says %s", got, want)
			}
		}
	}
	next := "ROW"
	if global("binlog_format") == "ROW" {
		next = "STATEMENT"
	}
	set("binlog_format", next)
	set("log_bin_trust_function_creators", "1")
	if global("binlog_format") != next || global("log_bin_trust_function_creators") != "1" {
		t.Fatalf("binlog_format %s, log_bin_trust_function_creators %s after immediate apply", global("binlog_format"), global("log_bin_trust_function_creators"))
	}
	set("read_only", "1")
	if _, err := db.ExecContext(e.ctx, "INSERT INTO t VALUES (1)"); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("write by the master user with read_only=1: %v", err)
	}
	if st := aws.ToString(e.describe("shop").DBParameterGroups[0].ParameterApplyStatus); st != "in-sync" {
		t.Fatalf("ParameterApplyStatus %q after dynamic changes only", st)
	}
}
