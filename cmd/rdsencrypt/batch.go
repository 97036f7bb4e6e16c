package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/internal/fleet"

	"github.com/spf13/cobra"
	"golang.org/x/time/rate"

	"github.com/rdsencrypt/rdsencrypt/internal/output"
	"github.com/rdsencrypt/rdsencrypt/internal/output/tui"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

type batchOptions struct {
	Regions      []string
	KmsKeys      []string
	Include      []string
	Exclude      []string
	Concurrency  int
	Cutover      string
	DryRun       bool
	Report       string
	APIRate      float64
	Freeze       string
	FreezeHook   string
	UnfreezeHook string
	Precopy      bool
	Strategy     string
}

// Defaults of the shared API budget: RDS throttles an account's control-plane calls per
// region with a token bucket; a batch stays well under it so that other tools keep working.
const (
	defaultAPIRate     = 10 // calls per second, all migrations and regions together
	defaultConcurrency = 4
)

func (a *app) batchCommand() *cobra.Command {
	var o batchOptions
	cmd := &cobra.Command{
		Use:   "batch --kms-key KEY [--region R ...] [--include tag:K=V ...] [--exclude ID-GLOB ...] [--concurrency N] [--cutover auto|manual] [--yes] [--dry-run]",
		Short: "Encrypt every unencrypted DB instance and Aurora cluster that matches, concurrently, under one API budget",
		Long: `batch plans every unencrypted DB instance and Aurora cluster of the regions that matches the
filters, shows the batch plan (with --dry-run, only that), then runs the migrations
concurrently. All of them share one API rate budget (--api-rate), so a fleet of hundreds does
not trip RDS throttling. Each migration keeps its own journal: any one can be resumed, rolled
back or inspected alone, and one failing never stops the others.

Cutover policy: --cutover auto runs every step, cutover included (unattended, for a maintenance
window; parity differences still stop before cutover). --cutover manual prepares everything and
stops before each cutover; finish each with rdsencrypt resume ID.

Without a terminal, batch needs --yes; on a terminal it asks once for the whole plan. It ends
with a summary (--output json prints it as JSON; --report FILE writes it as Markdown) and exits
non-zero when any migration failed.`,
		Example: `  rdsencrypt batch --region us-east-1 --kms-key alias/rdsencrypt --dry-run
  rdsencrypt batch --region us-east-1 --kms-key alias/rdsencrypt,eu-west-1=alias/rdsencrypt-eu --exclude 'scratch-*' --yes --freeze enforce
  rdsencrypt batch --kms-key alias/rdsencrypt --include tag:env=staging --cutover manual --report batch-report.markdown`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runBatch(cmd.Context(), &o)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.Regions, "region", nil, "region to migrate in; repeat or separate with commas for several (default: the configured region)")
	f.StringArrayVar(&o.KmsKeys, "kms-key", nil, "KMS key of every region (id, ARN, alias), and REGION=KEY entries for others, comma-separated as migrate takes them, or repeated")
	f.StringArrayVar(&o.Include, "include", nil, "select databases tagged tag:KEY=VALUE (or tag:KEY, any value); repeatable, any one matches (default: all)")
	f.StringArrayVar(&o.Exclude, "exclude", nil, "leave out identifiers matching ID-GLOB (* and ?); repeatable")
	f.IntVar(&o.Concurrency, "concurrency", defaultConcurrency, "migrations running at once")
	f.StringVar(&o.Cutover, "cutover", fleet.CutoverAuto, "auto: run every cutover unattended; manual: stop before each cutover (finish with rdsencrypt resume)")
	f.BoolVar(&o.DryRun, "dry-run", false, "show the batch plan and change nothing")
	f.StringVar(&o.Report, "report", "", "also write the summary as Markdown to this file")
	f.Float64Var(&o.APIRate, "api-rate", defaultAPIRate, "AWS API calls per second shared by all migrations (retries included)")
	f.StringVar(&o.FreezeHook, "freeze-hook", "", "shell command that stops application writes to one database ($RDSENCRYPT_SOURCE, $RDSENCRYPT_ENDPOINT...)")
	f.StringVar(&o.UnfreezeHook, "unfreeze-hook", "", "shell command that lets writes resume after a cutover")
	addFreezeFlag(cmd, &o.Freeze)
	addStrategyFlag(cmd, &o.Strategy)
	f.BoolVar(&o.Precopy, "precopy", true, "instances: snapshot and encrypt a copy while writes continue, so that only the changes since are copied inside the write freeze")
	a.addAskFlags(cmd)
	_ = cmd.RegisterFlagCompletionFunc("cutover", completeValues(fleet.CutoverAuto, fleet.CutoverManual))
	return cmd
}

