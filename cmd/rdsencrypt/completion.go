package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// Shell completion (cobra's "completion" command writes the scripts): migration ids from
// the state directory, DB and cluster identifiers from AWS, the values of fixed-value flags.

// completionBudget bounds the AWS calls a completion may make: a shell waits for them.
const completionBudget = 3 * time.Second

// completeMigrationIDs completes the ids of the migrations that fit, described by their
// source and status.
func (a *app) completeMigrationIDs(fits func(status string) bool) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		store, err := a.store()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		states, _, _ := store.List()
		var out []cobra.Completion
		for _, st := range states {
			if fits(st.Status) {
				out = append(out, cobra.CompletionWithDesc(st.ID, fmt.Sprintf("%s %s (%s)", st.Kind, st.Source, st.Status)))
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

func anyStatus(string) bool { return true }

// completeInstances and completeClusters complete DB instance and DB cluster identifiers:
// one List call in the region of the flags, or else of the latest journal.
func (a *app) completeInstances(cmd *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return a.completeIdentifiers(cmd, false)
}

func (a *app) completeClusters(cmd *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return a.completeIdentifiers(cmd, true)
}

// completeSources completes resume --source: the sources of the journals, then the
// identifiers AWS lists.
func (a *app) completeSources(cmd *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var out []cobra.Completion
	if store, err := a.store(); err == nil {
		states, _, _ := store.List()
		for _, st := range states {
			if !slices.Contains(out, st.Source) {
				out = append(out, st.Source)
			}
		}
	}
	isCluster, _ := cmd.Flags().GetBool("cluster")
	more, _ := a.completeIdentifiers(cmd, isCluster)
	for _, c := range more {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

func (a *app) completeIdentifiers(cmd *cobra.Command, clusters bool) ([]cobra.Completion, cobra.ShellCompDirective) {
	a.whereOfLatestJournal()
	ctx, cancel := context.WithTimeout(cmd.Context(), completionBudget)
	defer cancel()
	client, err := a.newClient(ctx, a.awsConfig(a.opts.Region))
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	api := client.For("")
	var out []cobra.Completion
	if clusters {
		cls, err := api.ListClusters(ctx)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		for _, c := range cls {
			out = append(out, cobra.CompletionWithDesc(c.ID, c.Settings.Engine))
		}
	} else {
		insts, err := api.ListInstances(ctx)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		for _, i := range insts {
			out = append(out, cobra.CompletionWithDesc(i.ID, i.Settings.Engine))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// whereOfLatestJournal fills the region, endpoint and profile the flags leave out from the
// most recently updated journal: where the operator last worked.
func (a *app) whereOfLatestJournal() {
	if a.opts.Region != "" {
		return
	}
	store, err := a.store()
	if err != nil {
		return
	}
	states, _, _ := store.List()
	var latest *workflow.State
	for _, st := range states {
		if latest == nil || st.UpdatedAt.After(latest.UpdatedAt) {
			latest = st
		}
	}
	if latest != nil {
		a.useJournal(latest)
	}
}

// completeValues completes a flag with a fixed set of values.
func completeValues(values ...string) cobra.CompletionFunc {
	return cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp)
}
