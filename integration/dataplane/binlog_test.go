package dataplane_test

import (
	"context"
	"crypto/tls"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/rdsencrypt/rdsencrypt/internal/dataplane"
	"github.com/rdsencrypt/rdsencrypt/internal/replication"
	binlog "github.com/rdsencrypt/rdsencrypt/internal/replication/mysql"
)

// binlogEndpoint is how the binlog package reaches an instance of the data plane: over TLS,
// the server verified with the data plane's CA (docs/data-plane.md#tls).
func binlogEndpoint(inst types.DBInstance) binlog.Endpoint {
	host := aws.ToString(inst.Endpoint.Address)
	return binlog.Endpoint{Host: host, Port: int(aws.ToInt32(inst.Endpoint.Port)),
		User: master, Password: password, TLS: binlog.TLSVerify, TLSConfig: verifiedTLS(host)}
}

// verifiedTLS verifies a data-plane server named host.
func verifiedTLS(host string) *tls.Config {
	return &tls.Config{ServerName: host, RootCAs: dataPlaneCAs(), MinVersion: tls.VersionTLS12}
}

func (e *env) binlogConnByEndpoint(ep replication.Endpoint) *binlog.Conn {
	e.t.Helper()
	c, err := binlog.Open(e.ctx, binlog.Endpoint{Host: ep.Host, Port: int(ep.Port), User: ep.User, Password: ep.Password,
		TLS: binlog.TLSVerify, TLSConfig: verifiedTLS(ep.Host)})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

func (e *env) binlogConn(inst types.DBInstance) *binlog.Conn {
	e.t.Helper()
	c, err := binlog.Open(e.ctx, binlogEndpoint(inst))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

// committer inserts rows one at a time on its own connection and records the id of every
// insert whose COMMIT succeeded; errors (read_only, a killed session) are counted and retried.
type committer struct {
	db     *sql.DB
	mu     sync.Mutex
	ids    []int64
	errors int
	stop   chan struct{}
	done   chan struct{}
}

func startCommitter(ctx context.Context, db *sql.DB) *committer {
	return startPacedCommitter(ctx, db, 0)
}

// startPacedCommitter is startCommitter waiting pace after each commit: a client whose rate a
// single-threaded replica outruns on a loaded machine, so that a catch-up converges.
func startPacedCommitter(ctx context.Context, db *sql.DB, pace time.Duration) *committer {
	c := &committer{db: db, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for {
			select {
			case <-c.stop:
				return
			default:
			}
			res, err := db.ExecContext(ctx, "INSERT INTO shop.orders (note) VALUES ('w')")
			c.mu.Lock()
			if err != nil {
				c.errors++
			} else if id, err := res.LastInsertId(); err == nil {
				c.ids = append(c.ids, id)
			}
			c.mu.Unlock()
			wait := pace
			if err != nil {
				wait = 20 * time.Millisecond
			}
			if wait > 0 {
				select {
				case <-c.stop:
					return
				case <-time.After(wait):
				}
			}
		}
	}()
	return c
}

func (c *committer) halt() []int64 {
	close(c.stop)
	<-c.done
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.ids)
}

func (c *committer) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.ids)
}

