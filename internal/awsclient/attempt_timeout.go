package awsclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// timedTransport gives each HTTP exchange (one attempt of a call) at most timeout, answer
// included. The SDK retries an attempt that timed out, as it does a dropped connection.
type timedTransport struct {
	next    http.RoundTripper
	timeout time.Duration
}

// AttemptTimeoutError is an attempt that got no complete answer within Config.AttemptTimeout.
type AttemptTimeoutError struct{ Limit time.Duration }

func (e *AttemptTimeoutError) Error() string {
	return fmt.Sprintf("no answer within %v (the endpoint accepted the connection but did not respond)", e.Limit)
}

// Timeout makes the SDK's retryer and net-style checks see a timeout.
func (e *AttemptTimeoutError) Timeout() bool { return true }

var errAttemptTimedOut = errors.New("attempt timed out")

func (t timedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeoutCause(req.Context(), t.timeout, errAttemptTimedOut)
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		timedOut := errors.Is(context.Cause(ctx), errAttemptTimedOut)
		cancel()
		if timedOut {
			return nil, &AttemptTimeoutError{Limit: t.timeout}
		}
		return nil, err
	}
	resp.Body = cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// cancelOnClose ends an attempt's context once its answer has been read.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
