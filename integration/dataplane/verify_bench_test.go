package dataplane_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/rdsencrypt/rdsencrypt/internal/dataplane"
	"github.com/rdsencrypt/rdsencrypt/internal/replication"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// pgbenchSmallTablesScript writes only the small tables (a teller, the history, the ledger):
// pgbench_accounts, nearly all of the data, stays as loaded.
const pgbenchSmallTablesScript = `\set tid random(1, 10)
\set n :n + 1
BEGIN;
UPDATE pgbench_tellers SET tbalance = tbalance + 1 WHERE tid = :tid;
INSERT INTO pgbench_history (tid, bid, aid, delta, mtime, filler) VALUES (:tid, 1, 1, 1, CURRENT_TIMESTAMP, :round || '-' || :client_id || '-' || :n);
INSERT INTO ledger (token) VALUES (:round || '-' || :client_id || '-' || :n);
END;
`

// fullVerification hides the engine's AheadVerifier: every table is compared inside the
// freeze, as before the verification ahead existed (review R6). CheckFrozen is kept.
type fullVerification struct{ replication.Engine }

func (f fullVerification) CheckFrozen(ctx context.Context, src replication.Endpoint, n replication.Names) error {
	return f.Engine.(replication.FreezeChecker).CheckFrozen(ctx, src, n)
}

// BenchmarkVerificationInTheFreeze measures the write downtime of --strategy replication on a
// PostgreSQL instance loaded with pgbench -i -s SCALE for each SCALE in RDSSIM_VERIFY_SCALES
// (default "70": about 1 GiB), pgbench writing through the endpoint all along, three ways on
// the same database: every table compared inside the freeze (as before), the verification
// ahead with a writer that leaves pgbench_accounts alone, and with the TPC-B-like writer that
// updates it; then --strategy snapshot on the same database (re-keyed with a new key), with
// the pre-copy (the command's default) and with --precopy=false, writes frozen in SQL by a
// hook. It logs the freeze's verification time (local clock), the tool's write downtime
// (AWS clock, at the simulator's speed) and the longest gap between two commits the client
// saw (local clock); 0 commits lost is checked. RDSSIM_VERIFY_RUNS (e.g. "1,4") picks runs
// by their index. The instance's allocated storage is RDSSIM_VERIFY_GIB GiB (default 20 +
// SCALE/10): the simulator's snapshot, copy and restore durations on the AWS clock grow with
// it, whatever the data. Run:
//
//	RDSSIM_VERIFY_SCALES=70,280 go test ./integration/dataplane -run '^$' -bench VerificationInTheFreeze -benchtime 1x -timeout 60m
func BenchmarkVerificationInTheFreeze(b *testing.B) {
	scales := []int{70}
	if v := os.Getenv("RDSSIM_VERIFY_SCALES"); v != "" {
		scales = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				b.Fatalf("RDSSIM_VERIFY_SCALES=%q", v)
			}
			scales = append(scales, n)
		}
	}
	storage := 0
	if v := os.Getenv("RDSSIM_VERIFY_GIB"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 20 {
			b.Fatalf("RDSSIM_VERIFY_GIB=%q: a number of GiB, at least 20", v)
		}
		storage = n
	}
	for n := 0; n < b.N; n++ {
		for _, scale := range scales {
			gib := storage
			if gib == 0 {
				gib = 20 + scale/10
			}
			b.Run(fmt.Sprintf("scale%d/%dGiB", scale, gib), func(b *testing.B) { verifyBenchOnce(b, scale, gib) })
		}
	}
}

