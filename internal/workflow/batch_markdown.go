package workflow

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteBatchMarkdown writes a batch report as Markdown (--report FILE): the summary, one
// table row per migration, and for each migration that did not complete, what to do.
func WriteBatchMarkdown(w io.Writer, rep *BatchReport) error {
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
			mdCell(dashIfEmpty(m.MigrationID)), mdCell(m.Outcome), roundSeconds(m.ElapsedSeconds), downtimeCell(m),
			m.APICalls, mdCell(ParityText(m.Report)))
	}
	var todo []BatchMigration
	for _, m := range rep.Migrations {
		if m.Outcome != OutcomeCompleted {
			todo = append(todo, m)
		}
	}
	if len(todo) > 0 {
		b.WriteString("\n## What to do\n\n")
		for _, m := range todo {
			fmt.Fprintf(&b, "- **%s** (%s %s, %s): %s", mdInline(m.Source), m.Region, m.Kind, m.Outcome, mdInline(dashIfEmpty(m.Reason)))
			if m.Next != "" {
				fmt.Fprintf(&b, "  \n  next: `%s`", strings.ReplaceAll(m.Next, "`", "'"))
			}
			b.WriteString("\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ParityText says how the parity check of a migration came out.
func ParityText(r Report) string {
	switch {
	case len(r.Parity.Differences) > 0:
		return fmt.Sprintf("%d difference(s)", len(r.Parity.Differences))
	case stepDone(r.Steps, StepParity):
		return "equal"
	}
	return "-"
}

func stepDone(steps []StepReport, name string) bool {
	for _, s := range steps {
		if kind, _ := splitStep(s.Name); kind == name && s.Status == StepDone {
			return true
		}
	}
	return false
}

func downtimeCell(m BatchMigration) string {
	if m.DowntimeSeconds <= 0 {
		return "-"
	}
	return roundSeconds(m.DowntimeSeconds)
}

func roundSeconds(s float64) string {
	return (time.Duration(s * float64(time.Second))).Round(time.Second).String()
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// mdCell escapes a value for a Markdown table cell.
func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ").Replace(s)
}

func mdInline(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ", "*", `\*`, "_", `\_`).Replace(s)
}
