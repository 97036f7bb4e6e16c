package tui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/stretchr/testify/assert"

	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// resumedPlan is the plan event a resumed run sends: the journal's steps with the report of
// where each stands (done up to the parity check).
func resumedPlan() EventMsg {
	e := ev(workflow.EventPlan, "", 60*time.Minute)
	e.Plan = testPlan()
	e.Report = &workflow.Report{MigrationID: testID, Source: "orders-db", Status: workflow.StatusPaused}
	for _, s := range testPlan().Steps {
		status := workflow.StepDone
		if strings.HasPrefix(s.Name, "cutover") || s.Name == "unfreeze-writes" || s.Name == "verify" {
			status = workflow.StepPending
		}
		e.Report.Steps = append(e.Report.Steps, workflow.StepReport{Name: s.Name, Status: status})
	}
	return EventMsg{Event: e}
}

// pausedRun is a run quit (q) while the encrypted copy was under way.
func pausedRun() []tea.Msg {
	running := append([]tea.Msg{}, upToCopy()...)
	running = append(running[:1], append([]tea.Msg{keyEnter()}, running[1:]...)...)
	stop := &workflow.Error{Resource: "orders-db", Problem: "migration " + testID + " of orders-db stopped before encrypted-copy",
		Next: "rdsencrypt resume " + testID, Err: workflow.ErrStopped}
	return append(running, DoneMsg{Report: &workflow.Report{MigrationID: testID, Source: "orders-db", Status: workflow.StatusPaused}, Err: stop})
}

// issue14Screens are the screens issue 14 asks about.
func issue14Screens() map[string][]tea.Msg {
	reply := make(chan workflow.Decision, 1)
	running := append([]tea.Msg{}, upToCopy()...)
	running = append(running[:1], append([]tea.Msg{keyEnter()}, running[1:]...)...)
	rollback := workflow.Approval{MigrationID: testID, Step: workflow.PhaseRollback, Downtime: true,
		Summary: "roll back migration " + testID + ": orders-db returns to its original state, everything the migration created is deleted"}
	rbPlan := ev(workflow.EventPlan, "", 0)
	rbPlan.Plan = &workflow.Plan{MigrationID: testID, Source: "orders-db", Steps: []workflow.PlannedStep{{Name: workflow.PhaseRollback, Description: rollback.Summary, Mutating: true}}}
	return map[string][]tea.Msg{
		"running":          running,
		"resumed-approval": {resumedPlan(), keyEnter(), approvalFor("cutover-retire-source", reply)},
		"paused":           pausedRun(),
		"rollback":         {EventMsg{Event: rbPlan}, keyEnter(), ApprovalRequestMsg{Approval: rollback, Reply: reply}},
	}
}

// TestGoldenIssue14 renders the screens of issue 14 at 120x40 and 60x24 through teatest and
// compares them with testdata/TestGoldenIssue14/*.golden (-update rewrites). With
// RDSENCRYPT_SCREENS=DIR it also writes each final frame there.
func TestGoldenIssue14(t *testing.T) {
	for _, size := range []struct{ w, h int }{{120, 40}, {60, 24}} {
		for name, msgs := range issue14Screens() {
			t.Run(name+"_"+itoa(size.w)+"x"+itoa(size.h), func(t *testing.T) {
				tm := teatest.NewTestModel(t, testModel(nil), teatest.WithInitialTermSize(size.w, size.h))
				for _, m := range msgs {
					tm.Send(m)
				}
				if err := tm.Quit(); err != nil {
					t.Fatal(err)
				}
				fm := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(Model)
				view := fm.View()
				if fm.done {
					view = fm.finalText()
				}
				checkFits(t, view, size.w, 1000)
				if dir := os.Getenv("RDSENCRYPT_SCREENS"); dir != "" {
					_ = os.WriteFile(filepath.Join(dir, name+"_"+itoa(size.w)+"x"+itoa(size.h)+".txt"), []byte(view), 0o644)
				}
				golden.RequireEqual(t, []byte(view))
			})
		}
	}
}

