package output

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/rdsencrypt/rdsencrypt/internal/fleet"

	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// PlainFleet writes one line per fleet event, for runs without a terminal and for logs.
// Use it as a pointer: &PlainFleet{Out: w}.
type PlainFleet struct {
	Out io.Writer
	mu  sync.Mutex
}

// FleetUpdate writes the event as one line.
func (p *PlainFleet) FleetUpdate(ev fleet.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintln(p.Out, FleetLine(ev))
}

// FleetLine is the plain-text form of a fleet event.
func FleetLine(ev fleet.Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s %s", ev.Time.Format("15:04:05"), ev.Region, ev.Kind, ev.Source)
	if ev.MigrationID != "" {
		fmt.Fprintf(&b, " [%s]", ev.MigrationID)
	}
	b.WriteString(" " + ev.State)
	if ev.Step != "" && ev.State == workflow.StatusRunning {
		b.WriteString(" " + ev.Step)
	} else if ev.Step != "" && IsOutcome(ev.State) && ev.State != fleet.OutcomeCompleted {
		b.WriteString(" at " + ev.Step)
	}
	if IsOutcome(ev.State) && ev.Calls > 0 {
		fmt.Fprintf(&b, " (%d API calls)", ev.Calls)
	}
	if ev.Message != "" && ev.State != workflow.StatusRunning {
		b.WriteString(": " + OneLine(ev.Message))
	}
	return b.String()
}

var _ fleet.Observer = (*PlainFleet)(nil)

// IsOutcome says whether a fleet state is how a migration ended (or stopped) rather than
// where it is.
func IsOutcome(state string) bool {
	switch state {
	case fleet.OutcomeCompleted, fleet.OutcomeFailed, fleet.OutcomeSkipped, fleet.OutcomeStopped, fleet.OutcomeAwaitingCutover:
		return true
	}
	return false
}
