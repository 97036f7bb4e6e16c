package rdssim

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// EC2 security groups, the part of EC2 a DB instance's network access depends on: create,
// describe and delete VPC security groups, and the inbound rules that decide whether clients
// can open sessions (workload.go).
//
// Wire protocol: EC2 Query (aws-sdk-go-v2 service/ec2 serializers.go / deserializers.go):
// POST form with Action and Version=2016-11-15; lists are flattened with 1-based indexes
// (GroupId.1, Filter.1.Name, Filter.1.Value.1, TagSpecification.1.Tag.1.Key); the response
// is <ActionResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"> with requestId and the
// output members in lower camel case; errors are <Response><Errors><Error><Code>…
//
// Rules (EC2 API reference): CreateSecurityGroup needs GroupName and GroupDescription; a name
// is unique per VPC (InvalidGroup.Duplicate), may not start with "sg-"; a new group has no
// inbound rules and one outbound rule allowing everything. DescribeSecurityGroups with an
// unknown id fails InvalidGroup.NotFound. DeleteSecurityGroup fails DependencyViolation while
// a network interface (here: a DB instance) uses the group, and CannotDelete for a VPC's
// default group.

const ec2Version = "2016-11-15"
const ec2XMLNS = "http://ec2.amazonaws.com/doc/2016-11-15/"

// secGroup is a VPC security group.
type secGroup struct {
	id, name, description, vpc string
	ingress, egress            []ipPermission
	tags                       []Tag
	isDefault                  bool
}

// ipPermission is one rule. A rule whose only source is its own group (the default group's
// rule) admits the application clients, which run in that group.
type ipPermission struct {
	protocol         string // "-1" for all
	fromPort, toPort int32
	cidrs            []string
	groupPairs       []string
}

func (p ipPermission) covers(port int32) bool {
	return p.protocol == "-1" || (p.protocol == "tcp" && p.fromPort <= port && port <= p.toPort)
}

type ec2State struct {
	groups map[string]*secGroup // by id
}

func ec2Of(r *region) *ec2State {
	return regionExt(r, "ec2", func() *ec2State { return &ec2State{groups: map[string]*secGroup{}} })
}

// securityGroup returns the group with the given id. Groups that instances refer to but that
// were never created through EC2 (fixtures name them, and every region has its default
// group) exist as groups that admit the applications: an inbound rule for every protocol
// from the group itself, like a VPC's default group.
func (s *Sim) securityGroup(r *region, id string) *secGroup {
	st := ec2Of(r)
	if g := st.groups[id]; g != nil {
		return g
	}
	if id != r.defaultSG && !s.groupInUse(r, id) {
		return nil
	}
	g := &secGroup{id: id, name: id, description: "application access", vpc: r.defaultVPC,
		ingress: []ipPermission{{protocol: "-1", groupPairs: []string{id}}},
		egress:  []ipPermission{{protocol: "-1", cidrs: []string{"0.0.0.0/0"}}}}
	if id == r.defaultSG {
		g.name, g.description, g.isDefault = "default", "default VPC security group", true
	}
	for _, inst := range sortedInstances(r) {
		if containsString(inst.cfg.VpcSecurityGroups, id) {
			g.vpc = subnetGroupVPC(s, r, inst.cfg.SubnetGroup)
			break
		}
	}
	st.groups[id] = g
	return g
}

func (s *Sim) groupInUse(r *region, id string) bool {
	for _, inst := range r.instances {
		if containsString(inst.cfg.VpcSecurityGroups, id) {
			return true
		}
	}
	return false
}

