package rdssim

import (
	"encoding/base64"
	"slices"
	"sort"
	"strings"
)

// pageArgs reads MaxRecords (20-100, default 100) and Marker.
func pageArgs(p *params) (max int, marker string) {
	max = 100
	if v := p.intp("MaxRecords"); v != nil {
		if *v < 20 || *v > 100 {
			p.fail(errInvalidValue("Invalid value %d for MaxRecords. Must be between 20 and 100", *v))
		}
		max = int(*v)
	}
	if m, ok := p.str("Marker"); ok && m != "" {
		b, err := base64.RawURLEncoding.DecodeString(m)
		if err != nil {
			p.fail(errInvalidValue("Invalid marker: %s", m))
		}
		marker = string(b)
	}
	return max, marker
}

// paginate returns the page of items (sorted by key) starting at marker, and the marker of
// the next page ("" when this is the last one). Markers name the first key of the next page,
// so a page stays correct when items are added or removed between calls.
func paginate[T any](items []T, key func(T) string, max int, marker string) ([]T, string) {
	sort.SliceStable(items, func(i, j int) bool { return key(items[i]) < key(items[j]) })
	start := 0
	if marker != "" {
		start = sort.Search(len(items), func(i int) bool { return key(items[i]) >= marker })
	}
	end := start + max
	if end >= len(items) {
		return items[start:], ""
	}
	return items[start:end], base64.RawURLEncoding.EncodeToString([]byte(key(items[end])))
}

// matchAny reports whether v equals one of the filter values (case-insensitive).
func matchAny(v string, vals []string) bool {
	for _, x := range vals {
		if strings.EqualFold(v, x) {
			return true
		}
	}
	return false
}

// matchFilters reports whether a resource passes every filter: some value values(name) gives
// for the filter's name equals one of the filter's values. A name the resource kind does not
// support gives no values, so it matches nothing.
func matchFilters(filters []filter, values func(name string) []string) bool {
	for _, f := range filters {
		if !slices.ContainsFunc(values(f.Name), func(v string) bool { return v != "" && matchAny(v, f.Values) }) {
			return false
		}
	}
	return true
}

// idOrARN returns the identifier part of an RDS ARN, or s itself.
func idOrARN(s string) string {
	if a, ok := parseARN(s); ok {
		return a.ID
	}
	return s
}
