package awsclient

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// TestAnEndpointThatNeverAnswersFailsTheCall: an endpoint that accepts connections and never
// answers makes each attempt time out, and the call fails once its attempts are spent,
// instead of hanging until the caller gives up.
func TestAnEndpointThatNeverAnswersFailsTheCall(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	accepted := make(chan net.Conn, 16)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- conn // held open, never answered
		}
	}()
	t.Cleanup(func() {
		for {
			select {
			case c := <-accepted:
				_ = c.Close()
			default:
				return
			}
		}
	})

	c := NewForSimulator(Config{Region: "us-east-1", EndpointURL: "http://" + ln.Addr().String(),
		AttemptTimeout: 50 * time.Millisecond, MaxAttempts: 2, MaxBackoff: time.Millisecond})
	// The caller's own deadline is far beyond the attempts: if it is what ends the call, the
	// attempts were not bounded.
	ctx, cancel := context.WithTimeoutCause(t.Context(), 5*time.Minute, errCallerGaveUp)
	defer cancel()
	_, err = c.Default().DescribeInstance(ctx, "app")
	require.Error(t, err)
	assert.NoError(t, context.Cause(ctx), "the call ended before its caller gave up")
	assert.Equal(t, model.FailureUnavailable, model.FailureOf(err), "%v", err)
}

var errCallerGaveUp = errors.New("the caller gave up")
