package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var ansiSequence = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]`)

// terminal collects what a program writes to its pseudo-terminal.
type terminal struct {
	mu  sync.Mutex
	raw bytes.Buffer
}

func (t *terminal) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.raw.Write(p)
}

func (t *terminal) text() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return ansiSequence.ReplaceAllString(t.raw.String(), "")
}

func (t *terminal) rawString() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.raw.String()
}

// TestDemoInAPseudoTerminal drives the built binary's full-screen UI as an operator would:
// the plan, an approval for each mutating step, the cutover with its downtime notice, the
// summary, and the cleanup approval; then checks the terminal was restored.
func TestDemoInAPseudoTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "rdsencrypt")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())

	cmd := exec.Command(bin, "demo", "--speed", "5000", "--state-dir", t.TempDir())
	cmd.Env = append(os.Environ(), "TERM=xterm-256color", "NO_COLOR=1")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: 110, Rows: 34})
	require.NoError(t, err)
	defer tty.Close()
	var screen terminal
	go func() { _, _ = copyUntilEOF(&screen, tty) }()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	waitFor := func(what string) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for !strings.Contains(screen.text(), what) {
			if time.Now().After(deadline) {
				t.Fatalf("never saw %q; screen:\n%s", what, tail(screen.text(), 2000))
			}
			time.Sleep(20 * time.Millisecond) // the UI renders at its own pace
		}
	}
	waitFor("enter continue")
	_, _ = tty.Write([]byte("\r"))
	waitFor("Approve step 2/12: freeze-writes")
	// Approve each step once its approval is on the screen, until the cleanup's result is. A key
	// typed before its approval is drawn could answer it unseen (keys wait in the terminal's
	// buffer while a busy machine delays the UI), so each approval is answered once, after it
	// was drawn.
	answered := ""
	deadline := time.Now().Add(90 * time.Second)
	for !strings.Contains(screen.text(), "Cleanup done (cleaned-up)") && time.Now().Before(deadline) {
		if asked := lastApproval(screen.text()); asked != "" && asked != answered {
			_, _ = tty.Write([]byte("y"))
			answered = asked
		}
		select {
		case err := <-exited:
			t.Fatalf("demo exited early (%v); screen:\n%s", err, tail(screen.text(), 2000))
		case <-time.After(20 * time.Millisecond): // the UI renders at its own pace
		}
	}
	text := screen.text()
	for _, want := range []string{
		"Plan: encrypt instance",
		"Approve step 8/12: cutover-retire-source",
		"DOWNTIME",
		"cutover-promote-target",
		"Approve step 1/1: cleanup",
		"Cleanup done (cleaned-up)",
	} {
		assert.True(t, strings.Contains(text, want), "the screen never showed %q", want)
	}
	_, _ = tty.Write([]byte("q"))
	select {
	case err := <-exited:
		require.NoError(t, err, "demo exits 0")
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("demo did not exit; screen:\n%s", tail(screen.text(), 2000))
	}
	raw := screen.rawString()
	enter, leave := strings.LastIndex(raw, "\x1b[?1049h"), strings.LastIndex(raw, "\x1b[?1049l")
	assert.Greater(t, leave, enter, "the alternate screen was left: the terminal is restored")
}

var approvalPrompt = regexp.MustCompile(`Approve step (\S+)`)

// lastApproval is the step of the latest approval drawn ("2/12:", "cleanup"), or "".
func lastApproval(text string) string {
	all := approvalPrompt.FindAllStringSubmatch(text, -1)
	if len(all) == 0 {
		return ""
	}
	return all[len(all)-1][1]
}

func copyUntilEOF(dst *terminal, src *os.File) (int64, error) {
	buf := make([]byte, 4096)
	var n int64
	for {
		k, err := src.Read(buf)
		if k > 0 {
			_, _ = dst.Write(buf[:k])
			n += int64(k)
		}
		if err != nil {
			return n, err
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// lockedBuffer is a bytes.Buffer a command writes to while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestStatusNeverPromptsForAPassword (review T13): status of a PostgreSQL replication migration
// that keeps its reverse slots reads them with a session as the master user; on a terminal,
// with no secret, --db-secret or RDSENCRYPT_DB_PASSWORD, it says it could not read them instead
// of asking for the password (migrate on the same terminal would ask). Standard input is a
// pseudo-terminal, so the credential chain's prompt is live unless status drops it: on the
// code before 09f4472 the prompt is written and status waits for a password.
func TestStatusNeverPromptsForAPassword(t *testing.T) {
	c := newCLI(t, 1000)
	t.Setenv(workflow.EnvDBPassword, "")
	c.source("ledger")
	store, err := workflow.OpenStore(c.state)
	require.NoError(t, err)
	const id = "0a1b2c3d"
	require.NoError(t, store.Save(&workflow.State{Version: 1, ID: id, Kind: workflow.KindInstance, Region: "us-east-1", Source: "ledger",
		Mode: workflow.ModeEncrypt, Status: workflow.StatusCompleted, Options: workflow.RunOptions{Strategy: workflow.StrategyReplication},
		Replication: &workflow.ReplicationState{Engine: "postgres", ReverseStart: "0/16B3748", ReverseAttached: true}}))
	st, err := store.Load(id)
	require.NoError(t, err)
	require.True(t, workflow.KeepsReverseWAL(st), "the journal keeps reverse slots: status reads them")

	ptmx, tty, err := pty.Open()
	require.NoError(t, err)
	defer ptmx.Close()
	defer tty.Close()
	go func() { _, _ = io.Copy(io.Discard, ptmx) }() // what is echoed to the terminal
	var out, errOut lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(c.args("status", id), Streams{In: tty, Out: &out, Err: &errOut, Terminal: true})
	}()
	for {
		if strings.Contains(errOut.String(), "Master password") {
			_, _ = ptmx.Write([]byte("\r")) // let the prompt return
			<-done
			t.Fatalf("status asked for a password: %q", errOut.String())
		}
		select {
		case code := <-done:
			require.Equal(t, 0, code, "stdout %q stderr %q", out.String(), errOut.String())
			assert.Contains(t, out.String(), "the reverse slots on ledger were not read")
			assert.NotContains(t, errOut.String()+out.String(), "Master password")
			return
		case <-time.After(20 * time.Millisecond): // status runs at its own pace
		}
	}
}
