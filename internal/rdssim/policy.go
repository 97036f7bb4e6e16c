package rdssim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// IAM policy enforcement. With EnforcePolicy, every RDS and KMS request is evaluated
// against one identity-based policy document, as IAM evaluates it for the simulated user
// arn:aws:iam::<account>:user/rdsencrypt:
//
//   - a request needs an Allow for its action on each of its resources, and an explicit
//     Deny wins over any Allow;
//   - Action patterns match case-insensitively with * and ?; Resource patterns match ARNs
//     with * and ?;
//   - each action is authorized against the resources AWS names for it (see resourcesOf):
//     CreateDBSnapshot against the instance and the new snapshot, RestoreDBInstanceFromDBSnapshot
//     against the new instance, the snapshot and the groups passed, and so on;
//   - dependent actions are authorized as AWS does: request tags of a creating call as
//     rds:AddTagsToResource on the new resource; a DeleteDBInstance (DeleteDBCluster) with a
//     final snapshot as rds:CreateDBSnapshot (rds:CreateDBClusterSnapshot), plus
//     rds:AddTagsToResource on that snapshot when the instance copies its tags to snapshots;
//   - condition operators String(Not)Equals(IgnoreCase), String(Not)Like, ArnLike,
//     ArnEquals, Bool, Null, with ForAllValues:/ForAnyValue: and ...IfExists; condition
//     keys aws:RequestTag/<key>, aws:TagKeys, aws:ResourceTag/<key> (tags of the resource
//     being authorized), aws:RequestedRegion, kms:ViaService, kms:GrantIsForAWSResource,
//     kms:CallerAccount.
//
// KMS use by RDS on the caller's behalf (an encrypted copy, a restore from an encrypted
// snapshot, an encrypted replica or cluster) is modelled as the caller's kms:CreateGrant
// (kms:GrantIsForAWSResource=true) and kms:DescribeKey on each customer managed key
// involved, with kms:ViaService=rds.<key's region>.amazonaws.com; a refusal is what AWS
// reports then, KMSKeyNotAccessibleFault, which does not name the action. AWS-managed
// keys need no identity permission (their key policy allows use through RDS). Key
// policies, grants themselves, the other KMS operations RDS performs with its grants,
// SCPs, permission boundaries and session policies are not modelled.
//
// Denied direct calls get AWS's answers: RDS HTTP 403 AccessDenied, KMS HTTP 400
// AccessDeniedException, with the message "User: <arn> is not authorized to perform:
// <action> on resource: <arn> because no identity-based policy allows the <action> action".

// PolicyUser is the ARN of the simulated principal named in access-denied messages.
func (s *Sim) PolicyUser() string { return "arn:aws:iam::" + s.account + ":user/rdsencrypt" }

// EnforcePolicy makes the simulator evaluate every RDS and KMS request against the IAM
// policy document doc; nil or empty doc stops enforcement. A document the simulator cannot
// evaluate (bad JSON, an unknown element, operator or effect) is refused, and the previous
// policy, if any, stays in force. Reset also stops enforcement.
func (s *Sim) EnforcePolicy(doc []byte) error {
	var p *iamPolicy
	if len(strings.TrimSpace(string(doc))) > 0 {
		var err error
		if p, err = parsePolicy(doc); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.policy = p
	return nil
}

// servePolicyControl serves /_sim/policy: POST a policy document to enforce it, DELETE to
// stop, GET to read the policy in force ({} when none).
func (s *Sim) servePolicyControl(w http.ResponseWriter, req *http.Request) {
	switch req.Method {
	case http.MethodPost, http.MethodPut:
		var raw json.RawMessage
		if err := json.NewDecoder(req.Body).Decode(&raw); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid JSON: " + err.Error()})
			return
		}
		if err := s.EnforcePolicy(raw); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, 200, map[string]string{"status": "enforcing"})
	case http.MethodDelete:
		_ = s.EnforcePolicy(nil)
		writeJSON(w, 200, map[string]string{"status": "not enforcing"})
	case http.MethodGet:
		s.mu.Lock()
		p := s.policy
		s.mu.Unlock()
		if p == nil {
			writeJSON(w, 200, map[string]any{})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(p.raw)
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "use POST, DELETE or GET"})
	}
}

