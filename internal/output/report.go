package output

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// PrintPlan writes a plan as text: the steps with their estimates, how each setting reaches
// the new resources, the resources it creates or renames, and the warnings.
func PrintPlan(w io.Writer, p *workflow.Plan) {
	if p.Kind == workflow.KindCluster {
		fmt.Fprintf(w, "Plan: %s DB cluster %s in %s (%s) with %s\n", p.Mode, p.Source, p.Region, p.Engine, p.KmsKeyARN)
	} else {
		fmt.Fprintf(w, "Plan: %s DB instance %s in %s (%s, %d GiB) with %s\n", p.Mode, p.Source, p.Region, p.Engine, p.AllocatedStorage, p.KmsKeyARN)
	}
	if p.Mode == workflow.ModeNone {
		fmt.Fprintln(w, "Nothing to do: it is already encrypted with this key.")
		return
	}
	if p.StrategyReason != "" && p.Strategy == workflow.StrategyReplication || strings.HasPrefix(p.StrategyReason, "auto") {
		fmt.Fprintf(w, "Strategy: %s\n", p.StrategyReason)
	}
	if c := p.SourceChange; c != nil {
		fmt.Fprintf(w, "Source change (step %s, approved on its own, undone by rollback): copy DB parameter group %s to %s (tags %s) with %s, put it on %s (ModifyDBInstance) and reboot %s\n",
			workflow.StepReplSourceGroup, c.ParameterGroup, c.Copy, keyValues(c.Tags), keyValues(c.Parameters), c.Instance, c.Instance)
		fmt.Fprintf(w, "Source downtime: %s for the reboot of %s, before the snapshot (not in the write downtime below); --yes needs --acknowledge-%s\n",
			secs(c.Downtime), c.Instance, workflow.AckSourceReboot)
	}
	fmt.Fprintf(w, "Estimated time %s, of which write downtime %s (estimates, not promises)\n\n", secs(p.EstimatedTotal), secs(p.EstimatedDowntime))
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tSTEP\tAWS CALLS\tESTIMATE\tWHAT")
	for i, s := range p.Steps {
		mark := ""
		if s.Downtime {
			mark = " [downtime]"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s%s\n", i+1, s.Name, strings.Join(s.Actions, ","), secs(s.Estimate), s.Description, mark)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nSettings and how each reaches the new "+map[bool]string{true: "cluster and members", false: "instance"}[p.Kind == workflow.KindCluster]+":")
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RESOURCE\tSETTING\tVALUE\tVIA\tNOTE")
	for _, s := range p.Settings {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Resource, s.Name, Dash(s.Value), s.Via, s.Note)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nResources it will create or rename:")
	for _, r := range p.Resources {
		fmt.Fprintf(w, "  %-24s %-20s %s\n", r.Role, r.Type, r.Name)
	}
	if len(p.Renames) > 0 {
		fmt.Fprintln(w, "\nCutover renames, in order (each second rename starts once the first has freed the name):")
		for _, r := range p.Renames {
			mark := ""
			if r.Downtime {
				mark = " [downtime]"
			}
			fmt.Fprintf(w, "  %s: %s -> %s (%s)%s\n", r.Step, r.From, r.To, r.Region, mark)
		}
	}
	if len(p.Warnings) > 0 {
		fmt.Fprintln(w, "\nWarnings:")
		for _, x := range p.Warnings {
			fmt.Fprintln(w, "  ! "+x)
		}
	}
}

// keyValues writes a map as sorted k=v pairs.
func keyValues[M ~map[string]string](m M) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, k+"="+m[k])
	}
	return strings.Join(out, ",")
}

