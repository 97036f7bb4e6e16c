package output

import (
	"bytes"
	"testing"

	"github.com/rdsencrypt/rdsencrypt/internal/fleet"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

func TestWriteBatchMarkdown(t *testing.T) {
	rep := &fleet.BatchReport{Migrations: []fleet.BatchMigration{
		{Report: workflow.Report{MigrationID: "0a1b2c3d", Source: "orders", Kind: workflow.KindInstance, Region: "us-east-1", APICalls: 80,
			DowntimeSeconds: 1500, Steps: []workflow.StepReport{{Name: workflow.StepParity, Status: workflow.StepDone}}}, Outcome: fleet.OutcomeCompleted, ElapsedSeconds: 3000},
		{Report: workflow.Report{MigrationID: "1a1b2c3d", Source: "bad|name", Kind: workflow.KindInstance, Region: "us-east-1",
			Next: "rdsencrypt resume 1a1b2c3d"}, Outcome: fleet.OutcomeFailed, Reason: "snapshot rdsencrypt-1a1b2c3d-x failed"},
		{Report: workflow.Report{Source: "shop", Kind: workflow.KindCluster, Region: "us-east-1"}, Outcome: fleet.OutcomeSkipped, Reason: "cannot be planned"},
	}}
	// what the batch's summarize makes of these migrations
	rep.Summary = fleet.BatchSummary{Completed: 1, Failed: 1, Skipped: 1, APICalls: 80}
	var buf bytes.Buffer
	require.NoError(t, WriteBatchMarkdown(&buf, rep))
	md := buf.String()
	assert.Contains(t, md, "| 1 | 1 | 0 | 0 | 1 | 80 | 0s |")
	assert.Contains(t, md, "| us-east-1 | instance | orders | 0a1b2c3d | completed | 50m0s | 25m0s | 80 | equal |")
	assert.Contains(t, md, `bad\|name`)
	assert.Contains(t, md, "next: `rdsencrypt resume 1a1b2c3d`")
	assert.Contains(t, md, "**shop** (us-east-1 cluster, skipped): cannot be planned")
}

// A migrated source whose password was managed in Secrets Manager: the batch report names the
// new secret applications must read (#13 item 6); the text report too.
func TestReportsNameTheNewMasterSecret(t *testing.T) {
	const oldARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-old-AbCdEf"
	const newARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-new-GhIjKl"
	r := workflow.Report{MigrationID: "0a1b2c3d", Source: "vault", Kind: workflow.KindInstance, Region: "us-east-1",
		Status: workflow.StatusCompleted, MasterUserSecret: &workflow.MasterSecret{SourceARN: oldARN, NewARN: newARN}}
	rep := &fleet.BatchReport{Migrations: []fleet.BatchMigration{{Report: r, Outcome: fleet.OutcomeCompleted},
		{Report: workflow.Report{Source: "plain", Kind: workflow.KindInstance, Region: "us-east-1"}, Outcome: fleet.OutcomeCompleted}}}
	var md bytes.Buffer
	require.NoError(t, WriteBatchMarkdown(&md, rep))
	assert.Contains(t, md.String(), "## Master password secrets\n\n- **vault** (us-east-1 instance): NEW secret "+newARN+": applications must read it")
	assert.NotContains(t, md.String(), "**plain** (us-east-1 instance): NEW")
	var text bytes.Buffer
	PrintReport(&text, &r)
	assert.Contains(t, text.String(), "master password: NEW secret "+newARN)
	assert.Contains(t, text.String(), oldARN)
}
