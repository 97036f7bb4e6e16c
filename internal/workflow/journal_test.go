package workflow

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/journal"
	"github.com/rdsencrypt/rdsencrypt/internal/redact"
)

func newTestStore(t *testing.T) *Store {
	t.Helper()
	s, err := OpenStore(filepath.Join(t.TempDir(), "state"))
	require.NoError(t, err)
	return s
}

func sampleState(id string) *State {
	created := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	started := created.Add(time.Minute)
	finished := started.Add(7 * time.Minute)
	return &State{
		Version:    1,
		ID:         id,
		Kind:       "instance",
		Region:     "eu-west-1",
		Source:     "orders-db",
		SourceARN:  "arn:aws:rds:eu-west-1:123456789012:db:orders-db",
		SourceRID:  "db-ABCDEFGHIJKLMNOPQRSTUVWXY",
		SourceAddr: "orders-db.abcdefghijkl.eu-west-1.rds.amazonaws.com",
		Mode:       "encrypt",
		KmsKeyARN:  "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
		RegionKeys: map[string]string{"us-east-1": "arn:aws:kms:us-east-1:123456789012:key/abcd"},
		Options:    RunOptions{FreezeHook: "./freeze.sh", Replicas: "after-cutover", Cutover: "auto"},
		Status:     StatusRunning,
		CreatedAt:  created,
		UpdatedAt:  finished,
		Resources: []Resource{
			{Role: RoleSnapshot, Type: TypeDBSnapshot, Region: "eu-west-1", Name: "rdsencrypt-" + id + "-orders-db"},
			{Role: RoleTarget, Type: TypeDBInstance, Region: "eu-west-1", Name: "orders-db-enc-" + id, ResourceID: "db-ZYXWVUTSRQPONMLKJIHGFEDCBA"},
		},
		Steps: []StepState{
			{Name: "snapshot", Status: StepDone, StartedAt: &started, FinishedAt: &finished, APICalls: 12},
			{Name: "copy", Status: StepRunning, StartedAt: &finished, APICalls: 1},
			{Name: "restore", Status: StepPending},
		},
		FreezeAt:    finished,
		Differences: []Difference{{Resource: "orders-db", Setting: "backup_retention", Source: "7", Target: "1"}},
		LastError:   "",
	}
}

func TestJournalRoundTrip(t *testing.T) {
	s := newTestStore(t)
	want := sampleState("a1b2c3d4")
	require.NoError(t, s.Save(want))

	got, err := s.Load("a1b2c3d4")
	require.NoError(t, err)
	assert.Equal(t, want, got)

	// Saving again replaces the journal.
	want.Status = StatusPaused
	want.UpdatedAt = want.UpdatedAt.Add(time.Hour)
	require.NoError(t, s.Save(want))
	got, err = s.Load("a1b2c3d4")
	require.NoError(t, err)
	assert.Equal(t, StatusPaused, got.Status)
	assert.True(t, want.UpdatedAt.Equal(got.UpdatedAt))
}

func TestJournalFileLayout(t *testing.T) {
	s := newTestStore(t)
	require.NoError(t, s.Save(sampleState("a1b2c3d4")))
	data, err := os.ReadFile(s.JournalPath("a1b2c3d4"))
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(data, []byte("{\n  \"format\": 1,\n  \"checksum\": \"sha256:")), "%s", data)
	assert.Contains(t, string(data), `"migration_id": "a1b2c3d4"`)
}

func TestJournalNotFound(t *testing.T) {
	s := newTestStore(t)
	_, err := s.Load("a1b2c3d4")
	require.ErrorIs(t, err, journal.ErrNotFound)
	assert.NotErrorIs(t, err, journal.ErrCorrupt)
	assert.Contains(t, err.Error(), s.JournalPath("a1b2c3d4"))
}

func TestJournalRejectsUnsafeIDs(t *testing.T) {
	s := newTestStore(t)
	for _, id := range []string{"", "../x", "a/b", ".hidden", "a b", strings.Repeat("a", 201)} {
		st := sampleState(id)
		assert.ErrorIs(t, s.Save(st), journal.ErrInvalidID, "id %q", id)
		_, err := s.Load(id)
		assert.ErrorIs(t, err, journal.ErrInvalidID, "id %q", id)
		assert.ErrorIs(t, s.AppendAudit(id, journal.AuditRecord{Type: journal.AuditStateChange}), journal.ErrInvalidID, "id %q", id)
	}
	assert.Error(t, s.Save(nil))
}

func requireCorrupt(t *testing.T, s *Store, id string) {
	t.Helper()
	st, err := s.Load(id)
	require.ErrorIs(t, err, journal.ErrCorrupt)
	assert.Nil(t, st)
	var ce *journal.CorruptError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, s.JournalPath(id), ce.Path)
	msg := err.Error()
	assert.Contains(t, msg, s.JournalPath(id))
	assert.Contains(t, msg, "rdsencrypt resume --source")
	assert.NotContains(t, msg, "\n")
}

