package tui

import (
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/stretchr/testify/assert"

	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// The end summary of a migration whose source's password was managed in Secrets Manager
// names the secret applications must read from now on (#13 item 6).
func TestSummaryNamesTheNewMasterSecret(t *testing.T) {
	const oldARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-old-AbCdEf"
	const newARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-new-GhIjKl"
	done, _ := feed(testModel(nil), tea.WindowSizeMsg{Width: 200, Height: 60}, DoneMsg{Report: &workflow.Report{
		MigrationID: testID, Source: "orders-db", Status: workflow.StatusCompleted,
		MasterUserSecret: &workflow.MasterSecret{SourceARN: oldARN, NewARN: newARN}}})
	text := flat(done.finalText())
	assert.Contains(t, text, "Master password: applications must read the NEW secret from now on: New secret: "+newARN)
	assert.Contains(t, text, "Old secret (deleted with the retired source at cleanup): "+oldARN)

	rolledBack, _ := feed(testModel(nil), tea.WindowSizeMsg{Width: 200, Height: 60}, DoneMsg{Report: &workflow.Report{
		MigrationID: testID, Source: "orders-db", Status: workflow.StatusRolledBack,
		MasterUserSecret: &workflow.MasterSecret{SourceARN: oldARN, NewARN: newARN}}})
	assert.Contains(t, flat(rolledBack.finalText()), "orders-db kept its master password secret; applications read it as before: "+oldARN)
}
