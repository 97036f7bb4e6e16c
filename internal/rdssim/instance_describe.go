package rdssim

import "sort"

func init() {
	registerRDS("DescribeDBInstances", describeDBInstances)
}

type describeDBInstancesResult struct {
	DBInstances []*xmlDBInstance `xml:"DBInstances>DBInstance"`
	Marker      string           `xml:",omitempty"`
}

func sortedInstances(r *region) []*instance {
	out := make([]*instance, 0, len(r.instances))
	for _, i := range r.instances {
		out = append(out, i)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].id < out[b].id })
	return out
}

func describeDBInstances(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	ref, byID := p.str("DBInstanceIdentifier")
	filters := p.filters("db-instance-id", "dbi-resource-id", "db-cluster-id", "engine", "domain")
	max, marker := pageArgs(p)
	if err := p.Err(); err != nil {
		return nil, err
	}
	var list []*instance
	if byID {
		i, e := s.instanceByRef(r, ref)
		if e != nil {
			return nil, e
		}
		list = []*instance{i}
	} else {
		list = sortedInstances(r)
	}
	var out []*instance
	for _, i := range list {
		if instanceMatches(s, i, filters) {
			out = append(out, i)
		}
	}
	page, next := paginate(out, func(i *instance) string { return i.id }, max, marker)
	res := describeDBInstancesResult{Marker: next}
	for _, i := range page {
		res.DBInstances = append(res.DBInstances, s.renderInstance(i))
	}
	return res, nil
}

func instanceMatches(s *Sim, i *instance, filters []filter) bool {
	return matchFilters(filters, func(name string) []string {
		switch name {
		case "db-instance-id":
			return []string{i.id, i.arn(s)}
		case "dbi-resource-id":
			return []string{i.rid}
		case "db-cluster-id":
			if i.clusterID == "" {
				return nil
			}
			return []string{i.clusterID, s.rdsARN(i.r.name, "cluster", i.clusterID)}
		case "engine":
			return []string{i.cfg.Engine}
		case "domain":
			return i.cfg.DomainMemberships
		}
		return nil
	})
}