// The screens say what issue 14 asks: numbered, named steps on a resumed approval that says
// the downtime continues; a pause that says paused, where, that writes are frozen, and how to
// go on; no poll lines in the event pane; a rollback approval that does not announce downtime.
func TestIssue14ScreenWording(t *testing.T) {
	screens := issue14Screens()
	view := func(name string) string {
		m, _ := feed(testModel(nil), tea.WindowSizeMsg{Width: 120, Height: 40})
		m, _ = feed(m, screens[name]...)
		if m.done {
			return flat(m.finalText())
		}
		return flat(m.View())
	}
	resumed := view("resumed-approval")
	assert.Contains(t, resumed, "Approve step 8/11: cutover-retire-source")
	assert.Contains(t, resumed, "DOWNTIME continues")
	assert.NotContains(t, resumed, "approving starts write downtime")

	paused := view("paused")
	assert.Contains(t, paused, "■ Migration paused at step encrypted-copy")
	assert.NotContains(t, paused, "failed")
	assert.Contains(t, paused, "Writes to orders-db are still frozen")
	assert.Contains(t, paused, "rdsencrypt resume "+testID)

	running := view("running")
	assert.NotContains(t, running, "call CopyDBSnapshot")
	assert.NotContains(t, running, "req=")

	rb := view("rollback")
	assert.Contains(t, rb, "Approve step 1/1: rollback")
	assert.NotContains(t, rb, "starts write downtime")
	assert.Contains(t, rb, "may write to it again once the rollback has finished")
	assert.Contains(t, rb, "rdsencrypt rollback "+testID)

	rolledBack, _ := feed(testModel(nil), tea.WindowSizeMsg{Width: 120, Height: 40}, DoneMsg{Report: &workflow.Report{
		MigrationID: testID, Source: "orders-db", Status: workflow.StatusRolledBack}})
	text := flat(rolledBack.finalText())
	assert.Contains(t, text, "Applications may write to orders-db again")
	assert.NotContains(t, text, "Write downtime")
}

// Item 13: with replica steps (long names) the plan table at 120 columns keeps every short
// column whole and wraps the description instead; before, DOWN was squeezed to one character
// ("yes" printed vertically, header "ASK D").
func TestPlanTableWrapsTheDescriptionNotTheShortColumns(t *testing.T) {
	p := testPlan()
	for _, r := range []string{"orders-db-replica-eu-central-1-analytics", "orders-db-replica-cascade-reporting-two"} {
		p.Steps = append(p.Steps, workflow.PlannedStep{Name: "replica-create:" + r, Mutating: true, Downtime: true, Estimate: mins(25),
			Description: "create the encrypted read replica " + r + " of the new primary, with every setting of the old replica"})
	}
	e := ev(workflow.EventPlan, "", 0)
	e.Plan = p
	for _, w := range []int{120, 100} {
		m, _ := feed(testModel(nil), tea.WindowSizeMsg{Width: w, Height: 200}, EventMsg{Event: e})
		view := m.planView(w)
		checkFits(t, view, w, 1000)
		assert.Contains(t, view, "EST   ASKS  DOWN  WHAT IT DOES", "width %d: headers whole", w)
		assert.Regexp(t, `replica-create:orders-db-replica-cascade-reporting-two\s+~25m\s+yes\s+yes\s+create the`, view, "width %d", w)
	}
}

// Item 6: estimates are on the AWS clock, so the running step's elapsed time and the
// downtime are too once AWS times are known (a simulator's clock runs faster; AWS's own
// clock differs from the local one), and each figure says which clock it is on.
func TestElapsedAndDowntimeAreOnTheAWSClock(t *testing.T) {
	awsCall := func(local, aws time.Duration) EventMsg {
		e := call("DescribeDBSnapshots", "rdsenc-m-7f3a9c21-orders-db-snap-enc", local)
		e.Event.Call.AWSTime = at(aws)
		return e
	}
	m, _ := feed(testModel(nil), tea.WindowSizeMsg{Width: 120, Height: 40}, planEvent(), keyEnter(),
		msg(workflow.EventStepStarted, "freeze-writes", time.Minute), msg(workflow.EventStepDone, "freeze-writes", time.Minute),
		msg(workflow.EventStepStarted, "snapshot", time.Minute),
		awsCall(time.Minute+time.Second, 2*time.Hour), // AWS's clock: far from the local one
		awsCall(time.Minute+2*time.Second, 2*time.Hour+15*time.Minute),
		TickMsg{Time: at(time.Minute + 3*time.Second)})
	view := flat(m.View())
	assert.Contains(t, view, "Elapsed 15m of ~12m estimated (over the estimate) · AWS clock")
	assert.Contains(t, view, "DOWNTIME 15m (AWS clock)")
	assert.NotContains(t, view, "call DescribeDBSnapshots")

	local, _ := feed(testModel(nil), tea.WindowSizeMsg{Width: 120, Height: 40}, planEvent(), keyEnter(),
		msg(workflow.EventStepStarted, "snapshot", time.Minute), TickMsg{Time: at(time.Minute + 3*time.Second)})
	assert.Contains(t, flat(local.View()), "Elapsed 3s of ~12m estimated · local clock")
}
