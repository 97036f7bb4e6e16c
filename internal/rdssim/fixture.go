package rdssim

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ExampleFleet is fixtures/example-fleet.json: a fleet with every case the tool handles
// (plain and encrypted instances, replica trees across regions, Aurora clusters with members
// and custom endpoints, TLS-enforcing parameter groups). Load it with LoadFixture.
//
//go:embed fixtures/example-fleet.json
var ExampleFleet []byte

// Fixture is a fleet description. Resources are described with the RDS API's own parameter
// names, so every setting an API accepts can be given; LoadFixture issues the corresponding
// API actions through the simulator's handlers, so every rule of the API applies.
//
//	{
//	  "Regions": {
//	    "us-east-1": {
//	      "Keys": [{"Description": "app data", "Aliases": ["alias/app-data"]}],
//	      "ParameterGroups": [{"DBParameterGroupName": "pg-strict", "DBParameterGroupFamily": "postgres16",
//	                           "Description": "TLS only", "Parameters": {"rds.force_ssl": "1"}}],
//	      "ClusterParameterGroups": [{"DBClusterParameterGroupName": ..., "Parameters": {...}}],
//	      "SubnetGroups": [{"DBSubnetGroupName": "app", "DBSubnetGroupDescription": "app", "VpcId": "vpc-0a1b",
//	                        "Subnets": [{"SubnetIdentifier": "subnet-0a", "AvailabilityZone": "us-east-1a"}, ...]}],
//	      "OptionGroups": [{"OptionGroupName": ..., "EngineName": "mysql", "MajorEngineVersion": "8.0", "OptionGroupDescription": ...}],
//	      "Instances": [{<CreateDBInstance parameters>,
//	                     "Workload": {"Clients": 20, "ChangeGiBPerHour": 2, "WriteIOPS": 300},
//	                     "Modify": {<ModifyDBInstance parameters, applied immediately after creation>},
//	                     "ReadReplicas": [{"Region": "us-west-2", <CreateDBInstanceReadReplica parameters>,
//	                                       "Modify": {...}, "ReadReplicas": [...]}]}],
//	      "Clusters": [{<CreateDBCluster parameters>,
//	                    "Members": [{<CreateDBInstance parameters; DBClusterIdentifier and Engine are filled in>}],
//	                    "CustomEndpoints": [{<CreateDBClusterEndpoint parameters; DBClusterIdentifier is filled in>}]}]
//	    }
//	  }
//	}
//
// Values map to the Query protocol the way the SDK sends them: scalars as they are, lists of
// strings as wrapped lists (VpcSecurityGroupIds.VpcSecurityGroupId.N, ...member.N), objects as
// nested members (ServerlessV2ScalingConfiguration.MinCapacity), "Tags" as an object of key to
// value. A replica's SourceDBInstanceIdentifier is set from its parent (an ARN across regions).
type Fixture struct {
	Regions map[string]FixtureRegion `json:"Regions"`
}

// FixtureRegion is the part of a fleet in one region.
type FixtureRegion struct {
	Keys                   []FixtureKey  `json:"Keys"`
	ParameterGroups        []FixtureArgs `json:"ParameterGroups"`
	ClusterParameterGroups []FixtureArgs `json:"ClusterParameterGroups"`
	SubnetGroups           []FixtureArgs `json:"SubnetGroups"`
	OptionGroups           []FixtureArgs `json:"OptionGroups"`
	Instances              []FixtureArgs `json:"Instances"`
	Clusters               []FixtureArgs `json:"Clusters"`
	// EventSubscriptions are CreateEventSubscription parameters, created after the
	// instances and clusters they name.
	EventSubscriptions []FixtureArgs `json:"EventSubscriptions"`
	// Attachments are put in place last (Sim.Attach): RDS Proxy targets, zero-ETL
	// integrations, blue/green deployments, activity streams, backup replication.
	Attachments []Attachment `json:"Attachments"`
}

// FixtureKey is a customer-managed KMS key and its aliases.
type FixtureKey struct {
	Description string   `json:"Description"`
	Aliases     []string `json:"Aliases"`
}