func TestJournalChecksumDetectsFlippedByte(t *testing.T) {
	s := newTestStore(t)
	require.NoError(t, s.Save(sampleState("a1b2c3d4")))
	path := s.JournalPath("a1b2c3d4")
	orig, err := os.ReadFile(path)
	require.NoError(t, err)

	// An edit that keeps the JSON valid: only the checksum can catch it.
	edited := bytes.Replace(orig, []byte(`"status": "running"`), []byte(`"status": "runninG"`), 1)
	require.NotEqual(t, orig, edited)
	require.NoError(t, os.WriteFile(path, edited, 0o600))
	requireCorrupt(t, s, "a1b2c3d4")

	// Every single-bit flip anywhere in the file is caught (or is a whitespace-only
	// change to the envelope, which does not alter the state).
	for i := range orig {
		for _, bit := range []byte{0x01, 0x20} {
			flipped := bytes.Clone(orig)
			flipped[i] ^= bit
			require.NoError(t, os.WriteFile(path, flipped, 0o600))
			got, err := s.Load("a1b2c3d4")
			if err == nil {
				assert.Equal(t, sampleState("a1b2c3d4"), got, "flip at %d accepted but changed the state", i)
				continue
			}
			assert.ErrorIs(t, err, journal.ErrCorrupt, "flip at %d", i)
		}
	}
}

func TestJournalChecksumDetectsTruncation(t *testing.T) {
	s := newTestStore(t)
	require.NoError(t, s.Save(sampleState("a1b2c3d4")))
	path := s.JournalPath("a1b2c3d4")
	orig, err := os.ReadFile(path)
	require.NoError(t, err)

	for _, n := range []int{0, 1, len(orig) / 3, len(orig) / 2, len(orig) - 3} {
		require.NoError(t, os.WriteFile(path, orig[:n], 0o600))
		requireCorrupt(t, s, "a1b2c3d4")
	}
}

func TestJournalCorruptCases(t *testing.T) {
	s := newTestStore(t)
	good, err := encodeJournal(sampleState("a1b2c3d4"))
	require.NoError(t, err)
	cases := map[string]string{
		"garbage":        "not json at all",
		"wrong format":   strings.Replace(string(good), `"format": 1`, `"format": 2`, 1),
		"no checksum":    strings.Replace(string(good), `"checksum"`, `"checksun"`, 1),
		"null state":     `{"format":1,"checksum":"` + journal.Checksum([]byte("null")) + `","state":null}`,
		"array state":    `{"format":1,"checksum":"` + journal.Checksum([]byte("[]")) + `","state":[]}`,
		"trailing bytes": string(good) + "x",
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(s.JournalPath("a1b2c3d4"), []byte(content), 0o600))
			requireCorrupt(t, s, "a1b2c3d4")
		})
	}

	t.Run("journal of another migration", func(t *testing.T) {
		other, err := encodeJournal(sampleState("e5f6a7b8"))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(s.JournalPath("a1b2c3d4"), other, 0o600))
		requireCorrupt(t, s, "a1b2c3d4")
	})
}

func TestJournalAtomicityIgnoresStrayTempFile(t *testing.T) {
	s := newTestStore(t)
	st := sampleState("a1b2c3d4")
	require.NoError(t, s.Save(st))

	// A crash between CreateTemp and rename leaves a half-written temp file beside the
	// previous journal. Neither Load nor List may look at it.
	next, err := encodeJournal(sampleState("a1b2c3d4"))
	require.NoError(t, err)
	stray := filepath.Join(s.Dir(), ".a1b2c3d4.json.tmp-123456")
	require.NoError(t, os.WriteFile(stray, next[:len(next)/2], 0o600))

	got, err := s.Load("a1b2c3d4")
	require.NoError(t, err)
	assert.Equal(t, st, got)

	states, problems, err := s.List()
	require.NoError(t, err)
	assert.Empty(t, problems)
	require.Len(t, states, 1)
	assert.Equal(t, st, states[0])

	// Save leaves no temp file of its own behind.
	require.NoError(t, s.Save(st))
	entries, err := os.ReadDir(s.Dir())
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.ElementsMatch(t, []string{"a1b2c3d4.json", ".a1b2c3d4.json.tmp-123456"}, names)
}

func TestJournalListSortedAndReportsCorrupt(t *testing.T) {
	s := newTestStore(t)
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i, id := range []string{"aaaa0001", "aaaa0002", "aaaa0003"} {
		st := sampleState(id)
		st.UpdatedAt = base.Add(time.Duration([]int{2, 3, 1}[i]) * time.Hour)
		require.NoError(t, s.Save(st))
	}
	require.NoError(t, os.WriteFile(s.JournalPath("bad00001"), []byte(`{"format":1`), 0o600))
	// Files that are not journals are ignored.
	require.NoError(t, os.WriteFile(filepath.Join(s.Dir(), "notes.txt"), []byte("hi"), 0o600))
	require.NoError(t, s.AppendAudit("aaaa0001", journal.AuditRecord{Type: journal.AuditStateChange, From: "a", To: "b"}))

	states, problems, err := s.List()
	require.NoError(t, err)
	var ids []string
	for _, st := range states {
		ids = append(ids, st.ID)
	}
	assert.Equal(t, []string{"aaaa0002", "aaaa0001", "aaaa0003"}, ids)
	require.Len(t, problems, 1)
	assert.ErrorIs(t, problems[0], journal.ErrCorrupt)
	assert.Contains(t, problems[0].Error(), s.JournalPath("bad00001"))
}

