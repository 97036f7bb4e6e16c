package integration

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/rdssim"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// TestAWaitThatNeverEndsStopsResumably: a rename never ends (the simulator keeps a renamed
// instance "renaming" for days; the source's name is free after 30 s, so the new instance's
// rename starts and it is that wait which never ends). The wait says it is still waiting, at growing intervals, then
// gives up past four times the step's estimate: the migration stops, paused and resumable
// (exit 3 in the CLI), naming the instance and the status it is stuck in.
func TestAWaitThatNeverEndsStopsResumably(t *testing.T) {
	d := rdssim.DefaultDurations()
	d.Rename = 100 * time.Hour
	e := newEnvWith(t, rdssim.Options{Speed: testSpeed, Durations: &d})
	e.createKey("alias/k")
	e.createInstance(simpleSource("ledger"))

	rep, err := e.engine(fixedID, workflow.AutoApprove).Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/k"})
	require.ErrorIs(t, err, workflow.ErrStopped)
	require.NotNil(t, rep)
	assert.Equal(t, workflow.StatusPaused, rep.Status)
	assert.Regexp(t, regexp.MustCompile(`DB instance ledger\S* is still renaming after \d+ min of waiting for available \(expected about 10 min\)`), err.Error())
	assert.Contains(t, workflow.NextOf(err), "rdsencrypt resume "+fixedID)

	var still []string
	for _, ev := range e.events {
		if ev.Type == workflow.EventLog && strings.HasPrefix(ev.Message, "still waiting for DB instance ledger") {
			still = append(still, ev.Message)
		}
	}
	require.NotEmpty(t, still, "the wait said it was still waiting before giving up")
	assert.Contains(t, still[0], "(now renaming, ")
}
