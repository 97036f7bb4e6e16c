package workflow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/replication"
)

// RDS for MySQL under the replication strategy: the start position comes from a temporary read
// replica of the source stopped at a known point, and the migration's snapshot is taken of that
// replica instead of the source (docs/replication-mysql.md#start-position). MySQL 8.0 and later,
// all RDS for MySQL offers, no longer log the binary log position a restored instance's data ends
// at, which the MariaDB route reads from the restored instance's log. The RDS user guide's way
// ("Exporting data from a MySQL DB instance by using replication"): create a read replica, stop
// its replication with mysql.rds_stop_replication, read the source coordinates it has applied
// from SHOW REPLICA STATUS (Relay_Source_Log_File, Exec_Source_Log_Pos), snapshot it.

// Step names of the temporary replica, in order (replicationOrder).
const (
	StepReplPosReplica = "replication-position-replica"
	StepReplPosStop    = "replication-position-stop"
	StepReplPosDelete  = "replication-position-replica-delete"
)

// RolePositionReplica is the temporary read replica the start position is read from.
const RolePositionReplica = "position-replica"

// positionReplicaEstimate is the replica's creation: RDS snapshots the source, then restores
// the replica from it (the snapshot step's and the restore step's estimates).
var positionReplicaEstimate = estimate{base: 9 * time.Minute, perGB: 6 * time.Second}

// startsFromReplica reports whether the replication strategy reads the start position of an
// instance of this RDS engine from a temporary read replica: RDS for MySQL (8.0 and later).
// MariaDB logs the position at the restored instance's recovery and needs no extra instance.
func startsFromReplica(engine string) bool { return engine == "mysql" }

// positionReplicaNote is the plan's line on the temporary replica: which way the start position
// is found and why, the extra instance, its cost and time, and what rollback does.
func positionReplicaNote(src *model.Instance, n Names) string {
	return fmt.Sprintf("replication (MySQL): the start position is read from %s, a temporary read replica of %s stopped at a known point (mysql.rds_stop_replication, then its applied source position from SHOW REPLICA STATUS), and the migration's snapshot is taken of it, not of %s: "+
		"MySQL 8.0 and later do not log the position a restored instance's data ends at. It is one more %s instance with %d GiB of storage, billed from its creation (estimated %s) until it is deleted right after the restore; rollback deletes it (tags and journal checked). "+
		"The binary log retention on %s must cover from the replica's stop to the drain (the retention precondition)",
		n.PositionReplica, src.ID, src.ID, src.Settings.DBInstanceClass, src.Settings.AllocatedStorage, positionReplicaEstimate.at(src.Settings.AllocatedStorage), src.ID)
}

var positionSteps = []step{
	{
		name: StepReplPosReplica, actions: []string{"CreateDBInstanceReadReplica"}, mutating: true,
		// its tags are given on create; a failed one is deleted and created again
		permissions: []string{"rds:AddTagsToResource", "rds:DescribeDBInstances", "rds:DeleteDBInstance"},
		describe: func(p *Plan, n Names) string {
			return fmt.Sprintf("create %s, a temporary read replica of %s, tagged: RDS for MySQL 8.0 and later does not log where a restored instance's data ends, so the stream's start is read from this replica stopped at a known point (RDS's documented way). "+
				"One more instance of %s's class and storage from now until the restore is done; RDS snapshots %s to create it (on a Single-AZ instance, a brief I/O pause)", n.PositionReplica, p.Source, p.Source, p.Source)
		},
		estimate: positionReplicaEstimate,
		undo:     "rollback deletes the temporary replica when its tags and the journal say it is this migration's (no final snapshot: AWS takes none of a read replica, and its data is the migration's snapshot)",
		observe:  observePositionReplica, apply: applyPositionReplica, wait: waitPositionReplica,
	},
	{
		name: StepReplPosStop, mutating: true,
		local: "connects to the temporary replica as the master user and stops its replication (mysql.rds_stop_replication)",
		describe: func(p *Plan, n Names) string {
			return fmt.Sprintf("wait until %s has applied %s's writes, stop its replication and journal the position of %s's binary log its data ends at: the stream to %s starts there", n.PositionReplica, p.Source, p.Source, n.Target)
		},
		estimate: estimate{base: 30 * time.Second},
		undo:     "nothing of its own: the temporary replica is deleted",
		apply:    applyPositionStop,
	},
	{
		name: StepReplPosDelete, actions: []string{"DeleteDBInstance"}, mutating: true,
		permissions: []string{"rds:DescribeDBInstances", "rds:ListTagsForResource"},
		describe: func(p *Plan, n Names) string {
			return fmt.Sprintf("delete the temporary replica %s, without a final snapshot: its data, stopped at the start position, is snapshot %s (AWS takes no final snapshot of a read replica)", n.PositionReplica, n.Snapshot)
		},
		estimate: estimate{base: 5 * time.Minute},
		undo:     "nothing to undo",
		observe:  observePositionReplicaGone, apply: applyPositionDelete,
	},
}

