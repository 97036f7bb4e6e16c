package awsclient

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/stretchr/testify/assert"
)

func TestRedactFormBody(t *testing.T) {
	presigned := "https://rds.us-east-1.amazonaws.com/?Action=CopyDBSnapshot&X-Amz-Credential=AKIDEXAMPLE%2F20250301%2Fus-east-1%2Frds%2Faws4_request&X-Amz-Signature=abc123"
	body := url.Values{"Action": {"CopyDBSnapshot"}, "PreSignedUrl": {presigned}, "TargetDBSnapshotIdentifier": {"t"}}.Encode()
	got := redactFormBody(body)
	assert.NotContains(t, got, "abc123")
	assert.NotContains(t, got, "AKIDEXAMPLE")
	assert.Contains(t, got, "TargetDBSnapshotIdentifier=t")
	assert.Contains(t, got, "PreSignedUrl=%5BREDACTED%5D")

	pw := url.Values{"Action": {"ModifyDBInstance"}, "MasterUserPassword": {"hunter2-hunter2"}}.Encode()
	assert.NotContains(t, redactFormBody(pw), "hunter2")

	plain := "Action=DescribeDBInstances&Version=2014-10-31"
	assert.Equal(t, plain, redactFormBody(plain), "bodies without secrets are logged as sent")
	assert.Equal(t, `{"KeyId":"alias/x"}`, redactFormBody(`{"KeyId":"alias/x"}`))
	assert.Equal(t, redactedValue, redactFormBody(`{"Url":"https://x/?X-Amz-Signature=1"}`))
	assert.Equal(t, redactedValue, redactFormBody("%zz&X-Amz-Signature=1"))
}

func TestResponseBodyKeepsReadErrors(t *testing.T) {
	cut := errors.New("read tcp: use of closed network connection")
	resp := &smithyhttp.Response{Response: &http.Response{Body: io.NopCloser(io.MultiReader(strings.NewReader("<Partial"), failingReader{cut}))}}
	logged := responseBody(resp)
	assert.Contains(t, logged, "use of closed network connection")
	b, err := io.ReadAll(resp.Body)
	assert.Equal(t, "<Partial", string(b))
	assert.ErrorIs(t, err, cut, "the deserializer sees the transport error, which is retried, not a short body")
}