// --- the policy language ----------------------------------------------------------------

type iamPolicy struct {
	raw        []byte
	statements []iamStatement
}

type iamStatement struct {
	deny       bool
	actions    []string
	resources  []string
	conditions []iamCondition
}

type iamCondition struct {
	op       string // base operator, e.g. StringLike
	set      string // "", "ForAllValues" or "ForAnyValue"
	ifExists bool
	key      string
	values   []string
}

// stringOrList is a JSON string or list of strings (or of booleans, for Bool and Null).
type stringOrList []string

func (s *stringOrList) UnmarshalJSON(b []byte) error {
	var one any
	if err := json.Unmarshal(b, &one); err != nil {
		return err
	}
	conv := func(v any) (string, error) {
		switch x := v.(type) {
		case string:
			return x, nil
		case bool:
			return fmt.Sprint(x), nil
		case float64:
			return fmt.Sprint(x), nil
		}
		return "", fmt.Errorf("want a string or a list of strings, got %s", b)
	}
	if list, ok := one.([]any); ok {
		*s = nil
		for _, v := range list {
			str, err := conv(v)
			if err != nil {
				return err
			}
			*s = append(*s, str)
		}
		return nil
	}
	str, err := conv(one)
	if err != nil {
		return err
	}
	*s = []string{str}
	return nil
}

var knownOperators = []string{"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
	"StringLike", "StringNotLike", "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike", "Bool", "Null"}

func parsePolicy(doc []byte) (*iamPolicy, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(doc, &top); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	for k := range top {
		if k != "Version" && k != "Statement" && k != "Id" {
			return nil, fmt.Errorf("policy: unknown element %q", k)
		}
	}
	rawSt := top["Statement"]
	var list []json.RawMessage
	if err := json.Unmarshal(rawSt, &list); err != nil {
		list = []json.RawMessage{rawSt} // a single statement object
	}
	p := &iamPolicy{raw: append([]byte(nil), doc...)}
	for i, raw := range list {
		var st struct {
			Sid       string
			Effect    string
			Action    stringOrList
			Resource  stringOrList
			Condition map[string]map[string]stringOrList
		}
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields() // NotAction, NotResource, Principal: not supported
		if err := dec.Decode(&st); err != nil {
			return nil, fmt.Errorf("policy statement %d: %w", i+1, err)
		}
		out := iamStatement{actions: st.Action, resources: st.Resource}
		switch st.Effect {
		case "Allow":
		case "Deny":
			out.deny = true
		default:
			return nil, fmt.Errorf("policy statement %d: Effect must be Allow or Deny, not %q", i+1, st.Effect)
		}
		if len(out.actions) == 0 || len(out.resources) == 0 {
			return nil, fmt.Errorf("policy statement %d: needs Action and Resource", i+1)
		}
		for opName, keys := range st.Condition {
			c := iamCondition{op: opName}
			if set, rest, ok := strings.Cut(c.op, ":"); ok {
				if set != "ForAllValues" && set != "ForAnyValue" {
					return nil, fmt.Errorf("policy statement %d: unknown set operator %q", i+1, set)
				}
				c.set, c.op = set, rest
			}
			if base, ok := strings.CutSuffix(c.op, "IfExists"); ok && c.op != "Null" {
				c.op, c.ifExists = base, true
			}
			if !slices.Contains(knownOperators, c.op) {
				return nil, fmt.Errorf("policy statement %d: condition operator %q is not supported", i+1, opName)
			}
			for key, vals := range keys {
				cc := c
				cc.key, cc.values = strings.ToLower(key), vals
				out.conditions = append(out.conditions, cc)
			}
		}
		p.statements = append(p.statements, out)
	}
	if len(p.statements) == 0 {
		return nil, errors.New("policy: no statement")
	}
	return p, nil
}

