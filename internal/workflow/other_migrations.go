package workflow

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/internal/journal"
	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// AWS is the truth two operators share: a migration started from another state directory, or
// whose journal was lost or is corrupt, is visible only through the tags of what it created.
// Before a migration creates anything it looks for resources tagged rdsencrypt:source with its
// source by another migration that is still under way there, and refuses, naming it.

// otherMigration is evidence in AWS of another migration of the same source.
type otherMigration struct {
	id       string
	resource string // what shows it: "DB snapshot x", "DB instance y"
}

// underWay reports whether a resource tagged by migration id, with role and identifier
// resourceID, shows that migration still under way: its unencrypted snapshot or its pre-copy's (deleted by
// cleanup and rollback) or a resource it created still at its temporary -enc-<id> name
// (renamed to the original name at cutover, deleted by rollback). A finished migration leaves
// only its encrypted copy, final and rollback snapshots, and its new database at the
// original name: none of these blocks a new migration.
func underWay(id, role, resourceID string) bool {
	return role == RoleSnapshot || role == RolePreSnapshot || strings.HasSuffix(resourceID, "-enc-"+id)
}

// otherMigrationsOf lists the migrations other than self whose tags on AWS resources of kind
// (instances and DB snapshots, or clusters, their members and cluster snapshots) name source
// and show them under way, except those this state directory knows as finished.
func (e *Engine) otherMigrationsOf(ctx context.Context, api model.RDS, kind, source, self string) ([]otherMigration, map[string]bool, error) {
	states, problems, err := e.Store.List()
	if err != nil {
		return nil, nil, err
	}
	finished := map[string]bool{}
	for _, st := range states {
		if !IsOpen(st.Status) {
			finished[st.ID] = true
		}
	}
	corrupt := map[string]bool{}
	for _, p := range problems {
		var ce *journal.CorruptError
		if errors.As(p, &ce) {
			corrupt[ce.ID] = true
		}
	}
	var out []otherMigration
	seen := map[string]bool{}
	consider := func(what, id string, tags model.Tags) {
		mid := tags[model.TagMigrationID]
		if tags[model.TagSource] != source || mid == "" || mid == self || finished[mid] || seen[mid] {
			return
		}
		if underWay(mid, tags[model.TagRole], id) {
			seen[mid] = true
			out = append(out, otherMigration{id: mid, resource: what + " " + id})
		}
	}
	insts, err := api.ListInstances(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, i := range insts {
		consider("DB instance", i.ID, i.Tags)
	}
	if kind == KindCluster {
		cls, err := api.ListClusters(ctx)
		if err != nil {
			return nil, nil, err
		}
		for _, c := range cls {
			consider("DB cluster", c.ID, c.Tags)
		}
		snaps, err := api.ListClusterSnapshots(ctx)
		if err != nil {
			return nil, nil, err
		}
		for _, s := range snaps {
			consider("DB cluster snapshot", s.ID, s.Tags)
		}
	} else {
		snaps, err := api.ListSnapshots(ctx)
		if err != nil {
			return nil, nil, err
		}
		for _, s := range snaps {
			consider("DB snapshot", s.ID, s.Tags)
		}
	}
	return out, corrupt, nil
}

// refuseOtherMigrations fails when AWS shows another migration of source under way.
func (e *Engine) refuseOtherMigrations(ctx context.Context, api model.RDS, kind, source, self string) error {
	others, corrupt, err := e.otherMigrationsOf(ctx, api, kind, source, self)
	if err != nil {
		return errorf(source, "fix the cause (credentials, permissions), then retry", err,
			"cannot look for other migrations of %s", source)
	}
	if len(others) == 0 {
		return nil
	}
	o := others[0]
	flag := "--source " + source
	if kind == KindCluster {
		flag += " --cluster"
	}
	if corrupt[o.id] {
		return errorf(source, "rdsencrypt resume "+flag+" (rebuilds its journal from the tags), then resume or roll it back", nil,
			"%s has migration %s under way (%s), whose journal in this state directory is corrupt", source, o.id, o.resource)
	}
	return errorf(source, fmt.Sprintf("finish or roll back %s where its journal is (another --state-dir or operator), or rebuild it here: rdsencrypt resume %s", o.id, flag), nil,
		"%s has migration %s under way in AWS (%s), not known to this state directory", source, o.id, o.resource)
}
