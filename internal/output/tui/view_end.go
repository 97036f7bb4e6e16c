package tui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/output"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// Resource roles the summary sorts by (workflow's names).
const (
	roleTarget        = "target"
	roleRetiredSource = "retired-source"
)

// failureView says what went wrong or where the run stopped, and the commands that go on.
func (m Model) failureView(w int) string {
	status := ""
	if m.report != nil {
		status = m.report.Status
	}
	at := m.stoppedAt()
	var head string
	switch {
	case m.paused(status):
		head = m.pausedText(at, w)
	default:
		head = m.st.bad.Render("✗ Migration failed")
		if at != "" {
			head += m.st.bad.Render(" at step " + at)
		}
		if msg := m.errorText(); msg != "" {
			head += "\n" + indentWrap("Error: ", msg, w)
		}
		head += "\n" + wrap("The journal is saved: the migration can be resumed after fixing the cause, or rolled back.", w)
	}

	var next []string
	if c := m.resumeCommand(); c != "" {
		next = append(next, indentWrap("Resume:    ", m.st.command.Render(c), w))
	}
	if c := expand(m.commands.rollback, m.migrationID()); c != "" {
		next = append(next, indentWrap("Roll back: ", m.st.command.Render(c), w))
	}

	var steps string
	if len(m.run.steps) > 0 {
		steps = m.section("Steps", m.stepStrip(w))
	}
	var tail string
	if len(m.logs) > 0 {
		const keep = 6
		logs := m.logs[max(0, len(m.logs)-keep):]
		mm := m
		mm.logs = logs
		tail = m.section("Last events", mm.logView(w))
	}
	return joinBlocks(head, strings.Join(next, "\n"), steps, tail)
}

// paused says whether the run stopped between steps, as the operator asked (q, Ctrl-C) or
// as the workflow does before a decision only a person can make: not a failure.
func (m Model) paused(status string) bool {
	return (m.err == nil && status == workflow.StatusPaused) || errors.Is(m.err, workflow.ErrStopped) ||
		(m.stopping && isCancel(m.err)) || (status == workflow.StatusPaused && isCancel(m.err))
}

// pausedText says where the run paused, whether writes are still frozen, and why when the
// workflow stopped on its own (parity differences, a manual cutover).
func (m Model) pausedText(at string, w int) string {
	head := m.st.notice.Render("■ Migration paused")
	if at != "" {
		head += m.st.notice.Render(" at step " + at)
	}
	var lines []string
	for _, s := range m.run.steps {
		if s.planned.Name == at && s.state == stepRunning {
			lines = append(lines, "The step was under way: AWS finishes what it started, and resume picks it up where it is.")
		}
	}
	var stop *workflow.Error
	if errors.As(m.err, &stop) && stop.Problem != "" && !strings.Contains(stop.Problem, " stopped before ") {
		lines = append(lines, "Why: "+output.OneLine(stop.Problem))
	}
	if _, frozen := m.run.downtime(m.now); frozen {
		src := "the source"
		if m.run.plan != nil {
			src = m.run.plan.Source
		}
		lines = append(lines, "\x00Writes to "+src+" are still frozen: applications cannot write until the migration is resumed (and its cutover done) or rolled back.")
	}
	lines = append(lines, "Nothing is lost: the journal is saved.")
	for i, l := range lines {
		if notice, ok := strings.CutPrefix(l, "\x00"); ok {
			lines[i] = m.st.notice.Render(wrap(notice, w))
		} else {
			lines[i] = wrap(l, w)
		}
	}
	return head + "\n" + strings.Join(lines, "\n")
}

// isCancel says whether err is the context cancellation a stop causes.
func isCancel(err error) bool {
	return err == nil || strings.Contains(err.Error(), "context canceled")
}