// wildMatch matches s against an IAM pattern with * (any run) and ? (one character).
func wildMatch(pattern, s string) bool {
	// Not path.Match: it treats '/' specially and has character classes.
	p, str := []rune(pattern), []rune(s)
	var pi, si, star, mark = 0, 0, -1, 0
	for si < len(str) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == str[si]):
			pi, si = pi+1, si+1
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi, mark = star+1, mark+1
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

// authzContext is what one authorization is about: an action on one resource, with the
// condition keys of the request and of that resource.
type authzContext struct {
	action   string
	resource string
	keys     map[string][]string // lower-case key -> values; absent key = not in the context
}

// decide returns "allow", "deny" (explicit) or "" (implicit deny).
func (p *iamPolicy) decide(ac authzContext) string {
	allowed := false
	for _, st := range p.statements {
		if !slices.ContainsFunc(st.actions, func(a string) bool { return wildMatch(strings.ToLower(a), strings.ToLower(ac.action)) }) {
			continue
		}
		if !slices.ContainsFunc(st.resources, func(r string) bool { return wildMatch(r, ac.resource) }) {
			continue
		}
		if !conditionsHold(st.conditions, ac.keys) {
			continue
		}
		if st.deny {
			return "deny"
		}
		allowed = true
	}
	if allowed {
		return "allow"
	}
	return ""
}

func conditionsHold(conds []iamCondition, keys map[string][]string) bool {
	for _, c := range conds {
		if !conditionHolds(c, keys) {
			return false
		}
	}
	return true
}

func conditionHolds(c iamCondition, keys map[string][]string) bool {
	vals, present := keys[c.key]
	if c.op == "Null" {
		want := len(c.values) > 0 && strings.EqualFold(c.values[0], "true")
		return want == !present
	}
	if !present {
		if c.ifExists || c.set == "ForAllValues" {
			return true
		}
		// A negated operator on a missing key holds, as in IAM.
		return strings.Contains(c.op, "Not")
	}
	one := func(v string) bool {
		negate := strings.Contains(c.op, "Not")
		base := strings.Replace(c.op, "Not", "", 1)
		match := false
		for _, want := range c.values {
			switch base {
			case "StringEquals", "ArnEquals":
				match = match || v == want
			case "StringEqualsIgnoreCase":
				match = match || strings.EqualFold(v, want)
			case "StringLike", "ArnLike":
				match = match || wildMatch(want, v)
			case "Bool":
				match = match || strings.EqualFold(v, want)
			}
		}
		return match != negate
	}
	if c.set == "ForAllValues" {
		for _, v := range vals {
			if !one(v) {
				return false
			}
		}
		return true
	}
	// ForAnyValue, and single-valued operators on a (possibly multi-valued) key.
	return slices.ContainsFunc(vals, one)
}

// --- what a request is authorized as --------------------------------------------------------

// authzCheck is one action on a set of resources, all of which must be allowed.
type authzCheck struct {
	action    string
	resources []string
	keys      map[string][]string
	// onBehalf: a KMS permission RDS uses for the caller; a refusal is KMSKeyNotAccessibleFault.
	onBehalf bool
	keyRef   string
}

// authorize evaluates the request of c against the policy in force; nil when allowed or
// when no policy is enforced. Runs with s.mu held.
func (s *Sim) authorize(c *call) *apiError {
	if s.policy == nil {
		return nil
	}
	var checks []authzCheck
	switch {
	case c.denyCode != "":
		checks = c.checks
	case c.p != nil:
		checks = s.rdsChecks(c)
	default:
		checks = s.kmsChecks(c)
	}
	for _, chk := range checks {
		for _, res := range chk.resources {
			keys := map[string][]string{"aws:requestedregion": {c.r.name}, "kms:calleraccount": {s.account}}
			for k, v := range chk.keys {
				keys[k] = v
			}
			for _, t := range s.resourceTags(res) {
				keys["aws:resourcetag/"+strings.ToLower(t.Key)] = []string{t.Value}
			}
			switch s.policy.decide(authzContext{action: chk.action, resource: res, keys: keys}) {
			case "allow":
				continue
			case "deny":
				return s.denied(c, chk, res, "with an explicit deny in an identity-based policy")
			default:
				return s.denied(c, chk, res, "because no identity-based policy allows the "+chk.action+" action")
			}
		}
	}
	return nil
}

