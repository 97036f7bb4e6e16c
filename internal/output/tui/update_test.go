package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

func keyRune(r rune) tea.Msg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}} }
func keyCtrlC() tea.Msg      { return tea.KeyMsg{Type: tea.KeyCtrlC} }

// execute runs commands as the program would and returns the messages they produce.
func execute(cmds []tea.Cmd) []tea.Msg {
	var out []tea.Msg
	for _, c := range cmds {
		if c == nil {
			continue
		}
		switch msg := c().(type) {
		case tea.BatchMsg:
			out = append(out, execute(msg)...)
		case nil:
		default:
			out = append(out, msg)
		}
	}
	return out
}

func quits(cmds []tea.Cmd) bool {
	for _, msg := range execute(cmds) {
		if _, ok := msg.(tea.QuitMsg); ok {
			return true
		}
	}
	return false
}

// decision reads the reply the UI sent, if any.
func decision(ch chan workflow.Decision) (workflow.Decision, bool) {
	select {
	case d := <-ch:
		return d, true
	default:
		return 0, false
	}
}

func TestApprovalKeys(t *testing.T) {
	tests := []struct {
		name      string
		step      string // freeze-writes is skippable, cutover-retire-source is not
		key       tea.Msg
		want      workflow.Decision
		replied   bool
		stillAsks bool
		notice    string
	}{
		{name: "enter approves", step: "freeze-writes", key: keyEnter(), want: workflow.Approve, replied: true},
		{name: "y approves", step: "cutover-retire-source", key: keyRune('y'), want: workflow.Approve, replied: true},
		{name: "s skips a skippable step", step: "freeze-writes", key: keyRune('s'), want: workflow.Skip, replied: true},
		{name: "s does not skip the cutover", step: "cutover-retire-source", key: keyRune('s'), stillAsks: true,
			notice: "Step cutover-retire-source cannot be skipped."},
		{name: "r rolls back", step: "cutover-retire-source", key: keyRune('r'), want: workflow.Rollback, replied: true},
		{name: "q quits", step: "freeze-writes", key: keyRune('q'), want: workflow.Quit, replied: true},
		{name: "ctrl+c quits", step: "freeze-writes", key: keyCtrlC(), want: workflow.Quit, replied: true},
		{name: "other keys do nothing", step: "freeze-writes", key: keyRune('x'), stillAsks: true},
		{name: "scrolling does not answer", step: "freeze-writes", key: tea.KeyMsg{Type: tea.KeyDown}, stillAsks: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := make(chan workflow.Decision, 1)
			m, _ := feed(testModel(nil), planEvent(), keyEnter(), approvalFor(tt.step, ch))
			require.Equal(t, screenApproval, m.screen())

			m, cmds := feed(m, tt.key)
			execute(cmds)
			d, replied := decision(ch)
			assert.Equal(t, tt.replied, replied, "replied")
			if tt.replied {
				assert.Equal(t, tt.want, d)
			}
			assert.Equal(t, tt.stillAsks, m.approval != nil, "approval still pending")
			assert.Equal(t, tt.notice, m.notice)
			if !tt.stillAsks {
				assert.Equal(t, screenRunning, m.screen())
			}
		})
	}
}

func TestSkipKeyShownOnlyWhenSkippable(t *testing.T) {
	for step, want := range map[string]bool{"freeze-writes": true, "cutover-retire-source": false} {
		m, _ := feed(testModel(nil), approvalFor(step, make(chan workflow.Decision, 1)))
		assert.Equal(t, want, m.keys.Skip.Enabled(), step)
		assert.Equal(t, want, containsText(m.View(), "s skip"), step)
	}
}