// FixtureArgs are API parameters plus the fixture-only members named on Fixture.
type FixtureArgs map[string]any

// fixtureLead is how far before the current virtual time a fixture is built, so that every
// resource has gone through its real status timeline and is available at load time.
const fixtureLead = 48 * time.Hour

// LoadFixture reads a fleet description (see Fixture) and creates it. The resources are built
// in the virtual past and are all available when LoadFixture returns; the virtual clock is
// where it was. Load into a fresh simulator (after New or Reset): the fleet's events are
// dated before the load. Reset drops the fleet like everything else.
func (s *Sim) LoadFixture(r io.Reader) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	dec.DisallowUnknownFields()
	var fx Fixture
	if err := dec.Decode(&fx); err != nil {
		return fmt.Errorf("fixture: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle(s.clock.now())
	l := &fixtureLoader{s: s}
	s.clock.offset -= fixtureLead
	defer func() {
		// Back to the present; everything scheduled up to now happens.
		s.clock.offset += fixtureLead - l.spent
		s.settle(s.clock.now())
		// Workloads start in the present.
		for _, w := range l.workloads {
			_ = s.setWorkloadLocked(w.region, w.id, w.w)
		}
	}()
	return l.load(&fx)
}

type fixtureLoader struct {
	s       *Sim
	spent   time.Duration   // virtual time used while waiting for resources
	created []func() string // status of each resource the fixture created
	// workloads are the instances' "Workload" members (see Workload), applied once loaded.
	workloads []fixtureWorkload
}

type fixtureWorkload struct {
	region, id string
	w          Workload
}

// workload records an instance's "Workload" member: {"Clients": n, "ChangeGiBPerHour": x,
// "WriteIOPS": y}.
func (l *fixtureLoader) workload(region, id string, spec FixtureArgs) error {
	raw, ok := spec["Workload"]
	if !ok {
		return nil
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return err
	}
	var w Workload
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return fmt.Errorf("fixture: %s: instance %s: Workload: %w", region, id, err)
	}
	l.workloads = append(l.workloads, fixtureWorkload{region, id, w})
	return nil
}

type fixtureReplica struct {
	parentRegion, parentID string
	spec                   FixtureArgs
}

func (l *fixtureLoader) region(name string) (*region, error) {
	r := l.s.regions[name]
	if r == nil {
		return nil, fmt.Errorf("fixture: unknown region %q (simulated: %s)", name, strings.Join(l.s.opts.Regions, ", "))
	}
	return r, nil
}

