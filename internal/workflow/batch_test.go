package workflow

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCutoverApprover(t *testing.T) {
	ctx := context.Background()
	auto, manual := CutoverApprover(CutoverAuto), CutoverApprover(CutoverManual)
	for _, step := range []string{StepFreeze, StepSnapshot, StepRestore, StepUnfreeze} {
		d, err := manual.Approve(ctx, Approval{Step: step})
		require.NoError(t, err)
		assert.Equal(t, Approve, d, step)
	}
	d, _ := manual.Approve(ctx, Approval{Step: StepRenameSource, Downtime: true})
	assert.Equal(t, Quit, d, "manual stops before the cutover")
	d, _ = manual.Approve(ctx, Approval{Step: stepName(StepCutoverEndpoint, "reporting")})
	assert.Equal(t, Quit, d, "the cluster flavor's cutover steps too")
	d, _ = auto.Approve(ctx, Approval{Step: StepRenameSource, Downtime: true})
	assert.Equal(t, Approve, d)
	d, _ = auto.Approve(ctx, Approval{Step: StepRenameSource, Differences: []Difference{{Setting: "Port"}}})
	assert.Equal(t, Quit, d, "parity differences always stop")
}

func stepsAt(pending string) []StepReport {
	var out []StepReport
	status := StepDone
	for _, s := range instanceSteps {
		if s.name == pending {
			status = StepPending
		}
		out = append(out, StepReport{Name: s.name, Status: status})
	}
	return out
}

func TestClassify(t *testing.T) {
	it := BatchItem{Kind: KindInstance, Region: "us-east-1", Source: "orders"}
	stopped := &Error{Problem: "stopped", Err: ErrStopped, Next: "rdsencrypt resume 0a1b2c3d"}

	m := classify(it, CutoverAuto, &Report{MigrationID: "0a1b2c3d", Status: StatusCompleted, Steps: stepsAt("")}, nil, false)
	assert.Equal(t, OutcomeCompleted, m.Outcome)

	m = classify(it, CutoverManual, &Report{MigrationID: "0a1b2c3d", Status: StatusPaused, Steps: stepsAt(StepRenameSource)}, stopped, false)
	assert.Equal(t, OutcomeAwaitingCutover, m.Outcome)
	assert.Contains(t, m.Next, "rdsencrypt resume 0a1b2c3d")

	m = classify(it, CutoverAuto, &Report{MigrationID: "0a1b2c3d", Status: StatusPaused, Steps: stepsAt(StepRenameSource),
		Parity: Parity{Differences: []Difference{{Setting: "Port"}}}}, stopped, false)
	assert.Equal(t, OutcomeStopped, m.Outcome)
	assert.Contains(t, m.Reason, "1 parity difference")

	m = classify(it, CutoverManual, &Report{MigrationID: "0a1b2c3d", Status: StatusPaused, Steps: stepsAt(StepCopy)}, stopped, true)
	assert.Equal(t, OutcomeStopped, m.Outcome, "interrupted, not prepared")
	assert.Equal(t, "rdsencrypt resume 0a1b2c3d", m.Next)

	failed := &Error{Problem: "migration 0a1b2c3d of orders failed at snapshot", Err: errors.New("snapshot failed"),
		Next: "rdsencrypt resume 0a1b2c3d (after fixing the cause) or rdsencrypt rollback 0a1b2c3d"}
	m = classify(it, CutoverAuto, &Report{MigrationID: "0a1b2c3d", Status: StatusFailed, Steps: stepsAt(StepSnapshot)}, failed, false)
	assert.Equal(t, OutcomeFailed, m.Outcome)
	assert.Contains(t, m.Reason, "failed at snapshot")
	assert.Contains(t, m.Next, "rdsencrypt resume 0a1b2c3d")

	m = classify(it, CutoverAuto, nil, errors.New("DB instance orders is \"creating\", not available"), false)
	assert.Equal(t, OutcomeFailed, m.Outcome)
	assert.Equal(t, "orders", m.Source)
	assert.NotNil(t, m.Steps)
}
