package journal

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAuditAppendAndRead(t *testing.T) {
	s := newTestStore(t)
	const id = "a1b2c3d4"

	recs, err := s.ReadAudit(id)
	require.NoError(t, err)
	assert.Empty(t, recs, "no trail yet")

	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	want := []AuditRecord{
		{Time: t0, Type: AuditAPICall, Action: "CreateDBSnapshot", Target: "orders-db", RequestID: "0f1e2d3c-aaaa-bbbb-cccc-0123456789ab",
			AWSTime: t0.Add(time.Second), Outcome: "ok", Step: "snapshot"},
		{Time: t0.Add(time.Minute), Type: AuditApproval, Step: "cutover", Decision: "approve", User: "alice"},
		{Time: t0.Add(2 * time.Minute), Type: AuditStateChange, Step: "cutover", From: "pending", To: "running", Message: "renaming orders-db"},
	}
	for _, r := range want {
		require.NoError(t, s.AppendAudit(id, r))
	}
	recs, err = s.ReadAudit(id)
	require.NoError(t, err)
	assert.Equal(t, want, recs)

	data, err := os.ReadFile(s.AuditPath(id))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	require.Len(t, lines, 3, "one line per record")
	assert.Contains(t, lines[0], `"request_id":"0f1e2d3c-aaaa-bbbb-cccc-0123456789ab"`)
	assert.Contains(t, lines[0], `"aws_time":"2026-03-01T10:00:01Z"`)
	assert.NotContains(t, lines[1], "aws_time", "zero times are omitted")
	assert.NotContains(t, lines[1], "message")
}

func TestAuditDefaults(t *testing.T) {
	s := newTestStore(t)
	before := time.Now()
	require.NoError(t, s.AppendAudit("a1b2c3d4", AuditRecord{Type: AuditApproval, Step: "cutover", Decision: "approve"}))
	recs, err := s.ReadAudit("a1b2c3d4")
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.False(t, recs[0].Time.Before(before.Add(-time.Second)), "time set when zero")
	assert.NotEmpty(t, recs[0].User, "approvals record the OS user")

	assert.Error(t, s.AppendAudit("a1b2c3d4", AuditRecord{Type: "gossip"}), "unknown kinds are refused")
}

func TestAuditRedactsBeforeWriting(t *testing.T) {
	s := newTestStore(t)
	secret := "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	require.NoError(t, s.AppendAudit("a1b2c3d4", AuditRecord{
		Type:    AuditAPICall,
		Action:  "CopyDBSnapshot",
		Outcome: "error: https://rds.eu-west-1.amazonaws.com/?Action=CopyDBSnapshot&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20260301&X-Amz-Signature=abc123",
		Message: "ModifyDBInstance MasterUserPassword=S3cr3t! secret " + secret,
	}))
	data, err := os.ReadFile(s.AuditPath("a1b2c3d4"))
	require.NoError(t, err)
	for _, leak := range []string{"abc123", "AKIAIOSFODNN7EXAMPLE", "S3cr3t!", secret} {
		assert.NotContains(t, string(data), leak)
	}
}

func TestAuditConcurrentAppend(t *testing.T) {
	s := newTestStore(t)
	const writers, each = 8, 25
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				assert.NoError(t, s.AppendAudit("a1b2c3d4", AuditRecord{
					Type: AuditAPICall, Action: "DescribeDBInstances", Message: fmt.Sprintf("w%d-%d %s", w, i, strings.Repeat("x", 2000)),
				}))
			}
		}()
	}
	wg.Wait()
	recs, err := s.ReadAudit("a1b2c3d4")
	require.NoError(t, err)
	assert.Len(t, recs, writers*each, "no record lost or torn")
}

// A line torn by a full disk is skipped with a warning, as a log reader would, and records
// appended after it (once there is room again) are read too: the trail stays readable.
func TestAuditTornLineIsSkippedWithAWarning(t *testing.T) {
	s := newTestStore(t)
	require.NoError(t, s.AppendAudit("a1b2c3d4", AuditRecord{Type: AuditStateChange, Message: "one"}))
	f, err := os.OpenFile(s.AuditPath("a1b2c3d4"), os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`{"time":"2026-`)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	recs, err := s.ReadAudit("a1b2c3d4")
	var skipped *SkippedLinesError
	require.ErrorAs(t, err, &skipped)
	assert.Equal(t, []int{2}, skipped.Lines)
	assert.Contains(t, err.Error(), "warning: skipped 1 unreadable line(s) of "+s.AuditPath("a1b2c3d4")+" (line 2)")
	require.Len(t, recs, 1, "the other records are returned")
	assert.Equal(t, "one", recs[0].Message)

	require.NoError(t, s.AppendAudit("a1b2c3d4", AuditRecord{Type: AuditStateChange, Message: "two"}))
	recs, err = s.ReadAudit("a1b2c3d4")
	require.ErrorAs(t, err, &skipped)
	assert.Equal(t, []int{2}, skipped.Lines, "only the torn line is lost")
	require.Len(t, recs, 2)
	assert.Equal(t, "two", recs[1].Message)
	assert.Contains(t, s.AuditSummary("a1b2c3d4").String(), "warning: skipped 1")
}
