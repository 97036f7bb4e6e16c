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
		l := Leftover{Object: o.Object, Fix: dropSQL(eng.Name(), o.Object), Slot: o.Slot}
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

// dropSQL is the statement that removes object, as the engine's Leftovers names it.
func dropSQL(engine, object string) string {
	kind, name, _ := strings.Cut(object, " ")
	switch {
	case engine == "postgres" && kind == "slot":
		// pg_drop_replication_slot refuses an active slot: end its walsender first (a
		// subscription that still uses it retries after wal_retrieve_retry_interval, 5 s).
		return fmt.Sprintf("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = '%s' AND active; SELECT pg_drop_replication_slot('%s')", name, name)
	case engine == "postgres" && kind == "publication":
		return "DROP PUBLICATION " + name + " (connected to the database that has it)"
	case engine == "postgres" && kind == "subscription":
		return fmt.Sprintf("ALTER SUBSCRIPTION %s DISABLE; ALTER SUBSCRIPTION %s SET (slot_name = NONE); DROP SUBSCRIPTION %s (connected to its database)", name, name, name)
	case engine == "postgres" && kind == "role":
		// The replication user holds CONNECT on every replicated database, which DROP ROLE
		// refuses to leave dangling: revoke those grants first, as Cleanup does.
		return fmt.Sprintf("DO $$DECLARE d text; BEGIN FOR d IN SELECT datname FROM pg_database, aclexplode(datacl) a WHERE a.grantee = '%s'::regrole LOOP "+
			"EXECUTE format('REVOKE CONNECT ON DATABASE %%I FROM %s', d); END LOOP; END$$; DROP ROLE %s", name, name, name)
	case kind == "user":
		return "DROP USER " + name
	case kind == "replication":
		return "CALL mysql.rds_stop_replication; CALL mysql.rds_reset_external_master"
	}
	return "remove " + object
}

// ChecksReplication reports whether the engine has a replication engine for an RDS engine
// name, so that ReplicationLeftovers applies to its instances.
func (e *Engine) ChecksReplication(rdsEngine string) bool {
	return e.Replication[replication.Family(rdsEngine)] != nil
}
