package adapter_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/awsclient"
)

// laggingConn widens a race window that real connections hit rarely: each Write returns
// some time after its bytes are sent (as when net/http's write loop is descheduled), and
// reads trickle in, so the response to a request arrives while the write loop is still
// finishing that request.
type laggingConn struct {
	net.Conn
	writeLag, readLag time.Duration
}

func (c *laggingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	time.Sleep(c.writeLag)
	return n, err
}

func (c *laggingConn) Read(p []byte) (int, error) {
	time.Sleep(c.readLag)
	if len(p) > 256 {
		p = p[:256]
	}
	return c.Conn.Read(p)
}

// TestResponseSurvivesLateRequestWrite: a response that arrives while net/http is still
// finishing the request write must be read whole, on the first attempt. smithy-go closes the
// request body as soon as the response arrives; its WriteTo then reports io.EOF to the
// write loop, which closed the connection under the response body ("deserialization
// failed ... use of closed network connection") and the SDK retried calls AWS had applied.
func TestResponseSurvivesLateRequestWrite(t *testing.T) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	dialer := &net.Dialer{}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &laggingConn{Conn: conn, writeLag: 10 * time.Millisecond, readLag: time.Millisecond}, nil
	}
	var mu sync.Mutex
	var records []awsclient.CallRecord
	e := startSim(t, awsclient.Config{HTTPClient: &http.Client{Transport: tr}, MaxAttempts: 3,
		OnCall: func(r awsclient.CallRecord) {
			mu.Lock()
			records = append(records, r)
			mu.Unlock()
		}})
	for i := range 3 { // responses of several KB, read over many trickling reads
		e.seedInstance(t, "us-east-1", fmt.Sprintf("db-%d", i), nil)
	}
	mu.Lock()
	records = nil
	mu.Unlock()

	for range 5 {
		list, err := e.api.ListInstances(e.ctx(t))
		require.NoError(t, err)
		require.Len(t, list, 3)
	}
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, records, 5)
	for _, r := range records {
		require.Equal(t, 1, r.Attempts, "%s needed %d attempts", r.Action, r.Attempts)
	}
}
