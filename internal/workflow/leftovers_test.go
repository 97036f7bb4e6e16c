package workflow

import (
	"strings"
	"testing"

	"github.com/rdsencrypt/rdsencrypt/internal/replication"
)

// TestLeftoverOwner: an object belongs to the migration whose names it carries, exactly or
// with a suffix (per database, the freeze check's slot, the reverse stream), never to a
// migration whose id merely starts the same.
func TestLeftoverOwner(t *testing.T) {
	states := []*State{{ID: "abc"}, {ID: "abcd"}}
	n := replication.NamesFor("abcd")
	for object, want := range map[string]string{
		"slot " + n.In("shop").Slot:                              "abcd",
		"slot " + n.Slot + "_frozen":                             "abcd",
		"publication " + replication.NamesFor("abc").Publication: "abc",
		"role " + n.User:                                         "abcd",
		"user rdsencrypt_abcd":                                   "abcd",
		"replication from 10.0.0.1:3306 as rdsencrypt_abc":       "abc",
		"slot rdsencrypt_other":                                  "",
	} {
		got := ""
		if st := owner(states, object); st != nil {
			got = st.ID
		}
		if got != want {
			t.Errorf("owner of %q: %q, want %q", object, got, want)
		}
	}
	// The SQL runs as printed (review S5; run by hand with psql against PostgreSQL 15): an
	// active slot's walsender is ended first, the role's CONNECT grants are revoked before
	// DROP ROLE.
	if got := dropSQL("postgres", "slot rdsencrypt_x"); got != "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = 'rdsencrypt_x' AND active; SELECT pg_drop_replication_slot('rdsencrypt_x')" {
		t.Errorf("slot's SQL %q", got)
	}
	if got := dropSQL("postgres", "role rdsencrypt_x"); !strings.Contains(got, "EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM rdsencrypt_x', d)") ||
		!strings.HasSuffix(got, "; DROP ROLE rdsencrypt_x") {
		t.Errorf("role's SQL %q", got)
	}
	if got := dropSQL("mysql", "user rdsencrypt_x"); got != "DROP USER rdsencrypt_x" {
		t.Errorf("user's SQL %q", got)
	}
}