// PrintReport writes where one migration stands: its steps, API calls, downtime, replicas,
// parity differences, the last error, the audit trail and the next command.
func PrintReport(w io.Writer, r *workflow.Report) {
	if r.Status == workflow.StatusNotStarted {
		fmt.Fprintf(w, "Migration of %s (%s) not started: quit before any change; nothing was changed and no journal was kept\n", r.Source, r.Region)
		return
	}
	fmt.Fprintf(w, "Migration %s of %s (%s): %s\n", r.MigrationID, r.Source, r.Region, r.Status)
	if r.Where.EndpointURL != "" || r.Where.Profile != "" {
		fmt.Fprintf(w, "runs at: endpoint %s, profile %s\n", Dash(r.Where.EndpointURL), Dash(r.Where.Profile))
	}
	if len(r.Steps) > 0 {
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "STEP\tSTATUS\tTOOK\tAPI CALLS")
		for _, s := range r.Steps {
			took := "-"
			if s.StartedAt != nil && s.FinishedAt != nil {
				took = s.FinishedAt.Sub(*s.StartedAt).Round(time.Millisecond).String()
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", s.Name, s.Status, took, s.APICalls)
		}
		tw.Flush()
	}
	fmt.Fprintf(w, "API calls: %d", r.APICalls)
	if r.DowntimeSeconds > 0 {
		fmt.Fprintf(w, "   write downtime (AWS clock): %s", (time.Duration(r.DowntimeSeconds) * time.Second).String())
	}
	fmt.Fprintln(w)
	if rp := r.Replication; r.Strategy == "replication" && rp != nil {
		lag := fmt.Sprintf("%d bytes", rp.LagAtFreezeBytes)
		if rp.LagAtFreezeBytes < 0 {
			lag = fmt.Sprintf("%.0f s", rp.LagAtFreezeSeconds)
		}
		fmt.Fprintf(w, "strategy: replication (%s); lag at the freeze %s; %s\n", rp.Engine, lag, drainText(rp.DrainFigures))
		if rd := rp.ReverseDrain; rd != nil {
			fmt.Fprintf(w, "rollback after cutover: reverse stream into the retired source %s\n", drainText(*rd))
		}
	}
	for _, l := range r.ReverseSlots {
		state := "read by the retired source"
		if !l.Slot.Active {
			state = "NOT read"
		}
		fmt.Fprintf(w, "reverse %s: %s, %s, wal_status %s\n", l.Object, state, workflow.SlotKept(l.Slot), Dash(l.Slot.WALStatus))
	}
	if r.DNS != "" {
		fmt.Fprintln(w, "dns: "+r.DNS)
	}
	if line := MasterSecretLine(r); line != "" {
		fmt.Fprintln(w, "master password: "+line)
	}
	for _, rr := range r.Replicas {
		state := "not swapped yet"
		switch {
		case rr.Swapped && rr.Followed:
			state = "swapped after writes resumed; until then the old replica followed the retired source (reverse stream), no frozen reads"
		case rr.Swapped:
			state = "swapped; served stale reads for " + (time.Duration(rr.StaleReadSeconds) * time.Second).String()
		}
		if rr.DNS != "" {
			state += "; dns: " + rr.DNS
		}
		fmt.Fprintf(w, "replica %s: %s\n", rr.Replica, state)
	}
	for _, d := range r.Parity.Differences {
		fmt.Fprintf(w, "parity difference: %s %s: source %q, new %q\n", d.Resource, d.Setting, d.Source, d.Target)
	}
	if r.Error != "" {
		fmt.Fprintln(w, "last error: "+r.Error)
	}
	if r.Audit != nil {
		fmt.Fprintln(w, "audit trail: "+r.Audit.String())
	}
	for _, x := range r.Warnings {
		fmt.Fprintln(w, "! "+x)
	}
	if r.Next != "" {
		fmt.Fprintln(w, "next: "+r.Next)
	}
}

// drainText is a cutover's figures inside its freeze.
func drainText(f workflow.DrainFigures) string {
	byKeys := ""
	if f.TablesByKeys > 0 {
		byKeys = fmt.Sprintf(", %d of them by their %d changed keys inside it", f.TablesByKeys, f.KeysCompared)
	}
	return fmt.Sprintf("drain %.1f s (local clock); verified %d tables, %d rows (%d ahead of the freeze%s, %d in full inside it in %.1f s); %d sequences set",
		f.DrainSeconds, f.TablesVerified, f.RowsVerified, f.TablesAhead, byKeys, f.TablesInFreeze, f.VerifySeconds, f.SequencesSynced)
}

// PrintStatus writes one line per migration (the status command).
func PrintStatus(w io.Writer, states []*workflow.State) {
	if len(states) == 0 {
		fmt.Fprintln(w, "no migrations")
		return
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSOURCE\tREGION\tSTATUS\tAT STEP\tUPDATED")
	for _, st := range states {
		at := "-"
		for _, s := range st.Steps {
			if s.Status != workflow.StepDone && s.Status != workflow.StepSkipped {
				at = s.Name
				break
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", st.ID, st.Source, st.Region, st.Status, at, st.UpdatedAt.Format(time.RFC3339))
	}
	tw.Flush()
}

// PrintCorruptJournals writes one line per journal that cannot be read, with the command
// that rebuilds its migration from the AWS tags (the status command, after the table).
func PrintCorruptJournals(w io.Writer, corrupt []workflow.CorruptJournal) {
	for _, c := range corrupt {
		fmt.Fprintf(w, "%s  %s  %s  corrupt: %s; rebuild it with: %s\n", c.ID, Dash(c.Source), Dash(c.Region), c.Reason, c.RebuildCommand())
	}
}

func secs(d workflow.Duration) string { return time.Duration(d).Round(time.Second).String() }

// MasterSecretLine says where the master password of a migrated resource is, when the
// source's was managed in Secrets Manager: applications must read the new secret once it
// exists. "" when the source had no managed secret.
func MasterSecretLine(r *workflow.Report) string {
	s := r.MasterUserSecret
	switch {
	case s == nil:
		return ""
	case r.Status == workflow.StatusRolledBack:
		return fmt.Sprintf("%s kept its secret %s; applications read it as before", r.Source, s.SourceARN)
	case s.NewARN != "":
		return fmt.Sprintf("NEW secret %s: applications must read it (the old secret %s stays with the retired source and is deleted with it at cleanup)", s.NewARN, s.SourceARN)
	}
	return fmt.Sprintf("managed in Secrets Manager (%s); step %s gives the new resource a new password in a new secret after cutover", s.SourceARN, workflow.StepManagePassword)
}
