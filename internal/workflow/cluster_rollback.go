package workflow

import (
	"context"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// undoCluster observes AWS and reverses each effect of a cluster migration still present, most
// urgent first: the names and endpoints of the source cluster, its members and its custom
// endpoints; then the deletions, members before their cluster, the cluster before the
// snapshot it was restored from.
func undoCluster(ctx context.Context, r *run) error {
	n := r.clusterNames()
	if _, err := r.sourceClusterAsJournaled(ctx); err != nil { // before touching anything
		return err
	}
	target, err := r.findTargetCluster(ctx)
	if err != nil {
		return err
	}
	// The new cluster is known by the resource id in the journal: before its endpoints,
	// members or name are touched, its tags must say it is this migration's.
	if target != nil {
		if p := r.tagProblems(target.Tags); len(p) > 0 || target.ResourceID == r.st.SourceRID {
			return r.swapRefused(target.ID, "cluster "+target.ID+" is not the new cluster of migration "+r.st.ID, append(p, "nothing was deleted"))
		}
	}
	newMembers, err := r.settledNewMembers(ctx)
	if err != nil {
		return err
	}
	if target != nil {
		if target, err = r.settleCluster(ctx, target); err != nil {
			return err
		}
		if !model.IsClusterFailed(target.Status) && target.Status != model.ClusterDeleting {
			if err := r.dropNewEndpoints(ctx, target); err != nil {
				return err
			}
		}
	}
	// Free the original names: the new cluster and members go back to their temporary names.
	if target != nil && target.ID == r.st.Source {
		if p := r.tagProblems(target.Tags); len(p) > 0 {
			return r.swapRefused(target.ID, "cluster "+target.ID+" is not the new cluster of migration "+r.st.ID, p)
		}
		if err := r.renameClusterTo(ctx, target, r.st.Source, n.Target); err != nil {
			return err
		}
	}
	for id, inst := range newMembers {
		if inst.ID == id {
			if err := r.renameMemberTo(ctx, inst, id, n.MemberTarget(id)); err != nil {
				return err
			}
		}
	}
	if target != nil && target.ID == r.st.Source {
		if _, err := r.waitCluster(ctx, target.ResourceID, model.ClusterAvailableAs(n.Target)); err != nil {
			return err
		}
	}
	for id, inst := range newMembers {
		if inst.ID == id {
			if err := r.memberAt(ctx, inst.ResourceID, n.MemberTarget(id), ""); err != nil {
				return err
			}
		}
	}
	if err := r.restoreSourceNames(ctx); err != nil {
		return err
	}
	if err := r.undoClusterFreeze(ctx); err != nil { // enforce_cluster.go
		return err
	}
	if err := r.restoreSourceEndpoints(ctx); err != nil {
		return err
	}
	for _, inst := range newMembers {
		if err := r.deleteOwnedMember(ctx, inst.ResourceID); err != nil {
			return err
		}
	}
	final := r.rollbackSnapshot()
	if target != nil {
		if err := r.deleteOwnedCluster(ctx, target, final); err != nil {
			return err
		}
	}
	if err := r.tagClusterRollbackSnapshot(ctx, final); err != nil {
		return err
	}
	if err := r.deleteOwnedClusterSnapshot(ctx, n.Snapshot); err != nil {
		return err
	}
	if !r.st.FreezeAt.IsZero() && r.stepStatus(StepUnfreeze) != StepDone {
		return applyUnfreeze(ctx, r)
	}
	return nil
}

// settledNewMembers returns the new members that exist, by original member id, each settled
// (not mid-creation or mid-rename) unless it failed or is being deleted.
func (r *run) settledNewMembers(ctx context.Context) (map[string]*model.Instance, error) {
	out := map[string]*model.Instance{}
	for _, m := range r.journal().Members {
		inst, err := r.newMember(ctx, m.ID)
		if err != nil {
			return nil, err
		}
		if inst == nil {
			continue
		}
		if inst, err = r.settle(ctx, inst); err != nil {
			return nil, err
		}
		out[m.ID] = inst
	}
	return out, r.save()
}

// settleCluster waits until a cluster is done with what it is doing, unless it failed or is
// being deleted.
func (r *run) settleCluster(ctx context.Context, cl *model.Cluster) (*model.Cluster, error) {
	if model.IsClusterAvailable(cl) || model.IsClusterFailed(cl.Status) || cl.Status == model.ClusterDeleting {
		return cl, nil
	}
	return r.waitCluster(ctx, cl.ResourceID, model.IsClusterAvailable)
}

// restoreSourceNames renames the source cluster and its members back to their original names
// and waits until they answer at their original endpoints.
func (r *run) restoreSourceNames(ctx context.Context) error {
	n := r.clusterNames()
	src, err := r.api.DescribeClusterByResourceID(ctx, r.st.SourceRID)
	if err != nil {
		return errorf(r.st.Source, "rdsencrypt status "+r.st.ID, err, "cannot find the source cluster (resource %s)", r.st.SourceRID)
	}
	if src, err = r.settleCluster(ctx, src); err != nil {
		return err
	}
	if src.ID != r.st.Source {
		if err := r.renameClusterTo(ctx, src, src.ID, r.st.Source); err != nil {
			return err
		}
	}
	for _, m := range r.journal().Members {
		inst, err := r.api.DescribeInstanceByResourceID(ctx, m.ResourceID)
		if err != nil {
			return errorf(m.ID, "rdsencrypt status "+r.st.ID, err, "cannot find member %s of the source cluster", m.ID)
		}
		if inst, err = r.settle(ctx, inst); err != nil {
			return err
		}
		if inst.ID != m.ID && inst.PendingRename != m.ID {
			from := inst.ID
			if from != n.MemberRetired(m.ID) {
				return errorf(inst.ID, "rdsencrypt status "+r.st.ID, nil, "member %s of the source is named %s, neither its name nor its retired name", m.ID, inst.ID)
			}
			if err := r.renameMemberTo(ctx, inst, from, m.ID); err != nil {
				return err
			}
		}
	}
	if _, err := r.waitCluster(ctx, r.st.SourceRID, func(c *model.Cluster) bool {
		return model.ClusterAvailableAs(r.st.Source)(c) && strings.EqualFold(c.Endpoint, r.st.SourceAddr)
	}); err != nil {
		return err
	}
	for _, m := range r.journal().Members {
		if err := r.memberAt(ctx, m.ResourceID, m.ID, m.Address); err != nil {
			return err
		}
	}
	return nil
}

// deleteOwnedCluster deletes the new cluster, which must be ours and have no member left, with
// the final cluster snapshot finalSnapshot when set: after cutover began, applications may
// have written to it (see rollbackSnapshot). Before cutover its data is the source's, which is
// intact: no snapshot.
func (r *run) deleteOwnedCluster(ctx context.Context, cl *model.Cluster, finalSnapshot string) error {
	cl, err := r.api.DescribeClusterByResourceID(ctx, cl.ResourceID)
	if model.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if cl.ResourceID == r.st.SourceRID || !r.ownedBy(cl.Tags) || cl.Tags[model.TagRole] != RoleTarget {
		return errorf(cl.ID, "delete it by hand if it is not needed", nil,
			"refusing to delete DB cluster %s: it was not created by migration %s", cl.ID, r.st.ID)
	}
	if cl.Status != model.ClusterDeleting {
		if finalSnapshot != "" {
			// The name must be free (or already this cluster's final snapshot) before the
			// cluster loses its deletion protection.
			snap, err := r.api.DescribeClusterSnapshot(ctx, finalSnapshot)
			switch {
			case err == nil && snap.SourceResource != cl.ResourceID:
				return errorf(finalSnapshot, "rename or delete that snapshot, then rdsencrypt rollback "+r.st.ID, nil,
					"the rollback snapshot name %s is taken by a snapshot of another cluster", finalSnapshot)
			case err != nil && !model.IsNotFound(err):
				return err
			}
		}
		if !model.IsClusterFailed(cl.Status) {
			if cl, err = r.waitCluster(ctx, cl.ResourceID, model.IsClusterAvailable); err != nil {
				return err
			}
		}
		if err := r.turnOffClusterDeletionProtection(ctx, cl, cl.ResourceID, "cluster "+cl.ID+" (created by this migration)"); err != nil {
			return err
		}
		if finalSnapshot != "" {
			if err := r.save(); err != nil { // the snapshot's name, before it exists
				return err
			}
			r.log("deleting cluster %s with final snapshot %s: writes made to it since cutover stay recoverable", cl.ID, finalSnapshot)
		} else {
			r.log("deleting cluster %s", cl.ID)
		}
		if err := r.deleteCluster(ctx, cl.ResourceID, cl.ID, finalSnapshot); err != nil {
			return err
		}
	}
	return r.waitClusterGone(ctx, cl.ResourceID)
}

// tagClusterRollbackSnapshot tags the final snapshot a rollback took of the new cluster as the
// migration's, once it is available; it does nothing when there is none to take. The snapshot
// must have been taken of the migration's new cluster: a resumed rollback finds the cluster
// gone and the snapshot there.
func (r *run) tagClusterRollbackSnapshot(ctx context.Context, name string) error {
	if name == "" {
		return nil
	}
	snap, err := r.api.DescribeClusterSnapshot(ctx, name)
	if model.IsNotFound(err) {
		return nil // the new cluster was gone before the rollback could snapshot it
	}
	if err != nil {
		return err
	}
	if r.ownedBy(snap.Tags) && snap.Tags[model.TagRole] == RoleRollbackSnapshot {
		return nil
	}
	if res := r.resource(RoleTarget); res == nil || res.ResourceID == "" || snap.SourceResource != res.ResourceID {
		return errorf(name, "inspect it; rdsencrypt status "+r.st.ID, nil,
			"cluster snapshot %s was not taken of the new cluster of migration %s: not tagging it", name, r.st.ID)
	}
	if snap, err = r.waitClusterSnapshotAvailable(ctx, name); err != nil {
		return err
	}
	if err := r.api.AddTags(ctx, snap.ARN, r.ourTags(RoleRollbackSnapshot)); err != nil {
		return err
	}
	r.log("the new cluster's data as of the rollback is kept in cluster snapshot %s", name)
	return nil
}

// turnOffClusterDeletionProtection turns off the deletion protection of the available cluster
// cl (resource id rid, named what in the log) and waits until it is off; unprotected, it does
// nothing.
func (r *run) turnOffClusterDeletionProtection(ctx context.Context, cl *model.Cluster, rid, what string) error {
	if !cl.Settings.DeletionProtection {
		return nil
	}
	r.log("turning off deletion protection on %s", what)
	if err := r.modifyCluster(ctx, cl.ID, model.ClusterSettings{}, []model.Setting{"DeletionProtection"}); err != nil {
		return err
	}
	_, err := r.waitCluster(ctx, rid, func(c *model.Cluster) bool {
		return model.IsClusterAvailable(c) && !c.Settings.DeletionProtection
	})
	return err
}

// deleteOwnedClusterSnapshot deletes a cluster snapshot this migration created.
func (r *run) deleteOwnedClusterSnapshot(ctx context.Context, id string) error {
	return r.deleteOwnedSnapshotOf(ctx, r.clusterSnapshots(), id)
}
