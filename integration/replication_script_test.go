package integration

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/dataplane"
	"github.com/rdsencrypt/rdsencrypt/internal/replication"
	binlog "github.com/rdsencrypt/rdsencrypt/internal/replication/mysql"
)

// waitInstance polls until the instance has the status (real time: the AWS clock runs fast).
func waitInstance(t *testing.T, e *env, id, status string) rdstypes.DBInstance {
	t.Helper()
	var inst rdstypes.DBInstance
	require.Eventually(t, func() bool {
		out, err := e.rds.DescribeDBInstances(context.Background(), &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
		if err != nil {
			return false
		}
		inst = out.DBInstances[0]
		return aws.ToString(inst.DBInstanceStatus) == status
	}, 5*time.Minute, 20*time.Millisecond, "%s never %s", id, status)
	return inst
}

func waitSnapshot(t *testing.T, e *env, id string) {
	t.Helper()
	require.Eventually(t, func() bool {
		out, err := e.rds.DescribeDBSnapshots(context.Background(), &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String(id)})
		return err == nil && aws.ToString(out.DBSnapshots[0].Status) == "available"
	}, 5*time.Minute, 20*time.Millisecond)
}

func endpointOf(inst rdstypes.DBInstance) replication.Endpoint {
	return replication.Endpoint{Host: aws.ToString(inst.Endpoint.Address), Port: aws.ToInt32(inst.Endpoint.Port),
		User: proofUser, Password: proofPassword, TLS: "require", RootCAs: proofCAs()}
}

