package dataplane_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/jackc/pgx/v5"

	"github.com/rdsencrypt/rdsencrypt/internal/dataplane"
	"github.com/rdsencrypt/rdsencrypt/internal/replication"
	"github.com/rdsencrypt/rdsencrypt/internal/replication/postgres"
)

func pgEndpoint(inst types.DBInstance) replication.Endpoint {
	return replication.Endpoint{Host: aws.ToString(inst.Endpoint.Address), Port: aws.ToInt32(inst.Endpoint.Port),
		Database: "shop", User: master, Password: password, TLS: "require", RootCAs: dataPlaneCAs()}
}

// logicalGroup creates a parameter group with rds.logical_replication on.
func (e *env) logicalGroup(name string) {
	e.t.Helper()
	e.paramGroup(name, "logical replication", "rds.logical_replication", "1", types.ApplyMethodPendingReboot)
}

// paramGroup creates a postgres16 DB parameter group with one parameter set.
func (e *env) paramGroup(name, description, parameter, value string, method types.ApplyMethod) {
	e.t.Helper()
	if _, err := e.rds.CreateDBParameterGroup(e.ctx, &rds.CreateDBParameterGroupInput{DBParameterGroupName: aws.String(name),
		DBParameterGroupFamily: aws.String("postgres16"), Description: aws.String(description)}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.rds.ModifyDBParameterGroup(e.ctx, &rds.ModifyDBParameterGroupInput{DBParameterGroupName: aws.String(name),
		Parameters: []types.Parameter{{ParameterName: aws.String(parameter), ParameterValue: aws.String(value), ApplyMethod: method}}}); err != nil {
		e.t.Fatal(err)
	}
}

// advanceUntil moves the virtual clock in steps until cond holds, and returns the virtual
// time it took: what the step costs on the AWS clock.
func (e *env) advanceUntil(what string, step time.Duration, cond func() bool) time.Duration {
	e.t.Helper()
	var took time.Duration
	for !cond() {
		if took > 6*time.Hour {
			e.t.Fatalf("%s: not within 6 h of virtual time", what)
		}
		e.advance(step)
		took += step
	}
	return took
}

// snapshotCopyRestore makes the encrypted copy of src as dst, as the tool's steps do, and
// returns the virtual time it took.
func (e *env) snapshotCopyRestore(src, dst, suffix string) time.Duration {
	e.t.Helper()
	var took time.Duration
	snap, enc := src+"-snap-"+suffix, src+"-enc-"+suffix
	if _, err := e.rds.CreateDBSnapshot(e.ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String(src), DBSnapshotIdentifier: aws.String(snap)}); err != nil {
		e.t.Fatal(err)
	}
	snapStatus := func(id string) func() bool {
		return func() bool {
			out, err := e.rds.DescribeDBSnapshots(e.ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String(id)})
			return err == nil && aws.ToString(out.DBSnapshots[0].Status) == "available"
		}
	}
	took += e.advanceUntil("snapshot", time.Minute, snapStatus(snap))
	key, err := e.h.KMS(region).CreateKey(e.ctx, &kms.CreateKeyInput{})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.rds.CopyDBSnapshot(e.ctx, &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: aws.String(snap),
		TargetDBSnapshotIdentifier: aws.String(enc), KmsKeyId: key.KeyMetadata.Arn}); err != nil {
		e.t.Fatal(err)
	}
	took += e.advanceUntil("copy", time.Minute, snapStatus(enc))
	if _, err := e.rds.RestoreDBInstanceFromDBSnapshot(e.ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{
		DBInstanceIdentifier: aws.String(dst), DBSnapshotIdentifier: aws.String(enc), BackupRetentionPeriod: aws.Int32(0),
		DBParameterGroupName: aws.String("logical")}); err != nil {
		e.t.Fatal(err)
	}
	took += e.advanceUntil("restore", time.Minute, func() bool { return e.status(dst) == "available" })
	return took
}

// swapNames renames src away and dst into src's name (the tool's cutover pair) and returns
// the virtual time until the name answers again.
func (e *env) swapNames(src, dst, retired string) time.Duration {
	e.t.Helper()
	if _, err := e.rds.ModifyDBInstance(e.ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String(src),
		NewDBInstanceIdentifier: aws.String(retired), ApplyImmediately: aws.Bool(true)}); err != nil {
		e.t.Fatal(err)
	}
	took := e.advanceUntil("the name is free", 10*time.Second, func() bool {
		_, err := e.rds.ModifyDBInstance(e.ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String(dst),
			NewDBInstanceIdentifier: aws.String(src), ApplyImmediately: aws.Bool(true)})
		return err == nil
	})
	took += e.advanceUntil("the new instance answers at the name", 10*time.Second, func() bool {
		out, err := e.rds.DescribeDBInstances(e.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(src)})
		return err == nil && aws.ToString(out.DBInstances[0].DBInstanceStatus) == "available"
	})
	return took
}

