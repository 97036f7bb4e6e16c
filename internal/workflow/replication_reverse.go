package workflow

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/replication"
)

// The reverse stream (an engine that implements replication.Reverser: PostgreSQL, MySQL and
// MariaDB; docs/replication.md#the-reverse-stream-postgresql). At
// the detach, inside the freeze, the new instance's position is journaled; once writes resume
// on it, the retired source replicates from it, so that a rollback after cutover loses no write
// made on the new instance: it freezes the new instance, drains the reverse stream into the
// retired source, detaches it, and only then renames back. Cleanup stops it.

// reverseWALWarning is the line the plan, the cutover approval and the completion report
// carry for a PostgreSQL replication run: after the cutover the new (production) instance keeps
// a logical slot per database for the retired source until cleanup, and a slot that stops
// advancing keeps WAL: up to boundMB (max_slot_wal_keep_size in the new instance's own group
// copy, set at the cutover), or, with no bound (0: a journal from before it), until storage
// runs out (RDS's max_slot_wal_keep_size is -1 by default). The bound is server-wide: it also
// bounds every other slot on the new instance, those of crossRegion (the cross-Region read
// replicas the plan knows of) included (review T12).
// docs/replication.md#the-reverse-stream-postgresql.
func reverseWALWarning(id, source, retired, groupCopy string, boundMB int64, crossRegion []string) string {
	n := replication.NamesFor(id)
	line := fmt.Sprintf("replication (PostgreSQL): after the cutover the new %s keeps WAL for the retired source %s (logical slot %s_*%s per database) until rdsencrypt cleanup %s; "+
		"DDL on the new instance, stopping, rebooting or deleting %s, or an apply conflict stops that slot and the WAL it holds grows ",
		source, retired, n.Slot, strings.TrimPrefix(n.Reverse().Slot, n.Slot), id, retired)
	if boundMB > 0 {
		line += fmt.Sprintf("up to max_slot_wal_keep_size=%d MB (%s, or the copied group's own value when smaller; set in %s's own DB parameter group %s at the cutover); past it PostgreSQL invalidates the slot instead of filling the storage, "+
			"and a rollback is then refused: the writes made since exist only on %s. ", boundMB, reverseWALBoundRule, source, groupCopy, source)
		line += fmt.Sprintf("The bound applies to every replication slot on %s until cleanup, including cross-Region read replicas' and other tools' slots (CDC): one that falls further behind is invalidated too (a cross-Region replica must then be recreated, a CDC pipeline re-snapshots)", source)
		if len(crossRegion) > 0 {
			line += fmt.Sprintf("; here the slot of the cross-Region read replica(s) %s", strings.Join(crossRegion, ", "))
		}
		line += ". "
	} else {
		line += "until storage runs out (writes then fail). "
	}
	return line + fmt.Sprintf("Run `rdsencrypt cleanup %s` (or rollback) before DDL on the new instance or stopping the retired one; rdsencrypt status %s and rdsencrypt scan show the WAL each slot keeps", id, id)
}

// reverseWALBoundRule says how reverseWALBoundMB is chosen.
const reverseWALBoundRule = "a tenth of the allocated storage, at least 1024 MB"

// reverseWALBoundMB is the max_slot_wal_keep_size (MB) set for the new instance's reverse
// slots: a tenth of its allocated storage, at least 1 GiB. Enough for the retired source to be
// rebooted or briefly unreachable without losing its stream under a normal write rate, small
// enough that a stream stopped for good leaves nine tenths of the storage to the data. It
// follows the allocated storage, not the free storage (CloudWatch's FreeStorageSpace, not read:
// docs/replication.md#the-reverse-stream-postgresql): an instance fuller than nine tenths is
// not protected by it. The PostgreSQL engine refuses versions before 13, which lack
// max_slot_wal_keep_size, so the bound is only ever written where the parameter exists.
func reverseWALBoundMB(allocatedGiB int32) int64 {
	return max(1024, int64(allocatedGiB)*1024/10)
}

// maxSlotWALKeepSize bounds the WAL a PostgreSQL replication slot keeps (PostgreSQL 13+;
// MB; -1, the default, keeps all); past it the slot is invalidated at a checkpoint
// (pg_replication_slots.wal_status "lost"). docs/replication.md#the-reverse-stream-postgresql.
const maxSlotWALKeepSize = "max_slot_wal_keep_size"

