package journal

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// ErrLocked: another process (or another Lock in this process) is driving the migration.
var ErrLocked = errors.New("migration locked")

// LockedError names the holder of a migration's lock. It matches ErrLocked with errors.Is.
// PID and Host are what the holder wrote; PID is 0 when it had not written them yet.
type LockedError struct {
	ID    string
	Path  string
	PID   int
	Host  string
	Since time.Time
}

func (e *LockedError) Error() string {
	holder := "another process (its PID is not recorded yet)"
	if e.PID != 0 {
		holder = fmt.Sprintf("PID %d on host %s", e.PID, e.Host)
		if !e.Since.IsZero() {
			holder += " since " + e.Since.Format(time.RFC3339)
		}
	}
	return fmt.Sprintf("migration locked: %s is being driven by %s (lock %s); wait for it to finish or stop that process, then resume",
		e.ID, holder, e.Path)
}

// Unwrap makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Unwrap() error { return ErrLocked }

const lockExt = ".lock"

type lockHolder struct {
	PID   int       `json:"pid"`
	Host  string    `json:"host"`
	Since time.Time `json:"since"`
}

// LockPath is the path of the lock file of migration id.
func (s *Store) LockPath(id string) string { return filepath.Join(s.dir, id+lockExt) }

// Lock takes the exclusive, non-blocking advisory lock of migration id (flock on
// <dir>/<id>.lock) so that two processes never drive one migration. If the lock is held,
// it fails at once with a *LockedError naming the holder's PID.
//
// The kernel releases the lock when the holder dies, even by kill -9, so a lock file left
// behind never blocks a resume. The file itself is never removed: removing it while
// another process has it open would let two processes lock two different files.
// release is idempotent.
func (s *Store) Lock(id string) (release func() error, err error) {
	if err := CheckID(id); err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	path := s.LockPath(id)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", id, err)
	}
	if err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, lockedError(id, path, f)
		}
		return nil, fmt.Errorf("lock %s: flock %s: %w", id, path, err)
	}

	host, _ := os.Hostname()
	info, _ := json.Marshal(lockHolder{PID: os.Getpid(), Host: host, Since: time.Now().UTC()})
	if err := writeHolder(f, append(info, '\n')); err != nil {
		flock(f, syscall.LOCK_UN)
		f.Close()
		return nil, fmt.Errorf("lock %s: record holder in %s: %w", id, path, err)
	}

	var once sync.Once
	var relErr error
	release = func() error {
		once.Do(func() {
			// Clear the holder while still holding the lock, so no one reads a stale PID.
			terr := f.Truncate(0)
			uerr := flock(f, syscall.LOCK_UN)
			cerr := f.Close()
			if err := errors.Join(terr, uerr, cerr); err != nil {
				relErr = fmt.Errorf("unlock %s: %w", id, err)
			}
		})
		return relErr
	}
	return release, nil
}

// lockedError reads the holder from the lock file. The holder writes it just after
// locking, so an empty file gets a few short retries.
func lockedError(id, path string, f *os.File) *LockedError {
	le := &LockedError{ID: id, Path: path}
	for try := 0; try < 5; try++ {
		var h lockHolder
		b, err := io.ReadAll(io.NewSectionReader(f, 0, 4096))
		if err == nil && json.Unmarshal(b, &h) == nil && h.PID != 0 {
			le.PID, le.Host, le.Since = h.PID, h.Host, h.Since
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return le
}

func writeHolder(f *os.File, b []byte) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt(b, 0); err != nil {
		return err
	}
	return f.Sync()
}

// flock retries on EINTR, which a signal (SIGINT handling, the Go runtime's preemption
// signals) can cause.
func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
