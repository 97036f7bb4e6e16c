package output

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// The completion report's warnings (a PostgreSQL replication run's WAL kept for the retired
// source, review S7) reach the text report and the JSON one.
func TestReportCarriesItsWarnings(t *testing.T) {
	const line = "replication (PostgreSQL): after the cutover the new ledger keeps WAL for the retired source"
	r := workflow.Report{MigrationID: "0a1b2c3d", Source: "ledger", Kind: workflow.KindInstance, Region: "us-east-1",
		Status: workflow.StatusCompleted, Warnings: []string{line}, Next: "rdsencrypt cleanup 0a1b2c3d"}
	var text bytes.Buffer
	PrintReport(&text, &r)
	assert.Contains(t, text.String(), "! "+line+"\nnext: rdsencrypt cleanup 0a1b2c3d")
	var js bytes.Buffer
	require.NoError(t, WriteJSON(&js, &r))
	assert.Contains(t, js.String(), `"warnings": [`)
	assert.Contains(t, js.String(), line)
}

// The plan's cutover renames, in order and with their downtime mark, reach the text plan and
// the JSON one; a replica swapped after the unfreeze under the replication strategy is not
// reported as having served stale reads.
func TestPlanShowsTheCutoverRenames(t *testing.T) {
	p := workflow.Plan{Kind: workflow.KindInstance, Source: "orders", Mode: workflow.ModeEncrypt, Renames: []workflow.PlannedRename{
		{Step: workflow.StepRenameSource, Region: "us-east-1", From: "orders", To: "orders-old-m1", Downtime: true},
		{Step: workflow.StepReplicaRetire + ":us-east-1/orders-ro", Region: "us-east-1", From: "orders-ro", To: "orders-ro-old-m1"}}}
	var text bytes.Buffer
	PrintPlan(&text, &p)
	assert.Contains(t, text.String(), "Cutover renames, in order")
	assert.Contains(t, text.String(), "  cutover-retire-source: orders -> orders-old-m1 (us-east-1) [downtime]\n  replica-retire:us-east-1/orders-ro: orders-ro -> orders-ro-old-m1 (us-east-1)\n")
	var js bytes.Buffer
	require.NoError(t, WriteJSON(&js, &p))
	assert.Contains(t, js.String(), `"cutover_renames": [`)

	r := workflow.Report{MigrationID: "m1", Source: "orders", Kind: workflow.KindInstance, Status: workflow.StatusCompleted,
		Replicas: []workflow.ReplicaReport{{Replica: "us-east-1/orders-ro", Swapped: true, Followed: true}}}
	text.Reset()
	PrintReport(&text, &r)
	assert.Contains(t, text.String(), "followed the retired source")
	assert.NotContains(t, text.String(), "stale reads")
}

// A rollback after cutover reports its reverse drain's figures (time, tables and rows verified,
// how many stood from the pass ahead) in the text report and the JSON one, as the forward
// cutover does.
func TestRollbackReportsTheReverseDrain(t *testing.T) {
	rd := workflow.DrainFigures{DrainSeconds: 1.5, TablesVerified: 5, RowsVerified: 100042, TablesAhead: 3, TablesInFreeze: 2, VerifySeconds: 0.3, SequencesSynced: 2,
		TablesByKeys: 1, KeysCompared: 12345}
	r := workflow.Report{MigrationID: "0a1b2c3d", Source: "ledger", Kind: workflow.KindInstance, Region: "us-east-1", Status: workflow.StatusRolledBack,
		Strategy: workflow.StrategyReplication, Replication: &workflow.ReplicationState{Engine: "postgres", ReverseDrain: &rd}}
	var text bytes.Buffer
	PrintReport(&text, &r)
	assert.Contains(t, text.String(), "rollback after cutover: reverse stream into the retired source drain 1.5 s (local clock); verified 5 tables, 100042 rows (3 ahead of the freeze, 1 of them by their 12345 changed keys inside it, 2 in full inside it in 0.3 s); 2 sequences set\n")
	var js bytes.Buffer
	require.NoError(t, WriteJSON(&js, &r))
	assert.Contains(t, js.String(), `"reverse_drain": {`)
	assert.Contains(t, js.String(), `"rows_verified": 100042`)
	assert.Contains(t, js.String(), `"keys_compared": 12345`)
}