func (l *fixtureLoader) load(fx *Fixture) error {
	names := make([]string, 0, len(fx.Regions))
	for name := range fx.Regions {
		names = append(names, name)
	}
	sort.Strings(names)
	// 1. Keys and groups: immediate.
	for _, name := range names {
		r, err := l.region(name)
		if err != nil {
			return err
		}
		if err := l.loadGroups(r, fx.Regions[name]); err != nil {
			return err
		}
	}
	// 2. Primary instances and clusters.
	var replicas []fixtureReplica
	var modifies []func() error
	var clusterChildren []func() error
	for _, name := range names {
		r := l.s.regions[name]
		for _, spec := range fx.Regions[name].Instances {
			id, _ := spec["DBInstanceIdentifier"].(string)
			if err := l.rds(r, "CreateDBInstance", spec, "instance "+id); err != nil {
				return err
			}
			if err := l.workload(name, id, spec); err != nil {
				return err
			}
			modifies = append(modifies, l.modifyLater(r, id, spec))
			for _, rep := range fixtureList(spec["ReadReplicas"]) {
				replicas = append(replicas, fixtureReplica{parentRegion: name, parentID: id, spec: rep})
			}
		}
		for _, spec := range fx.Regions[name].Clusters {
			id, _ := spec["DBClusterIdentifier"].(string)
			if err := l.rds(r, "CreateDBCluster", spec, "cluster "+id); err != nil {
				return err
			}
			clusterChildren = append(clusterChildren, l.clusterChildren(r, id, spec))
		}
	}
	if err := l.waitAvailable(); err != nil {
		return err
	}
	// 3. Modifications and cluster members.
	for _, f := range modifies {
		if err := f(); err != nil {
			return err
		}
	}
	for _, f := range clusterChildren {
		if err := f(); err != nil {
			return err
		}
	}
	if err := l.waitAvailable(); err != nil {
		return err
	}
	// 4. Replicas, one tree level at a time (a cascading replica needs its source available
	// and with backups enabled).
	for len(replicas) > 0 {
		var next []fixtureReplica
		modifies = nil
		for _, rep := range replicas {
			regionName, _ := rep.spec["Region"].(string)
			if regionName == "" {
				regionName = rep.parentRegion
			}
			r, err := l.region(regionName)
			if err != nil {
				return err
			}
			id, _ := rep.spec["DBInstanceIdentifier"].(string)
			args := FixtureArgs{}
			for k, v := range rep.spec {
				args[k] = v
			}
			args["SourceDBInstanceIdentifier"] = rep.parentID
			if regionName != rep.parentRegion {
				args["SourceDBInstanceIdentifier"] = l.s.rdsARN(rep.parentRegion, "db", strings.ToLower(rep.parentID))
			}
			if err := l.rds(r, "CreateDBInstanceReadReplica", args, "replica "+id); err != nil {
				return err
			}
			// The source is "modifying" while RDS snapshots it for the replica.
			if err := l.waitAvailable(); err != nil {
				return err
			}
			modifies = append(modifies, l.modifyLater(r, id, rep.spec))
			for _, child := range fixtureList(rep.spec["ReadReplicas"]) {
				next = append(next, fixtureReplica{parentRegion: regionName, parentID: id, spec: child})
			}
		}
		for _, f := range modifies {
			if err := f(); err != nil {
				return err
			}
		}
		if err := l.waitAvailable(); err != nil {
			return err
		}
		replicas = next
	}
	// 5. What names the instances and clusters.
	for _, name := range names {
		r := l.s.regions[name]
		for _, spec := range fx.Regions[name].EventSubscriptions {
			sub, _ := spec["SubscriptionName"].(string)
			if err := l.rds(r, "CreateEventSubscription", spec, "event subscription "+sub); err != nil {
				return err
			}
		}
		for _, a := range fx.Regions[name].Attachments {
			if err := l.s.attachLocked(name, a); err != nil {
				return fmt.Errorf("fixture: %s: %w", name, err)
			}
		}
	}
	return nil
}

func (l *fixtureLoader) loadGroups(r *region, fr FixtureRegion) error {
	for _, k := range fr.Keys {
		body, _ := json.Marshal(map[string]string{"Description": k.Description})
		out, err := l.kms(r, "CreateKey", body)
		if err != nil {
			return err
		}
		keyID := out.(map[string]any)["KeyMetadata"].(kmsKeyMetadata).KeyId
		for _, a := range k.Aliases {
			body, _ := json.Marshal(map[string]string{"AliasName": a, "TargetKeyId": keyID})
			if _, err := l.kms(r, "CreateAlias", body); err != nil {
				return err
			}
		}
	}
	for _, pg := range fr.ParameterGroups {
		if err := l.paramGroup(r, "DBParameterGroupName", "CreateDBParameterGroup", "ModifyDBParameterGroup", pg); err != nil {
			return err
		}
	}
	for _, pg := range fr.ClusterParameterGroups {
		if err := l.paramGroup(r, "DBClusterParameterGroupName", "CreateDBClusterParameterGroup", "ModifyDBClusterParameterGroup", pg); err != nil {
			return err
		}
	}
	for _, sg := range fr.SubnetGroups {
		name, _ := sg["DBSubnetGroupName"].(string)
		vpc, _ := sg["VpcId"].(string)
		args := FixtureArgs{}
		var ids []any
		for _, sn := range fixtureList(sg["Subnets"]) {
			id, _ := sn["SubnetIdentifier"].(string)
			az, _ := sn["AvailabilityZone"].(string)
			if id == "" || az == "" {
				return fmt.Errorf("fixture: %s: subnet group %s: each subnet needs SubnetIdentifier and AvailabilityZone", r.name, name)
			}
			if vpc == "" {
				vpc = r.defaultVPC
			}
			groups(r).knownSubnets[id] = subnet{id: id, az: az, vpc: vpc}
			ids = append(ids, id)
		}
		for k, v := range sg {
			if k != "Subnets" && k != "VpcId" {
				args[k] = v
			}
		}
		if ids != nil {
			args["SubnetIds"] = ids
		}
		if err := l.rds(r, "CreateDBSubnetGroup", args, "subnet group "+name); err != nil {
			return err
		}
	}
	for _, og := range fr.OptionGroups {
		name, _ := og["OptionGroupName"].(string)
		if err := l.rds(r, "CreateOptionGroup", og, "option group "+name); err != nil {
			return err
		}
	}
	return nil
}