// stoppedAt is the step the run failed or stopped at.
func (m Model) stoppedAt() string {
	for _, s := range m.run.steps {
		if s.state == stepFailed || s.state == stepRunning {
			return s.planned.Name
		}
	}
	for _, s := range m.run.steps {
		if s.state == stepPending {
			return s.planned.Name
		}
	}
	return ""
}

func (m Model) errorText() string {
	if m.err != nil {
		return output.OneLine(m.err.Error())
	}
	if m.report != nil && m.report.Error != "" {
		return output.OneLine(m.report.Error)
	}
	for _, s := range m.run.steps {
		if s.err != nil {
			return output.OneLine(s.err.Error())
		}
	}
	return ""
}

// resumeCommand is the command that resumes this migration, or "".
func (m Model) resumeCommand() string {
	if c := expand(m.commands.resume, m.migrationID()); c != "" {
		return c
	}
	if m.report != nil {
		return m.report.Next
	}
	return ""
}

// summaryView is the end of a finished run: steps, what was created, renamed and verified,
// the downtime, and what cleanup will delete and when to run it.
func (m Model) summaryView(w int) string {
	r := m.report
	if r == nil {
		r = &workflow.Report{Status: workflow.StatusCompleted}
	}
	source := r.Source
	if source == "" && m.run.plan != nil {
		source = m.run.plan.Source
	}
	var head string
	switch r.Status {
	case workflow.StatusRolledBack:
		head = m.st.notice.Render(wrap("■ Migration rolled back: "+source+" is as it was before the migration.", w)) + "\n" +
			wrap("Applications may write to "+source+" again: it answers at its original name and endpoint.", w)
	case workflow.StatusNotStarted:
		head = m.st.notice.Render(wrap("■ Quit before any change: nothing was changed in AWS and no journal was kept. Run the same command again to start over.", w))
	case workflow.StatusNothingToDo:
		head = m.st.ok.Render(wrap("✓ Nothing to do: "+source+" already uses the requested key.", w))
	case workflow.StatusCleanedUp:
		head = m.st.ok.Render(wrap("✓ Cleanup done (cleaned-up): "+source+" is encrypted; the retired source was deleted with a final snapshot.", w))
	default:
		head = m.st.ok.Render(wrap("✓ Migration completed: "+source+" is encrypted", w))
		if r.KmsKeyARN != "" {
			head += "\n" + indentWrap("KMS key: ", r.KmsKeyARN, w)
		}
	}
	var facts []string
	if r.Status != workflow.StatusRolledBack && (r.DowntimeSeconds > 0 || !m.run.downStart.IsZero()) {
		d := "Write downtime " + output.Duration(time.Duration(r.DowntimeSeconds*float64(time.Second))) + " on the AWS clock"
		if m.run.plan != nil && m.run.plan.EstimatedDowntime > 0 {
			d += " (estimated " + output.Estimate(m.run.plan.EstimatedDowntime) + ")"
		}
		facts = append(facts, d)
	}
	facts = append(facts, fmt.Sprintf("%d API calls", r.APICalls))
	head += "\n" + wrap(strings.Join(facts, " · "), w)
	head += m.masterSecretLines(r, w)

	var steps string
	if len(r.Steps) > 0 {
		rows := make([][]string, 0, len(r.Steps))
		for _, s := range r.Steps {
			took := "-"
			if s.StartedAt != nil && s.FinishedAt != nil {
				took = output.Duration(s.FinishedAt.Sub(*s.StartedAt))
			}
			rows = append(rows, []string{s.Name, s.Status, took, fmt.Sprint(s.APICalls)})
		}
		steps = m.section("Steps", grid(m.st, w, []string{"STEP", "STATUS", "TOOK", "API CALLS"}, rows))
	}

	var created, renamed, cleanup []string
	if p := m.run.plan; p != nil && r.Status == workflow.StatusCompleted {
		for _, res := range p.Resources {
			switch {
			case res.Role == roleRetiredSource:
				renamed = append(renamed, fmt.Sprintf("%s → %s (the unencrypted source, kept until cleanup)", p.Source, res.Name))
			case res.Role == roleTarget:
				created = append(created, fmt.Sprintf("%s %s (%s)", res.Type, res.Name, res.Role))
				renamed = append(renamed, fmt.Sprintf("%s → %s (encrypted; answers at the original endpoint)", res.Name, p.Source))
			default:
				created = append(created, fmt.Sprintf("%s %s (%s)", res.Type, res.Name, res.Role))
			}
			if cleanedUp(res) {
				cleanup = append(cleanup, fmt.Sprintf("%s %s", res.Type, res.Name))
			}
		}
	}
	var made string
	if len(created) > 0 {
		made = m.section("Created", bullets(created, w))
	}
	var moved string
	if len(renamed) > 0 {
		moved = m.section("Renamed", bullets(renamed, w))
	}

	verified := "Parity check: every compared setting matches the source."
	if n := len(r.Parity.Differences); n > 0 {
		rows := make([][]string, 0, n)
		for _, d := range r.Parity.Differences {
			rows = append(rows, []string{d.Resource, d.Setting, output.Dash(d.Source), output.Dash(d.Target)})
		}
		verified = fmt.Sprintf("Parity check: %d accepted difference(s):\n", n) +
			grid(m.st, w, []string{"RESOURCE", "SETTING", "SOURCE", "NEW"}, rows)
	} else {
		verified = wrap(verified, w)
	}
	check := m.section("Verified", verified)
	if r.Status != workflow.StatusCompleted {
		check = ""
	}

	var clean string
	if r.Status == workflow.StatusCompleted {
		var lines []string
		cmd := expand(m.commands.cleanup, m.migrationID())
		if cmd == "" {
			cmd = r.Next
		}
		lines = append(lines, wrap("Run cleanup once applications have worked on the encrypted "+source+
			" long enough that you will not roll back: after cleanup, rollback is no longer possible.", w))
		if cmd != "" {
			lines = append(lines, indentWrap("Cleanup: ", m.st.command.Render(cmd), w))
		}
		if len(cleanup) > 0 {
			lines = append(lines, "It deletes:", bullets(cleanup, w))
		}
		for _, x := range r.Warnings {
			lines = append(lines, m.st.notice.Render(wrap("! "+x, w)))
		}
		clean = m.section("Cleanup", strings.Join(lines, "\n"))
	} else if r.Next != "" {
		clean = indentWrap("Next: ", m.st.command.Render(r.Next), w)
	}
	return joinBlocks(head, made, moved, check, clean, steps)
}