// pgStreamed prepares the PostgreSQL source src for migration n, restores its encrypted copy as
// target from a snapshot taken after that, and attaches the stream to it from where the
// restore's recovery ended: what the route does before its catch-up, the start the engine
// tests share. It returns the target's endpoint.
func (e *env) pgStreamed(eng replication.Engine, src replication.Endpoint, n replication.Names, source, target string) replication.Endpoint {
	e.t.Helper()
	if _, err := eng.PrepareSource(e.ctx, src, n); err != nil {
		e.t.Fatal(err)
	}
	e.snapshotCopyRestore(source, target, "r")
	dst := pgEndpoint(e.describe(target))
	if err := eng.Attach(e.ctx, src, dst, n, e.startPosition(eng, target)); err != nil {
		e.t.Fatal(err)
	}
	return dst
}

// pgFreezeAndVerify runs what the freeze step and the verification inside it run after the
// verification ahead: Advance, Freeze, Drain to the frozen position, VerifyChanged.
func (e *env) pgFreezeAndVerify(eng *postgres.Engine, src, dst replication.Endpoint, n replication.Names, ahead []replication.TableCheck) replication.Verification {
	e.t.Helper()
	if err := eng.Advance(e.ctx, src, dst, ahead); err != nil {
		e.t.Fatal(err)
	}
	frozen, err := eng.Freeze(e.ctx, src, n)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := eng.Drain(e.ctx, src, dst, n, frozen.Position); err != nil {
		e.t.Fatal(err)
	}
	v, err := eng.VerifyChanged(e.ctx, src, dst, ahead)
	if err != nil {
		e.t.Fatal(err)
	}
	return v
}

// pgDrain drains the stream up to the source's WAL position now.
func (e *env) pgDrain(eng replication.Engine, sc *pgx.Conn, src, dst replication.Endpoint, n replication.Names) {
	e.t.Helper()
	if _, err := eng.Drain(e.ctx, src, dst, n, e.rows(sc, "SELECT pg_current_wal_lsn()::text")); err != nil {
		e.t.Fatal(err)
	}
}

// startPosition reads the restored instance's recovery end from its log, as the tool does.
func (e *env) startPosition(eng replication.Engine, id string) string {
	e.t.Helper()
	files, err := e.rds.DescribeDBLogFiles(e.ctx, &rds.DescribeDBLogFilesInput{DBInstanceIdentifier: aws.String(id),
		FilenameContains: aws.String(eng.RecoveryLog())})
	if err != nil {
		e.t.Fatal(err)
	}
	names := []string{}
	for _, f := range files.DescribeDBLogFiles {
		names = append(names, aws.ToString(f.LogFileName))
	}
	sort.Strings(names) // oldest first: the restore's recovery is the first
	for _, n := range names {
		pos, ok, err := eng.StartPosition(e.readLog(id, n, 1000))
		if err != nil {
			e.t.Fatal(err)
		}
		if ok {
			return pos
		}
	}
	e.t.Fatalf("no recovery end in the logs %v of %s", names, id)
	return ""
}

