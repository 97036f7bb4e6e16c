package replication

import (
	"context"
	"fmt"
	"testing"
)

// fakeTables is two in-memory databases: a table's content is a number, its marker the count
// of writes to it on that side. sumsRead counts the tables each side summed.
type fakeTables struct {
	src, dst  map[string]int
	writes    map[string]int // on the source
	dstWrites map[string]int // on the target (the stream's and others')
	noMarker  map[string]bool
	sumsRead  map[string]int // by "src"/"dst"
	// onCaughtUp runs while VerifyAhead waits for the target (writes in flight).
	onCaughtUp func()
}

func newFake(tables ...string) *fakeTables {
	f := &fakeTables{src: map[string]int{}, dst: map[string]int{}, writes: map[string]int{}, dstWrites: map[string]int{}, noMarker: map[string]bool{}, sumsRead: map[string]int{}}
	for _, t := range tables {
		f.src[t], f.dst[t] = 1, 1
	}
	return f
}

func (f *fakeTables) write(t string, v int, replicate bool) {
	f.src[t] = v
	f.writes[t]++
	if replicate {
		f.dst[t] = v
		f.dstWrites[t]++
	}
}

func (f *fakeTables) side(ep Endpoint) (map[string]int, string) {
	if ep.Host == "src" {
		return f.src, "src"
	}
	return f.dst, "dst"
}

func (f *fakeTables) List(_ context.Context, ep Endpoint) ([]string, error) {
	m, _ := f.side(ep)
	var out []string
	for t := range m {
		out = append(out, t)
	}
	return out, nil
}

func (f *fakeTables) Sums(_ context.Context, ep Endpoint, tables []string) (map[string]Sum, error) {
	m, name := f.side(ep)
	out := map[string]Sum{}
	for _, t := range tables {
		f.sumsRead[name]++
		if v, ok := m[t]; ok {
			out[t] = Sum{Rows: 1, Checksum: fmt.Sprint(v)}
		}
	}
	return out, nil
}

func (f *fakeTables) Markers(_ context.Context, ep Endpoint, tables []string) (map[string]string, error) {
	writes := f.writes
	if _, side := f.side(ep); side == "dst" {
		writes = f.dstWrites
	}
	out := map[string]string{}
	for _, t := range tables {
		if !f.noMarker[t] {
			out[t] = fmt.Sprint(writes[t])
		}
	}
	return out, nil
}

func (f *fakeTables) Unchanged(ctx context.Context, src Endpoint, markers map[string]string, _ bool) (map[string]bool, error) {
	var names []string
	for t := range markers {
		names = append(names, t)
	}
	now, _ := f.Markers(ctx, src, names)
	out := map[string]bool{}
	for t, m := range markers {
		out[t] = m != "" && now[t] == m
	}
	return out, nil
}

func (f *fakeTables) CaughtUp(context.Context, Endpoint, Endpoint, Names) error {
	if f.onCaughtUp != nil {
		f.onCaughtUp()
	}
	return nil
}

var srcEP, dstEP = Endpoint{Host: "src"}, Endpoint{Host: "dst"}