func (s *Sim) denied(c *call, chk authzCheck, res, why string) *apiError {
	if chk.onBehalf {
		return errKeyNotAccessible(chk.keyRef)
	}
	msg := fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s %s", s.PolicyUser(), chk.action, res, why)
	switch {
	case c.denyCode == "UnauthorizedOperation":
		return &apiError{Code: c.denyCode, Message: "You are not authorized to perform this operation. " + msg, Status: http.StatusForbidden}
	case c.denyCode == "AccessDeniedException": // Secrets Manager answers 400
		return &apiError{Code: c.denyCode, Message: msg, Status: http.StatusBadRequest}
	case c.denyCode != "":
		return &apiError{Code: c.denyCode, Message: msg, Status: http.StatusForbidden}
	case c.p == nil:
		return &apiError{Code: "AccessDeniedException", Message: msg, Status: 400}
	}
	return &apiError{Code: "AccessDenied", Message: msg, Status: http.StatusForbidden}
}

// resourceTags returns the tags of the RDS resource an ARN names, if the simulator has it.
func (s *Sim) resourceTags(resARN string) []Tag {
	if tags, ok := s.securityGroupTags(resARN); ok {
		return tags
	}
	a, ok := parseARN(resARN)
	if !ok || a.Service != "rds" || a.Account != s.account || strings.ContainsAny(a.ID, "*?") {
		return nil
	}
	r := s.regions[a.Region]
	f := tagKinds[a.Kind]
	if r == nil || f == nil {
		return nil
	}
	list, e := f(s, r, strings.ToLower(a.ID))
	if e != nil || list == nil {
		return nil
	}
	return *list
}

// rdsRef turns an identifier parameter into the ARN it is authorized as; an ARN is kept.
// An absent identifier gives <kind>:* (listing calls).
func (s *Sim) rdsRef(c *call, kind, param string) string {
	v := c.p.get(param)
	if strings.HasPrefix(v, "arn:") {
		return v
	}
	if v == "" {
		v = "*"
	}
	return s.rdsARN(c.r.name, kind, strings.ToLower(v))
}

// optRef is rdsRef for optional resources: "" when the parameter is absent.
func (s *Sim) optRef(c *call, kind, param string) string {
	if c.p.get(param) == "" {
		return ""
	}
	return s.rdsRef(c, kind, param)
}

// requestTagKeys are the condition keys of the tags a request carries (nil without tags).
func requestTagKeys(tags []Tag) map[string][]string {
	if tags == nil {
		return nil
	}
	keys := map[string][]string{}
	names := []string{}
	for _, t := range tags {
		keys["aws:requesttag/"+strings.ToLower(t.Key)] = []string{t.Value}
		names = append(names, t.Key)
	}
	keys["aws:tagkeys"] = names
	return keys
}

