package rdssim

import (
	"strings"
	"time"
)

// Throttle makes calls fail with Throttling / "Rate exceeded" (HTTP 400; KMS:
// ThrottlingException) once they exceed a real-time token bucket, so that the SDK's retryer,
// which backs off in real time, gets through.
type Throttle struct {
	RatePerSecond float64  `json:"rate"`              // tokens added per real second
	Burst         int      `json:"burst"`             // bucket size (default: max(1, rate))
	Actions       []string `json:"actions,omitempty"` // only these actions (default: all)
}

// CallFailure makes the Nth call of an action, counted from the moment it is injected
// (Nth 1 = the next call), fail with Code. Status defaults to the code's status of docs/aws-behaviour.md#errors.
type CallFailure struct {
	Action  string `json:"action"`
	Nth     int    `json:"nth"`
	Code    string `json:"code"`
	Message string `json:"message,omitempty"`
	Status  int    `json:"status,omitempty"`
}

type pendingFailure struct {
	CallFailure
	seen int
}

type bucket struct {
	Throttle
	tokens float64
	last   time.Time
}

type faultState struct {
	calls        []*pendingFailure
	throttle     *bucket
	throttled    int
	failSnapshot map[string]bool // region/snapshot id: the next snapshot or copy with this id fails
	failRestore  map[string]bool // region/instance id: the next restore into this id fails
	// the key is disabled this long after the next call of its kind that uses it is accepted
	disableOnUse map[keyUse]time.Duration
}

// keyUse is a KMS key and the kind of call that arms its disable: KeyUseCopy or KeyUseRestore.
type keyUse struct{ arn, use string }

func newFaultState() faultState {
	return faultState{failSnapshot: map[string]bool{}, failRestore: map[string]bool{},
		disableOnUse: map[keyUse]time.Duration{}}
}

// beforeCall applies throttling and injected call failures to one incoming call.
func (f *faultState) beforeCall(action string, rds bool) *apiError {
	if b := f.throttle; b != nil && b.applies(action) && !b.take(time.Now()) {
		f.throttled++
		if rds {
			return &apiError{Code: "Throttling", Message: "Rate exceeded", Status: 400}
		}
		return &apiError{Code: "ThrottlingException", Message: "Rate exceeded", Status: 400}
	}
	for i, pf := range f.calls {
		if pf.Action != action {
			continue
		}
		pf.seen++
		if pf.seen < pf.Nth {
			continue
		}
		f.calls = append(f.calls[:i], f.calls[i+1:]...)
		msg := pf.Message
		if msg == "" {
			msg = "Injected failure of " + action
		}
		st := pf.Status
		if st == 0 {
			st = statusOf(pf.Code)
		}
		return &apiError{Code: pf.Code, Message: msg, Status: st}
	}
	return nil
}

func (b *bucket) applies(action string) bool {
	if len(b.Actions) == 0 {
		return true
	}
	for _, a := range b.Actions {
		if a == action {
			return true
		}
	}
	return false
}

func (b *bucket) take(now time.Time) bool {
	b.tokens += now.Sub(b.last).Seconds() * b.RatePerSecond
	if max := float64(b.Burst); b.tokens > max {
		b.tokens = max
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}

// SetThrottle installs a throttle; a nil or zero-rate throttle removes it.
func (s *Sim) SetThrottle(t *Throttle) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t == nil || t.RatePerSecond <= 0 {
		s.faults.throttle = nil
		return
	}
	b := &bucket{Throttle: *t, last: time.Now()}
	if b.Burst <= 0 {
		b.Burst = int(t.RatePerSecond)
		if b.Burst < 1 {
			b.Burst = 1
		}
	}
	b.tokens = float64(b.Burst)
	s.faults.throttle = b
}

// Throttled returns how many calls the throttle has rejected.
func (s *Sim) Throttled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults.throttled
}

// InjectFailure arms a one-shot failure of the Nth call of an action.
func (s *Sim) InjectFailure(f CallFailure) error {
	if f.Action == "" || f.Code == "" {
		return errf("InvalidParameterValue", "a call failure needs an action and a code")
	}
	if f.Nth < 1 {
		f.Nth = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.calls = append(s.faults.calls, &pendingFailure{CallFailure: f})
	return nil
}

// FailNextSnapshot makes the next CreateDBSnapshot or CopyDBSnapshot producing the snapshot id
// in region end in status "failed" instead of "available".
func (s *Sim) FailNextSnapshot(region, snapshotID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.failSnapshot[region+"/"+strings.ToLower(snapshotID)] = true
}

// FailNextRestore makes the next RestoreDBInstanceFromDBSnapshot into the instance id in
// region end in status "incompatible-restore".
func (s *Sim) FailNextRestore(region, instanceID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.failRestore[region+"/"+strings.ToLower(instanceID)] = true
}

// ClearFaults removes the throttle and every armed failure.
func (s *Sim) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	th := s.faults.throttled
	s.faults = newFaultState()
	s.faults.throttled = th
}

// takeFault consumes an armed per-resource failure.
func takeFault(m map[string]bool, region, id string) bool {
	k := region + "/" + id
	if m[k] {
		delete(m, k)
		return true
	}
	return false
}
