package workflow

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// Durations between AWS times are never negative, even when the two readings came from
// clocks that disagree by less than their resolution (the Date header's second) or from two
// regions.
func TestReportDurationsAreNeverNegative(t *testing.T) {
	freeze := time.Date(2030, 1, 1, 10, 0, 0, 0, time.UTC)
	st := &State{ID: "0a1b2c3d", Status: StatusCompleted, FreezeAt: freeze, CutoverDoneAt: freeze.Add(-15 * time.Millisecond),
		UnfreezeAt: freeze, Replicas: []ReplicaState{{ID: "r1", Region: "us-east-1", PromotedAt: freeze.Add(-time.Second)}}}
	rep := ReportOf(st)
	assert.Zero(t, rep.DowntimeSeconds)
	assert.Len(t, rep.Replicas, 1)
	for _, rr := range rep.Replicas {
		assert.GreaterOrEqual(t, rr.StaleReadSeconds, 0.0, rr.Replica)
	}
	st.CutoverDoneAt = freeze.Add(90 * time.Second)
	assert.Equal(t, 90.0, ReportOf(st).DowntimeSeconds)
}
