package rdssim

import (
	"net/http"
	"sync"
)

// actionKey is the request context key under which ServeHTTP keeps the served call's action.
type actionKey struct{}

// count counts a call of action (Calls) and names it for the request's hold (HoldCalls).
func (s *Sim) count(req *http.Request, action string) {
	s.calls[action]++
	if p, ok := req.Context().Value(actionKey{}).(*string); ok {
		*p = action
	}
}

// HeldCall is a call the simulator has served (its effects are made) whose answer it holds
// back until Release: to the caller, a process killed now was killed right after the call.
type HeldCall struct {
	Action  string
	release chan struct{}
	once    *sync.Once
}

// Release lets the answer go to the caller.
func (h HeldCall) Release() { h.once.Do(func() { close(h.release) }) }

// holds is the simulator's HoldCalls state; its own lock, so a held answer never holds s.mu.
type holds struct {
	mu      sync.Mutex
	match   func(action string) bool
	calls   chan HeldCall
	stopped chan struct{} // closed by stop: held answers go
}

// HoldCalls holds the answer of every later call whose action match accepts, one at a time:
// each is sent on the returned channel after it was served and waits for its Release (or for
// its caller to go away). Tests use it to stop a process at an exact call however loaded the
// machine is. stop ends the holding; calls held after it are answered at once.
func (s *Sim) HoldCalls(match func(action string) bool) (calls <-chan HeldCall, stop func()) {
	ch, stopped := make(chan HeldCall), make(chan struct{})
	s.held.mu.Lock()
	s.held.match, s.held.calls, s.held.stopped = match, ch, stopped
	s.held.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			s.held.mu.Lock()
			if s.held.calls == ch {
				s.held.match, s.held.calls, s.held.stopped = nil, nil, nil
			}
			s.held.mu.Unlock()
			close(stopped)
		})
	}
}

// holdAnswer holds the answer to req, a call of action, while HoldCalls says so.
func (s *Sim) holdAnswer(req *http.Request, action string) {
	s.held.mu.Lock()
	match, ch, stopped := s.held.match, s.held.calls, s.held.stopped
	s.held.mu.Unlock()
	if action == "" || match == nil || !match(action) {
		return
	}
	h := HeldCall{Action: action, release: make(chan struct{}), once: &sync.Once{}}
	select {
	case ch <- h:
	case <-stopped:
		return
	case <-req.Context().Done():
		return
	}
	select {
	case <-h.release:
	case <-stopped:
	case <-req.Context().Done():
	}
}