// TestScriptedReplicationCutoverUnderSysbench runs the replication strategy's sequence for a
// MariaDB instance, scripted here with the SDK and the mysql engine (the route that will run it
// from `migrate --strategy replication` is not on main yet), while sysbench and the ledger
// client write through the instance's endpoint for the whole time, never paused: prepare,
// snapshot, encrypted copy, restore, start position from the restored instance's log, attach,
// catch-up, freeze (read_only through the parameter group, rds_kill), drain, verification,
// detach, the rename pair, writes resume on the new instance, replication in reverse. Every
// commit the client saw is on the final instance exactly once, and the old instance, fed by the
// reverse stream, ends with the same table checksums.
func TestScriptedReplicationCutoverUnderSysbench(t *testing.T) {
	e := proofEnv(t)
	ctx := context.Background()
	const tables, rows = 2, 2000
	inst := proofSource(t, e, "shop", proofStorage(t), tables, rows)
	addr := instAddr(inst)
	eng := binlog.New().(*binlog.Engine)
	names := replication.NamesFor("proof-shop")
	src := endpointOf(inst)

	load := startSysbench(sysbenchArgs(addr, proofUser, proofPassword, "shop", tables, rows), t.TempDir()+"/never")
	ldb := mariaAt(addr, proofUser, proofPassword, "shop")
	defer ldb.Close()
	led := startLedger(ldb, t.TempDir()+"/never")
	require.Eventually(t, func() bool { return led.count() >= 100 }, time.Minute, 10*time.Millisecond)

	findings, err := eng.Preconditions(ctx, src)
	require.NoError(t, err)
	_, err = eng.PrepareSource(ctx, src, names)
	require.NoError(t, err)
	awsStart := e.h.Now()
	_, err = e.rds.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("shop"), DBSnapshotIdentifier: aws.String("shop-snap")})
	require.NoError(t, err)
	waitSnapshot(t, e, "shop-snap")
	key := e.createKey("alias/proof-script")
	_, err = e.rds.CopyDBSnapshot(ctx, &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: aws.String("shop-snap"),
		TargetDBSnapshotIdentifier: aws.String("shop-snap-enc"), KmsKeyId: aws.String(key)})
	require.NoError(t, err)
	waitSnapshot(t, e, "shop-snap-enc")
	_, err = e.rds.RestoreDBInstanceFromDBSnapshot(ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{
		DBInstanceIdentifier: aws.String("shop-new"), DBSnapshotIdentifier: aws.String("shop-snap-enc")})
	require.NoError(t, err)
	newInst := waitInstance(t, e, "shop-new", "available")
	dst := endpointOf(newInst)
	logText := downloadLog(t, e, "shop-new", eng.RecoveryLog())
	start, ok, err := eng.StartPosition(logText)
	require.NoError(t, err)
	require.True(t, ok, "no start position in the restored instance's log")
	require.NoError(t, eng.Attach(ctx, src, dst, names, start))
	catchUp := time.Now()
	var lag replication.Lag
	require.Eventually(t, func() bool {
		// A replica whose I/O thread is still connecting, or reconnecting after losing its
		// source, is not an error: Lag restarts it and says so in its Warning, up to the
		// engine's Reconnect bound (docs/replication-mysql.md#a-replica-that-loses-its-source).
		lag, err = eng.Lag(ctx, src, dst, names)
		require.NoError(t, err)
		return lag.Bytes < 1<<20
	}, 4*time.Minute, 50*time.Millisecond)
	catchUpTook := time.Since(catchUp)

	// Cutover.
	freezeAWS, freezeReal := e.h.Now(), time.Now()
	_, err = e.rds.ModifyDBParameterGroup(ctx, &rds.ModifyDBParameterGroupInput{DBParameterGroupName: aws.String("shop-params"),
		Parameters: []rdstypes.Parameter{{ParameterName: aws.String("read_only"), ParameterValue: aws.String("1"), ApplyMethod: rdstypes.ApplyMethodImmediate}}})
	require.NoError(t, err)
	frozen, err := eng.Freeze(ctx, src, names)
	require.NoError(t, err)
	drainStart := time.Now()
	atCutover, err := eng.Drain(ctx, src, dst, names, frozen.Position)
	require.NoError(t, err)
	drainTook := time.Since(drainStart)
	v, err := eng.Verify(ctx, src, dst)
	require.NoError(t, err)
	require.Empty(t, v.Differences(), "verification at the freeze")
	require.NoError(t, eng.Detach(ctx, dst, names))
	reverseStart, err := eng.PrepareReverse(ctx, dst, names)
	require.NoError(t, err)
	renameAWS, sqlFreezeTook := e.h.Now(), time.Since(freezeReal)
	_, err = e.rds.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("shop"),
		NewDBInstanceIdentifier: aws.String("shop-old"), ApplyImmediately: aws.Bool(true)})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, err := e.rds.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("shop-new"),
			NewDBInstanceIdentifier: aws.String("shop"), ApplyImmediately: aws.Bool(true)})
		return err == nil
	}, 5*time.Minute, 20*time.Millisecond, "the name never came free")
	final := waitInstance(t, e, "shop", "available")
	unfreezeAWS, unfreezeReal := e.h.Now(), time.Now()
	require.Equal(t, addr, instAddr(final), "the original name's address moved")
	old := waitInstance(t, e, "shop-old", "available")
	require.NoError(t, eng.AttachReverse(ctx, endpointOf(final), endpointOf(old), names, reverseStart))

	after := led.count()
	require.Eventually(t, func() bool { return led.count() >= after+200 }, time.Minute, 10*time.Millisecond)
	starts := load.stop()
	cs := led.stop()
	fdb := mariaAt(addr, proofUser, proofPassword, "shop")
	defer fdb.Close()
	a, err := account(ctx, fdb, cs)
	require.NoError(t, err)
	// The reverse stream brings every write made on the new instance to the old one.
	require.Eventually(t, func() bool {
		l, err := eng.Lag(ctx, endpointOf(final), endpointOf(old), names)
		require.NoError(t, err)
		return l.Caught
	}, 2*time.Minute, 50*time.Millisecond)
	back, err := eng.Verify(ctx, endpointOf(final), endpointOf(old))
	require.NoError(t, err)
	gap, gapAt := dataplane.LongestGap(cs)
	led.mu.Lock()
	unknown, refused := led.unknown, led.failed
	led.mu.Unlock()
	t.Logf("replication (scripted), %d GiB: %d commits seen by the client, lost %d, duplicated %d, committed but unseen %d (outcome unknown %d, refused %d); sysbench started %d times",
		proofStorage(t), len(cs), a.Lost, a.Duplicated, a.Unacknowledged, unknown, refused, starts)
	t.Logf("longest gap between commits %s (real clock), %s after the freeze began; freeze to writes accepted: %s real, %s AWS clock (%dx)",
		gap.Round(time.Millisecond), gapAt.Sub(freezeReal).Round(time.Millisecond), unfreezeReal.Sub(freezeReal).Round(time.Millisecond),
		unfreezeAWS.Sub(freezeAWS).Round(time.Second), proofSpeed)
	t.Logf("of which: read_only set, sessions ended, stable position, drain, verification, detach: %s real clock; rename pair until the new instance is available under the name: %s AWS clock",
		sqlFreezeTook.Round(time.Millisecond), unfreezeAWS.Sub(renameAWS).Round(time.Second))
	t.Logf("catch-up to <1 MiB lag %s, drain %s (real clock), lag at cutover %+v, sessions ended %d, tables verified %d (%d rows), snapshot to cutover %s AWS clock",
		catchUpTook.Round(time.Millisecond), drainTook.Round(time.Millisecond), atCutover, frozen.SessionsEnded, len(v.Tables), v.Rows(), freezeAWS.Sub(awsStart).Round(time.Second))
	var warn []string
	for _, f := range findings {
		warn = append(warn, f.Severity+": "+f.What)
	}
	t.Logf("preconditions: %s", strings.Join(warn, "; "))
	require.NoError(t, a.Err(), "committed transactions")
	require.Empty(t, back.Differences(), "old instance after the reverse stream")

	for _, ep := range []replication.Endpoint{endpointOf(final), endpointOf(old)} {
		if err := eng.Cleanup(ctx, ep, names); err != nil && !errors.Is(err, binlog.ErrNotReadOnly) && !strings.Contains(err.Error(), "read_only") {
			t.Fatal(err)
		}
	}
}

// downloadLog reads the whole log file whose name contains part.
func downloadLog(t *testing.T, e *env, id, part string) string {
	t.Helper()
	ctx := context.Background()
	files, err := e.rds.DescribeDBLogFiles(ctx, &rds.DescribeDBLogFilesInput{DBInstanceIdentifier: aws.String(id), FilenameContains: aws.String(part)})
	require.NoError(t, err)
	require.Len(t, files.DescribeDBLogFiles, 1)
	var b strings.Builder
	marker := aws.String("0")
	for {
		out, err := e.rds.DownloadDBLogFilePortion(ctx, &rds.DownloadDBLogFilePortionInput{DBInstanceIdentifier: aws.String(id),
			LogFileName: files.DescribeDBLogFiles[0].LogFileName, Marker: marker})
		require.NoError(t, err)
		b.WriteString(aws.ToString(out.LogFileData))
		if !aws.ToBool(out.AdditionalDataPending) {
			return b.String()
		}
		marker = out.Marker
	}
}
