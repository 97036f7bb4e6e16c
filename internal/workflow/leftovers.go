package workflow

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/replication"
)

// ErrNotChecked is wrapped by ReplicationLeftovers when it could not look (no engine for the
// instance's engine, no password): scan reports the instance "not checked", never fails.
var ErrNotChecked = errors.New("not checked")

// Leftover is one replication object of the tool found on an instance's database.
type Leftover struct {
	Object string `json:"object"` // as the engine names it: "slot rdsencrypt_...", "user ..."
	// Migration is the id of the journaled migration the object belongs to, "" when no
	// journal here names it.
	Migration string `json:"migration,omitempty"`
	// Fix is the command that removes it: rollback or cleanup of its migration, else SQL;
	// "" when the object is in use by a running migration (InUse).
	Fix string `json:"fix"`
	// InUse is true when its migration is running now (journal status running, its lock
	// held by a live process): the object is working, not left over.
	InUse bool `json:"in_use,omitempty"`
	// Slot is a replication slot's state: whether it is read now and the WAL it keeps on
	// the instance (docs/replication.md#leftovers); nil for any other object.
	Slot *replication.SlotState `json:"slot,omitempty"`
}

// ReplicationLeftovers lists the tool's replication objects (named replication.Prefix...)
// on inst's database, each with how to remove it (docs/replication.md#leftovers). tagged
// are the migration ids on AWS resources of inst's region (model.TagMigrationID): an object
// of such a migration whose journal is not here (the migration runs from another machine)
// gets no SQL fix. It connects as the master user with the engine's credentials; without
// them it returns an error wrapping ErrNotChecked.
func (e *Engine) ReplicationLeftovers(ctx context.Context, inst *model.Instance, tagged map[string]bool) ([]Leftover, error) {
	eng := e.Replication[replication.Family(inst.Settings.Engine)]
	if eng == nil {
		return nil, fmt.Errorf("%w: no replication engine for %s", ErrNotChecked, inst.Settings.Engine)
	}
	if e.Credentials == nil || inst.Endpoint == "" {
		return nil, fmt.Errorf("%w: no credentials", ErrNotChecked)
	}
	login, err := e.Credentials.Login(ctx, inst)
	if err != nil {
		return nil, fmt.Errorf("%w: no credentials (%v)", ErrNotChecked, err)
	}
	objects, err := eng.Leftovers(ctx, e.dbEndpoint(inst, login))
	if err != nil {
		return nil, err
	}
	var states []*State
	if len(objects) > 0 && e.Store != nil {
		states, _, _ = e.Store.List() // unreadable journals: the SQL fix still applies
	}
	out := make([]Leftover, 0, len(objects))
	for _, o := range objects {
		l := Leftover{Object: o.Object, Fix: o.Drop, Slot: o.Slot}
		if st := owner(states, o.Object); st != nil {
			l.Migration = st.ID
			switch {
			case st.Status == StatusRunning && e.Store.Held(st.ID):
				l.Fix, l.InUse = "", true
			case st.Status == StatusCompleted:
				l.Fix = "rdsencrypt cleanup " + st.ID
			case st.Status == StatusRolledBack, st.Status == StatusCleanedUp, st.Status == StatusNothingToDo:
				// its own commands are done with it: only SQL removes the object now
			default:
				l.Fix = "rdsencrypt rollback " + st.ID + " (or rdsencrypt resume " + st.ID + " to finish it)"
			}
		} else if id := taggedOwner(tagged, o.Object); id != "" {
			// Its drop would destroy a migration running elsewhere (review T6).
			l.Migration = id
			l.Fix = "none here: it belongs to migration " + id + ", whose journal is not on this machine (resources tagged " +
				model.TagMigrationID + "=" + id + " exist): run rdsencrypt scan, cleanup " + id + " or rollback " + id + " where its journal is"
			// A finished migration's tags stay for good: when its journal is lost everywhere,
			// the SQL is the only way left (review T15). Not for a slot being read: a live
			// stream reads it.
			if o.Drop != "" && (o.Slot == nil || !o.Slot.Active) {
				l.Fix += "; only if migration " + id + " runs nowhere and its journal is lost for good: " + o.Drop
			}
		}
		out = append(out, l)
	}
	return out, nil
}

// owner is the journaled migration whose names the object carries.
func owner(states []*State, object string) *State {
	for _, st := range states {
		if carries(object, st.ID) {
			return st
		}
	}
	return nil
}

// taggedOwner is the id of tagged whose names the object carries, "" when none does.
func taggedOwner(tagged map[string]bool, object string) string {
	for _, id := range slices.Sorted(maps.Keys(tagged)) {
		if carries(object, id) {
			return id
		}
	}
	return ""
}

// carries reports whether the object has the names of migration id: exactly, or followed by
// "_" (the freeze check's slot, the reverse stream's, one per database).
func carries(object, id string) bool {
	name := object[strings.LastIndex(object, " ")+1:]
	name = strings.Trim(name[:strings.IndexByte(name+"@", '@')], "'`")
	own := replication.NamesFor(id).Slot
	return name == own || strings.HasPrefix(name, own+"_")
}

// ChecksReplication reports whether the engine has a replication engine for an RDS engine
// name, so that ReplicationLeftovers applies to its instances.
func (e *Engine) ChecksReplication(rdsEngine string) bool {
	return e.Replication[replication.Family(rdsEngine)] != nil
}

// SlotWALWarnBytes is the WAL a slot may keep before scan and status warn about it: 1 GiB,
// small next to RDS storage (20 GiB at least) yet hours of a busy instance's writes, so a
// stalled slot is reported long before it fills the disk (docs/replication.md#leftovers).
const SlotWALWarnBytes = 1 << 30

// SlotGrows is what a slot that is not read does to its server.
const SlotGrows = "it keeps every WAL file from its position on, until the storage is full"

// SlotKept says how much WAL a slot keeps.
func SlotKept(st *replication.SlotState) string {
	if st.RetainedWAL < 0 {
		return "keeps an unknown amount of WAL (no restart_lsn)"
	}
	return fmt.Sprintf("keeps %d MiB of WAL", st.RetainedWAL>>20)
}

// SlotWarning is what an operator must know about a slot's state, "" when it is read and
// keeps less than SlotWALWarnBytes: invalidated (wal_status lost), past
// max_slot_wal_keep_size (unreserved), read by no one, or its reader behind.
func SlotWarning(st *replication.SlotState) string {
	switch {
	case st.WALStatus == "lost":
		return "invalidated by PostgreSQL (wal_status lost: max_slot_wal_keep_size reached): its reader can never go on"
	case st.WALStatus == "unreserved":
		return "past max_slot_wal_keep_size (wal_status unreserved), " + SlotKept(st) + ": PostgreSQL invalidates it at the next checkpoint unless its reader catches up"
	case !st.Active:
		return "NOT read by anyone, " + SlotKept(st) + ": " + SlotGrows
	case st.RetainedWAL > SlotWALWarnBytes:
		return fmt.Sprintf("read, but %s (over %d MiB): its reader is behind; %s", SlotKept(st), SlotWALWarnBytes>>20, SlotGrows)
	}
	return ""
}
