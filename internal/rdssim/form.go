package rdssim

import (
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// params reads AWS Query form parameters. The first parse error sticks (Err) so handlers can
// read every parameter and check once.
//
// Conventions of the wire format (docs/aws-behaviour.md#requests): lists are `Prefix.Item.N` with
// 1-based N, a bare `Prefix=` is an empty list, nested members are `Parent.Child`.
type params struct {
	v      url.Values
	prefix string
	err    *apiError
}

func newParams(v url.Values) *params { return &params{v: v} }

// Err returns the first parse error.
func (p *params) Err() error {
	if p.err == nil {
		return nil
	}
	return p.err
}

func (p *params) fail(e *apiError) {
	if p.err == nil {
		p.err = e
	}
}

func (p *params) key(name string) string { return p.prefix + name }

// has reports whether the parameter (or any nested/list member of it) was sent.
func (p *params) has(name string) bool {
	k := p.key(name)
	if _, ok := p.v[k]; ok {
		return true
	}
	for key := range p.v {
		if strings.HasPrefix(key, k+".") {
			return true
		}
	}
	return false
}

// str returns the value and whether it was sent.
func (p *params) str(name string) (string, bool) {
	vs, ok := p.v[p.key(name)]
	if !ok || len(vs) == 0 {
		return "", false
	}
	return vs[0], true
}

// get returns the value or "".
func (p *params) get(name string) string {
	s, _ := p.str(name)
	return s
}

// strp returns nil when the parameter was not sent.
func (p *params) strp(name string) *string {
	s, ok := p.str(name)
	if !ok {
		return nil
	}
	return &s
}

// required returns the value, recording MissingParameter when it is absent or empty.
func (p *params) required(name string) string {
	s, ok := p.str(name)
	if !ok || s == "" {
		p.fail(errMissing(name))
	}
	return s
}

func (p *params) boolp(name string) *bool {
	s, ok := p.str(name)
	if !ok {
		return nil
	}
	switch strings.ToLower(s) {
	case "true":
		b := true
		return &b
	case "false":
		b := false
		return &b
	}
	p.fail(errInvalidValue("Invalid boolean value %q for parameter %s", s, name))
	return nil
}

func (p *params) boolean(name string, def bool) bool {
	if b := p.boolp(name); b != nil {
		return *b
	}
	return def
}

func (p *params) intp(name string) *int32 {
	s, ok := p.str(name)
	if !ok {
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		p.fail(errInvalidValue("Invalid value %q for parameter %s: must be an integer", s, name))
		return nil
	}
	i := int32(n)
	return &i
}

func (p *params) timep(name string) *time.Time {
	s, ok := p.str(name)
	if !ok {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		p.fail(errInvalidValue("Invalid timestamp %q for parameter %s", s, name))
		return nil
	}
	return &t
}

// sub returns a view of the nested structure `name.`.
func (p *params) sub(name string) *params {
	return &params{v: p.v, prefix: p.key(name) + ".", err: nil}
}

// merge copies a sub view's error back.
func (p *params) merge(sub *params) {
	if sub.err != nil {
		p.fail(sub.err)
	}
}

// indexes returns the sorted distinct N of keys `name.item.N[.…]`.
func (p *params) indexes(name, item string) []int {
	pre := p.key(name) + "." + item + "."
	seen := map[int]bool{}
	for k := range p.v {
		if !strings.HasPrefix(k, pre) {
			continue
		}
		rest := k[len(pre):]
		if i := strings.IndexByte(rest, '.'); i >= 0 {
			rest = rest[:i]
		}
		n, err := strconv.Atoi(rest)
		if err != nil || n < 1 {
			p.fail(errInvalidValue("Invalid list index in parameter %s", k))
			continue
		}
		seen[n] = true
	}
	out := make([]int, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Ints(out)
	return out
}

// list reads a wrapped list of strings `name.item.N`. ok is false when the list was not sent
// at all; a bare `name=` gives an empty, sent list.
func (p *params) list(name, item string) (vals []string, ok bool) {
	if !p.has(name) {
		return nil, false
	}
	vals = []string{}
	for _, n := range p.indexes(name, item) {
		vals = append(vals, p.get(name+"."+item+"."+strconv.Itoa(n)))
	}
	return vals, true
}

// structs reads a wrapped list of structures `name.item.N.Field`.
func (p *params) structs(name, item string) (items []*params, ok bool) {
	if !p.has(name) {
		return nil, false
	}
	items = []*params{}
	for _, n := range p.indexes(name, item) {
		items = append(items, p.sub(name+"."+item+"."+strconv.Itoa(n)))
	}
	return items, true
}

// Tag is a resource tag.
type Tag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

// tags reads `Tags.Tag.N.Key/Value` and validates them.
func (p *params) tags(name string) ([]Tag, bool) {
	items, ok := p.structs(name, "Tag")
	if !ok {
		return nil, false
	}
	out := []Tag{}
	for _, it := range items {
		k, v := it.get("Key"), it.get("Value")
		if e := validateTag(k, v); e != nil {
			p.fail(e)
			continue
		}
		out = append(out, Tag{Key: k, Value: v})
	}
	return out, true
}

// filter is one `Filters.Filter.N` entry.
type filter struct {
	Name   string
	Values []string
}

func (p *params) filters(allowed ...string) []filter {
	items, _ := p.structs("Filters", "Filter")
	var out []filter
	for _, it := range items {
		name := it.get("Name")
		vals, _ := it.list("Values", "Value")
		p.merge(it)
		if name == "" {
			p.fail(errMissing("Filters.Filter.Name"))
			continue
		}
		known := false
		for _, a := range allowed {
			known = known || a == name
		}
		if !known {
			p.fail(errInvalidValue("Unrecognized filter name: %s", name))
			continue
		}
		if len(vals) == 0 {
			p.fail(errInvalidValue("Filter %s must have at least one value", name))
			continue
		}
		out = append(out, filter{Name: name, Values: vals})
	}
	return out
}