// positionReplica is the temporary replica: by its journaled resource id once known, else by
// name, only when its tags say it is this migration's.
func (r *run) positionReplica(ctx context.Context) (*model.Instance, error) {
	res := r.resource(RolePositionReplica)
	if res == nil {
		return nil, fmt.Errorf("the journal of migration %s has no temporary replica", r.st.ID)
	}
	if res.ResourceID != "" {
		return r.api.DescribeInstanceByResourceID(ctx, res.ResourceID)
	}
	inst, err := r.api.DescribeInstance(ctx, res.Name)
	if err != nil {
		return nil, err
	}
	if !r.ownedBy(inst.Tags) || inst.Tags[model.TagRole] != RolePositionReplica {
		return nil, errorf(inst.ID, "rename or delete it, or roll back: rdsencrypt rollback "+r.st.ID, nil,
			"DB instance %s exists but is not the temporary replica of migration %s", inst.ID, r.st.ID)
	}
	res.ResourceID = inst.ResourceID
	return inst, nil
}

func observePositionReplica(ctx context.Context, r *run) (bool, error) {
	inst, err := r.positionReplica(ctx)
	if model.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return !model.IsInstanceFailed(inst.Status), nil
}

func applyPositionReplica(ctx context.Context, r *run) error {
	res := r.resource(RolePositionReplica)
	if inst, err := r.positionReplica(ctx); err == nil && model.IsInstanceFailed(inst.Status) {
		r.log("deleting %s, left %s, before creating it again", inst.ID, inst.Status)
		if err := r.deleteOwnedInstanceIn(ctx, r.api, inst.ResourceID, ""); err != nil {
			return err
		}
		res.ResourceID = ""
	} else if err != nil && !model.IsNotFound(err) {
		return err
	}
	inst, err := r.api.CreateReadReplica(ctx, model.ReadReplicaInput{ID: res.Name, Source: r.st.Source, Tags: r.ourTags(RolePositionReplica)})
	if model.IsAlreadyExists(err) {
		_, err = r.positionReplica(ctx) // checks it is ours
		return err
	}
	if err != nil {
		return err
	}
	res.ResourceID = inst.ResourceID
	r.log("temporary read replica %s of %s created: the stream's start position is read from it", res.Name, r.st.Source)
	return r.save()
}

func waitPositionReplica(ctx context.Context, r *run) error {
	inst, err := r.positionReplica(ctx)
	if err != nil {
		return err
	}
	_, err = r.waitInstance(ctx, inst.ResourceID, settled)
	return err
}

// positioner is the engine's way of reading a stopped replica's position.
func (r *run) positioner(ctx context.Context) (replication.ReplicaPositioner, *model.Instance, replication.Endpoint, error) {
	inst, err := r.positionReplica(ctx)
	if err != nil {
		return nil, nil, replication.Endpoint{}, err
	}
	db, err := r.replicationOf(ctx, inst)
	if err != nil {
		return nil, nil, replication.Endpoint{}, err
	}
	pos, ok := db.eng.(replication.ReplicaPositioner)
	if !ok {
		return nil, nil, replication.Endpoint{}, errorf(r.st.Source, "rdsencrypt rollback "+r.st.ID, nil,
			"the %s replication engine cannot read a stopped replica's position", db.eng.Name())
	}
	return pos, inst, r.replEndpoint(inst, db.login), nil
}

// applyPositionStop stops the temporary replica and journals the source position its data
// ends at as the stream's start. Run again (a resumed run), it finds the replica stopped and
// reads the same position.
func applyPositionStop(ctx context.Context, r *run) error {
	pos, inst, replica, err := r.positioner(ctx)
	if err != nil {
		return err
	}
	_, src, err := r.replSource(ctx)
	if err != nil {
		return err
	}
	at, err := pos.StopReplica(ctx, src, replica)
	if err != nil {
		return r.dbError(err, r.resumeOrRollback(), "cannot stop the temporary replica %s at a known position", inst.ID)
	}
	st := r.replState()
	if st.StartPosition != "" && st.StartPosition != at {
		return errorf(inst.ID, "rdsencrypt rollback "+r.st.ID, nil,
			"the temporary replica %s stopped at %s, but the journal has %s: its replication ran again", inst.ID, at, st.StartPosition)
	}
	st.StartPosition = at
	r.log("temporary replica %s stopped: its data ends at %s of %s's binary log, where the stream will start", inst.ID, at, r.st.Source)
	return nil
}

