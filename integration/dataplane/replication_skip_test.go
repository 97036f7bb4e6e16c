package dataplane_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/jackc/pgx/v5"

	"github.com/rdsencrypt/rdsencrypt/internal/dataplane"
	"github.com/rdsencrypt/rdsencrypt/internal/replication"
	"github.com/rdsencrypt/rdsencrypt/internal/replication/postgres"
)

// failedLSN reads, from the PostgreSQL log of instance id, the finish LSN of the source
// transaction the subscription failed to apply because key (id)=(key) of its table already
// existed: the error's context names it ("... in transaction N, finished at X/Y"), the LSN an
// operator gives ALTER SUBSCRIPTION ... SKIP.
func (e *env) failedLSN(id, key string) string {
	e.t.Helper()
	re := regexp.MustCompile(`(?s)Key \(id\)=\(` + key + `\) already exists\..*?finished at ([0-9A-F]+/[0-9A-F]+)`)
	var lsn string
	e.eventually("the apply error on key "+key+" in the log of "+id, func() bool {
		files, err := e.rds.DescribeDBLogFiles(e.ctx, &rds.DescribeDBLogFilesInput{DBInstanceIdentifier: aws.String(id),
			FilenameContains: aws.String("postgresql.log")})
		if err != nil {
			e.t.Fatal(err)
		}
		for _, f := range files.DescribeDBLogFiles {
			if m := re.FindStringSubmatch(e.readLog(id, aws.ToString(f.LogFileName), 1000)); m != nil {
				lsn = m[1]
				return true
			}
		}
		return false
	})
	return lsn
}

