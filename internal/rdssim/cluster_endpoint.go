package rdssim

import (
	"sort"
	"strings"
	"time"
)

// Aurora custom endpoints (docs/aws-behaviour.md#aurora-clusters): up to 5 per cluster, READER or ANY, with StaticMembers or
// ExcludedMembers; identifiers are unique per account and region; the address does not
// contain the cluster name, so it survives a cluster rename.

func init() {
	registerRDS("CreateDBClusterEndpoint", createDBClusterEndpoint)
	registerRDS("DescribeDBClusterEndpoints", describeDBClusterEndpoints)
	registerRDS("ModifyDBClusterEndpoint", modifyDBClusterEndpoint)
	registerRDS("DeleteDBClusterEndpoint", deleteDBClusterEndpoint)
	registerTagKind("cluster-endpoint", func(s *Sim, r *region, id string) (*[]Tag, *apiError) {
		ep := aurora(r).endpoints[id]
		if ep == nil {
			return nil, errEndpointNotFound(id)
		}
		return &ep.tags, nil
	})
}

const maxCustomEndpoints = 5

type clusterEndpoint struct {
	lifecycle
	r        *region
	id       string
	rid      string // DBClusterEndpointResourceIdentifier
	cluster  *cluster
	typ      string // READER or ANY
	static   []*instance
	excluded []*instance
	status   string
	tags     []Tag
}

func (ep *clusterEndpoint) arn(s *Sim) string { return s.rdsARN(ep.r.name, "cluster-endpoint", ep.id) }

func (ep *clusterEndpoint) address() string {
	return ep.id + ".cluster-custom-" + ep.r.suffix + "." + ep.r.name + ".rds.amazonaws.com"
}

func (s *Sim) setEndpointStatus(ep *clusterEndpoint, status string, at time.Time, action string) {
	ep.status = status
	s.emit(at, ep.r.name, "cluster-endpoint", ep.id, ep.rid, status, action)
}

func errEndpointNotFound(id string) *apiError {
	return errf("DBClusterEndpointNotFoundFault", "DBClusterEndpoint %s not found.", id)
}

func sortedEndpointsOf(cl *cluster) []*clusterEndpoint {
	var out []*clusterEndpoint
	for _, ep := range aurora(cl.r).endpoints {
		if ep.cluster == cl {
			out = append(out, ep)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].id < out[b].id })
	return out
}

// memberIDs returns the identifiers of the instances that are still members of the cluster.
func memberIDs(cl *cluster, list []*instance) []string {
	var out []string
	for _, i := range list {
		if !i.gone && i.clusterID == cl.id {
			out = append(out, i.id)
		}
	}
	return out
}

type xmlClusterEndpoint struct {
	DBClusterEndpointIdentifier         string
	DBClusterIdentifier                 string
	DBClusterEndpointResourceIdentifier string `xml:",omitempty"`
	Endpoint                            string
	Status                              string
	EndpointType                        string
	CustomEndpointType                  string   `xml:",omitempty"`
	StaticMembers                       []string `xml:"StaticMembers>member"`
	ExcludedMembers                     []string `xml:"ExcludedMembers>member"`
	DBClusterEndpointArn                string   `xml:",omitempty"`
}

func (s *Sim) renderEndpoint(ep *clusterEndpoint) *xmlClusterEndpoint {
	return &xmlClusterEndpoint{DBClusterEndpointIdentifier: ep.id, DBClusterIdentifier: ep.cluster.id,
		DBClusterEndpointResourceIdentifier: ep.rid, Endpoint: ep.address(), Status: ep.status,
		EndpointType: "CUSTOM", CustomEndpointType: ep.typ, StaticMembers: memberIDs(ep.cluster, ep.static),
		ExcludedMembers: memberIDs(ep.cluster, ep.excluded), DBClusterEndpointArn: ep.arn(s)}
}

