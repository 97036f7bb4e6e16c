package workflow

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
			{Role: RoleSnapshot, Kind: KindDBSnapshot, Region: "eu-west-1", Name: "rdsencrypt-" + id + "-orders-db"},
			{Role: RoleTarget, Kind: KindDBInstance, Region: "eu-west-1", Name: "orders-db-enc-" + id, ResourceID: "db-ZYXWVUTSRQPONMLKJIHGFEDCBA"},
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
	require.ErrorIs(t, err, ErrJournalNotFound)
	assert.NotErrorIs(t, err, ErrJournalCorrupt)
	assert.Contains(t, err.Error(), s.JournalPath("a1b2c3d4"))
}

func TestJournalRejectsUnsafeIDs(t *testing.T) {
	s := newTestStore(t)
	for _, id := range []string{"", "../x", "a/b", ".hidden", "a b", strings.Repeat("a", 201)} {
		st := sampleState(id)
		assert.ErrorIs(t, s.Save(st), ErrInvalidMigrationID, "id %q", id)
		_, err := s.Load(id)
		assert.ErrorIs(t, err, ErrInvalidMigrationID, "id %q", id)
		assert.ErrorIs(t, s.AppendAudit(id, AuditRecord{Kind: AuditStateChange}), ErrInvalidMigrationID, "id %q", id)
	}
	assert.Error(t, s.Save(nil))
}

func requireCorrupt(t *testing.T, s *Store, id string) {
	t.Helper()
	st, err := s.Load(id)
	require.ErrorIs(t, err, ErrJournalCorrupt)
	assert.Nil(t, st)
	var ce *CorruptJournalError
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
			assert.ErrorIs(t, err, ErrJournalCorrupt, "flip at %d", i)
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
		"null state":     `{"format":1,"checksum":"` + checksumOf([]byte("null")) + `","state":null}`,
		"array state":    `{"format":1,"checksum":"` + checksumOf([]byte("[]")) + `","state":[]}`,
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
	require.NoError(t, s.AppendAudit("aaaa0001", AuditRecord{Kind: AuditStateChange, From: "a", To: "b"}))

	states, problems, err := s.List()
	require.NoError(t, err)
	var ids []string
	for _, st := range states {
		ids = append(ids, st.ID)
	}
	assert.Equal(t, []string{"aaaa0002", "aaaa0001", "aaaa0003"}, ids)
	require.Len(t, problems, 1)
	assert.ErrorIs(t, problems[0], ErrJournalCorrupt)
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
	require.NoError(t, s.AppendAudit("a1b2c3d4", AuditRecord{Kind: AuditStateChange}))
	for _, p := range []string{s.JournalPath("a1b2c3d4"), s.AuditPath("a1b2c3d4")} {
		fi, err := os.Stat(p)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), p)
	}
}

func TestJournalOpenStoreDirPermissions(t *testing.T) {
	t.Run("created 0700 with parents", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "a", "b", "rdsencrypt")
		_, err := OpenStore(dir)
		require.NoError(t, err)
		fi, err := os.Stat(dir)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
	})
	t.Run("readable by others is tightened", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "rdsencrypt")
		require.NoError(t, os.Mkdir(dir, 0o700))
		require.NoError(t, os.Chmod(dir, 0o755))
		_, err := OpenStore(dir)
		require.NoError(t, err)
		fi, err := os.Stat(dir)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
	})
	for _, mode := range []os.FileMode{0o770, 0o707, 0o777} {
		t.Run(fmt.Sprintf("writable by others %04o is refused", mode), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "rdsencrypt")
			require.NoError(t, os.Mkdir(dir, 0o700))
			require.NoError(t, os.Chmod(dir, mode))
			_, err := OpenStore(dir)
			require.ErrorIs(t, err, ErrInsecureStateDir)
			assert.Contains(t, err.Error(), "chmod 700")
			fi, err := os.Stat(dir)
			require.NoError(t, err)
			assert.Equal(t, mode, fi.Mode().Perm(), "a refused directory is left as it is")
		})
	}
	t.Run("a file is refused", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "f")
		require.NoError(t, os.WriteFile(p, nil, 0o600))
		_, err := OpenStore(p)
		require.Error(t, err)
	})
}

func TestJournalDefaultStateDir(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "/xdg/state")
	d, err := DefaultStateDir()
	require.NoError(t, err)
	assert.Equal(t, "/xdg/state/rdsencrypt", d)

	t.Setenv("HOME", "/home/alice")
	for _, v := range []string{"", "relative/path"} {
		t.Setenv("XDG_STATE_HOME", v)
		d, err = DefaultStateDir()
		require.NoError(t, err)
		assert.Equal(t, "/home/alice/.local/state/rdsencrypt", d)
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
	assert.Contains(t, got.Steps[1].Error, RedactedMark)
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

func TestJournalErrorsAreDistinct(t *testing.T) {
	ce := &CorruptJournalError{Path: "/x/a.json", ID: "a", Reason: "r"}
	assert.True(t, errors.Is(ce, ErrJournalCorrupt))
	assert.False(t, errors.Is(ce, ErrJournalNotFound))
}