// reverseWALBound is the bound a run sets for its reverse slots: PostgreSQL with a copy of the
// group for the new instance; 0 without one (a journal from before the copy).
func (r *run) reverseWALBound() int64 {
	rp := r.st.Replication
	if rp == nil || rp.Engine != "postgres" || r.groupCopy() == "" || r.src == nil {
		return 0
	}
	if rp.ReverseWALBoundMB > 0 {
		return rp.ReverseWALBoundMB
	}
	return reverseWALBoundMB(r.src.Settings.AllocatedStorage)
}

// boundReverseWAL sets max_slot_wal_keep_size in the new instance's copy of the group at the
// cutover (dynamic: applied at once), after the forward stream's slots are gone from the
// source: the copy also sits on the source when the source change made it, and a bound there
// before the cutover could invalidate the forward stream during a long restore. The copy's
// tags are checked first: only a group both journal and tags say is ours is changed. The
// copy's value before is read and journaled first (ReverseWALBoundBefore); a bound the
// operator set there that is smaller than the tool's stays (review T14).
func (r *run) boundReverseWAL(ctx context.Context, next string) error {
	bound, rp := r.reverseWALBound(), r.st.Replication
	if bound == 0 || rp.ReverseWALBoundMB > 0 {
		return nil
	}
	c := r.groupCopy()
	if err := r.recheckGroupCopy(ctx, c); err != nil {
		return err
	}
	if rp.ReverseWALBoundBefore == "" {
		before, err := r.api.Parameter(ctx, c, maxSlotWALKeepSize)
		if err != nil {
			return errorf(c, next, err, "cannot read %s in the DB parameter group %s", maxSlotWALKeepSize, c)
		}
		if before.Value == "" {
			before.Value = "-1" // the group sets none: the engine default
		}
		rp.ReverseWALBoundBefore, rp.ReverseWALBoundBeforeSource = before.Value, before.Source
		if err := r.save(); err != nil {
			return err
		}
	}
	if theirs, ok := operatorWALBound(rp.ReverseWALBoundBefore); ok && rp.walBoundWasOperators() && theirs <= bound {
		rp.ReverseWALBoundMB = theirs
		r.log("%s stays %d MB in the DB parameter group %s, the value the source's group set (the tool's bound would be %d MB): every replication slot of %s that falls further behind, the reverse ones included, is invalidated instead of filling its storage",
			maxSlotWALKeepSize, theirs, c, bound, r.st.Source)
		return r.save()
	}
	value := strconv.FormatInt(bound, 10)
	if err := r.api.SetParameters(ctx, c, map[string]string{maxSlotWALKeepSize: value}); err != nil {
		return errorf(c, next, err, "cannot set %s=%s in the DB parameter group %s", maxSlotWALKeepSize, value, c)
	}
	rp.ReverseWALBoundMB = bound
	r.log("%s=%s MB in the DB parameter group %s (was %s, put back at cleanup): every replication slot of %s that falls further behind, the reverse ones and other tools' and cross-Region replicas' included, is invalidated instead of filling its storage",
		maxSlotWALKeepSize, value, c, rp.ReverseWALBoundBefore, r.st.Source)
	return r.save()
}

// operatorWALBound is the bound (MB) a journaled max_slot_wal_keep_size value sets that the
// tool keeps when smaller than its own: false for -1 (unbounded, the engine default) and 0 (no
// WAL kept past a checkpoint: the reverse stream needs some, so the tool's bound replaces it
// until cleanup puts it back).
func operatorWALBound(value string) (int64, bool) {
	mb, err := strconv.ParseInt(value, 10, 64)
	return mb, err == nil && mb > 0
}

// ReverseSlots reads, for status, the reverse slots migration st keeps on its new instance
// now, each with its state (active, WAL kept, wal_status): one DescribeDBInstances and a
// session as the master user. None when st keeps none.
func (e *Engine) ReverseSlots(ctx context.Context, st *State) ([]Leftover, error) {
	if !KeepsReverseWAL(st) {
		return nil, nil
	}
	api, err := e.Clients(st.Region)
	if err != nil {
		return nil, err
	}
	inst, err := api.DescribeInstance(ctx, st.Source)
	if err != nil {
		return nil, err
	}
	objects, err := e.ReplicationLeftovers(ctx, inst, nil) // st is journaled here
	if err != nil {
		return nil, err
	}
	n := replication.NamesFor(st.ID)
	suffix := strings.TrimPrefix(n.Reverse().Slot, n.Slot)
	var out []Leftover
	for _, o := range objects {
		name := strings.TrimPrefix(o.Object, "slot ")
		if o.Slot != nil && strings.HasPrefix(name, n.Slot) && strings.HasSuffix(name, suffix) {
			out = append(out, o)
		}
	}
	return out, nil
}

