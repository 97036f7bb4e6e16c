package workflow

import (
	"context"
	"fmt"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/redact"
)

// Cleanup, after a completed migration and an explicit approval, deletes the retired source
// with a final snapshot and the intermediate unencrypted snapshot. The encrypted copy is kept
// as a restore point from before cutover. Cleanup can be run again after an interruption.
func (e *Engine) Cleanup(ctx context.Context, id string) (*Report, error) {
	st, release, err := e.lockAndLoad(id)
	if err != nil {
		return nil, err
	}
	defer func() { _ = release() }()
	if st.Status == StatusCleanedUp {
		return ReportOf(st), nil
	}
	if st.Status != StatusCompleted && st.Status != StatusCleaningUp {
		return ReportOf(st), errorf(st.ID, fmt.Sprintf("finish it with rdsencrypt resume %s, or undo it with rdsencrypt rollback %s", st.ID, st.ID), nil,
			"migration %s is %s: cleanup runs only after a completed migration", st.ID, st.Status)
	}
	r, err := e.newRun(st)
	if err != nil {
		return nil, err
	}
	ctx = withCallLedger(ctx) // its calls count in the report's api_calls (call_ledger.go)
	attachLedger(ctx, r)
	r.announceJournal(PhaseCleanup, r.route.cleanupSummary(r).Summary)
	return r.cleanup(ctx)
}

// StatusCleaningUp marks a cleanup in progress.
const StatusCleaningUp = "cleaning-up"

func (r *run) cleanup(ctx context.Context) (*Report, error) {
	ctx = r.withCalls(ctx)
	r.step, r.phase = -1, PhaseCleanup
	if r.st.Status != StatusCleaningUp {
		a := r.route.cleanupSummary(r)
		a.Step = "cleanup"
		a.Details = append(a.Details, "After cleanup, rollback is no longer possible.")
		d, err := r.approve(ctx, a)
		if err != nil {
			return ReportOf(r.st), err
		}
		if d != Approve {
			return ReportOf(r.st), &Error{Resource: r.st.ID, Problem: "cleanup not approved", Err: ErrStopped, Next: "rdsencrypt cleanup " + r.st.ID}
		}
	}
	r.setStatus(StatusCleaningUp)
	if err := r.save(); err != nil {
		return ReportOf(r.st), err
	}
	if err := r.route.cleanup(ctx, r); err != nil {
		r.st.LastError = redact.String(err.Error())
		_ = r.save()
		if ctx.Err() != nil { // interrupted (Ctrl-C, SIGTERM): stopped, not failed
			err = fmt.Errorf("%w: %w", ErrStopped, err)
		}
		return ReportOf(r.st), &Error{Resource: r.st.Source, Problem: "cleanup of migration " + r.st.ID + " stopped", Err: err,
			Next: "fix the cause, then rdsencrypt cleanup " + r.st.ID + " (it continues where it stopped)"}
	}
	r.setStatus(StatusCleanedUp)
	r.st.LastError = ""
	err := r.save()
	rep := ReportOf(r.st)
	r.notify(Event{Type: EventFinished, Report: rep})
	return rep, err
}

func instanceCleanupSummary(r *run) Approval {
	return Approval{
		Summary: fmt.Sprintf("delete the retired source %s (final snapshot %s)%s and the unencrypted snapshot %s", r.names.Retired, r.names.FinalSnapshot, retiredReplicaList(r), r.names.Snapshot),
		Details: append(append(append(freezeGroupCleanupNote(r), groupCopyCleanupNote(r)...), "The encrypted instance "+r.st.Source+" is not touched.",
			"The encrypted snapshot "+r.names.EncryptedSnapshot+" is kept as a restore point.",
			retainedBackupsNote(r.names.Retired, "instance")), masterSecretCleanupNote(r)...)}
}

// freezeGroupCleanupNote names the freeze group cleanup deletes after the retired source.
func freezeGroupCleanupNote(r *run) []string {
	if r.st.Freeze == nil || r.st.Freeze.GroupID == "" {
		return nil
	}
	return []string{fmt.Sprintf("Then the freeze security group %s (%s), which the retired source kept.", r.names.FreezeGroup, r.st.Freeze.GroupID)}
}

// groupCopyCleanupNote says what cleanup does with the parameter groups of a replication
// run: the copy stays (with PostgreSQL's bound on the reverse slots' WAL reset); a
// MySQL/MariaDB source's group gets read_only back.
func groupCopyCleanupNote(r *run) []string {
	c, rp := r.groupCopy(), r.st.Replication
	var notes []string
	switch sg := r.st.SourceGroup; {
	case c == "":
		return nil
	case sg != nil:
		notes = append(notes, fmt.Sprintf("The DB parameter group %s (%s with %s=1) stays: the encrypted instance was restored with it.",
			c, sg.Original, logicalReplication))
	case rp != nil && rp.ReadOnlyGroup != "":
		notes = append(notes, fmt.Sprintf("The DB parameter group %s stays: it is the encrypted instance's own copy of %s. Once the retired source is deleted, %s gets read_only back as it was before the freeze.",
			c, rp.ReadOnlyGroup, rp.ReadOnlyGroup))
	default:
		notes = append(notes, fmt.Sprintf("The DB parameter group %s stays: it is the encrypted instance's own copy of the source's group.", c))
	}
	if rp != nil && rp.ReverseWALBoundMB > 0 {
		back := "the engine default (-1: unbounded)"
		if v := rp.ReverseWALBoundBefore; rp.walBoundWasOperators() {
			if v == "-1" {
				v = "-1 (unbounded)"
			} else {
				v += " MB"
			}
			back = v + ", the value the group had before the cutover"
		}
		notes = append(notes, fmt.Sprintf("In %s, %s (%d MB, the bound on every replication slot's WAL since the cutover) goes back to %s once the reverse slots are dropped.",
			c, maxSlotWALKeepSize, rp.ReverseWALBoundMB, back))
	}
	return notes
}

