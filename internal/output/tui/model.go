// Package tui renders a migration to an operator and returns the operator's decisions.
// It never calls AWS: the workflow runs behind it (see Run) and reaches it only through
// workflow.Observer events and workflow.Approver requests.
package tui

import (
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/progress"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/rdsencrypt/rdsencrypt/internal/output"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// screen is what the UI shows; it follows from the model's state (see Model.screen).
type screen int

const (
	screenPlan screen = iota
	screenApproval
	screenRunning
	screenFailure
	screenSummary
)

// Defaults before the terminal reports its size.
const (
	defaultWidth  = 80
	defaultHeight = 24
	minLogHeight  = 3
)

// Model is the full-screen migration UI: a plain value whose Update folds messages into
// state and whose only side effects are the commands it returns.
type Model struct {
	commands commands
	// showCalls puts every AWS call in the event pane (Options.Calls).
	showCalls bool
	cancel    func() // stops the workflow; nil in tests that do not need it
	animate   bool   // run the clock and spinner; off in golden tests

	keys keyMap
	help help.Model
	spin spinner.Model
	bar  progress.Model
	page viewport.Model // plan, failure and summary screens
	log  viewport.Model // event log under the approval and running screens
	st   styles

	width, height int
	now           time.Time

	run       runState
	planSeen  bool // the operator has read the plan
	approval  *ApprovalRequestMsg
	stopping  bool // the operator asked the workflow to stop (q, ctrl+c)
	done      bool
	report    *workflow.Report
	err       error
	logs      []logEntry
	notice    string // one-line answer to the last key, cleared by the next
	shown     screen // screen of the last layout, to reset scrolling on change
	paged     bool   // the screen is laid out as one scrolling page (see usesPage)
	body      string // rendered body of the approval and running screens
	bodyLines int
}

// logEntry is one line of the event log.
type logEntry struct {
	at   time.Time
	kind workflow.EventType
	text string
	bad  bool
}

// modelConfig is what NewModel needs beyond Options.
type modelConfig struct {
	renderer *lipgloss.Renderer
	cancel   func()
	animate  bool
	now      time.Time
}

func newModel(opts Options, cfg modelConfig) Model {
	r := cfg.renderer
	if r == nil {
		r = lipgloss.DefaultRenderer()
	}
	st := newStyles(r)
	sp := spinner.New(spinner.WithSpinner(spinner.MiniDot), spinner.WithStyle(st.active))
	m := Model{
		commands: commandsFrom(opts), showCalls: opts.Calls,
		cancel:  cfg.cancel,
		animate: cfg.animate,
		keys:    defaultKeyMap(),
		help:    newHelp(r),
		spin:    sp,
		bar: progress.New(progress.WithSolidFill("6"), progress.WithoutPercentage(),
			progress.WithColorProfile(r.ColorProfile())),
		page:  viewport.New(defaultWidth, defaultHeight),
		log:   viewport.New(defaultWidth, minLogHeight),
		st:    st,
		now:   cfg.now,
		run:   newRunState(),
		shown: -1,
	}
	m.page.KeyMap = viewport.KeyMap{} // scrolling goes through keyMap, per screen
	m.log.KeyMap = viewport.KeyMap{}
	m.sync()
	return m
}

// Init starts the clock and the spinner of a live UI.
func (m Model) Init() tea.Cmd {
	if !m.animate {
		return nil
	}
	return tea.Batch(tickEvery(), m.spin.Tick)
}

// Update folds one message into the model.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m, cmd := m.update(msg)
	m.sync()
	return m, cmd
}

