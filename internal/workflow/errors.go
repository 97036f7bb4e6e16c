package workflow

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// Error is a failure the operator can act on: what went wrong, with which resource, and the
// command to run next. Its message is one line.
type Error struct {
	Resource string
	Problem  string
	Next     string // the next command to run, or advice
	Err      error  // underlying cause, if any
}

func (e *Error) Error() string {
	msg := e.Problem
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Next != "" {
		msg += "; next: " + e.Next
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// ErrStopped says the run stopped between steps (quit, Ctrl-C, manual cutover) and is resumable.
var ErrStopped = errors.New("migration stopped; it can be resumed")

func errorf(resource, next string, cause error, format string, args ...any) *Error {
	return &Error{Resource: resource, Problem: fmt.Sprintf(format, args...), Next: next, Err: cause}
}

// NextOf returns the next command an error suggests, if any.
func NextOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Next
	}
	return ""
}

// keyAccessNext is the advice when RDS reports a KMS key not accessible: AWS gives the same
// error for a disabled or deleted key and for a caller who may not use the key through RDS,
// so the advice names both, and the permissions.
func keyAccessNext(id string) string {
	return "enable the key and make sure you may use kms:CreateGrant and kms:DescribeKey on it through RDS (`rdsencrypt iam-policy` prints them), then rdsencrypt resume " +
		id + " (or rdsencrypt rollback " + id + ")"
}

// keyLostDuring explains a failure of work (the encrypted copy, the restore) by the migration's
// key when the key is no longer usable: AWS only says the snapshot or database failed. When
// the key is fine, or cannot be described, err is returned as it is.
func (r *run) keyLostDuring(ctx context.Context, work string, err error) error {
	if err == nil || ctx.Err() != nil {
		return err
	}
	key, derr := r.api.DescribeKey(ctx, r.st.KmsKeyARN)
	switch {
	case derr == nil && key.Enabled:
		return err
	case derr == nil:
		return errorf(r.st.KmsKeyARN, fmt.Sprintf("enable it (aws kms enable-key --key-id %s --region %s), then rdsencrypt resume %s (it takes the copy again); or rdsencrypt rollback %s",
			r.st.KmsKeyARN, r.st.Region, r.st.ID, r.st.ID), err,
			"KMS key %s became inaccessible (%s) while %s was made", r.st.KmsKeyARN, key.State, work)
	case model.IsKeyNotAccessible(derr) || model.FailureOf(derr) == model.FailureAccessDenied || model.IsNotFound(derr):
		return errorf(r.st.KmsKeyARN, keyAccessNext(r.st.ID), err,
			"KMS key %s became inaccessible while %s was made", r.st.KmsKeyARN, work)
	}
	return err
}

// ShellQuote quotes s as one word for a POSIX shell when it needs it: next commands print
// values as they run.
func ShellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@,+%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