// builtinEndpoints are the WRITER and READER endpoints DescribeDBClusterEndpoints lists for
// every cluster; their identifier is the cluster's.
func builtinEndpoints(cl *cluster) []*xmlClusterEndpoint {
	status := "available"
	switch cl.status {
	case clusterCreating, statusInaccessibleCreds:
		status = "creating"
	case clusterDeleting:
		status = "deleting"
	}
	return []*xmlClusterEndpoint{
		{DBClusterEndpointIdentifier: cl.id, DBClusterIdentifier: cl.id, Endpoint: cl.writerAddress(), Status: status, EndpointType: "WRITER"},
		{DBClusterEndpointIdentifier: cl.id, DBClusterIdentifier: cl.id, Endpoint: cl.readerAddress(), Status: status, EndpointType: "READER"},
	}
}

// endpointMembers resolves StaticMembers / ExcludedMembers against the cluster's instances.
func endpointMembers(cl *cluster, ids []string, param string) ([]*instance, *apiError) {
	var out []*instance
	for _, id := range ids {
		var found *instance
		for _, m := range cl.members() {
			if m.id == strings.ToLower(id) {
				found = m
			}
		}
		if found == nil {
			return nil, errInvalidValue("%s: DB instance %s is not a member of DB cluster %s.", param, id, cl.id)
		}
		out = append(out, found)
	}
	return out, nil
}

// readEndpointSpec reads EndpointType, StaticMembers and ExcludedMembers.
func readEndpointSpec(p *params, cl *cluster, typ *string, static, excluded *[]*instance) *apiError {
	if v, ok := p.str("EndpointType"); ok {
		switch strings.ToUpper(v) {
		case "READER", "ANY":
			*typ = strings.ToUpper(v)
		default:
			return errInvalidValue("Invalid endpoint type %s: valid values are READER and ANY.", v)
		}
	}
	st, hasStatic := p.list("StaticMembers", "member")
	ex, hasExcluded := p.list("ExcludedMembers", "member")
	if len(st) > 0 && len(ex) > 0 {
		return errCombination("You can't specify both StaticMembers and ExcludedMembers.")
	}
	var e *apiError
	if hasStatic {
		if *static, e = endpointMembers(cl, st, "StaticMembers"); e != nil {
			return e
		}
		if len(st) > 0 {
			*excluded = nil
		}
	}
	if hasExcluded {
		if *excluded, e = endpointMembers(cl, ex, "ExcludedMembers"); e != nil {
			return e
		}
		if len(ex) > 0 {
			*static = nil
		}
	}
	return nil
}

