package workflow

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/rdsencrypt/rdsencrypt/internal/journal"
)

// FuzzLoadJournal feeds arbitrary bytes to Load as the journal of one migration. Load
// must never panic, and must either fail with journal.ErrCorrupt or return a state whose
// checksum really matches and whose id is the one asked for. The seed corpus is in
// testdata/fuzz/FuzzLoadJournal and runs with every `go test`.
func FuzzLoadJournal(f *testing.F) {
	const id = "a1b2c3d4"
	good, err := encodeJournal(sampleState(id))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{})

	s, err := OpenStore(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	path := s.JournalPath(id)
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		st, err := s.Load(id)
		if err != nil {
			if !isCorrupt(err) {
				t.Fatalf("Load error is not journal.ErrCorrupt: %v", err)
			}
			if st != nil {
				t.Fatal("Load returned a state with an error")
			}
			return
		}
		if st == nil {
			t.Fatal("Load returned neither state nor error")
		}
		if st.ID != id {
			t.Fatalf("Load accepted the journal of migration %q", st.ID)
		}
		// Verify independently that the state came from bytes matching the checksum.
		var env struct {
			Format   int             `json:"format"`
			Checksum string          `json:"checksum"`
			State    json.RawMessage `json:"state"`
		}
		if err := json.Unmarshal(data, &env); err != nil {
			t.Fatalf("Load accepted unparsable bytes: %v", err)
		}
		sum := sha256.Sum256(env.State)
		if env.Format != 1 || env.Checksum != "sha256:"+hex.EncodeToString(sum[:]) {
			t.Fatalf("Load accepted a journal whose checksum does not verify: %q", data)
		}
		var direct State
		if err := json.Unmarshal(env.State, &direct); err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(&direct)
		b, _ := json.Marshal(st)
		if !bytes.Equal(a, b) {
			t.Fatalf("Load returned a state other than the verified one:\n%s\n%s", a, b)
		}
	})
}

func isCorrupt(err error) bool {
	var ce *journal.CorruptError
	return errors.Is(err, journal.ErrCorrupt) && errors.As(err, &ce) && ce.Path != ""
}
