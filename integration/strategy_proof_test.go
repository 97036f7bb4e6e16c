package integration

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/awsclient"
	"github.com/rdsencrypt/rdsencrypt/internal/dataplane"
	"github.com/rdsencrypt/rdsencrypt/internal/rdssim"
	"github.com/rdsencrypt/rdsencrypt/internal/replication"
	binlog "github.com/rdsencrypt/rdsencrypt/internal/replication/mysql"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// proofCAs are the CAs the data plane's servers' certificates chain to: what a client gets
// from --db-ca-bundle (docs/data-plane.md#tls).
func proofCAs() *x509.CertPool {
	pool, err := dataplane.CertPool()
	if err != nil {
		panic(err)
	}
	return pool
}

// proofSpeed runs the AWS clock RDSENCRYPT_PROOF_SPEED (default 600) times faster than the
// real one: a migration's hour of snapshot, copy and restore takes seconds, while the
// databases' real work runs in real time, so each real second inside the freeze (the drain,
// the verification) counts as proofSpeed seconds on the AWS clock.
var proofSpeed = func() int {
	if n, err := strconv.Atoi(os.Getenv("RDSENCRYPT_PROOF_SPEED")); err == nil && n > 0 {
		return n
	}
	return 600
}()

const (
	proofUser     = "app_admin"
	proofPassword = "proof-s3cret-password"
)

// proofMigrationID is the id of every proof's migration.
const proofMigrationID = "proof0001"

// proofResult is what one migration under load measured.
type proofResult struct {
	commits, lost, duplicated, extra, unknown, failed int
	gap                                               time.Duration // longest gap between two commits (client, real time)
	toolDowntime                                      time.Duration // the report's downtime (AWS clock)
	sysbenchStarts                                    int
	report                                            *workflow.Report
}

// proofSource creates a MariaDB instance with binlog_format ROW and sysbench's tables.
func proofSource(t *testing.T, e *env, id string, storageGiB int32, tables, rows int) rdstypes.DBInstance {
	t.Helper()
	ctx := context.Background()
	_, err := e.rds.CreateDBParameterGroup(ctx, &rds.CreateDBParameterGroupInput{DBParameterGroupName: aws.String(id + "-params"),
		DBParameterGroupFamily: aws.String("mariadb10.11"), Description: aws.String("binlog_format ROW")})
	require.NoError(t, err)
	_, err = e.rds.ModifyDBParameterGroup(ctx, &rds.ModifyDBParameterGroupInput{DBParameterGroupName: aws.String(id + "-params"),
		Parameters: []rdstypes.Parameter{{ParameterName: aws.String("binlog_format"), ParameterValue: aws.String("ROW"), ApplyMethod: rdstypes.ApplyMethodImmediate}}})
	require.NoError(t, err)
	_, err = e.rds.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String(id), Engine: aws.String("mariadb"),
		DBInstanceClass: aws.String("db.t3.medium"), AllocatedStorage: aws.Int32(storageGiB), MasterUsername: aws.String(proofUser),
		MasterUserPassword: aws.String(proofPassword), DBName: aws.String("shop"), BackupRetentionPeriod: aws.Int32(1),
		DBParameterGroupName: aws.String(id + "-params")})
	require.NoError(t, err)
	var inst rdstypes.DBInstance
	require.Eventually(t, func() bool {
		out, err := e.rds.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
		if err != nil {
			return false
		}
		inst = out.DBInstances[0]
		return aws.ToString(inst.DBInstanceStatus) == "available"
	}, 5*time.Minute, 50*time.Millisecond)
	addr := instAddr(inst)
	require.NoError(t, sysbenchPrepare(sysbenchArgs(addr, proofUser, proofPassword, "shop", tables, rows)))
	db := mariaAt(addr, proofUser, proofPassword, "shop")
	defer db.Close()
	_, err = db.ExecContext(ctx, ledgerTable)
	require.NoError(t, err)
	return inst
}