// TestPostgresReplicationLosesNoCommit is the replication strategy's mechanism on real
// servers, with pgbench writing through the instance's endpoint all along: the slot and
// publication before the snapshot, the encrypted copy, the subscription started at the
// restored instance's recovery end, catch-up, the SQL freeze, drain, verification,
// sequences, the rename pair. Every transaction pgbench saw commit is on the final instance
// exactly once. The same database is then migrated again with the snapshot strategy (freeze
// first) for the comparison of write downtime.
func TestPostgresReplicationLosesNoCommit(t *testing.T) {
	e := start(t, dataplane.Postgres)
	e.logicalGroup("logical")
	inst := e.create("orders", "postgres", func(in *rds.CreateDBInstanceInput) {
		in.DBParameterGroupName, in.BackupRetentionPeriod = aws.String("logical"), aws.Int32(0)
	})
	host, port := aws.ToString(inst.Endpoint.Address), int(aws.ToInt32(inst.Endpoint.Port))
	e.pgbenchInit(host, port, 1)
	// A partitioned table, which pgbench does not write (review U2: TRUNCATE of a partition
	// sends no message through a publication that publishes via the root).
	pc := e.mustPG(endpoint(inst))
	for _, q := range []string{"CREATE TABLE parts (id int PRIMARY KEY, v int) PARTITION BY RANGE (id)",
		"CREATE TABLE parts_low PARTITION OF parts FOR VALUES FROM (0) TO (100)",
		"CREATE TABLE parts_high PARTITION OF parts FOR VALUES FROM (100) TO (200)",
		"INSERT INTO parts SELECT g, g FROM generate_series(0, 199) g"} {
		e.exec(pc, q)
	}
	pc.Close(e.ctx)
	w := startPgbench(t, host, port, 2)
	src := pgEndpoint(inst)
	eng := &postgres.Engine{}
	n := replication.NamesFor("mig00001")
	ctx := e.ctx

	findings, err := eng.Preconditions(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range findings {
		if f.Severity == replication.Blocker {
			t.Fatalf("blocker: %s", f.What)
		}
	}
	if !hasFinding(findings, "sequence") {
		t.Errorf("findings %v do not mention the ledger's sequence", findings)
	}
	checkHostName(t, e, eng, src)
	e.eventually("pgbench commits", func() bool { return len(w.Commits()) > 20 })
	if _, err := eng.PrepareSource(ctx, src, n); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.PrepareSource(ctx, src, n); err != nil { // idempotent
		t.Fatalf("prepare again: %v", err)
	}
	e.snapshotCopyRestore("orders", "orders-new", "r")
	dst := pgEndpoint(e.describe("orders-new"))
	startPos := e.startPosition(eng, "orders-new")
	if err := eng.Attach(ctx, src, dst, n, startPos); err != nil {
		t.Fatal(err)
	}
	if err := eng.Attach(ctx, src, dst, n, startPos); err != nil { // idempotent
		t.Fatalf("attach again: %v", err)
	}
	before := len(w.Commits())
	e.eventually("pgbench keeps committing during catch-up", func() bool { return len(w.Commits()) > before+20 })
	var lag replication.Lag
	e.eventually("the subscriber is connected", func() bool {
		lag, err = eng.Lag(ctx, src, dst, n)
		if err != nil {
			t.Fatal(err)
		}
		return lag.Broken == ""
	})
	t.Logf("lag during catch-up: %d bytes (source %s, applied %s)", lag.Bytes, lag.Source, lag.Applied)
	// The subscription reaches the source over TLS and verifies it (verify-full against the
	// target's ssl_cert_file chain): the walsender's session on the source is encrypted.
	srcConn := e.mustPG(endpoint(inst))
	if got := e.rows(srcConn, `SELECT string_agg(s.ssl::text, ',') FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid)
		WHERE r.application_name = '`+n.Subscription+`'`); got != "true" {
		t.Fatalf("the subscription's session on the source: ssl=%q, want true", got)
	}
	dc := e.mustPG(endpoint(e.describe("orders-new")))
	if got := e.rows(dc, `SELECT (subconninfo LIKE '%sslmode=verify-full sslrootcert=%')::text FROM pg_subscription WHERE subname = '`+n.Subscription+`'`); got != "true" {
		t.Fatalf("the subscription verifies the source: %q", got)
	}
	dc.Close(ctx) // a client session left open on the target makes every table compared inside the freeze

	// Verification ahead of the freeze, pgbench writing pgbench_accounts, pgbench_history and
	// ledger: every table with a key is verified ahead from the keys decoded from the target's
	// verify slot (the source has none); pgbench_history has no key and is written, so the
	// freeze compares it in full.
	ahead, err := eng.VerifyAhead(ctx, src, dst, n)
	if err != nil {
		t.Fatal(err)
	}
	marked := map[string]bool{}
	for _, c := range ahead.Tables {
		marked[c.Table] = strings.HasPrefix(c.Marker, "keys:") && strings.HasPrefix(c.TargetMarker, "keys:")
	}
	if !marked[`"public"."pgbench_accounts"`] || !marked[`"public"."ledger"`] || !marked[`"public"."pgbench_branches"`] ||
		!marked[`"public"."pgbench_tellers"`] || !marked[`"public"."parts"`] || marked[`"public"."pgbench_history"`] {
		t.Fatalf("tables verified ahead from keys: %+v", ahead.Tables)
	}
	// Right before the freeze the workflow consumes the slots (Advance): the freeze decodes only
	// what was written since. A table pgbench does not write (pgbench_branches) is written once
	// on the source after that.
	if err := eng.Advance(ctx, src, dst, ahead.Tables); err != nil {
		t.Fatal(err)
	}
	sc := e.mustPG(endpoint(e.describe("orders")))
	e.exec(sc, "UPDATE pgbench_branches SET filler = 'after the verification ahead' WHERE bid = 1")

	freezeAt := time.Now()
	frozen, err := eng.Freeze(ctx, src, n)
	if err != nil {
		t.Fatal(err)
	}
	drained, err := eng.Drain(ctx, src, dst, n, frozen.Position)
	if err != nil {
		t.Fatal(err)
	}
	drainTook := time.Since(freezeAt)
	v, err := eng.Verify(ctx, src, dst)
	if err != nil {
		t.Fatal(err)
	}
	if d := v.Differences(); len(d) > 0 || len(v.Tables) < 5 {
		t.Fatalf("verification: %d tables, differences %+v", len(v.Tables), d)
	}
	// Inside the freeze, for each table verified ahead, only the rows of the keys changed since
	// the slots' starts are compared: pgbench_tellers (not written) stands as it was, the others
	// by their changed keys; pgbench_history is compared in full.
	byTable := func(v replication.Verification) map[string]replication.TableCheck {
		out := map[string]replication.TableCheck{}
		for _, c := range v.Tables {
			out[c.Table] = c
		}
		return out
	}
	changed, err := eng.VerifyChanged(ctx, src, dst, ahead.Tables)
	if err != nil {
		t.Fatal(err)
	}
	got := byTable(changed)
	if d := changed.Differences(); len(d) > 0 || len(changed.Tables) != len(v.Tables) ||
		!got[`"public"."pgbench_tellers"`].Ahead || got[`"public"."pgbench_tellers"`].KeysCompared != 0 ||
		!got[`"public"."pgbench_branches"`].Ahead || got[`"public"."pgbench_branches"`].KeysCompared != 1 ||
		!got[`"public"."pgbench_accounts"`].Ahead || got[`"public"."pgbench_accounts"`].KeysCompared < 1 ||
		!got[`"public"."ledger"`].Ahead || got[`"public"."ledger"`].KeysCompared < 1 || got[`"public"."pgbench_history"`].Ahead ||
		!strings.Contains(changed.Note, `"public"."pgbench_accounts": `) || changed.Warning != "" {
		t.Fatalf("verification inside the freeze: %+v (note %q, warning %q)", changed.Tables, changed.Note, changed.Warning)
	}
	t.Logf("verification inside the freeze: %d of %d tables stand from the verification ahead; %s", changed.Ahead(), len(changed.Tables), changed.Note)
	// A difference in a row written since is found by its key.
	tc := e.mustPG(endpoint(e.describe("orders-new")))
	e.exec(tc, "UPDATE pgbench_branches SET bbalance = bbalance + 1 WHERE bid = 1")
	planted, err := eng.VerifyChanged(ctx, src, dst, ahead.Tables)
	if err != nil {
		t.Fatal(err)
	}
	if d := planted.Differences(); len(d) != 1 || d[0].Table != `"public"."pgbench_branches"` || d[0].KeysCompared != 1 {
		t.Fatalf("a difference planted in pgbench_branches on the target: differences %+v", d)
	}
	e.exec(tc, "UPDATE pgbench_branches SET bbalance = bbalance - 1 WHERE bid = 1")
	// A row changed on the target only, in a table the source did not write since, is found
	// too: the target's verify slot decodes the write, while its session is still open.
	e.exec(tc, "UPDATE pgbench_tellers SET tbalance = tbalance + 1 WHERE tid = 1")
	planted, err = eng.VerifyChanged(ctx, src, dst, ahead.Tables)
	if err != nil {
		t.Fatal(err)
	}
	if d := planted.Differences(); len(d) != 1 || d[0].Table != `"public"."pgbench_tellers"` || d[0].KeysCompared != 1 ||
		!strings.Contains(planted.Warning, "key (tid)=(1)") {
		t.Fatalf("a difference planted in pgbench_tellers on the target: differences %+v, warning %q", d, planted.Warning)
	}
	e.exec(tc, "UPDATE pgbench_tellers SET tbalance = tbalance - 1 WHERE tid = 1")
	// A stray write on the target to a row of the table pgbench writes on the source all along
	// (pgbench_accounts) is found by its key among the changed keys; the table is not read in full.
	filler := e.rows(tc, "SELECT filler FROM pgbench_accounts WHERE aid = 1")
	e.exec(tc, "UPDATE pgbench_accounts SET filler = 'a stray write' WHERE aid = 1")
	planted, err = eng.VerifyChanged(ctx, src, dst, ahead.Tables)
	if err != nil {
		t.Fatal(err)
	}
	// aid 1 is one more changed key, unless pgbench had changed it already
	more := func(c replication.TableCheck) int64 { return c.KeysCompared - got[c.Table].KeysCompared }
	if d := planted.Differences(); len(d) != 1 || d[0].Table != `"public"."pgbench_accounts"` || more(d[0]) < 0 || more(d[0]) > 1 ||
		!strings.Contains(planted.Warning, "key (aid)=(1)") {
		t.Fatalf("a stray write to pgbench_accounts on the target: differences %+v, warning %q", d, planted.Warning)
	}
	e.exec(tc, "UPDATE pgbench_accounts SET filler = '"+filler+"' WHERE aid = 1")
	// DDL changes rows without a message in any slot (review U2): a rewrite on the target
	// (ALTER COLUMN ... TYPE ... USING) changes the table's shape, and the table is compared in
	// full.
	e.exec(tc, "ALTER TABLE pgbench_tellers ALTER COLUMN tbalance TYPE bigint USING tbalance + 1")
	planted, err = eng.VerifyChanged(ctx, src, dst, ahead.Tables)
	if err != nil {
		t.Fatal(err)
	}
	if d := planted.Differences(); len(d) != 1 || d[0].Table != `"public"."pgbench_tellers"` || d[0].Ahead ||
		!strings.Contains(planted.Note, `"public"."pgbench_tellers" compared in full: its definition or storage changed`) {
		t.Fatalf("a rewrite of pgbench_tellers on the target: differences %+v, note %q", d, planted.Note)
	}
	e.exec(tc, "ALTER TABLE pgbench_tellers ALTER COLUMN tbalance TYPE integer USING tbalance - 1")
	// TRUNCATE of a partition on the target: its file node is new, the partitioned table is
	// compared in full.
	e.exec(tc, "TRUNCATE parts_low")
	planted, err = eng.VerifyChanged(ctx, src, dst, ahead.Tables)
	if err != nil {
		t.Fatal(err)
	}
	if d := planted.Differences(); len(d) != 1 || d[0].Table != `"public"."parts"` || d[0].Ahead || d[0].TargetRows != 100 {
		t.Fatalf("a partition of parts truncated on the target: differences %+v, note %q", d, planted.Note)
	}
	e.exec(tc, "INSERT INTO parts SELECT g, g FROM generate_series(0, 99) g")
	// A process that did not consume the slots itself (a resume after Advance) does not have
	// the keys consumed: it compares those tables in full, and says why.
	restarted, err := (&postgres.Engine{}).VerifyChanged(ctx, src, dst, ahead.Tables)
	if err != nil {
		t.Fatal(err)
	}
	if d := restarted.Differences(); len(d) > 0 || restarted.Ahead() != 0 || !strings.Contains(restarted.Warning, "earlier run") {
		t.Fatalf("verification by a process without the consumed keys: %+v, warning %q", restarted.Tables, restarted.Warning)
	}
	// The target's verify slot gone: the same.
	e.exec(tc, "SELECT pg_drop_replication_slot('"+n.Slot+"_vfy')")
	gone, err := eng.VerifyChanged(ctx, src, dst, ahead.Tables)
	if err != nil {
		t.Fatal(err)
	}
	if d := gone.Differences(); len(d) > 0 || gone.Ahead() != 0 || !strings.Contains(gone.Warning, "is gone") {
		t.Fatalf("verification without the target's verify slot: %+v, warning %q", gone.Tables, gone.Warning)
	}
	seqs, err := eng.SyncSequences(ctx, src, dst)
	if err != nil || seqs < 1 {
		t.Fatalf("sequences synced %d: %v", seqs, err)
	}
	if err := eng.Detach(ctx, dst, n); err != nil {
		t.Fatal(err)
	}
	// A drain run again after the detach (a resumed rollback after cutover freezes again, at a
	// later position the slot never reaches) ends with ErrNotReplicating instead of waiting.
	waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	_, err = eng.Drain(waitCtx, src, dst, n, "FF/0")
	cancel()
	if !errors.Is(err, replication.ErrNotReplicating) {
		t.Fatalf("drain after the detach: %v, want ErrNotReplicating", err)
	}
	if err := eng.Cleanup(ctx, src, n); err != nil {
		t.Fatal(err)
	}
	virtualCutover := e.swapNames("orders", "orders-new", "orders-old")
	if err := eng.Cleanup(ctx, pgEndpoint(e.describe("orders")), n); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"orders", "orders-old"} {
		left, err := eng.Leftovers(ctx, pgEndpoint(e.describe(id)))
		if err != nil || len(left) > 0 {
			t.Fatalf("leftovers on %s: %v %v", id, left, err)
		}
	}
	before = len(w.Commits())
	e.eventually("pgbench commits on the new instance", func() bool { return len(w.Commits()) > before+20 })
	w.Stop()

	final := e.mustPG(endpoint(e.describe("orders")))
	cs := w.Commits()
	e.auditPgbench(final, cs, "replication")
	gap, gapAt := dataplane.LongestGap(cs)
	t.Logf("replication: %d tables, %d rows verified; drain %.1fs after the freeze (local clock; lag at freeze %d bytes, %s); "+
		"longest gap between commits %.1fs (at %s); rename pair %s on the AWS clock",
		len(v.Tables), v.Rows(), drainTook.Seconds(), lag.Bytes, drained.Applied, gap.Seconds(), gapAt.Format("15:04:05.000"), virtualCutover)

	// The same database, migrated again with the snapshot strategy: the freeze comes first
	// and lasts through the snapshot, the copy, the restore and the renames.
	w2 := startPgbench(t, host, port, 2)
	e.eventually("pgbench commits before the snapshot migration", func() bool { return len(w2.Commits()) > 20 })
	cur := pgEndpoint(e.describe("orders"))
	if _, err := eng.Freeze(ctx, cur, n); err != nil {
		t.Fatal(err)
	}
	virtualSnapshot := e.snapshotCopyRestore("orders", "orders-new2", "s")
	virtualSnapshot += e.swapNames("orders", "orders-new2", "orders-old2")
	// The snapshot was taken frozen: the new instance carries the read-only default.
	if err := eng.Unfreeze(ctx, pgEndpoint(e.describe("orders")), nil); err != nil {
		t.Fatal(err)
	}
	before = len(w2.Commits())
	e.eventually("pgbench commits after the snapshot migration", func() bool { return len(w2.Commits()) > before+20 })
	w2.Stop()
	cs2 := w2.Commits()
	a2 := auditTable(ctx, t, e.mustPG(endpoint(e.describe("orders"))), "ledger", cs2, "snapshot strategy")
	gap2, _ := dataplane.LongestGap(cs2)
	t.Logf("snapshot: committed %d, lost %d; longest gap between commits %.1fs; frozen for %s on the AWS clock",
		a2.Committed, a2.Lost, gap2.Seconds(), virtualSnapshot)
}

