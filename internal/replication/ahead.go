package replication

import (
	"context"
	"sort"
	"time"
)

// AheadVerifier is implemented by an engine that verifies the tables while the source still
// takes writes and, inside the freeze, re-verifies only the tables that changed since, so the
// freeze does not grow with the data (docs/replication.md#verification-ahead-of-the-freeze).
type AheadVerifier interface {
	// VerifyAhead compares every table of src with dst once dst has caught up, while src
	// takes writes. A table that agrees comes back with Marker and TargetMarker set: each
	// side's change marker, read before that side's rows were. A table that still differs after a few tries (lag) comes back
	// without a marker and is verified inside the freeze.
	VerifyAhead(ctx context.Context, src, dst Endpoint, n Names) (Verification, error)
	// VerifyChanged compares, with src frozen and dst drained (the consistent point), every
	// table that ahead did not verify or whose marker moved since on either side, and carries
	// the others from ahead with Ahead set.
	VerifyChanged(ctx context.Context, src, dst Endpoint, ahead []TableCheck) (Verification, error)
}

// Advancer is implemented by an AheadVerifier whose check of the markers reads what was written
// since them (MySQL/MariaDB: the binary logs, docs/replication-mysql.md#verification-ahead-of-the-freeze).
// Advance, called right before the freeze with the tables verified ahead, reads up to then, so
// that VerifyChanged, inside the freeze, reads only what was written since.
type Advancer interface {
	Advance(ctx context.Context, src, dst Endpoint, ahead []TableCheck) error
}

// Sum is one table's row count and checksum on one side; Rows -1 when the table is missing.
type Sum struct {
	Rows     int64
	Checksum string
}

// Tables is what an engine provides for VerifyAhead and VerifyChanged: the shared algorithm is
// AheadVerify and ChangedVerify.
type Tables interface {
	// List names the tables to verify on ep.
	List(ctx context.Context, ep Endpoint) ([]string, error)
	// Sums counts and checksums tables on ep (Rows -1, Checksum "missing" for one not there).
	Sums(ctx context.Context, ep Endpoint, tables []string) (map[string]Sum, error)
	// Markers reads the change markers of tables on ep, the source or the target ("" for a
	// table that has none: it is verified inside the freeze).
	Markers(ctx context.Context, ep Endpoint, tables []string) (map[string]string, error)
	// Unchanged says which tables certainly did not change on ep since their markers were
	// read there. frozen: the source is frozen and the target drained (the engine may wait
	// there for what makes its markers exact); any doubt is "changed".
	Unchanged(ctx context.Context, ep Endpoint, markers map[string]string, frozen bool) (map[string]bool, error)
	// CaughtUp waits until dst has applied everything src had committed when it was called.
	CaughtUp(ctx context.Context, src, dst Endpoint, n Names) error
}

// AheadTries is how many times VerifyAhead compares a table that differs while its marker
// stayed put (the target lagged) before leaving it to the freeze.
var AheadTries = 3

// AheadWait bounds each try's wait for the target to apply what the source had committed.
var AheadWait = 2 * time.Minute