// proofStorage is the simulated allocated storage of the proofs' instances, in GiB:
// RDSENCRYPT_PROOF_GIB, else 20. The data itself stays small (sysbench's tables); the AWS
// clock's snapshot, copy and restore durations grow with the allocated storage.
func proofStorage(t *testing.T) int32 {
	t.Helper()
	v := os.Getenv("RDSENCRYPT_PROOF_GIB")
	if v == "" {
		return 20
	}
	n, err := strconv.Atoi(v)
	require.NoError(t, err, "RDSENCRYPT_PROOF_GIB")
	return int32(n)
}

func instAddr(inst rdstypes.DBInstance) string {
	return net.JoinHostPort(aws.ToString(inst.Endpoint.Address), strconv.Itoa(int(aws.ToInt32(inst.Endpoint.Port))))
}

func proofEnv(t *testing.T) *env {
	t.Helper()
	if testing.Short() {
		t.Skip("the write-downtime proof runs real servers and sysbench")
	}
	dataplane.RequireEngine(t, dataplane.MariaDB)
	if _, err := exec.LookPath("sysbench"); err != nil {
		t.Skip("sysbench is not installed (apt-get install -y sysbench)")
	}
	e := newEnvWith(t, rdssim.Options{Speed: float64(proofSpeed), DataPlane: true})
	if e.h.Sim == nil {
		t.Skip("the proof needs the in-process simulator's data plane")
	}
	return e
}

// migrateUnderLoad migrates inst while sysbench and the ledger client write through its
// endpoint, keeps them writing a little after the migration, and accounts every commit on the
// instance that then answers at the endpoint.
//
// interrupt names steps at whose start the run is stopped (its context ends, as on Ctrl-C or
// when the process is killed between two calls) and then resumed by a new engine on the same
// state directory, each once, in order.
//
// rollback, when set, rolls the completed migration back while the clients still write, and
// accounts the commits on the instance then at the endpoint: the source again.
func migrateUnderLoad(t *testing.T, e *env, inst rdstypes.DBInstance, tables, rows int, opts workflow.RunOptions, rollback bool, interrupt ...string) proofResult {
	t.Helper()
	ctx := e.ctx()
	id, addr := aws.ToString(inst.DBInstanceIdentifier), instAddr(inst)
	pause := filepath.Join(t.TempDir(), "paused")
	if opts.FreezeHook == "" && opts.Strategy != workflow.StrategyReplication {
		// The snapshot strategy's freeze: the hooks pause sysbench and the ledger client. The
		// replication strategy freezes in the database; the clients never pause.
		opts.FreezeHook, opts.UnfreezeHook = "touch "+pause, "rm -f "+pause
	}
	load := startSysbench(sysbenchArgs(addr, proofUser, proofPassword, "shop", tables, rows), pause)
	ldb := mariaAt(addr, proofUser, proofPassword, "shop")
	defer ldb.Close()
	led := startLedger(ldb, pause)
	require.Eventually(t, func() bool { return led.count() >= 100 }, time.Minute, 10*time.Millisecond)

	newEngine := func(stopAt string, stop context.CancelFunc) *workflow.Engine {
		eng := e.engine(proofMigrationID, workflow.AutoApprove)
		eng.Hooks = workflow.ShellHooks{}
		eng.Poll = awsclient.PollOptions{Min: 20 * time.Millisecond, Max: 100 * time.Millisecond}
		eng.Replication = map[string]replication.Engine{"mysql": binlog.New()}
		eng.Credentials = workflow.CredentialChain{EnvPassword: proofPassword}
		eng.DBRootCAs = proofCAs() // TLS required (the default), servers verified
		if stopAt != "" {
			next := eng.Observer
			eng.Observer = workflow.ObserverFunc(func(ev workflow.Event) {
				next.Notify(ev)
				if ev.Type == workflow.EventStepStarted && ev.Step == stopAt {
					stop()
				}
			})
		}
		return eng
	}
	key := e.createKey("alias/proof-" + id)
	req := workflow.MigrateRequest{Region: region, Source: id, KmsKey: key, Options: opts}
	var rep *workflow.Report
	var err error
	for i := 0; i <= len(interrupt); i++ {
		stopAt, runCtx, stop := "", ctx, context.CancelFunc(func() {})
		if i < len(interrupt) {
			stopAt = interrupt[i]
			runCtx, stop = context.WithCancel(ctx)
		}
		eng := newEngine(stopAt, stop)
		if i == 0 {
			rep, err = eng.Migrate(runCtx, req)
		} else {
			rep, err = eng.Resume(runCtx, proofMigrationID)
		}
		stop()
		if i < len(interrupt) {
			require.Error(t, err, "the run interrupted at %s finished", stopAt)
			// The clients keep writing (or being refused) while the tool is away.
			n := led.count()
			time.Sleep(500 * time.Millisecond)
			t.Logf("interrupted at %s: %v; the client committed %d meanwhile", stopAt, err, led.count()-n)
		}
	}
	require.NoError(t, err)
	require.Equal(t, workflow.StatusCompleted, rep.Status, "report %+v", rep)
	// Writes go on after the migration: the ledger must see commits on the new instance.
	after := led.count()
	require.Eventually(t, func() bool { return led.count() >= after+100 }, time.Minute, 10*time.Millisecond)
	if rollback {
		rb, err := newEngine("", nil).Rollback(ctx, proofMigrationID)
		require.NoError(t, err)
		require.Equal(t, workflow.StatusRolledBack, rb.Status, "rollback report %+v", rb)
		back := led.count()
		require.Eventually(t, func() bool { return led.count() >= back+100 }, time.Minute, 10*time.Millisecond)
		out, err := e.rds.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
		require.NoError(t, err)
		require.False(t, aws.ToBool(out.DBInstances[0].StorageEncrypted), "%s is not the source again after the rollback", id)
	}
	starts := load.stop()
	cs := led.stop()

	final := mariaAt(addr, proofUser, proofPassword, "shop")
	defer final.Close()
	a, err := account(ctx, final, cs)
	require.NoError(t, err)
	gap, _ := dataplane.LongestGap(cs)
	led.mu.Lock()
	res := proofResult{commits: a.Committed, lost: a.Lost, duplicated: a.Duplicated, extra: a.Unacknowledged, unknown: led.unknown, failed: led.failed,
		gap: gap, toolDowntime: time.Duration(rep.DowntimeSeconds * float64(time.Second)), sysbenchStarts: starts, report: rep}
	led.mu.Unlock()
	return res
}