// AddReverseSlots puts what ReverseSlots found (or why it could not look) into a status
// report: the slots, and a warning for each one that is lost, not read, or keeps much WAL.
func AddReverseSlots(rep *Report, st *State, slots []Leftover, err error) {
	if err != nil {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("the reverse slots on %s were not read: %v", st.Source, err))
		return
	}
	rep.ReverseSlots = slots
	if len(slots) == 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("no reverse slot of migration %s on %s: the reverse stream is gone, a rollback would lose the writes made there since the cutover", st.ID, st.Source))
	}
	for _, l := range slots {
		w := SlotWarning(l.Slot)
		switch {
		case w == "":
			continue
		case l.Slot.WALStatus == "lost":
			w += fmt.Sprintf("; a rollback is refused now (the writes made on %s since the cutover exist only there): keep it, rdsencrypt cleanup %s", st.Source, st.ID)
		default:
			if b := st.Replication.ReverseWALBoundMB; b > 0 {
				w += fmt.Sprintf(" (here at most %s=%d MB: past it PostgreSQL invalidates the slot and a rollback is no longer possible)", maxSlotWALKeepSize, b)
			}
			w += fmt.Sprintf("; is the retired source %s running? rdsencrypt cleanup %s (or rollback) ends it", NamesFor(st.ID, st.Source).Retired, st.ID)
		}
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("reverse %s on %s: %s", l.Object, st.Source, w))
	}
}

// KeepsReverseWAL says whether a migration's new instance may hold reverse slots now: a
// PostgreSQL replication run that prepared the reverse stream and has not removed it (status
// then reads them: ReverseSlots).
func KeepsReverseWAL(st *State) bool {
	rp := st.Replication
	if rp == nil || rp.Engine != "postgres" || rp.ReverseStart == "" || rp.ReverseDrained {
		return false
	}
	return st.Status != StatusRolledBack && st.Status != StatusCleanedUp
}

// prepareReverse journals where the reverse stream starts: the new instance's position while
// writes are frozen.
func (r *run) prepareReverse(ctx context.Context, db *dbRun, dst replication.Endpoint, n replication.Names) error {
	rev, ok := db.eng.(replication.Reverser)
	st := r.replState()
	if !ok || st.ReverseStart != "" {
		return nil
	}
	pos, err := rev.PrepareReverse(ctx, dst, n)
	if err != nil {
		return r.dbError(err, "rdsencrypt resume "+r.st.ID, "cannot read where the reverse stream from %s starts", r.names.Target)
	}
	st.ReverseStart = pos
	r.log("the reverse stream from the new instance will start at %s", pos)
	return r.save()
}

// attachReverse starts the reverse stream into the retired source once both answer at their
// new names; next is the command that retries.
func (r *run) attachReverse(ctx context.Context, next string) error {
	st := r.st.Replication
	if st == nil || st.ReverseStart == "" || st.ReverseAttached {
		return nil
	}
	newInst, err := r.api.DescribeInstance(ctx, r.st.Source)
	if err != nil {
		return err
	}
	old, err := r.source(ctx)
	if err != nil {
		return err
	}
	db, err := r.replicationOf(ctx, newInst)
	if err != nil {
		return err
	}
	rev, ok := db.eng.(replication.Reverser)
	if !ok {
		return nil
	}
	oldEP, err := r.endpointOf(ctx, old)
	if err != nil {
		return err
	}
	if err := r.boundReverseWAL(ctx, next); err != nil {
		return err
	}
	if err := rev.AttachReverse(ctx, r.replEndpoint(newInst, db.login), oldEP, replication.NamesFor(r.st.ID), st.ReverseStart); err != nil {
		return r.dbError(err, next, "cannot start the reverse stream from %s to %s", r.st.Source, old.ID)
	}
	st.ReverseAttached = true
	r.log("the retired source %s replicates from %s: a rollback loses no write made after the cutover", old.ID, r.st.Source)
	return r.save()
}

