package journal

import (
	"errors"
	"os"
	"syscall"
)

// Held says whether a process holds the lock of migration id. It probes with a shared
// flock taken and dropped at once, so it never blocks; a Lock attempted by another process
// in that instant fails as if the lock were held. An unreadable lock counts as held.
func (s *Store) Held(id string) bool {
	f, err := os.OpenFile(s.LockPath(id), os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if errors.Is(err, os.ErrNotExist) {
		return false // never locked here
	}
	if err != nil {
		return true
	}
	defer f.Close()
	if err := flock(f, syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		return true
	}
	_ = flock(f, syscall.LOCK_UN)
	return false
}
