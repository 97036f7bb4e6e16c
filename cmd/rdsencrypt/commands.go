package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rdsencrypt/rdsencrypt/internal/journal"
	"github.com/rdsencrypt/rdsencrypt/internal/output"
	"github.com/rdsencrypt/rdsencrypt/internal/output/tui"
	"github.com/rdsencrypt/rdsencrypt/internal/redact"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

type migrateOptions struct {
	DB           string
	Cluster      string
	KmsKey       string
	DryRun       bool
	Freeze       string
	FreezeHook   string
	UnfreezeHook string
	Replicas     string
	Precopy      bool
	Prepare      bool
	Strategy     string
	// planOnly: the options only plan (plan, migrate --dry-run)
	planOnly bool
}

func (o *migrateOptions) addFlags(a *app, cmd *cobra.Command, withRun bool) {
	cmd.Flags().StringVar(&o.DB, "db", "", "identifier of the DB instance to encrypt")
	cmd.Flags().StringVar(&o.Cluster, "cluster", "", "identifier of the Aurora DB cluster to encrypt (instead of --db)")
	cmd.MarkFlagsMutuallyExclusive("db", "cluster")
	_ = cmd.RegisterFlagCompletionFunc("db", a.completeInstances)
	_ = cmd.RegisterFlagCompletionFunc("cluster", a.completeClusters)
	cmd.Flags().StringVar(&o.KmsKey, "kms-key", "", "KMS key: id, ARN, alias name (alias/...) or alias ARN; for replicas in other regions add REGION=KEY entries, comma-separated")
	cmd.Flags().StringVar(&o.Replicas, "replicas", workflow.ReplicasAfterCutover, "when read replicas are recreated: after-cutover (shorter write downtime, stale reads until each swap) or before-cutover (no stale reads, longer write downtime)")
	_ = cmd.RegisterFlagCompletionFunc("replicas", completeValues(workflow.ReplicasAfterCutover, workflow.ReplicasBeforeCutover))
	cmd.Flags().BoolVar(&o.Precopy, "precopy", true, "instance: snapshot and encrypt a copy while writes continue, so that only the changes since are snapshotted and copied inside the write freeze (false: the whole snapshot and copy inside it)")
	addFreezeFlag(cmd, &o.Freeze)
	addStrategyFlag(cmd, &o.Strategy)
	if withRun {
		cmd.Flags().BoolVar(&o.DryRun, "dry-run", false, "show the plan and change nothing (same as plan)")
		cmd.Flags().BoolVar(&o.Prepare, "prepare", false, "run everything that can run while writes continue (the pre-copy), then stop, resumable: rdsencrypt resume ID freezes writes and cuts over")
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
	flag := "--db"
	if o.Cluster != "" {
		flag = "--cluster"
	}
	if err := checkIdentifier(flag, source); err != nil {
		return workflow.MigrateRequest{}, err
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
	hook := o.FreezeHook
	if o.planOnly && hook == "" && o.Freeze == string(workflow.FreezeHook) {
		hook = "(plan)" // plan takes no --freeze-hook: --freeze hook plans as if one were given
	}
	freeze, err := freezeChoice(o.Freeze, hook)
	if err != nil {
		return workflow.MigrateRequest{}, err
	}
	return workflow.MigrateRequest{Kind: kind, Region: region, Source: source, KmsKey: key, RegionKeys: regionKeys,
		Options: workflow.RunOptions{Freeze: freeze, FreezeHook: o.FreezeHook, UnfreezeHook: o.UnfreezeHook, Replicas: o.Replicas, Precopy: o.Precopy && kind == workflow.KindInstance,
			Strategy: o.Strategy}}, nil
}

// addStrategyFlag adds --strategy to a command that plans or runs migrations.
func addStrategyFlag(cmd *cobra.Command, v *string) {
	cmd.Flags().StringVar(v, "strategy", workflow.StrategySnapshot, "instances: snapshot (writes frozen from the snapshot to the end of cutover), replication (writes continue until cutover: the encrypted copy catches up by database replication; needs the master password: the instance's managed secret, --db-secret or "+workflow.EnvDBPassword+"), or auto (replication where the engine supports it and the database is reachable, else snapshot; the plan says which and why)")
	_ = cmd.RegisterFlagCompletionFunc("strategy", completeValues(workflow.StrategySnapshot, workflow.StrategyReplication, workflow.StrategyAuto))
}

// addFreezeFlag adds --freeze to a command that plans or runs migrations.
func addFreezeFlag(cmd *cobra.Command, v *string) {
	cmd.Flags().StringVar(v, "freeze", "", "how writes stop for the final snapshot and cutover: enforce (rdsencrypt closes the source with an ingress-free security group, reboots it and checks it has no connection), hook (--freeze-hook), none (nothing stops them: "+workflow.LostWritesSentence+"); default: hook with --freeze-hook, else enforce where possible")
	_ = cmd.RegisterFlagCompletionFunc("freeze", completeValues("enforce", "hook", "none"))
}

// freezeChoice checks --freeze against --freeze-hook; "" leaves the choice to the engine
// (enforce where possible).
func freezeChoice(freeze, hook string) (workflow.FreezeMode, error) {
	if freeze == "" {
		return "", nil
	}
	m, err := workflow.ParseFreezeMode(freeze)
	if err != nil {
		return "", usageError{err.Error()}
	}
	switch {
	case m == workflow.FreezeHook && hook == "":
		return "", usagef("--freeze hook needs --freeze-hook CMD (the command that stops application writes)")
	case m != workflow.FreezeHook && hook != "":
		return "", usagef("--freeze-hook is given, but --freeze %s would not run it: use --freeze hook, or drop --freeze-hook", m)
	}
	return m, nil
}

// errNoFreezeChoice refuses an unattended run that nothing says how to freeze: no one is
// there to stop writes at the freeze approval.
var errNoFreezeChoice = usageError{"--yes needs a write freeze choice: --freeze enforce (rdsencrypt closes the source to clients), --freeze-hook CMD, or --freeze none to acknowledge that " + workflow.LostWritesSentence}

// checkUnattendedFreeze refuses --yes without --freeze and without a freeze hook, unless the
// replication strategy is asked for: it freezes writes in the database itself.
func (a *app) checkUnattendedFreeze(freeze, hook, strategy string) error {
	if a.opts.Yes && freeze == "" && hook == "" && strategy != workflow.StrategyReplication {
		return errNoFreezeChoice
	}
	return nil
}

func (a *app) planCommand() *cobra.Command {
	var o migrateOptions
	cmd := &cobra.Command{
		Use:   "plan (--db ID | --cluster ID) --kms-key KEY",
		Short: "Show what a migration would do; makes no change (read-only calls only)",
		Example: `  rdsencrypt plan --db billing-pg --kms-key alias/rdsencrypt
  rdsencrypt plan --cluster ledger-aurora --kms-key alias/rdsencrypt -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runPlan(cmd.Context(), &o)
		},
	}
	o.addFlags(a, cmd, false)
	return cmd
}

func (a *app) runPlan(ctx context.Context, o *migrateOptions) error {
	o.planOnly = true
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
		Example: `  rdsencrypt migrate --db billing-pg --kms-key alias/rdsencrypt
  rdsencrypt migrate --db billing-pg --kms-key alias/rdsencrypt --yes --freeze enforce
  rdsencrypt migrate --db billing-pg --kms-key alias/rdsencrypt --yes --freeze-hook ./stop-writes.sh
  rdsencrypt migrate --db billing-pg --kms-key alias/rdsencrypt --yes --freeze enforce --prepare   # pre-copy now; resume ID in the window
  rdsencrypt migrate --cluster ledger-aurora --kms-key alias/rdsencrypt`,
		Args: cobra.NoArgs,
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
			if !a.opts.Yes && !a.streams.Terminal {
				return errNeedsApproval
			}
			strategy := o.Strategy
			if o.Cluster != "" {
				strategy = "" // clusters migrate by snapshot whatever --strategy says: their freeze must be chosen
			}
			if err := a.checkUnattendedFreeze(o.Freeze, o.FreezeHook, strategy); err != nil {
				return err
			}
			return a.interact(cmd.Context(), eng, func(ctx context.Context) (*workflow.Report, error) {
				if o.Prepare {
					eng.Approver = workflow.PrepareOnly(eng.Approver)
				}
				return eng.Migrate(ctx, req)
			})
		},
	}
	o.addFlags(a, cmd, true)
	a.addAskFlags(cmd)
	return cmd
}

func (a *app) resumeCommand() *cobra.Command {
	var source string
	var isCluster bool
	cmd := &cobra.Command{
		Use:   "resume (MIGRATION-ID | --source ID [--cluster])",
		Short: "Continue a stopped, failed or interrupted migration",
		Long: `Continue a migration from its journal. AWS is observed first, so a step that was
interrupted halfway is finished, not repeated. The journal says where the migration runs
(region, endpoint, profile): no need to repeat those flags. If the journal was lost, --source
rebuilds it from the tags on the resources the migration created.`,
		Example: `  rdsencrypt resume 0a1b2c3d
  rdsencrypt resume --source billing-pg
  rdsencrypt resume --source ledger-aurora --cluster`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: a.completeMigrationIDs(workflow.Resumable),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && source == "" {
				return a.noIDError("resume", workflow.Resumable)
			}
			if len(args) == 1 && source != "" {
				return usagef("give a migration id or --source, not both")
			}
			if source != "" {
				if err := checkIdentifier("--source", source); err != nil {
					return err
				}
			}
			if len(args) == 1 {
				return a.runOnMigration(cmd.Context(), args[0], func(eng *workflow.Engine) func(context.Context) (*workflow.Report, error) {
					return func(ctx context.Context) (*workflow.Report, error) { return eng.Resume(ctx, args[0]) }
				})
			}
			if !a.opts.Yes && !a.streams.Terminal {
				return errNeedsApproval
			}
			eng, client, err := a.engine(cmd.Context())
			if err != nil {
				return err
			}
			id, err := a.openMigrationOf(eng, source)
			if err != nil {
				return err
			}
			if id == "" {
				if id, err = eng.Rebuild(cmd.Context(), kindOf(isCluster), client.Region(), source); err != nil {
					return err
				}
				fmt.Fprintf(a.streams.Err, "journal of migration %s rebuilt from the AWS tags; freeze and unfreeze hooks are not kept in tags: let writes resume yourself after cutover\n", id)
			} else {
				fmt.Fprintf(a.streams.Err, "resuming migration %s of %s\n", id, source)
			}
			return a.interact(cmd.Context(), eng, func(ctx context.Context) (*workflow.Report, error) {
				return eng.Resume(ctx, id)
			})
		},
	}
	cmd.Flags().StringVar(&source, "source", "", "rebuild a lost journal from the tags of the migration of this DB instance")
	cmd.Flags().BoolVar(&isCluster, "cluster", false, "--source names an Aurora DB cluster")
	a.addAskFlags(cmd)
	_ = cmd.RegisterFlagCompletionFunc("source", a.completeSources)
	return cmd
}

// openMigrationOf is the unfinished migration of source in the state directory, "" when
// there is none (resume --source then rebuilds the journal from the tags).
func (a *app) openMigrationOf(eng *workflow.Engine, source string) (string, error) {
	states, _, err := eng.Store.List()
	if err != nil {
		return "", err
	}
	var open []string
	for _, st := range states {
		if st.Source == source && workflow.Resumable(st.Status) {
			open = append(open, st.ID)
		}
	}
	if len(open) > 1 {
		return "", usagef("%s has %d unfinished migrations (%s): give the id of one", source, len(open), strings.Join(open, ", "))
	}
	if len(open) == 1 {
		return open[0], nil
	}
	return "", nil
}

// noIDError is the usage error of a command about one migration run without its id: it
// never picks one itself, but lists the candidates.
func (a *app) noIDError(command string, fits func(status string) bool) error {
	var ids []string
	if store, err := a.store(); err == nil {
		states, _, _ := store.List()
		for _, st := range states {
			if fits(st.Status) {
				ids = append(ids, fmt.Sprintf("%s (%s, %s)", st.ID, st.Source, st.Status))
			}
		}
	}
	if len(ids) == 0 {
		return usagef("rdsencrypt %s needs a migration id, and no migration in the state directory can be given to it (rdsencrypt status lists them)", command)
	}
	return usagef("rdsencrypt %s needs a migration id: one of %s", command, strings.Join(ids, ", "))
}

func (a *app) rollbackCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:               "rollback MIGRATION-ID",
		Short:             "Undo a migration up to and including cutover: the source returns to its name, created resources are deleted",
		Example:           "  rdsencrypt rollback 0a1b2c3d\n  rdsencrypt rollback 0a1b2c3d --yes",
		Args:              a.oneMigrationID("rollback", rollbackable),
		ValidArgsFunction: a.completeMigrationIDs(rollbackable),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runOnMigration(cmd.Context(), args[0], func(eng *workflow.Engine) func(context.Context) (*workflow.Report, error) {
				return func(ctx context.Context) (*workflow.Report, error) { return eng.Rollback(ctx, args[0]) }
			})
		},
	}
	a.addAskFlags(cmd)
	return cmd
}

func (a *app) cleanupCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:               "cleanup MIGRATION-ID",
		Short:             "After a completed migration: delete the retired source (with a final snapshot) and the unencrypted snapshot",
		Example:           "  rdsencrypt cleanup 0a1b2c3d",
		Args:              a.oneMigrationID("cleanup", cleanable),
		ValidArgsFunction: a.completeMigrationIDs(cleanable),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runOnMigration(cmd.Context(), args[0], func(eng *workflow.Engine) func(context.Context) (*workflow.Report, error) {
				return func(ctx context.Context) (*workflow.Report, error) { return eng.Cleanup(ctx, args[0]) }
			})
		},
	}
	a.addAskFlags(cmd)
	return cmd
}

// rollbackable and cleanable say which migrations rollback and cleanup can act on.
func rollbackable(status string) bool {
	return status != workflow.StatusRolledBack && status != workflow.StatusCleanedUp && status != workflow.StatusCleaningUp
}

func cleanable(status string) bool {
	return status == workflow.StatusCompleted || status == workflow.StatusCleaningUp
}

// oneMigrationID accepts exactly one argument; without it, the usage error lists the
// migrations the command could act on.
func (a *app) oneMigrationID(command string, fits func(string) bool) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		switch {
		case len(args) == 0:
			return a.noIDError(command, fits)
		case len(args) > 1:
			return usagef("rdsencrypt %s takes one migration id, not %d arguments", command, len(args))
		}
		return nil
	}
}

// runOnMigration runs op on migration id where its journal says the migration runs. A
// missing journal or a migration with nothing left to do is said before asking for a terminal.
func (a *app) runOnMigration(ctx context.Context, id string, op func(*workflow.Engine) func(context.Context) (*workflow.Report, error)) error {
	if !workflow.ValidMigrationID(id) {
		return usagef("%q is not a migration id (8 hex digits; rdsencrypt status lists them)", id)
	}
	store, err := a.store()
	if err != nil {
		return err
	}
	st, err := store.Load(id)
	if err != nil {
		return err
	}
	a.useJournal(st)
	final := st.Status == workflow.StatusCleanedUp || st.Status == workflow.StatusRolledBack
	if !final && !a.opts.Yes && !a.streams.Terminal {
		return errNeedsApproval
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
		Short: "List migrations and where each stands, from the local journals",
		Long: `status lists the migrations of the state directory from their journals, without an AWS
call (but for the case below). A migration whose journal says it is running while no process holds its lock was
interrupted (kill -9, a crash, a reboot): status says so and how to continue it.

status MIGRATION-ID of a PostgreSQL replication migration between its cutover and cleanup also
reads the reverse stream's slots on the new instance (one DescribeDBInstances and a database
session as the master user, credentials as for migrate but never a prompt: without a secret,
--db-secret or RDSENCRYPT_DB_PASSWORD it says it could not read them): whether each is read and the WAL it
keeps, with a warning when one is not read, keeps more than 1 GiB, or was invalidated.`,
		Example:           "  rdsencrypt status\n  rdsencrypt status 0a1b2c3d -o json",
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: a.completeMigrationIDs(anyStatus),
		RunE: func(cmd *cobra.Command, args []string) error {
			store, err := a.store()
			if err != nil {
				return err
			}
			if len(args) == 1 {
				if !workflow.ValidMigrationID(args[0]) {
					return usagef("%q is not a migration id (8 hex digits; rdsencrypt status lists them)", args[0])
				}
				st, err := store.Load(args[0])
				if err != nil {
					return err
				}
				rep := statusReport(store, st)
				if workflow.KeepsReverseWAL(st) {
					a.readReverseSlots(cmd.Context(), rep, st)
				}
				return a.printReport(rep)
			}
			states, problems, err := store.List()
			if err != nil {
				return err
			}
			corrupt := workflow.CorruptJournals(problems)
			if a.opts.Output == "json" {
				reports := make([]*workflow.Report, 0, len(states)+len(corrupt))
				for _, st := range states {
					rep := statusReport(store, st)
					a.pasteableResult(rep, nil)
					reports = append(reports, rep)
				}
				for _, c := range corrupt {
					reports = append(reports, c.Report())
				}
				if err := output.WriteJSON(a.streams.Out, reports); err != nil {
					return err
				}
			} else {
				var interrupted []string
				for _, st := range states {
					if store.Interrupted(st) {
						st.Status = workflow.StatusInterrupted + " (" + st.Status + ")"
						interrupted = append(interrupted, a.pasteable(fmt.Sprintf("%s: interrupted (no process drives it); continue with %s", st.ID, workflow.ContinueCommand(st))))
					}
				}
				if len(states) > 0 || len(corrupt) == 0 {
					output.PrintStatus(a.streams.Out, states)
				}
				for _, line := range interrupted {
					fmt.Fprintln(a.streams.Out, line)
				}
				output.PrintCorruptJournals(a.streams.Out, corrupt)
			}
			for _, p := range problems {
				if !errors.Is(p, journal.ErrCorrupt) {
					fmt.Fprintln(a.streams.Err, "warning: "+output.OneLine(p.Error()))
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

// readReverseSlots adds to rep the reverse slots st keeps on its new instance; a failure to
// read them is a warning in the report, not the command's error. Like scan, it uses the
// credential chain without its prompt: status never asks for a password
// (TestStatusNeverPromptsForAPassword).
func (a *app) readReverseSlots(ctx context.Context, rep *workflow.Report, st *workflow.State) {
	eng, _, err := a.engineWith(ctx, a.awsConfig(st.Region))
	var slots []workflow.Leftover
	if err == nil {
		withoutPrompt(eng)
		slots, err = eng.ReverseSlots(ctx, st)
	}
	if err != nil {
		err = errors.New(redact.String(output.OneLine(err.Error())))
	}
	workflow.AddReverseSlots(rep, st, slots, err)
}

// withoutPrompt makes eng's credential chain never prompt for a password: the commands that
// only look (scan, status) report a database they could not log in to instead of asking.
func withoutPrompt(eng *workflow.Engine) {
	if ch, ok := eng.Credentials.(workflow.CredentialChain); ok {
		ch.Prompt = nil
		eng.Credentials = ch
	}
}

// statusReport is the report of a journal as status shows it: an interrupted migration
// says so and how to continue.
func statusReport(store *workflow.Store, st *workflow.State) *workflow.Report {
	rep := workflow.ReportOf(st)
	if store.Interrupted(st) {
		rep.Status = workflow.StatusInterrupted
		rep.Next = workflow.ContinueCommand(st) + "   (the process that ran it is gone)"
	}
	return rep
}

// interact runs work with the approver and observer that fit the streams: the full-screen
// UI on a terminal, line prompts with --no-tui, automatic approval with --yes, and a refusal
// of every mutating step otherwise. It prints the report.
func (a *app) interact(ctx context.Context, eng *workflow.Engine, work func(context.Context) (*workflow.Report, error)) error {
	var rep *workflow.Report
	var err error
	usedTUI := false
	// Every command the run prints must run as printed.
	pasteableWork := func(ctx context.Context) (*workflow.Report, error) {
		rep, err := work(ctx)
		a.pasteableResult(rep, err)
		return rep, err
	}
	switch {
	case a.opts.Yes || !a.streams.Terminal || a.opts.NoTUI:
		eng.Observer = &output.PlainObserver{Out: a.streams.Err, Calls: a.opts.Debug}
		switch {
		case a.opts.Yes:
			eng.Approver = workflow.AutoApproveAcknowledging(a.acknowledgements()...) // e.g. IAM auth needs --acknowledge-iam-auth
		case !a.streams.Terminal:
			// the caller made sure nothing is left to ask (a rolled-back or cleaned-up migration)
			eng.Approver = workflow.RefuseApprover
		default:
			eng.Approver = &output.LinePrompter{In: a.streams.In, Out: a.streams.Err}
		}
		rep, err = pasteableWork(ctx)
	default:
		usedTUI = true
		rep, err = tui.Run(ctx, tui.Options{Input: a.streams.In, Output: a.streams.Err,
			ResumeCommand: a.pasteable("rdsencrypt resume {id}"), RollbackCommand: a.pasteable("rdsencrypt rollback {id}"),
			CleanupCommand: a.pasteable("rdsencrypt cleanup {id}"), Calls: a.opts.Debug, Terminal: &a.terminal},
			func(ctx context.Context, obs workflow.Observer, appr workflow.Approver) (*workflow.Report, error) {
				eng.Observer, eng.Approver = obs, appr
				return pasteableWork(ctx)
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
	a.pasteableResult(rep, nil)
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
