package main

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/internal/fleet"

	"github.com/spf13/cobra"

	"github.com/rdsencrypt/rdsencrypt/internal/awsclient"
	"github.com/rdsencrypt/rdsencrypt/internal/output"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

type scanOptions struct {
	Regions []string
	KmsKey  string
}

func (a *app) scanCommand() *cobra.Command {
	var o scanOptions
	cmd := &cobra.Command{
		Use:   "scan [--region R ...] [--output text|json]",
		Short: "List every DB instance and Aurora cluster with its security gaps and their fixes (read-only)",
		Long: `scan describes every DB instance and Aurora cluster of the regions and reports the facts
AWS's RDS security guidance asks about: storage encryption and its key (aws/rds or a customer
key), public accessibility, IAM database authentication, TLS enforced by the parameter group
(rds.force_ssl, require_secure_transport), log exports to CloudWatch Logs, deletion
protection, backup retention, and read replicas with their encryption. Each gap is a finding
with a severity and its fix; unencrypted storage names the rdsencrypt command that fixes it.
For PostgreSQL, MySQL and MariaDB instances it also looks into the database for replication
objects a migration left (slots, publications, subscriptions, users named rdsencrypt_*: a
forgotten slot fills the storage), as the master user from the instance's RDS-managed secret,
--db-secret or ` + workflow.EnvDBPassword + `; an instance it cannot log into is reported
"not checked". It makes read-only calls and queries only.`,
		Example: `  rdsencrypt scan
  rdsencrypt scan --region us-east-1 --region eu-west-1 --kms-key alias/rdsencrypt
  rdsencrypt scan -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			regions, err := normalizeRegions(o.Regions)
			if err != nil {
				return err
			}
			eng, regions, err := a.fleetEngine(cmd.Context(), regions, nil)
			if err != nil {
				return err
			}
			// an instance without a password is reported "not checked"
			withoutPrompt(eng)
			rep, err := fleet.Scan(cmd.Context(), eng, regions, o.KmsKey)
			if err != nil {
				return err
			}
			if len(rep.Unread) > 0 {
				// a partial inventory would read as a clean fleet: print none
				return fmt.Errorf("scan could not read %s, so it reports nothing: %s", strings.Join(rep.Unread, ", "), strings.Join(rep.Errors, "; "))
			}
			if a.opts.Output == "json" {
				err = output.WriteJSON(a.streams.Out, rep)
			} else {
				output.PrintScan(a.streams.Out, rep)
			}
			if err == nil && len(rep.Errors) > 0 {
				err = fmt.Errorf("scan incomplete: %s", strings.Join(rep.Errors, "; "))
			}
			return err
		},
	}
	cmd.Flags().StringSliceVar(&o.Regions, "region", nil, "region to scan; repeat or separate with commas for several (default: the configured region)")
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
