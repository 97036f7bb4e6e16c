package workflow

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
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
}

// leftoversOf is an engine whose database holds the given objects, each with its SQL drop.
type leftoversOf struct {
	replication.Engine
	objects []string
	active  map[string]bool // slots a stream reads now
}

func (l leftoversOf) Name() string { return "postgres" }

func (l leftoversOf) Leftovers(context.Context, replication.Endpoint) ([]replication.Leftover, error) {
	out := make([]replication.Leftover, len(l.objects))
	for i, o := range l.objects {
		out[i] = replication.Leftover{Object: o, Drop: "DROP " + o}
		if strings.HasPrefix(o, "slot ") {
			out[i].Slot = &replication.SlotState{Active: l.active[o]}
		}
	}
	return out, nil
}

// A running migration's slot, its lock held by a live process, is in use, not left over: no
// fix (scan used to say "rdsencrypt rollback ID" for a healthy catch-up, review S11). The
// same journal with nobody holding the lock (the process died) keeps the rollback/resume fix.
func TestLeftoversOfARunningMigrationAreInUse(t *testing.T) {
	store, err := OpenStore(t.TempDir())
	require.NoError(t, err)
	require.NoError(t, store.Save(&State{ID: "abcd1234", Source: "shop", Status: StatusRunning}))
	slot := "slot " + replication.NamesFor("abcd1234").Slot
	e := &Engine{Store: store, Credentials: CredentialChain{EnvPassword: "pw"},
		Replication: map[string]replication.Engine{"postgres": leftoversOf{objects: []string{slot}}}}
	inst := &model.Instance{ID: "shop", Endpoint: "shop.example", MasterUsername: "master", Settings: model.InstanceSettings{Engine: "postgres", Port: 5432}}

	release, err := store.Lock("abcd1234")
	require.NoError(t, err)
	left, err := e.ReplicationLeftovers(context.Background(), inst, nil)
	require.NoError(t, err)
	assert.Equal(t, []Leftover{{Object: slot, Migration: "abcd1234", InUse: true, Slot: &replication.SlotState{}}}, left)

	require.NoError(t, release())
	left, err = e.ReplicationLeftovers(context.Background(), inst, nil)
	require.NoError(t, err)
	require.Len(t, left, 1)
	assert.False(t, left[0].InUse)
	assert.Equal(t, "rdsencrypt rollback abcd1234 (or rdsencrypt resume abcd1234 to finish it)", left[0].Fix)
}

// A migration run from another machine has no journal here, but AWS resources tagged with
// its id: its slot's fix is to go where its journal is, never the SQL that drops it (review
// T6: scan from a laptop told the operator to destroy a live migration's stream). Only an
// object of a migration with neither journal nor tagged resources gets its SQL.
func TestLeftoversOfAMigrationElsewhereGetNoDrop(t *testing.T) {
	store, err := OpenStore(t.TempDir())
	require.NoError(t, err)
	running := "slot " + replication.NamesFor("abcd1234").In("shop").Slot
	idle := "publication " + replication.NamesFor("abcd1234").In("shop").Publication
	gone := "slot " + replication.NamesFor("ffff0000").Slot
	eng := leftoversOf{objects: []string{running, idle, gone}, active: map[string]bool{running: true}}
	e := &Engine{Store: store, Credentials: CredentialChain{EnvPassword: "pw"},
		Replication: map[string]replication.Engine{"postgres": eng}}
	inst := &model.Instance{ID: "shop", Endpoint: "shop.example", MasterUsername: "master", Settings: model.InstanceSettings{Engine: "postgres", Port: 5432}}

	left, err := e.ReplicationLeftovers(context.Background(), inst, map[string]bool{"abcd1234": true, "other": true})
	require.NoError(t, err)
	require.Len(t, left, 3)
	assert.Equal(t, "abcd1234", left[0].Migration)
	assert.NotContains(t, left[0].Fix, "DROP", "a slot a stream reads: the migration lives")
	assert.Contains(t, left[0].Fix, "migration abcd1234, whose journal is not on this machine")
	// Review T15: a finished migration's tags stay, so the SQL stays available, on condition.
	assert.Equal(t, "abcd1234", left[1].Migration)
	assert.Contains(t, left[1].Fix, "where its journal is; only if migration abcd1234 runs nowhere and its journal is lost for good: DROP "+idle)
	assert.Equal(t, "", left[2].Migration)
	assert.Equal(t, "DROP "+gone, left[2].Fix)
}