// resourcesOf maps each RDS action to the (kind, identifier parameter) pairs it is
// authorized against; the first pair is the resource a tag-on-create applies to.
var resourcesOf = map[string][][2]string{
	"DescribeDBInstances":             {{"db", "DBInstanceIdentifier"}},
	"DescribeDBSnapshots":             {{"snapshot", "DBSnapshotIdentifier"}},
	"DescribeDBClusters":              {{"cluster", "DBClusterIdentifier"}},
	"DescribeDBClusterSnapshots":      {{"cluster-snapshot", "DBClusterSnapshotIdentifier"}},
	"DescribeDBClusterEndpoints":      {{"cluster", "DBClusterIdentifier"}},
	"DescribeDBParameters":            {{"pg", "DBParameterGroupName"}},
	"DescribeDBClusterParameters":     {{"cluster-pg", "DBClusterParameterGroupName"}},
	"DescribeDBParameterGroups":       {{"pg", "DBParameterGroupName"}},
	"CreateDBParameterGroup":          {{"pg", "DBParameterGroupName"}},
	"CopyDBParameterGroup":            {{"pg", "TargetDBParameterGroupIdentifier"}, {"pg", "SourceDBParameterGroupIdentifier"}},
	"ModifyDBParameterGroup":          {{"pg", "DBParameterGroupName"}},
	"ResetDBParameterGroup":           {{"pg", "DBParameterGroupName"}},
	"DeleteDBParameterGroup":          {{"pg", "DBParameterGroupName"}},
	"CreateDBSnapshot":                {{"snapshot", "DBSnapshotIdentifier"}, {"db", "DBInstanceIdentifier"}},
	"CopyDBSnapshot":                  {{"snapshot", "TargetDBSnapshotIdentifier"}, {"snapshot", "SourceDBSnapshotIdentifier"}, {"og", "OptionGroupName"}},
	"RestoreDBInstanceFromDBSnapshot": {{"db", "DBInstanceIdentifier"}, {"snapshot", "DBSnapshotIdentifier"}, {"og", "OptionGroupName"}, {"pg", "DBParameterGroupName"}, {"subgrp", "DBSubnetGroupName"}},
	"CreateDBInstanceReadReplica":     {{"db", "DBInstanceIdentifier"}, {"db", "SourceDBInstanceIdentifier"}, {"og", "OptionGroupName"}, {"pg", "DBParameterGroupName"}, {"subgrp", "DBSubnetGroupName"}},
	"CreateDBInstance":                {{"db", "DBInstanceIdentifier"}, {"cluster", "DBClusterIdentifier"}, {"og", "OptionGroupName"}, {"pg", "DBParameterGroupName"}, {"subgrp", "DBSubnetGroupName"}},
	"ModifyDBInstance":                {{"db", "DBInstanceIdentifier"}, {"og", "OptionGroupName"}, {"pg", "DBParameterGroupName"}},
	"RebootDBInstance":                {{"db", "DBInstanceIdentifier"}},
	// The log reads are authorized against the instance (Service Authorization Reference,
	// Amazon RDS: resource type db for both).
	"DescribeDBLogFiles":                     {{"db", "DBInstanceIdentifier"}},
	"DownloadDBLogFilePortion":               {{"db", "DBInstanceIdentifier"}},
	"DeleteDBInstance":                       {{"db", "DBInstanceIdentifier"}},
	"PromoteReadReplica":                     {{"db", "DBInstanceIdentifier"}},
	"DeleteDBSnapshot":                       {{"snapshot", "DBSnapshotIdentifier"}},
	"CreateDBClusterSnapshot":                {{"cluster-snapshot", "DBClusterSnapshotIdentifier"}, {"cluster", "DBClusterIdentifier"}},
	"CopyDBClusterSnapshot":                  {{"cluster-snapshot", "TargetDBClusterSnapshotIdentifier"}, {"cluster-snapshot", "SourceDBClusterSnapshotIdentifier"}},
	"RestoreDBClusterFromSnapshot":           {{"cluster", "DBClusterIdentifier"}, {"cluster-snapshot", "SnapshotIdentifier"}, {"cluster-pg", "DBClusterParameterGroupName"}, {"og", "OptionGroupName"}, {"subgrp", "DBSubnetGroupName"}},
	"ModifyDBCluster":                        {{"cluster", "DBClusterIdentifier"}, {"cluster-pg", "DBClusterParameterGroupName"}, {"og", "OptionGroupName"}},
	"DeleteDBCluster":                        {{"cluster", "DBClusterIdentifier"}},
	"DeleteDBClusterSnapshot":                {{"cluster-snapshot", "DBClusterSnapshotIdentifier"}},
	"CreateDBClusterEndpoint":                {{"cluster-endpoint", "DBClusterEndpointIdentifier"}, {"cluster", "DBClusterIdentifier"}},
	"ModifyDBClusterEndpoint":                {{"cluster-endpoint", "DBClusterEndpointIdentifier"}},
	"DeleteDBClusterEndpoint":                {{"cluster-endpoint", "DBClusterEndpointIdentifier"}},
	"AddRoleToDBInstance":                    {{"db", "DBInstanceIdentifier"}},
	"AddRoleToDBCluster":                     {{"cluster", "DBClusterIdentifier"}},
	"DescribeEventSubscriptions":             {{"es", "SubscriptionName"}},
	"CreateEventSubscription":                {{"es", "SubscriptionName"}},
	"AddSourceIdentifierToSubscription":      {{"es", "SubscriptionName"}},
	"RemoveSourceIdentifierFromSubscription": {{"es", "SubscriptionName"}},
}