// cleanedUp says whether cleanup deletes a planned resource: everything kept only for
// rollback (snapshots, the retired source), never what now serves the application.
func cleanedUp(r workflow.PlannedResource) bool {
	switch {
	case r.Role == roleTarget, strings.HasPrefix(r.Role, "replica"), strings.HasPrefix(r.Role, "member"),
		strings.HasPrefix(r.Role, "endpoint"), strings.HasSuffix(r.Type, "endpoint"):
		return false
	}
	return true
}

// masterSecretLines say which Secrets Manager secret holds the master password, when the
// source's was managed: each ARN on a line of its own, so that it is copied whole.
func (m Model) masterSecretLines(r *workflow.Report, w int) string {
	s := r.MasterUserSecret
	switch {
	case s == nil:
		return ""
	case r.Status == workflow.StatusRolledBack:
		return "\n" + wrap(r.Source+" kept its master password secret; applications read it as before:", w) + "\n" + indentWrap("  ", s.SourceARN, w)
	case s.NewARN != "":
		return "\n" + m.st.notice.Render(wrap("Master password: applications must read the NEW secret from now on:", w)) + "\n" +
			indentWrap("New secret: ", s.NewARN, w) + "\n" + indentWrap("Old secret (deleted with the retired source at cleanup): ", s.SourceARN, w)
	}
	return "\n" + indentWrap("Master password secret (the new resource gets a new one after cutover): ", s.SourceARN, w)
}
