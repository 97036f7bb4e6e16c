package model

import (
	"errors"
	"fmt"
	"strings"
)

// Kind classifies an AWS failure so that callers never look at SDK error types.
type Kind int

// The kinds of AWS failure the workflow distinguishes.
const (
	KindUnknown Kind = iota
	KindNotFound
	KindAlreadyExists
	KindInvalidState     // the resource is busy or in the wrong status
	KindKeyNotAccessible // the KMS key is missing, disabled or pending deletion
	KindThrottled        // retries exhausted on throttling
	KindAccessDenied
	KindInvalidParameter
	KindQuotaExceeded
	KindCapacity // insufficient capacity in the region or AZ
	// KindUnavailable: AWS kept failing on its side (5xx) or could not be reached, after retries.
	KindUnavailable
)

func (k Kind) String() string {
	switch k {
	case KindNotFound:
		return "not found"
	case KindAlreadyExists:
		return "already exists"
	case KindInvalidState:
		return "invalid state"
	case KindKeyNotAccessible:
		return "KMS key not accessible"
	case KindThrottled:
		return "throttled"
	case KindAccessDenied:
		return "access denied"
	case KindInvalidParameter:
		return "invalid parameter"
	case KindQuotaExceeded:
		return "quota exceeded"
	case KindCapacity:
		return "insufficient capacity"
	case KindUnavailable:
		return "service unavailable"
	}
	return "error"
}

// Error is an AWS API failure translated into the project's terms.
type Error struct {
	Kind      Kind
	Op        string // API action, e.g. CopyDBSnapshot
	Resource  string // identifier the call was about
	Code      string // AWS error code, e.g. DBInstanceNotFound
	Message   string
	RequestID string
	Err       error // the underlying SDK error
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" && e.Err != nil {
		msg = e.Err.Error()
	}
	if e.Code != "" {
		return fmt.Sprintf("%s %s: %s: %s", e.Op, e.Resource, e.Code, msg)
	}
	return fmt.Sprintf("%s %s: %s", e.Op, e.Resource, msg)
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the Kind of err, or KindUnknown when err is not an *Error.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindUnknown
}

// IsNotFound reports whether err says the resource does not exist.
func IsNotFound(err error) bool { return KindOf(err) == KindNotFound }

// IsAlreadyExists reports whether err says the name is taken.
func IsAlreadyExists(err error) bool { return KindOf(err) == KindAlreadyExists }

// IsInvalidState reports whether err says the resource is not in a state that allows the call.
func IsInvalidState(err error) bool { return KindOf(err) == KindInvalidState }

// IsThrottled reports whether err says AWS kept throttling the call after all retries.
func IsThrottled(err error) bool { return KindOf(err) == KindThrottled }

// IsKeyNotAccessible reports whether err says the KMS key cannot be used.
func IsKeyNotAccessible(err error) bool { return KindOf(err) == KindKeyNotAccessible }

// IsNothingToModify reports whether AWS refused a modify call because the resource already
// has every requested value: InvalidParameterCombination "No modifications were requested"
// (rds-behaviour.md §2.5). A retried modify meets this after its first attempt applied.
func IsNothingToModify(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == "InvalidParameterCombination" && strings.Contains(e.Message, "No modifications")
}