func TestJournalListEmpty(t *testing.T) {
	s := newTestStore(t)
	states, problems, err := s.List()
	require.NoError(t, err)
	assert.Empty(t, states)
	assert.Empty(t, problems)
}

func TestJournalFileModes(t *testing.T) {
	s := newTestStore(t)
	fi, err := os.Stat(s.Dir())
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm(), "state dir")

	require.NoError(t, s.Save(sampleState("a1b2c3d4")))
	require.NoError(t, s.AppendAudit("a1b2c3d4", journal.AuditRecord{Type: journal.AuditStateChange}))
	for _, p := range []string{s.JournalPath("a1b2c3d4"), s.AuditPath("a1b2c3d4")} {
		fi, err := os.Stat(p)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), p)
	}
}

func TestJournalSaveRedactsAndKeepsCaller(t *testing.T) {
	s := newTestStore(t)
	st := sampleState("a1b2c3d4")
	st.LastError = "CopyDBSnapshot: PreSignedUrl=https://rds.us-east-1.amazonaws.com/?Action=CopyDBSnapshot&X-Amz-Signature=deadbeef failed"
	st.Steps[1].Error = "restore: MasterUserPassword=hunter22 rejected"
	require.NoError(t, s.Save(st))

	data, err := os.ReadFile(s.JournalPath("a1b2c3d4"))
	require.NoError(t, err)
	assert.NotContains(t, string(data), "deadbeef")
	assert.NotContains(t, string(data), "hunter22")
	assert.Contains(t, st.LastError, "deadbeef", "the caller's state is not modified")
	assert.Contains(t, st.Steps[1].Error, "hunter22")

	got, err := s.Load("a1b2c3d4")
	require.NoError(t, err)
	assert.Contains(t, got.Steps[1].Error, redact.Mark)
}

func TestJournalConcurrentSave(t *testing.T) {
	s := newTestStore(t)
	const writers, rounds = 8, 20
	var wg sync.WaitGroup
	errs := make(chan error, writers*rounds*2)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				st := sampleState(fmt.Sprintf("conc%04d", w%2)) // two ids, four writers each
				st.Steps[0].APICalls = w*1000 + r
				if err := s.Save(st); err != nil {
					errs <- err
				}
				// Readers see the old or the new journal, never a torn one.
				if _, err := s.Load(st.ID); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	states, problems, err := s.List()
	require.NoError(t, err)
	assert.Empty(t, problems)
	assert.Len(t, states, 2)
	matches, err := filepath.Glob(filepath.Join(s.Dir(), ".*tmp*"))
	require.NoError(t, err)
	assert.Empty(t, matches, "no temp files left behind")
}

func TestLockFileModeAndListIgnoresIt(t *testing.T) {
	s := newTestStore(t)
	require.NoError(t, s.Save(sampleState("a1b2c3d4")))
	release, err := s.Lock("a1b2c3d4")
	require.NoError(t, err)
	defer release()

	fi, err := os.Stat(s.LockPath("a1b2c3d4"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	states, problems, err := s.List()
	require.NoError(t, err)
	assert.Empty(t, problems)
	assert.Len(t, states, 1)

	for _, id := range []string{"", "../x", ".hidden"} {
		_, err := s.Lock(id)
		assert.ErrorIs(t, err, journal.ErrInvalidID, "id %q", id)
	}
}

// TestJournalFormat1StillLoads reads a journal written by rdsencrypt before the store moved
// to the journal package (testdata/journal/0a1b2c3d.json, format 1): old journals must
// keep loading, and saving the same state writes the same bytes.
func TestJournalFormat1StillLoads(t *testing.T) {
	old, err := os.ReadFile(filepath.Join("testdata", "journal", "0a1b2c3d.json"))
	require.NoError(t, err)
	s := newTestStore(t)
	require.NoError(t, os.WriteFile(s.JournalPath("0a1b2c3d"), old, 0o600))

	got, err := s.Load("0a1b2c3d")
	require.NoError(t, err)
	want := sampleState("0a1b2c3d")
	want.LastError = "CopyDBSnapshot: KMSKeyNotAccessibleFault: the key is disabled"
	want.Replicas = []ReplicaState{{ID: "orders-ro-1", Region: "eu-west-1", ResourceID: "db-RO1",
		Endpoint: "orders-ro-1.abcdefghijkl.eu-west-1.rds.amazonaws.com"}}
	assert.Equal(t, want, got)

	resaved, err := encodeJournal(got)
	require.NoError(t, err)
	assert.Equal(t, string(old), string(resaved), "the format is unchanged")
}