func (l *fixtureLoader) paramGroup(r *region, nameKey, create, modify string, spec FixtureArgs) error {
	name, _ := spec[nameKey].(string)
	if err := l.rds(r, create, spec, "parameter group "+name); err != nil {
		return err
	}
	values, _ := spec["Parameters"].(map[string]any)
	if len(values) == 0 {
		return nil
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var list []any
	for _, k := range keys {
		list = append(list, map[string]any{"ParameterName": k, "ParameterValue": fmt.Sprint(values[k]), "ApplyMethod": "pending-reboot"})
	}
	return l.rds(r, modify, FixtureArgs{nameKey: name, "Parameters": list}, "parameter group "+name)
}

// modifyLater returns the ModifyDBInstance of an instance's "Modify" member, if any.
func (l *fixtureLoader) modifyLater(r *region, id string, spec FixtureArgs) func() error {
	return func() error {
		mod, _ := spec["Modify"].(map[string]any)
		if len(mod) == 0 {
			return nil
		}
		args := FixtureArgs{"DBInstanceIdentifier": id, "ApplyImmediately": true}
		for k, v := range mod {
			args[k] = v
		}
		return l.rds(r, "ModifyDBInstance", args, "instance "+id)
	}
}

// clusterChildren returns the creation of a cluster's members and custom endpoints. The
// endpoints wait for the members they name.
func (l *fixtureLoader) clusterChildren(r *region, id string, spec FixtureArgs) func() error {
	return func() error {
		engine, _ := spec["Engine"].(string)
		for _, m := range fixtureList(spec["Members"]) {
			args := FixtureArgs{"DBClusterIdentifier": id, "Engine": engine}
			for k, v := range m {
				args[k] = v
			}
			mid, _ := m["DBInstanceIdentifier"].(string)
			if err := l.rds(r, "CreateDBInstance", args, "cluster member "+mid); err != nil {
				return err
			}
		}
		if err := l.waitAvailable(); err != nil {
			return err
		}
		for _, ep := range fixtureList(spec["CustomEndpoints"]) {
			args := FixtureArgs{"DBClusterIdentifier": id}
			for k, v := range ep {
				args[k] = v
			}
			eid, _ := ep["DBClusterEndpointIdentifier"].(string)
			if err := l.rds(r, "CreateDBClusterEndpoint", args, "custom endpoint "+eid); err != nil {
				return err
			}
		}
		return nil
	}
}

// fixtureMeta are the members of FixtureArgs that are not API parameters.
var fixtureMeta = map[string]bool{"Workload": true, "ReadReplicas": true, "Modify": true, "Region": true, "Members": true, "CustomEndpoints": true}

// rds runs one RDS action through its handler, as a request at the current virtual time would.
func (l *fixtureLoader) rds(r *region, action string, args FixtureArgs, what string) error {
	form := url.Values{"Action": {action}, "Version": {"2014-10-31"}}
	for k, v := range args {
		if fixtureMeta[k] || (k == "Parameters" && !strings.HasPrefix(action, "Modify")) {
			continue
		}
		if err := toQuery(form, k, v); err != nil {
			return fmt.Errorf("fixture: %s: %s: %w", r.name, what, err)
		}
	}
	c := &call{sim: l.s, r: r, now: l.s.clock.now(), action: action, p: newParams(form)}
	if _, err := rdsHandlers[action](c); err != nil {
		return fmt.Errorf("fixture: %s: %s: %s: %w", r.name, what, action, err)
	}
	id := strings.ToLower(form.Get("DBInstanceIdentifier"))
	switch action {
	case "CreateDBInstance", "CreateDBInstanceReadReplica":
		inst := r.instances[id]
		l.created = append(l.created, func() string { return "instance " + inst.id + ": " + inst.status + l.s.dataFailure(inst) })
	case "CreateDBCluster":
		cl := aurora(r).clusters[strings.ToLower(form.Get("DBClusterIdentifier"))]
		l.created = append(l.created, func() string { return "cluster " + cl.id + ": " + cl.status })
	case "CreateDBClusterEndpoint":
		ep := aurora(r).endpoints[strings.ToLower(form.Get("DBClusterEndpointIdentifier"))]
		l.created = append(l.created, func() string { return "custom endpoint " + ep.id + ": " + ep.status })
	}
	return nil
}

func (l *fixtureLoader) kms(r *region, op string, body []byte) (any, error) {
	c := &call{sim: l.s, r: r, now: l.s.clock.now(), action: op, body: body}
	out, err := kmsHandlers[op](c)
	if err != nil {
		return nil, fmt.Errorf("fixture: %s: %s: %w", r.name, op, err)
	}
	return out, nil
}

// waitAvailable moves the virtual clock until every resource the fixture created is
// available, failing on one that does not get there.
func (l *fixtureLoader) waitAvailable() error {
	for {
		busy := ""
		for _, status := range l.created {
			if st := status(); !strings.HasSuffix(st, ": available") {
				busy = st
			}
		}
		if busy == "" {
			return nil
		}
		if l.spent+time.Minute > fixtureLead {
			return fmt.Errorf("fixture: %s after %s of virtual time", busy, fixtureLead)
		}
		l.spent += time.Minute
		l.s.clock.offset += time.Minute
		l.s.settle(l.s.clock.now())
	}
}

// fixtureList reads a JSON array of objects.
func fixtureList(v any) []FixtureArgs {
	items, _ := v.([]any)
	var out []FixtureArgs
	for _, it := range items {
		if m, ok := it.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// listItems are the wire names of list items that are not "member" (docs/aws-behaviour.md#requests).
var listItems = map[string]string{
	"VpcSecurityGroupIds": "VpcSecurityGroupId", "AvailabilityZones": "AvailabilityZone",
	"SubnetIds": "SubnetIdentifier", "DBSecurityGroups": "DBSecurityGroupName",
	"ProcessorFeatures": "ProcessorFeature", "Parameters": "Parameter", "Tags": "Tag",
	"SourceIds": "SourceId", "EventCategories": "EventCategory",
}

// toQuery encodes a JSON value as AWS Query parameters under key.
func toQuery(form url.Values, key string, v any) error {
	last := key[strings.LastIndexByte(key, '.')+1:]
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		form.Set(key, x)
	case bool:
		form.Set(key, strconv.FormatBool(x))
	case json.Number:
		form.Set(key, x.String())
	case float64:
		form.Set(key, strconv.FormatFloat(x, 'f', -1, 64))
	case []any:
		item := listItems[last]
		if item == "" {
			item = "member"
		}
		if len(x) == 0 {
			form.Set(key, "")
		}
		for n, el := range x {
			if err := toQuery(form, fmt.Sprintf("%s.%s.%d", key, item, n+1), el); err != nil {
				return err
			}
		}
	case map[string]any:
		if last == "Tags" {
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for n, k := range keys {
				form.Set(fmt.Sprintf("%s.Tag.%d.Key", key, n+1), k)
				form.Set(fmt.Sprintf("%s.Tag.%d.Value", key, n+1), fmt.Sprint(x[k]))
			}
			return nil
		}
		for k, el := range x {
			if err := toQuery(form, key+"."+k, el); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("unsupported value %v for %s", v, key)
	}
	return nil
}