// AheadVerify is VerifyAhead on an engine's Tables. Each try reads the markers, then the
// source's sums, then waits until dst has applied what src had committed by then, then reads
// dst's markers and sums, then the source's markers again: a table whose sums agree and whose
// marker did not move is verified; one that differs without having been written meanwhile is
// tried again, one written meanwhile is left to the freeze. Both sides' markers (the first
// read on each) are kept: if neither has moved by the freeze, no row of the table changed on
// the source since before its source sums were read, dst had applied every change made before
// those sums, and nothing (the stream or a client of dst) changed it on dst since before its
// dst sums were read, so both sides still hold what was compared.
func AheadVerify(ctx context.Context, t Tables, src, dst Endpoint, n Names) (Verification, error) {
	pending, err := t.List(ctx, src)
	if err != nil {
		return Verification{}, err
	}
	checks := map[string]TableCheck{}
	for try := 0; try < AheadTries && len(pending) > 0; try++ {
		markers, err := t.Markers(ctx, src, pending)
		if err != nil {
			return Verification{}, err
		}
		ss, err := t.Sums(ctx, src, pending)
		if err != nil {
			return Verification{}, err
		}
		waitCtx, cancel := context.WithTimeout(ctx, AheadWait)
		err = t.CaughtUp(waitCtx, src, dst, n)
		cancel()
		if err != nil && ctx.Err() == nil && waitCtx.Err() != nil {
			break // the target does not catch up: the freeze verifies what is left
		}
		if err != nil {
			return Verification{}, err
		}
		dm, err := t.Markers(ctx, dst, pending)
		if err != nil {
			return Verification{}, err
		}
		ds, err := t.Sums(ctx, dst, pending)
		if err != nil {
			return Verification{}, err
		}
		still, err := t.Unchanged(ctx, src, markers, false)
		if err != nil {
			return Verification{}, err
		}
		var next []string
		for _, name := range pending {
			c := check(name, ss, ds)
			switch {
			case markers[name] == "" || dm[name] == "":
				// no marker: the freeze compares it, whatever it is now
			case c.Equal() && still[name]:
				c.Marker, c.TargetMarker = markers[name], dm[name]
			case still[name]:
				// it differs though not written meanwhile: the target lagged (or the marker
				// did, as PostgreSQL's statistics may for a second): try again
				next = append(next, name)
			}
			// A table written during its own comparison is being written: a new try would
			// race the same writer and read the table again for nothing; the freeze compares it.
			checks[name] = c
		}
		pending = next
	}
	return collect(checks), nil
}

// ChangedVerify is VerifyChanged on an engine's Tables: the tables of both sides, less those
// ahead verified whose markers did not move on either side, are compared now. The target's
// marker catches a row changed on the target outside the stream (a stray client, a trigger,
// a hand-made fix) in a table the source did not write since.
func ChangedVerify(ctx context.Context, t Tables, src, dst Endpoint, ahead []TableCheck) (Verification, error) {
	names := map[string]bool{}
	for _, ep := range []Endpoint{src, dst} {
		list, err := t.List(ctx, ep)
		if err != nil {
			return Verification{}, err
		}
		for _, name := range list {
			names[name] = true
		}
	}
	markers, targetMarkers := map[string]string{}, map[string]string{}
	verified := map[string]TableCheck{}
	for _, c := range ahead {
		if names[c.Table] && c.Marker != "" && c.TargetMarker != "" && c.Equal() {
			markers[c.Table], targetMarkers[c.Table] = c.Marker, c.TargetMarker
			verified[c.Table] = c
		}
	}
	still := map[string]bool{}
	if len(markers) > 0 {
		onSrc, err := t.Unchanged(ctx, src, markers, true)
		if err != nil {
			return Verification{}, err
		}
		onDst, err := t.Unchanged(ctx, dst, targetMarkers, true)
		if err != nil {
			return Verification{}, err
		}
		for name := range markers {
			still[name] = onSrc[name] && onDst[name]
		}
	}
	checks := map[string]TableCheck{}
	var now []string
	for name := range names {
		if still[name] {
			c := verified[name]
			c.Ahead = true
			checks[name] = c
		} else {
			now = append(now, name)
		}
	}
	sort.Strings(now)
	if len(now) > 0 {
		ss, err := t.Sums(ctx, src, now)
		if err != nil {
			return Verification{}, err
		}
		ds, err := t.Sums(ctx, dst, now)
		if err != nil {
			return Verification{}, err
		}
		for _, name := range now {
			checks[name] = check(name, ss, ds)
		}
	}
	return collect(checks), nil
}

func check(name string, src, dst map[string]Sum) TableCheck {
	s, ok := src[name]
	if !ok {
		s = Sum{Rows: -1, Checksum: "missing"}
	}
	d, ok := dst[name]
	if !ok {
		d = Sum{Rows: -1, Checksum: "missing"}
	}
	return TableCheck{Table: name, SourceRows: s.Rows, SourceChecksum: s.Checksum, TargetRows: d.Rows, TargetChecksum: d.Checksum}
}

func collect(checks map[string]TableCheck) Verification {
	var v Verification
	for _, c := range checks {
		v.Tables = append(v.Tables, c)
	}
	sort.Slice(v.Tables, func(i, j int) bool { return v.Tables[i].Table < v.Tables[j].Table })
	return v
}

// Ahead counts the tables carried from the verification ahead of the freeze (not read again).
func (v Verification) Ahead() int {
	n := 0
	for _, t := range v.Tables {
		if t.Ahead {
			n++
		}
	}
	return n
}