// skip makes the subscription fail on a source transaction and skips it, as an operator does
// after an apply error: the row (id)=(key) is inserted on the target first, then on the source
// in one transaction with an update of accounts row account, which the target never gets.
func (e *env) skip(src, dst, dstID, sub string, key, account int) {
	e.t.Helper()
	tc := e.mustPG(dst)
	defer tc.Close(e.ctx)
	e.exec(tc, "INSERT INTO ledger VALUES ($1, 'both sides')", key)
	sc := e.mustPG(src)
	defer sc.Close(e.ctx)
	tx, err := sc.Begin(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := tx.Exec(e.ctx, "INSERT INTO ledger VALUES ($1, 'both sides')", key); err != nil {
		e.t.Fatal(err)
	}
	if _, err := tx.Exec(e.ctx, "UPDATE accounts SET v = v + 1 WHERE id = $1", account); err != nil {
		e.t.Fatal(err)
	}
	if err := tx.Commit(e.ctx); err != nil {
		e.t.Fatal(err)
	}
	lsn := e.failedLSN(dstID, strconv.Itoa(key))
	e.exec(tc, "ALTER SUBSCRIPTION "+pgx.Identifier{sub}.Sanitize()+" SKIP (lsn = '"+lsn+"')")
	e.eventually("the subscription skips the transaction finished at "+lsn, func() bool {
		return e.rows(tc, "SELECT subskiplsn::text FROM pg_subscription WHERE subname = '"+sub+"'") == "0/0"
	})
}

// TestPostgresSkippedTransactionIsFound: a source transaction the subscription skipped
// (ALTER SUBSCRIPTION ... SKIP after an apply error) writes nothing on the target, so the
// target's verify slot never decodes its keys. Skipped before the verification ahead, the
// comparison ahead finds its rows; skipped after, the subscription's error count moved, and
// the database's tables are compared in full inside the freeze, which finds the row the target
// lacks (docs/replication.md#postgresql-a-transaction-the-subscription-skipped).
func TestPostgresSkippedTransactionIsFound(t *testing.T) {
	e := start(t, dataplane.Postgres)
	e.logicalGroup("logical")
	inst := e.create("skips", "postgres", func(in *rds.CreateDBInstanceInput) {
		in.DBParameterGroupName, in.BackupRetentionPeriod = aws.String("logical"), aws.Int32(0)
	})
	pc := e.mustPG(endpoint(inst))
	for _, q := range []string{"CREATE TABLE accounts (id int PRIMARY KEY, v int NOT NULL)",
		"INSERT INTO accounts SELECT g, 0 FROM generate_series(1, 100) g",
		"CREATE TABLE ledger (id int PRIMARY KEY, note text NOT NULL)"} {
		e.exec(pc, q)
	}
	pc.Close(e.ctx)
	src := pgEndpoint(inst)
	eng, n, ctx := &postgres.Engine{}, replication.NamesFor("mig00002"), e.ctx
	dst := e.pgStreamed(eng, src, n, "skips", "skips-new")
	e.eventually("the subscriber is connected", func() bool {
		lag, err := eng.Lag(ctx, src, dst, n)
		if err != nil {
			t.Fatal(err)
		}
		return lag.Broken == ""
	})
	srcAddr, dstAddr := endpoint(inst), endpoint(e.describe("skips-new"))
	// The subscription applies a transaction only once it committed on the source (the
	// argument of the check needs it; PostgreSQL 18 streams by default).
	tc := e.mustPG(dstAddr)
	if got := e.rows(tc, "SELECT substream::text FROM pg_subscription WHERE subname = '"+n.Subscription+"'"); got != "false" && got != "f" {
		t.Fatalf("the subscription's streaming: %q, want off", got)
	}
	tc.Close(ctx)
	byTable := func(v replication.Verification) map[string]replication.TableCheck {
		out := map[string]replication.TableCheck{}
		for _, c := range v.Tables {
			out[c.Table] = c
		}
		return out
	}

	// Skipped before the verification ahead: the source's snapshot holds the transaction, the
	// target's does not, and the comparison ahead finds accounts row 3.
	e.skip(srcAddr, dstAddr, "skips-new", n.Subscription, 2000, 3)
	ahead, err := eng.VerifyAhead(ctx, src, dst, n)
	if err != nil {
		t.Fatal(err)
	}
	if got := byTable(ahead); got[`"public"."accounts"`].Equal() || !got[`"public"."ledger"`].Equal() {
		t.Fatalf("verification ahead after a skipped transaction: %+v", ahead.Tables)
	}
	// Repaired by hand on the target, verified ahead again: the errors counted before this
	// verification ahead do not make the freeze compare in full.
	tc = e.mustPG(dstAddr)
	e.exec(tc, "UPDATE accounts SET v = v + 1 WHERE id = 3")
	tc.Close(ctx)
	ahead, err = eng.VerifyAhead(ctx, src, dst, n)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ahead.Tables {
		if !c.Equal() || !strings.HasPrefix(c.TargetMarker, "keys:") {
			t.Fatalf("verification ahead after the repair: %+v", ahead.Tables)
		}
	}

	// Skipped after the verification ahead: the target's slot decodes the row inserted on
	// the target (ledger 3000, the same as the source's) but nothing of the skipped transaction.
	e.skip(srcAddr, dstAddr, "skips-new", n.Subscription, 3000, 7)
	v := e.pgFreezeAndVerify(eng, src, dst, n, ahead.Tables)
	d := v.Differences()
	if len(d) != 1 || d[0].Table != `"public"."accounts"` || d[0].Ahead || v.Ahead() != 0 ||
		!regexp.MustCompile(`failed \d+ time\(s\) since the verification ahead.*compared in full`).MatchString(v.Warning) {
		t.Fatalf("verification inside the freeze after a transaction skipped since the verification ahead: differences %+v, warning %q, note %q",
			d, v.Warning, v.Note)
	}
	t.Logf("inside the freeze: %s", v.Warning)
	if err := eng.Unfreeze(ctx, src, nil); err != nil {
		t.Fatal(err)
	}
	if err := eng.Cleanup(ctx, src, n); err != nil {
		t.Fatal(err)
	}
	if err := eng.Cleanup(ctx, dst, n); err != nil {
		t.Fatal(err)
	}
}
