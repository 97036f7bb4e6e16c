package tui

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// screenBuffer collects what the UI writes, safe for the program's goroutines.
type screenBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *screenBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *screenBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// terminal drives Run as an operator would: wait for text, then type.
type terminal struct {
	t   *testing.T
	in  *io.PipeWriter
	out *screenBuffer
}

func newTerminal(t *testing.T) (*terminal, Options) {
	pr, pw := io.Pipe()
	term := &terminal{t: t, in: pw, out: &screenBuffer{}}
	t.Cleanup(func() { _ = pw.Close() })
	opts := testOptions()
	opts.Input, opts.Output = pr, term.out
	return term, opts
}

// await waits for text to appear on screen after the output has grown past from.
func (term *terminal) await(text string) {
	term.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(term.out.String(), text) {
		if time.Now().After(deadline) {
			term.t.Fatalf("timed out waiting for %q; screen:\n%s", text, term.out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (term *terminal) typeKeys(s string) {
	term.t.Helper()
	go func() { _, _ = term.in.Write([]byte(s)) }()
}

// runAsync starts Run and returns a channel with what it returned.
func runAsync(ctx context.Context, opts Options, work Work) chan DoneMsg {
	ch := make(chan DoneMsg, 1)
	go func() {
		rep, err := Run(ctx, opts, work)
		ch <- DoneMsg{Report: rep, Err: err}
	}()
	return ch
}

func waitRun(t *testing.T, ch chan DoneMsg) DoneMsg {
	t.Helper()
	select {
	case res := <-ch:
		return res
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
	return DoneMsg{}
}

func TestRunApprovesAndSummarises(t *testing.T) {
	term, opts := newTerminal(t)
	var got workflow.Decision
	work := func(ctx context.Context, obs workflow.Observer, appr workflow.Approver) (*workflow.Report, error) {
		obs.Notify(planEvent().Event)
		d, err := appr.Approve(ctx, approvalFor("freeze-writes", nil).Approval)
		if err != nil {
			return nil, err
		}
		got = d
		obs.Notify(msg(workflow.EventStepStarted, "freeze-writes", time.Minute).Event)
		obs.Notify(msg(workflow.EventStepDone, "freeze-writes", time.Minute).Event)
		return completedReport(), nil
	}
	done := runAsync(context.Background(), opts, work)

	term.await("enter continue")
	term.typeKeys("\r")
	term.await("enter/y approve")
	term.typeKeys("y")
	term.await("q exit")
	term.typeKeys("q")

	res := waitRun(t, done)
	require.NoError(t, res.Err)
	assert.Equal(t, workflow.StatusCompleted, res.Report.Status)
	assert.Equal(t, workflow.Approve, got)
	// The summary stays on the terminal after the full-screen UI has gone.
	final := term.out.String()[strings.LastIndex(term.out.String(), "\x1b[?1049l"):]
	assert.Contains(t, final, "Migration completed")
	assert.Contains(t, final, "rdsencrypt cleanup m-7f3a9c21")
}

func TestRunQuitLeavesResumable(t *testing.T) {
	term, opts := newTerminal(t)
	work := func(ctx context.Context, obs workflow.Observer, appr workflow.Approver) (*workflow.Report, error) {
		obs.Notify(msg(workflow.EventStepDone, "preflight", 0).Event)
		d, err := appr.Approve(ctx, approvalFor("freeze-writes", nil).Approval)
		if err != nil || d != workflow.Quit {
			t.Errorf("decision %v, %v; want quit", d, err)
		}
		return &workflow.Report{MigrationID: testID, Status: workflow.StatusPaused}, nil
	}
	done := runAsync(context.Background(), opts, work)
	term.await("q quit")
	term.typeKeys("q")

	res := waitRun(t, done) // no key needed: the operator already asked to leave
	require.NoError(t, res.Err)
	assert.Equal(t, workflow.StatusPaused, res.Report.Status)
	assert.Contains(t, term.out.String(), "Resume:    rdsencrypt resume m-7f3a9c21")
}

func TestRunCtrlCCancelsWork(t *testing.T) {
	term, opts := newTerminal(t)
	work := func(ctx context.Context, obs workflow.Observer, appr workflow.Approver) (*workflow.Report, error) {
		obs.Notify(msg(workflow.EventStepStarted, "encrypted-copy", 0).Event)
		<-ctx.Done() // a long wait, cut short
		return &workflow.Report{MigrationID: testID, Status: workflow.StatusPaused}, ctx.Err()
	}
	done := runAsync(context.Background(), opts, work)
	term.await("q stop")
	term.typeKeys("\x03")

	res := waitRun(t, done)
	assert.ErrorIs(t, res.Err, context.Canceled)
	assert.Contains(t, term.out.String(), "rdsencrypt resume m-7f3a9c21")
}

func TestRunRecoversFromPanicInWork(t *testing.T) {
	term, opts := newTerminal(t)
	work := func(context.Context, workflow.Observer, workflow.Approver) (*workflow.Report, error) {
		panic("engine bug")
	}
	done := runAsync(context.Background(), opts, work)
	term.await("q exit")
	term.typeKeys("q")

	res := waitRun(t, done)
	require.Error(t, res.Err)
	assert.Contains(t, res.Err.Error(), "migration panicked: engine bug")
	assert.Contains(t, term.out.String(), "\x1b[?1049l", "the alternate screen is left")
}

func TestRunEndsWhenParentContextEnds(t *testing.T) {
	term, opts := newTerminal(t)
	ctx, cancel := context.WithCancel(context.Background())
	work := func(ctx context.Context, obs workflow.Observer, appr workflow.Approver) (*workflow.Report, error) {
		_, err := appr.Approve(ctx, approvalFor("freeze-writes", nil).Approval)
		return nil, err
	}
	done := runAsync(ctx, opts, work)
	term.await("freeze-writes") // the UI is up and asking
	cancel()
	res := waitRun(t, done)
	assert.ErrorIs(t, res.Err, context.Canceled)
}
