package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newTestStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "state"))
	require.NoError(t, err)
	return s
}

// payload stands for the workflow's State: the store keeps whatever JSON value it is given.
type payload struct {
	ID     string `json:"migration_id"`
	Status string `json:"status"`
}

func TestJournalWriteReadRoundTrip(t *testing.T) {
	s := newTestStore(t)
	require.NoError(t, s.Write("a1b2c3d4", &payload{ID: "a1b2c3d4", Status: "running"}))
	var got payload
	require.NoError(t, s.Read("a1b2c3d4", &got))
	assert.Equal(t, payload{ID: "a1b2c3d4", Status: "running"}, got)

	ids, problems, err := s.IDs()
	require.NoError(t, err)
	assert.Empty(t, problems)
	assert.Equal(t, []string{"a1b2c3d4"}, ids)

	err = s.Read("e5f6a7b8", &got)
	assert.ErrorIs(t, err, ErrNotFound)
	assert.ErrorIs(t, s.Write("../x", &got), ErrInvalidID)
}

func TestJournalIDsReportsBadFileNames(t *testing.T) {
	s := newTestStore(t)
	require.NoError(t, s.Write("a1b2c3d4", &payload{ID: "a1b2c3d4"}))
	require.NoError(t, os.WriteFile(filepath.Join(s.Dir(), "a b.json"), []byte("{}"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(s.Dir(), ".a1b2c3d4.json.tmp-1"), []byte("{"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(s.Dir(), "notes.txt"), []byte("hi"), 0o600))
	ids, problems, err := s.IDs()
	require.NoError(t, err)
	assert.Equal(t, []string{"a1b2c3d4"}, ids)
	require.Len(t, problems, 1)
	var ce *CorruptError
	require.ErrorAs(t, problems[0], &ce)
	assert.Equal(t, filepath.Join(s.Dir(), "a b.json"), ce.Path)
}

func TestJournalOpenStoreDirPermissions(t *testing.T) {
	t.Run("created 0700 with parents", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "a", "b", "rdsencrypt")
		_, err := Open(dir)
		require.NoError(t, err)
		fi, err := os.Stat(dir)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
	})
	t.Run("readable by others is tightened", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "rdsencrypt")
		require.NoError(t, os.Mkdir(dir, 0o700))
		require.NoError(t, os.Chmod(dir, 0o755))
		_, err := Open(dir)
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
			_, err := Open(dir)
			require.ErrorIs(t, err, ErrInsecureDir)
			assert.Contains(t, err.Error(), "chmod 700")
			fi, err := os.Stat(dir)
			require.NoError(t, err)
			assert.Equal(t, mode, fi.Mode().Perm(), "a refused directory is left as it is")
		})
	}
	t.Run("a file is refused", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "f")
		require.NoError(t, os.WriteFile(p, nil, 0o600))
		_, err := Open(p)
		require.Error(t, err)
	})
}

func TestJournalDefaultStateDir(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "/xdg/state")
	d, err := DefaultDir()
	require.NoError(t, err)
	assert.Equal(t, "/xdg/state/rdsencrypt", d)

	t.Setenv("HOME", "/home/alice")
	for _, v := range []string{"", "relative/path"} {
		t.Setenv("XDG_STATE_HOME", v)
		d, err = DefaultDir()
		require.NoError(t, err)
		assert.Equal(t, "/home/alice/.local/state/rdsencrypt", d)
	}
}

func TestJournalErrorsAreDistinct(t *testing.T) {
	ce := &CorruptError{Path: "/x/a.json", ID: "a", Reason: "r"}
	assert.True(t, errors.Is(ce, ErrCorrupt))
	assert.False(t, errors.Is(ce, ErrNotFound))
}
