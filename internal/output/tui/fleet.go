package tui

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/fleet"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/rdsencrypt/rdsencrypt/internal/output"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// The fleet view shows a batch as it runs: one compact row per migration, the busiest
// first, with counts on top. It only renders fleet events; it never calls AWS.

// FleetEventMsg carries one fleet event to the model.
type FleetEventMsg struct{ Event fleet.Event }

// FleetDoneMsg says the batch has ended.
type FleetDoneMsg struct{ Report *fleet.BatchReport }

type fleetTickMsg time.Time

// fleetRow is one migration as the view shows it.
type fleetRow struct {
	index                 int
	region, kind, source  string
	id, state, step, note string
	calls                 int
	started, ended        time.Time
}

// FleetModel is the bubbletea model of the fleet view; a plain value.
type FleetModel struct {
	rows     []fleetRow
	width    int
	height   int
	st       styles
	keys     fleetKeys
	start    time.Time
	now      time.Time
	stopping bool
	done     bool
	cancel   func()
}

type fleetKeys struct {
	Stop      key.Binding
	Interrupt key.Binding
}

// NewFleetModel returns the view of a batch plan; cancel stops the batch between steps.
func NewFleetModel(items []fleet.BatchItem, r *lipgloss.Renderer, now time.Time, cancel func()) FleetModel {
	m := FleetModel{st: newStyles(r), start: now, now: now, cancel: cancel, width: 100, height: 30,
		keys: fleetKeys{Stop: key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "stop")), Interrupt: key.NewBinding(key.WithKeys("ctrl+c"))}}
	for i, it := range items {
		row := fleetRow{index: i, region: it.Region, kind: it.Kind, source: it.Source, state: "queued"}
		if it.Skip != "" {
			row.state, row.note = fleet.OutcomeSkipped, it.Skip
		}
		m.rows = append(m.rows, row)
	}
	return m
}

// Init starts the clock that refreshes elapsed times.
func (m FleetModel) Init() tea.Cmd { return fleetTick() }

func fleetTick() tea.Cmd {
	return tea.Tick(time.Second, func(t time.Time) tea.Msg { return fleetTickMsg(t) })
}

// Update applies one message.
func (m FleetModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case FleetEventMsg:
		m.apply(msg.Event)
	case FleetDoneMsg:
		m.done = true
		return m, tea.Quit
	case fleetTickMsg:
		m.now = time.Time(msg)
		return m, fleetTick()
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, m.keys.Stop), key.Matches(msg, m.keys.Interrupt):
			if !m.stopping && m.cancel != nil {
				m.cancel()
			}
			m.stopping = true
		}
	}
	return m, nil
}

func (m *FleetModel) apply(ev fleet.Event) {
	if ev.Index < 0 || ev.Index >= len(m.rows) {
		return
	}
	r := &m.rows[ev.Index]
	if ev.MigrationID != "" {
		r.id = ev.MigrationID
	}
	if r.state == "queued" && ev.State == workflow.StatusRunning {
		r.started = ev.Time
	}
	if ev.State != "" {
		r.state = ev.State
	}
	if ev.Step != "" {
		r.step = ev.Step
	}
	r.calls = max(r.calls, ev.Calls)
	if ev.Message != "" {
		r.note = ev.Message
	}
	if output.IsOutcome(r.state) && r.ended.IsZero() {
		r.ended = ev.Time
	}
	if ev.Time.After(m.now) {
		m.now = ev.Time
	}
}

// order puts what needs eyes first: failures, running, stopped, queued, then the finished.
func stateOrder(state string) int {
	switch state {
	case fleet.OutcomeFailed:
		return 0
	case workflow.StatusRunning:
		return 1
	case fleet.OutcomeStopped:
		return 2
	case "queued":
		return 3
	case fleet.OutcomeAwaitingCutover:
		return 4
	case fleet.OutcomeCompleted:
		return 5
	}
	return 6
}

// Counts returns how many migrations are in each state.
func (m FleetModel) Counts() map[string]int {
	c := map[string]int{}
	for _, r := range m.rows {
		c[r.state]++
	}
	return c
}

