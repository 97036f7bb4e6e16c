package main

import (
	"errors"
	"fmt"

	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailed  = 1 // the operation failed; the message says what to run next
	exitUsage   = 2 // bad flags or arguments
	exitStopped = 3 // stopped between steps (quit, Ctrl-C, differences to review): resumable
)

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// exitCode maps an error to the process exit code: the one place that does.
func exitCode(err error) int {
	var u usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &u):
		return exitUsage
	case errors.Is(err, workflow.ErrStopped):
		return exitStopped
	}
	return exitFailed
}
