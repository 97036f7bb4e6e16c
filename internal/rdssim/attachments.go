package rdssim

import (
	"fmt"
	"slices"
	"strings"
)

// Attachments: what names a DB instance or cluster and stays with it when it is renamed, so
// that a migration which retires the source must move it or refuse (docs/aws-behaviour.md#attachments).
//
//   - IAM role associations (AssociatedRoles): AddRoleToDBInstance / AddRoleToDBCluster; the
//     instance must be available ("To add a role to a DB instance, the status of the DB
//     instance must be available", SDK v1.133.0 doc comment of AddRoleToDBInstance). A
//     restored instance has none (RestoreDBInstanceFromDBSnapshot takes no roles); a restored
//     cluster has those its AssociatedRoles parameter names.
//   - Event subscriptions list their sources by identifier (SourceIdsList); the list is kept
//     as written when a source is renamed: the RDS user guide (Renaming a DB instance) says
//     events associated with a name are maintained when the name is reused.
//   - RDS Proxy targets, zero-ETL integrations, blue/green deployments, database activity
//     streams, cross-Region automated backup replication and Aurora read replica clusters are
//     read through their Describe calls and DescribeDBInstances / DescribeDBClusters; the
//     simulator does not create them through their own APIs: Sim.Attach puts them in place
//     (fixtures, tests).
//
// Error codes are the SDK's (types/errors.go). AWS does not document its messages for these
// faults: the simulator's messages are the SDK doc comments of the faults.

func init() {
	registerRDS("AddRoleToDBInstance", addRoleToDBInstance)
	registerRDS("AddRoleToDBCluster", addRoleToDBCluster)
	registerRDS("CreateEventSubscription", createEventSubscription)
	registerRDS("DescribeEventSubscriptions", describeEventSubscriptions)
	registerRDS("AddSourceIdentifierToSubscription", addSourceIdentifierToSubscription)
	registerRDS("RemoveSourceIdentifierFromSubscription", removeSourceIdentifierFromSubscription)
	registerRDS("DescribeDBProxies", describeDBProxies)
	registerRDS("DescribeDBProxyTargets", describeDBProxyTargets)
	registerRDS("DescribeIntegrations", describeIntegrations)
	registerRDS("DescribeBlueGreenDeployments", describeBlueGreenDeployments)
	registerErrorStatus("SourceNotFound", 404)
	registerErrorStatus("SubscriptionNotFound", 404)
	registerErrorStatus("DBProxyNotFoundFault", 404)
	registerErrorStatus("IntegrationNotFoundFault", 404)
	registerErrorStatus("BlueGreenDeploymentNotFoundFault", 404)
	registerErrorStatus("SubscriptionAlreadyExist", 400)
}

// attached is what a DB instance or cluster carries besides its settings.
type attached struct {
	roles []xmlRole
	// activityStream is ActivityStreamStatus; "" reads as stopped.
	activityStream string
	// backupReplications are the ARNs of the instance's automated backups replicated to
	// other regions (DBInstanceAutomatedBackupsReplications).
	backupReplications []string
	// auroraReplicas are the Aurora clusters replicating from an RDS for MySQL instance
	// (ReadReplicaDBClusterIdentifiers).
	auroraReplicas []string
}

// xmlRole is a DBInstanceRole or DBClusterRole element.
type xmlRole struct {
	RoleArn     string
	FeatureName string `xml:",omitempty"`
	Status      string
}

type xmlBackupReplication struct {
	DBInstanceAutomatedBackupsArn string
}

// attachedXML are the DBInstance elements of attached.
type attachedInstanceXML struct {
	AssociatedRoles                        []xmlRole              `xml:"AssociatedRoles>DBInstanceRole"`
	ActivityStreamStatus                   string                 `xml:",omitempty"`
	DBInstanceAutomatedBackupsReplications []xmlBackupReplication `xml:"DBInstanceAutomatedBackupsReplications>DBInstanceAutomatedBackupsReplication"`
	ReadReplicaDBClusterIdentifiers        []string               `xml:"ReadReplicaDBClusterIdentifiers>ReadReplicaDBClusterIdentifier"`
}

