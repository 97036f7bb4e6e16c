package workflow

import (
	"errors"
	"fmt"
	"os"
)

// StatusNotStarted is the outcome of a migration the operator quit before its first side
// effect: nothing was changed in AWS, and no journal is kept to block a later migration.
const StatusNotStarted = "not-started"

// untouched says whether no mutating step has started: AWS holds nothing of this migration
// and writes were never frozen.
func (r *run) untouched() bool {
	if !r.st.FreezeAt.IsZero() {
		return false
	}
	for _, ss := range r.st.Steps {
		if ss.StartedAt == nil {
			continue
		}
		kind, _ := splitStep(ss.Name)
		if info, ok := stepByName(r.route.steps(), kind); !ok || info.mutating {
			return false
		}
	}
	return true
}

// discard removes the journal and audit trail of a migration quit before its first side
// effect and reports that nothing was changed. The lock file stays: a lock file is never
// removed (lock.go), and it blocks nothing once released.
func (r *run) discard() (*Report, error) {
	for _, path := range []string{r.e.Store.JournalPath(r.st.ID), r.e.Store.AuditPath(r.st.ID)} {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return ReportOf(r.st), fmt.Errorf("quit before any change, but the journal could not be removed: %w", err)
		}
	}
	rep := &Report{Source: r.st.Source, Kind: r.st.Kind, Region: r.st.Region, Status: StatusNotStarted,
		KmsKeyARN: r.st.KmsKeyARN, Parity: Parity{Differences: []Difference{}}}
	r.notify(Event{Type: EventFinished, Report: rep})
	return rep, nil
}