func verifyBenchOnce(b *testing.B, scale, gib int) {
	const speed = 300
	e := startTool(b, speed)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Hour) // loading and comparing GiBs outlasts startTool's 10 minutes
	b.Cleanup(cancel)
	e.ctx = ctx
	e.logicalGroup("logical")
	if _, err := e.rds.CreateDBInstance(e.ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("orders"), Engine: aws.String("postgres"),
		DBInstanceClass: aws.String("db.t3.micro"), AllocatedStorage: aws.Int32(int32(gib)), MasterUsername: aws.String(master),
		MasterUserPassword: aws.String(password), DBName: aws.String("shop"), DBParameterGroupName: aws.String("logical"),
		BackupRetentionPeriod: aws.Int32(0)}); err != nil {
		b.Fatal(err)
	}
	inst := e.waitAvailable("orders")
	loading := time.Now()
	e.pgbenchInit(aws.ToString(inst.Endpoint.Address), int(aws.ToInt32(inst.Endpoint.Port)), scale)
	var size string
	if err := e.mustPG(endpoint(inst)).QueryRow(e.ctx, "SELECT pg_size_pretty(pg_database_size('shop'))").Scan(&size); err != nil {
		b.Fatal(err)
	}
	logNow(b, fmt.Sprintf("scale %d: pgbench -i took %.0f s (database %s, allocated storage %d GiB); load average %s", scale, time.Since(loading).Seconds(), size, gib, loadAverage()))
	runs := []struct {
		name     string
		full     bool
		script   string
		strategy string
		precopy  bool
	}{
		{"every table inside the freeze (before)", true, pgbenchSmallTablesScript, workflow.StrategyReplication, false},
		{"verified ahead, writer leaves pgbench_accounts alone", false, pgbenchSmallTablesScript, workflow.StrategyReplication, false},
		{"verified ahead, TPC-B-like writer updates pgbench_accounts", false, pgbenchScript, workflow.StrategyReplication, false},
		{"--strategy snapshot (pre-copy), writer leaves pgbench_accounts alone", false, pgbenchSmallTablesScript, workflow.StrategySnapshot, true},
		{"--strategy snapshot --precopy=false, writer leaves pgbench_accounts alone", false, pgbenchSmallTablesScript, workflow.StrategySnapshot, false},
	}
	for i, run := range runs {
		if only := os.Getenv("RDSSIM_VERIFY_RUNS"); only != "" && !slices.Contains(strings.Split(only, ","), strconv.Itoa(i)) {
			continue
		}
		inst := e.waitAvailable("orders")
		host, port := aws.ToString(inst.Endpoint.Address), int(aws.ToInt32(inst.Endpoint.Port))
		key, err := e.h.KMS(region).CreateKey(e.ctx, &kms.CreateKeyInput{})
		if err != nil {
			b.Fatal(err)
		}
		w := startPgbenchScript(b, host, port, 2, run.script)
		e.eventually("pgbench commits", func() bool { return len(w.Commits()) > 20 })
		eng := e.engine(fmt.Sprintf("verify%02d", i))
		if run.full {
			eng.Replication = map[string]replication.Engine{"postgres": fullVerification{eng.Replication["postgres"]}}
		}
		opts := workflow.RunOptions{Strategy: run.strategy}
		if run.strategy == workflow.StrategySnapshot {
			freeze, unfreeze := sqlFreezeHooks(host, port)
			opts = workflow.RunOptions{Strategy: run.strategy, Freeze: workflow.FreezeHook, FreezeHook: freeze, UnfreezeHook: unfreeze, Precopy: run.precopy}
		}
		load, began := loadAverage(), time.Now()
		rep, err := eng.Migrate(e.ctx, workflow.MigrateRequest{Region: region, Source: "orders", KmsKey: aws.ToString(key.KeyMetadata.Arn), Options: opts})
		if err != nil {
			b.Fatalf("%s: %v", run.name, err)
		}
		took := time.Since(began)
		final := e.waitAvailable("orders")
		after := len(w.Commits())
		e.eventually("pgbench commits on the new instance", func() bool { return len(w.Commits()) > after+20 })
		w.Stop()
		cs := w.Commits()
		a := auditTokens(e.ctx, b, e.mustPG(endpoint(final)), "ledger", cs)
		if a.Lost != 0 || a.Duplicated != 0 {
			b.Errorf("%s: %d lost, %d duplicated", run.name, a.Lost, a.Duplicated)
		}
		gap, _ := dataplane.LongestGap(cs)
		line := fmt.Sprintf("scale %d (database %s, %d GiB allocated), %s: write downtime %.0f s on the AWS clock (speed %d: %.1f s of local time); "+
			"longest gap between commits %.1f s (local clock); migration %.0f s (local clock); committed %d, lost %d, duplicated %d; load average %s at the start, %s at the end",
			scale, size, gib, run.name, rep.DowntimeSeconds, speed, rep.DowntimeSeconds/speed, gap.Seconds(), took.Seconds(), a.Committed, a.Lost, a.Duplicated, load, loadAverage())
		if rp := rep.Replication; rp != nil {
			line += fmt.Sprintf("; freeze verification %.1f s (local clock; %d tables inside it, %d stood from ahead, %d of those by their %d changed keys; %d rows); lag at the freeze %d bytes; drain %.1f s",
				rp.VerifySeconds, rp.TablesInFreeze, rp.TablesAhead, rp.TablesByKeys, rp.KeysCompared, rp.RowsVerified, rp.LagAtFreezeBytes, rp.DrainSeconds)
		}
		logNow(b, line+"; steps (s): "+stepSeconds(rep))
		// The retired source and the snapshots are not needed again: their data directories go.
		e.dropAllBut("orders")
	}
}

// logNow logs line, and prints it at once: a long run's log is otherwise printed at its end.
func logNow(b *testing.B, line string) {
	b.Log(line)
	fmt.Fprintln(os.Stderr, line)
}

// stepSeconds lists each step of the report with the seconds it took, as the report's times
// count them.
func stepSeconds(rep *workflow.Report) string {
	var parts []string
	for _, s := range rep.Steps {
		if s.StartedAt != nil && s.FinishedAt != nil {
			parts = append(parts, fmt.Sprintf("%s %.0f", s.Name, s.FinishedAt.Sub(*s.StartedAt).Seconds()))
		}
	}
	return strings.Join(parts, ", ")
}

// loadAverage is the machine's 1-, 5- and 15-minute load averages (the figures of a run move
// with them).
func loadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(raw)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
}

// dropAllBut deletes every instance but keep, and every manual snapshot (disk space).
func (e *toolEnv) dropAllBut(keep string) {
	insts, err := e.rds.DescribeDBInstances(e.ctx, &rds.DescribeDBInstancesInput{})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, i := range insts.DBInstances {
		if id := aws.ToString(i.DBInstanceIdentifier); id != keep {
			if _, err := e.rds.DeleteDBInstance(e.ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String(id), SkipFinalSnapshot: aws.Bool(true)}); err != nil {
				e.t.Logf("delete %s: %v", id, err)
			}
		}
	}
	snaps, err := e.rds.DescribeDBSnapshots(e.ctx, &rds.DescribeDBSnapshotsInput{})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, s := range snaps.DBSnapshots {
		if _, err := e.rds.DeleteDBSnapshot(e.ctx, &rds.DeleteDBSnapshotInput{DBSnapshotIdentifier: s.DBSnapshotIdentifier}); err != nil {
			e.t.Logf("delete snapshot %s: %v", aws.ToString(s.DBSnapshotIdentifier), err)
		}
	}
}
