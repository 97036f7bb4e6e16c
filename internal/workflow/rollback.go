package workflow

import (
	"context"
	"fmt"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/redact"

	"github.com/rdsencrypt/rdsencrypt/internal/awsclient"
)

// StatusRollingBack marks a rollback in progress; running rollback again continues it.
const StatusRollingBack = "rolling-back"

// Rollback returns the account to where it was before the migration: the source back at its
// name and endpoint, and everything the migration created deleted. It works from any point
// before cleanup and can itself be interrupted and run again.
func (e *Engine) Rollback(ctx context.Context, id string) (*Report, error) {
	st, release, err := e.lockAndLoad(id)
	if err != nil {
		return nil, err
	}
	defer func() { _ = release() }()
	switch st.Status {
	case StatusRolledBack, StatusNothingToDo:
		return ReportOf(st), nil
	case StatusCleaningUp:
		return ReportOf(st), errorf(st.Source, "rdsencrypt cleanup "+st.ID+" (it continues where it stopped)", nil,
			"migration %s is being cleaned up: the retired source may already be deleted, so it cannot be rolled back", st.ID)
	case StatusCleanedUp:
		return ReportOf(st), errorf(st.Source, "the encrypted instance is now the only copy; its retired source was deleted (final snapshot "+NamesFor(st.ID, st.Source).FinalSnapshot+")", nil,
			"migration %s was cleaned up and cannot be rolled back", st.ID)
	}
	r, err := e.newRun(st)
	if err != nil {
		return nil, err
	}
	ctx = withCallLedger(ctx) // its calls count in the report's api_calls (call_ledger.go)
	attachLedger(ctx, r)
	r.announceJournal(PhaseRollback, fmt.Sprintf("roll back migration %s: %s returns to its original state, everything the migration created is deleted", st.ID, st.Source))
	return r.rollback(ctx)
}

func (r *run) rollback(ctx context.Context) (*Report, error) {
	ctx = r.withCalls(ctx)
	r.step, r.phase = -1, PhaseRollback
	a := Approval{Step: "rollback", Summary: fmt.Sprintf("roll back migration %s: %s returns to its original state, everything the migration created is deleted", r.st.ID, r.st.Source)}
	if !r.st.CutoverDoneAt.IsZero() || r.stepStatus(StepRenameSource) != StepPending {
		a.Downtime = true
		a.Instructions = append(a.Instructions, fmt.Sprintf("Stop writes to %s first: it is renamed back to the unencrypted source.", r.st.Source))
	}
	if final := r.rollbackSnapshotName(); final != "" {
		what := "instance"
		if r.st.Kind == KindCluster {
			what = "cluster"
		}
		a.Details = append(a.Details, fmt.Sprintf("The encrypted %s is deleted with final snapshot %s: writes made to it since cutover are kept there (tagged %s=%s), not copied back to the source.",
			what, final, model.TagMigrationID, r.st.ID))
	}
	if sg := r.st.SourceGroup; sg != nil && sg.Modified && sg.Original == "" {
		a.Details = append(a.Details, fmt.Sprintf("%s may carry %s, this migration's copy of its DB parameter group, and the journal (rebuilt from tags) does not say which group it copied: the rollback stops there with the commands to put it back.",
			r.st.Source, r.groupCopy()))
	} else if sg != nil && sg.Modified {
		a.Details = append(a.Details, fmt.Sprintf("%s gets its DB parameter group %s back in place of %s and reboots (about %s of downtime); the copy is deleted.",
			r.st.Source, sg.Original, r.groupCopy(), sourceRebootEstimate))
	}
	if r.st.Status != StatusRollingBack {
		d, err := r.approve(ctx, a)
		if err != nil {
			return ReportOf(r.st), err
		}
		if d != Approve && d != Rollback {
			return ReportOf(r.st), &Error{Resource: r.st.ID, Problem: "rollback not approved", Err: ErrStopped,
				Next: "rdsencrypt rollback " + r.st.ID + " or rdsencrypt resume " + r.st.ID}
		}
	}
	r.setStatus(StatusRollingBack)
	if err := r.save(); err != nil {
		return ReportOf(r.st), err
	}
	if err := r.route.undo(ctx, r); err != nil {
		r.st.LastError = redact.String(err.Error())
		_ = r.save()
		rep := ReportOf(r.st)
		r.notify(Event{Type: EventFinished, Report: rep, Err: err})
		if ctx.Err() != nil { // interrupted (Ctrl-C, SIGTERM): stopped, not failed
			return rep, &Error{Resource: r.st.Source, Problem: fmt.Sprintf("rollback of migration %s interrupted", r.st.ID),
				Err: fmt.Errorf("%w: %w", ErrStopped, err), Next: "rdsencrypt rollback " + r.st.ID + " (it continues where it stopped)"}
		}
		return rep, &Error{Resource: r.st.Source, Problem: fmt.Sprintf("rollback of migration %s stopped", r.st.ID), Err: err,
			Next: "fix the cause, then rdsencrypt rollback " + r.st.ID + " (it continues where it stopped)"}
	}
	r.setStatus(StatusRolledBack)
	r.st.LastError = ""
	err := r.save()
	rep := ReportOf(r.st)
	rep.Next = ""
	r.notify(Event{Type: EventFinished, Report: rep})
	return rep, err
}