func TestPlanScreenComesFirst(t *testing.T) {
	ch := make(chan workflow.Decision, 1)
	m, _ := feed(testModel(nil), planEvent(), approvalFor("freeze-writes", ch))
	assert.Equal(t, screenPlan, m.screen(), "the plan is shown before the first approval")

	m, _ = feed(m, keyRune('y'))
	_, replied := decision(ch)
	assert.False(t, replied, "y on the plan screen does not approve the step behind it")
	assert.Equal(t, screenPlan, m.screen())

	m, _ = feed(m, keyEnter())
	assert.Equal(t, screenApproval, m.screen())
	_, replied = decision(ch)
	assert.False(t, replied, "enter on the plan only moves on")
}

func TestQuitOnPlanAnswersPendingApproval(t *testing.T) {
	ch := make(chan workflow.Decision, 1)
	cancelled := false
	m, _ := feed(testModel(func() { cancelled = true }), planEvent(), approvalFor("freeze-writes", ch))
	m, cmds := feed(m, keyRune('q'))
	execute(cmds)
	d, ok := decision(ch)
	require.True(t, ok)
	assert.Equal(t, workflow.Quit, d)
	assert.True(t, m.stopping)
	assert.True(t, cancelled)
}

func TestInterrupt(t *testing.T) {
	cancelled := 0
	m, _ := feed(testModel(func() { cancelled++ }), upToCopy()...)
	m, _ = feed(m, keyEnter()) // leave the plan
	require.Equal(t, screenRunning, m.screen())

	m, cmds := feed(m, keyCtrlC())
	assert.False(t, quits(cmds), "the first ctrl+c waits for the workflow to stop")
	assert.Equal(t, 1, cancelled)
	assert.True(t, m.stopping)
	assert.Contains(t, m.View(), "rdsencrypt resume m-7f3a9c21")

	// A request arriving after the stop is answered Quit without asking.
	ch := make(chan workflow.Decision, 1)
	m, cmds = feed(m, approvalFor("restore", ch))
	execute(cmds)
	d, ok := decision(ch)
	require.True(t, ok)
	assert.Equal(t, workflow.Quit, d)
	assert.Nil(t, m.approval)

	// The workflow returns: the UI ends by itself, Run prints how to resume.
	m, cmds = feed(m, DoneMsg{Report: &workflow.Report{Status: workflow.StatusPaused}, Err: context.Canceled})
	assert.True(t, quits(cmds))
	assert.Equal(t, screenFailure, m.screen())
	assert.Contains(t, m.finalText(), "Migration paused at step encrypted-copy")
	assert.Contains(t, m.finalText(), "rdsencrypt resume m-7f3a9c21")
}

func TestSecondInterruptLeaves(t *testing.T) {
	m, _ := feed(testModel(nil), keyCtrlC())
	_, cmds := feed(m, keyCtrlC())
	assert.True(t, quits(cmds))
}

func TestStopWhileRunning(t *testing.T) {
	cancelled := false
	m, _ := feed(testModel(func() { cancelled = true }), upToCopy()...)
	m, _ = feed(m, keyEnter())
	m, _ = feed(m, keyRune('q'))
	_, cmds := feed(m, keyRune('q'))
	execute(cmds)
	assert.True(t, cancelled)
	assert.True(t, m.stopping)
}

func TestEndScreens(t *testing.T) {
	tests := []struct {
		name string
		done DoneMsg
		want screen
		text string
	}{
		{"completed", DoneMsg{Report: completedReport()}, screenSummary, "Migration completed"},
		{"rolled back", DoneMsg{Report: &workflow.Report{Source: "orders-db", Status: workflow.StatusRolledBack}}, screenSummary, "rolled back"},
		{"error", DoneMsg{Err: errCopy}, screenFailure, "KMSKeyNotAccessibleFault"},
		{"failed report", DoneMsg{Report: &workflow.Report{Status: workflow.StatusFailed, Error: "boom"}}, screenFailure, "Error: boom"},
		{"paused", DoneMsg{Report: &workflow.Report{Status: workflow.StatusPaused}}, screenFailure, "Migration paused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, cmds := feed(testModel(nil), append(upToCopy(), tt.done)...)
			assert.False(t, quits(cmds), "an unasked-for end waits for the operator")
			assert.Equal(t, tt.want, m.screen())
			assert.Contains(t, m.View(), tt.text)
			for _, k := range []tea.Msg{keyRune('q'), keyEnter(), keyCtrlC()} {
				_, cmds := feed(m, k)
				assert.True(t, quits(cmds))
			}
		})
	}
}

