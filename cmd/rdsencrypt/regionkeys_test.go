package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseKmsKeys(t *testing.T) {
	arnEU := "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	cases := []struct {
		in, wantPrimary string
		wantOthers      map[string]string
	}{
		{"alias/rds", "alias/rds", map[string]string{}},
		{"us-east-1=alias/rds", "alias/rds", map[string]string{}},
		{"alias/rds,eu-west-1=" + arnEU, "alias/rds", map[string]string{"eu-west-1": arnEU}},
		{"us-east-1=arn:aws:kms:us-east-1:123456789012:key/k, eu-west-1=alias/eu", "arn:aws:kms:us-east-1:123456789012:key/k", map[string]string{"eu-west-1": "alias/eu"}},
	}
	for _, c := range cases {
		p, o, err := parseKmsKeys(c.in, "us-east-1")
		require.NoError(t, err, c.in)
		assert.Equal(t, c.wantPrimary, p, c.in)
		assert.Equal(t, c.wantOthers, o, c.in)
	}
}

func TestParseKmsKeysRejects(t *testing.T) {
	for in, want := range map[string]string{
		"":                   "empty entry",
		"alias/a,,alias/b":   "empty entry",
		"eu-west-1=alias/eu": "names no key for the source's region us-east-1",
		"alias/a,alias/b":    "two keys for us-east-1",
		"moon-1=alias/x":     "is not an AWS region",
		"eu-west-1=":         "bad key",
		"eu-west-1=arn:aws:kms:us-west-2:1:key/k,alias/a": "is in us-west-2, given for eu-west-1",
	} {
		_, _, err := parseKmsKeys(in, "us-east-1")
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), want, in)
		assert.Equal(t, exitUsage, exitCode(err))
	}
}

func FuzzParseKmsKeys(f *testing.F) {
	for _, s := range []string{"alias/rds", "us-east-1=alias/a,eu-west-1=arn:aws:kms:eu-west-1:1:key/x", ",", "=", "a=b=c", "arn:aws:kms:::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		primary, others, err := parseKmsKeys(in, "us-east-1")
		if err != nil {
			assert.Equal(t, exitUsage, exitCode(err))
			assert.NotContains(t, err.Error(), "\n")
			return
		}
		assert.NotEmpty(t, primary)
		assert.NotContains(t, primary, ",")
		for region, key := range others {
			assert.Regexp(t, regionPattern, region)
			assert.NotEqual(t, "us-east-1", region)
			assert.NotEmpty(t, key)
			assert.False(t, strings.Contains(key, ","))
		}
	})
}