func (r *run) stepStatus(name string) string {
	for _, s := range r.st.Steps {
		if s.Name == name {
			return s.Status
		}
	}
	return ""
}

// undoInstance observes AWS and reverses each effect still present, most urgent first: the source's
// name and endpoint, then the deletions.
func undoInstance(ctx context.Context, r *run) error {
	if _, err := r.sourceAsJournaled(ctx); err != nil { // before touching anything
		return err
	}
	if err := undoReplicas(ctx, r); err != nil {
		return err
	}
	target, err := r.findTarget(ctx)
	if err != nil {
		return err
	}
	if target != nil {
		if target, err = r.settle(ctx, target); err != nil {
			return err
		}
	}
	src, err := r.source(ctx)
	if err != nil {
		return errorf(r.st.Source, "rdsencrypt status "+r.st.ID, err, "cannot find the source (resource %s)", r.st.SourceRID)
	}
	if src, err = r.settle(ctx, src); err != nil {
		return err
	}
	if !r.isSourceName(src.ID) {
		return r.swapRefused(src.ID, fmt.Sprintf("the journal's source (resource %s) is named %s", r.st.SourceRID, src.ID),
			[]string{fmt.Sprintf("neither %s nor its retired name %s", r.st.Source, r.names.Retired)})
	}
	if target != nil && target.ID == r.st.Source {
		if p := r.tagProblems(target.Tags); len(p) > 0 {
			return r.swapRefused(target.ID, target.ID+" is not the new instance of migration "+r.st.ID, p)
		}
		if err := r.drainReverse(ctx, target, src); err != nil { // replication_reverse.go
			return err
		}
		r.log("renaming %s back to %s", target.ID, r.names.Target)
		if err := r.renameAndWait(ctx, target, r.names.Target, ""); err != nil {
			return err
		}
	}
	if src.ID != r.st.Source {
		r.log("renaming %s back to %s", src.ID, r.st.Source)
		if err := r.renameAndWait(ctx, src, r.st.Source, r.st.SourceAddr); err != nil {
			return err
		}
	}
	if err := r.undoEnforcedFreeze(ctx); err != nil { // enforce.go
		return err
	}
	if err := undoReplication(ctx, r); err != nil {
		return err
	}
	if err := r.undoSourceGroup(ctx); err != nil { // replication_source_group.go: after the slots are gone
		return err
	}
	if err := r.undoPositionReplica(ctx); err != nil { // replication_position.go
		return err
	}
	final := r.rollbackSnapshot()
	if target != nil {
		if err := r.deleteOwnedInstanceIn(ctx, r.api, target.ResourceID, final); err != nil {
			return err
		}
	}
	if err := r.deleteGroupCopy(ctx); err != nil { // replication_group_copy.go: once no instance uses it
		return err
	}
	if final != "" {
		// Tagged even when a resumed rollback finds the new instance already gone.
		if _, err := r.api.DescribeSnapshot(ctx, final); err == nil {
			if err := r.tagSnapshot(ctx, final, RoleRollbackSnapshot); err != nil {
				return err
			}
			r.log("the encrypted instance's data as of the rollback is kept in snapshot %s", final)
		} else if !model.IsNotFound(err) {
			return err
		}
	}
	for _, id := range []string{r.names.EncryptedSnapshot, r.names.Snapshot, r.names.PreEncryptedSnapshot, r.names.PreSnapshot} {
		if err := r.deleteOwnedSnapshot(ctx, id); err != nil {
			return err
		}
	}
	if !r.st.FreezeAt.IsZero() && r.stepStatus(StepUnfreeze) != StepDone {
		if err := applyUnfreeze(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// settledSource is the source once no change is under way on it (settle).
func (r *run) settledSource(ctx context.Context) (*model.Instance, error) {
	src, err := r.source(ctx)
	if err != nil {
		return nil, err
	}
	return r.settle(ctx, src)
}

// settle waits until an instance is done with what it is doing (a rename, a modify, a
// creation), unless it failed or is being deleted, and returns it as it then is.
func (r *run) settle(ctx context.Context, inst *model.Instance) (*model.Instance, error) {
	return r.settleIn(ctx, r.api, inst)
}

func (r *run) settleIn(ctx context.Context, api model.RDS, inst *model.Instance) (*model.Instance, error) {
	if settled(inst) || model.IsInstanceFailed(inst.Status) || inst.Status == model.StatusDeleting {
		return inst, nil
	}
	return r.waitInstanceIn(ctx, api, inst.ResourceID, settled)
}

// findTarget returns the new instance wherever it is named, or nil when it does not exist.
func (r *run) findTarget(ctx context.Context) (*model.Instance, error) {
	inst, err := r.target(ctx)
	if model.IsNotFound(err) {
		return nil, nil
	}
	return inst, err
}

// renameAndWait renames a settled instance and waits until it is available under the new
// name (and at addr, when given).
func (r *run) renameAndWait(ctx context.Context, inst *model.Instance, newID, addr string) error {
	return r.renameAndWaitIn(ctx, r.api, inst, newID, addr)
}

func (r *run) renameAndWaitIn(ctx context.Context, api model.RDS, inst *model.Instance, newID, addr string) error {
	if inst.ID != newID {
		if err := r.renameInstance(ctx, api, inst.ResourceID, inst.ID, newID); err != nil {
			return err
		}
	}
	_, err := r.waitInstanceIn(ctx, api, inst.ResourceID, func(i *model.Instance) bool {
		return i.ID == newID && settled(i) && (addr == "" || strings.EqualFold(i.Endpoint, addr))
	})
	return err
}

// rollbackSnapshot names the final snapshot taken of the new instance when a rollback deletes
// it after cutover began: applications may have written to it since, and those writes must
// stay recoverable. Before cutover its data is the source's, which is intact: no snapshot.
func (r *run) rollbackSnapshot() string {
	name := r.rollbackSnapshotName()
	if name == "" {
		return ""
	}
	typ := TypeDBSnapshot
	if r.st.Kind == KindCluster {
		typ = TypeDBClusterSnapshot
	}
	if r.resourceByName(name) == nil {
		r.st.Resources = append(r.st.Resources, Resource{Role: RoleRollbackSnapshot, Type: typ, Region: r.st.Region, Name: name})
	}
	return name
}

// rollbackSnapshotName is the name of the final snapshot a rollback takes of the new instance
// or cluster, or "" when the cutover has not begun.
func (r *run) rollbackSnapshotName() string {
	if r.st.CutoverDoneAt.IsZero() && r.stepStatus(StepRenameTarget) == StepPending {
		return ""
	}
	if r.st.Kind == KindCluster {
		return r.clusterNames().RollbackSnapshot
	}
	return r.names.RollbackSnapshot
}

// journalCreated reports whether the journal records resourceID as created by the migration.
func (r *run) journalCreated(resourceID string) bool {
	for _, role := range []string{RoleTarget, RolePositionReplica} {
		if res := r.resource(role); res != nil && res.ResourceID == resourceID {
			return true
		}
	}
	for _, rs := range r.st.Replicas {
		if rs.TargetRID == resourceID {
			return true
		}
	}
	return false
}

// deleteOwnedInstanceIn deletes an instance this migration created, with a final snapshot
// when finalSnapshot is set. It refuses anything the tags and the journal do not both say the
// migration created.
func (r *run) deleteOwnedInstanceIn(ctx context.Context, api model.RDS, resourceID, finalSnapshot string) error {
	inst, err := api.DescribeInstanceByResourceID(ctx, resourceID)
	if model.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !r.ownedBy(inst.Tags) || !r.journalCreated(resourceID) {
		return errorf(inst.ID, "delete it by hand if it is not needed", nil,
			"refusing to delete DB instance %s: it was not created by migration %s", inst.ID, r.st.ID)
	}
	if inst.Status != model.StatusDeleting {
		if !model.IsInstanceFailed(inst.Status) {
			if inst, err = r.waitInstanceIn(ctx, api, resourceID, settled); err != nil {
				return err
			}
		}
		if err := r.turnOffInstanceDeletionProtection(ctx, api, inst, resourceID, inst.ID+" (created by this migration)"); err != nil {
			return err
		}
		if finalSnapshot != "" {
			if err := r.save(); err != nil { // the snapshot's name, before it exists
				return err
			}
			r.log("deleting %s with final snapshot %s: writes made to it since cutover stay recoverable", inst.ID, finalSnapshot)
		} else {
			r.log("deleting %s", inst.ID)
		}
		if err := r.deleteInstance(ctx, api, resourceID, inst.ID, finalSnapshot); err != nil {
			return err
		}
	}
	return r.waitInstanceGoneIn(ctx, api, resourceID)
}

// turnOffInstanceDeletionProtection turns off the deletion protection of the settled instance
// inst (resource id rid, named what in the log) and waits until it is off; unprotected, it
// does nothing.
func (r *run) turnOffInstanceDeletionProtection(ctx context.Context, api model.RDS, inst *model.Instance, rid, what string) error {
	if !inst.Settings.DeletionProtection {
		return nil
	}
	r.log("turning off deletion protection on %s", what)
	if err := r.modifyInstance(ctx, api, inst.ID, model.InstanceSettings{}, []model.Setting{"DeletionProtection"}); err != nil {
		return err
	}
	_, err := r.waitInstanceIn(ctx, api, rid, func(i *model.Instance) bool {
		return settled(i) && !i.Settings.DeletionProtection
	})
	return err
}

// deleteOwnedSnapshot deletes a DB snapshot this migration created.
func (r *run) deleteOwnedSnapshot(ctx context.Context, id string) error {
	return r.deleteOwnedSnapshotOf(ctx, r.dbSnapshots(), id)
}

// snapshotKind reaches DB snapshots or DB cluster snapshots, which the engine deletes and
// waits for the same way.
type snapshotKind struct {
	what     string // in messages: "DB snapshot", "DB cluster snapshot"
	noun     string // in the log: "snapshot", "cluster snapshot"
	describe func(context.Context, string) (*model.Snapshot, error)
	del      func(context.Context, string) error
	waitGone func(context.Context, string) error
}

func (r *run) dbSnapshots() snapshotKind {
	return snapshotKind{what: "DB snapshot", noun: "snapshot", describe: r.api.DescribeSnapshot,
		del: r.deleteSnapshot, waitGone: r.waitSnapshotGone}
}

func (r *run) clusterSnapshots() snapshotKind {
	return snapshotKind{what: "DB cluster snapshot", noun: "cluster snapshot", describe: r.api.DescribeClusterSnapshot,
		del: r.deleteClusterSnapshot, waitGone: r.waitClusterSnapshotGone}
}

// deleteOwnedSnapshotOf deletes a snapshot this migration created, once it is no longer
// busy, and waits until it is gone. It refuses a snapshot that the tags and the journal do
// not both say the migration created.
func (r *run) deleteOwnedSnapshotOf(ctx context.Context, kind snapshotKind, id string) error {
	snap, err := kind.describe(ctx, id)
	if model.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !r.ownedBy(snap.Tags) || r.resourceByName(id) == nil {
		return errorf(id, "delete it by hand if it is not needed", nil,
			"refusing to delete %s %s: it was not created by migration %s", kind.what, id, r.st.ID)
	}
	if snap.Status != model.SnapshotDeleting {
		if snap.Status != model.SnapshotAvailable && !model.IsSnapshotFailed(snap.Status) {
			_, err := awsclient.Poll(ctx, r.e.Poll,
				func(ctx context.Context) (*model.Snapshot, error) { return kind.describe(ctx, id) },
				func(s *model.Snapshot) (bool, error) {
					return s.Status == model.SnapshotAvailable || model.IsSnapshotFailed(s.Status), nil
				}, nil)
			if err != nil {
				return err
			}
		}
		r.log("deleting %s %s", kind.noun, id)
		if err := kind.del(ctx, id); err != nil {
			return err
		}
	}
	return kind.waitGone(ctx, id)
}
