package dataplane

import (
	"testing"
	"time"
)

func TestAuditCommitsAndLongestGap(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cs := []Commit{{"a", t0}, {"b", t0.Add(time.Second)}, {"c", t0.Add(5 * time.Second)}, {"d", t0.Add(6 * time.Second)}}
	if gap, at := LongestGap(cs); gap != 4*time.Second || !at.Equal(t0.Add(time.Second)) {
		t.Fatalf("LongestGap: %s at %s, want 4s at +1s", gap, at)
	}
	if gap, _ := LongestGap(cs[:1]); gap != 0 {
		t.Fatalf("LongestGap of one commit: %s", gap)
	}
	// b lost, c twice, x present unseen, y present twice unseen.
	a := AuditCommits(cs, map[string]int{"a": 1, "c": 2, "d": 1, "x": 1, "y": 2})
	want := Audit{Committed: 4, Lost: 1, Duplicated: 2, Unacknowledged: 2, LostKeys: []string{"b"}}
	if a.Committed != want.Committed || a.Lost != want.Lost || a.Duplicated != want.Duplicated || a.Unacknowledged != want.Unacknowledged || len(a.LostKeys) != 1 || a.LostKeys[0] != "b" {
		t.Fatalf("AuditCommits: %+v, want %+v", a, want)
	}
	if a.Err() == nil || a.Err().Error() != "1 lost [b], 2 duplicated" {
		t.Fatalf("Err: %v", a.Err())
	}
	if ok := AuditCommits(cs, map[string]int{"a": 1, "b": 1, "c": 1, "d": 1, "x": 1}); ok.Err() != nil || ok.Unacknowledged != 1 {
		t.Fatalf("nothing lost: %+v %v", ok, ok.Err())
	}
	// A client that committed nothing proves nothing: the audit fails, whatever is present.
	if none := AuditCommits(nil, map[string]int{"x": 1}); none.Err() == nil || none.Err().Error() != "no commit seen (1 present but unacknowledged)" {
		t.Fatalf("no commit: %+v %v", none, none.Err())
	}
}
