package workflow

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
)

// The journal is one JSON file per migration, <dir>/<id>.json:
//
//	{
//	  "format": 1,
//	  "checksum": "sha256:<hex of the exact bytes of the state value below>",
//	  "state": { ... }
//	}
//
// The checksum catches truncation, a flipped byte and hand edits; it is not a defence
// against someone who can write the directory (they could recompute it), which is why
// the directory must be private to its owner. Journals are never deleted by the tool:
// with the audit trail they are the evidence of what was done.

// JournalFormat is the envelope version this code writes and reads.
const JournalFormat = 1

const (
	journalExt      = ".json"
	checksumPrefix  = "sha256:"
	maxJournalBytes = 16 << 20 // far above any real journal; bounds what Load reads
)

var (
	// ErrJournalNotFound: no journal exists for the migration.
	ErrJournalNotFound = errors.New("journal not found")
	// ErrJournalCorrupt: the journal exists but is truncated, edited or unparsable. Its
	// content is never used; the migration is rebuilt from the AWS tags instead.
	ErrJournalCorrupt = errors.New("journal corrupt")
	// ErrInsecureStateDir: the state directory is not private to the current user.
	ErrInsecureStateDir = errors.New("state directory is not private")
	// ErrInvalidMigrationID: the id cannot safely name a file.
	ErrInvalidMigrationID = errors.New("invalid migration id")
)

// CorruptJournalError says which journal is corrupt and why. It matches ErrJournalCorrupt
// with errors.Is.
type CorruptJournalError struct {
	Path   string
	ID     string
	Reason string
}

func (e *CorruptJournalError) Error() string {
	return fmt.Sprintf("journal corrupt: %s: %s; it is not trusted: rebuild the migration %q from its AWS tags with `rdsencrypt resume --source <source DB identifier>`",
		e.Path, e.Reason, e.ID)
}

// Unwrap makes errors.Is(err, ErrJournalCorrupt) true.
func (e *CorruptJournalError) Unwrap() error { return ErrJournalCorrupt }

// DefaultStateDir is $XDG_STATE_HOME/rdsencrypt, else ~/.local/state/rdsencrypt.
func DefaultStateDir() (string, error) {
	// The XDG spec says relative paths are invalid and must be ignored.
	if x := os.Getenv("XDG_STATE_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "rdsencrypt"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("state directory: %w (set XDG_STATE_HOME)", err)
	}
	return filepath.Join(home, ".local", "state", "rdsencrypt"), nil
}

// Store keeps journals, locks and audit trails of migrations in one directory.
// It holds no mutable state and is safe for concurrent use.
type Store struct {
	dir string
}

// OpenStore opens (creating it 0700 if needed) the state directory dir.
//
// The directory must be owned by the current user and must not be group or world
// writable: anyone who can write it could swap a journal, so such a directory is refused
// (ErrInsecureStateDir) rather than silently fixed, since tampering may already have
// happened. A directory that is merely readable by others (0755) is tightened to 0700.
func OpenStore(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("state directory: empty path")
	}
	dir = filepath.Clean(dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state directory %s: %w", dir, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("state directory %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("state directory %s: not a directory", dir)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return nil, fmt.Errorf("%w: %s is owned by uid %d, not by the current user (uid %d)",
			ErrInsecureStateDir, dir, st.Uid, os.Geteuid())
	}
	perm := fi.Mode().Perm()
	if perm&0o022 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o (group or world writable); fix it with `chmod 700 %s` after checking its journals",
			ErrInsecureStateDir, dir, perm, dir)
	}
	if perm != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return nil, fmt.Errorf("state directory %s: tighten mode %04o to 0700: %w", dir, perm, err)
		}
	}
	return &Store{dir: dir}, nil
}

// Dir is the state directory.
func (s *Store) Dir() string { return s.dir }

// JournalPath is the path of the journal of migration id.
func (s *Store) JournalPath(id string) string { return filepath.Join(s.dir, id+journalExt) }