// request checks the flags and turns them into a batch request.
func (o *batchOptions) request() (fleet.BatchRequest, error) {
	req := fleet.BatchRequest{Concurrency: o.Concurrency, Cutover: o.Cutover, RegionKeys: map[string]string{},
		Options: workflow.RunOptions{FreezeHook: o.FreezeHook, UnfreezeHook: o.UnfreezeHook, Precopy: o.Precopy, Strategy: o.Strategy}}
	freeze, err := freezeChoice(o.Freeze, o.FreezeHook)
	if err != nil {
		return req, err
	}
	req.Options.Freeze = freeze
	if len(o.KmsKeys) == 0 {
		return req, usagef("--kms-key is required (a key id, ARN or alias of every region, or REGION=KEY)")
	}
	var entries []string // "KEY,REGION=KEY" as migrate takes it, or repeated flags, or both
	for _, k := range o.KmsKeys {
		for _, e := range strings.Split(k, ",") {
			entries = append(entries, strings.TrimSpace(e))
		}
	}
	for _, k := range entries {
		region, key, err := fleet.ParseRegionKey(k)
		switch {
		case err != nil:
			return req, usageError{err.Error()}
		case region == "" && req.KmsKey != "":
			return req, usagef("--kms-key %q: only one key can apply to every region; use REGION=KEY for the others", k)
		case region == "":
			req.KmsKey = key
		default:
			req.RegionKeys[region] = key
		}
	}
	for _, s := range o.Include {
		tf, err := fleet.ParseTagFilter(s)
		if err != nil {
			return req, usageError{err.Error()}
		}
		req.Selection.Include = append(req.Selection.Include, tf)
	}
	for _, s := range o.Exclude {
		g, err := fleet.ParseGlob(s)
		if err != nil {
			return req, usageError{err.Error()}
		}
		req.Selection.Exclude = append(req.Selection.Exclude, g)
	}
	if o.Concurrency < 1 {
		return req, usagef("--concurrency must be at least 1")
	}
	if o.Cutover != fleet.CutoverAuto && o.Cutover != fleet.CutoverManual {
		return req, usagef("--cutover must be auto or manual, not %q", o.Cutover)
	}
	if o.APIRate <= 0 {
		return req, usagef("--api-rate must be positive")
	}
	return req, nil
}

func (a *app) runBatch(ctx context.Context, o *batchOptions) error {
	req, err := o.request()
	if err != nil {
		return err
	}
	if !o.DryRun {
		if err := a.checkUnattendedFreeze(o.Freeze, o.FreezeHook, o.Strategy); err != nil {
			return err
		}
	}
	req.Acknowledge = a.acknowledgements()
	regions, err := normalizeRegions(o.Regions)
	if err != nil {
		return err
	}
	limiter := rate.NewLimiter(rate.Limit(o.APIRate), max(1, int(2*o.APIRate)))
	eng, regions, err := a.fleetEngine(ctx, regions, limiter)
	if err != nil {
		return err
	}
	req.Regions = regions
	if req.KmsKey == "" {
		for _, r := range regions {
			if req.RegionKeys[r] == "" {
				return usagef("no --kms-key for region %s: give KEY for every region or %s=KEY", r, r)
			}
		}
	}
	b := &fleet.Batch{Base: *eng}
	plan, err := b.Plan(ctx, req)
	if err != nil {
		return err
	}
	unusedKeyWarnings(a.streams.Err, req, plan)
	planOut := a.streams.Err
	if o.DryRun {
		planOut = a.streams.Out
	}
	if o.DryRun && a.opts.Output == "json" {
		if err := output.WriteJSON(a.streams.Out, plan); err != nil {
			return err
		}
		return a.pasteableErr(planFailures(plan))
	}
	output.PrintBatchPlan(planOut, plan)
	if o.DryRun {
		return a.pasteableErr(planFailures(plan))
	}
	if plan.Planned() == 0 {
		fmt.Fprintln(a.streams.Err, "nothing to migrate")
		return a.finishBatch(ctx, plan, b.Run(ctx, plan), o)
	}
	if !a.opts.Yes {
		if !a.streams.Terminal {
			return errNeedsApproval
		}
		ok, err := output.Confirm(ctx, a.streams.In, a.streams.Err,
			fmt.Sprintf("Migrate these %d databases (cutover %s)? Type yes to start: ", plan.Planned(), req.Cutover))
		if err != nil {
			return err
		}
		if !ok {
			return &workflow.Error{Problem: "batch not started: not confirmed; nothing was changed", Err: workflow.ErrStopped}
		}
	}
	var rep *fleet.BatchReport
	if a.streams.Terminal && !a.opts.NoTUI {
		rep = tui.RunFleet(ctx, tui.FleetOptions{Input: a.streams.In, Output: a.streams.Err, Terminal: &a.terminal}, plan.Items,
			func(ctx context.Context, obs fleet.Observer) *fleet.BatchReport {
				b.Fleet = obs
				return b.Run(ctx, plan)
			})
	} else {
		b.Fleet = &output.PlainFleet{Out: a.streams.Err}
		rep = b.Run(ctx, plan)
	}
	return a.finishBatch(ctx, plan, rep, o)
}