// TestBinlogReplicationPieces drives the MySQL/MariaDB engine of the replication strategy
// against two real MariaDB servers behind simulated instances: preconditions (MIXED detected,
// ROW through the parameter group, retention hours, tables without a primary key), the
// replication user, a snapshot taken while a client writes, an encrypted copy and its restore,
// the start position from the restored instance's crash recovery log, attach with the rds_*
// procedures, lag, freeze (read_only through the parameter group, sessions ended with
// rds_kill, binary log stable), drain, verification, detach, replication in reverse, cleanup.
// Every insert the client saw commit on the source is on the target exactly once.
func TestBinlogReplicationPieces(t *testing.T) {
	e := start(t, dataplane.MariaDB)
	if _, err := e.rds.CreateDBParameterGroup(e.ctx, &rds.CreateDBParameterGroupInput{DBParameterGroupName: aws.String("shop-params"),
		DBParameterGroupFamily: aws.String("mariadb10.11"), Description: aws.String("source's group")}); err != nil {
		t.Fatal(err)
	}
	setParam := func(name, value string) {
		t.Helper()
		if _, err := e.rds.ModifyDBParameterGroup(e.ctx, &rds.ModifyDBParameterGroupInput{DBParameterGroupName: aws.String("shop-params"),
			Parameters: []types.Parameter{{ParameterName: aws.String(name), ParameterValue: aws.String(value), ApplyMethod: types.ApplyMethodImmediate}}}); err != nil {
			t.Fatal(err)
		}
	}
	setParam("binlog_format", "MIXED") // RDS for MariaDB's default
	srcInst := e.create("shop", "mariadb", func(in *rds.CreateDBInstanceInput) { in.DBParameterGroupName = aws.String("shop-params") })
	src := e.binlogConn(srcInst)
	app := e.maria(endpoint(srcInst), "shop")
	for _, q := range []string{
		"CREATE TABLE orders (id BIGINT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(20)) ENGINE=InnoDB",
		"CREATE TABLE audit (at DATETIME, what VARCHAR(20)) ENGINE=InnoDB",
		"CREATE TABLE cache (k INT PRIMARY KEY) ENGINE=MyISAM",
		"INSERT INTO audit VALUES (NOW(), 'created')",
	} {
		if _, err := app.ExecContext(e.ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	// TLS is verified by default: with the system's roots, which do not hold the data
	// plane's CA (nor RDS's), the connection is refused (review R13).
	systemRoots := binlogEndpoint(srcInst)
	systemRoots.TLS, systemRoots.TLSConfig = "", nil
	if c, err := binlog.Open(e.ctx, systemRoots); err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
		if c != nil {
			c.Close()
		}
		t.Fatalf("a connection verified with the system's roots: %v", err)
	}

	checks, err := src.Check(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !checks.BinaryLog || !checks.MariaDB || !checks.GTID || checks.BinlogFormat != "MIXED" {
		t.Fatalf("checks %+v", checks)
	}
	if !slices.Equal(checks.NoPrimaryKey, []string{"shop.audit"}) || len(checks.NotTransactional) != 1 || !strings.HasPrefix(checks.NotTransactional[0], "shop.cache") {
		t.Fatalf("tables without a primary key %v, not on InnoDB %v", checks.NoPrimaryKey, checks.NotTransactional)
	}
	problems := checks.Problems(3)
	var what []string
	for _, p := range problems {
		what = append(what, p.What)
	}
	joined := strings.Join(what, "\n")
	for _, want := range []string{"binlog_format is MIXED", "binlog retention hours NULL", "without a primary key: shop.audit", "not on InnoDB: shop.cache"} {
		if !strings.Contains(joined, want) {
			t.Fatalf("problems lack %q:\n%s", want, joined)
		}
	}
	// The fixes the plan proposes, applied as approved.
	setParam("binlog_format", "ROW")
	if err := src.SetRetentionHours(e.ctx, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := app.ExecContext(e.ctx, "DROP TABLE cache"); err != nil {
		t.Fatal(err)
	}
	app.SetConnMaxLifetime(time.Nanosecond) // new sessions see the global binlog_format
	if checks, err = src.Check(e.ctx); err != nil {
		t.Fatal(err)
	}
	if p := checks.Problems(3); checks.BinlogFormat != "ROW" || checks.RetentionHours != 3 || len(p) != 1 {
		t.Fatalf("after the fixes: format %s, retention %d, problems %+v", checks.BinlogFormat, checks.RetentionHours, p)
	}
	if err := src.SetRetentionHours(e.ctx, 5000); err == nil {
		t.Fatal("a retention above RDS's 2160 hours was accepted")
	}

	user, pw := replication.NamesFor("mig-20261206-shop").User, binlog.NewPassword()
	if err := src.EnsureUser(e.ctx, user, pw, false); err != nil {
		t.Fatal(err)
	}
	if err := src.EnsureUser(e.ctx, user, pw, false); err != nil {
		t.Fatalf("ensuring the user again: %v", err)
	}

	// A client writes for the rest of the test, through the source's endpoint.
	writerDB := e.maria(endpoint(srcInst), "shop")
	w := startCommitter(e.ctx, writerDB)
	e.eventually("the client commits", func() bool { return w.count() > 20 })
	if _, err := e.rds.CreateDBSnapshot(e.ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("shop"),
		DBSnapshotIdentifier: aws.String("shop-snap")}); err != nil {
		t.Fatal(err)
	}
	e.advance(10 * time.Minute)
	key, err := e.h.KMS(region).CreateKey(e.ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.rds.CopyDBSnapshot(e.ctx, &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: aws.String("shop-snap"),
		TargetDBSnapshotIdentifier: aws.String("shop-snap-enc"), KmsKeyId: key.KeyMetadata.Arn}); err != nil {
		t.Fatal(err)
	}
	e.advance(30 * time.Minute)
	if _, err := e.rds.RestoreDBInstanceFromDBSnapshot(e.ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{
		DBInstanceIdentifier: aws.String("shop-new"), DBSnapshotIdentifier: aws.String("shop-snap-enc")}); err != nil {
		t.Fatal(err)
	}
	e.advance(30 * time.Minute)
	dstInst := e.requireStatus("shop-new", "available")
	dst := e.binlogConn(dstInst)

	start, err := binlog.RecoveryPosition(e.readLog("shop-new", "error/mysql-error-running.log", 1000))
	if err != nil {
		t.Fatal(err)
	}
	end, err := src.MasterStatus(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !start.Before(end) {
		t.Fatalf("start position %s is not before the source's end %s although the client kept writing", start, end)
	}
	if err := dst.Attach(e.ctx, binlog.Source{Host: aws.ToString(srcInst.Endpoint.Address), Port: int(aws.ToInt32(srcInst.Endpoint.Port)),
		User: user, Password: pw}, start); err != nil {
		t.Fatal(err)
	}
	e.eventually("replication runs and catches up to the source's position at attach", func() bool {
		lag, st, err := binlog.LagOf(e.ctx, src, dst)
		if err != nil {
			t.Fatal(err)
		}
		if msg := st.Broken(); msg != "" {
			t.Fatal(msg)
		}
		return st.Running() && !st.Executed.Before(end) && lag.Seconds >= 0
	})

	// Freeze: read_only through the source's parameter group, then end the sessions.
	setParam("read_only", "1")
	if ro, err := src.ReadOnly(e.ctx); err != nil || !ro {
		t.Fatalf("read_only %v %v", ro, err)
	}
	sessions, err := src.Sessions(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(sessions) == 0 {
		t.Fatal("no application session listed although the client and the test are connected")
	}
	for _, s := range sessions {
		if s.User != master {
			t.Fatalf("a service session is listed to end: %+v", s)
		}
	}
	if _, err := src.EndSessions(e.ctx, sessions); err != nil {
		t.Fatal(err)
	}
	frozenAt := w.count()
	waitCtx, cancel := context.WithTimeout(e.ctx, time.Minute)
	stable, err := src.StablePosition(waitCtx, 500*time.Millisecond, 50*time.Millisecond)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := dst.WaitApplied(e.ctx, stable, 50*time.Millisecond, binlog.Reconnect{}); err != nil {
		t.Fatal(err)
	}
	ids := w.halt()
	if len(ids) != frozenAt {
		t.Fatalf("%d commits after the freeze", len(ids)-frozenAt)
	}
	srcSums, err := src.Sums(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	dstSums, err := dst.Sums(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v := binlog.Compare(srcSums, dstSums); !v.OK() || v.Tables != 2 {
		t.Fatalf("verification: %+v", v)
	}
	// Every commit the client saw is on the target exactly once.
	target := e.maria(endpoint(dstInst), "shop")
	var rows, distinct, seen int
	if err := target.QueryRowContext(e.ctx, "SELECT COUNT(*), COUNT(DISTINCT id) FROM orders").Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		var n int
		if err := target.QueryRowContext(e.ctx, "SELECT COUNT(*) FROM orders WHERE id = ?", id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Fatalf("committed id %d is %d times on the target", id, n)
		}
		seen++
	}
	if rows != len(ids) || distinct != rows {
		t.Fatalf("target has %d rows (%d distinct), the client committed %d", rows, distinct, len(ids))
	}

	// Detach, then replicate in reverse (new -> old): the old instance stays read_only, which
	// binds its clients but not its replication thread.
	if err := dst.Detach(e.ctx); err != nil {
		t.Fatal(err)
	}
	if st, err := dst.ReplicaStatus(e.ctx); err != nil || st.Configured {
		t.Fatalf("after detach: %+v %v", st, err)
	}
	if err := dst.EnsureUser(e.ctx, user, pw, false); err != nil {
		t.Fatal(err)
	}
	back, err := dst.MasterStatus(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Attach(e.ctx, binlog.Source{Host: aws.ToString(dstInst.Endpoint.Address), Port: int(aws.ToInt32(dstInst.Endpoint.Port)),
		User: user, Password: pw}, back); err != nil {
		t.Fatal(err)
	}
	res, err := target.ExecContext(e.ctx, "INSERT INTO orders (note) VALUES ('after cutover')")
	if err != nil {
		t.Fatal(err)
	}
	newID, _ := res.LastInsertId()
	after, err := dst.MasterStatus(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := src.WaitApplied(e.ctx, after, 50*time.Millisecond, binlog.Reconnect{}); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := e.maria(endpoint(srcInst), "shop").QueryRowContext(e.ctx, "SELECT COUNT(*) FROM orders WHERE id = ?", newID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("the write on the new instance is %d times on the old one (%v)", n, err)
	}

	// Cleanup: replication stopped and forgotten on both, the users dropped on both (the old
	// instance's freeze lifted first: read_only refuses DROP USER to the master user too).
	setParam("read_only", "0")
	for _, c := range []*binlog.Conn{src, dst} {
		if err := c.Detach(e.ctx); err != nil {
			t.Fatal(err)
		}
		if err := c.DropUser(e.ctx, user); err != nil {
			t.Fatal(err)
		}
		if users, err := c.Users(e.ctx); err != nil || len(users) != 0 {
			t.Fatalf("replication users left on %s: %v %v", c.Addr(), users, err)
		}
	}
	if err := src.RestoreRetentionHours(e.ctx, 0); err != nil {
		t.Fatal(err)
	}
	t.Logf("start %s, source end at attach %s, stable at freeze %s, %d commits, %d rows verified in %d tables", start, end, stable, len(ids), seen, 2)
}

// restoreEncrypted snapshots id, copies the snapshot with a KMS key and restores the copy as
// newID, the way a migration makes its target.
func (e *env) restoreEncrypted(id, newID string) types.DBInstance {
	e.t.Helper()
	if _, err := e.rds.CreateDBSnapshot(e.ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String(id),
		DBSnapshotIdentifier: aws.String(id + "-snap")}); err != nil {
		e.t.Fatal(err)
	}
	e.advance(10 * time.Minute)
	key, err := e.h.KMS(region).CreateKey(e.ctx, &kms.CreateKeyInput{})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.rds.CopyDBSnapshot(e.ctx, &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: aws.String(id + "-snap"),
		TargetDBSnapshotIdentifier: aws.String(id + "-snap-enc"), KmsKeyId: key.KeyMetadata.Arn}); err != nil {
		e.t.Fatal(err)
	}
	e.advance(30 * time.Minute)
	if _, err := e.rds.RestoreDBInstanceFromDBSnapshot(e.ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{
		DBInstanceIdentifier: aws.String(newID), DBSnapshotIdentifier: aws.String(id + "-snap-enc")}); err != nil {
		e.t.Fatal(err)
	}
	e.advance(30 * time.Minute)
	return e.requireStatus(newID, "available")
}

func mariaReplEndpoint(inst types.DBInstance) replication.Endpoint {
	return replication.Endpoint{Host: aws.ToString(inst.Endpoint.Address), Port: aws.ToInt32(inst.Endpoint.Port),
		User: master, Password: password, TLS: "require", RootCAs: dataPlaneCAs()}
}

// TestMySQLEngineVerbs runs the mysql engine through replication.Engine and
// replication.Reverser, as the workflow calls it, while a client writes to the source: every
// verb, the repeated calls a resumed run makes, Freeze refusing a source that still takes
// writes, and the leftovers before and after cleanup.
func TestMySQLEngineVerbs(t *testing.T) {
	e := start(t, dataplane.MariaDB)
	if _, err := e.rds.CreateDBParameterGroup(e.ctx, &rds.CreateDBParameterGroupInput{DBParameterGroupName: aws.String("shop-params"),
		DBParameterGroupFamily: aws.String("mariadb10.11"), Description: aws.String("source's group")}); err != nil {
		t.Fatal(err)
	}
	setParam := func(name, value string) {
		t.Helper()
		if _, err := e.rds.ModifyDBParameterGroup(e.ctx, &rds.ModifyDBParameterGroupInput{DBParameterGroupName: aws.String("shop-params"),
			Parameters: []types.Parameter{{ParameterName: aws.String(name), ParameterValue: aws.String(value), ApplyMethod: types.ApplyMethodImmediate}}}); err != nil {
			t.Fatal(err)
		}
	}
	setParam("binlog_format", "ROW")
	srcInst := e.create("shop", "mariadb", func(in *rds.CreateDBInstanceInput) { in.DBParameterGroupName = aws.String("shop-params") })
	if _, err := e.maria(endpoint(srcInst), "shop").ExecContext(e.ctx, "CREATE TABLE orders (id BIGINT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(20)) ENGINE=InnoDB"); err != nil {
		t.Fatal(err)
	}
	// Tables the client does not write, for the verification ahead of the freeze: cold stays
	// as it is, warm and emptied are written once after their comparison ahead.
	for _, q := range []string{"CREATE TABLE cold (id INT PRIMARY KEY) ENGINE=InnoDB", "INSERT INTO cold VALUES (1)",
		"CREATE TABLE warm (id INT PRIMARY KEY) ENGINE=InnoDB", "INSERT INTO warm VALUES (1)",
		"CREATE TABLE emptied (id INT PRIMARY KEY) ENGINE=InnoDB", "INSERT INTO emptied VALUES (1)"} {
		if _, err := e.maria(endpoint(srcInst), "shop").ExecContext(e.ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	eng := binlog.New().(*binlog.Engine)
	eng.Quiet = 300 * time.Millisecond
	src, names := mariaReplEndpoint(srcInst), replication.NamesFor("mig-verbs")

	blockers := func() []string {
		t.Helper()
		fs, err := eng.Preconditions(e.ctx, src)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range fs {
			if f.Severity == replication.Blocker {
				out = append(out, f.What)
			}
		}
		return out
	}
	if b := blockers(); len(b) != 0 {
		t.Fatalf("blockers before PrepareSource: %q", b)
	}
	if fs, err := eng.Preconditions(e.ctx, src); err != nil || !slices.ContainsFunc(fs, func(f replication.Finding) bool {
		return strings.Contains(f.What, "binlog retention hours NULL") && strings.Contains(f.Do, "rdsencrypt sets it to 24 h")
	}) {
		t.Fatalf("findings before PrepareSource: %+v %v", fs, err)
	}
	for range 2 { // a resumed run prepares again
		if _, err := eng.PrepareSource(e.ctx, src, names); err != nil {
			t.Fatal(err)
		}
	}
	if hours, err := e.binlogConnByEndpoint(src).RetentionHours(e.ctx); err != nil || hours != 24 {
		t.Fatalf("retention after PrepareSource: %d %v", hours, err)
	}

	w := startCommitter(e.ctx, e.maria(endpoint(srcInst), "shop"))
	e.eventually("the client commits", func() bool { return w.count() > 20 })
	dstInst := e.restoreEncrypted("shop", "shop-new")
	dst := mariaReplEndpoint(dstInst)
	files, err := e.rds.DescribeDBLogFiles(e.ctx, &rds.DescribeDBLogFilesInput{DBInstanceIdentifier: aws.String("shop-new"),
		FilenameContains: aws.String(eng.RecoveryLog())})
	if err != nil || len(files.DescribeDBLogFiles) != 1 {
		t.Fatalf("recovery log files %v %v", files, err)
	}
	startPos, ok, err := eng.StartPosition(e.readLog("shop-new", aws.ToString(files.DescribeDBLogFiles[0].LogFileName), 1000))
	if err != nil || !ok {
		t.Fatalf("start position %q %v %v", startPos, ok, err)
	}
	if _, ok, _ := eng.StartPosition("2026-12-06 InnoDB: Starting crash recovery\n"); ok {
		t.Fatal("a start position read from a log without one")
	}
	begin, err := binlog.ParsePosition(startPos)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second Attach finds replication running and leaves it
		if err := eng.Attach(e.ctx, src, dst, names, startPos); err != nil {
			t.Fatal(err)
		}
	}
	e.eventually("the target applies the stream", func() bool {
		l, err := eng.Lag(e.ctx, src, dst, names)
		if err != nil {
			t.Fatal(err)
		}
		applied, err := binlog.ParsePosition(l.Applied)
		return err == nil && begin.Before(applied) && l.Bytes >= 0
	})

	// A client's write in flight on the target (logged to its binary log before it commits):
	// the target gives no marker, so nothing is verified ahead for now.
	tx, err := e.maria(endpoint(dstInst), "shop").BeginTx(e.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(e.ctx, "INSERT INTO cold VALUES (3)"); err != nil {
		t.Fatal(err)
	}
	inFlight, err := eng.VerifyAhead(e.ctx, src, dst, names)
	if rb := tx.Rollback(); err != nil || rb != nil || slices.ContainsFunc(inFlight.Tables, func(c replication.TableCheck) bool { return c.TargetMarker != "" }) {
		t.Fatalf("verification ahead, a write in flight on the target: %+v %v %v", inFlight, err, rb)
	}

	// Verification ahead of the freeze, the client writing orders: cold is verified with its
	// marker, orders (written during every try) is left to the freeze.
	ahead, err := eng.VerifyAhead(e.ctx, src, dst, names)
	if err != nil {
		t.Fatal(err)
	}
	marked := map[string]bool{}
	for _, c := range ahead.Tables {
		marked[c.Table] = c.Marker != ""
	}
	if !marked["`shop`.`cold`"] || !marked["`shop`.`warm`"] || !marked["`shop`.`emptied`"] || marked["`shop`.`orders`"] {
		t.Fatalf("verification ahead: %+v", ahead.Tables)
	}
	// A row event (Table_map) names warm, a Query event (TRUNCATE) names emptied; the
	// source's binary log moves to a new file between the two (the reading goes on there).
	for _, q := range []string{"UPDATE warm SET id = 2", "FLUSH BINARY LOGS", "TRUNCATE TABLE emptied"} {
		if _, err := e.maria(endpoint(srcInst), "shop").ExecContext(e.ctx, q); err != nil {
			t.Fatal(err)
		}
	}

	if _, err := eng.Freeze(e.ctx, src, names); !errors.Is(err, binlog.ErrNotReadOnly) {
		t.Fatalf("Freeze of a source that takes writes: %v", err)
	}
	setParam("read_only", "1")
	frozen, err := eng.Freeze(e.ctx, src, names)
	if err != nil {
		t.Fatal(err)
	}
	if frozen.SessionsEnded < 1 {
		t.Fatalf("frozen %+v: the client's session was not ended", frozen)
	}
	atFreeze := w.count()
	if _, err := eng.Drain(e.ctx, src, dst, names, frozen.Position); err != nil {
		t.Fatal(err)
	}
	ids := w.halt()
	if len(ids) != atFreeze {
		t.Fatalf("%d commits after the freeze", len(ids)-atFreeze)
	}
	v, err := eng.Verify(e.ctx, src, dst)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Tables) != 4 || len(v.Differences()) != 0 || v.Rows() != int64(len(ids))+2 {
		t.Fatalf("verification %+v, %d commits", v, len(ids))
	}
	// Inside the freeze cold is not compared again: no event of the source's binary log since
	// its comparison ahead names it, and the target logged none of its own (review S18);
	// orders, warm and emptied are.
	// Advance (right before the freeze in the workflow; here on an engine that has read
	// nothing yet) reads both logs up to now: its verification inside the freeze reads none of
	// what eng, which did not advance, reads there.
	advanced := binlog.New().(*binlog.Engine)
	if err := advanced.Advance(e.ctx, src, dst, ahead.Tables); err != nil {
		t.Fatal(err)
	}
	if v, err := advanced.VerifyChanged(e.ctx, src, dst, ahead.Tables); err != nil || v.Ahead() != 1 || !strings.HasPrefix(v.Note, "read 0 binary log events") {
		t.Fatalf("verification inside the freeze after Advance: %+v %v", v, err)
	}
	changed, err := eng.VerifyChanged(e.ctx, src, dst, ahead.Tables)
	if err == nil && strings.HasPrefix(changed.Note, "read 0 ") {
		t.Fatalf("verification inside the freeze without Advance: %s", changed.Note)
	}
	if err != nil || len(changed.Tables) != 4 || changed.Ahead() != 1 || len(changed.Differences()) != 0 || changed.Warning != "" {
		t.Fatalf("verification inside the freeze: %+v %v", changed, err)
	}
	for _, c := range changed.Tables {
		if c.Ahead != (c.Table == "`shop`.`cold`") {
			t.Fatalf("verification inside the freeze: %+v", changed.Tables)
		}
	}
	// A marker in a binary log file no longer on the source (purged): nothing can be known
	// of cold, which is compared, with a warning.
	var srcID int64
	if err := e.maria(endpoint(srcInst), "shop").QueryRowContext(e.ctx, "SELECT @@server_id").Scan(&srcID); err != nil {
		t.Fatal(err)
	}
	purged := slices.Clone(ahead.Tables)
	for i := range purged {
		if purged[i].Table == "`shop`.`cold`" {
			purged[i].Marker = fmt.Sprintf("binlog:%d:mysql-bin-changelog.000000:4", srcID)
		}
	}
	if v, err := eng.VerifyChanged(e.ctx, src, dst, purged); err != nil || v.Ahead() != 0 || !strings.Contains(v.Warning, "no longer on the server") {
		t.Fatalf("verification inside the freeze, the marker's file purged: %+v %v", v, err)
	}
	// A row written on the target outside the stream, in cold, which the source did not
	// write: the target's own binary log names it, so cold is compared and differs.
	if _, err := e.maria(endpoint(dstInst), "shop").ExecContext(e.ctx, "INSERT INTO cold VALUES (2)"); err != nil {
		t.Fatal(err)
	}
	if v, err := eng.Verify(e.ctx, src, dst); err != nil || len(v.Differences()) != 1 {
		t.Fatalf("verification after a stray row: %+v %v", v, err)
	}
	if v, err := eng.VerifyChanged(e.ctx, src, dst, ahead.Tables); err != nil || len(v.Differences()) != 1 || v.Differences()[0].Table != "`shop`.`cold`" {
		t.Fatalf("verification inside the freeze after a stray row: %+v %v", v, err)
	}
	if _, err := e.maria(endpoint(dstInst), "shop").ExecContext(e.ctx, "DELETE FROM cold WHERE id = 2"); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := eng.Detach(e.ctx, dst, names); err != nil {
			t.Fatal(err)
		}
	}

	// Reverse: new -> old.
	back, err := replication.Reverser(eng).PrepareReverse(e.ctx, dst, names)
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.AttachReverse(e.ctx, dst, src, names, back); err != nil {
		t.Fatal(err)
	}
	res, err := e.maria(endpoint(dstInst), "shop").ExecContext(e.ctx, "INSERT INTO orders (note) VALUES ('on the new')")
	if err != nil {
		t.Fatal(err)
	}
	newID, _ := res.LastInsertId()
	e.eventually("the write on the new instance reaches the old one", func() bool {
		l, err := eng.Lag(e.ctx, dst, src, names)
		if err != nil {
			t.Fatal(err)
		}
		return l.Caught
	})
	var n int
	if err := e.maria(endpoint(srcInst), "shop").QueryRowContext(e.ctx, "SELECT COUNT(*) FROM orders WHERE id = ?", newID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("the new instance's write is %d times on the old one (%v)", n, err)
	}

	// Cleanup: the old source is still read_only, so its user stays and is reported.
	if err := eng.Cleanup(e.ctx, src, names); err != nil {
		t.Fatalf("cleanup of a read_only old source: %v", err)
	}
	left, err := eng.Leftovers(e.ctx, src)
	if err != nil || len(left) != 1 || left[0].Object != "user "+names.User {
		t.Fatalf("leftovers on the old source: %q %v", left, err)
	}
	setParam("read_only", "0")
	if err := eng.Unfreeze(e.ctx, src, nil); err != nil {
		t.Fatal(err)
	}
	for _, ep := range []replication.Endpoint{dst, src} {
		for range 2 {
			if err := eng.Cleanup(e.ctx, ep, names); err != nil {
				t.Fatal(err)
			}
		}
		if left, err := eng.Leftovers(e.ctx, ep); err != nil || len(left) != 0 {
			t.Fatalf("leftovers on %s after cleanup: %q %v", ep, left, err)
		}
	}
}