// Migration ids name files: letters, digits, '-', '_' and '.', not starting with '.'.
var migrationIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$`)

func checkID(id string) error {
	if !migrationIDRE.MatchString(id) {
		return fmt.Errorf("%w: %q (want letters, digits, '-', '_' or '.', not starting with '.')", ErrInvalidMigrationID, id)
	}
	return nil
}

type journalFile struct {
	Format   int             `json:"format"`
	Checksum string          `json:"checksum"`
	State    json.RawMessage `json:"state"`
}

func checksumOf(b []byte) string {
	sum := sha256.Sum256(b)
	return checksumPrefix + hex.EncodeToString(sum[:])
}

// redactedCopy returns st with every free-text field passed through Redact, sharing
// nothing mutable with st so the caller's record is left as it is.
func redactedCopy(st *State) State {
	c := *st
	c.LastError = Redact(st.LastError)
	c.Steps = slices.Clone(st.Steps)
	for i := range c.Steps {
		c.Steps[i].Error = Redact(c.Steps[i].Error)
	}
	c.Differences = slices.Clone(st.Differences)
	for i := range c.Differences {
		c.Differences[i].Source = Redact(c.Differences[i].Source)
		c.Differences[i].Target = Redact(c.Differences[i].Target)
	}
	return c
}

// encodeJournal renders the journal file for st.
func encodeJournal(st *State) ([]byte, error) {
	c := redactedCopy(st)
	body, err := json.MarshalIndent(&c, "  ", "  ")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "{\n  \"format\": %d,\n  \"checksum\": %q,\n  \"state\": ", JournalFormat, checksumOf(body))
	buf.Write(body)
	buf.WriteString("\n}\n")
	return buf.Bytes(), nil
}

// decodeJournal parses and verifies a journal file. Any error it returns is a reason the
// content cannot be trusted.
func decodeJournal(data []byte) (*State, error) {
	var jf journalFile
	if err := json.Unmarshal(data, &jf); err != nil {
		return nil, fmt.Errorf("unparsable: %v", err)
	}
	if jf.Format != JournalFormat {
		return nil, fmt.Errorf("unknown format %d (this rdsencrypt reads format %d)", jf.Format, JournalFormat)
	}
	if !strings.HasPrefix(jf.Checksum, checksumPrefix) {
		return nil, errors.New("missing or malformed checksum")
	}
	if len(jf.State) == 0 {
		return nil, errors.New("no state")
	}
	if got := checksumOf(jf.State); got != jf.Checksum {
		return nil, errors.New("checksum mismatch (truncated or edited)")
	}
	if bytes.Equal(bytes.TrimSpace(jf.State), []byte("null")) {
		return nil, errors.New("state is null")
	}
	var st State
	if err := json.Unmarshal(jf.State, &st); err != nil {
		return nil, fmt.Errorf("state unparsable: %v", err)
	}
	return &st, nil
}

// Save writes the journal of st.ID atomically: a crash leaves either the previous journal
// or the new one, never a mix. Free-text fields (LastError, step errors, parity values)
// are passed through Redact; st itself is not modified. Save does not set UpdatedAt.
//
// Concurrent Saves of one id are safe but the last rename wins; one migration is driven
// by one process holding its Lock.
func (s *Store) Save(st *State) error {
	if st == nil {
		return errors.New("save journal: nil state")
	}
	if err := checkID(st.ID); err != nil {
		return fmt.Errorf("save journal: %w", err)
	}
	data, err := encodeJournal(st)
	if err != nil {
		return fmt.Errorf("save journal %s: %w", st.ID, err)
	}
	path := s.JournalPath(st.ID)
	if err := writeFileAtomic(s.dir, path, data); err != nil {
		return fmt.Errorf("save journal %s: %w", path, err)
	}
	return nil
}

// writeFileAtomic writes data to path via a 0600 temp file in dir: write, fsync, rename,
// fsync dir. Temp files start with '.' and never end in ".json", so readers ignore them.
func writeFileAtomic(dir, path string, data []byte) (err error) {
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*") // mode 0600
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}

// Load reads and verifies the journal of migration id. A missing journal gives
// ErrJournalNotFound; a truncated, edited or unparsable one gives a *CorruptJournalError
// (errors.Is ErrJournalCorrupt) and no state.
func (s *Store) Load(id string) (*State, error) {
	if err := checkID(id); err != nil {
		return nil, fmt.Errorf("load journal: %w", err)
	}
	return s.load(id, s.JournalPath(id))
}

func (s *Store) load(id, path string) (*State, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s (migration %q)", ErrJournalNotFound, path, id)
	}
	if err != nil {
		return nil, fmt.Errorf("load journal: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxJournalBytes+1))
	if err != nil {
		return nil, fmt.Errorf("load journal %s: %w", path, err)
	}
	if len(data) > maxJournalBytes {
		return nil, &CorruptJournalError{Path: path, ID: id, Reason: fmt.Sprintf("larger than %d bytes", maxJournalBytes)}
	}
	st, err := decodeJournal(data)
	if err != nil {
		return nil, &CorruptJournalError{Path: path, ID: id, Reason: err.Error()}
	}
	if st.ID != id {
		// A journal copied or renamed from another migration is not this one's.
		return nil, &CorruptJournalError{Path: path, ID: id, Reason: fmt.Sprintf("it records migration %q", st.ID)}
	}
	return st, nil
}

// List loads every journal in the directory, newest UpdatedAt first (ties by id).
// Journals that cannot be read or verified are not skipped silently: each one is
// reported in problems (a *CorruptJournalError for corrupt ones) and left out of
// states. err is set only when the directory itself cannot be read.
func (s *Store) List() (states []*State, problems []error, err error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, nil, fmt.Errorf("list journals in %s: %w", s.dir, err)
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, journalExt) || strings.HasPrefix(name, ".") || e.IsDir() {
			continue
		}
		id := strings.TrimSuffix(name, journalExt)
		path := filepath.Join(s.dir, name)
		if checkID(id) != nil {
			problems = append(problems, &CorruptJournalError{Path: path, ID: id, Reason: "file name is not a valid migration id"})
			continue
		}
		st, err := s.load(id, path)
		if err != nil {
			problems = append(problems, err)
			continue
		}
		states = append(states, st)
	}
	slices.SortFunc(states, func(a, b *State) int {
		if c := b.UpdatedAt.Compare(a.UpdatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return states, problems, nil
}
