package dataplane_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/rdsencrypt/rdsencrypt/internal/dataplane"
)

// TestSnapshotCopyRestoreHoldsData follows the encryption route with data: a row written
// before CreateDBSnapshot is in the instance restored from the encrypted copy, a row written
// after is not, and the restored server's log, read with DownloadDBLogFilePortion in pages,
// shows where its recovery ended.
func TestSnapshotCopyRestoreHoldsData(t *testing.T) {
	e := start(t, dataplane.Postgres)
	c := e.mustPG(endpoint(e.create("orders", "postgres", func(in *rds.CreateDBInstanceInput) { in.BackupRetentionPeriod = aws.Int32(0) })))
	e.exec(c, "CREATE TABLE t (v text)")
	e.exec(c, "INSERT INTO t VALUES ('before')")
	if _, err := e.rds.CreateDBSnapshot(e.ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("orders"),
		DBSnapshotIdentifier: aws.String("snap")}); err != nil {
		t.Fatal(err)
	}
	e.exec(c, "INSERT INTO t VALUES ('after')")
	e.advance(10 * time.Minute)
	key, err := e.h.KMS(region).CreateKey(e.ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.rds.CopyDBSnapshot(e.ctx, &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: aws.String("snap"),
		TargetDBSnapshotIdentifier: aws.String("snap-encrypted"), KmsKeyId: key.KeyMetadata.Arn}); err != nil {
		t.Fatal(err)
	}
	// The source snapshot goes; its copy keeps the data.
	e.advance(30 * time.Minute)
	if _, err := e.rds.DeleteDBSnapshot(e.ctx, &rds.DeleteDBSnapshotInput{DBSnapshotIdentifier: aws.String("snap")}); err != nil {
		t.Fatal(err)
	}
	e.advance(time.Minute)
	if _, err := e.rds.RestoreDBInstanceFromDBSnapshot(e.ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{
		DBInstanceIdentifier: aws.String("orders-new"), DBSnapshotIdentifier: aws.String("snap-encrypted"),
		BackupRetentionPeriod: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	e.advance(30 * time.Minute)
	restored := e.requireStatus("orders-new", "available")
	if !aws.ToBool(restored.StorageEncrypted) {
		t.Fatal("restored instance not encrypted")
	}
	if got := e.rows(e.mustPG(endpoint(restored)), "SELECT string_agg(v, ',') FROM t"); got != "before" {
		t.Fatalf("restored rows %q, want only the row written before the snapshot", got)
	}

	files, err := e.rds.DescribeDBLogFiles(e.ctx, &rds.DescribeDBLogFilesInput{DBInstanceIdentifier: aws.String("orders-new")})
	if err != nil || len(files.DescribeDBLogFiles) == 0 {
		t.Fatalf("log files %v %v", files, err)
	}
	f := files.DescribeDBLogFiles[len(files.DescribeDBLogFiles)-1]
	if !strings.HasPrefix(aws.ToString(f.LogFileName), "error/postgresql.log.") || aws.ToInt64(f.Size) == 0 {
		t.Fatalf("log file %s size %d", aws.ToString(f.LogFileName), aws.ToInt64(f.Size))
	}
	paged := e.readLog("orders-new", aws.ToString(f.LogFileName), 3)
	if int64(len(paged)) < aws.ToInt64(f.Size) || !strings.Contains(paged, "redo done at ") {
		t.Fatalf("paged log (%d of %d bytes) lacks \"redo done at\":\n%s", len(paged), aws.ToInt64(f.Size), paged)
	}
	// Without a Marker: the last lines.
	tail, err := e.rds.DownloadDBLogFilePortion(e.ctx, &rds.DownloadDBLogFilePortionInput{DBInstanceIdentifier: aws.String("orders-new"),
		LogFileName: f.LogFileName, NumberOfLines: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(tail.LogFileData); strings.Count(got, "\n") != 2 || !strings.HasSuffix(paged, got) {
		t.Fatalf("last two lines %q", got)
	}
	if _, err := e.rds.DownloadDBLogFilePortion(e.ctx, &rds.DownloadDBLogFilePortionInput{DBInstanceIdentifier: aws.String("orders-new"),
		LogFileName: aws.String("error/nope.log")}); err == nil || !strings.Contains(err.Error(), "DBLogFileNotFoundFault") {
		t.Fatalf("missing log file: %v", err)
	}
}

// TestMariaDBSnapshotRestoreLogsBinlogPosition: the restored MariaDB server's log names the
// binary log position its data ends at.
func TestMariaDBSnapshotRestoreLogsBinlogPosition(t *testing.T) {
	e := start(t, dataplane.MariaDB)
	db := e.maria(endpoint(e.create("shopdb", "mariadb")), "shop")
	for _, q := range []string{"CREATE TABLE t (v VARCHAR(10))", "INSERT INTO t VALUES ('before')"} {
		if _, err := db.ExecContext(e.ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	var file string
	var pos int64
	var x1, x2, x3 any
	if err := db.QueryRowContext(e.ctx, "SHOW MASTER STATUS").Scan(&file, &pos, &x1, &x2); err != nil {
		if err := db.QueryRowContext(e.ctx, "SHOW MASTER STATUS").Scan(&file, &pos, &x1, &x2, &x3); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.rds.CreateDBSnapshot(e.ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("shopdb"),
		DBSnapshotIdentifier: aws.String("snap")}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(e.ctx, "INSERT INTO t VALUES ('after')"); err != nil {
		t.Fatal(err)
	}
	e.advance(10 * time.Minute)
	if _, err := e.rds.RestoreDBInstanceFromDBSnapshot(e.ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{
		DBInstanceIdentifier: aws.String("shopdb-new"), DBSnapshotIdentifier: aws.String("snap")}); err != nil {
		t.Fatal(err)
	}
	e.advance(30 * time.Minute)
	restored := e.requireStatus("shopdb-new", "available")
	var got string
	if err := e.maria(endpoint(restored), "shop").QueryRowContext(e.ctx, "SELECT GROUP_CONCAT(v) FROM t").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != "before" {
		t.Fatalf("restored rows %q", got)
	}
	log := e.readLog("shopdb-new", "error/mysql-error-running.log", 50)
	if !strings.Contains(log, "Last binlog file ./"+file+", position ") {
		t.Fatalf("restored log lacks the binlog position (source at %s:%d):\n%s", file, pos, log)
	}
}