// unusedKeyWarnings warns about keys given for regions where no planned migration creates
// anything: a mistyped region would otherwise pass silently.
func unusedKeyWarnings(w io.Writer, req fleet.BatchRequest, plan *fleet.BatchPlan) {
	used := map[string]bool{}
	for _, r := range req.Regions {
		used[r] = true
	}
	for _, it := range plan.Items {
		if it.Plan != nil {
			for _, res := range it.Plan.Resources {
				used[res.Region] = true
			}
		}
	}
	for _, r := range slices.Sorted(maps.Keys(req.RegionKeys)) {
		if !used[r] {
			fmt.Fprintf(w, "warning: --kms-key gives %s for %s, where this batch neither migrates a database nor recreates a read replica: that key is not used\n", req.RegionKeys[r], r)
		}
	}
}

// planFailures is the error of a batch plan in which some databases could not be planned:
// each reason, one line.
func planFailures(plan *fleet.BatchPlan) error {
	failed := plan.PlanFailures()
	if len(failed) == 0 {
		return nil
	}
	var reasons []string
	for _, it := range failed {
		reasons = append(reasons, it.Region+"/"+it.Source+": "+it.Skip)
	}
	return fmt.Errorf("%d of %d databases could not be planned: %s", len(failed), len(plan.Items), strings.Join(reasons, "; "))
}

// finishBatch prints the summary, writes the Markdown report, and says how the batch went
// as an error for the exit code: failed (1), stopped (3), or nil.
func (a *app) finishBatch(ctx context.Context, plan *fleet.BatchPlan, rep *fleet.BatchReport, o *batchOptions) error {
	var err error
	if a.opts.Output == "json" {
		err = output.WriteJSON(a.streams.Out, rep)
	} else {
		output.PrintBatchSummary(a.streams.Out, rep)
	}
	if o.Report != "" {
		if werr := writeMarkdownFile(o.Report, rep); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		return err
	}
	s := rep.Summary
	switch {
	case s.Failed > 0:
		var names []string
		for _, m := range rep.Migrations {
			if m.Outcome == fleet.OutcomeFailed {
				names = append(names, m.Region+"/"+m.Source)
			}
		}
		return fmt.Errorf("%d of %d migrations failed (%s); the summary says what to do for each", s.Failed, plan.Planned()+len(plan.PlanFailures()), strings.Join(names, ", "))
	case s.Stopped > 0:
		return &workflow.Error{Problem: fmt.Sprintf("%d migration(s) stopped before the end; resume each as the summary says", s.Stopped), Err: workflow.ErrStopped}
	case ctx.Err() != nil:
		// interrupted before some migrations could start: they are reported skipped
		return &workflow.Error{Problem: "batch interrupted before every migration started", Err: workflow.ErrStopped,
			Next: "run the same batch command again: started migrations are resumed with rdsencrypt resume, the rest start"}
	}
	return nil
}

func writeMarkdownFile(path string, rep *fleet.BatchReport) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := output.WriteBatchMarkdown(f, rep); err != nil {
		_ = f.Close()
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	return nil
}
