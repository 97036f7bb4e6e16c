// Package journal keeps what rdsencrypt records about each migration in its state
// directory: the journal (one checksummed JSON file per migration, written atomically),
// the lock that lets one process drive a migration, and the append-only audit trail.
//
// It knows the files and their format, not what a migration is: the journal's state is
// whatever value the caller gives (the workflow's State), encoded as JSON.
package journal

import (
	"bytes"
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

// Format is the envelope version this code writes and reads.
const Format = 1

const (
	journalExt      = ".json"
	checksumPrefix  = "sha256:"
	maxJournalBytes = 16 << 20 // far above any real journal; bounds what Read reads
)

var (
	// ErrNotFound: no journal exists for the migration.
	ErrNotFound = errors.New("journal not found")
	// ErrCorrupt: the journal exists but is truncated, edited or unparsable. Its
	// content is never used; the migration is rebuilt from the AWS tags instead.
	ErrCorrupt = errors.New("journal corrupt")
	// ErrInsecureDir: the state directory is not private to the current user.
	ErrInsecureDir = errors.New("state directory is not private")
	// ErrInvalidID: the id cannot safely name a file.
	ErrInvalidID = errors.New("invalid migration id")
)

// CorruptError says which journal is corrupt and why. It matches ErrCorrupt with
// errors.Is.
type CorruptError struct {
	Path   string
	ID     string
	Reason string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("journal corrupt: %s: %s; it is not trusted: rebuild the migration %q from its AWS tags with `rdsencrypt resume --source <source DB identifier>`",
		e.Path, e.Reason, e.ID)
}

// Unwrap makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Unwrap() error { return ErrCorrupt }

// DefaultDir is $XDG_STATE_HOME/rdsencrypt, else ~/.local/state/rdsencrypt.
func DefaultDir() (string, error) {
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

// Open opens (creating it 0700 if needed) the state directory dir.
//
// The directory must be owned by the current user and must not be group or world
// writable: anyone who can write it could swap a journal, so such a directory is refused
// (ErrInsecureDir) rather than silently fixed, since tampering may already have
// happened. A directory that is merely readable by others (0755) is tightened to 0700.
func Open(dir string) (*Store, error) {
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
			ErrInsecureDir, dir, st.Uid, os.Geteuid())
	}
	perm := fi.Mode().Perm()
	if perm&0o022 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o (group or world writable); fix it with `chmod 700 %s` after checking its journals",
			ErrInsecureDir, dir, perm, dir)
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

// CheckID says whether id can name a migration's files (ErrInvalidID if not).
func CheckID(id string) error {
	if !migrationIDRE.MatchString(id) {
		return fmt.Errorf("%w: %q (want letters, digits, '-', '_' or '.', not starting with '.')", ErrInvalidID, id)
	}
	return nil
}

type journalFile struct {
	Format   int             `json:"format"`
	Checksum string          `json:"checksum"`
	State    json.RawMessage `json:"state"`
}

// Checksum is the checksum the envelope records for the state bytes b.
func Checksum(b []byte) string {
	sum := sha256.Sum256(b)
	return checksumPrefix + hex.EncodeToString(sum[:])
}

// Encode renders the journal file for state: the envelope around state as indented JSON.
func Encode(state any) ([]byte, error) {
	body, err := json.MarshalIndent(state, "  ", "  ")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "{\n  \"format\": %d,\n  \"checksum\": %q,\n  \"state\": ", Format, Checksum(body))
	buf.Write(body)
	buf.WriteString("\n}\n")
	return buf.Bytes(), nil
}

// Decode parses and verifies a journal file into state (a pointer). Any error it returns
// is a reason the content cannot be trusted.
func Decode(data []byte, state any) error {
	var jf journalFile
	if err := json.Unmarshal(data, &jf); err != nil {
		return fmt.Errorf("unparsable: %v", err)
	}
	if jf.Format != Format {
		return fmt.Errorf("unknown format %d (this rdsencrypt reads format %d)", jf.Format, Format)
	}
	if !strings.HasPrefix(jf.Checksum, checksumPrefix) {
		return errors.New("missing or malformed checksum")
	}
	if len(jf.State) == 0 {
		return errors.New("no state")
	}
	if got := Checksum(jf.State); got != jf.Checksum {
		return errors.New("checksum mismatch (truncated or edited)")
	}
	if bytes.Equal(bytes.TrimSpace(jf.State), []byte("null")) {
		return errors.New("state is null")
	}
	if err := json.Unmarshal(jf.State, state); err != nil {
		return fmt.Errorf("state unparsable: %v", err)
	}
	return nil
}

// Write writes the journal of migration id, holding state, atomically: a crash leaves
// either the previous journal or the new one, never a mix. The caller redacts state
// first: Write stores it as given.
//
// Concurrent Writes of one id are safe but the last rename wins; one migration is driven
// by one process holding its Lock.
func (s *Store) Write(id string, state any) error {
	if err := CheckID(id); err != nil {
		return fmt.Errorf("save journal: %w", err)
	}
	data, err := Encode(state)
	if err != nil {
		return fmt.Errorf("save journal %s: %w", id, err)
	}
	path := s.JournalPath(id)
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

// Read reads and verifies the journal of migration id into state (a pointer). A missing
// journal gives ErrNotFound; a truncated, edited or unparsable one gives a *CorruptError
// (errors.Is ErrCorrupt), and state must not be used.
func (s *Store) Read(id string, state any) error {
	if err := CheckID(id); err != nil {
		return fmt.Errorf("load journal: %w", err)
	}
	path := s.JournalPath(id)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s (migration %q)", ErrNotFound, path, id)
	}
	if err != nil {
		return fmt.Errorf("load journal: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxJournalBytes+1))
	if err != nil {
		return fmt.Errorf("load journal %s: %w", path, err)
	}
	if len(data) > maxJournalBytes {
		return &CorruptError{Path: path, ID: id, Reason: fmt.Sprintf("larger than %d bytes", maxJournalBytes)}
	}
	if err := Decode(data, state); err != nil {
		return &CorruptError{Path: path, ID: id, Reason: err.Error()}
	}
	return nil
}

// IDs lists the migrations that have a journal in the directory, in file name order.
// A journal file whose name is not a valid id is reported in problems as a *CorruptError.
// err is set only when the directory itself cannot be read.
func (s *Store) IDs() (ids []string, problems []error, err error) {
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
		if CheckID(id) != nil {
			problems = append(problems, &CorruptError{Path: filepath.Join(s.dir, name), ID: id, Reason: "file name is not a valid migration id"})
			continue
		}
		ids = append(ids, id)
	}
	return ids, problems, nil
}
