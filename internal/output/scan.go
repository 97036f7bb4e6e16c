package output

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/rdsencrypt/rdsencrypt/internal/fleet"
)

// PrintScan writes a scan as a table of resources, then the findings, most severe first,
// then a summary and the batch command that encrypts the unencrypted ones.
func PrintScan(w io.Writer, rep *fleet.ScanReport) {
	if len(rep.Resources) == 0 {
		fmt.Fprintf(w, "no DB instances or clusters in %s\n", strings.Join(rep.Regions, ", "))
	} else {
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "REGION\tKIND\tID\tENGINE\tENCRYPTED\tPUBLIC\tIAM AUTH\tTLS\tLOG EXPORTS\tDEL PROT\tBACKUPS\tREPLICAS\tRDSENCRYPT OBJECTS\tFINDINGS")
		for _, r := range rep.Resources {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s %s\t%s\t%s\t%s\t%s\t%s\t%s\t%dd\t%s\t%s\t%s\n", r.Region, r.Kind, r.ID, r.Engine, r.EngineVersion,
				encryptionCell(r), yesNoCell(r.PubliclyAccessible), yesNoCell(r.IAMAuth), r.TLSEnforced, Dash(strings.Join(r.LogExports, ",")),
				yesNoCell(r.DeletionProt), r.BackupRetention, replicasCell(r), leftoversCell(r), findingsCell(r))
		}
		tw.Flush()
	}
	var any bool
	for _, r := range rep.Resources {
		if len(r.Findings) == 0 {
			continue
		}
		if !any {
			fmt.Fprintln(w, "\nFindings, most severe first:")
			any = true
		}
		fmt.Fprintf(w, "\n%s %s %s\n", r.Region, r.Kind, r.ID)
		for _, f := range r.Findings {
			fmt.Fprintf(w, "  %-8s %-28s %s\n", strings.ToUpper(string(f.Severity)), f.Check, f.Message)
			if f.Fix != "" { // a replication object in use by a running migration has none
				fmt.Fprintf(w, "  %-8s %-28s fix: %s\n", "", "", f.Fix)
			}
		}
	}
	s := rep.Summary
	var counts []string
	for _, sev := range fleet.Severities {
		if n := s.Findings[sev]; n > 0 {
			counts = append(counts, fmt.Sprintf("%d %s", n, sev))
		}
	}
	fmt.Fprintf(w, "\n%d instance(s) and %d cluster(s) in %s; %d unencrypted; findings: %s\n", s.Instances, s.Clusters,
		strings.Join(rep.Regions, ", "), s.Unencrypted, Dash(strings.Join(counts, ", ")))
	if s.Unencrypted > 0 {
		fmt.Fprintf(w, "Encrypt them all: rdsencrypt batch --region %s --kms-key KEY --dry-run\n", strings.Join(rep.Regions, " --region "))
	}
	for _, r := range rep.Resources {
		if r.Replication != nil && !r.Replication.Checked {
			fmt.Fprintf(w, "rdsencrypt replication objects not checked on %s %s: %s\n", r.Region, r.ID, r.Replication.NotChecked)
		}
	}
	for _, e := range rep.Errors {
		fmt.Fprintln(w, "could not read: "+e)
	}
}

// leftoversCell is what the look into the database found of the tool's replication objects.
func leftoversCell(r fleet.ScanResource) string {
	switch {
	case r.Replication == nil:
		return "-"
	case !r.Replication.Checked:
		return "not checked"
	case len(r.Replication.Objects) == 0:
		return "none"
	}
	return fmt.Sprintf("%d LEFT", len(r.Replication.Objects))
}

func encryptionCell(r fleet.ScanResource) string {
	if !r.Encrypted {
		return "NO"
	}
	if r.KeyManager == fleet.KeyAWSManaged {
		return "yes (aws/rds)"
	}
	if r.KeyManager == fleet.KeyCustomer {
		return "yes (customer key)"
	}
	return "yes"
}

func replicasCell(r fleet.ScanResource) string {
	if r.ReplicaOf != "" {
		return "replica of " + r.ReplicaOf
	}
	if len(r.Replicas) == 0 {
		return "-"
	}
	unencrypted := 0
	for _, rep := range r.Replicas {
		if rep.Encrypted == fleet.FactNo {
			unencrypted++
		}
	}
	return fmt.Sprintf("%d (%d unencrypted)", len(r.Replicas), unencrypted)
}

func findingsCell(r fleet.ScanResource) string {
	if len(r.Findings) == 0 {
		return "none"
	}
	return fmt.Sprintf("%d (worst: %s)", len(r.Findings), r.Worst())
}

func yesNoCell(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