// positionSnapshotSource is the instance the migration's snapshot is taken of: the stopped
// temporary replica when the journal has one, after checking it is still stopped at the
// journaled start position (RDS starts a stopped replica's replication again when the instance
// restarts); else the source.
func (r *run) positionSnapshotSource(ctx context.Context) (string, error) {
	if r.resource(RolePositionReplica) == nil {
		return r.st.Source, nil
	}
	inst, err := r.positionReplicaStopped(ctx)
	if err != nil {
		return "", r.dbError(err, "rdsencrypt rollback "+r.st.ID, "the temporary replica %s is no longer stopped at the start position", r.resource(RolePositionReplica).Name)
	}
	return inst.ID, nil
}

// checkSnapshotPosition runs once the migration's snapshot of the temporary replica is
// available: the replica must still be stopped at the journaled start position. Checked before
// the snapshot only, a replica whose replication ran again meanwhile (mysql.rds_start_replication,
// a restart) may have applied writes past that position into the snapshot, and replication
// started there would apply them twice on the new instance. Stopped at the same position
// before and after, its data did not change in between: applying a write moves the position.
// A replica that ran again can only be rolled back; a database that cannot be reached may be
// checked again by resume.
func (r *run) checkSnapshotPosition(ctx context.Context) error {
	res := r.resource(RolePositionReplica)
	if res == nil {
		return nil
	}
	_, err := r.positionReplicaStopped(ctx)
	var moved errMovedPosition
	switch {
	case err == nil:
		return nil
	case errors.As(err, &moved) || errors.Is(err, replication.ErrReplicaRunning) || errors.Is(err, replication.ErrNotReplicating):
		return errorf(res.Name, "rdsencrypt rollback "+r.st.ID, err,
			"the temporary replica %s did not stay stopped at the start position %s while snapshot %s was taken: the snapshot may hold writes past it",
			res.Name, r.replState().StartPosition, r.names.Snapshot)
	default:
		return r.dbError(err, r.resumeOrRollback(), "cannot check that the temporary replica %s stayed stopped at the start position while snapshot %s was taken", res.Name, r.names.Snapshot)
	}
}

// positionReplicaStopped checks that the temporary replica is stopped at the journaled start
// position; errMovedPosition when it is stopped elsewhere.
func (r *run) positionReplicaStopped(ctx context.Context) (*model.Instance, error) {
	pos, inst, replica, err := r.positioner(ctx)
	if err != nil {
		return nil, err
	}
	at, err := pos.StoppedAt(ctx, replica)
	if err == nil && at != r.replState().StartPosition {
		err = errMovedPosition{at: at, journaled: r.replState().StartPosition}
	}
	return inst, err
}

// errMovedPosition: the temporary replica is stopped, at another position than the journal's.
type errMovedPosition struct{ at, journaled string }

func (e errMovedPosition) Error() string {
	return fmt.Sprintf("its data ends at %s, the journal's start position is %s", e.at, e.journaled)
}

func observePositionReplicaGone(ctx context.Context, r *run) (bool, error) {
	_, err := r.positionReplica(ctx)
	if model.IsNotFound(err) {
		return true, nil
	}
	return false, err
}

// applyPositionDelete deletes the temporary replica once the restore is done. No final
// snapshot: AWS refuses one for a read replica (DeleteDBInstance: "FinalDBSnapshotIdentifier
// can not be specified when deleting a read replica"), and the replica's data since it stopped
// is the migration's snapshot, taken after the stop.
func applyPositionDelete(ctx context.Context, r *run) error {
	inst, err := r.positionReplica(ctx)
	if model.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return r.deletePositionReplica(ctx, inst)
}

// deletePositionReplica deletes the temporary replica after checking again that its tags
// (migration and role) and the journal say it is this migration's.
func (r *run) deletePositionReplica(ctx context.Context, inst *model.Instance) error {
	if inst.Tags[model.TagRole] != RolePositionReplica {
		return errorf(inst.ID, "delete it by hand if it is not needed", nil,
			"refusing to delete DB instance %s: it is not tagged as the temporary replica of migration %s", inst.ID, r.st.ID)
	}
	return r.deleteOwnedInstanceIn(ctx, r.api, inst.ResourceID, "")
}

// undoPositionReplica is rollback's part: the temporary replica deleted when it still exists.
func (r *run) undoPositionReplica(ctx context.Context) error {
	if r.resource(RolePositionReplica) == nil {
		return nil
	}
	inst, err := r.positionReplica(ctx)
	if model.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	r.log("deleting the temporary replica %s", inst.ID)
	return r.deletePositionReplica(ctx, inst)
}