type attachedClusterXML struct {
	AssociatedRoles      []xmlRole `xml:"AssociatedRoles>DBClusterRole"`
	ActivityStreamStatus string    `xml:",omitempty"`
}

func (a attached) instanceXML() attachedInstanceXML {
	x := attachedInstanceXML{AssociatedRoles: slices.Clone(a.roles), ActivityStreamStatus: a.streamStatus(),
		ReadReplicaDBClusterIdentifiers: slices.Clone(a.auroraReplicas)}
	for _, b := range a.backupReplications {
		x.DBInstanceAutomatedBackupsReplications = append(x.DBInstanceAutomatedBackupsReplications, xmlBackupReplication{b})
	}
	return x
}

func (a attached) clusterXML() attachedClusterXML {
	return attachedClusterXML{AssociatedRoles: slices.Clone(a.roles), ActivityStreamStatus: a.streamStatus()}
}

func (a attached) streamStatus() string {
	if a.activityStream == "" {
		return "stopped"
	}
	return a.activityStream
}

// addRole associates a role; a role ARN or a feature name already associated is refused.
func (a *attached) addRole(arn, feature, code, msg string) *apiError {
	for _, r := range a.roles {
		if r.RoleArn == arn || (feature != "" && r.FeatureName == feature) {
			return errf(code, "%s", msg)
		}
	}
	a.roles = append(a.roles, xmlRole{RoleArn: arn, FeatureName: feature, Status: "ACTIVE"})
	return nil
}

// validRoleARN: an IAM role ARN, arn:<partition>:iam::<account>:role/<name>.
func validRoleARN(arn string) bool {
	parts := strings.SplitN(arn, ":", 6)
	return len(parts) == 6 && parts[0] == "arn" && parts[2] == "iam" && strings.HasPrefix(parts[5], "role/") && len(parts[5]) > len("role/")
}

func addRoleToDBInstance(c *call) (any, error) {
	return addRoleTo(c, "DBInstanceIdentifier", true, func(ref string) (*attached, *apiError) {
		i, e := c.sim.instanceByRef(c.r, ref)
		if e != nil {
			return nil, e
		}
		if i.status != statusAvailable {
			return nil, errf("InvalidDBInstanceState", "DB instance %s is not available: to add a role to a DB instance, the status of the DB instance must be available.", i.id)
		}
		return &i.att, nil
	}, "DBInstanceRoleAlreadyExists", "The specified RoleArn or FeatureName value is already associated with the DB instance.")
}

func addRoleToDBCluster(c *call) (any, error) {
	return addRoleTo(c, "DBClusterIdentifier", false, func(ref string) (*attached, *apiError) {
		cl, e := c.sim.clusterByRef(c.r, ref)
		if e != nil {
			return nil, e
		}
		if cl.status != statusAvailable {
			return nil, errf("InvalidDBClusterStateFault", "DB cluster %s is not available.", cl.id)
		}
		return &cl.att, nil
	}, "DBClusterRoleAlreadyExists", "The specified IAM role Amazon Resource Name (ARN) is already associated with the specified DB cluster.")
}

