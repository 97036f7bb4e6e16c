package workflow

import (
	"context"
	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// The cluster counterparts of idempotent.go: a mutating call whose retry meets the effect of
// its first attempt is a success once AWS shows that effect.

// renameCluster renames the cluster with resource id rid from oldID to newID.
func (r *run) renameCluster(ctx context.Context, rid, oldID, newID string) error {
	_, err := r.api.RenameCluster(ctx, oldID, newID)
	if err == nil || !(model.IsNotFound(err) || model.IsAlreadyExists(err) || model.IsInvalidState(err)) {
		return err
	}
	if cl, derr := r.api.DescribeClusterByResourceID(ctx, rid); derr == nil && cl.ID == newID {
		return nil
	}
	return err
}

// modifyCluster applies settings; "no modifications" means they are already applied.
func (r *run) modifyCluster(ctx context.Context, id string, want model.ClusterSettings, fields []model.Setting) error {
	_, err := r.api.ModifyCluster(ctx, id, want, fields)
	if model.IsNothingToModify(err) {
		return nil
	}
	return err
}

// deleteCluster deletes a cluster; one already being deleted or gone is success.
func (r *run) deleteCluster(ctx context.Context, rid, id, finalSnapshot string) error {
	err := r.api.DeleteCluster(ctx, id, finalSnapshot)
	if err == nil || model.IsNotFound(err) {
		return nil
	}
	if model.IsInvalidState(err) || model.IsAlreadyExists(err) {
		cl, derr := r.api.DescribeClusterByResourceID(ctx, rid)
		if model.IsNotFound(derr) || (derr == nil && cl.Status == model.ClusterDeleting) {
			return nil
		}
	}
	return err
}

// deleteClusterSnapshot deletes a cluster snapshot; one already being deleted or gone is success.
func (r *run) deleteClusterSnapshot(ctx context.Context, id string) error {
	err := r.api.DeleteClusterSnapshot(ctx, id)
	if err == nil || model.IsNotFound(err) {
		return nil
	}
	if model.IsInvalidState(err) {
		snap, derr := r.api.DescribeClusterSnapshot(ctx, id)
		if model.IsNotFound(derr) || (derr == nil && snap.Status == model.SnapshotDeleting) {
			return nil
		}
	}
	return err
}

// deleteEndpoint deletes a custom endpoint of the cluster with resource id clusterRID; one
// already being deleted or gone is success.
func (r *run) deleteEndpoint(ctx context.Context, clusterRID, id string) error {
	err := r.api.DeleteClusterEndpoint(ctx, id)
	if err == nil || model.IsNotFound(err) {
		return nil
	}
	if model.IsInvalidState(err) {
		cl, derr := r.api.DescribeClusterByResourceID(ctx, clusterRID)
		if derr == nil {
			ep, ferr := r.findEndpoint(ctx, cl.ID, id)
			if ferr == nil && (ep == nil || ep.Status == model.EndpointDeleting) {
				return nil
			}
		}
	}
	return err
}
