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