func (r proofResult) log(t *testing.T, what string) {
	t.Logf("%s: %d commits seen by the client, lost %d, duplicated %d, committed but unseen %d (outcome unknown %d, refused %d); "+
		"longest gap between commits %s (real clock; AWS clock runs %dx); tool's downtime %s (AWS clock); sysbench started %d times",
		what, r.commits, r.lost, r.duplicated, r.extra, r.unknown, r.failed, r.gap.Round(time.Millisecond), proofSpeed,
		r.toolDowntime.Round(time.Second), r.sysbenchStarts)
}

// lostNothing logs the result under what and fails the test on a lost or duplicated commit.
func (r proofResult) lostNothing(t *testing.T, what string) {
	t.Helper()
	r.log(t, what)
	require.Zero(t, r.lost, "committed transactions lost")
	require.Zero(t, r.duplicated, "committed transactions duplicated")
}

// TestSnapshotStrategyUnderSysbench: the snapshot strategy, with sysbench and the ledger client
// paused by the freeze hook and resumed by the unfreeze hook, loses no committed write; its
// write downtime (logged) contains the snapshot, copy and restore.
func TestSnapshotStrategyUnderSysbench(t *testing.T) {
	e := proofEnv(t)
	inst := proofSource(t, e, "shop", proofStorage(t), 2, 2000)
	res := migrateUnderLoad(t, e, inst, 2, 2000, workflow.RunOptions{}, false)
	res.lostNothing(t, fmt.Sprintf("snapshot strategy, %d GiB", proofStorage(t)))
}