// drainReverse, in a rollback after cutover, checks that the reverse stream still holds every
// write made on the new instance (refusing, before anything changes, when it is lost),
// verifies the tables ahead while the new instance still takes writes, then freezes it
// (MySQL, MariaDB: read_only in its copy of the group, the retired source's has kept it since
// the freeze; PostgreSQL: the SQL freeze), waits until the retired source has applied every
// write made on it, verifies again the tables written since the pass ahead, sets the retired
// source's sequences from the new instance's, and stops the reverse stream. Its figures are
// journaled (ReverseDrain) for the rollback's report. A reverse stream prepared but never
// attached (the run stopped between the two) is attached first: its start still holds every
// write since.
func (r *run) drainReverse(ctx context.Context, newInst, old *model.Instance) error {
	st := r.st.Replication
	if st != nil && st.RebuiltFromTags && st.ReverseStart == "" && !st.ReverseDrained {
		if err := r.recoverReverse(ctx, newInst, old); err != nil { // replication_reverse_rebuilt.go
			return err
		}
	}
	if st == nil || st.ReverseStart == "" || st.ReverseDrained {
		return nil
	}
	next := "rdsencrypt rollback " + r.st.ID
	if !st.ReverseAttached {
		if err := r.attachReverse(ctx, next); err != nil {
			return err
		}
		if !st.ReverseAttached { // the engine has no reverse stream
			return nil
		}
	}
	db, err := r.replicationOf(ctx, newInst)
	if err != nil {
		return err
	}
	n := replication.NamesFor(r.st.ID).Reverse()
	oldEP, err := r.endpointOf(ctx, old)
	if err != nil {
		return err
	}
	newEP := r.replEndpoint(newInst, db.login)
	if _, err := db.eng.Lag(ctx, newEP, oldEP, n); errors.Is(err, replication.ErrStreamLost) {
		return r.reverseLost(err, newInst, old)
	}
	va, ahead, err := verifyAhead(ctx, db.eng, newEP, oldEP, n)
	if err != nil {
		return r.dbError(err, next, "cannot verify %s against %s ahead of the freeze", old.ID, newInst.ID)
	}
	if va.Warning != "" {
		r.log("warning: %s", va.Warning)
	}
	if usesGroupFreeze(r.st) {
		if err := r.freezeGroup(ctx); err != nil {
			return err
		}
	}
	f, err := db.eng.Freeze(ctx, newEP, n)
	if errors.Is(err, replication.ErrDatabasesChanged) {
		// A database made on the new instance after the cutover has no reverse stream: its
		// writes would not reach the retired source, and this check fails again until it is
		// gone from the new instance (review S14).
		// The retired source is frozen (default_transaction_read_only in every database): a
		// restore there needs the setting off for its own session, which a client's startup
		// options override (review T5).
		return r.dbError(err, fmt.Sprintf("if you need its data, copy it to %s (pg_dump -Fc from %s, then PGOPTIONS='-c default_transaction_read_only=off' pg_restore -C -d postgres into %s, which stays read-only otherwise), then drop it on %s and run rdsencrypt rollback %s again; or keep the new instance: rdsencrypt cleanup %s",
			old.ID, newInst.ID, old.ID, newInst.ID, r.st.ID, r.st.ID),
			"cannot roll back %s: the databases of %s changed after the cutover, and a database created there has no reverse stream into %s", r.st.ID, newInst.ID, old.ID)
	}
	if err != nil {
		return r.dbError(err, next, "cannot freeze writes on %s before rolling back", newInst.ID)
	}
	var fig DrainFigures
	began := r.e.now()
	if _, err := db.eng.Drain(ctx, newEP, oldEP, n, f.Position); errors.Is(err, replication.ErrNotReplicating) {
		// Detached by an earlier run of this rollback, which drains before it detaches.
		r.log("the reverse stream into %s was already drained and stopped", old.ID)
	} else if errors.Is(err, replication.ErrStreamLost) {
		return r.reverseLost(err, newInst, old)
	} else if err != nil {
		return r.dbError(err, next, "cannot drain the reverse stream into %s", old.ID)
	}
	fig.DrainSeconds = r.e.now().Sub(began).Seconds()
	began = r.e.now()
	v, err := verifyChanged(ctx, db.eng, newEP, oldEP, ahead)
	if err != nil {
		return r.dbError(err, next, "cannot verify %s against %s before rolling back", old.ID, newInst.ID)
	}
	if v.Warning != "" {
		r.log("warning: %s", v.Warning)
	}
	if d := v.Differences(); len(d) > 0 {
		return r.dbError(nil, next+" (after finding why)", "%d of %d tables differ on %s after the reverse drain, stopping before renaming back: %s",
			len(d), len(v.Tables), old.ID, tableList(d))
	}
	fig.verified(v, r.e.now().Sub(began))
	if v.Note != "" {
		r.log("%s", v.Note)
	}
	if fig.SequencesSynced, err = db.eng.SyncSequences(ctx, newEP, oldEP); err != nil {
		return r.dbError(err, next, "cannot set the sequences of %s", old.ID)
	}
	if fc, ok := db.eng.(replication.FreezeChecker); ok {
		if err := fc.CheckFrozen(ctx, newEP, n); err != nil {
			return r.dbError(err, next+" (then stop the writer)", "writes reached %s after its freeze, stopping before renaming back", newInst.ID)
		}
	}
	if err := db.eng.Detach(ctx, oldEP, n); err != nil {
		return r.dbError(err, next, "cannot stop the reverse stream into %s", old.ID)
	}
	st.ReverseDrained, st.ReverseDrain = true, &fig
	r.log("every write made on %s up to %s is on %s: drained in %.1f s, %s; %d sequence(s) set; the reverse stream is stopped",
		newInst.ID, f.Position, old.ID, fig.DrainSeconds, fig.verifiedText(), fig.SequencesSynced)
	return r.save()
}

