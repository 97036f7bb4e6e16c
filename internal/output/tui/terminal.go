package tui

import (
	"sync"

	tea "github.com/charmbracelet/bubbletea"
)

// Terminal lets code outside the UI use the terminal for a moment while the UI runs: a
// password prompt. Pass the same *Terminal in Options or FleetOptions and to that code.
type Terminal struct {
	mu    sync.Mutex
	p     *tea.Program
	ready chan struct{}
}

// terminalReady reaches the program once its event loop runs: the terminal is set up and
// can be released.
type terminalReady struct{}

// attach is called by Run and RunFleet before the program runs; the returned function
// detaches it once the program has ended.
func (t *Terminal) attach(p *tea.Program) (detach func()) {
	if t == nil {
		return func() {}
	}
	t.mu.Lock()
	t.p, t.ready = p, make(chan struct{})
	ready := t.ready
	t.mu.Unlock()
	go func() {
		p.Send(terminalReady{}) // returns once the event loop reads it, or the program ended
		close(ready)
	}()
	return func() {
		t.mu.Lock()
		t.p = nil
		t.mu.Unlock()
	}
}

// Use runs fn with the terminal released from the UI (the UI comes back after fn), or
// directly when no UI runs. Uses are one at a time.
func (t *Terminal) Use(fn func() error) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.p == nil {
		return fn()
	}
	<-t.ready
	if err := t.p.ReleaseTerminal(); err != nil {
		return err
	}
	ferr := fn()
	if err := t.p.RestoreTerminal(); err != nil && ferr == nil {
		ferr = err
	}
	return ferr
}
