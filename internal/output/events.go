package output

import (
	"fmt"
	"io"
	"sync"

	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// PlainObserver writes one plain line per event (time, what happened; no escape codes) for
// runs without a terminal and for logs. Progress is written only when the status changes
// or the percentage moves by 10 points or more. Use it as a pointer: &PlainObserver{Out: w}.
type PlainObserver struct {
	Out io.Writer
	// Calls also prints a line per AWS call (they are always in the audit trail).
	Calls bool

	mu   sync.Mutex
	last map[string]progressSeen // by step
}

type progressSeen struct {
	status  string
	percent int
}

// progressStep is the smallest change of percentage worth a line.
const progressStep = 10

// Notify writes e, unless it is progress too small to mention.
func (o *PlainObserver) Notify(e workflow.Event) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.last == nil {
		o.last = map[string]progressSeen{}
	}
	switch e.Type {
	case workflow.EventAPICall:
		if !o.Calls {
			return
		}
	case workflow.EventStepStarted:
		o.last[e.Step] = progressSeen{status: e.Status, percent: -1}
	case workflow.EventStepProgress:
		prev, seen := o.last[e.Step]
		if seen && !worthALine(prev, e) {
			return
		}
		next := progressSeen{status: e.Status, percent: e.Percent}
		if e.Status == "" {
			next.status = prev.status
		}
		o.last[e.Step] = next
	}
	fmt.Fprintf(o.Out, "%s %s\n", e.Time.Format("15:04:05"), EventLine(e))
}

// worthALine says whether progress e differs enough from what was last written.
func worthALine(prev progressSeen, e workflow.Event) bool {
	if e.Status != "" && e.Status != prev.status {
		return true
	}
	switch {
	case e.Percent < 0:
		return false
	case prev.percent < 0:
		return true
	case e.Percent == 100 && prev.percent != 100:
		return true
	}
	d := e.Percent - prev.percent
	return d >= progressStep || d <= -progressStep
}

var _ workflow.Observer = (*PlainObserver)(nil)
