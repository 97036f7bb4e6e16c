package output

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

func TestLinePrompter(t *testing.T) {
	tests := []struct {
		name   string
		step   string
		input  string
		want   workflow.Decision
		output []string
	}{
		{"y approves", "freeze-writes", "y\n", workflow.Approve, nil},
		{"yes approves", "freeze-writes", "YES\n", workflow.Approve, nil},
		{"s skips a skippable step", "freeze-writes", "s\n", workflow.Skip, []string{"[y]es/[s]kip/[r]ollback/[q]uit"}},
		{"s is refused when not skippable", "cutover-retire-source", "s\nq\n", workflow.Quit,
			[]string{"Step cutover-retire-source cannot be skipped.", "[y]es/[r]ollback/[q]uit"}},
		{"r rolls back", "cutover-retire-source", "r\n", workflow.Rollback, nil},
		{"q quits", "freeze-writes", "q\n", workflow.Quit, nil},
		{"empty lines and nonsense ask again", "freeze-writes", "\nmaybe\ny\n", workflow.Approve, []string{"Please answer"}},
		{"end of input quits", "freeze-writes", "", workflow.Quit, []string{"end of input"}},
		{"last line without newline counts", "freeze-writes", "y", workflow.Approve, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			p := &LinePrompter{In: strings.NewReader(tt.input), Out: &out}
			d, err := p.Approve(context.Background(), approvalFor(tt.step, nil).Approval)
			require.NoError(t, err)
			assert.Equal(t, tt.want, d)
			for _, s := range tt.output {
				assert.Contains(t, out.String(), s)
			}
			assert.NotContains(t, out.String(), "\x1b[", "no escape codes")
		})
	}
}

func TestLinePrompterPrintsDetailsFirst(t *testing.T) {
	var out bytes.Buffer
	p := &LinePrompter{In: strings.NewReader("y\n"), Out: &out}
	_, err := p.Approve(context.Background(), approvalFor("cutover-retire-source", nil).Approval)
	require.NoError(t, err)
	s := out.String()
	for _, want := range []string{
		"Step cutover-retire-source: Rename orders-db",
		"Before you approve:\n  - Keep application writes stopped",
		"DOWNTIME:",
		"What this step does:\n  - ModifyDBInstance",
		`orders-db CACertificateIdentifier: source "rds-ca-2019", new "rds-ca-rsa2048-g1"`,
	} {
		assert.Contains(t, s, want)
	}
	assert.Less(t, strings.Index(s, "DOWNTIME"), strings.Index(s, "Approve step cutover-retire-source?"))
}

func TestLinePrompterHonoursContextAndKeepsPendingRead(t *testing.T) {
	pr, pw := io.Pipe()
	var out bytes.Buffer
	p := &LinePrompter{In: pr, Out: &out}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	d, err := p.Approve(ctx, approvalFor("freeze-writes", nil).Approval)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, workflow.Quit, d)

	// The line typed later answers the next prompt, read by the same reader.
	go func() { _, _ = pw.Write([]byte("r\n")) }()
	d, err = p.Approve(context.Background(), approvalFor("freeze-writes", nil).Approval)
	require.NoError(t, err)
	assert.Equal(t, workflow.Rollback, d)
}
