package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rdsencrypt/rdsencrypt/internal/journal"
	"github.com/rdsencrypt/rdsencrypt/internal/output"
	"github.com/rdsencrypt/rdsencrypt/internal/output/tui"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

type migrateOptions struct {
	DB           string
	Cluster      string
	KmsKey       string
	DryRun       bool
	FreezeHook   string
	UnfreezeHook string
	Replicas     string
}

func (o *migrateOptions) addFlags(cmd *cobra.Command, withRun bool) {
	cmd.Flags().StringVar(&o.DB, "db", "", "identifier of the DB instance to encrypt")
	cmd.Flags().StringVar(&o.Cluster, "cluster", "", "identifier of the Aurora DB cluster to encrypt (instead of --db)")
	cmd.MarkFlagsMutuallyExclusive("db", "cluster")
	cmd.Flags().StringVar(&o.KmsKey, "kms-key", "", "KMS key: id, ARN, alias name (alias/...) or alias ARN; for replicas in other regions add REGION=KEY entries, comma-separated")
	cmd.Flags().StringVar(&o.Replicas, "replicas", workflow.ReplicasAfterCutover, "when read replicas are recreated: after-cutover (shorter write downtime, stale reads until each swap) or before-cutover (no stale reads, longer write downtime)")
	if withRun {
		cmd.Flags().BoolVar(&o.DryRun, "dry-run", false, "show the plan and change nothing (same as plan)")
		cmd.Flags().StringVar(&o.FreezeHook, "freeze-hook", "", "shell command that stops application writes; a failure stops the migration")
		cmd.Flags().StringVar(&o.UnfreezeHook, "unfreeze-hook", "", "shell command that lets application writes resume after cutover")
	}
}

func (o *migrateOptions) request(region string) (workflow.MigrateRequest, error) {
	kind, source := kindOf(o.Cluster != ""), o.DB
	if o.Cluster != "" {
		source = o.Cluster
	}
	if source == "" {
		return workflow.MigrateRequest{}, usagef("--db or --cluster is required")
	}
	if o.KmsKey == "" {
		return workflow.MigrateRequest{}, usagef("--kms-key is required (a key id, ARN or alias; alias/aws/rds is the AWS-managed key)")
	}
	if o.Replicas != workflow.ReplicasAfterCutover && o.Replicas != workflow.ReplicasBeforeCutover {
		return workflow.MigrateRequest{}, usagef("--replicas must be %s or %s, not %q", workflow.ReplicasAfterCutover, workflow.ReplicasBeforeCutover, o.Replicas)
	}
	key, regionKeys, err := parseKmsKeys(o.KmsKey, region)
	if err != nil {
		return workflow.MigrateRequest{}, err
	}
	return workflow.MigrateRequest{Kind: kind, Region: region, Source: source, KmsKey: key, RegionKeys: regionKeys,
		Options: workflow.RunOptions{FreezeHook: o.FreezeHook, UnfreezeHook: o.UnfreezeHook, Replicas: o.Replicas}}, nil
}

func (a *app) planCommand() *cobra.Command {
	var o migrateOptions
	cmd := &cobra.Command{
		Use:   "plan (--db ID | --cluster ID) --kms-key KEY",
		Short: "Show what a migration would do; makes no change (read-only calls only)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runPlan(cmd.Context(), &o)
		},
	}
	o.addFlags(cmd, false)
	return cmd
}

func (a *app) runPlan(ctx context.Context, o *migrateOptions) error {
	eng, client, err := a.engine(ctx)
	if err != nil {
		return err
	}
	req, err := o.request(client.Region())
	if err != nil {
		return err
	}
	plan, err := eng.Plan(ctx, req)
	if err != nil {
		return err
	}
	if a.opts.Output == "json" {
		return output.WriteJSON(a.streams.Out, plan)
	}
	output.PrintPlan(a.streams.Out, plan)
	return nil
}