func containsString(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// admits reports whether a client can open a new session to inst: one of its security groups
// has an inbound rule for the instance's port.
func (s *Sim) admits(inst *instance) bool {
	for _, id := range inst.cfg.VpcSecurityGroups {
		g := s.securityGroup(inst.r, id)
		if g == nil {
			continue
		}
		for _, p := range g.ingress {
			if p.covers(inst.cfg.Port) {
				return true
			}
		}
	}
	return false
}

// --- protocol ------------------------------------------------------------------------------

// isEC2 tells an EC2 Query request from an RDS one: the SigV4 scope names ec2, or an unsigned
// request carries EC2's API version.
func isEC2(req *http.Request, body []byte) bool {
	if auth := req.Header.Get("Authorization"); auth != "" {
		return strings.Contains(auth, "/ec2/aws4_request")
	}
	form, err := url.ParseQuery(string(body))
	return err == nil && form.Get("Version") == ec2Version
}

type ec2Handler func(c *call, form url.Values) (any, *apiError)

var ec2Handlers = map[string]ec2Handler{
	"CreateSecurityGroup":    createSecurityGroup,
	"DescribeSecurityGroups": describeSecurityGroups,
	"DeleteSecurityGroup":    deleteSecurityGroup,
}

func ec2ErrorBody(reqID string, e *apiError) []byte {
	var b bytes.Buffer
	b.WriteString("<Response><Errors><Error><Code>")
	_ = xml.EscapeText(&b, []byte(e.Code))
	b.WriteString("</Code><Message>")
	_ = xml.EscapeText(&b, []byte(e.Message))
	b.WriteString("</Message></Error></Errors><RequestID>")
	_ = xml.EscapeText(&b, []byte(reqID))
	b.WriteString("</RequestID></Response>")
	return b.Bytes()
}

func (s *Sim) serveEC2(req *http.Request, body []byte) *response {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.now()
	s.settle(now)
	resp := &response{ctype: "text/xml;charset=UTF-8", date: now, reqID: s.nextRequestID()}
	fail := func(e *apiError) *response {
		resp.status = e.Status
		resp.body = ec2ErrorBody(resp.reqID, e)
		return resp
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return fail(errf("MalformedQueryString", "%v", err))
	}
	action := form.Get("Action")
	if action == "" {
		return fail(errMissing("Action"))
	}
	s.count(req, action)
	if e := s.faults.beforeCall(action, true); e != nil {
		if e.Code == "Throttling" {
			e = &apiError{Code: "RequestLimitExceeded", Message: "Request limit exceeded.", Status: 503}
		}
		return fail(e)
	}
	h, ok := ec2Handlers[action]
	if !ok {
		return fail(&apiError{Code: "InvalidAction", Message: fmt.Sprintf("The action %s is not valid for this web service.", action), Status: 400})
	}
	if v := form.Get("Version"); v != ec2Version {
		return fail(errf("InvalidParameterValue", "Invalid API version %q", v))
	}
	r, aerr := s.regionOf(req, "ec2")
	if aerr != nil {
		return fail(aerr)
	}
	c := &call{sim: s, r: r, now: now, action: action, req: req,
		checks: s.ec2Checks(r, action, form), denyCode: "UnauthorizedOperation"}
	if e := s.authorize(c); e != nil {
		return fail(e)
	}
	result, e := h(c, form)
	if e != nil {
		return fail(e)
	}
	out, err := ec2ResultBody(action, resp.reqID, result)
	if err != nil {
		return fail(errf("InternalFailure", "encoding response: %v", err))
	}
	resp.status, resp.body = http.StatusOK, out
	return resp
}

func ec2ResultBody(action, reqID string, result any) ([]byte, error) {
	var buf bytes.Buffer
	enc := xml.NewEncoder(&buf)
	root := xml.StartElement{Name: xml.Name{Local: action + "Response"}, Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: ec2XMLNS}}}
	if err := enc.EncodeToken(root); err != nil {
		return nil, err
	}
	if err := enc.EncodeElement(reqID, xml.StartElement{Name: xml.Name{Local: "requestId"}}); err != nil {
		return nil, err
	}
	if result != nil {
		// result is a struct whose fields are the output members.
		if err := enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: "x"}}); err != nil {
			return nil, err
		}
	}
	if err := enc.EncodeToken(root.End()); err != nil {
		return nil, err
	}
	if err := enc.Flush(); err != nil {
		return nil, err
	}
	// Unwrap the helper element: its children are the root's.
	out := bytes.Replace(buf.Bytes(), []byte("<x>"), nil, 1)
	if i := bytes.LastIndex(out, []byte("</x>")); i >= 0 {
		out = append(out[:i:i], out[i+4:]...)
	}
	return out, nil
}

// ec2Indexed returns the values of `prefix.N` (N from 1) in index order.
func ec2Indexed(form url.Values, prefix string) []string {
	type kv struct {
		n int
		v string
	}
	var out []kv
	for k, vs := range form {
		if !strings.HasPrefix(k, prefix+".") {
			continue
		}
		n, err := strconv.Atoi(k[len(prefix)+1:])
		if err != nil || len(vs) == 0 {
			continue
		}
		out = append(out, kv{n, vs[0]})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].n < out[b].n })
	vals := make([]string, len(out))
	for i, x := range out {
		vals[i] = x.v
	}
	return vals
}

