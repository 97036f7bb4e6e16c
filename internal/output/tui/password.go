package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"golang.org/x/term"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// PasswordPrompter asks at the terminal for the master password of an instance that has no
// other source (docs/replication.md#credentials), without echo, once per instance and
// process: the answer is kept in memory for the command's life and nowhere else.
type PasswordPrompter struct {
	// FD is the terminal's file descriptor (standard input).
	FD  int
	Out io.Writer
	// Use, when set, runs the prompt with the terminal released from a running UI
	// (Terminal.Use).
	Use func(func() error) error

	mu      sync.Mutex
	answers map[string]string
}

// Prompt implements workflow.PasswordPrompt.
func (p *PasswordPrompter) Prompt(_ context.Context, inst *model.Instance) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pw, ok := p.answers[inst.ResourceID]; ok && inst.ResourceID != "" {
		return pw, nil
	}
	var pw string
	ask := func() error {
		fmt.Fprintf(p.Out, "Master password of %s (user %s; it has no RDS-managed secret, and neither --db-secret nor %s was given): ",
			inst.ID, inst.MasterUsername, workflow.EnvDBPassword)
		b, err := term.ReadPassword(p.FD)
		fmt.Fprintln(p.Out)
		pw = string(b)
		return err
	}
	var err error
	if p.Use != nil {
		err = p.Use(ask)
	} else {
		err = ask()
	}
	if err != nil {
		return "", err
	}
	if pw == "" {
		return "", errors.New("no password typed")
	}
	if p.answers == nil {
		p.answers = map[string]string{}
	}
	p.answers[inst.ResourceID] = pw
	return pw, nil
}
