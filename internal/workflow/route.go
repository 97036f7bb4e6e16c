package workflow

import (
	"context"
	"fmt"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// Kinds of migration.
const (
	KindInstance = "instance"
	KindCluster  = "cluster"
)

// route is how one kind of source is migrated: its step table, and what a migration of that
// kind does around its steps. The engine's journaling, approvals and reporting are shared;
// nothing outside the routes asks which kind a migration is. docs/steps.md says how to add a
// route.
type route interface {
	// steps is the route's table: every step a journal of this kind may name.
	steps() []step
	// plan does the reads a plan needs and computes the plan; it makes no mutating call.
	plan(ctx context.Context, e *Engine, api model.RDS, req MigrateRequest) (*Plan, error)
	// start begins a new migration: the preflight reads, a fresh id under the source's
	// lock, every name checked free, the journal, then the run (Engine.start).
	start(ctx context.Context, e *Engine, api model.RDS, req MigrateRequest) (*Report, error)
	// rebuild recreates a lost journal of the unfinished migration of source from the tags
	// of the resources it created, saves it and returns its id.
	rebuild(ctx context.Context, e *Engine, api model.RDS, region, source string) (string, error)
	// reload describes the source and the key again for a resumed run.
	reload(ctx context.Context, r *run) error
	// undo reverses every effect still present in AWS (rollback), most urgent first.
	undo(ctx context.Context, r *run) error
	// cleanup deletes the retired source (with a final snapshot) and the intermediates.
	cleanup(ctx context.Context, r *run) error
	// cleanupSummary says what cleanup will delete, for its approval.
	cleanupSummary(r *run) Approval
	// undoAndCleanupActions are the IAM actions of undo and cleanup, which are not steps;
	// iam-policy allows them with the steps' (IAMActions).
	undoAndCleanupActions() []string
}

// routes are the registered routes, by migration kind.
var routes = map[string]route{
	KindInstance: instanceRoute{},
	KindCluster:  clusterRoute{},
}

func routeOf(kind string) (route, error) {
	if kind == "" {
		kind = KindInstance // journals written before kinds existed, and requests that name none
	}
	rt, ok := routes[kind]
	if !ok {
		return nil, fmt.Errorf("unknown migration kind %q", kind)
	}
	return rt, nil
}
