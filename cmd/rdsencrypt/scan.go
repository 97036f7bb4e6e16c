package main

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/rdsencrypt/rdsencrypt/internal/awsclient"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

type scanOptions struct {
	Regions []string
	Output  string
	KmsKey  string
}

func (a *app) scanCommand() *cobra.Command {
	var o scanOptions
	cmd := &cobra.Command{
		Use:   "scan [--region R ...] [--output table|json]",
		Short: "List every DB instance and Aurora cluster with its security gaps and their fixes (read-only)",
		Long: `scan describes every DB instance and Aurora cluster of the regions and reports the facts
AWS's RDS security guidance asks about: storage encryption and its key (aws/rds or a customer
key), public accessibility, IAM database authentication, TLS enforced by the parameter group
(rds.force_ssl, require_secure_transport), log exports to CloudWatch Logs, deletion
protection, backup retention, and read replicas with their encryption. Each gap is a finding
with a severity and its fix; unencrypted storage names the rdsencrypt command that fixes it.
It makes read-only calls only.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Output != "table" && o.Output != "json" && o.Output != "text" {
				return usagef("--output must be table or json, not %q", o.Output)
			}
			regions, err := normalizeRegions(o.Regions)
			if err != nil {
				return err
			}
			eng, regions, err := a.fleetEngine(cmd.Context(), regions, nil)
			if err != nil {
				return err
			}
			rep, err := eng.Scan(cmd.Context(), regions, o.KmsKey)
			if err != nil {
				return err
			}
			if o.Output == "json" {
				err = writeJSON(a.streams.Out, rep)
			} else {
				printScan(a.streams.Out, rep)
			}
			if err == nil && len(rep.Errors) > 0 {
				err = fmt.Errorf("scan incomplete: %s", strings.Join(rep.Errors, "; "))
			}
			return err
		},
	}
	cmd.Flags().StringSliceVar(&o.Regions, "region", nil, "region to scan; repeat or separate with commas for several (default: the configured region)")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "table", "output format: table or json")
	cmd.Flags().StringVar(&o.KmsKey, "kms-key", "", "KMS key to name in the fix commands (default: the placeholder KEY)")
	return cmd
}

var regionFlagPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`)

// normalizeRegions lower-cases, checks and de-duplicates --region values.
func normalizeRegions(in []string) ([]string, error) {
	var out []string
	for _, r := range in {
		r = strings.ToLower(strings.TrimSpace(r))
		if !regionFlagPattern.MatchString(r) {
			return nil, usagef("--region %q is not a region name (e.g. us-east-1)", r)
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// fleetEngine builds an engine for commands that span regions; limiter, when set, is the
// API budget every call of every region waits on, and the migrations' polls are coalesced
// so that they spend it once per turn, not once each. regions defaults to the configured region.
func (a *app) fleetEngine(ctx context.Context, regions []string, limiter awsclient.Limiter) (*workflow.Engine, []string, error) {
	region := a.opts.Region
	if len(regions) > 0 {
		region = regions[0]
	}
	cfg := a.awsConfig(region)
	if limiter != nil {
		cfg.Limiter = limiter
		cfg.CoalesceWindow = awsclient.DefaultCoalesceWindow
	}
	eng, client, err := a.engineWith(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	if len(regions) == 0 {
		regions = []string{client.Region()}
	}
	return eng, regions, nil
}

func printScan(w io.Writer, rep *workflow.ScanReport) {
	if len(rep.Resources) == 0 {
		fmt.Fprintf(w, "no DB instances or clusters in %s\n", strings.Join(rep.Regions, ", "))
	} else {
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "REGION\tKIND\tID\tENGINE\tENCRYPTED\tPUBLIC\tIAM AUTH\tTLS\tLOG EXPORTS\tDEL PROT\tBACKUPS\tREPLICAS\tFINDINGS")
		for _, r := range rep.Resources {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s %s\t%s\t%s\t%s\t%s\t%s\t%s\t%dd\t%s\t%s\n", r.Region, r.Kind, r.ID, r.Engine, r.EngineVersion,
				encryptionCell(r), yesNoCell(r.PubliclyAccessible), yesNoCell(r.IAMAuth), r.TLSEnforced, dash(strings.Join(r.LogExports, ",")),
				yesNoCell(r.DeletionProt), r.BackupRetention, replicasCell(r), findingsCell(r))
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
			fmt.Fprintf(w, "  %-8s %-28s fix: %s\n", "", "", f.Fix)
		}
	}
	s := rep.Summary
	var counts []string
	for _, sev := range workflow.Severities {
		if n := s.Findings[sev]; n > 0 {
			counts = append(counts, fmt.Sprintf("%d %s", n, sev))
		}
	}
	fmt.Fprintf(w, "\n%d instance(s) and %d cluster(s) in %s; %d unencrypted; findings: %s\n", s.Instances, s.Clusters,
		strings.Join(rep.Regions, ", "), s.Unencrypted, dash(strings.Join(counts, ", ")))
	if s.Unencrypted > 0 {
		fmt.Fprintf(w, "Encrypt them all: rdsencrypt batch --region %s --kms-key KEY --dry-run\n", strings.Join(rep.Regions, " --region "))
	}
	for _, e := range rep.Errors {
		fmt.Fprintln(w, "could not read: "+e)
	}
}

func encryptionCell(r workflow.ScanResource) string {
	if !r.Encrypted {
		return "NO"
	}
	if r.KeyManager == workflow.KeyAWSManaged {
		return "yes (aws/rds)"
	}
	if r.KeyManager == workflow.KeyCustomer {
		return "yes (customer key)"
	}
	return "yes"
}

func replicasCell(r workflow.ScanResource) string {
	if r.ReplicaOf != "" {
		return "replica of " + r.ReplicaOf
	}
	if len(r.Replicas) == 0 {
		return "-"
	}
	unencrypted := 0
	for _, rep := range r.Replicas {
		if rep.Encrypted == workflow.FactNo {
			unencrypted++
		}
	}
	return fmt.Sprintf("%d (%d unencrypted)", len(r.Replicas), unencrypted)
}

func findingsCell(r workflow.ScanResource) string {
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
