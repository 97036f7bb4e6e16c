package workflow

// StatusInterrupted is how status shows a migration whose journal says a process is driving
// it (running, rolling back, cleaning up) while no process holds its lock: that process died
// (kill -9, a crash, a reboot). It is never written to a journal.
const StatusInterrupted = "interrupted"

// Interrupted says whether st's journal claims a process is driving the migration while its
// lock is free.
func (s *Store) Interrupted(st *State) bool {
	switch st.Status {
	case StatusRunning, StatusRollingBack, StatusCleaningUp:
		return !s.Held(st.ID)
	}
	return false
}

// ContinueCommand is the command that continues a migration in status: resume, or the
// rollback or cleanup it was in the middle of.
func ContinueCommand(st *State) string {
	switch st.Status {
	case StatusRollingBack:
		return "rdsencrypt rollback " + st.ID
	case StatusCleaningUp:
		return "rdsencrypt cleanup " + st.ID
	}
	return "rdsencrypt resume " + st.ID
}
