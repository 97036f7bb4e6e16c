package workflow

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A replication journal rebuilt from tags before the cutover can only be rolled back, and
// resume says so. Rebuilt after it (CutoverDoneAt set, markRebuiltCutover), the encrypted
// instance has taken the application's writes: resume still refuses, but names what each way
// out costs, the rollback behind stopping the writes (review V15: it sent the operator to
// "rdsencrypt rollback ID, then migrate again" whatever the phase).
func TestResumeOfARebuiltReplicationJournalSaysWhetherTheCutoverWasMade(t *testing.T) {
	store, err := OpenStore(t.TempDir())
	require.NoError(t, err)
	e := &Engine{Store: store}
	rebuilt := func(id string, cutover time.Time) {
		require.NoError(t, store.Save(&State{ID: id, Kind: KindInstance, Source: "shop", Status: StatusPaused, CutoverDoneAt: cutover,
			Options: RunOptions{Strategy: StrategyReplication}, Replication: &ReplicationState{Engine: "postgres", RebuiltFromTags: true}}))
	}

	rebuilt("abcd1234", time.Time{})
	_, err = e.Resume(context.Background(), "abcd1234")
	require.Error(t, err)
	assert.Equal(t, "rdsencrypt rollback abcd1234, then migrate again", NextOf(err))

	rebuilt("ef012345", time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC))
	_, err = e.Resume(context.Background(), "ef012345")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "rebuilt from tags after the cutover")
	assert.Contains(t, err.Error(), "final snapshot "+NamesFor("ef012345", "shop").RollbackSnapshot)
	next := NextOf(err)
	assert.Contains(t, next, "stop writes to shop, then rdsencrypt rollback ef012345;")
	assert.Contains(t, next, NamesFor("ef012345", "shop").Retired)
	assert.NotContains(t, next, "migrate again")
}