// reverseLost is the rollback's refusal when the reverse stream cannot go on without a gap:
// its slot on the new instance was invalidated (max_slot_wal_keep_size reached while the
// retired source did not read it) or dropped. The writes made on the new instance since then
// never reached the retired source; renaming back would lose them, so nothing is changed.
func (r *run) reverseLost(err error, newInst, old *model.Instance) error {
	since := "the cutover"
	if !r.st.UnfreezeAt.IsZero() {
		since += " (" + r.st.UnfreezeAt.UTC().Format(time.RFC3339) + ")"
	}
	return r.dbError(err, fmt.Sprintf("keep the encrypted %s: rdsencrypt cleanup %s (to go back anyway, copy the data written since from %s into %s yourself, e.g. pg_dump/pg_restore, then rename the instances by hand)",
		newInst.ID, r.st.ID, newInst.ID, old.ID),
		"cannot roll back %s: the reverse stream from %s into %s is lost, so writes made on %s since %s exist only there and a rollback would lose them; nothing was changed",
		r.st.ID, newInst.ID, old.ID, newInst.ID, since)
}

// cleanupReverse stops the reverse stream and removes its objects from both instances
// (PostgreSQL: a reverse slot left on the new instance would keep its WAL for ever), also
// when it was prepared but never attached.
func (r *run) cleanupReverse(ctx context.Context) error {
	st := r.st.Replication
	if st == nil || st.ReverseStart == "" {
		return nil
	}
	newInst, err := r.api.DescribeInstance(ctx, r.st.Source)
	if err != nil {
		return err
	}
	db, err := r.replicationOf(ctx, newInst)
	if err != nil {
		return err
	}
	n := replication.NamesFor(r.st.ID)
	if old, err := r.source(ctx); err == nil && old.ID == r.names.Retired {
		oldEP, err := r.endpointOf(ctx, old)
		if err != nil {
			return err
		}
		if err := db.eng.Cleanup(ctx, oldEP, n); err != nil {
			return r.dbError(err, "rdsencrypt cleanup "+r.st.ID, "cannot stop the reverse stream into %s", old.ID)
		}
	} else if err != nil && !model.IsNotFound(err) {
		return err
	}
	if err := db.eng.Cleanup(ctx, r.replEndpoint(newInst, db.login), n); err != nil {
		return r.dbError(err, "rdsencrypt cleanup "+r.st.ID, "cannot remove the replication user from %s", newInst.ID)
	}
	return r.unboundReverseWAL(ctx)
}

// unboundReverseWAL, in cleanup once the reverse slots are gone, puts max_slot_wal_keep_size
// in the new instance's copy back as it was before the cutover: the operator's bound when the
// copied group set one (review T14), else the engine default: the bound was for the reverse
// stream, and a logical slot someone makes later on the instance is theirs to bound.
func (r *run) unboundReverseWAL(ctx context.Context) error {
	rp, c := r.st.Replication, r.groupCopy()
	if rp == nil || rp.ReverseWALBoundMB == 0 || c == "" {
		return nil
	}
	if err := r.recheckGroupCopy(ctx, c); err != nil {
		return err
	}
	if value := rp.ReverseWALBoundBefore; rp.walBoundWasOperators() {
		if err := r.api.SetParameters(ctx, c, map[string]string{maxSlotWALKeepSize: value}); err != nil {
			return errorf(c, "rdsencrypt cleanup "+r.st.ID, err, "cannot put %s=%s back in the DB parameter group %s", maxSlotWALKeepSize, value, c)
		}
		r.log("%s=%s MB in the DB parameter group %s again, the value it had before the cutover", maxSlotWALKeepSize, value, c)
	} else {
		if err := r.api.ResetParameters(ctx, c, []string{maxSlotWALKeepSize}); err != nil {
			return errorf(c, "rdsencrypt cleanup "+r.st.ID, err, "cannot put %s back to its default in the DB parameter group %s", maxSlotWALKeepSize, c)
		}
		r.log("%s back to its default in the DB parameter group %s: the reverse slots it bounded are gone", maxSlotWALKeepSize, c)
	}
	rp.ReverseWALBoundMB = 0
	return r.save()
}
