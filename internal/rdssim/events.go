package rdssim

import "time"

// Event is one state change of a simulated resource, in virtual time.
type Event struct {
	Time       time.Time `json:"time"`
	Region     string    `json:"region"`
	Type       string    `json:"type"` // instance, snapshot, key, cluster, cluster-snapshot, ...
	ID         string    `json:"id"`
	ResourceID string    `json:"resource_id"`
	Status     string    `json:"status"`
	Action     string    `json:"action"`
}

// emit records an event. Callers hold Sim.mu.
func (s *Sim) emit(at time.Time, region, typ, id, resourceID, status, action string) {
	s.events = append(s.events, Event{Time: at.UTC(), Region: region, Type: typ, ID: id,
		ResourceID: resourceID, Status: status, Action: action})
}

// Events returns every recorded state change so far, oldest first.
func (s *Sim) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle(s.clock.now())
	return append([]Event(nil), s.events...)
}
