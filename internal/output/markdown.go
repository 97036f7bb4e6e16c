package output

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/fleet"

	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// WriteBatchMarkdown writes a batch report as Markdown (--report FILE): the summary, one
// table row per migration, and for each migration that did not complete, what to do.
func WriteBatchMarkdown(w io.Writer, rep *fleet.BatchReport) error {
	var b strings.Builder
	s := rep.Summary
	b.WriteString("# rdsencrypt batch report\n\n")
	fmt.Fprintf(&b, "| completed | failed | stopped | awaiting cutover | skipped | API calls | elapsed |\n|---:|---:|---:|---:|---:|---:|---:|\n")
	fmt.Fprintf(&b, "| %d | %d | %d | %d | %d | %d | %s |\n\n", s.Completed, s.Failed, s.Stopped, s.AwaitingCutover, s.Skipped,
		s.APICalls, roundSeconds(s.ElapsedSeconds))
	b.WriteString("## Migrations\n\n")
	b.WriteString("| region | kind | source | migration | outcome | took | write downtime | API calls | parity |\n")
	b.WriteString("|---|---|---|---|---|---:|---:|---:|---|\n")
	for _, m := range rep.Migrations {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %d | %s |\n", mdCell(m.Region), mdCell(m.Kind), mdCell(m.Source),
			mdCell(Dash(m.MigrationID)), mdCell(m.Outcome), roundSeconds(m.ElapsedSeconds), downtimeCell(m),
			m.APICalls, mdCell(parityText(m.Report)))
	}
	var secrets []string
	for _, m := range rep.Migrations {
		if line := MasterSecretLine(&m.Report); line != "" {
			secrets = append(secrets, fmt.Sprintf("- **%s** (%s %s): %s\n", mdInline(m.Source), m.Region, m.Kind, mdInline(line)))
		}
	}
	if len(secrets) > 0 {
		b.WriteString("\n## Master password secrets\n\n" + strings.Join(secrets, ""))
	}
	var todo []fleet.BatchMigration
	for _, m := range rep.Migrations {
		if m.Outcome != fleet.OutcomeCompleted {
			todo = append(todo, m)
		}
	}
	if len(todo) > 0 {
		b.WriteString("\n## What to do\n\n")
		for _, m := range todo {
			fmt.Fprintf(&b, "- **%s** (%s %s, %s): %s", mdInline(m.Source), m.Region, m.Kind, m.Outcome, mdInline(Dash(m.Reason)))
			if m.Next != "" {
				fmt.Fprintf(&b, "  \n  next: `%s`", strings.ReplaceAll(m.Next, "`", "'"))
			}
			b.WriteString("\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// parityText says how the parity check of a migration came out.
func parityText(r workflow.Report) string {
	switch {
	case len(r.Parity.Differences) > 0:
		return fmt.Sprintf("%d difference(s)", len(r.Parity.Differences))
	case stepDone(r.Steps, workflow.StepParity):
		return "equal"
	}
	return "-"
}

func stepDone(steps []workflow.StepReport, name string) bool {
	for _, s := range steps {
		// a step of a replica or member is named "step:subject"
		if step, _, _ := strings.Cut(s.Name, ":"); step == name && s.Status == workflow.StepDone {
			return true
		}
	}
	return false
}

func downtimeCell(m fleet.BatchMigration) string {
	if m.DowntimeSeconds <= 0 {
		return "-"
	}
	return roundSeconds(m.DowntimeSeconds)
}

func roundSeconds(s float64) string {
	return (time.Duration(s * float64(time.Second))).Round(time.Second).String()
}

// mdCell escapes a value for a Markdown table cell.
func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ").Replace(s)
}

func mdInline(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ", "*", `\*`, "_", `\_`).Replace(s)
}