// A table written after it was verified ahead is compared again inside the freeze, and a
// difference there is found; a table not written since is not read again.
func TestChangedVerifyReadsOnlyTablesWrittenSinceAhead(t *testing.T) {
	f := newFake("cold", "hot", "lost")
	ahead, err := AheadVerify(context.Background(), f, srcEP, dstEP, Names{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ahead.Tables {
		if c.Marker == "" || !c.Equal() {
			t.Fatalf("ahead: %+v not verified", c)
		}
	}
	f.write("hot", 2, true)   // replicated
	f.write("lost", 3, false) // the target missed it
	f.sumsRead = map[string]int{}
	v, err := ChangedVerify(context.Background(), f, srcEP, dstEP, ahead.Tables)
	if err != nil {
		t.Fatal(err)
	}
	if v.Ahead() != 1 || len(v.Tables) != 3 || f.sumsRead["src"] != 2 || f.sumsRead["dst"] != 2 {
		t.Fatalf("%d of %d tables carried from ahead, sums read %v; want cold only carried and 2 read per side", v.Ahead(), len(v.Tables), f.sumsRead)
	}
	d := v.Differences()
	if len(d) != 1 || d[0].Table != "lost" {
		t.Fatalf("differences %+v, want lost", d)
	}
}

// A table that differs ahead though not written meanwhile (the target lags) is tried again,
// AheadTries in all, then left to the freeze; a table written during its comparison is left
// after one try; a table without a marker is never carried.
func TestAheadLeavesLaggingWrittenAndUnmarkedTablesToTheFreeze(t *testing.T) {
	f := newFake("busy", "heap", "lagging", "still")
	f.noMarker["heap"] = true
	f.dst["lagging"] = 0                                              // behind, and nothing writes it
	f.onCaughtUp = func() { f.write("busy", f.src["busy"]+1, false) } // written during every try
	ahead, err := AheadVerify(context.Background(), f, srcEP, dstEP, Names{})
	if err != nil {
		t.Fatal(err)
	}
	// Sums read on the source: every table once, lagging twice more.
	if f.sumsRead["src"] != 4+AheadTries-1 {
		t.Fatalf("source sums read %d times, want %d", f.sumsRead["src"], 4+AheadTries-1)
	}
	got := map[string]string{}
	for _, c := range ahead.Tables {
		got[c.Table] = c.Marker
	}
	if got["busy"] != "" || got["heap"] != "" || got["lagging"] != "" || got["still"] == "" {
		t.Fatalf("markers %v: want only still marked", got)
	}
	f.dst["busy"], f.dst["lagging"] = f.src["busy"], f.src["lagging"] // drained
	v, err := ChangedVerify(context.Background(), f, srcEP, dstEP, ahead.Tables)
	if err != nil {
		t.Fatal(err)
	}
	if v.Ahead() != 1 || len(v.Differences()) != 0 {
		t.Fatalf("%d carried, differences %+v", v.Ahead(), v.Differences())
	}
}

// A table on one side only is compared (and differs) inside the freeze.
func TestChangedVerifyFindsATableOnOneSideOnly(t *testing.T) {
	f := newFake("a")
	ahead, err := AheadVerify(context.Background(), f, srcEP, dstEP, Names{})
	if err != nil {
		t.Fatal(err)
	}
	f.dst["extra"] = 1
	v, err := ChangedVerify(context.Background(), f, srcEP, dstEP, ahead.Tables)
	if err != nil {
		t.Fatal(err)
	}
	if d := v.Differences(); len(d) != 1 || d[0].Table != "extra" || d[0].SourceRows != -1 {
		t.Fatalf("differences %+v", d)
	}
}

// A row changed on the target only (not through the stream) after the verification ahead, in
// a table the source did not write since, is compared inside the freeze and found (review S1).
func TestChangedVerifyFindsAChangeMadeOnTheTargetOnly(t *testing.T) {
	f := newFake("cold", "touched")
	ahead, err := AheadVerify(context.Background(), f, srcEP, dstEP, Names{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ahead.Tables {
		if c.Marker == "" || c.TargetMarker == "" || !c.Equal() {
			t.Fatalf("ahead: %+v not verified with both markers", c)
		}
	}
	f.dst["touched"] = 9 // a client of the target
	f.dstWrites["touched"]++
	f.sumsRead = map[string]int{}
	v, err := ChangedVerify(context.Background(), f, srcEP, dstEP, ahead.Tables)
	if err != nil {
		t.Fatal(err)
	}
	if v.Ahead() != 1 || f.sumsRead["src"] != 1 || f.sumsRead["dst"] != 1 {
		t.Fatalf("%d carried from ahead, sums read %v; want cold only carried and touched read on each side", v.Ahead(), f.sumsRead)
	}
	if d := v.Differences(); len(d) != 1 || d[0].Table != "touched" {
		t.Fatalf("differences %+v, want touched", d)
	}
}

// A journal written before the target's marker existed carries nothing from ahead.
func TestChangedVerifyComparesATableWithoutTargetMarker(t *testing.T) {
	f := newFake("a")
	ahead, err := AheadVerify(context.Background(), f, srcEP, dstEP, Names{})
	if err != nil {
		t.Fatal(err)
	}
	ahead.Tables[0].TargetMarker = ""
	v, err := ChangedVerify(context.Background(), f, srcEP, dstEP, ahead.Tables)
	if err != nil {
		t.Fatal(err)
	}
	if v.Ahead() != 0 || len(v.Differences()) != 0 {
		t.Fatalf("%d carried, differences %+v", v.Ahead(), v.Differences())
	}
}