func (m Model) update(msg tea.Msg) (Model, tea.Cmd) {
	m.notice = noticeAfter(m.notice, msg)
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case TickMsg:
		m.setNow(msg.Time)
		if m.animate && !m.done {
			return m, tickEvery()
		}
	case spinner.TickMsg:
		if m.animate {
			var cmd tea.Cmd
			m.spin, cmd = m.spin.Update(msg)
			return m, cmd
		}
	case EventMsg:
		m.setNow(msg.Event.Time)
		m.run.observe(msg.Event)
		if msg.Event.Type == workflow.EventPlan && msg.Event.Report != nil {
			m.planSeen = true // a resumed run, a rollback or a cleanup: its plan was shown when it began
		}
		if c := msg.Event.Call; msg.Event.Type == workflow.EventAPICall && !m.showCalls && (c == nil || c.Error == "") {
			break // polls and lookups are not news: --debug and the audit trail have them
		}
		m.logs = append(m.logs, logEntry{
			at: msg.Event.Time, kind: msg.Event.Type, text: output.EventLine(msg.Event),
			bad: msg.Event.Type == workflow.EventStepFailed || (msg.Event.Call != nil && msg.Event.Call.Error != ""),
		})
	case ApprovalRequestMsg:
		if m.stopping || m.done {
			return m, reply(msg.Reply, workflow.Quit)
		}
		m.approval = &msg
		if m.run.migrationID == "" {
			m.run.migrationID = msg.Approval.MigrationID
		}
		m.page.GotoTop()
	case DoneMsg:
		m.done, m.report, m.err = true, msg.Report, msg.Err
		if m.report == nil {
			m.report = m.run.finished
		}
		if m.stopping { // the operator asked to leave; Run prints where things stand
			return m, tea.Quit
		}
	case tea.KeyMsg:
		return m.key(msg)
	}
	return m, nil
}

// noticeAfter clears the key notice on the next key press.
func noticeAfter(notice string, msg tea.Msg) string {
	if _, ok := msg.(tea.KeyMsg); ok {
		return ""
	}
	return notice
}

func (m *Model) setNow(t time.Time) {
	if t.After(m.now) {
		m.now = t
	}
}

func (m Model) key(msg tea.KeyMsg) (Model, tea.Cmd) {
	k := m.keys
	if key.Matches(msg, k.Interrupt) {
		if m.done || m.stopping {
			return m, tea.Quit
		}
		return m.stop()
	}
	if key.Matches(msg, k.Help) {
		m.help.ShowAll = !m.help.ShowAll
		return m, nil
	}
	if m.scroll(msg) {
		return m, nil
	}
	switch m.screen() {
	case screenPlan:
		switch {
		case key.Matches(msg, k.Continue):
			m.planSeen = true
		case key.Matches(msg, k.Quit):
			return m.stop()
		}
	case screenApproval:
		switch {
		case key.Matches(msg, k.Approve):
			return m.decide(workflow.Approve)
		case key.Matches(msg, k.Skip):
			return m.decide(workflow.Skip)
		case msg.String() == "s":
			m.notice = "Step " + m.approval.Approval.Step + " cannot be skipped."
		case key.Matches(msg, k.Rollback):
			return m.decide(workflow.Rollback)
		case key.Matches(msg, k.Quit):
			m.stopping = true
			return m.decide(workflow.Quit)
		}
	case screenRunning:
		if key.Matches(msg, k.Stop) {
			return m.stop()
		}
	case screenFailure, screenSummary:
		if key.Matches(msg, k.Exit) {
			return m, tea.Quit
		}
	}
	return m, nil
}

// decide answers the pending approval.
func (m Model) decide(d workflow.Decision) (Model, tea.Cmd) {
	a := m.approval
	m.approval = nil
	return m, reply(a.Reply, d)
}

// stop asks the workflow to stop where it can, leaving the migration resumable: a pending
// approval is answered Quit, a running step is cancelled (the engine saves its journal).
func (m Model) stop() (Model, tea.Cmd) {
	m.stopping = true
	var cmds []tea.Cmd
	if m.approval != nil {
		cmds = append(cmds, reply(m.approval.Reply, workflow.Quit))
		m.approval = nil
	}
	cmds = append(cmds, cancelCmd(m.cancel))
	return m, tea.Batch(cmds...)
}

// scroll moves the viewport of the current screen; it reports whether msg was a scroll key.
func (m *Model) scroll(msg tea.KeyMsg) bool {
	vp := &m.log
	if m.usesPage() {
		vp = &m.page
	}
	switch {
	case key.Matches(msg, m.keys.Up):
		vp.ScrollUp(1)
	case key.Matches(msg, m.keys.Down):
		vp.ScrollDown(1)
	case key.Matches(msg, m.keys.PageUp):
		vp.PageUp()
	case key.Matches(msg, m.keys.PageDown):
		vp.PageDown()
	default:
		return false
	}
	return true
}

