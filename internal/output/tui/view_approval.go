package tui

import (
	"fmt"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/output"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// approvalView asks for one step: what it does, what to do first, what downtime follows.
func (m Model) approvalView(w int) string {
	a := m.approval.Approval
	n, total := m.run.position(a.Step)
	title := "Approve step " + a.Step
	if n > 0 {
		title = fmt.Sprintf("Approve step %d/%d: %s", n, total, a.Step)
	}
	head := m.st.title.Render(wrap(title, w))
	if a.Summary != "" {
		head += "\n" + wrap(a.Summary, w)
	}
	if est := output.Estimate(m.run.planned(a.Step).Estimate); est != "" {
		head += "\n" + m.st.dim.Render("Estimated "+est)
	}

	var first string
	if len(a.Instructions) > 0 {
		first = m.st.notice.Render("Before you approve:") + "\n" + bullets(a.Instructions, w)
	}

	var downtime string
	if a.Downtime {
		downtime = m.st.notice.Render(wrap(m.downtimeNotice(), w))
	}

	var details string
	if len(a.Details) > 0 {
		details = m.section("What this step does", bullets(a.Details, w))
	}

	var diffs string
	if len(a.Differences) > 0 {
		rows := make([][]string, 0, len(a.Differences))
		for _, d := range a.Differences {
			rows = append(rows, []string{d.Resource, d.Setting, output.Dash(d.Source), output.Dash(d.Target)})
		}
		diffs = m.section(fmt.Sprintf("Differences you are asked to accept (%d)", len(a.Differences)),
			grid(m.st, w, []string{"RESOURCE", "SETTING", "SOURCE", "NEW"}, rows))
	}
	choices := "Approve to run this step"
	if a.Skippable {
		choices += ", skip it"
	}
	switch a.Step {
	case "rollback", "cleanup":
		choices = "Approve to run the " + a.Step + ", or quit: nothing is changed"
		cmd := m.commands.rollback
		if a.Step == "cleanup" {
			cmd = m.commands.cleanup
		}
		if c := expand(cmd, m.migrationID()); c != "" {
			choices += "; run it later with " + c
		}
	default:
		choices += ", roll back everything done so far, or quit: the migration stays resumable"
		if c := m.resumeCommand(); c != "" {
			choices += " with " + c
		}
	}
	return joinBlocks(head, first, downtime, details, diffs, m.st.dim.Render(wrap(choices+".", w)))
}

// downtimeNotice says plainly what downtime approving starts or continues, or, for a
// rollback, that it ends it.
func (m Model) downtimeNotice() string {
	src := "the source"
	var planned string
	if p := m.run.plan; p != nil {
		src = p.Source
		if e := output.Estimate(p.EstimatedDowntime); e != "" {
			planned = " (estimated " + e + " in all)"
		}
	}
	a := m.approval.Approval
	if a.Step == workflow.PhaseRollback {
		return fmt.Sprintf("Approving gives %s back its name and endpoint: applications may write to it again once the rollback has finished.", src)
	}
	if so, running := m.run.downtime(m.now); running {
		return fmt.Sprintf("DOWNTIME is running: %s so far%s. Applications cannot write to %s until the cutover finishes.",
			output.Duration(so), planned, src)
	}
	if m.run.downtimeBegan(a.Step) {
		return fmt.Sprintf("DOWNTIME continues: writes to %s stopped before this run (resumed) and stay stopped until the cutover finishes.", src)
	}
	return fmt.Sprintf("DOWNTIME: approving starts write downtime. Applications cannot write to %s from now until the cutover finishes%s.",
		src, planned)
}

// downtimeLine is the running downtime clock, or "".
func (m Model) downtimeLine() string {
	so, running := m.run.downtime(m.now)
	if !running {
		return ""
	}
	clock := "local clock"
	if aws, ok := m.run.awsDowntime(); ok {
		so, clock = aws, "AWS clock" // the clock the estimate is on
	}
	s := "DOWNTIME " + output.Duration(so) + " (" + clock + ")"
	if p := m.run.plan; p != nil && p.EstimatedDowntime > 0 {
		s += " of " + output.Estimate(p.EstimatedDowntime) + " estimated"
		if so > time.Duration(p.EstimatedDowntime) {
			s += " (over the estimate)"
		}
	}
	return s + ": writes stay stopped until the cutover finishes"
}
