package workflow

import (
	"context"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// AWS calls are at-least-once: the SDK retries a call whose response was lost, and the
// retry then meets the effect of the first attempt (the new name taken, the old name gone,
// nothing left to modify, a deletion already running, the final snapshot already taken).
// These wrappers look at AWS when a mutating call fails that way and report success when
// the intended effect is there. Instances and clusters share them; where they differ, a
// comment says why.

// renamed is the outcome of a rename that failed with err: success when the error is one a
// retried rename meets and AWS shows the resource has (or is about to get) the new name.
func renamed(err error, hasNewName func() bool) error {
	if err == nil || !(model.IsNotFound(err) || model.IsAlreadyExists(err) || model.IsInvalidState(err)) {
		return err
	}
	if hasNewName() {
		return nil
	}
	return err
}

// deleted is the outcome of a deletion that failed with err: gone already is success, and
// so is a deletion that AWS shows running (deleting, or gone since) when the error is one a
// retried deletion meets: the resource busy being deleted, or its final snapshot already
// taken by the first attempt.
func deleted(err error, deletingOrGone func() bool) error {
	if err == nil || model.IsNotFound(err) {
		return nil
	}
	if (model.IsInvalidState(err) || model.IsAlreadyExists(err)) && deletingOrGone() {
		return nil
	}
	return err
}

// modified is the outcome of a modification: "no modifications" means they are applied.
func modified(err error) error {
	if model.IsNothingToModify(err) {
		return nil
	}
	return err
}

// renameInstance renames the instance with resource id rid from oldID to newID.
func (r *run) renameInstance(ctx context.Context, api model.RDS, rid, oldID, newID string) error {
	_, err := api.RenameInstance(ctx, oldID, newID)
	return renamed(err, func() bool {
		inst, derr := api.DescribeInstanceByResourceID(ctx, rid)
		return derr == nil && (inst.ID == newID || inst.PendingRename == newID)
	})
}

// renameCluster renames the cluster with resource id rid from oldID to newID. Unlike an
// instance, a cluster shows no pending rename: model.Cluster has none, since the rename is
// always asked with ApplyImmediately (awsclient RenameCluster) and the adapter reads no
// pending cluster identifier, so only its current identifier tells.
func (r *run) renameCluster(ctx context.Context, rid, oldID, newID string) error {
	_, err := r.api.RenameCluster(ctx, oldID, newID)
	return renamed(err, func() bool {
		cl, derr := r.api.DescribeClusterByResourceID(ctx, rid)
		return derr == nil && cl.ID == newID
	})
}

// modifyInstance applies settings.
func (r *run) modifyInstance(ctx context.Context, api model.RDS, id string, want model.InstanceSettings, fields []model.Setting) error {
	_, err := api.ModifyInstance(ctx, id, want, fields)
	return modified(err)
}

// modifyCluster applies settings.
func (r *run) modifyCluster(ctx context.Context, id string, want model.ClusterSettings, fields []model.Setting) error {
	_, err := r.api.ModifyCluster(ctx, id, want, fields)
	return modified(err)
}

// deleteInstance deletes an instance (with the final snapshot finalSnapshot, when set).
func (r *run) deleteInstance(ctx context.Context, api model.RDS, rid, id, finalSnapshot string) error {
	return deleted(api.DeleteInstance(ctx, id, finalSnapshot), func() bool {
		inst, derr := api.DescribeInstanceByResourceID(ctx, rid)
		return model.IsNotFound(derr) || (derr == nil && inst.Status == model.StatusDeleting)
	})
}

// deleteCluster deletes a cluster (with the final snapshot finalSnapshot, when set).
func (r *run) deleteCluster(ctx context.Context, rid, id, finalSnapshot string) error {
	return deleted(r.api.DeleteCluster(ctx, id, finalSnapshot), func() bool {
		cl, derr := r.api.DescribeClusterByResourceID(ctx, rid)
		return model.IsNotFound(derr) || (derr == nil && cl.Status == model.ClusterDeleting)
	})
}

// deleteSnapshot deletes a DB snapshot.
func (r *run) deleteSnapshot(ctx context.Context, id string) error {
	return deleteSnapshotBy(ctx, id, r.api.DeleteSnapshot, r.api.DescribeSnapshot)
}

// deleteClusterSnapshot deletes a cluster snapshot.
func (r *run) deleteClusterSnapshot(ctx context.Context, id string) error {
	return deleteSnapshotBy(ctx, id, r.api.DeleteClusterSnapshot, r.api.DescribeClusterSnapshot)
}

// deleteSnapshotBy deletes a DB or cluster snapshot through del, describing it through describe.
func deleteSnapshotBy(ctx context.Context, id string, del func(context.Context, string) error,
	describe func(context.Context, string) (*model.Snapshot, error),
) error {
	return deleted(del(ctx, id), func() bool {
		snap, derr := describe(ctx, id)
		return model.IsNotFound(derr) || (derr == nil && snap.Status == model.SnapshotDeleting)
	})
}

// deleteEndpoint deletes a custom endpoint of the cluster with resource id clusterRID.
func (r *run) deleteEndpoint(ctx context.Context, clusterRID, id string) error {
	return deleted(r.api.DeleteClusterEndpoint(ctx, id), func() bool {
		cl, derr := r.api.DescribeClusterByResourceID(ctx, clusterRID)
		if derr != nil {
			return false
		}
		ep, ferr := r.findEndpoint(ctx, cl.ID, id)
		return ferr == nil && (ep == nil || ep.Status == model.EndpointDeleting)
	})
}
