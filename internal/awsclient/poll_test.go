package awsclient

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/model"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scripted returns the statuses in order, then repeats the last.
type scripted struct {
	statuses []string
	calls    int
}

func (s *scripted) fetch(context.Context) (*model.Instance, error) {
	s.calls++
	i := min(s.calls-1, len(s.statuses)-1)
	return &model.Instance{ID: "db1", Status: s.statuses[i]}, nil
}

// recordSleeps is a sleep that only records the delays asked, so that the pace is checked
// exactly, at any machine load.
func recordSleeps(asked *[]time.Duration) func(context.Context, time.Duration) error {
	return func(_ context.Context, d time.Duration) error {
		*asked = append(*asked, d)
		return nil
	}
}

func TestPollBacksOffWhileUnchangedAndResetsOnChange(t *testing.T) {
	s := &scripted{statuses: []string{"creating", "creating", "creating", "creating", "backing-up", "backing-up", "available"}}
	var seen []string
	var asked []time.Duration
	opts := PollOptions{Min: 10 * time.Millisecond, Max: 40 * time.Millisecond}
	got, err := poller[*model.Instance]{fetch: s.fetch,
		check:    func(i *model.Instance) (bool, error) { return i.Status == model.InstanceAvailable, nil },
		onChange: func(i *model.Instance) { seen = append(seen, i.Status) },
		pace:     backoff(opts.normalized()), sleep: recordSleeps(&asked)}.run(t.Context())
	require.NoError(t, err)
	assert.Equal(t, model.InstanceAvailable, got.Status)
	assert.Equal(t, []string{"creating", "backing-up", "available"}, seen)
	// creating x4: 10, 20, 40 (capped); change to backing-up resets to 10; then 20.
	ms := time.Millisecond
	assert.Equal(t, []time.Duration{10 * ms, 20 * ms, 40 * ms, 40 * ms, 10 * ms, 20 * ms}, asked)
}

func TestPollStopsOnCheckErrorFetchErrorAndContext(t *testing.T) {
	opts := PollOptions{Min: time.Millisecond, Max: time.Millisecond}
	boom := errors.New("boom")
	_, err := Poll(t.Context(), opts, (&scripted{statuses: []string{"failed"}}).fetch,
		func(*model.Instance) (bool, error) { return false, boom }, nil)
	assert.ErrorIs(t, err, boom)

	_, err = Poll(t.Context(), opts, func(context.Context) (*model.Instance, error) { return nil, boom },
		func(*model.Instance) (bool, error) { return true, nil }, nil)
	assert.ErrorIs(t, err, boom)

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	_, err = Poll(ctx, opts, (&scripted{statuses: []string{"creating"}}).fetch,
		func(*model.Instance) (bool, error) { return false, nil }, nil)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestPollReportsProgressWithoutResettingBackoff(t *testing.T) {
	progress := []int32{10, 20, 30, 100}
	n := 0
	fetch := func(context.Context) (*model.Snapshot, error) {
		p := progress[min(n, len(progress)-1)]
		n++
		status := model.SnapshotCreating
		if p == 100 {
			status = model.SnapshotAvailable
		}
		return &model.Snapshot{ID: "s", Status: status, PercentProgress: p}, nil
	}
	var seen []int32
	_, err := Poll(t.Context(), PollOptions{Min: time.Millisecond, Max: 4 * time.Millisecond}, fetch,
		func(s *model.Snapshot) (bool, error) { return model.IsSnapshotAvailable(s), nil },
		func(s *model.Snapshot) { seen = append(seen, s.PercentProgress) })
	require.NoError(t, err)
	assert.Equal(t, []int32{10, 20, 30, 100}, seen)
}

// TestServerClockNeverGoesBack reads the clock between responses whose Date, with its
// one-second resolution, lags the local clock: the readings never decrease.
func TestServerClockNeverGoesBack(t *testing.T) {
	local := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c := serverClock{local: func() time.Time { return local }}
	date := func(d time.Time) http.Header { return http.Header{"Date": []string{d.Format(http.TimeFormat)}} }
	d1 := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	c.observe(date(d1))
	var prev time.Time
	read := func(what string) {
		t.Helper()
		now := c.now()
		assert.False(t, now.Before(prev), "%s: %s after %s", what, now, prev)
		prev = now
	}
	read("first")
	local = local.Add(700 * time.Millisecond)
	read("0.7 s later")
	c.observe(date(d1)) // another response within the same second
	read("same Date again")
	local = local.Add(900 * time.Millisecond) // the local clock runs ahead of AWS's...
	read("1.6 s later")
	c.observe(date(d1.Add(time.Second))) // ...and the next second arrives behind it
	read("next Date")
	local = local.Add(2 * time.Second)
	read("3.6 s later")
	assert.Equal(t, d1.Add(3*time.Second), prev, "then it follows the Date again")
}

func TestServerClockFollowsDateHeader(t *testing.T) {
	var c serverClock
	assert.True(t, c.now().IsZero())
	aws := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	h := http.Header{"Date": []string{aws.Format(http.TimeFormat)}}
	assert.Equal(t, aws, c.observe(h))
	now := c.now()
	assert.False(t, now.Before(aws))
	assert.Less(t, now.Sub(aws), time.Second)
	// An older Date (a slow response) does not move the clock back.
	c.observe(http.Header{"Date": []string{aws.Add(-time.Hour).Format(http.TimeFormat)}})
	assert.False(t, c.now().Before(aws))
	assert.True(t, c.observe(http.Header{}).IsZero())
}
