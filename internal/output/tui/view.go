package tui

import (
	"fmt"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/internal/output"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// headerView names the migration on one line, over a rule.
func (m Model) headerView(w int) string {
	title := m.st.title.Render("rdsencrypt")
	var what string
	if p := m.run.plan; p != nil {
		what = fmt.Sprintf("%s %s %s", output.Dash(p.Mode), output.Dash(p.Kind), p.Source)
		if p.Region != "" {
			what += " (" + p.Region + ")"
		}
	} else if m.report != nil && m.report.Source != "" {
		what = fmt.Sprintf("%s %s", m.report.Kind, m.report.Source)
	}
	line := title
	if what != "" {
		line += " · " + what
	}
	if id := m.migrationID(); id != "" {
		line += m.st.dim.Render(" · migration " + id)
	}
	return line + "\n" + m.st.dim.Render(strings.Repeat("─", w))
}

func (m Model) migrationID() string {
	if m.run.migrationID != "" {
		return m.run.migrationID
	}
	if m.report != nil {
		return m.report.MigrationID
	}
	return ""
}

// bodyView is the part of the approval and running screens above the event log.
func (m Model) bodyView(s screen, w int) string {
	if s == screenApproval {
		return m.approvalView(w)
	}
	return m.runningView(w)
}

// pageView is the scrolling page of the plan, failure and summary screens.
func (m Model) pageView(s screen, w int) string {
	switch s {
	case screenPlan:
		return m.planView(w)
	case screenFailure:
		return m.failureView(w)
	}
	return m.summaryView(w)
}

// logView renders the event log, one entry per line, wrapped under its time stamp.
func (m Model) logView(w int) string {
	if len(m.logs) == 0 {
		return m.st.dim.Render("(no events yet)")
	}
	lines := make([]string, 0, len(m.logs))
	for _, e := range m.logs {
		stamp := e.at.Format("15:04:05") + " "
		text := e.text
		switch {
		case e.bad:
			text = m.st.bad.Render(text)
		case e.kind == workflow.EventStepDone:
			text = m.st.ok.Render(text)
		case e.kind == workflow.EventAPICall:
			text = m.st.dim.Render(text)
		}
		lines = append(lines, indentWrap(m.st.dim.Render(stamp), text, w))
	}
	return strings.Join(lines, "\n")
}

// stepStrip shows every step with its state in as few lines as fit.
func (m Model) stepStrip(w int) string {
	items := make([]string, 0, len(m.run.steps))
	for _, s := range m.run.steps {
		items = append(items, m.stepMark(s)+" "+s.planned.Name)
	}
	return flow(items, w, "  ")
}

// stepMark is the symbol of a step state; each is distinct without color.
func (m Model) stepMark(s stepRun) string {
	switch s.state {
	case stepDone:
		return m.st.ok.Render("✓")
	case stepSkipped:
		return m.st.dim.Render("-")
	case stepFailed:
		return m.st.bad.Render("✗")
	case stepRunning:
		if m.done { // the run ended while this step was under way
			return m.st.warn.Render("■")
		}
		if m.animate {
			return m.spin.View()
		}
		return m.st.active.Render("»")
	}
	return m.st.dim.Render("·")
}

// section is a heading over a block.
func (m Model) section(title, block string) string {
	return m.st.heading.Render(title) + "\n" + block
}

// joinBlocks separates non-empty blocks by a blank line.
func joinBlocks(blocks ...string) string {
	var out []string
	for _, b := range blocks {
		if b != "" {
			out = append(out, b)
		}
	}
	return strings.Join(out, "\n\n")
}