// View renders the header, as many rows as fit, and the key help.
func (m FleetModel) View() string {
	var b strings.Builder
	c := m.Counts()
	parts := []string{}
	for _, s := range []struct{ state, label string }{
		{workflow.StatusRunning, "running"}, {"queued", "queued"}, {fleet.OutcomeCompleted, "completed"},
		{fleet.OutcomeAwaitingCutover, "awaiting cutover"}, {fleet.OutcomeStopped, "stopped"},
		{fleet.OutcomeFailed, "failed"}, {fleet.OutcomeSkipped, "skipped"},
	} {
		if c[s.state] > 0 {
			parts = append(parts, m.stateStyle(s.state).Render(fmt.Sprintf("%d %s", c[s.state], s.label)))
		}
	}
	b.WriteString(m.st.title.Render(fmt.Sprintf("rdsencrypt batch: %d databases", len(m.rows))))
	b.WriteString("  " + strings.Join(parts, " · "))
	b.WriteString(m.st.dim.Render("  elapsed " + m.now.Sub(m.start).Round(time.Second).String()))
	b.WriteString("\n\n")

	rows := slices.Clone(m.rows)
	slices.SortStableFunc(rows, func(a, b fleetRow) int { return stateOrder(a.state) - stateOrder(b.state) })
	room := max(m.height-6, 3)
	shown := rows[:min(room, len(rows))]
	w := widths(shown)
	header := fmt.Sprintf("%-*s  %-*s  %-*s  %-8s  %-16s  %-24s  %6s  %7s", w[0], "REGION", w[1], "KIND", w[2], "SOURCE", "ID", "STATE", "STEP", "CALLS", "TIME")
	b.WriteString(m.st.title.Render(truncate(header, m.width)) + "\n")
	for _, r := range shown {
		line := fmt.Sprintf("%-*s  %-*s  %-*s  %-8s  %-16s  %-24s  %6d  %7s", w[0], r.region, w[1], r.kind, w[2], r.source,
			output.Dash(r.id), r.state, truncate(r.step, 24), r.calls, m.elapsed(r))
		if r.note != "" && (r.state == fleet.OutcomeFailed || r.state == fleet.OutcomeStopped) {
			line += "  " + r.note
		}
		b.WriteString(m.stateStyle(r.state).Render(truncate(line, m.width)) + "\n")
	}
	if n := len(rows) - len(shown); n > 0 {
		b.WriteString(m.st.dim.Render(fmt.Sprintf("… and %d more", n)) + "\n")
	}
	b.WriteString("\n")
	if m.stopping {
		b.WriteString(m.st.notice.Render(truncate("stopping: running migrations stop after their current step and stay resumable", m.width)))
	} else {
		b.WriteString(m.st.dim.Render(truncate("q stop (running migrations stop between steps and stay resumable)", m.width)))
	}
	return b.String()
}

func (m FleetModel) elapsed(r fleetRow) string {
	switch {
	case r.started.IsZero():
		return "-"
	case !r.ended.IsZero():
		return r.ended.Sub(r.started).Round(time.Second).String()
	}
	return m.now.Sub(r.started).Round(time.Second).String()
}

func (m FleetModel) stateStyle(state string) lipgloss.Style {
	switch state {
	case fleet.OutcomeFailed:
		return m.st.bad
	case workflow.StatusRunning:
		return m.st.active
	case fleet.OutcomeStopped, fleet.OutcomeAwaitingCutover:
		return m.st.warn
	case fleet.OutcomeCompleted:
		return m.st.ok
	case fleet.OutcomeSkipped:
		return m.st.dim
	}
	return m.st.cell.PaddingRight(0)
}

func widths(rows []fleetRow) [3]int {
	w := [3]int{len("REGION"), len("KIND"), len("SOURCE")}
	for _, r := range rows {
		w[0], w[1], w[2] = max(w[0], len(r.region)), max(w[1], len(r.kind)), max(w[2], len(r.source))
	}
	return w
}

func truncate(s string, n int) string {
	if n <= 1 || len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

// FleetOptions configure RunFleet.
type FleetOptions struct {
	Input  io.Reader // default os.Stdin
	Output io.Writer // default os.Stderr
	// Terminal, when set, lets a password prompt use the terminal while the UI runs.
	Terminal *Terminal
}

// RunFleet shows the fleet view while work runs the batch behind it, and returns the
// batch report. q or Ctrl-C cancels work's context: running migrations stop between steps.
func RunFleet(ctx context.Context, opts FleetOptions, items []fleet.BatchItem,
	work func(ctx context.Context, obs fleet.Observer) *fleet.BatchReport) *fleet.BatchReport {
	out, in := opts.Output, opts.Input
	if out == nil {
		out = os.Stderr
	}
	if in == nil {
		in = os.Stdin
	}
	workCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	m := NewFleetModel(items, lipgloss.NewRenderer(out), time.Now(), cancel)
	p := tea.NewProgram(m, tea.WithInput(in), tea.WithOutput(out), tea.WithContext(ctx))
	detach := opts.Terminal.attach(p) // before work can ask for the terminal
	result := make(chan *fleet.BatchReport, 1)
	go func() {
		rep := work(workCtx, fleet.ObserverFunc(func(ev fleet.Event) { p.Send(FleetEventMsg{Event: ev}) }))
		result <- rep
		p.Send(FleetDoneMsg{Report: rep})
	}()
	_, err := p.Run()
	detach()
	if err != nil {
		cancel() // the UI is gone: stop between steps, then wait for the journals
		fmt.Fprintln(out, "rdsencrypt: stopping; waiting for running migrations to save their journals…")
	}
	return <-result
}
