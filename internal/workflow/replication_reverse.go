package workflow

import (
	"context"
	"errors"
	"fmt"

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
// advancing keeps WAL without bound (RDS's max_slot_wal_keep_size is -1 by default).
// docs/replication.md#the-reverse-stream-postgresql.
func reverseWALWarning(id, source, retired string) string {
	return fmt.Sprintf("replication (PostgreSQL): after the cutover the new %s keeps WAL for the retired source %s (logical slot %s* per database) until rdsencrypt cleanup %s; "+
		"DDL on the new instance, stopping, rebooting or deleting %s, or an apply conflict stops that slot and the WAL it holds grows until storage runs out (writes then fail). "+
		"Run `rdsencrypt cleanup %s` (or rollback) before DDL on the new instance or stopping the retired one; rdsencrypt scan shows the WAL each slot keeps",
		source, retired, replication.NamesFor(id).Reverse().Slot, id, retired, id)
}

// keepsReverseWAL says whether a migration's new instance may hold reverse slots now: a
// PostgreSQL replication run that prepared the reverse stream and has not removed it.
func keepsReverseWAL(st *State) bool {
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
	if err := rev.AttachReverse(ctx, r.replEndpoint(newInst, db.login), oldEP, replication.NamesFor(r.st.ID), st.ReverseStart); err != nil {
		return r.dbError(err, next, "cannot start the reverse stream from %s to %s", r.st.Source, old.ID)
	}
	st.ReverseAttached = true
	r.log("the retired source %s replicates from %s: a rollback loses no write made after the cutover", old.ID, r.st.Source)
	return r.save()
}

// drainReverse, in a rollback after cutover, freezes the new instance (MySQL, MariaDB:
// read_only in its copy of the group, the retired source's has kept it since the freeze;
// PostgreSQL: the SQL freeze), waits until the retired source has applied every write made
// on it, verifies both as the forward cutover does, sets the retired source's sequences from
// the new instance's, and stops the reverse stream. A reverse stream prepared but never
// attached (the run stopped between the two) is attached first: its start still holds every
// write since.
func (r *run) drainReverse(ctx context.Context, newInst, old *model.Instance) error {
	st := r.st.Replication
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
	if usesGroupFreeze(r.st) {
		if err := r.freezeGroup(ctx); err != nil {
			return err
		}
	}
	newEP := r.replEndpoint(newInst, db.login)
	f, err := db.eng.Freeze(ctx, newEP, n)
	if errors.Is(err, replication.ErrDatabasesChanged) {
		// A database made on the new instance after the cutover has no reverse stream: its
		// writes would not reach the retired source, and this check fails again until it is
		// gone from the new instance (review S14).
		return r.dbError(err, fmt.Sprintf("if you need its data, copy it to %s (pg_dump from %s, pg_restore into %s), then drop it on %s and run rdsencrypt rollback %s again; or keep the new instance: rdsencrypt cleanup %s",
			old.ID, newInst.ID, old.ID, newInst.ID, r.st.ID, r.st.ID),
			"cannot roll back %s: the databases of %s changed after the cutover, and a database created there has no reverse stream into %s", r.st.ID, newInst.ID, old.ID)
	}
	if err != nil {
		return r.dbError(err, next, "cannot freeze writes on %s before rolling back", newInst.ID)
	}
	if _, err := db.eng.Drain(ctx, newEP, oldEP, n, f.Position); errors.Is(err, replication.ErrNotReplicating) {
		// Detached by an earlier run of this rollback, which drains before it detaches.
		r.log("the reverse stream into %s was already drained and stopped", old.ID)
	} else if err != nil {
		return r.dbError(err, next, "cannot drain the reverse stream into %s", old.ID)
	}
	v, err := db.eng.Verify(ctx, newEP, oldEP)
	if err != nil {
		return r.dbError(err, next, "cannot verify %s against %s before rolling back", old.ID, newInst.ID)
	}
	if d := v.Differences(); len(d) > 0 {
		return r.dbError(nil, next+" (after finding why)", "%d of %d tables differ on %s after the reverse drain, stopping before renaming back: %s",
			len(d), len(v.Tables), old.ID, tableList(d))
	}
	seqs, err := db.eng.SyncSequences(ctx, newEP, oldEP)
	if err != nil {
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
	st.ReverseDrained = true
	r.log("every write made on %s up to %s is on %s (%d tables, %d rows verified, %d sequence(s) set); the reverse stream is stopped",
		newInst.ID, f.Position, old.ID, len(v.Tables), v.Rows(), seqs)
	return r.save()
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
	return nil
}
