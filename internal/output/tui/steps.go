package tui

import (
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// Step states as the UI shows them (the journal's names).
const (
	stepPending = workflow.StepPending
	stepRunning = workflow.StepRunning
	stepDone    = workflow.StepDone
	stepSkipped = workflow.StepSkipped
	stepFailed  = workflow.StepFailed
)

// stepRun is what the UI knows of one step, from the plan and the events.
type stepRun struct {
	planned  workflow.PlannedStep
	state    string
	started  time.Time
	finished time.Time
	resource string
	status   string // AWS status of the resource being waited on
	percent  int    // -1 when AWS gives no progress
	err      error
	// awsStarted is the AWS time of the first AWS response after the step started: the
	// step's start on the clock its estimate is on.
	awsStarted time.Time
}

// runState is the live state of a run, folded from workflow events.
type runState struct {
	migrationID string
	plan        *workflow.Plan
	steps       []stepRun
	current     int // index of the running step, -1 when none
	// downStart and downEnd bound the write downtime: from the start of the first
	// downtime step to the end of the last one in the plan.
	downStart time.Time
	downEnd   time.Time
	finished  *workflow.Report // from EventFinished
	// awsNow is the latest AWS time (Date header) seen; awsDownStart the AWS time the write
	// downtime began at. Estimates are on the AWS clock, so elapsed figures are too when known.
	awsNow, awsDownStart time.Time
}

func newRunState() runState { return runState{current: -1} }

// find returns the position of step name, or -1.
func (p *runState) find(name string) int {
	for i := range p.steps {
		if p.steps[i].planned.Name == name {
			return i
		}
	}
	return -1
}

// index returns the position of step name, adding it when the plan did not list it.
func (p *runState) index(name string) int {
	for i := range p.steps {
		if p.steps[i].planned.Name == name {
			return i
		}
	}
	p.steps = append(p.steps, stepRun{planned: workflow.PlannedStep{Name: name}, state: stepPending, percent: -1})
	return len(p.steps) - 1
}

// setPlan lays out the steps of the plan, keeping what events already said about them.
func (p *runState) setPlan(plan *workflow.Plan) {
	p.plan = plan
	if plan == nil {
		return
	}
	if plan.MigrationID != "" {
		p.migrationID = plan.MigrationID
	}
	old := p.steps
	p.steps = nil
	for _, ps := range plan.Steps {
		r := stepRun{planned: ps, state: stepPending, percent: -1}
		for _, o := range old {
			if o.planned.Name == ps.Name {
				o.planned = ps
				r = o
			}
		}
		p.steps = append(p.steps, r)
	}
	for _, o := range old { // steps the plan does not list stay visible
		found := false
		for _, ps := range plan.Steps {
			found = found || ps.Name == o.planned.Name
		}
		if !found {
			p.steps = append(p.steps, o)
		}
	}
	p.current = -1
	for i := range p.steps {
		if p.steps[i].state == stepRunning {
			p.current = i
		}
	}
}

// lastDowntimeStep is the index of the step whose end ends the downtime, or -1.
func (p *runState) lastDowntimeStep() int {
	last := -1
	for i, s := range p.steps {
		if s.planned.Downtime {
			last = i
		}
	}
	return last
}

// observe folds one event into the progress.
func (p *runState) observe(e workflow.Event) {
	if e.MigrationID != "" {
		p.migrationID = e.MigrationID
	}
	if c := e.Call; c != nil && !c.AWSTime.IsZero() && c.AWSTime.After(p.awsNow) {
		p.awsNow = c.AWSTime
		if s, _, ok := p.running(); ok && s.awsStarted.IsZero() {
			p.steps[p.current].awsStarted = c.AWSTime
		}
		if !p.downStart.IsZero() && p.awsDownStart.IsZero() && p.downEnd.IsZero() {
			p.awsDownStart = c.AWSTime
		}
	}
	switch e.Type {
	case workflow.EventPlan:
		if e.Report != nil {
			p.steps, p.downStart, p.downEnd = nil, time.Time{}, time.Time{} // the journal's plan replaces what was shown
		}
		p.setPlan(e.Plan)
		if e.Report != nil { // a resumed run: the journal says where each step stands
			for _, sr := range e.Report.Steps {
				i := p.find(sr.Name)
				if i < 0 {
					continue // a rollback or cleanup: its plan has its own one step
				}
				switch sr.Status {
				case stepDone, stepSkipped, stepFailed:
					p.steps[i].state = sr.Status
				}
				if sr.StartedAt != nil {
					p.steps[i].started = *sr.StartedAt
				}
			}
		}
	case workflow.EventStepStarted:
		i := p.index(e.Step)
		s := &p.steps[i]
		s.state, s.started, s.finished = stepRunning, e.Time, time.Time{}
		s.resource, s.status, s.percent, s.err = e.Resource, e.Status, -1, nil
		p.current = i
		if s.planned.Downtime && p.downStart.IsZero() {
			p.downStart = e.Time
		}
	case workflow.EventStepProgress:
		i := p.index(e.Step)
		s := &p.steps[i]
		if s.state == stepPending { // a resumed step may report before it says it started
			s.state, s.started = stepRunning, e.Time
			p.current = i
		}
		if e.Resource != "" {
			s.resource = e.Resource
		}
		if e.Status != "" {
			s.status = e.Status
		}
		s.percent = e.Percent
	case workflow.EventStepDone, workflow.EventStepSkipped, workflow.EventStepFailed:
		i := p.index(e.Step)
		s := &p.steps[i]
		s.finished = e.Time
		switch e.Type {
		case workflow.EventStepDone:
			s.state = stepDone
		case workflow.EventStepSkipped:
			s.state = stepSkipped
		default:
			s.state, s.err = stepFailed, e.Err
		}
		if p.current == i {
			p.current = -1
		}
		if e.Type != workflow.EventStepFailed && i == p.lastDowntimeStep() && !p.downStart.IsZero() {
			p.downEnd = e.Time
		}
	case workflow.EventFinished:
		p.finished = e.Report
	}
}

// running returns the running step, if any.
func (p *runState) running() (stepRun, int, bool) {
	if p.current < 0 || p.current >= len(p.steps) {
		return stepRun{}, -1, false
	}
	return p.steps[p.current], p.current, true
}

// position says "3/11" for step name.
func (p *runState) position(name string) (int, int) {
	for i, s := range p.steps {
		if s.planned.Name == name {
			return i + 1, len(p.steps)
		}
	}
	return 0, len(p.steps)
}

// planned returns the planned step called name.
func (p *runState) planned(name string) workflow.PlannedStep {
	for _, s := range p.steps {
		if s.planned.Name == name {
			return s.planned
		}
	}
	return workflow.PlannedStep{Name: name}
}

// awsDowntime is the write downtime so far on the AWS clock, when AWS times were seen.
func (p *runState) awsDowntime() (time.Duration, bool) {
	if p.awsDownStart.IsZero() || !p.downEnd.IsZero() || p.downStart.IsZero() {
		return 0, false
	}
	return p.awsNow.Sub(p.awsDownStart), true
}

// downtime is the write downtime so far at now, and whether it is still running.
func (p *runState) downtime(now time.Time) (time.Duration, bool) {
	if p.downStart.IsZero() {
		return 0, false
	}
	if !p.downEnd.IsZero() {
		return p.downEnd.Sub(p.downStart), false
	}
	return max(0, now.Sub(p.downStart)), true
}

// downtimeBegan says whether a downtime step before step is already done: on a resumed run
// the downtime began before this run saw it.
func (p *runState) downtimeBegan(step string) bool {
	for _, s := range p.steps {
		if s.planned.Name == step {
			return false
		}
		if s.planned.Downtime && (s.state == stepDone || s.state == stepSkipped) {
			return true
		}
	}
	return false
}
