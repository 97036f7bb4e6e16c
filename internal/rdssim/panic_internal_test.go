package rdssim

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func init() {
	registerRDS("SimTestPanic", func(*call) (any, error) { panic("boom") })
}

// TestPanicBecomesInternalFailure checks that a handler panic is answered with an XML
// InternalFailure (HTTP 500), never an HTML page, and that the simulator keeps serving.
func TestPanicBecomesInternalFailure(t *testing.T) {
	srv := httptest.NewServer(New(Options{}))
	defer srv.Close()
	form := url.Values{"Action": {"SimTestPanic"}, "Version": {"2014-10-31"}}
	resp, err := http.Post(srv.URL, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 500, resp.StatusCode)
	assert.Contains(t, string(b), "<Code>InternalFailure</Code>")
	assert.Contains(t, string(b), "<Type>Receiver</Type>")
	assert.Equal(t, "text/xml", resp.Header.Get("Content-Type"))

	form.Set("Action", "DescribeDBInstances")
	resp, err = http.Post(srv.URL, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode, "the lock was released")
}