// ec2Structs returns the distinct N of `prefix.N.…` keys in order.
func ec2Structs(form url.Values, prefix string) []string {
	seen := map[int]bool{}
	for k := range form {
		if !strings.HasPrefix(k, prefix+".") {
			continue
		}
		rest := k[len(prefix)+1:]
		if i := strings.IndexByte(rest, '.'); i >= 0 {
			rest = rest[:i]
		}
		if n, err := strconv.Atoi(rest); err == nil {
			seen[n] = true
		}
	}
	ns := make([]int, 0, len(seen))
	for n := range seen {
		ns = append(ns, n)
	}
	sort.Ints(ns)
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = prefix + "." + strconv.Itoa(n)
	}
	return out
}

type xmlEC2Tag struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

type xmlIPPermission struct {
	IPProtocol string `xml:"ipProtocol"`
	FromPort   *int32 `xml:"fromPort,omitempty"`
	ToPort     *int32 `xml:"toPort,omitempty"`
	Groups     []struct {
		GroupID string `xml:"groupId"`
		UserID  string `xml:"userId"`
	} `xml:"groups>item"`
	IPRanges []struct {
		CIDR string `xml:"cidrIp"`
	} `xml:"ipRanges>item"`
}

type xmlSecurityGroup struct {
	OwnerID             string            `xml:"ownerId"`
	GroupID             string            `xml:"groupId"`
	GroupName           string            `xml:"groupName"`
	GroupDescription    string            `xml:"groupDescription"`
	VpcID               string            `xml:"vpcId"`
	IPPermissions       []xmlIPPermission `xml:"ipPermissions>item"`
	IPPermissionsEgress []xmlIPPermission `xml:"ipPermissionsEgress>item"`
	TagSet              []xmlEC2Tag       `xml:"tagSet>item"`
	SecurityGroupArn    string            `xml:"securityGroupArn"`
}

func (s *Sim) groupARN(r *region, id string) string {
	return fmt.Sprintf("arn:aws:ec2:%s:%s:security-group/%s", r.name, s.account, id)
}

func renderPerms(s *Sim, perms []ipPermission) []xmlIPPermission {
	out := []xmlIPPermission{}
	for _, p := range perms {
		x := xmlIPPermission{IPProtocol: p.protocol}
		if p.protocol != "-1" {
			x.FromPort, x.ToPort = i32p(p.fromPort), i32p(p.toPort)
		}
		for _, g := range p.groupPairs {
			x.Groups = append(x.Groups, struct {
				GroupID string `xml:"groupId"`
				UserID  string `xml:"userId"`
			}{g, s.account})
		}
		for _, c := range p.cidrs {
			x.IPRanges = append(x.IPRanges, struct {
				CIDR string `xml:"cidrIp"`
			}{c})
		}
		out = append(out, x)
	}
	return out
}

func (s *Sim) renderGroup(r *region, g *secGroup) xmlSecurityGroup {
	x := xmlSecurityGroup{OwnerID: s.account, GroupID: g.id, GroupName: g.name, GroupDescription: g.description,
		VpcID: g.vpc, IPPermissions: renderPerms(s, g.ingress), IPPermissionsEgress: renderPerms(s, g.egress),
		SecurityGroupArn: s.groupARN(r, g.id)}
	for _, t := range g.tags {
		x.TagSet = append(x.TagSet, xmlEC2Tag{Key: t.Key, Value: t.Value})
	}
	return x
}

// vpcs returns the VPCs of the region: the default one and those of its subnet groups.
func (s *Sim) vpcKnown(r *region, vpc string) bool {
	if vpc == r.defaultVPC {
		return true
	}
	for _, sn := range groups(r).knownSubnets {
		if sn.vpc == vpc {
			return true
		}
	}
	for _, g := range groups(r).subnets {
		if g.vpc == vpc {
			return true
		}
	}
	return false
}

