package output

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// LinePrompter asks for approvals on plain lines, for terminals where the full-screen UI
// is not wanted: it prints what the step will do, then asks until it gets an answer. An
// empty line is not an answer, so a stray enter never approves a step. At the end of
// input it answers Quit, which leaves the migration resumable. Use it as a pointer:
// &LinePrompter{In: os.Stdin, Out: os.Stderr}.
type LinePrompter struct {
	In  io.Reader
	Out io.Writer

	mu      sync.Mutex
	reader  *bufio.Reader
	pending chan lineRead // a read still in flight after a cancelled prompt
}

type lineRead struct {
	line string
	err  error
}

// Approve prints the approval and returns the operator's answer.
func (p *LinePrompter) Approve(ctx context.Context, a workflow.Approval) (workflow.Decision, error) {
	fmt.Fprint(p.Out, approvalText(a))
	options := "[y]es/[r]ollback/[q]uit"
	if a.Skippable {
		options = "[y]es/[s]kip/[r]ollback/[q]uit"
	}
	for {
		fmt.Fprintf(p.Out, "Approve step %s? %s: ", a.Step, options)
		line, err := p.readLine(ctx)
		if ctx.Err() != nil {
			fmt.Fprintln(p.Out)
			return workflow.Quit, ctx.Err()
		}
		switch strings.ToLower(strings.TrimSpace(line)) {
		case "y", "yes":
			return workflow.Approve, nil
		case "s", "skip":
			if a.Skippable {
				return workflow.Skip, nil
			}
			fmt.Fprintf(p.Out, "Step %s cannot be skipped.\n", a.Step)
		case "r", "rollback":
			return workflow.Rollback, nil
		case "q", "quit":
			return workflow.Quit, nil
		case "":
			if err != nil { // end of input: stop here, resumable
				fmt.Fprintln(p.Out, "\nNo answer (end of input): quitting; the migration can be resumed.")
				return workflow.Quit, nil
			}
		default:
			fmt.Fprintf(p.Out, "Please answer %s.\n", options)
		}
		if err != nil {
			return workflow.Quit, nil
		}
	}
}

// readLine reads one line, giving up when ctx ends. A read cut short by ctx is kept for
// the next prompt, so no two reads ever race on In.
func (p *LinePrompter) readLine(ctx context.Context) (string, error) {
	p.mu.Lock()
	if p.reader == nil {
		p.reader = bufio.NewReader(p.In)
	}
	ch := p.pending
	if ch == nil {
		ch = make(chan lineRead, 1)
		p.pending = ch
		r := p.reader
		go func() {
			line, err := r.ReadString('\n')
			ch <- lineRead{line, err}
		}()
	}
	p.mu.Unlock()

	select {
	case res := <-ch:
		p.mu.Lock()
		p.pending = nil
		p.mu.Unlock()
		return res.line, res.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// Confirm asks one question and waits for "yes" (or "y"); anything else, the end of input
// or a cancelled context is a no.
func Confirm(ctx context.Context, in io.Reader, out io.Writer, question string) (bool, error) {
	fmt.Fprint(out, question)
	answer := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(in).ReadString('\n')
		answer <- line
	}()
	select {
	case line := <-answer:
		a := strings.ToLower(strings.TrimSpace(line))
		return a == "yes" || a == "y", nil
	case <-ctx.Done():
		fmt.Fprintln(out)
		return false, ctx.Err()
	}
}

// approvalText is an approval as plain lines: what, what to do first, downtime, details
// and differences.
func approvalText(a workflow.Approval) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nStep %s", a.Step)
	if a.Summary != "" {
		fmt.Fprintf(&b, ": %s", a.Summary)
	}
	b.WriteString("\n")
	if len(a.Instructions) > 0 {
		b.WriteString("Before you approve:\n")
		for _, s := range a.Instructions {
			fmt.Fprintf(&b, "  - %s\n", s)
		}
	}
	if a.Downtime {
		b.WriteString("DOWNTIME: applications cannot write to the database from this step until the cutover finishes.\n")
	}
	if len(a.Details) > 0 {
		b.WriteString("What this step does:\n")
		for _, s := range a.Details {
			fmt.Fprintf(&b, "  - %s\n", s)
		}
	}
	if len(a.Differences) > 0 {
		fmt.Fprintf(&b, "Differences you are asked to accept (%d):\n", len(a.Differences))
		for _, d := range a.Differences {
			fmt.Fprintf(&b, "  - %s %s: source %q, new %q\n", d.Resource, d.Setting, d.Source, d.Target)
		}
	}
	return b.String()
}

var _ workflow.Approver = (*LinePrompter)(nil)