// addRoleTo is AddRoleToDBInstance and AddRoleToDBCluster: idParam names the resource, which
// find returns the attachments of once it is available; FeatureName is required for an
// instance only (SDK input types).
func addRoleTo(c *call, idParam string, featureRequired bool, find func(ref string) (*attached, *apiError), existsCode, existsMsg string) (any, error) {
	p := c.p
	id := p.required(idParam)
	arn := p.required("RoleArn")
	feature := p.get("FeatureName")
	if featureRequired {
		feature = p.required("FeatureName")
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	if !validRoleARN(arn) {
		return nil, errInvalidValue("Invalid role ARN: %s", arn)
	}
	att, e := find(id)
	if e != nil {
		return nil, e
	}
	if e := att.addRole(arn, feature, existsCode, existsMsg); e != nil {
		return nil, e
	}
	return nil, nil
}

// clusterRoles reads the AssociatedRoles parameter of RestoreDBClusterFromSnapshot and
// CreateDBCluster (AssociatedRoles.DBClusterAssociatedRole.N.RoleArn / FeatureName).
func clusterRoles(p *params) ([]xmlRole, *apiError) {
	items, _ := p.structs("AssociatedRoles", "DBClusterAssociatedRole")
	var a attached
	for _, it := range items {
		arn := it.get("RoleArn")
		if !validRoleARN(arn) {
			return nil, errInvalidValue("Invalid role ARN: %s", arn)
		}
		if e := a.addRole(arn, it.get("FeatureName"), "DBClusterRoleAlreadyExists",
			"The specified IAM role Amazon Resource Name (ARN) is already associated with the specified DB cluster."); e != nil {
			return nil, e
		}
	}
	return a.roles, nil
}

// --- event subscriptions -----------------------------------------------------------------

type eventSubscription struct {
	name, topic, sourceType string
	sourceIDs               []string
	categories              []string
	enabled                 bool
	created                 string
}

type xmlEventSubscription struct {
	CustomerAwsId            string
	CustSubscriptionId       string
	SnsTopicArn              string
	Status                   string
	SubscriptionCreationTime string
	SourceType               string   `xml:",omitempty"`
	SourceIdsList            []string `xml:"SourceIdsList>SourceId"`
	EventCategoriesList      []string `xml:"EventCategoriesList>EventCategory"`
	Enabled                  bool
	EventSubscriptionArn     string
}

// attachState is the per-region state of the attachments the simulator keeps apart from
// instances and clusters.
type attachState struct {
	subscriptions map[string]*eventSubscription // by name (lower case)
	proxies       map[string]*dbProxy           // by name (lower case)
	integrations  map[string]*integration       // by name (lower case)
	blueGreen     map[string]*blueGreen         // by identifier
}

type dbProxy struct {
	name, engineFamily string
	instances          []string // target DB instance identifiers
	clusters           []string // target DB cluster identifiers
}

type integration struct{ name, source, target string }

type blueGreen struct{ id, name, source, target string }

func attachments(r *region) *attachState {
	return regionExt(r, "attachments", func() *attachState {
		return &attachState{subscriptions: map[string]*eventSubscription{}, proxies: map[string]*dbProxy{},
			integrations: map[string]*integration{}, blueGreen: map[string]*blueGreen{}}
	})
}

func (s *Sim) renderSubscription(r *region, sub *eventSubscription) xmlEventSubscription {
	status := "active"
	if !sub.enabled {
		status = "inactive"
	}
	return xmlEventSubscription{CustomerAwsId: s.account, CustSubscriptionId: sub.name, SnsTopicArn: sub.topic,
		Status: status, SubscriptionCreationTime: sub.created, SourceType: sub.sourceType,
		SourceIdsList: slices.Clone(sub.sourceIDs), EventCategoriesList: slices.Clone(sub.categories),
		Enabled: sub.enabled, EventSubscriptionArn: s.rdsARN(r.name, "es", sub.name)}
}

type eventSubscriptionResult struct {
	EventSubscription xmlEventSubscription
}

// sourceExists reports whether a source of the subscription's type exists (SourceNotFound
// otherwise, SDK doc comment of AddSourceIdentifierToSubscription: "The requested source
// could not be found").
func (s *Sim) sourceExists(r *region, sourceType, id string) bool {
	switch sourceType {
	case "db-instance":
		_, e := s.instanceByRef(r, id)
		return e == nil
	case "db-cluster":
		_, e := s.clusterByRef(r, id)
		return e == nil
	}
	return true // other source types are not modelled: accepted as named
}

func createEventSubscription(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	name := p.required("SubscriptionName")
	topic := p.required("SnsTopicArn")
	sourceType := p.get("SourceType")
	ids, _ := p.list("SourceIds", "SourceId")
	cats, _ := p.list("EventCategories", "EventCategory")
	enabled := p.boolean("Enabled", true)
	if err := p.Err(); err != nil {
		return nil, err
	}
	st := attachments(r)
	if st.subscriptions[strings.ToLower(name)] != nil {
		return nil, errf("SubscriptionAlreadyExist", "Subscription %s already exists.", name)
	}
	if len(ids) > 0 && sourceType == "" {
		return nil, errCombination("SourceType must be specified when SourceIds are given.")
	}
	for _, id := range ids {
		if !s.sourceExists(r, sourceType, id) {
			return nil, errf("SourceNotFound", "Could not find source %s of type %s.", id, sourceType)
		}
	}
	sub := &eventSubscription{name: name, topic: topic, sourceType: sourceType, sourceIDs: ids, categories: cats,
		enabled: enabled, created: xmlTime(c.now)}
	st.subscriptions[strings.ToLower(name)] = sub
	return eventSubscriptionResult{s.renderSubscription(r, sub)}, nil
}

func subscriptionByName(r *region, name string) (*eventSubscription, *apiError) {
	sub := attachments(r).subscriptions[strings.ToLower(name)]
	if sub == nil {
		return nil, errf("SubscriptionNotFound", "Subscription %s not found.", name)
	}
	return sub, nil
}

type describeEventSubscriptionsResult struct {
	EventSubscriptionsList []xmlEventSubscription `xml:"EventSubscriptionsList>EventSubscription"`
	Marker                 string                 `xml:",omitempty"`
}

func describeEventSubscriptions(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	name, byName := p.str("SubscriptionName")
	max, marker := pageArgs(p)
	if err := p.Err(); err != nil {
		return nil, err
	}
	var subs []*eventSubscription
	if byName {
		sub, e := subscriptionByName(r, name)
		if e != nil {
			return nil, e
		}
		subs = []*eventSubscription{sub}
	} else {
		for _, sub := range attachments(r).subscriptions {
			subs = append(subs, sub)
		}
	}
	page, next := paginate(subs, func(x *eventSubscription) string { return strings.ToLower(x.name) }, max, marker)
	out := describeEventSubscriptionsResult{Marker: next, EventSubscriptionsList: []xmlEventSubscription{}}
	for _, sub := range page {
		out.EventSubscriptionsList = append(out.EventSubscriptionsList, s.renderSubscription(r, sub))
	}
	return out, nil
}

func addSourceIdentifierToSubscription(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	name := p.required("SubscriptionName")
	id := p.required("SourceIdentifier")
	if err := p.Err(); err != nil {
		return nil, err
	}
	sub, e := subscriptionByName(r, name)
	if e != nil {
		return nil, e
	}
	if !s.sourceExists(r, sub.sourceType, id) {
		return nil, errf("SourceNotFound", "Could not find source %s of type %s.", id, sub.sourceType)
	}
	if !slices.ContainsFunc(sub.sourceIDs, func(x string) bool { return strings.EqualFold(x, id) }) {
		sub.sourceIDs = append(sub.sourceIDs, id)
	}
	return eventSubscriptionResult{s.renderSubscription(r, sub)}, nil
}

func removeSourceIdentifierFromSubscription(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	name := p.required("SubscriptionName")
	id := p.required("SourceIdentifier")
	if err := p.Err(); err != nil {
		return nil, err
	}
	sub, e := subscriptionByName(r, name)
	if e != nil {
		return nil, e
	}
	i := slices.IndexFunc(sub.sourceIDs, func(x string) bool { return strings.EqualFold(x, id) })
	if i < 0 {
		return nil, errf("SourceNotFound", "Could not find source %s in subscription %s.", id, sub.name)
	}
	sub.sourceIDs = slices.Delete(sub.sourceIDs, i, i+1)
	return eventSubscriptionResult{s.renderSubscription(r, sub)}, nil
}

// --- RDS Proxy, zero-ETL, blue/green ------------------------------------------------------

type xmlDBProxy struct {
	DBProxyName  string
	DBProxyArn   string
	Status       string
	EngineFamily string
	Endpoint     string
}

type describeDBProxiesResult struct {
	DBProxies []xmlDBProxy `xml:"DBProxies>member"`
	Marker    string       `xml:",omitempty"`
}

func (s *Sim) proxyARN(r *region, px *dbProxy) string {
	return s.rdsARN(r.name, "db-proxy", "prx-"+stableID(px.name))
}

// stableID is a 17-character lower-case id derived from a name (proxy and deployment ids).
func stableID(name string) string {
	const alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	out := make([]byte, 17)
	h := uint32(2166136261)
	for i := range out {
		for _, b := range []byte(name) {
			h = (h ^ uint32(b)) * 16777619
		}
		h = (h ^ uint32(i)) * 16777619
		out[i] = alnum[h%uint32(len(alnum))]
	}
	return string(out)
}

func describeDBProxies(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	name, byName := p.str("DBProxyName")
	max, marker := pageArgs(p)
	if err := p.Err(); err != nil {
		return nil, err
	}
	st := attachments(r)
	var list []*dbProxy
	if byName {
		px := st.proxies[strings.ToLower(name)]
		if px == nil {
			return nil, errf("DBProxyNotFoundFault", "DB proxy %s not found.", name)
		}
		list = []*dbProxy{px}
	} else {
		for _, px := range st.proxies {
			list = append(list, px)
		}
	}
	page, next := paginate(list, func(x *dbProxy) string { return strings.ToLower(x.name) }, max, marker)
	out := describeDBProxiesResult{Marker: next, DBProxies: []xmlDBProxy{}}
	for _, px := range page {
		out.DBProxies = append(out.DBProxies, xmlDBProxy{DBProxyName: px.name, DBProxyArn: s.proxyARN(r, px),
			Status: "available", EngineFamily: px.engineFamily,
			Endpoint: fmt.Sprintf("%s.proxy-%s.%s.rds.amazonaws.com", px.name, r.suffix, r.name)})
	}
	return out, nil
}

type xmlProxyTarget struct {
	TargetArn        string `xml:",omitempty"`
	Endpoint         string `xml:",omitempty"`
	TrackedClusterId string `xml:",omitempty"`
	RdsResourceId    string
	Port             int32 `xml:",omitempty"`
	Type             string
}

type describeDBProxyTargetsResult struct {
	Targets []xmlProxyTarget `xml:"Targets>member"`
	Marker  string           `xml:",omitempty"`
}

// describeDBProxyTargets lists the proxy's targets: an instance target is RDS_INSTANCE with
// the instance identifier as RdsResourceId; a cluster target is TRACKED_CLUSTER, plus one
// RDS_INSTANCE per member with TrackedClusterId (SDK v1.133.0 types.DBProxyTarget).
func describeDBProxyTargets(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	name := p.required("DBProxyName")
	max, marker := pageArgs(p)
	if err := p.Err(); err != nil {
		return nil, err
	}
	px := attachments(r).proxies[strings.ToLower(name)]
	if px == nil {
		return nil, errf("DBProxyNotFoundFault", "DB proxy %s not found.", name)
	}
	var out []xmlProxyTarget
	for _, id := range px.instances {
		t := xmlProxyTarget{RdsResourceId: id, Type: "RDS_INSTANCE", TargetArn: s.rdsARN(r.name, "db", id)}
		if i := r.instances[id]; i != nil {
			t.Endpoint, t.Port = s.endpointAddress(i), i.cfg.Port
		}
		out = append(out, t)
	}
	for _, id := range px.clusters {
		out = append(out, xmlProxyTarget{RdsResourceId: id, Type: "TRACKED_CLUSTER", TargetArn: s.rdsARN(r.name, "cluster", id)})
		if cl := aurora(r).clusters[id]; cl != nil {
			for _, m := range cl.members() {
				out = append(out, xmlProxyTarget{RdsResourceId: m.id, Type: "RDS_INSTANCE", TrackedClusterId: id,
					TargetArn: m.arn(s), Endpoint: s.endpointAddress(m), Port: m.cfg.Port})
			}
		}
	}
	page, next := paginate(out, func(x xmlProxyTarget) string { return x.Type + "/" + x.RdsResourceId }, max, marker)
	if page == nil {
		page = []xmlProxyTarget{}
	}
	return describeDBProxyTargetsResult{Targets: page, Marker: next}, nil
}

type xmlIntegration struct {
	SourceArn       string
	TargetArn       string
	IntegrationName string
	IntegrationArn  string
	Status          string
}

type describeIntegrationsResult struct {
	Integrations []xmlIntegration `xml:"Integrations>Integration"`
	Marker       string           `xml:",omitempty"`
}

func (s *Sim) integrationARN(r *region, in *integration) string {
	return fmt.Sprintf("arn:aws:rds:%s:%s:integration:%s", r.name, s.account, stableID(in.name))
}

func describeIntegrations(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	ref, byID := p.str("IntegrationIdentifier")
	max, marker := pageArgs(p)
	if err := p.Err(); err != nil {
		return nil, err
	}
	var list []*integration
	for _, in := range attachments(r).integrations {
		if !byID || strings.EqualFold(ref, in.name) || ref == s.integrationARN(r, in) {
			list = append(list, in)
		}
	}
	if byID && len(list) == 0 {
		return nil, errf("IntegrationNotFoundFault", "Integration %s not found.", ref)
	}
	page, next := paginate(list, func(x *integration) string { return strings.ToLower(x.name) }, max, marker)
	out := describeIntegrationsResult{Marker: next, Integrations: []xmlIntegration{}}
	for _, in := range page {
		out.Integrations = append(out.Integrations, xmlIntegration{SourceArn: in.source, TargetArn: in.target,
			IntegrationName: in.name, IntegrationArn: s.integrationARN(r, in), Status: "active"})
	}
	return out, nil
}

type xmlBlueGreen struct {
	BlueGreenDeploymentIdentifier string
	BlueGreenDeploymentName       string
	Source                        string
	Target                        string
	Status                        string
}

type describeBlueGreenDeploymentsResult struct {
	BlueGreenDeployments []xmlBlueGreen `xml:"BlueGreenDeployments>member"`
	Marker               string         `xml:",omitempty"`
}

func describeBlueGreenDeployments(c *call) (any, error) {
	p, r := c.p, c.r
	ref, byID := p.str("BlueGreenDeploymentIdentifier")
	filters := p.filters("blue-green-deployment-identifier", "blue-green-deployment-name", "source", "target")
	max, marker := pageArgs(p)
	if err := p.Err(); err != nil {
		return nil, err
	}
	var list []*blueGreen
	for _, bg := range attachments(r).blueGreen {
		if byID && !strings.EqualFold(ref, bg.id) {
			continue
		}
		if matchFilters(filters, func(name string) []string {
			return map[string][]string{"blue-green-deployment-identifier": {bg.id}, "blue-green-deployment-name": {bg.name},
				"source": {bg.source}, "target": {bg.target}}[name]
		}) {
			list = append(list, bg)
		}
	}
	if byID && len(list) == 0 {
		return nil, errf("BlueGreenDeploymentNotFoundFault", "BlueGreenDeployment %s not found.", ref)
	}
	page, next := paginate(list, func(x *blueGreen) string { return x.id }, max, marker)
	out := describeBlueGreenDeploymentsResult{Marker: next, BlueGreenDeployments: []xmlBlueGreen{}}
	for _, bg := range page {
		out.BlueGreenDeployments = append(out.BlueGreenDeployments, xmlBlueGreen{BlueGreenDeploymentIdentifier: bg.id,
			BlueGreenDeploymentName: bg.name, Source: bg.source, Target: bg.target, Status: "AVAILABLE"})
	}
	return out, nil
}

// --- fixtures ----------------------------------------------------------------------------

// Attachment kinds for Sim.Attach.
const (
	AttachProxy             = "proxy"               // an RDS Proxy (Name) targeting the source
	AttachIntegration       = "integration"         // a zero-ETL integration (Name) from the source
	AttachBlueGreen         = "blue-green"          // a blue/green deployment (Name) with the source as blue
	AttachActivityStream    = "activity-stream"     // a started database activity stream
	AttachBackupReplication = "backup-replication"  // automated backups replicated to region Name
	AttachAuroraReplica     = "aurora-read-replica" // an Aurora read replica cluster (Name) of an RDS for MySQL instance
)

// Attachment puts something in place that the simulator does not create through its own
// API (Sim.Attach): Source is the identifier of a DB instance or, with Cluster, of a DB
// cluster; Name names the proxy, integration, deployment, replica cluster or destination
// region.
type Attachment struct {
	Kind    string `json:"Kind"`
	Source  string `json:"Source"`
	Cluster bool   `json:"Cluster,omitempty"`
	Name    string `json:"Name,omitempty"`
}

// Attach puts an attachment on a DB instance or cluster of region (fixtures and tests).
func (s *Sim) Attach(regionName string, a Attachment) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attachLocked(regionName, a)
}