func (a *app) migrateCommand() *cobra.Command {
	var o migrateOptions
	cmd := &cobra.Command{
		Use:   "migrate (--db ID | --cluster ID) --kms-key KEY",
		Short: "Encrypt a DB instance or Aurora cluster: snapshot, encrypted restore, parity check, cutover, verify",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.DryRun {
				return a.runPlan(cmd.Context(), &o)
			}
			eng, client, err := a.engine(cmd.Context())
			if err != nil {
				return err
			}
			req, err := o.request(client.Region())
			if err != nil {
				return err
			}
			return a.interact(cmd.Context(), eng, func(ctx context.Context) (*workflow.Report, error) {
				return eng.Migrate(ctx, req)
			})
		},
	}
	o.addFlags(cmd, true)
	return cmd
}

func (a *app) resumeCommand() *cobra.Command {
	var source string
	var isCluster bool
	cmd := &cobra.Command{
		Use:   "resume [MIGRATION-ID]",
		Short: "Continue a stopped, failed or interrupted migration",
		Long: `Continue a migration from its journal. AWS is observed first, so a step that was
interrupted halfway is finished, not repeated. If the journal was lost, --source rebuilds it
from the tags on the resources the migration created.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			eng, client, err := a.engine(cmd.Context())
			if err != nil {
				return err
			}
			id, err := a.migrationID(eng, args, source)
			if err != nil {
				return err
			}
			if source != "" && id == "" {
				if id, err = eng.Rebuild(cmd.Context(), kindOf(isCluster), client.Region(), source); err != nil {
					return err
				}
				fmt.Fprintf(a.streams.Err, "journal of migration %s rebuilt from the AWS tags; freeze and unfreeze hooks are not kept in tags: let writes resume yourself after cutover\n", id)
			}
			return a.interact(cmd.Context(), eng, func(ctx context.Context) (*workflow.Report, error) {
				return eng.Resume(ctx, id)
			})
		},
	}
	cmd.Flags().StringVar(&source, "source", "", "rebuild a lost journal from the tags of the migration of this DB instance")
	cmd.Flags().BoolVar(&isCluster, "cluster", false, "--source names an Aurora DB cluster")
	return cmd
}

// migrationID picks the migration a command is about: the argument, or the only unfinished
// migration (of --source, when given).
func (a *app) migrationID(eng *workflow.Engine, args []string, source string) (string, error) {
	if len(args) == 1 {
		if !workflow.ValidMigrationID(args[0]) {
			return "", usagef("%q is not a migration id (8 hex digits; rdsencrypt status lists them)", args[0])
		}
		return args[0], nil
	}
	states, _, err := eng.Store.List()
	if err != nil {
		return "", err
	}
	var open []*workflow.State
	for _, st := range states {
		if source != "" && st.Source != source {
			continue
		}
		if workflow.Resumable(st.Status) {
			open = append(open, st)
		}
	}
	switch {
	case len(open) == 1:
		return open[0].ID, nil
	case len(open) == 0 && source != "":
		return "", nil // rebuild from tags
	case len(open) == 0:
		return "", usagef("no unfinished migration in %s; give its id (rdsencrypt status lists them)", eng.Store.Dir())
	}
	return "", usagef("%d unfinished migrations: give the id of one (rdsencrypt status lists them)", len(open))
}

func (a *app) rollbackCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "rollback MIGRATION-ID",
		Short: "Undo a migration up to and including cutover: the source returns to its name, created resources are deleted",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runOnMigration(cmd.Context(), args[0], func(eng *workflow.Engine) func(context.Context) (*workflow.Report, error) {
				return func(ctx context.Context) (*workflow.Report, error) { return eng.Rollback(ctx, args[0]) }
			})
		},
	}
}

func (a *app) cleanupCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "cleanup MIGRATION-ID",
		Short: "After a completed migration: delete the retired source (with a final snapshot) and the unencrypted snapshot",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runOnMigration(cmd.Context(), args[0], func(eng *workflow.Engine) func(context.Context) (*workflow.Report, error) {
				return func(ctx context.Context) (*workflow.Report, error) { return eng.Cleanup(ctx, args[0]) }
			})
		},
	}
}

func (a *app) runOnMigration(ctx context.Context, id string, op func(*workflow.Engine) func(context.Context) (*workflow.Report, error)) error {
	if !workflow.ValidMigrationID(id) {
		return usagef("%q is not a migration id (8 hex digits; rdsencrypt status lists them)", id)
	}
	eng, _, err := a.engine(ctx)
	if err != nil {
		return err
	}
	return a.interact(ctx, eng, op(eng))
}

func (a *app) statusCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "status [MIGRATION-ID]",
		Short: "List migrations and where each stands (reads only the local journals)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			store, err := a.store()
			if err != nil {
				return err
			}
			if len(args) == 1 {
				st, err := store.Load(args[0])
				if err != nil {
					return err
				}
				return a.printReport(workflow.ReportOf(st))
			}
			states, problems, err := store.List()
			if err != nil {
				return err
			}
			corrupt := workflow.CorruptJournals(problems)
			if a.opts.Output == "json" {
				reports := make([]*workflow.Report, 0, len(states)+len(corrupt))
				for _, st := range states {
					reports = append(reports, workflow.ReportOf(st))
				}
				for _, c := range corrupt {
					reports = append(reports, c.Report())
				}
				if err := output.WriteJSON(a.streams.Out, reports); err != nil {
					return err
				}
			} else {
				if len(states) > 0 || len(corrupt) == 0 {
					output.PrintStatus(a.streams.Out, states)
				}
				for _, c := range corrupt {
					fmt.Fprintf(a.streams.Out, "%s  %s  %s  corrupt: %s; rebuild it with: %s\n", c.ID, orDash(c.Source), orDash(c.Region), c.Reason, c.RebuildCommand())
				}
			}
			for _, p := range problems {
				if !errors.Is(p, journal.ErrCorrupt) {
					fmt.Fprintln(a.streams.Err, "warning: "+oneLine(p))
				}
			}
			if len(corrupt) > 0 {
				c := corrupt[0]
				return &workflow.Error{Resource: c.ID, Problem: fmt.Sprintf("the journal of migration %s cannot be read (%d corrupt journal(s) in %s)", c.ID, len(corrupt), store.Dir()),
					Next: c.RebuildCommand()}
			}
			return nil
		},
	}
}

// interact runs work with the approver and observer that fit the streams: the full-screen
// UI on a terminal, line prompts with --no-tui, automatic approval with --yes, and a refusal
// of every mutating step otherwise. It prints the report.
func (a *app) interact(ctx context.Context, eng *workflow.Engine, work func(context.Context) (*workflow.Report, error)) error {
	var rep *workflow.Report
	var err error
	usedTUI := false
	if !a.opts.Yes && !a.streams.Terminal {
		return errNeedsApproval
	}
	switch {
	case a.opts.Yes || !a.streams.Terminal || a.opts.NoTUI:
		eng.Observer = &output.PlainObserver{Out: a.streams.Err, Calls: a.opts.Debug}
		switch {
		case a.opts.Yes:
			eng.Approver = workflow.AutoApprove
		default:
			eng.Approver = &output.LinePrompter{In: a.streams.In, Out: a.streams.Err}
		}
		rep, err = work(ctx)
	default:
		usedTUI = true
		rep, err = tui.Run(ctx, tui.Options{Input: a.streams.In, Output: a.streams.Err,
			ResumeCommand: "rdsencrypt resume {id}", RollbackCommand: "rdsencrypt rollback {id}", CleanupCommand: "rdsencrypt cleanup {id}"},
			func(ctx context.Context, obs workflow.Observer, appr workflow.Approver) (*workflow.Report, error) {
				eng.Observer, eng.Approver = obs, appr
				return work(ctx)
			})
	}
	// The full-screen UI leaves its own summary on the terminal; print the report unless
	// that already said it.
	if rep != nil && (a.opts.Output == "json" || !usedTUI) {
		if perr := a.printReport(rep); perr != nil && err == nil {
			err = perr
		}
	}
	return err
}

func (a *app) printReport(rep *workflow.Report) error {
	a.attachAudit(rep)
	if a.opts.Output == "json" {
		return output.WriteJSON(a.streams.Out, rep)
	}
	output.PrintReport(a.streams.Out, rep)
	return nil
}

// kindOf is the kind of migration a --cluster flag selects: the one place cmd/ maps a flag
// to a kind; the workflow dispatches on it.
func kindOf(cluster bool) string {
	if cluster {
		return workflow.KindCluster
	}
	return workflow.KindInstance
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
