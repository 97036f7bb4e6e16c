package tui

import (
	"io"
	"strings"
)

// Options configure Run.
type Options struct {
	// Input and Output are the terminal; defaults os.Stdin and os.Stderr.
	Input  io.Reader
	Output io.Writer
	// ResumeCommand, RollbackCommand and CleanupCommand are shown to the operator when
	// they are the way on, e.g. "rdsencrypt resume {id}"; {id} is replaced by
	// the migration ID once the workflow has said it. Empty ones are not shown (the
	// report's Next is shown instead, when it has one).
	ResumeCommand   string
	RollbackCommand string
	CleanupCommand  string
	// Calls shows every AWS call in the event pane (--debug); otherwise the pane shows
	// what changed, and only failed calls (the audit trail has them all).
	Calls bool
	// Terminal, when set, lets a password prompt use the terminal while the UI runs.
	Terminal *Terminal
}

// commands are the follow-up commands the UI shows.
type commands struct {
	resume, rollback, cleanup string
}

func commandsFrom(o Options) commands {
	return commands{resume: o.ResumeCommand, rollback: o.RollbackCommand, cleanup: o.CleanupCommand}
}

// expand puts the migration ID into a command template; without an id (no journal yet)
// there is no command to show.
func expand(cmd, id string) string {
	if id == "" {
		return ""
	}
	return strings.ReplaceAll(cmd, "{id}", id)
}