func createSecurityGroup(c *call, form url.Values) (any, *apiError) {
	s, r := c.sim, c.r
	name, desc, vpc := form.Get("GroupName"), form.Get("GroupDescription"), form.Get("VpcId")
	switch {
	case name == "":
		return nil, errf("MissingParameter", "The request must contain the parameter groupName")
	case desc == "":
		return nil, errf("MissingParameter", "The request must contain the parameter groupDescription")
	case len(name) > 255 || strings.HasPrefix(strings.ToLower(name), "sg-"):
		return nil, errf("InvalidParameterValue", "Invalid value '%s' for groupName. It may not begin with sg- and must be at most 255 characters", name)
	}
	if vpc == "" {
		vpc = r.defaultVPC
	}
	if !s.vpcKnown(r, vpc) {
		return nil, errf("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", vpc)
	}
	var tags []Tag
	for _, spec := range ec2Structs(form, "TagSpecification") {
		if rt := form.Get(spec + ".ResourceType"); rt != "security-group" {
			return nil, errf("InvalidParameterValue", "'%s' is not a valid taggable resource type for this operation.", rt)
		}
		for _, t := range ec2Structs(form, spec+".Tag") {
			k, v := form.Get(t+".Key"), form.Get(t+".Value")
			if e := validateTag(k, v); e != nil {
				return nil, e
			}
			tags = append(tags, Tag{Key: k, Value: v})
		}
	}
	st := ec2Of(r)
	for _, g := range st.groups {
		if g.vpc == vpc && g.name == name {
			return nil, errf("InvalidGroup.Duplicate", "The security group '%s' already exists for VPC '%s'", name, vpc)
		}
	}
	g := &secGroup{id: "sg-" + s.ids.hex(17), name: name, description: desc, vpc: vpc, tags: tags,
		egress: []ipPermission{{protocol: "-1", cidrs: []string{"0.0.0.0/0"}}}}
	st.groups[g.id] = g
	s.emit(c.now, r.name, "security-group", g.id, g.id, "created", c.action)
	out := struct {
		GroupID          string      `xml:"groupId"`
		TagSet           []xmlEC2Tag `xml:"tagSet>item"`
		SecurityGroupArn string      `xml:"securityGroupArn"`
	}{GroupID: g.id, SecurityGroupArn: s.groupARN(r, g.id)}
	for _, t := range tags {
		out.TagSet = append(out.TagSet, xmlEC2Tag{Key: t.Key, Value: t.Value})
	}
	return out, nil
}

