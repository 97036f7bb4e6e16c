package awsclient

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The token is what RDS documents: a SigV4-presigned URL, without its scheme, for
// Action=connect as DBUser at host:port, scoped to the region and the rds-db service, with a
// signature. Nothing here verifies the signature (the data plane cannot either): it checks
// the token's shape and scope.
func TestDBAuthTokenIsAPresignedConnect(t *testing.T) {
	c := NewForSimulator(Config{Region: "eu-west-1"})
	token, err := c.DBAuthToken(context.Background(), "us-east-2", "shop.abc123.us-east-2.rds.amazonaws.com", 5432, "migrator")
	require.NoError(t, err)
	assert.False(t, strings.HasPrefix(token, "https://"), "the token has no scheme")
	u, err := url.Parse("https://" + token)
	require.NoError(t, err)
	assert.Equal(t, "shop.abc123.us-east-2.rds.amazonaws.com:5432", u.Host)
	q := u.Query()
	assert.Equal(t, "connect", q.Get("Action"))
	assert.Equal(t, "migrator", q.Get("DBUser"))
	assert.Equal(t, "AWS4-HMAC-SHA256", q.Get("X-Amz-Algorithm"))
	assert.Equal(t, "900", q.Get("X-Amz-Expires"), "15 minutes")
	cred := strings.Split(q.Get("X-Amz-Credential"), "/")
	require.Len(t, cred, 5)
	assert.Equal(t, []string{"AKIDSIMULATOR", "us-east-2", "rds-db", "aws4_request"}, []string{cred[0], cred[2], cred[3], cred[4]})
	assert.Regexp(t, `^[0-9a-f]{64}$`, q.Get("X-Amz-Signature"))

	other, err := c.DBAuthToken(context.Background(), "", "shop.abc123.us-east-2.rds.amazonaws.com", 5432, "migrator")
	require.NoError(t, err)
	ou, err := url.Parse("https://" + other)
	require.NoError(t, err)
	assert.Contains(t, ou.Query().Get("X-Amz-Credential"), "/eu-west-1/rds-db/", "no region: the client's")
	assert.NotEqual(t, q.Get("X-Amz-Signature"), ou.Query().Get("X-Amz-Signature"), "the signature covers the region")
}