func hasFinding(fs []replication.Finding, word string) bool {
	for _, f := range fs {
		if strings.Contains(f.What, word) {
			return true
		}
	}
	return false
}

// TestEngineNeedsOnlyRDSRights: the data plane's master user is a superuser only so that it
// can create subscriptions (docs/data-plane.md). Every other statement of the engine runs
// here as a role with exactly RDS's master rights (LOGIN CREATEDB CREATEROLE REPLICATION,
// member of rds_superuser, no superuser) in a database it owns: preconditions, prepare,
// lag, freeze (which must end the application's sessions), unfreeze, verification,
// sequences, cleanup, leftovers.
func TestEngineNeedsOnlyRDSRights(t *testing.T) {
	e := start(t, dataplane.Postgres)
	e.logicalGroup("logical")
	// Five databases (shop, postgres, src, dst, appdb), one subscription each on a target.
	if _, err := e.rds.ModifyDBParameterGroup(e.ctx, &rds.ModifyDBParameterGroupInput{DBParameterGroupName: aws.String("logical"),
		Parameters: []types.Parameter{{ParameterName: aws.String("max_logical_replication_workers"), ParameterValue: aws.String("8"),
			ApplyMethod: types.ApplyMethodPendingReboot}}}); err != nil {
		t.Fatal(err)
	}
	inst := e.create("orders", "postgres", func(in *rds.CreateDBInstanceInput) {
		in.DBParameterGroupName, in.BackupRetentionPeriod = aws.String("logical"), aws.Int32(0)
	})
	admin := e.mustPG(endpoint(inst))
	e.exec(admin, "CREATE ROLE rdsmaster LOGIN CREATEDB CREATEROLE REPLICATION PASSWORD 'rds-shaped' IN ROLE rds_superuser")
	e.exec(admin, "CREATE ROLE appuser LOGIN PASSWORD 'app'")
	for _, db := range []string{"src", "dst"} {
		e.exec(admin, "CREATE DATABASE "+db+" OWNER rdsmaster")
	}
	ep := pgEndpoint(inst)
	ep.User, ep.Password = "rdsmaster", "rds-shaped"
	src, dst := ep, ep
	src.Database, dst.Database = "src", "dst"
	for _, db := range []string{"src", "dst"} {
		c, err := pgxConnect(e, inst, "rdsmaster", "rds-shaped", db)
		if err != nil {
			t.Fatal(err)
		}
		e.exec(c, "CREATE TABLE items (id bigserial PRIMARY KEY, v text)")
		e.exec(c, "GRANT ALL ON items, items_id_seq TO appuser")
		if db == "src" {
			e.exec(c, "INSERT INTO items (v) SELECT 'row ' || g FROM generate_series(1, 50) g")
		}
		c.Close(e.ctx)
	}
	// An application role owns a database and a table the master does not (RDS: the master
	// is no superuser, so it owns neither).
	// As on RDS, the master owns the postgres database (here initdb's superuser does) and
	// the data plane's own application database is made its business too.
	e.exec(admin, "ALTER DATABASE postgres OWNER TO rdsmaster")
	e.exec(admin, "GRANT app_admin TO rdsmaster")
	e.exec(admin, "CREATE ROLE appowner LOGIN PASSWORD 'owner'")
	e.exec(admin, "CREATE DATABASE appdb OWNER appowner")
	e.exec(admin, "REVOKE CONNECT ON DATABASE appdb FROM PUBLIC") // only its owner's members connect
	for _, db := range []string{"src", "dst"} {
		c, err := pgxConnect(e, inst, "rdsmaster", "rds-shaped", db)
		if err != nil {
			t.Fatal(err)
		}
		e.exec(c, "GRANT CREATE ON SCHEMA public TO appowner")
		c.Close(e.ctx)
		o, err := pgxConnect(e, inst, "appowner", "owner", db)
		if err != nil {
			t.Fatal(err)
		}
		e.exec(o, "CREATE TABLE ledger (id int PRIMARY KEY)")
		o.Close(e.ctx)
	}
	eng := &postgres.Engine{}
	n := replication.NamesFor("rights01")
	ctx := e.ctx
	findings, err := eng.Preconditions(ctx, src)
	if err != nil {
		t.Fatalf("preconditions: %v", err)
	}
	var blocked []string
	for _, f := range findings {
		if f.Severity == replication.Blocker {
			if !strings.Contains(f.Do, `GRANT "appowner" TO "rdsmaster"`) && !strings.Contains(f.Do, `GRANT CONNECT ON DATABASE "appdb" TO "rdsmaster"`) {
				t.Errorf("blocker %q: fix %q does not name the grant", f.What, f.Do)
			}
			blocked = append(blocked, f.Objects...)
		}
	}
	if !slices.ContainsFunc(findings, func(f replication.Finding) bool {
		return strings.Contains(f.What, "every database is replicated") && slices.Contains(f.Objects, "appdb") && slices.Contains(f.Objects, "src")
	}) {
		t.Errorf("no finding that lists every database (appdb, src...) as replicated: %+v", findings)
	}
	// Every database is checked, each object named with its database.
	if got := strings.Join(blocked, " "); got != "appdb appdb dst.public.ledger src.public.ledger" {
		t.Fatalf("blocked objects %q, want the app-owned database (closed to the master, and not alterable) and tables", got)
	}
	if _, err := eng.Freeze(ctx, src, n); err == nil || !strings.Contains(err.Error(), "appdb") {
		t.Fatalf("freeze with a database the master cannot alter: %v, want an error naming appdb", err)
	}
	if got := e.rows(admin, "SELECT count(*) FROM pg_db_role_setting"); got != "0" {
		t.Fatalf("the refused freeze left %s read-only setting(s)", got)
	}
	e.exec(admin, "GRANT appowner TO rdsmaster")
	if findings, err = eng.Preconditions(ctx, src); err != nil {
		t.Fatalf("preconditions: %v", err)
	}
	for _, f := range findings {
		if f.Severity == replication.Blocker {
			t.Fatalf("blocker after the grant: %s", f.What)
		}
	}
	if _, err := eng.PrepareSource(ctx, src, n); err != nil {
		t.Fatalf("prepare: %v", err)
	}
	if _, err := eng.Lag(ctx, src, dst, n); err != nil {
		t.Fatalf("lag: %v", err)
	}
	app, err := pgxConnect(e, inst, "appuser", "app", "src")
	if err != nil {
		t.Fatal(err)
	}
	frozen, err := eng.Freeze(ctx, src, n)
	if err != nil {
		t.Fatalf("freeze: %v", err)
	}
	if frozen.SessionsEnded < 1 || len(frozen.FrozenDatabases) == 0 {
		t.Fatalf("freeze ended %d sessions, froze %v", frozen.SessionsEnded, frozen.FrozenDatabases)
	}
	if _, err := app.Exec(ctx, "SELECT 1"); err == nil {
		t.Fatal("the application's session survived the freeze")
	}
	app2, err := pgxConnect(e, inst, "appuser", "app", "src")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app2.Exec(ctx, "INSERT INTO items (v) VALUES ('frozen')"); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("a write after the freeze: %v", err)
	}
	app2.Close(ctx)
	v, err := eng.Verify(ctx, src, dst)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if d := v.Differences(); len(d) != 1 || d[0].SourceRows != 50 || d[0].TargetRows != 0 {
		t.Fatalf("differences %+v, want items 50 against 0", d)
	}
	if got, err := eng.SyncSequences(ctx, src, dst); err != nil || got != 1 {
		t.Fatalf("sequences %d: %v", got, err)
	}
	// The freeze is a default a session can override: the check before the cutover sees it.
	if err := eng.CheckFrozen(ctx, src, n); err != nil {
		t.Fatalf("check with no write since the freeze: %v", err)
	}
	rogue, err := pgxConnect(e, inst, "appuser", "app", "src")
	if err != nil {
		t.Fatal(err)
	}
	e.exec(rogue, "SET default_transaction_read_only = off")
	e.exec(rogue, "UPDATE items SET v = 'after the freeze' WHERE id = 1")
	rogue.Close(ctx)
	if err := eng.CheckFrozen(ctx, src, n); err == nil || !strings.Contains(err.Error(), "1 row change(s)") {
		t.Fatalf("check after a write that overrode the freeze: %v, want 1 row change", err)
	}
	if err := eng.Unfreeze(ctx, src, nil); err != nil {
		t.Fatalf("unfreeze: %v", err)
	}
	app3, err := pgxConnect(e, inst, "appuser", "app", "src")
	if err != nil {
		t.Fatal(err)
	}
	e.exec(app3, "INSERT INTO items (v) VALUES ('after unfreeze')")
	app3.Close(ctx)
	d, err := pgxConnect(e, inst, "rdsmaster", "rds-shaped", "dst")
	if err != nil {
		t.Fatal(err)
	}
	if got := e.rows(d, "SELECT nextval('items_id_seq')::text"); got != "51" {
		t.Fatalf("dst's sequence continues at %s, want 51", got)
	}
	d.Close(ctx)
	// A second migration's objects, left behind: scan's SQL for each runs as printed, as
	// the master user (not a superuser), and removes them.
	other := replication.NamesFor("rights02")
	if _, err := eng.PrepareSource(ctx, src, other); err != nil {
		t.Fatalf("prepare %s: %v", other.Slot, err)
	}
	left, err := eng.Leftovers(ctx, src)
	if err != nil || len(left) != 7 { // slot, the freeze's check slot, publication, user; rights02's but the check slot
		t.Fatalf("leftovers before cleanup %v: %v", left, err)
	}
	for _, l := range left {
		if strings.Contains(l.Object, other.Slot) || strings.Contains(l.Object, other.User) {
			dropAsPrinted(t, e, inst, l)
		}
	}
	if left, err := eng.Leftovers(ctx, src); err != nil || len(left) != 4 {
		t.Fatalf("leftovers after the printed SQL %v: %v", left, err)
	}
	if err := eng.Cleanup(ctx, src, n); err != nil {
		t.Fatalf("cleanup: %v", err)
	}
	if left, err := eng.Leftovers(ctx, src); err != nil || len(left) != 0 {
		t.Fatalf("leftovers after cleanup %v: %v", left, err)
	}
}

