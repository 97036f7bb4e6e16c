package journal

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAuditSummary(t *testing.T) {
	s, err := Open(t.TempDir())
	require.NoError(t, err)
	empty := s.AuditSummary("m1")
	assert.Zero(t, empty.Records)
	assert.Empty(t, empty.Error)

	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, r := range []AuditRecord{
		{Type: AuditStateChange, To: "running"},
		{Type: AuditAPICall, Action: "CreateDBSnapshot", Target: "s1", RequestID: "r1", Outcome: "ok"},
		{Type: AuditApproval, Step: "cutover", Decision: "approve", User: "oncall", Time: at, Message: "rename"},
		{Type: AuditAPICall, Action: "ModifyDBInstance", Target: "db", RequestID: "r2", Outcome: "ok"},
	} {
		require.NoError(t, s.AppendAudit("m1", r))
	}
	sum := s.AuditSummary("m1")
	assert.Equal(t, s.AuditPath("m1"), sum.Path)
	assert.Equal(t, 4, sum.Records)
	assert.Equal(t, map[string]int{AuditAPICall: 2, AuditApproval: 1, AuditStateChange: 1}, sum.ByType)
	require.Len(t, sum.Approvals, 1)
	assert.Equal(t, "oncall", sum.Approvals[0].User)
	assert.Equal(t, at, sum.Approvals[0].Time)
	assert.Contains(t, sum.String(), "2 api-call, 1 approval, 1 state-change")
}
