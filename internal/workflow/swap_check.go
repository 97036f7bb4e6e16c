package workflow

import (
	"context"
	"fmt"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// Every rename of a cutover or of a rollback swaps names between two databases, one of which
// applications reach by name. Before any such rename the migration re-reads both sides and
// stops, touching nothing, unless they are what its journal says: the new database exists, is
// available, is encrypted with the journal's key and carries this migration's
// rdsencrypt:migration-id and rdsencrypt:source tags; the source is the resource the journal
// names (its resource id) under its original or its retired name. A journal edited to name
// another database, or a new database deleted or replaced by hand, stop here with what differs.

// newResourceProblems lists how a new instance or cluster differs from what the journal says
// it is: encrypted with the journal's key, available, and tagged as this migration's.
func (r *run) newResourceProblems(status string, available, encrypted bool, keyID string, tags model.Tags) []string {
	var p []string
	if !available {
		p = append(p, fmt.Sprintf("it is %q, not available", status))
	}
	switch {
	case !encrypted:
		p = append(p, "it is not encrypted")
	case r.key != nil && !sameKey(keyID, r.key):
		p = append(p, fmt.Sprintf("it is encrypted with %s, not the journal's key %s", keyID, r.st.KmsKeyARN))
	}
	return append(p, r.tagProblems(tags)...)
}

// tagProblems lists the ways tags differ from this migration's ownership tags.
func (r *run) tagProblems(tags model.Tags) []string {
	var p []string
	for _, want := range []struct{ key, value string }{{model.TagMigrationID, r.st.ID}, {model.TagSource, r.st.Source}} {
		if got, ok := tags[want.key]; !ok {
			p = append(p, fmt.Sprintf("it has no %s tag", want.key))
		} else if got != want.value {
			p = append(p, fmt.Sprintf("its %s tag is %q, not %q", want.key, got, want.value))
		}
	}
	return p
}

// swapRefused is the error of a rename the re-check stopped: nothing was renamed.
func (r *run) swapRefused(resource, what string, problems []string) error {
	return errorf(resource, "inspect it; then rdsencrypt status "+r.st.ID+", or rdsencrypt rollback "+r.st.ID, nil,
		"%s: %s; nothing was renamed", what, strings.Join(problems, "; "))
}

// checkInstanceSwap re-reads the new instance and the source before a cutover rename of an
// instance migration and returns them; it refuses, naming what differs, unless both are what
// the journal says.
func (r *run) checkInstanceSwap(ctx context.Context) (src, target *model.Instance, err error) {
	target, err = r.target(ctx)
	if model.IsNotFound(err) {
		return nil, nil, errorf(r.names.Target, "rdsencrypt rollback "+r.st.ID, nil,
			"the new instance %s of migration %s no longer exists: the source %s was not renamed", r.names.Target, r.st.ID, r.st.Source)
	}
	if err != nil {
		return nil, nil, err
	}
	if target, err = r.settle(ctx, target); err != nil { // busy is not refused: failed or deleting is
		return nil, nil, err
	}
	if p := r.newResourceProblems(target.Status, target.Status == model.StatusAvailable, target.Settings.StorageEncrypted,
		target.Settings.KmsKeyID, target.Tags); len(p) > 0 {
		return nil, nil, r.swapRefused(target.ID, "the new instance "+target.ID+" is not the one migration "+r.st.ID+" created", p)
	}
	src, err = r.sourceAsJournaled(ctx)
	return src, target, err
}

// sourceAsJournaled returns the source instance, which must have the journal's resource id and
// answer to its original or retired name.
func (r *run) sourceAsJournaled(ctx context.Context) (*model.Instance, error) {
	src, err := r.source(ctx)
	if model.IsNotFound(err) {
		return nil, errorf(r.st.Source, "check the account and region, then rdsencrypt status "+r.st.ID, nil,
			"the source %s (resource %s) no longer exists: nothing was renamed", r.st.Source, r.st.SourceRID)
	}
	if err != nil {
		return nil, err
	}
	if !r.isSourceName(src.ID) && !r.isSourceName(src.PendingRename) {
		return nil, r.swapRefused(src.ID, fmt.Sprintf("the journal's source (resource %s) is named %s", r.st.SourceRID, src.ID),
			[]string{fmt.Sprintf("neither %s nor its retired name %s", r.st.Source, r.names.Retired)})
	}
	return src, nil
}

func (r *run) isSourceName(id string) bool {
	return id != "" && (id == r.st.Source || id == r.names.Retired)
}

// checkClusterSwap is checkInstanceSwap for a cluster migration: the new cluster and the source
// cluster.
func (r *run) checkClusterSwap(ctx context.Context) (src, target *model.Cluster, err error) {
	n := r.clusterNames()
	target, err = r.targetCluster(ctx)
	if model.IsNotFound(err) {
		return nil, nil, errorf(n.Target, "rdsencrypt rollback "+r.st.ID, nil,
			"the new cluster %s of migration %s no longer exists: the source cluster %s was not renamed", n.Target, r.st.ID, r.st.Source)
	}
	if err != nil {
		return nil, nil, err
	}
	if target, err = r.settleCluster(ctx, target); err != nil {
		return nil, nil, err
	}
	if p := r.newResourceProblems(target.Status, model.IsClusterAvailable(target), target.Settings.StorageEncrypted,
		target.Settings.KmsKeyID, target.Tags); len(p) > 0 {
		return nil, nil, r.swapRefused(target.ID, "the new cluster "+target.ID+" is not the one migration "+r.st.ID+" created", p)
	}
	src, err = r.sourceClusterAsJournaled(ctx)
	return src, target, err
}

// sourceClusterAsJournaled returns the source cluster, which must have the journal's resource
// id and answer to its original or retired name.
func (r *run) sourceClusterAsJournaled(ctx context.Context) (*model.Cluster, error) {
	n := r.clusterNames()
	src, err := r.api.DescribeClusterByResourceID(ctx, r.st.SourceRID)
	if model.IsNotFound(err) {
		return nil, errorf(r.st.Source, "check the account and region, then rdsencrypt status "+r.st.ID, nil,
			"the source cluster %s (resource %s) no longer exists: nothing was renamed", r.st.Source, r.st.SourceRID)
	}
	if err != nil {
		return nil, err
	}
	if src.ID != r.st.Source && src.ID != n.Retired {
		return nil, r.swapRefused(src.ID, fmt.Sprintf("the journal's source cluster (resource %s) is named %s", r.st.SourceRID, src.ID),
			[]string{fmt.Sprintf("neither %s nor its retired name %s", r.st.Source, n.Retired)})
	}
	return src, nil
}
