package workflow

import (
	"context"
	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// AWS calls are at-least-once: the SDK retries a call whose response was lost, and the
// retry then meets the effect of the first attempt (the new name taken, the old name gone,
// nothing left to modify, a deletion already running). These wrappers look at AWS when a
// mutating call fails that way and report success when the intended effect is there.

// renameInstance renames the instance with resource id rid from oldID to newID.
func (r *run) renameInstance(ctx context.Context, api model.RDS, rid, oldID, newID string) error {
	_, err := api.RenameInstance(ctx, oldID, newID)
	if err == nil || !(model.IsNotFound(err) || model.IsAlreadyExists(err) || model.IsInvalidState(err)) {
		return err
	}
	if inst, derr := api.DescribeInstanceByResourceID(ctx, rid); derr == nil && (inst.ID == newID || inst.PendingRename == newID) {
		return nil
	}
	return err
}

// modifyInstance applies settings; "no modifications" means they are already applied.
func (r *run) modifyInstance(ctx context.Context, api model.RDS, id string, want model.InstanceSettings, fields []model.Setting) error {
	_, err := api.ModifyInstance(ctx, id, want, fields)
	if model.IsNothingToModify(err) {
		return nil
	}
	return err
}

// deleteInstance deletes an instance; one already being deleted or gone is success.
func (r *run) deleteInstance(ctx context.Context, api model.RDS, rid, id, finalSnapshot string) error {
	err := api.DeleteInstance(ctx, id, finalSnapshot)
	if err == nil || model.IsNotFound(err) {
		return nil
	}
	if model.IsInvalidState(err) {
		inst, derr := api.DescribeInstanceByResourceID(ctx, rid)
		if model.IsNotFound(derr) || (derr == nil && inst.Status == model.StatusDeleting) {
			return nil
		}
	}
	return err
}

// deleteSnapshot deletes a DB snapshot; one already being deleted or gone is success.
func (r *run) deleteSnapshot(ctx context.Context, id string) error {
	err := r.api.DeleteSnapshot(ctx, id)
	if err == nil || model.IsNotFound(err) {
		return nil
	}
	if model.IsInvalidState(err) {
		snap, derr := r.api.DescribeSnapshot(ctx, id)
		if model.IsNotFound(derr) || (derr == nil && snap.Status == model.SnapshotDeleting) {
			return nil
		}
	}
	return err
}
