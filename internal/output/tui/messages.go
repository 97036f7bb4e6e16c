package tui

import (
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// EventMsg carries one workflow event into the UI.
type EventMsg struct{ Event workflow.Event }

// ApprovalRequestMsg asks the operator to decide on a step. The UI sends exactly one
// Decision on Reply, which must have room for it (capacity 1) so the UI never blocks.
type ApprovalRequestMsg struct {
	Approval workflow.Approval
	Reply    chan<- workflow.Decision
}

// DoneMsg says the workflow has returned.
type DoneMsg struct {
	Report *workflow.Report
	Err    error
}

// TickMsg is the UI's clock: every elapsed time on screen is measured against the last
// TickMsg (or event time), never against time.Now, so a test can fix the time.
type TickMsg struct{ Time time.Time }

// tickEvery is the clock command of a live UI.
func tickEvery() tea.Cmd {
	return tea.Tick(time.Second, func(t time.Time) tea.Msg { return TickMsg{Time: t} })
}

// reply answers an approval request as a command, so Update stays free of side effects.
func reply(ch chan<- workflow.Decision, d workflow.Decision) tea.Cmd {
	return func() tea.Msg {
		select {
		case ch <- d:
		default: // already answered; the channel holds one decision
		}
		return nil
	}
}

// cancelCmd stops the workflow (it stops between steps and saves its journal).
func cancelCmd(cancel func()) tea.Cmd {
	if cancel == nil {
		return nil
	}
	return func() tea.Msg {
		cancel()
		return nil
	}
}
