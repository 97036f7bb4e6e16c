package tui

import (
	"strconv"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// screens are the main screens as message sequences, for goldens and size checks.
func screens() map[string][]tea.Msg {
	reply := make(chan workflow.Decision, 1)
	runWithApproval := func(step string) []tea.Msg {
		msgs := upToCopy()[:4] // plan, preflight done, freeze about to start
		msgs = append(msgs, keyEnter(), approvalFor(step, reply))
		return msgs
	}
	running := append([]tea.Msg{}, upToCopy()...)
	running = append(running[:1], append([]tea.Msg{keyEnter()}, running[1:]...)...)

	failure := append(append([]tea.Msg{}, running...),
		EventMsg{Event: func() workflow.Event {
			e := ev(workflow.EventStepFailed, "encrypted-copy", 22*time.Minute)
			e.Err = errCopy
			return e
		}()},
		DoneMsg{Report: &workflow.Report{MigrationID: testID, Source: "orders-db", Status: workflow.StatusFailed, Error: errCopy.Error()}, Err: errCopy},
	)

	cutover := append(append([]tea.Msg{}, running...),
		progressEvent("encrypted-copy", "rdsenc-m-7f3a9c21-orders-db-snap-enc", "available", 100, 30*time.Minute),
		msg(workflow.EventStepDone, "encrypted-copy", 30*time.Minute),
		msg(workflow.EventStepStarted, "restore", 31*time.Minute),
		msg(workflow.EventStepDone, "restore", 45*time.Minute),
		msg(workflow.EventStepStarted, "modify", 46*time.Minute),
		msg(workflow.EventStepDone, "modify", 50*time.Minute),
		msg(workflow.EventStepStarted, "parity-check", 50*time.Minute),
		msg(workflow.EventStepDone, "parity-check", 51*time.Minute),
		TickMsg{Time: at(52 * time.Minute)},
		approvalFor("cutover-retire-source", reply),
	)

	summary := append(append([]tea.Msg{}, running...),
		DoneMsg{Report: completedReport()},
	)
	return map[string][]tea.Msg{
		"plan":     {planEvent()},
		"approval": runWithApproval("freeze-writes"),
		"cutover":  cutover,
		"running":  running,
		"failure":  failure,
		"summary":  summary,
	}
}

func keyEnter() tea.Msg { return tea.KeyMsg{Type: tea.KeyEnter} }

// TestGolden renders each main screen at 100x30 through a real tea.Program (teatest) and
// compares the final frame with testdata/TestGolden/<screen>.golden (-update rewrites).
func TestGolden(t *testing.T) {
	for _, size := range []struct{ w, h int }{{100, 30}, {60, 24}} {
		for name, msgs := range screens() {
			if size.w != 100 && name != "plan" && name != "running" && name != "approval" {
				continue
			}
			t.Run(name+"_"+itoa(size.w)+"x"+itoa(size.h), func(t *testing.T) {
				tm := teatest.NewTestModel(t, testModel(nil), teatest.WithInitialTermSize(size.w, size.h))
				for _, m := range msgs {
					tm.Send(m)
				}
				if err := tm.Quit(); err != nil {
					t.Fatal(err)
				}
				view := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).View()
				checkFits(t, view, size.w, size.h)
				golden.RequireEqual(t, []byte(view))
			})
		}
	}
}

// TestScreensFit checks every screen at narrow, wide and tiny sizes: no line wider than
// the terminal, no more lines than it has.
func TestScreensFit(t *testing.T) {
	for _, size := range []struct{ w, h int }{{60, 24}, {120, 40}, {40, 12}, {20, 6}} {
		for name, msgs := range screens() {
			m, _ := feed(testModel(nil), tea.WindowSizeMsg{Width: size.w, Height: size.h})
			m, _ = feed(m, msgs...)
			view := m.View()
			t.Run(name+"_"+itoa(size.w), func(t *testing.T) { checkFits(t, view, size.w, size.h) })
		}
	}
}

func checkFits(t *testing.T, view string, w, h int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) > h {
		t.Errorf("%d lines, terminal has %d", len(lines), h)
	}
	for i, l := range lines {
		if lw := lipgloss.Width(l); lw > w {
			t.Errorf("line %d is %d wide, terminal is %d: %q", i, lw, w, l)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
