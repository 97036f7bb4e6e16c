package workflow

import (
	"context"
	"fmt"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

func clusterCleanupSummary(r *run) Approval {
	n := r.clusterNames()
	var members []string
	for _, m := range r.journal().Members {
		members = append(members, n.MemberRetired(m.ID))
	}
	return Approval{
		Summary: fmt.Sprintf("delete the retired cluster %s and its members (%s), with final cluster snapshot %s, and the unencrypted cluster snapshot %s",
			n.Retired, strings.Join(members, ", "), n.FinalSnapshot, n.Snapshot),
		Details: append([]string{"The encrypted cluster " + r.st.Source + ", its members and custom endpoints are not touched.",
			retainedBackupsNote(n.Retired, "cluster")}, masterSecretCleanupNote(r)...)}
}

// cleanupCluster deletes the retired source: its members (known by resource id from the
// journal, at their retired names), then the cluster with a final cluster snapshot; then the
// unencrypted cluster snapshot. A member added to the retired cluster since the migration
// started is not deleted, and then the cluster deletion fails and says so.
func cleanupCluster(ctx context.Context, r *run) error {
	n := r.clusterNames()
	if r.resourceByName(n.FinalSnapshot) == nil {
		r.st.Resources = append(r.st.Resources, Resource{Role: RoleFinalSnapshot, Type: TypeDBClusterSnapshot, Region: r.st.Region, Name: n.FinalSnapshot})
		if err := r.save(); err != nil {
			return err
		}
	}
	src, err := r.api.DescribeClusterByResourceID(ctx, r.st.SourceRID)
	if err != nil && !model.IsNotFound(err) {
		return err
	}
	if err == nil {
		if src.ID != n.Retired {
			return errorf(src.ID, "rdsencrypt status "+r.st.ID, nil,
				"refusing to delete the source cluster: it is named %s, not its retired name %s", src.ID, n.Retired)
		}
		if err := r.deleteRetiredMembers(ctx, src); err != nil {
			return err
		}
		if err := r.deleteRetiredCluster(ctx, src); err != nil {
			return err
		}
	}
	if err := r.deleteFreezeGroup(ctx, "rdsencrypt cleanup "+r.st.ID); err != nil { // enforce.go: the retired cluster kept it
		return err
	}
	snap, err := r.waitClusterSnapshotAvailable(ctx, n.FinalSnapshot)
	if err != nil {
		return err
	}
	if err := r.api.AddTags(ctx, snap.ARN, r.ourTags(RoleFinalSnapshot)); err != nil {
		return err
	}
	return r.deleteOwnedClusterSnapshot(ctx, n.Snapshot)
}

func (r *run) deleteRetiredMembers(ctx context.Context, src *model.Cluster) error {
	n := r.clusterNames()
	var deleting []string
	for _, m := range r.journal().Members {
		inst, err := r.api.DescribeInstanceByResourceID(ctx, m.ResourceID)
		if model.IsNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		if inst.ID != n.MemberRetired(m.ID) || inst.ClusterID != src.ID {
			return errorf(inst.ID, "rdsencrypt status "+r.st.ID, nil,
				"refusing to delete %s: it is not the retired member %s of cluster %s", inst.ID, n.MemberRetired(m.ID), src.ID)
		}
		deleting = append(deleting, m.ResourceID)
		if inst.Status == model.StatusDeleting {
			continue
		}
		if !model.IsInstanceFailed(inst.Status) && !settled(inst) {
			if _, err := r.waitInstance(ctx, m.ResourceID, settled); err != nil {
				return err
			}
		}
		r.log("deleting retired member %s", inst.ID)
		if err := r.deleteInstance(ctx, r.api, m.ResourceID, inst.ID, ""); err != nil {
			return err
		}
	}
	for _, rid := range deleting {
		if err := r.waitInstanceGone(ctx, rid); err != nil {
			return err
		}
	}
	return nil
}

// deleteRetiredCluster deletes the retired source cluster with a final cluster snapshot, the
// only deletion of a cluster the tool did not create.
func (r *run) deleteRetiredCluster(ctx context.Context, src *model.Cluster) error {
	n := r.clusterNames()
	if src.Status != model.ClusterDeleting {
		src, err := r.waitCluster(ctx, r.st.SourceRID, model.IsClusterAvailable)
		if err != nil {
			return err
		}
		if err := r.turnOffClusterDeletionProtection(ctx, src, r.st.SourceRID, "the retired cluster "+src.ID); err != nil {
			return err
		}
		r.log("deleting the retired cluster %s with final snapshot %s", src.ID, n.FinalSnapshot)
		if err := r.deleteCluster(ctx, r.st.SourceRID, src.ID, n.FinalSnapshot); err != nil {
			return err
		}
	}
	return r.waitClusterGone(ctx, r.st.SourceRID)
}
