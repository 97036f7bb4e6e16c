package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/fleet"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
	"github.com/stretchr/testify/assert"

	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

var fleetT0 = time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC)

func testFleet() FleetModel {
	r := lipgloss.NewRenderer(&strings.Builder{})
	r.SetColorProfile(termenv.Ascii)
	items := []fleet.BatchItem{
		{Kind: workflow.KindInstance, Region: "us-east-1", Source: "orders"},
		{Kind: workflow.KindInstance, Region: "us-east-1", Source: "billing"},
		{Kind: workflow.KindCluster, Region: "eu-west-1", Source: "shop"},
		{Kind: workflow.KindInstance, Region: "us-east-1", Source: "orders-ro", Skip: "read replica of orders"},
	}
	return NewFleetModel(items, r, fleetT0, nil)
}

func send(m FleetModel, msgs ...tea.Msg) FleetModel {
	for _, msg := range msgs {
		next, _ := m.Update(msg)
		m = next.(FleetModel)
	}
	return m
}

func TestFleetModelUpdates(t *testing.T) {
	m := testFleet()
	assert.Equal(t, map[string]int{"queued": 3, fleet.OutcomeSkipped: 1}, m.Counts())

	m = send(m,
		FleetEventMsg{fleet.Event{Time: fleetT0, Index: 0, State: workflow.StatusRunning}},
		FleetEventMsg{fleet.Event{Time: fleetT0.Add(time.Second), Index: 0, MigrationID: "0a1b2c3d", State: workflow.StatusRunning, Step: workflow.StepSnapshot, Calls: 4}},
		FleetEventMsg{fleet.Event{Time: fleetT0, Index: 1, State: workflow.StatusRunning}},
		FleetEventMsg{fleet.Event{Time: fleetT0.Add(90 * time.Second), Index: 1, MigrationID: "1a1b2c3d", State: fleet.OutcomeFailed, Step: workflow.StepCopy, Calls: 30, Message: "snapshot failed"}},
		FleetEventMsg{fleet.Event{Time: fleetT0, Index: 99, State: fleet.OutcomeFailed}}, // unknown index: ignored
		tea.WindowSizeMsg{Width: 140, Height: 20},
	)
	assert.Equal(t, map[string]int{"queued": 1, workflow.StatusRunning: 1, fleet.OutcomeFailed: 1, fleet.OutcomeSkipped: 1}, m.Counts())
	assert.Equal(t, "0a1b2c3d", m.rows[0].id)
	assert.Equal(t, workflow.StepSnapshot, m.rows[0].step)
	assert.Equal(t, 30, m.rows[1].calls)

	view := m.View()
	lines := strings.Split(view, "\n")
	assert.Contains(t, lines[0], "rdsencrypt batch: 4 databases")
	assert.Contains(t, lines[0], "1 running · 1 queued · 1 failed · 1 skipped")
	assert.Contains(t, lines[3], "billing", "failures first")
	assert.Contains(t, lines[3], "1m30s")
	assert.Contains(t, lines[3], "snapshot failed")
	assert.Contains(t, lines[4], "orders")
	assert.Contains(t, lines[4], "snapshot")
	assert.Contains(t, view, "q stop")
}

func TestFleetModelStopAndDone(t *testing.T) {
	cancelled := 0
	m := testFleet()
	m.cancel = func() { cancelled++ }
	m = send(m, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")}, tea.KeyMsg{Type: tea.KeyCtrlC})
	assert.Equal(t, 1, cancelled, "cancel once")
	assert.Contains(t, m.View(), "stopping")
	next, cmd := m.Update(FleetDoneMsg{})
	assert.True(t, next.(FleetModel).done)
	assert.NotNil(t, cmd)
}

func TestFleetModelFitsTheTerminal(t *testing.T) {
	r := lipgloss.NewRenderer(&strings.Builder{})
	r.SetColorProfile(termenv.Ascii)
	var items []fleet.BatchItem
	for i := range 50 {
		items = append(items, fleet.BatchItem{Kind: workflow.KindInstance, Region: "us-east-1", Source: "db-" + string(rune('a'+i%26))})
	}
	m := send(NewFleetModel(items, r, fleetT0, nil), tea.WindowSizeMsg{Width: 60, Height: 12})
	view := m.View()
	assert.LessOrEqual(t, len(strings.Split(view, "\n")), 12)
	assert.Contains(t, view, "… and 44 more")
	for _, l := range strings.Split(view, "\n") {
		assert.LessOrEqual(t, lipgloss.Width(l), 60, l)
	}
}

func TestRunFleetReturnsTheBatchReport(t *testing.T) {
	var out strings.Builder
	items := []fleet.BatchItem{{Kind: workflow.KindInstance, Region: "us-east-1", Source: "orders"}}
	want := &fleet.BatchReport{Summary: fleet.BatchSummary{Completed: 1}}
	got := RunFleet(t.Context(), FleetOptions{Input: strings.NewReader(""), Output: &out}, items,
		func(ctx context.Context, obs fleet.Observer) *fleet.BatchReport {
			obs.FleetUpdate(fleet.Event{Index: 0, State: workflow.StatusRunning, Step: workflow.StepSnapshot})
			obs.FleetUpdate(fleet.Event{Index: 0, State: fleet.OutcomeCompleted})
			return want
		})
	assert.Same(t, want, got)
	assert.Contains(t, out.String(), "orders")
}
