package output

import (
	"testing"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/fleet"

	"github.com/stretchr/testify/assert"

	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

var fleetT0 = time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC)

func TestFleetLine(t *testing.T) {
	ev := fleet.Event{Time: fleetT0, Region: "us-east-1", Kind: "instance", Source: "orders", MigrationID: "0a1b2c3d",
		State: workflow.StatusRunning, Step: workflow.StepCopy}
	assert.Equal(t, "22:00:00 us-east-1 instance orders [0a1b2c3d] running encrypted-copy", FleetLine(ev))
	ev.State, ev.Calls, ev.Message = fleet.OutcomeFailed, 31, "snapshot x failed;\nnext: resume"
	assert.Equal(t, "22:00:00 us-east-1 instance orders [0a1b2c3d] failed at encrypted-copy (31 API calls): snapshot x failed; next: resume", FleetLine(ev))
	assert.Equal(t, "22:00:00 us-east-1 instance orders-ro skipped: read replica", FleetLine(fleet.Event{Time: fleetT0,
		Region: "us-east-1", Kind: "instance", Source: "orders-ro", State: fleet.OutcomeSkipped, Message: "read replica"}))
}