// rdsChecks lists what an RDS request is authorized as: its action, then the dependent
// actions AWS checks.
func (s *Sim) rdsChecks(c *call) []authzCheck {
	action := "rds:" + c.action
	var tags []Tag
	if c.p.has("Tags") {
		tags, _ = c.p.tags("Tags")
		c.p.err = nil // the handler reports malformed tags itself
	}
	var res []string
	switch c.action {
	case "AddTagsToResource", "ListTagsForResource", "RemoveTagsFromResource":
		res = []string{c.p.get("ResourceName")}
	default:
		pairs, ok := resourcesOf[c.action]
		if !ok {
			res = []string{"*"} // actions without resource-level permissions
		}
		for i, kp := range pairs {
			if i == 0 {
				res = append(res, s.rdsRef(c, kp[0], kp[1]))
			} else if ref := s.optRef(c, kp[0], kp[1]); ref != "" {
				res = append(res, ref)
			}
		}
	}
	keys := requestTagKeys(tags)
	checks := []authzCheck{{action: action, resources: res, keys: keys}}
	if tags != nil && c.action != "AddTagsToResource" && len(res) > 0 {
		checks = append(checks, authzCheck{action: "rds:AddTagsToResource", resources: res[:1], keys: keys})
	}
	switch c.action {
	case "DeleteDBInstance":
		if final := c.p.get("FinalDBSnapshotIdentifier"); final != "" && !c.p.boolean("SkipFinalSnapshot", false) {
			snapARN := s.rdsARN(c.r.name, "snapshot", strings.ToLower(final))
			checks = append(checks, authzCheck{action: "rds:CreateDBSnapshot", resources: []string{res[0], snapARN}})
			if inst := c.r.instances[strings.ToLower(c.p.get("DBInstanceIdentifier"))]; inst != nil && inst.cfg.CopyTagsToSnapshot && len(inst.tags) > 0 {
				checks = append(checks, authzCheck{action: "rds:AddTagsToResource", resources: []string{snapARN}, keys: requestTagKeys(inst.tags)})
			}
		}
	case "AddRoleToDBInstance", "AddRoleToDBCluster", "RestoreDBClusterFromSnapshot", "CreateDBCluster":
		// Passing a role to RDS is authorized as iam:PassRole on the role (AWS's
		// CloudFormation handler needs it to add associated roles,
		// aws-cloudformation-resource-providers-rds pull request 90), with
		// iam:PassedToService rds.amazonaws.com.
		roles := []string{c.p.get("RoleArn")}
		if items, _ := c.p.structs("AssociatedRoles", "DBClusterAssociatedRole"); c.action != "AddRoleToDBInstance" && c.action != "AddRoleToDBCluster" {
			roles = nil
			for _, it := range items {
				roles = append(roles, it.get("RoleArn"))
			}
		}
		for _, role := range roles {
			if role != "" {
				checks = append(checks, authzCheck{action: "iam:PassRole", resources: []string{role},
					keys: map[string][]string{"iam:passedtoservice": {"rds.amazonaws.com"}}})
			}
		}
	case "DeleteDBCluster":
		if final := c.p.get("FinalDBSnapshotIdentifier"); final != "" && !c.p.boolean("SkipFinalSnapshot", false) {
			checks = append(checks, authzCheck{action: "rds:CreateDBClusterSnapshot",
				resources: []string{res[0], s.rdsARN(c.r.name, "cluster-snapshot", strings.ToLower(final))}})
		}
	}
	// ManageMasterUserPassword: RDS creates and tags the secret with the caller's permissions
	// (RDS user guide, "Permissions required for Secrets Manager integration"); the secret
	// does not exist yet, so the check names the name pattern RDS uses.
	switch c.action {
	case "CreateDBInstance", "ModifyDBInstance", "RestoreDBInstanceFromDBSnapshot", "CreateDBCluster", "ModifyDBCluster":
		if c.p.boolean("ManageMasterUserPassword", false) {
			kind := "db"
			if strings.Contains(c.action, "Cluster") {
				kind = "cluster"
			}
			secret := fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:rds!%s-*", c.r.name, s.account, kind)
			checks = append(checks, authzCheck{action: "secretsmanager:CreateSecret", resources: []string{secret}},
				authzCheck{action: "secretsmanager:TagResource", resources: []string{secret}})
		}
	}
	for _, k := range s.keysUsedByRDS(c) {
		via := map[string][]string{"kms:viaservice": {"rds." + k.region + ".amazonaws.com"}, "kms:calleraccount": {s.account}}
		grant := map[string][]string{"kms:grantisforawsresource": {"true"}}
		for kk, v := range via {
			grant[kk] = v
		}
		checks = append(checks,
			authzCheck{action: "kms:CreateGrant", resources: []string{k.arn}, keys: grant, onBehalf: true, keyRef: k.arn},
			authzCheck{action: "kms:DescribeKey", resources: []string{k.arn}, keys: via, onBehalf: true, keyRef: k.arn})
	}
	c.p.err = nil
	return checks
}

