package tui

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// No literal {id} reaches the screen: a preflight that fails before a journal exists shows
// no resume command, and the rollback and cleanup approvals name their own command with the
// id their approval carries.
func TestNoIDPlaceholderOnScreen(t *testing.T) {
	preflight := errors.New(`DB instance "nope" not found in eu-west-1`)
	m, _ := feed(testModel(nil), DoneMsg{Err: &workflow.Error{Problem: preflight.Error(), Next: "rdsencrypt plan --db nope --kms-key k"}})
	text := m.finalText()
	assert.NotContains(t, text, "{id}")
	assert.NotContains(t, text, "Resume:")

	for step, want := range map[string]string{
		"rollback": "rdsencrypt rollback " + testID,
		"cleanup":  "rdsencrypt cleanup " + testID,
	} {
		reply := make(chan workflow.Decision, 1)
		m, _ := feed(testModel(nil), approvalFor(step, reply))
		view := m.View()
		assert.NotContains(t, view, "{id}", step)
		assert.Contains(t, flat(view), want, step)
		assert.NotContains(t, view, "resume", step)
	}
}

// flat joins a wrapped screen back into one line of words.
func flat(view string) string { return strings.Join(strings.Fields(view), " ") }