// cleanupInstance deletes the old replicas, the retired source with a final snapshot, then the
// unencrypted snapshot.
func cleanupInstance(ctx context.Context, r *run) error {
	if err := deleteRetiredReplicas(ctx, r); err != nil {
		return err
	}
	if err := r.cleanupReverse(ctx); err != nil { // replication_reverse.go
		return err
	}
	if err := r.deleteRetiredSource(ctx); err != nil {
		return err
	}
	if err := r.deleteFreezeGroup(ctx, "rdsencrypt cleanup "+r.st.ID); err != nil { // enforce.go: the retired source kept it
		return err
	}
	if r.groupCopy() != "" && usesGroupFreeze(r.st) {
		// The retired source kept read_only in its group; with it deleted, the group gets its
		// value back (replication_mysql.go).
		if err := r.thawGroup(ctx, r.st.Replication.ReadOnlyGroup); err != nil {
			return err
		}
	}
	for _, id := range []string{r.names.Snapshot, r.names.PreEncryptedSnapshot, r.names.PreSnapshot} {
		if err := r.deleteOwnedSnapshot(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// deleteRetiredSource deletes the source, which must be at its retired name, with a final
// snapshot. It is the only deletion of a resource the tool did not create.
func (r *run) deleteRetiredSource(ctx context.Context) error {
	if r.resourceByName(r.names.FinalSnapshot) == nil {
		r.st.Resources = append(r.st.Resources, Resource{Role: RoleFinalSnapshot, Type: TypeDBSnapshot, Region: r.st.Region, Name: r.names.FinalSnapshot})
		if err := r.save(); err != nil {
			return err
		}
	}
	src, err := r.source(ctx)
	if model.IsNotFound(err) {
		return r.tagFinalSnapshot(ctx)
	}
	if err != nil {
		return err
	}
	if src.ID != r.names.Retired {
		return errorf(src.ID, "rdsencrypt status "+r.st.ID, nil,
			"refusing to delete the source: it is named %s, not its retired name %s", src.ID, r.names.Retired)
	}
	if err := r.deleteRetired(ctx, r.api, src, r.names.FinalSnapshot); err != nil {
		return err
	}
	return r.tagFinalSnapshot(ctx)
}

func (r *run) tagFinalSnapshot(ctx context.Context) error {
	return r.tagSnapshot(ctx, r.names.FinalSnapshot, RoleFinalSnapshot)
}

// tagSnapshot tags a snapshot AWS took on deletion as the migration's, once it is available.
func (r *run) tagSnapshot(ctx context.Context, name, role string) error {
	snap, err := r.waitSnapshotAvailable(ctx, name)
	if err != nil {
		return err
	}
	if !r.journalCreated(snap.SourceResource) && snap.SourceResource != r.st.SourceRID {
		return errorf(name, "inspect it; rdsencrypt status "+r.st.ID, nil,
			"snapshot %s was not taken of an instance of migration %s: not tagging it", name, r.st.ID)
	}
	return r.api.AddTags(ctx, snap.ARN, r.ourTags(role))
}

// deleteRetired deletes a retired instance (the source or an old replica), turning off its
// deletion protection first; finalSnapshot "" only for read replicas, which AWS cannot
// snapshot on deletion.
func (r *run) deleteRetired(ctx context.Context, api model.RDS, inst *model.Instance, finalSnapshot string) error {
	rid := inst.ResourceID
	if finalSnapshot != "" {
		// The name must be free (or already the final snapshot of this very instance) before
		// the instance loses its deletion protection.
		snap, err := api.DescribeSnapshot(ctx, finalSnapshot)
		switch {
		case err == nil && snap.SourceResource != rid:
			return errorf(finalSnapshot, "rename or delete that snapshot, then rdsencrypt cleanup "+r.st.ID, nil,
				"the final snapshot name %s is taken by a snapshot of another instance", finalSnapshot)
		case err != nil && !model.IsNotFound(err):
			return err
		}
	}
	if inst.Status != model.StatusDeleting {
		inst, err := r.waitInstanceIn(ctx, api, rid, settled)
		if err != nil {
			return err
		}
		if err := r.turnOffInstanceDeletionProtection(ctx, api, inst, rid, "the retired "+inst.ID); err != nil {
			return err
		}
		if finalSnapshot != "" {
			r.log("deleting the retired %s with final snapshot %s", inst.ID, finalSnapshot)
		} else {
			r.log("deleting the retired read replica %s", inst.ID)
		}
		if err := r.deleteInstance(ctx, api, rid, inst.ID, finalSnapshot); err != nil {
			return err
		}
	}
	return r.waitInstanceGoneIn(ctx, api, rid)
}

func retiredReplicaList(r *run) string {
	if len(r.st.Replicas) == 0 {
		return ""
	}
	out := ", its old read replicas ("
	for i, rs := range r.st.Replicas {
		if i > 0 {
			out += ", "
		}
		out += rs.Region + "/" + NamesFor(r.st.ID, rs.ID).Retired
	}
	return out + ")"
}

// retainedBackupsNote tells the cleanup approval that the retired resource's automated backups
// outlive it: it is deleted with DeleteAutomatedBackups=false, so its point-in-time window
// stays until the retention period ends (AWS removes them at once by default).
func retainedBackupsNote(retired, kind string) string {
	return fmt.Sprintf("The automated backups of %s are retained (DeleteAutomatedBackups=false): its point-in-time restore window stays until their retention period ends; "+
		"delete them sooner with aws rds delete-db-%s-automated-backup.", retired, kind)
}
