package model

import (
	"errors"
	"fmt"
	"strings"
)

// Failure classifies an AWS failure so that callers never look at SDK error types.
type Failure int

// The AWS failures the workflow tells apart.
const (
	FailureUnknown Failure = iota
	FailureNotFound
	FailureAlreadyExists
	FailureInvalidState     // the resource is busy or in the wrong status
	FailureKeyNotAccessible // the KMS key is missing, disabled or pending deletion
	FailureThrottled        // retries exhausted on throttling
	FailureAccessDenied
	FailureInvalidParameter
	FailureQuotaExceeded
	FailureCapacity // insufficient capacity in the region or AZ
	// FailureUnavailable: AWS kept failing on its side (5xx) or could not be reached, after retries.
	FailureUnavailable
)

func (k Failure) String() string {
	switch k {
	case FailureNotFound:
		return "not found"
	case FailureAlreadyExists:
		return "already exists"
	case FailureInvalidState:
		return "invalid state"
	case FailureKeyNotAccessible:
		return "KMS key not accessible"
	case FailureThrottled:
		return "throttled"
	case FailureAccessDenied:
		return "access denied"
	case FailureInvalidParameter:
		return "invalid parameter"
	case FailureQuotaExceeded:
		return "quota exceeded"
	case FailureCapacity:
		return "insufficient capacity"
	case FailureUnavailable:
		return "service unavailable"
	}
	return "error"
}

// Error is an AWS API failure translated into the project's terms.
type Error struct {
	Failure   Failure
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

// FailureOf returns the Failure of err, or FailureUnknown when err is not an *Error.
func FailureOf(err error) Failure {
	var e *Error
	if errors.As(err, &e) {
		return e.Failure
	}
	return FailureUnknown
}

// IsNotFound reports whether err says the resource does not exist.
func IsNotFound(err error) bool { return FailureOf(err) == FailureNotFound }

// IsAlreadyExists reports whether err says the name is taken.
func IsAlreadyExists(err error) bool { return FailureOf(err) == FailureAlreadyExists }

// IsInvalidState reports whether err says the resource is not in a state that allows the call.
func IsInvalidState(err error) bool { return FailureOf(err) == FailureInvalidState }

// IsThrottled reports whether err says AWS kept throttling the call after all retries.
func IsThrottled(err error) bool { return FailureOf(err) == FailureThrottled }

// IsKeyNotAccessible reports whether err says the KMS key cannot be used.
func IsKeyNotAccessible(err error) bool { return FailureOf(err) == FailureKeyNotAccessible }

// IsNothingToModify reports whether AWS refused a modify call because the resource already
// has every requested value: InvalidParameterCombination "No modifications were requested"
// (docs/aws-behaviour.md#modify). A retried modify meets this after its first attempt applied.
func IsNothingToModify(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == "InvalidParameterCombination" && strings.Contains(e.Message, "No modifications")
}