// keysUsedByRDS lists the customer managed keys RDS uses on the caller's behalf to serve
// the request: the key asked for, and the key of an encrypted snapshot or source read.
func (s *Sim) keysUsedByRDS(c *call) []*kmsKey {
	var refs []string
	switch c.action {
	case "CopyDBSnapshot", "CopyDBClusterSnapshot", "RestoreDBClusterFromSnapshot", "CreateDBInstanceReadReplica", "CreateDBCluster", "CreateDBInstance":
		refs = append(refs, c.p.get("KmsKeyId"))
	}
	switch c.action {
	case "CopyDBSnapshot":
		if sn := s.snapshotRef(c, c.p.get("SourceDBSnapshotIdentifier")); sn != nil && sn.cfg.StorageEncrypted {
			refs = append(refs, sn.cfg.KmsKeyArn)
		}
	case "RestoreDBInstanceFromDBSnapshot":
		if sn := s.snapshotRef(c, c.p.get("DBSnapshotIdentifier")); sn != nil && sn.cfg.StorageEncrypted {
			refs = append(refs, sn.cfg.KmsKeyArn)
		}
	}
	var out []*kmsKey
	for _, ref := range refs {
		if ref == "" {
			continue
		}
		k, _ := s.findKey(c.r, ref)
		if k == nil {
			k = s.keyByARN(ref)
		}
		if k != nil && k.manager != "AWS" && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// snapshotRef finds a DB snapshot by identifier (request region) or ARN (any region).
func (s *Sim) snapshotRef(c *call, ref string) *snapshot {
	if a, ok := parseARN(ref); ok {
		if r := s.regions[a.Region]; r != nil && a.Kind == "snapshot" {
			return r.snapshots[strings.ToLower(a.ID)]
		}
		return nil
	}
	return c.r.snapshots[strings.ToLower(ref)]
}

// kmsChecks: a direct KMS call is authorized against the key it names (aliases resolve
// to their key), or "*" for calls without one.
func (s *Sim) kmsChecks(c *call) []authzCheck {
	var in struct{ KeyId, TargetKeyId string }
	_ = json.Unmarshal(c.body, &in)
	ref := in.KeyId
	if ref == "" {
		ref = in.TargetKeyId
	}
	res := "*"
	if ref != "" {
		if k, _ := s.findKey(c.r, ref); k != nil {
			res = k.arn
		} else if strings.HasPrefix(ref, "arn:") {
			res = ref
		} else if strings.HasPrefix(ref, "alias/") {
			res = s.aliasARN(c.r.name, ref)
		} else {
			res = fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", c.r.name, s.account, ref)
		}
	}
	return []authzCheck{{action: "kms:" + c.action, resources: []string{res}}}
}
