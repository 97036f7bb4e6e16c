package output

import (
	"fmt"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// EventLine describes one event in one plain line (no time stamp, no escape codes); the
// event log of the full-screen UI and PlainObserver both use it.
func EventLine(e workflow.Event) string {
	var b strings.Builder
	switch e.Type {
	case workflow.EventPlan:
		b.WriteString("plan ready")
		if p := e.Plan; p != nil {
			fmt.Fprintf(&b, ": %s %s %s, %d steps", p.Mode, p.Kind, p.Source, len(p.Steps))
			if s := Estimate(p.EstimatedTotal); s != "" {
				fmt.Fprintf(&b, ", estimated %s", s)
			}
			if s := Estimate(p.EstimatedDowntime); s != "" {
				fmt.Fprintf(&b, ", downtime %s", s)
			}
		}
	case workflow.EventStepStarted:
		fmt.Fprintf(&b, "%s: started", e.Step)
	case workflow.EventStepProgress:
		fmt.Fprintf(&b, "%s:", e.Step)
		if e.Resource != "" {
			fmt.Fprintf(&b, " %s", e.Resource)
		}
		if e.Status != "" {
			fmt.Fprintf(&b, " %s", e.Status)
		}
		if e.Percent >= 0 {
			fmt.Fprintf(&b, " %d%%", e.Percent)
		}
	case workflow.EventStepDone:
		fmt.Fprintf(&b, "%s: done", e.Step)
	case workflow.EventStepSkipped:
		fmt.Fprintf(&b, "%s: skipped", e.Step)
	case workflow.EventStepFailed:
		fmt.Fprintf(&b, "%s: FAILED", e.Step)
		if e.Err != nil {
			fmt.Fprintf(&b, ": %v", e.Err)
		}
	case workflow.EventAPICall:
		if c := e.Call; c != nil {
			fmt.Fprintf(&b, "call %s", c.Action)
			if c.Target != "" {
				fmt.Fprintf(&b, " %s", c.Target)
			}
			if c.Region != "" {
				fmt.Fprintf(&b, " [%s]", c.Region)
			}
			if c.RequestID != "" {
				fmt.Fprintf(&b, " req=%s", c.RequestID)
			}
			switch {
			case c.NotFound:
				b.WriteString(" → not found")
			case c.Error != "":
				fmt.Fprintf(&b, " error: %s", c.Error)
			}
		} else {
			b.WriteString("call")
		}
	case workflow.EventLog:
		if e.Step != "" {
			fmt.Fprintf(&b, "%s: ", e.Step)
		}
	case workflow.EventFinished:
		b.WriteString("finished")
		if e.Report != nil {
			fmt.Fprintf(&b, ": %s", e.Report.Status)
			if e.Report.Error != "" {
				fmt.Fprintf(&b, ": %s", e.Report.Error)
			}
		}
	default:
		fmt.Fprintf(&b, "%s %s", e.Type, e.Step)
	}
	if e.Message != "" {
		if e.Type != workflow.EventLog {
			b.WriteString(" - ")
		}
		b.WriteString(e.Message)
	}
	return OneLine(b.String())
}

// OneLine keeps a log entry on one line whatever an error message holds.
func OneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
