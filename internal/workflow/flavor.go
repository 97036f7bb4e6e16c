package workflow

import (
	"context"
	"fmt"
)

// Kinds of migration.
const (
	KindInstance = "instance"
	KindCluster  = "cluster"
)

// flavor is what differs between migrating a DB instance and an Aurora cluster: the route
// table (its steps and their behaviours), and how a run reloads, undoes and cleans up. The
// engine's journaling, approvals and reporting are shared.
type flavor struct {
	steps []step
	// reload describes the source and key again for a resumed run.
	reload func(ctx context.Context, r *run) error
	// undo reverses every effect still present in AWS (rollback).
	undo func(ctx context.Context, r *run) error
	// cleanup deletes the retired source (with a final snapshot) and the intermediates.
	cleanup func(ctx context.Context, r *run) error
	// cleanupSummary says what cleanup will delete, for its approval.
	cleanupSummary func(r *run) Approval
}

// flavors are the registered flavors, by migration kind.
var flavors = map[string]*flavor{
	KindInstance: {steps: allInstanceSteps, reload: reloadInstance, undo: undoInstance,
		cleanup: cleanupInstance, cleanupSummary: instanceCleanupSummary},
	KindCluster: {steps: clusterSteps, reload: reloadCluster, undo: undoCluster,
		cleanup: cleanupCluster, cleanupSummary: clusterCleanupSummary},
}

func flavorOf(kind string) (*flavor, error) {
	if kind == "" {
		kind = KindInstance // journals written before kinds existed
	}
	f, ok := flavors[kind]
	if !ok {
		return nil, fmt.Errorf("unknown migration kind %q", kind)
	}
	return f, nil
}
