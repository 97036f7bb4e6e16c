package fleet

import (
	"path"
	"strings"
	"testing"

	"github.com/rdsencrypt/rdsencrypt/internal/model"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseTagFilter(t *testing.T) {
	cases := []struct {
		in   string
		want TagFilter
		err  string
	}{
		{in: "tag:env=prod", want: TagFilter{Key: "env", Value: "prod"}},
		{in: "tag:env=", want: TagFilter{Key: "env", Value: ""}},
		{in: "tag:env", want: TagFilter{Key: "env", AnyValue: true}},
		{in: "tag:aws:cloudformation:stack-name=a=b", want: TagFilter{Key: "aws:cloudformation:stack-name", Value: "a=b"}},
		{in: "tag:team name=data eng", want: TagFilter{Key: "team name", Value: "data eng"}},
		{in: "env=prod", err: "must be tag:KEY=VALUE"},
		{in: "tag:", err: "key is empty"},
		{in: "tag:=x", err: "key is empty"},
		{in: "tag:" + strings.Repeat("k", 129) + "=v", err: "at most 128"},
		{in: "tag:k=" + strings.Repeat("v", 257), err: "at most 256"},
		{in: "tag:k=a\nb", err: "control characters"},
	}
	for _, c := range cases {
		got, err := ParseTagFilter(c.in)
		if c.err != "" {
			assert.ErrorContains(t, err, c.err, c.in)
			continue
		}
		require.NoError(t, err, c.in)
		assert.Equal(t, c.want, got, c.in)
		assert.Equal(t, c.in, got.String())
	}
}

func TestTagFilterMatches(t *testing.T) {
	tags := model.Tags{"env": "prod", "team": "Payments"}
	assert.True(t, TagFilter{Key: "env", Value: "prod"}.Matches(tags))
	assert.False(t, TagFilter{Key: "env", Value: "Prod"}.Matches(tags), "values are case sensitive")
	assert.True(t, TagFilter{Key: "team", AnyValue: true}.Matches(tags))
	assert.False(t, TagFilter{Key: "owner", AnyValue: true}.Matches(tags))
	assert.False(t, TagFilter{Key: "owner", Value: ""}.Matches(tags), "an empty value still needs the tag")
}

func TestGlob(t *testing.T) {
	cases := []struct {
		pattern, id string
		want        bool
	}{
		{"orders", "orders", true},
		{"orders", "ORDERS", true},
		{"orders", "orders-2", false},
		{"orders-*", "orders-2", true},
		{"orders-*", "orders-", true},
		{"orders-*", "orders", false},
		{"*-old-*", "ledger-old-0a1b2c3d", true},
		{"*", "", true},
		{"?", "", false},
		{"db-??", "db-01", true},
		{"db-??", "db-1", false},
		{"*a*b*c", "xxaxxbxxc", true},
		{"*a*b*c", "xxaxxbxxcx", false},
		{"a*a*a*a*a*b", strings.Repeat("a", 60), false},
	}
	for _, c := range cases {
		g, err := ParseGlob(c.pattern)
		require.NoError(t, err)
		assert.Equal(t, c.want, g.Match(c.id), "%s ~ %s", c.pattern, c.id)
	}
	for _, bad := range []string{"", "orders/*", "[ab]", `a\*`, "a b", strings.Repeat("a", 256)} {
		_, err := ParseGlob(bad)
		assert.Error(t, err, bad)
	}
}

func TestSelection(t *testing.T) {
	prod, _ := ParseTagFilter("tag:env=prod")
	pci, _ := ParseTagFilter("tag:pci")
	tmp, _ := ParseGlob("tmp-*")
	s := Selection{Include: []TagFilter{prod, pci}, Exclude: []Glob{tmp}}
	assert.True(t, s.Selects("orders", model.Tags{"env": "prod"}))
	assert.True(t, s.Selects("cards", model.Tags{"pci": "yes", "env": "dev"}), "any include selects")
	assert.False(t, s.Selects("tmp-orders", model.Tags{"env": "prod"}), "an exclude wins")
	assert.False(t, s.Selects("ledger", model.Tags{"env": "dev"}))
	assert.True(t, Selection{}.Selects("anything", nil), "no filter selects all")
}

func TestParseRegionKey(t *testing.T) {
	r, k, err := ParseRegionKey("alias/rds-data")
	require.NoError(t, err)
	assert.Equal(t, "", r)
	assert.Equal(t, "alias/rds-data", k)
	r, k, err = ParseRegionKey("eu-west-1=arn:aws:kms:eu-west-1:123456789012:key/abc")
	require.NoError(t, err)
	assert.Equal(t, "eu-west-1", r)
	assert.Equal(t, "arn:aws:kms:eu-west-1:123456789012:key/abc", k)
	for _, bad := range []string{"", "eu-west-1=", "europe=alias/x", "=alias/x"} {
		_, _, err := ParseRegionKey(bad)
		assert.Error(t, err, bad)
	}
}

// FuzzParseTagFilter: parsing never panics, and a parsed filter prints back to its input
// and parses to itself. The seed corpus is in testdata/fuzz/FuzzParseTagFilter.
func FuzzParseTagFilter(f *testing.F) {
	for _, s := range []string{"tag:env=prod", "tag:env", "tag:k=v=w", "tag:", "tag:=v", "env=prod", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tf, err := ParseTagFilter(s)
		if err != nil {
			return
		}
		if tf.Key == "" || strings.Contains(tf.Key, "=") {
			t.Fatalf("%q parsed to key %q", s, tf.Key)
		}
		if tf.String() != s {
			t.Fatalf("%q prints back as %q", s, tf.String())
		}
		again, err := ParseTagFilter(tf.String())
		if err != nil || again != tf {
			t.Fatalf("%q does not round-trip: %+v, %v", s, again, err)
		}
		tags := model.Tags{tf.Key: tf.Value}
		if !tf.Matches(tags) {
			t.Fatalf("%+v does not match its own tag", tf)
		}
	})
}

// FuzzGlob: Match never panics and agrees with path.Match on the patterns ParseGlob accepts
// (which have no '/', '[' or '\\', so path.Match's extra syntax never applies), compared
// case-insensitively. The seed corpus is in testdata/fuzz/FuzzGlob.
func FuzzGlob(f *testing.F) {
	for _, c := range [][2]string{{"orders-*", "orders-2"}, {"*-old-*", "ledger-old-0a1b2c3d"}, {"db-??", "db-1"},
		{"*a*b*c", "xxaxxbxxcx"}, {"**", ""}, {"?*?", "ab"}, {"A*", "abc"}} {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, pattern, id string) {
		g, err := ParseGlob(pattern)
		if err != nil {
			return
		}
		got := g.Match(id)
		lower := strings.ToLower(id)
		if strings.ContainsAny(lower, "/[\\") || !isASCII(lower) {
			return // outside identifiers; Match must only not panic
		}
		want, err := path.Match(strings.ToLower(pattern), lower)
		if err != nil {
			t.Fatalf("path.Match(%q): %v", pattern, err)
		}
		if got != want {
			t.Fatalf("Match(%q, %q) = %v, path.Match says %v", pattern, id, got, want)
		}
		if !strings.ContainsAny(pattern, "*?") && got != strings.EqualFold(pattern, id) {
			t.Fatalf("literal %q vs %q: %v", pattern, id, got)
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
