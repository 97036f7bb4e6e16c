package fleet

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

func TestCutoverApprover(t *testing.T) {
	ctx := context.Background()
	auto, manual := CutoverApprover(CutoverAuto), CutoverApprover(CutoverManual)
	for _, step := range []string{workflow.StepFreeze, workflow.StepSnapshot, workflow.StepRestore, workflow.StepUnfreeze} {
		d, err := manual.Approve(ctx, workflow.Approval{Step: step})
		require.NoError(t, err)
		assert.Equal(t, workflow.Approve, d, step)
	}
	d, _ := manual.Approve(ctx, workflow.Approval{Step: workflow.StepRenameSource, Downtime: true})
	assert.Equal(t, workflow.Quit, d, "manual stops before the cutover")
	d, _ = manual.Approve(ctx, workflow.Approval{Step: workflow.StepCutoverEndpoint + ":reporting"})
	assert.Equal(t, workflow.Quit, d, "the cluster flavor's cutover steps too")
	d, _ = auto.Approve(ctx, workflow.Approval{Step: workflow.StepRenameSource, Downtime: true})
	assert.Equal(t, workflow.Approve, d)
	d, _ = auto.Approve(ctx, workflow.Approval{Step: workflow.StepRenameSource, Differences: []workflow.Difference{{Setting: "Port"}}})
	assert.Equal(t, workflow.Quit, d, "parity differences always stop")
}

// instanceSteps are the steps of the instance route, in order.
var instanceSteps = []string{workflow.StepPreflight, workflow.StepFreeze, workflow.StepSnapshot, workflow.StepCopy, workflow.StepRestore,
	workflow.StepModify, workflow.StepParity, workflow.StepRenameSource, workflow.StepRenameTarget, workflow.StepUnfreeze, workflow.StepVerify}

func stepsAt(pending string) []workflow.StepReport {
	var out []workflow.StepReport
	status := workflow.StepDone
	for _, name := range instanceSteps {
		if name == pending {
			status = workflow.StepPending
		}
		out = append(out, workflow.StepReport{Name: name, Status: status})
	}
	return out
}

func TestClassify(t *testing.T) {
	it := BatchItem{Kind: workflow.KindInstance, Region: "us-east-1", Source: "orders"}
	stopped := &workflow.Error{Problem: "stopped", Err: workflow.ErrStopped, Next: "rdsencrypt resume 0a1b2c3d"}

	m := classify(it, CutoverAuto, &workflow.Report{MigrationID: "0a1b2c3d", Status: workflow.StatusCompleted, Steps: stepsAt("")}, nil, false)
	assert.Equal(t, OutcomeCompleted, m.Outcome)

	m = classify(it, CutoverManual, &workflow.Report{MigrationID: "0a1b2c3d", Status: workflow.StatusPaused, Steps: stepsAt(workflow.StepRenameSource)}, stopped, false)
	assert.Equal(t, OutcomeAwaitingCutover, m.Outcome)
	assert.Contains(t, m.Next, "rdsencrypt resume 0a1b2c3d")

	m = classify(it, CutoverAuto, &workflow.Report{MigrationID: "0a1b2c3d", Status: workflow.StatusPaused, Steps: stepsAt(workflow.StepRenameSource),
		Parity: workflow.Parity{Differences: []workflow.Difference{{Setting: "Port"}}}}, stopped, false)
	assert.Equal(t, OutcomeStopped, m.Outcome)
	assert.Contains(t, m.Reason, "1 parity difference")

	m = classify(it, CutoverManual, &workflow.Report{MigrationID: "0a1b2c3d", Status: workflow.StatusPaused, Steps: stepsAt(workflow.StepCopy)}, stopped, true)
	assert.Equal(t, OutcomeStopped, m.Outcome, "interrupted, not prepared")
	assert.Equal(t, "rdsencrypt resume 0a1b2c3d", m.Next)

	failed := &workflow.Error{Problem: "migration 0a1b2c3d of orders failed at snapshot", Err: errors.New("snapshot failed"),
		Next: "rdsencrypt resume 0a1b2c3d (after fixing the cause) or rdsencrypt rollback 0a1b2c3d"}
	m = classify(it, CutoverAuto, &workflow.Report{MigrationID: "0a1b2c3d", Status: workflow.StatusFailed, Steps: stepsAt(workflow.StepSnapshot)}, failed, false)
	assert.Equal(t, OutcomeFailed, m.Outcome)
	assert.Contains(t, m.Reason, "failed at snapshot")
	assert.Contains(t, m.Next, "rdsencrypt resume 0a1b2c3d")

	m = classify(it, CutoverAuto, nil, errors.New("DB instance orders is \"creating\", not available"), false)
	assert.Equal(t, OutcomeFailed, m.Outcome)
	assert.Equal(t, "orders", m.Source)
	assert.NotNil(t, m.Steps)
}
