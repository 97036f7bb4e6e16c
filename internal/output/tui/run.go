package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// Work is a migration run: it reports to obs, asks appr before each mutating step, and
// stops between steps when ctx is cancelled.
type Work func(ctx context.Context, obs workflow.Observer, appr workflow.Approver) (*workflow.Report, error)

// Run shows the full-screen UI on opts.Output while work runs in a goroutine behind it, and
// returns what work returned. Quitting (q) answers the pending approval with
// workflow.Quit; Ctrl-C cancels work's context. Either way the migration stays resumable,
// and once the terminal is restored Run prints where the run stands and, if it did not
// finish, the command that resumes it.
func Run(ctx context.Context, opts Options, work Work) (*workflow.Report, error) {
	out := opts.Output
	if out == nil {
		out = os.Stderr
	}
	in := opts.Input
	if in == nil {
		in = os.Stdin
	}
	workCtx, cancel := context.WithCancel(ctx)
	defer cancel()

	renderer := lipgloss.NewRenderer(out)
	m := newModel(opts, modelConfig{renderer: renderer, cancel: cancel, animate: true, now: time.Now()})
	p := tea.NewProgram(m, tea.WithInput(in), tea.WithOutput(out), tea.WithAltScreen(), tea.WithContext(ctx))
	detach := opts.Terminal.attach(p) // before work can ask for the terminal

	uiDone := make(chan struct{})
	obs := workflow.ObserverFunc(func(e workflow.Event) { p.Send(EventMsg{Event: e}) })
	appr := workflow.ApproverFunc(func(ctx context.Context, a workflow.Approval) (workflow.Decision, error) {
		answer := make(chan workflow.Decision, 1)
		p.Send(ApprovalRequestMsg{Approval: a, Reply: answer})
		select {
		case d := <-answer:
			return d, nil
		case <-uiDone:
			return workflow.Quit, nil
		case <-ctx.Done():
			return workflow.Quit, ctx.Err()
		}
	})

	result := make(chan DoneMsg, 1)
	go func() {
		res := runWork(workCtx, work, obs, appr)
		result <- res
		p.Send(res)
	}()

	final, uiErr := p.Run()
	detach()
	close(uiDone)
	var res DoneMsg
	select {
	case res = <-result:
	default:
		// The UI ended first (ctrl+c twice, SIGTERM, a panic in the UI): stop the workflow
		// between steps and wait for it to save its journal.
		cancel()
		fmt.Fprintln(out, "rdsencrypt: stopping; waiting for the migration to save its journal…")
		res = <-result
	}

	fm, ok := final.(Model)
	if !ok {
		fm = m
	}
	if !fm.done {
		fm.stopping = fm.stopping || uiErr != nil
		fm, _ = fm.update(res)
	}
	printFinal(out, fm)

	if res.Err == nil && uiErr != nil && !errors.Is(uiErr, tea.ErrInterrupted) {
		return res.Report, fmt.Errorf("terminal UI: %w", uiErr)
	}
	return res.Report, res.Err
}

// printFinal prints the final page; a rendering bug must not hide how to resume.
func printFinal(out io.Writer, m Model) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(out, "rdsencrypt: could not render the summary (%v)\n", r)
			if c := m.resumeCommand(); c != "" && !m.succeeded() {
				fmt.Fprintf(out, "Resume with: %s\n", c)
			}
		}
	}()
	m.animate = false
	fmt.Fprintln(out, m.finalText())
}

// runWork runs work, turning a panic into an error so the UI can end and restore the
// terminal.
func runWork(ctx context.Context, work Work, obs workflow.Observer, appr workflow.Approver) (res DoneMsg) {
	defer func() {
		if r := recover(); r != nil {
			res = DoneMsg{Err: fmt.Errorf("migration panicked: %v\n%s", r, debug.Stack())}
		}
	}()
	rep, err := work(ctx, obs, appr)
	return DoneMsg{Report: rep, Err: err}
}

// finalText is what stays on the terminal after the full-screen UI has gone: the summary
// or failure page, without the event log.
func (m Model) finalText() string {
	w, _ := m.size()
	if m.screen() == screenSummary {
		return m.summaryView(w)
	}
	return m.failureView(w)
}