func describeSecurityGroups(c *call, form url.Values) (any, *apiError) {
	s, r := c.sim, c.r
	ids := ec2Indexed(form, "GroupId")
	names := ec2Indexed(form, "GroupName")
	type flt struct {
		name   string
		values []string
	}
	var filters []flt
	for _, f := range ec2Structs(form, "Filter") {
		filters = append(filters, flt{form.Get(f + ".Name"), ec2Indexed(form, f+".Value")})
	}
	// Every group an instance refers to is known (see securityGroup).
	for _, inst := range sortedInstances(r) {
		for _, id := range inst.cfg.VpcSecurityGroups {
			s.securityGroup(r, id)
		}
	}
	s.securityGroup(r, r.defaultSG)
	st := ec2Of(r)
	for _, id := range ids {
		if st.groups[id] == nil {
			return nil, errf("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
		}
	}
	var list []*secGroup
	for _, g := range st.groups {
		list = append(list, g)
	}
	sort.Slice(list, func(a, b int) bool { return list[a].id < list[b].id })
	match := func(g *secGroup) bool {
		if len(ids) > 0 && !containsString(ids, g.id) {
			return false
		}
		if len(names) > 0 && !containsString(names, g.name) {
			return false
		}
		for _, f := range filters {
			var have []string
			switch {
			case f.name == "group-id":
				have = []string{g.id}
			case f.name == "group-name":
				have = []string{g.name}
			case f.name == "vpc-id":
				have = []string{g.vpc}
			case f.name == "tag-key":
				for _, t := range g.tags {
					have = append(have, t.Key)
				}
			case strings.HasPrefix(f.name, "tag:"):
				for _, t := range g.tags {
					if t.Key == f.name[4:] {
						have = append(have, t.Value)
					}
				}
			default:
				continue
			}
			ok := false
			for _, v := range f.values {
				if containsString(have, v) {
					ok = true
				}
			}
			if !ok {
				return false
			}
		}
		return true
	}
	out := struct {
		SecurityGroupInfo []xmlSecurityGroup `xml:"securityGroupInfo>item"`
	}{SecurityGroupInfo: []xmlSecurityGroup{}}
	for _, g := range list {
		if match(g) {
			out.SecurityGroupInfo = append(out.SecurityGroupInfo, s.renderGroup(r, g))
		}
	}
	if len(names) > 0 && len(out.SecurityGroupInfo) == 0 {
		return nil, errf("InvalidGroup.NotFound", "The security group '%s' does not exist in default VPC '%s'", names[0], r.defaultVPC)
	}
	return out, nil
}

func deleteSecurityGroup(c *call, form url.Values) (any, *apiError) {
	s, r := c.sim, c.r
	id := form.Get("GroupId")
	if id == "" {
		return nil, errf("MissingParameter", "The request must contain the parameter groupId")
	}
	g := s.securityGroup(r, id)
	if g == nil {
		return nil, errf("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
	}
	if g.isDefault {
		return nil, errf("CannotDelete", "the specified group: \"%s\" name: \"default\" cannot be deleted by a user", id)
	}
	if s.groupInUse(r, id) {
		return nil, errf("DependencyViolation", "resource %s has a dependent object", id)
	}
	delete(ec2Of(r).groups, id)
	s.emit(c.now, r.name, "security-group", id, id, "deleted", c.action)
	return struct {
		Return  bool   `xml:"return"`
		GroupID string `xml:"groupId"`
	}{true, id}, nil
}

// SecurityGroupIngress adds an inbound rule for every protocol from the group itself to a group
// created through EC2 (what AuthorizeSecurityGroupIngress would do; for tests).
func (s *Sim) SecurityGroupIngress(regionName, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.regions[s.regionOrDefault(regionName)]
	if r == nil {
		return errors.New("unknown region " + regionName)
	}
	g := s.securityGroup(r, id)
	if g == nil {
		return errors.New("no security group " + id)
	}
	g.ingress = append(g.ingress, ipPermission{protocol: "-1", groupPairs: []string{id}})
	now := s.clock.now()
	for _, inst := range sortedInstances(r) {
		if containsString(inst.cfg.VpcSecurityGroups, id) {
			s.refreshSessions(inst, now)
		}
	}
	return nil
}

// securityGroupTags returns the tags of the security group an EC2 ARN names (ok false for
// any other ARN).
func (s *Sim) securityGroupTags(arn string) ([]Tag, bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[2] != "ec2" || parts[4] != s.account || !strings.HasPrefix(parts[5], "security-group/") {
		return nil, false
	}
	r := s.regions[parts[3]]
	if r == nil {
		return nil, true
	}
	if g := ec2Of(r).groups[strings.TrimPrefix(parts[5], "security-group/")]; g != nil {
		return g.tags, true
	}
	return nil, true
}

// ec2Checks are the IAM checks of an EC2 call (Service Authorization Reference, Amazon EC2:
// CreateSecurityGroup is authorized on the security group and the VPC, and tagging on create
// also needs ec2:CreateTags; DescribeSecurityGroups supports no resource-level permissions;
// DeleteSecurityGroup is authorized on the group, with its tags as aws:ResourceTag keys).
func (s *Sim) ec2Checks(r *region, action string, form url.Values) []authzCheck {
	sgAll := fmt.Sprintf("arn:aws:ec2:%s:%s:security-group/*", r.name, s.account)
	switch action {
	case "CreateSecurityGroup":
		vpc := form.Get("VpcId")
		if vpc == "" {
			vpc = r.defaultVPC
		}
		var reqTags map[string][]string
		keys := map[string][]string{}
		for _, spec := range ec2Structs(form, "TagSpecification") {
			for _, t := range ec2Structs(form, spec+".Tag") {
				if reqTags == nil {
					reqTags = map[string][]string{}
				}
				k := form.Get(t + ".Key")
				reqTags["aws:requesttag/"+strings.ToLower(k)] = []string{form.Get(t + ".Value")}
				keys["aws:tagkeys"] = append(keys["aws:tagkeys"], k)
			}
		}
		for k, v := range reqTags {
			keys[k] = v
		}
		checks := []authzCheck{{action: "ec2:CreateSecurityGroup", keys: keys,
			resources: []string{sgAll, fmt.Sprintf("arn:aws:ec2:%s:%s:vpc/%s", r.name, s.account, vpc)}}}
		if reqTags != nil {
			keys := map[string][]string{"ec2:createaction": {"CreateSecurityGroup"}}
			for k, v := range reqTags {
				keys[k] = v
			}
			checks = append(checks, authzCheck{action: "ec2:CreateTags", resources: []string{sgAll}, keys: keys})
		}
		return checks
	case "DeleteSecurityGroup":
		return []authzCheck{{action: "ec2:DeleteSecurityGroup", resources: []string{s.groupARN(r, form.Get("GroupId"))}}}
	default:
		return []authzCheck{{action: "ec2:" + action, resources: []string{"*"}}}
	}
}

// checkGroupsVPC refuses security groups created through EC2 in another VPC than the
// instance's subnet group (groups the simulator only knows by reference are accepted).
func (s *Sim) checkGroupsVPC(r *region, subnetGroup string, ids []string) *apiError {
	vpc := subnetGroupVPC(s, r, subnetGroup)
	for _, id := range ids {
		if g := ec2Of(r).groups[id]; g != nil && g.vpc != vpc {
			return errCombination("The DB instance and EC2 security group are in different VPCs. The DB instance is in %s and the EC2 security group is in %s", vpc, g.vpc)
		}
	}
	return nil
}
