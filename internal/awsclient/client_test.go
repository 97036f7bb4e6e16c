package awsclient

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewUsesDefaultChainAndEndpointURL(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	f := newFakeAWS(t)
	f.reply("DescribeDBSnapshots", ok("DescribeDBSnapshots", "<DBSnapshots>"+snapshotXML+"</DBSnapshots>"))

	c, err := New(t.Context(), Config{Region: "eu-central-1", EndpointURL: f.server.URL})
	require.NoError(t, err)
	assert.Equal(t, "eu-central-1", c.Region())
	_, err = c.Default().DescribeSnapshot(t.Context(), "enc")
	require.NoError(t, err)
	assert.Equal(t, "eu-central-1", f.lastCall("DescribeDBSnapshots").Region)
}

func TestNewFailsOnUnknownProfile(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	_, err := New(t.Context(), Config{Region: "us-east-1", Profile: "does-not-exist"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "does-not-exist")
}

func TestForCachesPerRegion(t *testing.T) {
	c := newFakeAWS(t).client(Config{})
	assert.Same(t, c.For("eu-west-1"), c.For("EU-WEST-1"))
	assert.NotSame(t, c.For("eu-west-1"), c.For("us-east-1"))
	assert.Same(t, c.For(""), c.For("us-east-1"))
	assert.Equal(t, "eu-west-1", c.For("eu-west-1").Region())
}
