package layers

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// docLink is a reference to the repository's docs from a Go comment or another doc:
// docs/<file>.md, optionally with #anchor.
var docLink = regexp.MustCompile(`docs/([a-z0-9-]+\.md)(#[a-z0-9-]+)?`)

// anchors returns the GitHub-style anchors of a Markdown file's headings.
func anchors(md string) map[string]bool {
	out := map[string]bool{}
	for _, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		title := strings.ToLower(strings.TrimSpace(strings.TrimLeft(line, "#")))
		var b strings.Builder
		for _, r := range title {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
				b.WriteRune(r)
			case r == ' ':
				b.WriteRune('-')
			}
		}
		out["#"+b.String()] = true
	}
	return out
}

// TestDocLinksResolve checks that every docs/<file>.md#anchor cited in the code names a file
// of docs/ and one of its headings, so comments keep pointing somewhere a maintainer can
// read.
func TestDocLinksResolve(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	docs := map[string]map[string]bool{}
	entries, err := os.ReadDir(filepath.Join(root, "docs"))
	require.NoError(t, err)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".md") {
			b, err := os.ReadFile(filepath.Join(root, "docs", e.Name()))
			require.NoError(t, err)
			docs[e.Name()] = anchors(string(b))
		}
	}
	require.Contains(t, docs, "aws-behaviour.md")

	links := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (name == "testdata" || strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, ".md") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		for _, m := range docLink.FindAllStringSubmatch(string(b), -1) {
			links++
			heads, ok := docs[m[1]]
			if !assert.True(t, ok, "%s cites docs/%s, which does not exist", rel, m[1]) {
				continue
			}
			if m[2] != "" {
				assert.True(t, heads[m[2]], "%s cites docs/%s%s, which has no such heading", rel, m[1], m[2])
			}
		}
		return nil
	})
	require.NoError(t, err)
	assert.Greater(t, links, 30, "the walk found the code's references to docs/")
}

func TestAnchors(t *testing.T) {
	got := anchors("# AWS behaviour\n## Renaming a cluster\n### The write-ahead rule\ntext # not a heading\n## `Code` and errors")
	assert.Equal(t, map[string]bool{"#aws-behaviour": true, "#renaming-a-cluster": true, "#the-write-ahead-rule": true,
		"#code-and-errors": true}, got)
}