func createDBClusterEndpoint(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	raw := p.required("DBClusterEndpointIdentifier")
	clusterRef := p.required("DBClusterIdentifier")
	p.required("EndpointType")
	tags, _ := p.tags("Tags")
	if err := p.Err(); err != nil {
		return nil, err
	}
	id, e := clusterID("DBClusterEndpointIdentifier", raw)
	if e != nil {
		return nil, e
	}
	cl, e := s.clusterByRef(r, clusterRef)
	if e != nil {
		return nil, e
	}
	st := aurora(r)
	if st.endpoints[id] != nil {
		return nil, errf("DBClusterEndpointAlreadyExistsFault", "DBClusterEndpoint %s already exists.", id)
	}
	if e := requireClusterAvailable(cl); e != nil {
		return nil, e
	}
	if len(sortedEndpointsOf(cl)) >= maxCustomEndpoints {
		return nil, errf("DBClusterEndpointQuotaExceededFault", "Cannot create more than %d custom endpoints for DB cluster %s.", maxCustomEndpoints, cl.id)
	}
	ep := &clusterEndpoint{r: r, id: id, rid: "cluster-endpoint-" + strings.ToLower(s.ids.chars(lowerAlnum, 26)), cluster: cl, tags: tags}
	if e := readEndpointSpec(p, cl, &ep.typ, &ep.static, &ep.excluded); e != nil {
		return nil, e
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	st.endpoints[id] = ep
	s.setEndpointStatus(ep, "creating", c.now, c.action)
	s.timeline(ep, c.now, step{auroraDur.EndpointCreate, func(at time.Time) { s.setEndpointStatus(ep, "available", at, c.action) }})
	return s.renderEndpoint(ep), nil
}

func modifyDBClusterEndpoint(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	raw := p.required("DBClusterEndpointIdentifier")
	if err := p.Err(); err != nil {
		return nil, err
	}
	ep := aurora(r).endpoints[strings.ToLower(raw)]
	if ep == nil {
		return nil, errEndpointNotFound(raw)
	}
	if ep.status != "available" {
		return nil, errf("InvalidDBClusterEndpointStateFault", "DBClusterEndpoint %s is not in the available state.", ep.id)
	}
	typ, static, excluded := ep.typ, ep.static, ep.excluded
	if e := readEndpointSpec(p, ep.cluster, &typ, &static, &excluded); e != nil {
		return nil, e
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	ep.typ, ep.static, ep.excluded = typ, static, excluded
	s.setEndpointStatus(ep, "modifying", c.now, c.action)
	s.timeline(ep, c.now, step{auroraDur.EndpointApply, func(at time.Time) { s.setEndpointStatus(ep, "available", at, c.action) }})
	return s.renderEndpoint(ep), nil
}

func deleteDBClusterEndpoint(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	raw := p.required("DBClusterEndpointIdentifier")
	if err := p.Err(); err != nil {
		return nil, err
	}
	ep := aurora(r).endpoints[strings.ToLower(raw)]
	if ep == nil {
		return nil, errEndpointNotFound(raw)
	}
	if ep.status != "available" {
		return nil, errf("InvalidDBClusterEndpointStateFault", "DBClusterEndpoint %s is not in the available state.", ep.id)
	}
	s.setEndpointStatus(ep, "deleting", c.now, c.action)
	s.timeline(ep, c.now, step{auroraDur.EndpointDelete, func(at time.Time) {
		s.emit(at, ep.r.name, "cluster-endpoint", ep.id, ep.rid, "deleted", c.action)
		ep.gone = true
		delete(aurora(ep.r).endpoints, ep.id)
	}})
	return s.renderEndpoint(ep), nil
}

type describeDBClusterEndpointsResult struct {
	DBClusterEndpoints []*xmlClusterEndpoint `xml:"DBClusterEndpoints>DBClusterEndpointList"`
	Marker             string                `xml:",omitempty"`
}

func describeDBClusterEndpoints(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	clusterRef, byCluster := p.str("DBClusterIdentifier")
	epRef, byEndpoint := p.str("DBClusterEndpointIdentifier")
	filters := p.filters("db-cluster-endpoint-type", "db-cluster-endpoint-custom-type", "db-cluster-endpoint-id", "db-cluster-endpoint-status")
	max, marker := pageArgs(p)
	if err := p.Err(); err != nil {
		return nil, err
	}
	clusters := sortedClusters(r)
	if byCluster {
		cl, e := s.clusterByRef(r, clusterRef)
		if e != nil {
			return nil, e
		}
		clusters = []*cluster{cl}
	}
	var all []*xmlClusterEndpoint
	for _, cl := range clusters {
		all = append(all, builtinEndpoints(cl)...)
		for _, ep := range sortedEndpointsOf(cl) {
			all = append(all, s.renderEndpoint(ep))
		}
	}
	var out []*xmlClusterEndpoint
	for _, x := range all {
		if byEndpoint && !strings.EqualFold(x.DBClusterEndpointIdentifier, epRef) {
			continue
		}
		if endpointMatches(x, filters) {
			out = append(out, x)
		}
	}
	// Page by position in the (cluster, type, id) order: built-in endpoints share their
	// identifier with the cluster, so the identifier alone is not a key.
	key := func(x *xmlClusterEndpoint) string {
		rank := map[string]string{"WRITER": "0", "READER": "1", "CUSTOM": "2"}[x.EndpointType]
		return x.DBClusterIdentifier + "\x00" + rank + x.DBClusterEndpointIdentifier
	}
	page, next := paginate(out, key, max, marker)
	return describeDBClusterEndpointsResult{DBClusterEndpoints: page, Marker: next}, nil
}

func endpointMatches(x *xmlClusterEndpoint, filters []filter) bool {
	return matchFilters(filters, func(name string) []string {
		switch name {
		case "db-cluster-endpoint-type":
			return []string{x.EndpointType}
		case "db-cluster-endpoint-custom-type":
			return []string{x.CustomEndpointType}
		case "db-cluster-endpoint-id":
			return []string{x.DBClusterEndpointIdentifier}
		case "db-cluster-endpoint-status":
			return []string{x.Status}
		}
		return nil
	})
}