func TestWindowResize(t *testing.T) {
	m, _ := feed(testModel(nil), upToCopy()...)
	m, _ = feed(m, keyEnter(), tea.WindowSizeMsg{Width: 120, Height: 40})
	assert.Equal(t, 120, m.width)
	assert.Equal(t, 40, m.height)
	assert.Equal(t, 120, m.log.Width)
	wide := m.log.Height

	m, _ = feed(m, tea.WindowSizeMsg{Width: 60, Height: 20})
	assert.Equal(t, 60, m.log.Width)
	assert.Less(t, m.log.Height, wide)
	checkFits(t, m.View(), 60, 20)

	m, _ = feed(m, DoneMsg{Report: completedReport()}, tea.WindowSizeMsg{Width: 70, Height: 25})
	assert.Equal(t, 70, m.page.Width)
	checkFits(t, m.View(), 70, 25)
}

func TestEventsFoldIntoSteps(t *testing.T) {
	m, _ := feed(testModel(nil), append(upToCopy(), keyEnter())...)
	s, i, ok := m.run.running()
	require.True(t, ok)
	assert.Equal(t, 3, i)
	assert.Equal(t, "encrypted-copy", s.planned.Name)
	assert.Equal(t, "copying", s.status)
	assert.Equal(t, 45, s.percent)
	assert.Equal(t, at(12*time.Minute), s.started)
	assert.Equal(t, stepDone, m.run.steps[2].state)
	assert.Equal(t, at(time.Minute), m.run.downStart, "downtime starts with the freeze")

	d, running := m.run.downtime(m.now)
	assert.True(t, running)
	assert.Equal(t, 20*time.Minute+30*time.Second, d)
	assert.Contains(t, m.View(), "Elapsed 9m30s of ~20m estimated")
	assert.Contains(t, m.View(), "45%")

	// No progress from AWS: no bar.
	m, _ = feed(m, progressEvent("encrypted-copy", "", "", -1, 22*time.Minute))
	assert.NotContains(t, m.View(), "█")

	// The last downtime step ends the downtime clock.
	m, _ = feed(m,
		msg(workflow.EventStepStarted, "cutover-promote-target", 50*time.Minute),
		msg(workflow.EventStepDone, "cutover-promote-target", 55*time.Minute),
		TickMsg{Time: at(time.Hour)},
	)
	d, running = m.run.downtime(m.now)
	assert.False(t, running)
	assert.Equal(t, 54*time.Minute, d)
	assert.NotContains(t, m.View(), "DOWNTIME")
}

func TestClockOnlyMovesForward(t *testing.T) {
	m, _ := feed(testModel(nil), TickMsg{Time: at(time.Hour)}, TickMsg{Time: at(time.Minute)}, msg(workflow.EventLog, "", time.Second))
	assert.Equal(t, at(time.Hour), m.now)
}

func TestUnknownStepsAndNoPlan(t *testing.T) {
	// A resume may report before any plan: steps appear as they are named.
	m, _ := feed(testModel(nil), msg(workflow.EventStepStarted, "restore", 0), progressEvent("restore", "db", "creating", -1, time.Minute))
	assert.Equal(t, screenRunning, m.screen())
	assert.Contains(t, m.View(), "Step 1/1: restore")
	assert.Contains(t, m.View(), "db: creating")
}

func TestHelpToggles(t *testing.T) {
	m, _ := feed(testModel(nil), keyRune('?'))
	assert.True(t, m.help.ShowAll)
	assert.Contains(t, m.View(), "scroll down")
}

func containsText(s, sub string) bool { return strings.Contains(s, sub) }
