package fleet

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// TagFilter selects resources by tag: --include tag:KEY=VALUE, or tag:KEY for any value.
type TagFilter struct {
	Key   string
	Value string
	// AnyValue is true for tag:KEY (the tag must exist, with any value).
	AnyValue bool
}

// AWS tag limits: keys 1-128 characters, values 0-256.
const (
	maxTagKey   = 128
	maxTagValue = 256
)

// ParseTagFilter parses "tag:KEY=VALUE" or "tag:KEY". The key ends at the first "=", so a
// key cannot contain one (AWS allows it; such tags cannot be selected); the value may.
func ParseTagFilter(s string) (TagFilter, error) {
	rest, ok := strings.CutPrefix(s, "tag:")
	if !ok {
		return TagFilter{}, fmt.Errorf("include filter %q: must be tag:KEY=VALUE or tag:KEY", s)
	}
	key, value, hasValue := strings.Cut(rest, "=")
	switch {
	case key == "":
		return TagFilter{}, fmt.Errorf("include filter %q: the tag key is empty", s)
	case len(key) > maxTagKey:
		return TagFilter{}, fmt.Errorf("include filter %q: tag keys are at most %d characters", s, maxTagKey)
	case len(value) > maxTagValue:
		return TagFilter{}, fmt.Errorf("include filter %q: tag values are at most %d characters", s, maxTagValue)
	case strings.ContainsAny(key, "\x00\n\r"), strings.ContainsAny(value, "\x00\n\r"):
		return TagFilter{}, fmt.Errorf("include filter %q: control characters are not allowed", s)
	}
	return TagFilter{Key: key, Value: value, AnyValue: !hasValue}, nil
}

// String is the flag form of the filter; ParseTagFilter(f.String()) == f.
func (f TagFilter) String() string {
	if f.AnyValue {
		return "tag:" + f.Key
	}
	return "tag:" + f.Key + "=" + f.Value
}

// Matches reports whether tags satisfy the filter. Tag keys and values are case sensitive.
func (f TagFilter) Matches(tags model.Tags) bool {
	v, ok := tags[f.Key]
	return ok && (f.AnyValue || v == f.Value)
}

// Glob is an identifier pattern for --exclude: "*" matches any run of characters, "?" any
// one character; everything else matches itself, ignoring case (AWS identifiers are case
// insensitive).
type Glob struct {
	pattern string // lower case
}

var globChars = regexp.MustCompile(`^[a-zA-Z0-9*?-]+$`)

// ParseGlob checks an --exclude pattern: letters, digits, hyphens and the wildcards * and ?.
func ParseGlob(s string) (Glob, error) {
	if len(s) > 255 || !globChars.MatchString(s) {
		return Glob{}, fmt.Errorf("exclude pattern %q: use letters, digits, hyphens and the wildcards * and ? (at most 255 characters)", s)
	}
	return Glob{pattern: strings.ToLower(s)}, nil
}

func (g Glob) String() string { return g.pattern }

// Match reports whether the whole identifier id matches the pattern. It runs in
// O(len(pattern)*len(id)) time: a "*" is retried from the last star only.
func (g Glob) Match(id string) bool {
	p, s := g.pattern, strings.ToLower(id)
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			pi++
			si++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// Selection is the part of a batch request that picks resources.
type Selection struct {
	// Include: a resource is selected when it matches any filter; no filter selects all.
	Include []TagFilter
	// Exclude: a resource whose identifier matches any pattern is left out.
	Exclude []Glob
}

// Selects reports whether a resource with this identifier and tags is selected.
func (s Selection) Selects(id string, tags model.Tags) bool {
	for _, g := range s.Exclude {
		if g.Match(id) {
			return false
		}
	}
	if len(s.Include) == 0 {
		return true
	}
	for _, f := range s.Include {
		if f.Matches(tags) {
			return true
		}
	}
	return false
}

var regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`)

// ParseRegionKey splits a --kms-key value: "REGION=KEY" gives a region its own key; anything
// else (id, ARN, alias) is the key of every region and region is "".
func ParseRegionKey(s string) (region, key string, err error) {
	if r, k, ok := strings.Cut(s, "="); ok {
		if !regionPattern.MatchString(r) || k == "" {
			return "", "", fmt.Errorf("--kms-key %q: use KEY, or REGION=KEY (e.g. eu-west-1=alias/rds)", s)
		}
		return r, k, nil
	}
	if s == "" {
		return "", "", fmt.Errorf("--kms-key is empty")
	}
	return "", s, nil
}
