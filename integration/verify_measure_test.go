package integration

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// TestMariaDBFreezeVerificationMeasured measures the verification inside the freeze of
// --strategy replication on a MariaDB instance with 8 sysbench tables of
// RDSENCRYPT_VERIFY_ROWS rows each, sysbench writing sbtest1 only and the ledger client its
// table for the whole migration: the other 7 tables, nearly all the data, are not written
// during the run (docs/replication-mysql.md#verification-ahead-of-the-freeze). It logs the
// freeze's verification time (local clock), the tables compared inside the freeze and those
// that stood from the verification ahead; 0 commits lost is checked. Skipped unless
// RDSENCRYPT_VERIFY_ROWS is set (timing goes in notes, not assertions). Run:
//
//	RDSENCRYPT_VERIFY_ROWS=300000 go test ./integration -run TestMariaDBFreezeVerificationMeasured -v -timeout 60m
func TestMariaDBFreezeVerificationMeasured(t *testing.T) {
	rows, _ := strconv.Atoi(os.Getenv("RDSENCRYPT_VERIFY_ROWS"))
	if rows <= 0 {
		t.Skip("set RDSENCRYPT_VERIFY_ROWS (rows per sysbench table) to measure")
	}
	const tables = 8
	e := proofEnv(t)
	inst := proofSource(t, e, "shop", proofStorage(t), tables, rows)
	var size int64
	db := mariaAt(instAddr(inst), proofUser, proofPassword, "shop")
	require.NoError(t, db.QueryRowContext(e.ctx(), "SELECT SUM(DATA_LENGTH + INDEX_LENGTH) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop'").Scan(&size))
	db.Close()
	res := migrateUnderLoad(t, e, inst, 1, rows, workflow.RunOptions{Strategy: workflow.StrategyReplication}, false)
	rp := res.report.Replication
	require.NotNil(t, rp)
	line := fmt.Sprintf("%d sysbench tables x %d rows (%d MB), sysbench writing sbtest1 only: freeze verification %.2f s (local clock); "+
		"%d tables compared inside the freeze, %d stood from ahead; %d rows verified; lag at the freeze %d bytes, %.0f s; drain %.2f s; write downtime %s (AWS clock, speed %d); longest gap between commits %s (local clock); commits %d, lost %d, duplicated %d",
		tables, rows, size>>20, rp.VerifySeconds, rp.TablesInFreeze, rp.TablesAhead, rp.RowsVerified, rp.LagAtFreezeBytes, rp.LagAtFreezeSeconds, rp.DrainSeconds,
		res.toolDowntime, proofSpeed, res.gap.Round(time.Millisecond), res.commits, res.lost, res.duplicated)
	var steps []string // each step's seconds (local clock): the catch-up, the verification ahead, ...
	for _, s := range res.report.Steps {
		if s.StartedAt != nil && s.FinishedAt != nil {
			steps = append(steps, fmt.Sprintf("%s %.0f", s.Name, s.FinishedAt.Sub(*s.StartedAt).Seconds()))
		}
	}
	line += "; steps (s): " + strings.Join(steps, ", ")
	t.Log(line)
	fmt.Fprintln(os.Stderr, line)
	require.Zero(t, res.lost, "committed transactions lost")
	require.Zero(t, res.duplicated, "committed transactions duplicated")
}
