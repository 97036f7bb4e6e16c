package workflow

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/rdsencrypt/rdsencrypt/internal/journal"
	"github.com/rdsencrypt/rdsencrypt/internal/redact"
)

// Store is the state directory as the workflow sees it: a journal.Store (journals, locks,
// audit trails) whose journals hold a State. The file format is the journal package's.
type Store struct {
	*journal.Store
}

// OpenStore opens (creating it 0700 if needed) the state directory dir; see journal.Open.
func OpenStore(dir string) (*Store, error) {
	s, err := journal.Open(dir)
	if err != nil {
		return nil, err
	}
	return &Store{Store: s}, nil
}

// redactedCopy returns st with every free-text field passed through redact.String,
// sharing nothing mutable with st so the caller's record is left as it is.
func redactedCopy(st *State) State {
	c := *st
	c.LastError = redact.String(st.LastError)
	c.Steps = slices.Clone(st.Steps)
	for i := range c.Steps {
		c.Steps[i].Error = redact.String(c.Steps[i].Error)
	}
	c.Differences = slices.Clone(st.Differences)
	for i := range c.Differences {
		c.Differences[i].Source = redact.String(c.Differences[i].Source)
		c.Differences[i].Target = redact.String(c.Differences[i].Target)
	}
	return c
}

// encodeJournal renders the journal file for st.
func encodeJournal(st *State) ([]byte, error) {
	c := redactedCopy(st)
	return journal.Encode(&c)
}

// Save writes the journal of st.ID atomically (journal.Store.Write). Free-text fields
// (LastError, step errors, parity values) are passed through redact.String; st itself is
// not modified. Save does not set UpdatedAt.
func (s *Store) Save(st *State) error {
	if st == nil {
		return errors.New("save journal: nil state")
	}
	c := redactedCopy(st)
	return s.Write(st.ID, &c)
}

// Load reads and verifies the journal of migration id. A missing journal gives
// journal.ErrNotFound; a truncated, edited or unparsable one, or one that records another
// migration, gives a *journal.CorruptError (errors.Is journal.ErrCorrupt) and no state.
func (s *Store) Load(id string) (*State, error) {
	var st State
	if err := s.Read(id, &st); err != nil {
		return nil, err
	}
	if st.ID != id {
		// A journal copied or renamed from another migration is not this one's.
		return nil, &journal.CorruptError{Path: s.JournalPath(id), ID: id, Reason: fmt.Sprintf("it records migration %q", st.ID)}
	}
	return &st, nil
}

// List loads every journal in the directory, newest UpdatedAt first (ties by id).
// Journals that cannot be read or verified are not skipped silently: each one is
// reported in problems (a *journal.CorruptError for corrupt ones) and left out of
// states. err is set only when the directory itself cannot be read.
func (s *Store) List() (states []*State, problems []error, err error) {
	ids, problems, err := s.IDs()
	if err != nil {
		return nil, nil, err
	}
	for _, id := range ids {
		st, err := s.Load(id)
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
