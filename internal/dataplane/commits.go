package dataplane

import (
	"fmt"
	"time"
)

// Commit is one transaction a load client saw commit: the key it wrote (to find the
// transaction again on the final instance) and when its commit returned. The data-plane tests
// prove with these that a migration loses no committed write.
type Commit struct {
	Key string
	At  time.Time
}

// LongestGap returns the longest time between two consecutive commits (cs in commit order) and
// when it began: the write downtime as the client saw it.
func LongestGap(cs []Commit) (time.Duration, time.Time) {
	var gap time.Duration
	var at time.Time
	for i := 1; i < len(cs); i++ {
		if d := cs[i].At.Sub(cs[i-1].At); d > gap {
			gap, at = d, cs[i-1].At
		}
	}
	return gap, at
}

// Audit is what the final instance holds of the commits a client saw.
type Audit struct {
	Committed  int // commits the client saw
	Lost       int // seen committed, absent
	Duplicated int // present more than once (seen or not)
	// Unacknowledged: present, but the client never saw the commit return (its outcome was
	// unknown to the client: a connection lost during COMMIT). Not a fault.
	Unacknowledged int
	LostKeys       []string
}

// AuditCommits compares the commits a client saw with have, how many times each key is on the
// final instance.
func AuditCommits(cs []Commit, have map[string]int) Audit {
	a := Audit{Committed: len(cs)}
	seen := make(map[string]bool, len(cs))
	for _, c := range cs {
		seen[c.Key] = true
		switch n := have[c.Key]; {
		case n == 0:
			a.Lost++
			a.LostKeys = append(a.LostKeys, c.Key)
		case n > 1:
			a.Duplicated++
		}
	}
	for key, n := range have {
		if !seen[key] {
			a.Unacknowledged++
			if n > 1 {
				a.Duplicated++
			}
		}
	}
	return a
}

func (a Audit) String() string {
	return fmt.Sprintf("committed %d, lost %d, duplicated %d, committed unseen %d", a.Committed, a.Lost, a.Duplicated, a.Unacknowledged)
}

// Err says what was lost or duplicated (the first five lost keys), nil when nothing was. An
// audit of no commit fails too: a load client that never committed proves nothing.
func (a Audit) Err() error {
	if a.Committed == 0 {
		return fmt.Errorf("no commit seen (%d present but unacknowledged)", a.Unacknowledged)
	}
	if a.Lost == 0 && a.Duplicated == 0 {
		return nil
	}
	return fmt.Errorf("%d lost %v, %d duplicated", a.Lost, a.LostKeys[:min(5, len(a.LostKeys))], a.Duplicated)
}
