package tui

import (
	"fmt"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/output"
)

// runningView shows the running step live: AWS status, progress, elapsed time against the
// estimate, the downtime clock, and where the run is among its steps.
func (m Model) runningView(w int) string {
	var blocks []string
	s, i, ok := m.run.running()
	switch {
	case ok:
		title := fmt.Sprintf("Step %d/%d: %s", i+1, len(m.run.steps), s.planned.Name)
		head := m.st.title.Render(wrap(title, w))
		if s.planned.Description != "" {
			head += "\n" + wrap(s.planned.Description, w)
		}
		blocks = append(blocks, head, m.liveView(s, w))
	case m.stopping:
		blocks = append(blocks, m.st.notice.Render(wrap("Stopping: the workflow stops at the next safe point and saves its journal.", w)))
	default:
		blocks = append(blocks, m.spinnerMark()+" "+m.idleText())
	}
	if m.stopping && ok {
		blocks = append(blocks, m.st.notice.Render(wrap("Stopping: the workflow stops at the next safe point and saves its journal.", w)))
	}
	if m.stopping {
		if c := m.resumeCommand(); c != "" {
			blocks[len(blocks)-1] += "\n" + indentWrap("Resume later with: ", m.st.command.Render(c), w)
		}
	}
	if d := m.downtimeLine(); d != "" {
		blocks = append(blocks, m.st.notice.Render(wrap(d, w)))
	}
	if len(m.run.steps) > 0 {
		blocks = append(blocks, m.stepStrip(w))
	}
	return joinBlocks(blocks...)
}

// liveView is the status, progress bar and clock of the running step.
func (m Model) liveView(s stepRun, w int) string {
	status := s.status
	if status == "" {
		status = "working"
	}
	line := m.spinnerMark() + " "
	if s.resource != "" {
		line += s.resource + ": "
	}
	line += m.st.active.Render(status)
	out := wrap(line, w)
	if s.percent >= 0 {
		bar := m.bar
		bar.Width = max(10, min(60, w-6))
		out += "\n" + bar.ViewAs(float64(min(s.percent, 100))/100) + fmt.Sprintf(" %3d%%", s.percent)
	}
	elapsed, onAWS := m.now.Sub(s.started), false
	if !s.awsStarted.IsZero() && m.run.awsNow.After(s.awsStarted) {
		elapsed, onAWS = m.run.awsNow.Sub(s.awsStarted), true // the clock the estimate is on
	}
	clock := "Elapsed " + output.Duration(elapsed)
	if est := time.Duration(s.planned.Estimate); est > 0 {
		clock += " of " + output.Estimate(s.planned.Estimate) + " estimated"
		if elapsed > est {
			clock += " (over the estimate)"
		}
	}
	if onAWS {
		clock += " · AWS clock"
	} else {
		clock += " · local clock"
	}
	return out + "\n" + wrap(clock, w)
}

func (m Model) spinnerMark() string {
	if m.animate {
		return m.spin.View()
	}
	return m.st.active.Render("»")
}

// idleText says what happens between steps.
func (m Model) idleText() string {
	if len(m.logs) == 0 {
		return "Starting…"
	}
	return "Working…"
}