func (s *Sim) attachLocked(regionName string, a Attachment) error {
	r := s.regions[regionName]
	if r == nil {
		return fmt.Errorf("attach: unknown region %q", regionName)
	}
	var att *attached
	var arn, id, family string
	if a.Cluster {
		cl, e := s.clusterByRef(r, a.Source)
		if e != nil {
			return e
		}
		att, arn, id = &cl.att, cl.arn(s), cl.id
		family = proxyFamily(cl.cfg.Engine)
	} else {
		i, e := s.instanceByRef(r, a.Source)
		if e != nil {
			return e
		}
		att, arn, id = &i.att, i.arn(s), i.id
		family = proxyFamily(i.cfg.Engine)
	}
	if a.Name == "" && a.Kind != AttachActivityStream {
		return fmt.Errorf("attach: %s needs a Name", a.Kind)
	}
	st := attachments(r)
	switch a.Kind {
	case AttachProxy:
		px := st.proxies[strings.ToLower(a.Name)]
		if px == nil {
			px = &dbProxy{name: a.Name, engineFamily: family}
			st.proxies[strings.ToLower(a.Name)] = px
		}
		if a.Cluster {
			px.clusters = append(px.clusters, id)
		} else {
			px.instances = append(px.instances, id)
		}
	case AttachIntegration:
		st.integrations[strings.ToLower(a.Name)] = &integration{name: a.Name, source: arn,
			target: fmt.Sprintf("arn:aws:redshift-serverless:%s:%s:namespace/%s", r.name, s.account, stableID(a.Name))}
	case AttachBlueGreen:
		bgID := "bgd-" + stableID(a.Name)[:16]
		st.blueGreen[bgID] = &blueGreen{id: bgID, name: a.Name, source: arn, target: arn + "-green-" + stableID(a.Name)[:6]}
	case AttachActivityStream:
		att.activityStream = "started"
	case AttachBackupReplication:
		if a.Cluster || s.regions[a.Name] == nil || a.Name == regionName {
			return fmt.Errorf("attach: backup replication needs a DB instance and another simulated region, not %q", a.Name)
		}
		att.backupReplications = append(att.backupReplications,
			fmt.Sprintf("arn:aws:rds:%s:%s:auto-backup:ab-%s", a.Name, s.account, stableID(arn)))
	case AttachAuroraReplica:
		if a.Cluster {
			return fmt.Errorf("attach: an Aurora read replica cluster replicates from a DB instance")
		}
		att.auroraReplicas = append(att.auroraReplicas, a.Name)
	default:
		return fmt.Errorf("attach: unknown kind %q", a.Kind)
	}
	return nil
}

func proxyFamily(engine string) string {
	switch {
	case strings.Contains(engine, "postgres"):
		return "POSTGRESQL"
	case strings.Contains(engine, "sqlserver"):
		return "SQLSERVER"
	}
	return "MYSQL"
}
