package workflow

import (
	"context"
	"errors"
	"slices"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/replication"
)

// recoverReverse, in the rollback of a journal rebuilt from tags after a replication
// migration's cutover, finds the reverse stream by its names, since no tag holds its position
// (review V6). Without it the rollback renamed back at once, while the stream went on
// applying the new instance's writes to the retired source until its objects were dropped:
// the writes made since the cutover ended split between the restored source (up to a point
// nobody recorded) and the new instance's final snapshot. Found, it is journaled as attached
// (attached first when a database's subscription is not reading its slot), so that
// drainReverse freezes the new instance, drains and verifies before the renames, as for a
// journaled rollback.
//
// PostgreSQL (replication.SlotLister): the reverse slots are on the new instance, one per
// database (NamesFor(id).Reverse().In(db)); the databases that have one are the stream's.
// Its start is the least confirmed_flush_lsn of those slots (Lag's Applied): each slot still
// holds every write committed after its own. No reverse slot at all: either the journal was
// lost before the reverse stream was prepared, inside the freeze (no write was made since),
// or the slots were dropped; the rollback goes on as before and says so. Engines without
// slots (MySQL, MariaDB, whose reverse start is a binary log position in no tag) go on as
// before too, with the warning.
func (r *run) recoverReverse(ctx context.Context, newInst, old *model.Instance) error {
	st, next := r.st.Replication, "rdsencrypt rollback "+r.st.ID
	final := r.rollbackSnapshotName()
	db, err := r.replicationOf(ctx, newInst)
	if err != nil {
		return err
	}
	rev, reverses := db.eng.(replication.Reverser)
	lister, lists := db.eng.(replication.DatabaseLister)
	slotLister, slots := db.eng.(replication.SlotLister)
	if !reverses {
		return nil
	}
	if !lists || !slots {
		r.log("warning: the journal was rebuilt from tags, which do not say where the reverse stream from %s into %s stands: writes made on %s since the cutover may be partly on %s already; all of them are kept in its final snapshot %s",
			newInst.ID, old.ID, newInst.ID, old.ID, final)
		return nil
	}
	newEP := r.replEndpoint(newInst, db.login)
	dbs, err := lister.Databases(ctx, newEP)
	if err != nil {
		return r.dbError(err, next, "cannot list the databases of %s", newInst.ID)
	}
	have, err := slotLister.LogicalSlots(ctx, newEP)
	if err != nil {
		return r.dbError(err, next, "cannot list the replication slots of %s", newInst.ID)
	}
	n := replication.NamesFor(r.st.ID).Reverse()
	var streamed []string
	for _, d := range dbs {
		if slices.Contains(have, n.In(d).Slot) {
			streamed = append(streamed, d)
		}
	}
	if len(streamed) == 0 {
		r.log("no reverse stream of migration %s on %s (journal rebuilt from tags): writes made on %s since the cutover, if any, are not on %s; they are kept in its final snapshot %s",
			r.st.ID, newInst.ID, newInst.ID, old.ID, final)
		return nil
	}
	st.Databases = streamed // the databases a Freeze compares: one created since has no stream
	newEP = r.replEndpoint(newInst, db.login)
	oldEP, err := r.endpointOf(ctx, old)
	if err != nil {
		return err
	}
	lag, err := db.eng.Lag(ctx, newEP, oldEP, n)
	if errors.Is(err, replication.ErrStreamLost) {
		return r.reverseLost(err, newInst, old)
	}
	if err != nil {
		return r.dbError(err, next, "cannot read the reverse stream from %s into %s", newInst.ID, old.ID)
	}
	if lag.Applied == "" {
		return r.dbError(nil, next, "cannot tell where the reverse stream from %s into %s starts: a reverse slot has no confirmed position yet", newInst.ID, old.ID)
	}
	if lag.Broken != "" {
		r.log("the reverse stream from %s into %s is not read (%s): attaching it at %s, where its slots hold every write since", newInst.ID, old.ID, lag.Broken, lag.Applied)
		if err := rev.AttachReverse(ctx, newEP, oldEP, replication.NamesFor(r.st.ID), lag.Applied); err != nil {
			return r.dbError(err, next, "cannot start the reverse stream from %s to %s", newInst.ID, old.ID)
		}
	}
	st.ReverseStart, st.ReverseAttached = lag.Applied, true
	r.log("found the reverse stream from %s into %s (databases %v, journal rebuilt from tags): the rollback freezes %s and drains it before renaming back",
		newInst.ID, old.ID, streamed, newInst.ID)
	return r.save()
}
