package workflow

import (
	"context"
	"time"
)

// EventType says what happened in a migration.
type EventType string

// The events an engine emits, in the order a step produces them.
const (
	EventPlan         EventType = "plan"          // the plan is ready (Event.Plan)
	EventStepStarted  EventType = "step-started"  // a step begins (after approval)
	EventStepProgress EventType = "step-progress" // a poll saw a status or progress change
	EventStepDone     EventType = "step-done"
	EventStepSkipped  EventType = "step-skipped"
	EventStepFailed   EventType = "step-failed" // Event.Err says why
	EventAPICall      EventType = "api-call"    // one AWS call (Event.Call)
	EventLog          EventType = "log"         // a line worth showing the operator
	EventFinished     EventType = "finished"    // the run ended (Event.Report)
)

// Event is one thing that happened in a migration, for the UI, logs and the audit trail.
// Events never carry secrets.
type Event struct {
	Time        time.Time // local time of the event
	MigrationID string
	Type        EventType
	Step        string
	Resource    string // identifier the event is about
	Status      string // AWS status string of the resource being waited on
	Percent     int    // 0-100 when AWS reports progress, -1 otherwise
	Message     string
	Err         error
	Call        *APICall
	Plan        *Plan
	Report      *Report
}

// APICall records one AWS API call.
type APICall struct {
	Action    string
	Region    string
	Target    string
	RequestID string
	AWSTime   time.Time
	Error     string // empty on success
	// NotFound marks a lookup that found nothing: usually the tool checking whether a
	// resource it is about to create already exists, not a failure.
	NotFound bool
}

// Observer receives events. Notify must not block for long; the engine calls it inline.
type Observer interface {
	Notify(Event)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(Event)

// Notify calls f(e).
func (f ObserverFunc) Notify(e Event) { f(e) }

// Decision is the operator's answer to an approval request.
type Decision int

// The answers an approver can give.
const (
	Approve  Decision = iota // run the step
	Skip                     // skip the step; offered only when Approval.Skippable
	Rollback                 // stop and roll back everything done so far
	Quit                     // stop here, leaving the migration resumable
)

func (d Decision) String() string {
	switch d {
	case Approve:
		return "approve"
	case Skip:
		return "skip"
	case Rollback:
		return "rollback"
	}
	return "quit"
}

// Approval asks the operator to let a mutating step run.
type Approval struct {
	MigrationID string
	Step        string
	// Summary is one line: what the step will do.
	Summary string
	// Details are the lines an operator should read first: actions, API calls, effects.
	Details []string
	// Instructions say what the operator must do before approving (stop writes, ...).
	Instructions []string
	// Downtime is true when approving starts or continues application downtime.
	Downtime  bool
	Skippable bool
	// Differences lists parity differences the operator is asked to accept.
	Differences []Difference
	// Precopy is true when the migration runs the pre-copy before the freeze
	// (RunOptions.Precopy): everything that can be prepared runs before the freeze step.
	Precopy bool
}

// ManualCutoverStop reports whether a manual cutover (migrate --prepare, batch --cutover
// manual) stops before this approval: with the pre-copy, before the write freeze, once
// everything that can run while writes continue has run; without it, before the first
// cutover step (writes are frozen from the snapshot on, as the whole route is inside).
func ManualCutoverStop(a Approval) bool {
	if a.Precopy {
		return a.Step == StepFreeze
	}
	return IsCutoverStep(a.Step)
}

// IsManualStopStep reports whether a step is one a manual cutover stops before (the freeze
// or a cutover step): a migration paused there is prepared and awaits its cutover.
func IsManualStopStep(step string) bool {
	return step == StepFreeze || IsCutoverStep(step)
}

// PrepareOnly wraps an approver so that it stops where a manual cutover does
// (ManualCutoverStop), leaving the migration paused and resumable (migrate --prepare).
func PrepareOnly(next Approver) Approver {
	return ApproverFunc(func(ctx context.Context, a Approval) (Decision, error) {
		if ManualCutoverStop(a) {
			return Quit, nil
		}
		return next.Approve(ctx, a)
	})
}

// Approver says yes or no to a step: the TUI, a line prompt, --yes, or a batch policy.
type Approver interface {
	Approve(ctx context.Context, a Approval) (Decision, error)
}

// ApproverFunc adapts a function to Approver.
type ApproverFunc func(ctx context.Context, a Approval) (Decision, error)

// Approve calls f.
func (f ApproverFunc) Approve(ctx context.Context, a Approval) (Decision, error) { return f(ctx, a) }

// AutoApprove approves every step (--yes), except that it never accepts parity differences:
// a difference stops the migration before cutover, for a person to review.
// It acknowledges everything (iam_auth.go): the CLI's --yes uses AutoApproveAcknowledging.
var AutoApprove Approver = autoApprover{all: true}
