package output

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/fleet"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// PrintBatchPlan writes what a batch will do: one row per database, migrated or skipped and
// why, and what the operator should know before approving it.
func PrintBatchPlan(w io.Writer, p *fleet.BatchPlan) {
	req := p.Request
	fmt.Fprintf(w, "Batch plan: %d to migrate in %s, cutover %s, %d at a time\n", p.Planned(), strings.Join(req.Regions, ", "), req.Cutover, req.Concurrency)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REGION\tKIND\tSOURCE\tENGINE\tSIZE\tESTIMATE\tDOWNTIME\tFREEZE\tKEY / WHY SKIPPED")
	var total, downtime time.Duration
	freezes := map[workflow.FreezeMode]int{}
	for _, it := range p.Items {
		if it.Plan == nil {
			fmt.Fprintf(tw, "%s\t%s\t%s\t-\t-\t-\t-\t-\tskip: %s\n", it.Region, it.Kind, it.Source, it.Skip)
			continue
		}
		freezes[it.Plan.Freeze]++
		est, down := time.Duration(it.Plan.EstimatedTotal), time.Duration(it.Plan.EstimatedDowntime)
		total, downtime = max(total, est), max(downtime, down)
		size := "-"
		if it.Plan.AllocatedStorage > 0 {
			size = fmt.Sprintf("%d GiB", it.Plan.AllocatedStorage)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", it.Region, it.Kind, it.Source, it.Plan.Engine, size,
			est.Round(time.Minute), down.Round(time.Minute), it.Plan.Freeze, it.Plan.KmsKeyARN)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d already encrypted, %d left out by --include/--exclude\n", p.AlreadyEncrypted, p.NotSelected)
	for _, e := range p.Errors {
		fmt.Fprintln(w, "could not list: "+e)
	}
	for _, x := range p.Warnings {
		fmt.Fprintln(w, "! "+x)
	}
	if p.Planned() > 0 {
		fmt.Fprintf(w, "Longest migration: about %s, of which %s write downtime (estimates, not promises).\n", total.Round(time.Minute), downtime.Round(time.Minute))
		if req.Cutover == fleet.CutoverAuto {
			fmt.Fprintln(w, "Cutover auto: each database's endpoint stops answering for minutes during its cutover, without asking.")
		}
		if n := freezes[workflow.FreezeEnforce]; n > 0 {
			fmt.Fprintf(w, "Freeze enforce (%d): each source's security groups are replaced by an ingress-free group and it is rebooted; the retired source keeps that group until cleanup, rollback puts the groups back.\n", n)
		}
		if n := freezes[workflow.FreezeNone]; n > 0 {
			fmt.Fprintf(w, "Freeze none (%d): nothing stops writes; %s, so stop application writes first.\n", n, workflow.LostWritesSentence)
		}
	}
}

// PrintBatchSummary writes how a batch went: one row per migration, what to do for each that
// did not complete, and the totals.
func PrintBatchSummary(w io.Writer, rep *fleet.BatchReport) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REGION\tKIND\tSOURCE\tMIGRATION\tOUTCOME\tTOOK\tDOWNTIME\tAPI CALLS\tPARITY")
	for _, m := range rep.Migrations {
		took, down := "-", "-"
		if m.ElapsedSeconds > 0 && m.Outcome != fleet.OutcomeSkipped {
			took = (time.Duration(m.ElapsedSeconds * float64(time.Second))).Round(time.Second).String()
		}
		if m.DowntimeSeconds > 0 {
			down = (time.Duration(m.DowntimeSeconds) * time.Second).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", m.Region, m.Kind, m.Source, Dash(m.MigrationID), m.Outcome, took, down,
			m.APICalls, parityText(m.Report))
	}
	tw.Flush()
	var todo []fleet.BatchMigration
	for _, m := range rep.Migrations {
		if m.Outcome != fleet.OutcomeCompleted {
			todo = append(todo, m)
		}
	}
	if len(todo) > 0 {
		fmt.Fprintln(w, "\nWhat to do:")
		for _, m := range todo {
			fmt.Fprintf(w, "  %s/%s (%s): %s\n", m.Region, m.Source, m.Outcome, Dash(m.Reason))
			if m.Next != "" {
				fmt.Fprintf(w, "      next: %s\n", m.Next)
			}
		}
	}
	s := rep.Summary
	fmt.Fprintf(w, "\n%d completed, %d failed, %d stopped, %d awaiting cutover, %d skipped; %d API calls in %s\n", s.Completed, s.Failed,
		s.Stopped, s.AwaitingCutover, s.Skipped, s.APICalls, (time.Duration(s.ElapsedSeconds * float64(time.Second))).Round(time.Second))
}
