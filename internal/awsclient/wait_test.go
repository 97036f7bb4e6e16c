package awsclient

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

var tiny = PollOptions{Min: time.Microsecond, Max: time.Microsecond}

// scriptedInstance is a StatusFunc answering the statuses in order, then the last one again;
// "gone" answers StatusGone. Each call moves clock by tick.
type scriptedInstance struct {
	statuses []string
	calls    int
	now      time.Time
	tick     time.Duration
}

func (s *scriptedInstance) status(context.Context) (*model.Instance, string, error) {
	st := s.statuses[min(s.calls, len(s.statuses)-1)]
	s.calls++
	s.now = s.now.Add(s.tick)
	if st == StatusGone {
		return nil, StatusGone, nil
	}
	return &model.Instance{ID: "app-new", Status: st}, st, nil
}

func (s *scriptedInstance) clock() time.Time { return s.now }

func instanceWait(s *scriptedInstance, ready func(*model.Instance) bool) Wait[*model.Instance] {
	return Wait[*model.Instance]{What: "DB instance", ID: "db-ABC", Status: s.status, Pending: instanceMoving,
		Target: []string{model.InstanceAvailable}, Ready: ready, observe: observeInstance}
}

func TestWaitEndsAtTargetWhenReady(t *testing.T) {
	s := &scriptedInstance{statuses: []string{"creating", "backing-up", "available"}}
	readyAt := 4
	var seen []string
	got, err := instanceWait(s, func(*model.Instance) bool { return s.calls >= readyAt }).Until(t.Context(),
		Watch{Poll: tiny, OnChange: func(o Observed) { seen = append(seen, o.Status) }})
	require.NoError(t, err)
	assert.Equal(t, "available", got.Status)
	assert.Equal(t, readyAt, s.calls, "available but not ready yet is waited through")
	assert.Equal(t, []string{"creating", "backing-up", "available"}, seen)
}

func TestWaitEndsOnAStatusItCannotPass(t *testing.T) {
	s := &scriptedInstance{statuses: []string{"modifying", "incompatible-parameters"}}
	_, err := instanceWait(s, nil).Until(t.Context(), Watch{Poll: tiny})
	var se *StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "incompatible-parameters", se.Status)
	assert.Equal(t, "app-new", se.ID)
	assert.Equal(t, "db-ABC", se.ResourceID)
	assert.False(t, model.IsNotFound(err))

	s = &scriptedInstance{statuses: []string{"creating", StatusGone}}
	_, err = instanceWait(s, nil).Until(t.Context(), Watch{Poll: tiny})
	require.ErrorAs(t, err, &se)
	assert.True(t, model.IsNotFound(err), "a resource gone while awaited is NotFound")
}

func TestDeletionWaitEndsWhenGone(t *testing.T) {
	s := &scriptedInstance{statuses: []string{"available", "deleting", StatusGone}}
	w := instanceWait(s, nil)
	w.Pending, w.Target = instanceAny, []string{StatusGone}
	got, err := w.Until(t.Context(), Watch{Poll: tiny})
	require.NoError(t, err)
	assert.Nil(t, got)
	assert.Equal(t, 3, s.calls)
}

// TestWaitSaysItIsStillWaitingThenGivesUp: a status that never reaches its target is
// reported at growing intervals past the expectation, then the wait gives up naming the
// resource and the status it is stuck in.
func TestWaitSaysItIsStillWaitingThenGivesUp(t *testing.T) {
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	s := &scriptedInstance{statuses: []string{"modifying"}, now: start, tick: 5 * time.Minute}
	var still []string
	_, err := instanceWait(s, nil).Until(t.Context(), Watch{Poll: tiny, Clock: s.clock, Expect: 10 * time.Minute,
		OnStill: func(st Still) { still = append(still, st.String()) }})
	var stuck *StuckError
	require.ErrorAs(t, err, &stuck)
	assert.Equal(t, []string{
		"still waiting for DB instance app-new to be available (now modifying, 10 min)",
		"still waiting for DB instance app-new to be available (now modifying, 15 min)",
		"still waiting for DB instance app-new to be available (now modifying, 25 min)",
		"still waiting for DB instance app-new to be available (now modifying, 45 min)",
	}, still)
	assert.Equal(t, GiveUpAfter(10*time.Minute), stuck.Waited, "gives up at the limit: 70 min for a 10 min estimate")
	assert.Equal(t, "DB instance app-new is still modifying after 70 min of waiting for available (expected about 10 min)", err.Error())
	assert.True(t, strings.Contains(err.Error(), "app-new"))
}

// A clock that jumps past the limit between two polls (a suspended laptop, a stalled
// process): the wait says it is still waiting and looks once more before it gives up.
func TestWaitPastTheLimitAtOnceSaysSoBeforeGivingUp(t *testing.T) {
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	s := &scriptedInstance{statuses: []string{"modifying"}, now: start, tick: 2 * time.Hour}
	var still []string
	_, err := instanceWait(s, nil).Until(t.Context(), Watch{Poll: tiny, Clock: s.clock, Expect: 10 * time.Minute,
		OnStill: func(st Still) { still = append(still, st.String()) }})
	var stuck *StuckError
	require.ErrorAs(t, err, &stuck)
	assert.Equal(t, []string{"still waiting for DB instance app-new to be available (now modifying, 120 min)"}, still)
	assert.Equal(t, 3, s.calls, "the first answer starts the wait, the second is told, the third gives up")
}

func TestGiveUpAfterIsGenerous(t *testing.T) {
	assert.Equal(t, 70*time.Minute, GiveUpAfter(10*time.Minute))
	assert.Equal(t, 8*time.Hour, GiveUpAfter(2*time.Hour))
	assert.Equal(t, DefaultGiveUp, GiveUpAfter(0))
}
