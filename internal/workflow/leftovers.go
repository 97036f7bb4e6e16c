package workflow

import (
	"context"
	"errors"
	"fmt"
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
// on inst's database, each with how to remove it (docs/replication.md#leftovers). It
// connects as the master user with the engine's credentials; without them it returns an
// error wrapping ErrNotChecked.
func (e *Engine) ReplicationLeftovers(ctx context.Context, inst *model.Instance) ([]Leftover, error) {
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
		}
		out = append(out, l)
	}
	return out, nil
}

// owner is the migration whose names the object carries: exactly, or followed by "_"
// (the freeze check's slot, the reverse stream's, one per database).
func owner(states []*State, object string) *State {
	name := object[strings.LastIndex(object, " ")+1:]
	name = strings.Trim(name[:strings.IndexByte(name+"@", '@')], "'`")
	for _, st := range states {
		own := replication.NamesFor(st.ID).Slot
		if name == own || strings.HasPrefix(name, own+"_") {
			return st
		}
	}
	return nil
}

// ChecksReplication reports whether the engine has a replication engine for an RDS engine
// name, so that ReplicationLeftovers applies to its instances.
func (e *Engine) ChecksReplication(rdsEngine string) bool {
	return e.Replication[replication.Family(rdsEngine)] != nil
}