// screen is what the model shows now.
func (m Model) screen() screen {
	switch {
	case m.done && m.succeeded():
		return screenSummary
	case m.done:
		return screenFailure
	case m.run.plan != nil && !m.planSeen:
		return screenPlan
	case m.approval != nil:
		return screenApproval
	}
	return screenRunning
}

// succeeded says whether the finished run ended where the operator wanted it.
func (m Model) succeeded() bool {
	if m.err != nil {
		return false
	}
	if m.report == nil {
		return true
	}
	switch m.report.Status {
	case workflow.StatusFailed, workflow.StatusPaused, workflow.StatusRunning:
		return false
	}
	return true
}

// usesPage says whether the screen scrolls as one page, with no event log under it: the
// plan, failure and summary screens, and an approval too long to fit above the log.
func (m Model) usesPage() bool { return m.paged }

// size is the terminal size, or a default before the terminal has said.
func (m Model) size() (int, int) {
	w, h := m.width, m.height
	if w <= 0 {
		w = defaultWidth
	}
	if h <= 0 {
		h = defaultHeight
	}
	return w, h
}

// sync makes keys, help and viewports agree with the state after an update.
func (m *Model) sync() {
	s := m.screen()
	m.keys = m.keys.forScreen(s, m.approval != nil && m.approval.Approval.Skippable)
	w, h := m.size()
	m.help.Width = w
	if s != m.shown {
		m.page.GotoTop()
		m.shown = s
	}
	fixed := lipgloss.Height(m.headerView(w)) + lipgloss.Height(m.footerView())
	avail := max(1, h-fixed)
	usePage := func(content string) {
		m.paged = true
		m.page.Width, m.page.Height = w, avail
		m.page.SetContent(content)
		m.body, m.bodyLines = "", 0
	}
	if s == screenPlan || s == screenFailure || s == screenSummary {
		usePage(m.pageView(s, w))
		return
	}
	body := m.bodyView(s, w)
	lines := strings.Split(body, "\n")
	room := max(0, avail-1-minLogHeight)          // 1 for the log's title
	if s == screenApproval && len(lines) > room { // the operator must be able to read it all
		usePage(body)
		return
	}
	m.paged = false
	if len(lines) > room {
		lines = append(lines[:max(0, room-1)], m.st.dim.Render("…"))
		if room == 0 {
			lines = nil
		}
	}
	m.body, m.bodyLines = strings.Join(lines, "\n"), len(lines)
	atBottom := m.log.AtBottom() || m.log.TotalLineCount() <= m.log.Height
	m.log.Width, m.log.Height = w, max(1, avail-len(lines)-1)
	m.log.SetContent(m.logView(w))
	if atBottom {
		m.log.GotoBottom()
	}
}

// View draws the screen.
func (m Model) View() string {
	w, h := m.size()
	parts := []string{m.headerView(w)}
	if m.usesPage() {
		parts = append(parts, m.page.View())
	} else {
		if m.bodyLines > 0 {
			parts = append(parts, m.body)
		}
		parts = append(parts, m.st.dim.Render(rule("events", w)), m.log.View())
	}
	parts = append(parts, m.footerView())
	out := truncateLines(strings.Join(parts, "\n"), w)
	lines := strings.Split(out, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	return strings.Join(lines, "\n")
}

// footerView is the key help, after a notice when there is one.
func (m Model) footerView() string {
	hv := m.help.View(m.keys)
	if m.usesPage() && !m.page.AtBottom() {
		hv = m.st.active.Render("↓ more") + m.st.dim.Render(" • ") + hv
	}
	if m.notice != "" {
		return m.st.warn.Render(m.notice) + "\n" + hv
	}
	return hv
}

// rule is a horizontal line with a label.
func rule(label string, width int) string {
	s := "── " + label + " "
	return s + strings.Repeat("─", max(0, width-lipgloss.Width(s)))
}