// TestReplicationStrategyUnderSysbench: the tool's replication strategy (migrate --strategy
// replication: the route, its journal, the freeze with read_only in the source's parameter
// group, the drain, the verification, the renames) on a MariaDB instance that sysbench and
// the ledger client write to through its endpoint for the whole migration, never paused.
// Every transaction the client saw commit is on the final instance exactly once.
func TestReplicationStrategyUnderSysbench(t *testing.T) {
	e := proofEnv(t)
	inst := proofSource(t, e, "shop", proofStorage(t), 2, 2000)
	res := migrateUnderLoad(t, e, inst, 2, 2000, workflow.RunOptions{Strategy: workflow.StrategyReplication}, false)
	res.lostNothing(t, fmt.Sprintf("replication strategy, %d GiB", proofStorage(t)))
	if rp := res.report.Replication; rp != nil {
		t.Logf("tool's replication figures: lag at freeze %d bytes, drain %.3f s (local clock), %d tables and %d rows verified, %d sessions ended, frozen at %s",
			rp.LagAtFreezeBytes, rp.DrainSeconds, rp.TablesVerified, rp.RowsVerified, rp.SessionsEnded, rp.FrozenPosition)
	}
	require.Equal(t, workflow.StrategyReplication, res.report.Strategy)
	require.NotNil(t, res.report.Replication)
	require.Equal(t, 3, res.report.Replication.TablesVerified, "sbtest1, sbtest2 and ledger verified at the freeze")
	// The retired source stays read-only (its own parameter group keeps read_only; the new
	// primary has a copy): a client holding its address cannot write there (issue 17, R18).
	retired := waitInstance(t, e, workflow.NamesFor(proofMigrationID, "shop").Retired, "available")
	old := mariaAt(instAddr(retired), proofUser, proofPassword, "shop")
	defer old.Close()
	_, err := old.ExecContext(e.ctx(), "INSERT INTO sbtest1 (k, c, pad) VALUES (1, 'retired', 'retired')")
	var me *mysql.MySQLError
	require.True(t, errors.As(err, &me) && me.Number == 1290, "a write through the retired source's address: %v, want the read-only refusal (1290)", err)
}

// TestReplicationStrategyInterruptedResumes: the replication strategy stopped at the start of
// the catch-up and again at the start of the drain (inside the freeze: read_only on, the
// clients refused), each time resumed by a new engine, with sysbench and the ledger client
// writing throughout: it converges, and no commit the client saw is lost or duplicated.
func TestReplicationStrategyInterruptedResumes(t *testing.T) {
	e := proofEnv(t)
	inst := proofSource(t, e, "shop", proofStorage(t), 2, 2000)
	res := migrateUnderLoad(t, e, inst, 2, 2000, workflow.RunOptions{Strategy: workflow.StrategyReplication}, false,
		workflow.StepReplCatchUp, workflow.StepReplDrain)
	res.lostNothing(t, fmt.Sprintf("replication strategy interrupted twice, %d GiB", proofStorage(t)))
}

// TestReplicationStrategyRollbackAfterCutover: after a completed replication migration the
// retired source follows the new instance (the reverse stream); rollback, with sysbench and
// the ledger client still writing, freezes the new instance, drains the reverse stream, and
// renames back. Every commit the client saw (before, during, after the cutover and after the
// rollback) is on the source exactly once.
func TestReplicationStrategyRollbackAfterCutover(t *testing.T) {
	e := proofEnv(t)
	inst := proofSource(t, e, "shop", proofStorage(t), 2, 2000)
	res := migrateUnderLoad(t, e, inst, 2, 2000, workflow.RunOptions{Strategy: workflow.StrategyReplication}, true)
	res.lostNothing(t, fmt.Sprintf("replication strategy then rollback after cutover, %d GiB", proofStorage(t)))
	require.True(t, res.report.Replication != nil && res.report.Replication.ReverseAttached, "no reverse stream after the cutover")
}
