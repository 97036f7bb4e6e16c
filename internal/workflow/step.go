package workflow

import (
	"context"
	"slices"
	"strings"
	"time"
)

// step is one step of a route, declared once: what the plan and the approval say about it,
// what the engine runs, what iam-policy allows for it and what rollback does about it. A
// route is an ordered table of steps (instance_route.go, replica_route.go,
// cluster_route.go); docs/steps.md is the contract and says how to add one.
type step struct {
	// name is the step's name in the journal; a step repeated per subject (a replica, a
	// member, an endpoint) is journaled as "<name>:<subject>".
	name string
	// describe says what the step does, for the plan and the approval; describeSubject
	// replaces it for a step repeated per subject.
	describe        func(p *Plan, n Names) string
	describeSubject func(p *Plan, subject string) string

	// actions are the AWS calls the step makes, as the plan and the approval list them. A
	// step that makes none says why in local.
	actions []string
	local   string
	// permissions are the IAM actions the step needs besides its actions: the reads of
	// observe and wait, tags given on create (authorized as rds:AddTagsToResource), KMS
	// grants RDS makes on the caller's behalf. iam-policy allows actions and permissions
	// of every step of every route, and nothing else (IAMActions).
	permissions []string
	// mutating steps change something and need an approval; downtime steps run while
	// application writes are frozen; a skippable step may be skipped at its approval.
	mutating, downtime, skippable bool
	// estimate is how long the step takes, shown by plan.
	estimate estimate
	// undo says what rollback does about the step's effect, or why nothing is needed.
	// Rollback is one function per route (route.undo), which reverses the effects in the
	// order of urgency, not of the steps: the source's name first.
	undo string

	// observe reports whether the step's effect already exists in AWS, so that a resumed run
	// never repeats it; nil: the step always applies.
	observe func(ctx context.Context, r *run) (bool, error)
	// apply makes the step's side effect; the engine journals the intent before it.
	apply func(ctx context.Context, r *run) error
	// wait blocks until AWS reports the effect complete; the engine journals the outcome
	// after it.
	wait func(ctx context.Context, r *run) error
	// approval adds step-specific details to the approval request.
	approval func(r *run, a *Approval)
	// approvedWith names the earlier step whose approval covers this one: once that step is
	// done this one runs without asking (the two renames of a cutover are one operation; the
	// endpoint is dark between them).
	approvedWith string
}

// text describes the step for a plan or an approval.
func (s step) text(p *Plan, n Names, subject string) string {
	if s.describeSubject != nil {
		return s.describeSubject(p, subject)
	}
	return s.describe(p, n)
}

// stepByName finds the step a journal step kind names in a route's table.
func stepByName(steps []step, name string) (step, bool) {
	i := slices.IndexFunc(steps, func(s step) bool { return s.name == name })
	if i < 0 {
		return step{}, false
	}
	return steps[i], true
}

// estimate is a rough duration: base plus perGB for each GiB of allocated storage. AWS
// publishes no per-GiB rates: the figures come from public reports, grow with storage, and
// are shown as estimates, never promised (docs/steps.md).
type estimate struct {
	base  time.Duration
	perGB time.Duration
}

// at is the estimate for a source of storageGiB.
func (e estimate) at(storageGiB int32) time.Duration {
	return e.base + time.Duration(storageGiB)*e.perGB
}

// Step names in the journal are "<step>" or "<step>:<subject>" for steps repeated per
// subject (a replica, a cluster member, an endpoint).
func stepName(kind, subject string) string {
	if subject == "" {
		return kind
	}
	return kind + ":" + subject
}

// splitStep returns the step kind and subject of a journal step name.
func splitStep(name string) (kind, subject string) {
	kind, subject, _ = strings.Cut(name, ":")
	return kind, subject
}

// IsCutoverStep reports whether a step starts the cutover: the source's endpoint stops
// answering. Every route names its cutover steps "cutover-...".
func IsCutoverStep(step string) bool {
	kind, _ := splitStep(step)
	return kind == StepRenameSource || strings.HasPrefix(kind, "cutover")
}