// dropAsPrinted runs a leftover's SQL as scan prints it, as the master user, connected to the
// database it names ("(connected to database X)") or else to the instance's first one.
func dropAsPrinted(t *testing.T, e *env, inst types.DBInstance, l replication.Leftover) {
	t.Helper()
	sql, db := l.Drop, "src"
	if i := strings.Index(sql, " (connected to database "); i >= 0 {
		sql, db = sql[:i], strings.TrimSuffix(sql[i+len(" (connected to database "):], ")")
	}
	if sql == "" {
		t.Fatalf("%s: no SQL to remove it", l.Object)
	}
	c, err := pgxConnect(e, inst, "rdsmaster", "rds-shaped", db)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(e.ctx)
	if _, err := c.Exec(e.ctx, sql); err != nil {
		t.Fatalf("%s: %q as printed: %v", l.Object, l.Drop, err)
	}
}

func pgxConnect(e *env, inst types.DBInstance, user, pw, db string) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(e.ctx, 20*time.Second)
	defer cancel()
	return pgx.Connect(ctx, fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=disable", user, pw, endpoint(inst), db))
}

// checkHostName: the engine's verify-full checks the server's name, not only its chain
// (review S17). The same server, reached through a forwarder at an address its certificate
// does not list, with the right CA pool: a PostgreSQL engine verb refuses it with a name
// mismatch; at the instance's own address (src) the same verb answers. verify-ca (the chain
// only) would connect through the forwarder.
func checkHostName(t *testing.T, e *env, eng *postgres.Engine, src replication.Endpoint) {
	t.Helper()
	// 127.0.0.0/16 is kept clear of the simulator's endpoint addresses; the certificates
	// name 127.0.0.1 and localhost, not this one.
	_, port := relay(t, "127.0.99.1", net.JoinHostPort(src.Host, fmt.Sprint(src.Port)))
	if _, err := eng.Databases(e.ctx, src); err != nil {
		t.Fatalf("at the instance's address: %v", err)
	}
	other := src
	other.Host, other.Port = "127.0.99.1", int32(port)
	_, err := eng.Databases(e.ctx, other)
	var mismatch x509.HostnameError
	if !errors.As(err, &mismatch) || !strings.Contains(err.Error(), "127.0.99.1") {
		t.Fatalf("a server whose certificate does not name 127.0.99.1 was accepted there, or refused for another reason: %v", err)
	}
}
