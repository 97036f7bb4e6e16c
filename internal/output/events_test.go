package output

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

func TestPlainObserver(t *testing.T) {
	var out bytes.Buffer
	o := &PlainObserver{Out: &out, Calls: true}
	snap := "rdsenc-m-7f3a9c21-orders-db-snap"
	failed := ev(workflow.EventStepFailed, "encrypted-copy", 30*time.Minute)
	failed.Err = errors.New("KMSKeyNotAccessibleFault:\n  the key is disabled")
	finished := ev(workflow.EventFinished, "", 31*time.Minute)
	finished.Report = &workflow.Report{Status: workflow.StatusFailed}
	logged := ev(workflow.EventLog, "freeze-writes", 90*time.Second)
	logged.Message = "running freeze hook ./stop-writes.sh"

	events := []workflow.Event{
		planEvent().Event,
		ev(workflow.EventStepStarted, "freeze-writes", time.Minute),
		logged,
		ev(workflow.EventStepStarted, "snapshot", 2*time.Minute),
		call("CreateDBSnapshot", "orders-db", 2*time.Minute).Event,
		progressEvent("snapshot", snap, "creating", 0, 3*time.Minute).Event,
		progressEvent("snapshot", snap, "creating", 4, 4*time.Minute).Event,  // < 10 points: quiet
		progressEvent("snapshot", snap, "creating", 10, 5*time.Minute).Event, // 10 points
		progressEvent("snapshot", snap, "creating", 15, 6*time.Minute).Event, // quiet
		progressEvent("snapshot", snap, "", -1, 7*time.Minute).Event,         // nothing new: quiet
		progressEvent("snapshot", snap, "available", 100, 8*time.Minute).Event,
		ev(workflow.EventStepDone, "snapshot", 8*time.Minute),
		failed,
		finished,
	}
	for _, e := range events {
		o.Notify(e)
	}
	want := strings.Join([]string{
		"09:00:00 plan ready: encrypt instance orders-db, 11 steps, estimated ~1h4m, downtime ~1h1m",
		"09:01:00 freeze-writes: started",
		"09:01:30 freeze-writes: running freeze hook ./stop-writes.sh",
		"09:02:00 snapshot: started",
		"09:02:00 call CreateDBSnapshot orders-db [eu-west-1] req=req-Create",
		"09:03:00 snapshot: rdsenc-m-7f3a9c21-orders-db-snap creating 0%",
		"09:05:00 snapshot: rdsenc-m-7f3a9c21-orders-db-snap creating 10%",
		"09:08:00 snapshot: rdsenc-m-7f3a9c21-orders-db-snap available 100%",
		"09:08:00 snapshot: done",
		"09:30:00 encrypted-copy: FAILED: KMSKeyNotAccessibleFault: the key is disabled",
		"09:31:00 finished: failed",
	}, "\n") + "\n"
	assert.Equal(t, want, out.String())
	assert.NotContains(t, out.String(), "\x1b")
}

func TestPlainObserverPercentOnlyProgress(t *testing.T) {
	var out bytes.Buffer
	o := &PlainObserver{Out: &out}
	for _, p := range []int{0, 5, 9, 10, 19, 20, 35, 100} {
		o.Notify(progressEvent("encrypted-copy", "snap-enc", "copying", p, time.Duration(p)*time.Second).Event)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var pcts []string
	for _, l := range lines {
		f := strings.Fields(l)
		pcts = append(pcts, f[len(f)-1])
	}
	assert.Equal(t, []string{"0%", "10%", "20%", "35%", "100%"}, pcts)
}

func TestPlainObserverLeavesCallsToTheAuditTrail(t *testing.T) {
	var out bytes.Buffer
	o := &PlainObserver{Out: &out}
	o.Notify(workflow.Event{Type: workflow.EventAPICall, Call: &workflow.APICall{Action: "DescribeDBInstances"}})
	assert.Empty(t, out.String())
}
