package tui

import "github.com/charmbracelet/bubbles/key"

// keyMap holds every key the UI understands; which ones are enabled depends on the screen,
// and bubbles/help shows only the enabled ones.
type keyMap struct {
	Continue  key.Binding // plan screen: go on to the first approval
	Approve   key.Binding
	Skip      key.Binding
	Rollback  key.Binding
	Quit      key.Binding // approval: stop here, resumable
	Stop      key.Binding // running: cancel, the workflow stops between steps
	Exit      key.Binding // end screens: leave the UI
	Up        key.Binding
	Down      key.Binding
	PageUp    key.Binding
	PageDown  key.Binding
	Help      key.Binding
	Interrupt key.Binding
}

func defaultKeyMap() keyMap {
	return keyMap{
		Continue:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "continue")),
		Approve:   key.NewBinding(key.WithKeys("enter", "y"), key.WithHelp("enter/y", "approve")),
		Skip:      key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "skip")),
		Rollback:  key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "roll back")),
		Quit:      key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		Stop:      key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "stop")),
		Exit:      key.NewBinding(key.WithKeys("q", "enter", "esc"), key.WithHelp("q", "exit")),
		Up:        key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "scroll up")),
		Down:      key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "scroll down")),
		PageUp:    key.NewBinding(key.WithKeys("pgup", "b"), key.WithHelp("pgup", "page up")),
		PageDown:  key.NewBinding(key.WithKeys("pgdown", "f", " "), key.WithHelp("pgdn", "page down")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Interrupt: key.NewBinding(key.WithKeys("ctrl+c")),
	}
}

// forScreen enables the keys that mean something on screen s.
func (k keyMap) forScreen(s screen, skippable bool) keyMap {
	k.Continue.SetEnabled(s == screenPlan)
	k.Approve.SetEnabled(s == screenApproval)
	k.Skip.SetEnabled(s == screenApproval && skippable)
	k.Rollback.SetEnabled(s == screenApproval)
	k.Quit.SetEnabled(s == screenApproval || s == screenPlan)
	k.Stop.SetEnabled(s == screenRunning)
	k.Exit.SetEnabled(s == screenFailure || s == screenSummary)
	return k
}

// ShortHelp is the one-line key hint.
func (k keyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Continue, k.Approve, k.Skip, k.Rollback, k.Quit, k.Stop, k.Exit, k.Help}
}

// FullHelp adds scrolling.
func (k keyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Continue, k.Approve, k.Skip, k.Rollback, k.Quit, k.Stop, k.Exit},
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Help},
	}
}
