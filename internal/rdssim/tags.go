package rdssim

import (
	"strings"
)

func init() {
	registerRDS("AddTagsToResource", addTagsToResource)
	registerRDS("ListTagsForResource", listTagsForResource)
	registerRDS("RemoveTagsFromResource", removeTagsFromResource)
	registerTagKind("db", func(s *Sim, r *region, id string) (*[]Tag, *apiError) {
		i := r.instances[id]
		if i == nil {
			return nil, errInstanceNotFound(id)
		}
		return &i.tags, nil
	})
	registerTagKind("snapshot", func(s *Sim, r *region, id string) (*[]Tag, *apiError) {
		sn := r.snapshots[id]
		if sn == nil {
			return nil, errSnapshotNotFound(id)
		}
		return &sn.tags, nil
	})
}

// tagKinds maps the resource kind of an RDS ARN (db, snapshot, cluster, pg, ...) to the tag
// list of the named resource. Other resource families register their kinds.
var tagKinds = map[string]func(s *Sim, r *region, id string) (*[]Tag, *apiError){}

func registerTagKind(kind string, f func(s *Sim, r *region, id string) (*[]Tag, *apiError)) {
	tagKinds[kind] = f
}

func validateTag(k, v string) *apiError {
	if k == "" || len(k) > 128 {
		return errInvalidValue("Tag keys must be between 1 and 128 characters in length.")
	}
	if len(v) > 256 {
		return errInvalidValue("Tag values must be at most 256 characters in length.")
	}
	if strings.HasPrefix(strings.ToLower(k), "aws:") {
		return errInvalidValue("Tag keys cannot start with 'aws:'.")
	}
	return nil
}

// mergeTags sets each tag of add on list (replacing existing keys), keeping order.
func mergeTags(list []Tag, add []Tag) []Tag {
	out := append([]Tag(nil), list...)
	for _, t := range add {
		found := false
		for i := range out {
			if out[i].Key == t.Key {
				out[i].Value, found = t.Value, true
			}
		}
		if !found {
			out = append(out, t)
		}
	}
	return out
}

func (s *Sim) tagTarget(c *call) (*[]Tag, error) {
	name := c.p.required("ResourceName")
	if err := c.p.Err(); err != nil {
		return nil, err
	}
	a, ok := parseARN(name)
	if !ok || a.Service != "rds" {
		return nil, errInvalidValue("The specified resource name does not match an RDS resource in this region.")
	}
	if a.Region != c.r.name || a.Account != s.account {
		return nil, errInvalidValue("The specified resource name does not match an RDS resource in this region.")
	}
	f := tagKinds[a.Kind]
	if f == nil {
		return nil, errInvalidValue("Unsupported resource type %s in ARN %s", a.Kind, name)
	}
	list, e := f(s, c.r, strings.ToLower(a.ID))
	if e != nil {
		return nil, e
	}
	return list, nil
}

func addTagsToResource(c *call) (any, error) {
	add, ok := c.p.tags("Tags")
	if !ok {
		c.p.fail(errMissing("Tags"))
	}
	list, err := c.sim.tagTarget(c)
	if err != nil {
		return nil, err
	}
	merged := mergeTags(*list, add)
	if len(merged) > 50 {
		return nil, errf("TagQuotaExceeded", "Cannot add tags: a resource can have at most 50 tags.")
	}
	*list = merged
	return nil, nil
}

type tagListResult struct {
	TagList []Tag `xml:"TagList>Tag"`
}

func listTagsForResource(c *call) (any, error) {
	list, err := c.sim.tagTarget(c)
	if err != nil {
		return nil, err
	}
	return tagListResult{TagList: append([]Tag{}, *list...)}, nil
}

func removeTagsFromResource(c *call) (any, error) {
	keys, ok := c.p.list("TagKeys", "member")
	if !ok {
		c.p.fail(errMissing("TagKeys"))
	}
	list, err := c.sim.tagTarget(c)
	if err != nil {
		return nil, err
	}
	out := (*list)[:0:0]
	for _, t := range *list {
		drop := false
		for _, k := range keys {
			drop = drop || k == t.Key
		}
		if !drop {
			out = append(out, t)
		}
	}
	*list = out
	return nil, nil
}
