package rdssim

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// DB parameter groups, DB cluster parameter groups, DB subnet groups and option groups. Every
// region has the default groups of every engine family (default.mysql8.0,
// default.aurora-postgresql16, default:postgres-16, the "default" subnet group); they are
// created lazily on first use of the region's group state, which Reset drops.

func init() {
	registerRDS("CreateDBParameterGroup", createParamGroup(false))
	registerRDS("CreateDBClusterParameterGroup", createParamGroup(true))
	registerRDS("DescribeDBParameterGroups", describeParamGroups(false))
	registerRDS("DescribeDBClusterParameterGroups", describeParamGroups(true))
	registerRDS("DescribeDBParameters", describeParameters(false))
	registerRDS("DescribeDBClusterParameters", describeParameters(true))
	registerRDS("ModifyDBParameterGroup", modifyParamGroup(false))
	registerRDS("ModifyDBClusterParameterGroup", modifyParamGroup(true))
	registerRDS("CreateDBSubnetGroup", createDBSubnetGroup)
	registerRDS("DescribeDBSubnetGroups", describeDBSubnetGroups)
	registerRDS("CreateOptionGroup", createOptionGroup)
	registerRDS("DescribeOptionGroups", describeOptionGroups)

	groupChecks["db-parameter-group"] = func(s *Sim, r *region, name, engine, version string) *apiError {
		g := groups(r).params[name]
		if g == nil {
			return errParamGroupNotFound(name)
		}
		return checkFamily(g, engine, version)
	}
	groupChecks["option-group"] = func(s *Sim, r *region, name, engine, version string) *apiError {
		g := groups(r).options[name]
		if g == nil {
			return errOptionGroupNotFound(name)
		}
		if g.engine != engine || !strings.HasPrefix(version+".", g.major+".") {
			return errCombination("The option group %s is for engine %s %s and can't be used with %s %s.", g.name, g.engine, g.major, engine, version)
		}
		return nil
	}
	groupChecks["db-subnet-group"] = func(s *Sim, r *region, name, engine, version string) *apiError {
		if groups(r).subnets[name] == nil {
			return errSubnetGroupNotFound(name)
		}
		return nil
	}
	subnetGroupView = renderSubnetGroup

	for kind, cluster := range map[string]bool{"pg": false, "cluster-pg": true} {
		registerTagKind(kind, func(s *Sim, r *region, id string) (*[]Tag, *apiError) {
			g := groups(r).paramGroup(id, cluster)
			if g == nil {
				return nil, errParamGroupNotFoundKind(id, cluster)
			}
			return &g.tags, nil
		})
	}
	registerTagKind("subgrp", func(s *Sim, r *region, id string) (*[]Tag, *apiError) {
		g := groups(r).subnets[id]
		if g == nil {
			return nil, errSubnetGroupNotFound(id)
		}
		return &g.tags, nil
	})
	registerTagKind("og", func(s *Sim, r *region, id string) (*[]Tag, *apiError) {
		g := groups(r).options[id]
		if g == nil {
			return nil, errOptionGroupNotFound(id)
		}
		return &g.tags, nil
	})
}

func errParamGroupNotFound(name string) *apiError {
	return errf("DBParameterGroupNotFound", "DBParameterGroup not found: %s", name)
}

func errClusterParamGroupNotFound(name string) *apiError {
	return errf("DBClusterParameterGroupNotFound", "DBClusterParameterGroup not found: %s", name)
}

func errParamGroupNotFoundKind(name string, cluster bool) *apiError {
	if cluster {
		return errClusterParamGroupNotFound(name)
	}
	return errParamGroupNotFound(name)
}

func errOptionGroupNotFound(name string) *apiError {
	return errf("OptionGroupNotFoundFault", "Specified OptionGroupName: %s not found.", name)
}

func errSubnetGroupNotFound(name string) *apiError {
	return errf("DBSubnetGroupNotFoundFault", "DB subnet group '%s' does not exist.", name)
}

// ---- parameter definitions -------------------------------------------------------------

// paramDef describes one engine parameter.
type paramDef struct {
	Name, Description, DataType, Allowed string
	Static                               bool
	// Default returns the engine default for a family ("" = no value).
	Default func(family string) string
}

func fixed(v string) func(string) string { return func(string) string { return v } }

// familyMajor returns the trailing number of a family ("postgres16" -> 16).
func familyMajor(family string) int {
	i := len(family)
	for i > 0 && (family[i-1] >= '0' && family[i-1] <= '9' || family[i-1] == '.') {
		i--
	}
	f, _ := strconv.ParseFloat(family[i:], 64)
	return int(f)
}

// forceSSLDefault: RDS for PostgreSQL 15 and later default rds.force_ssl to 1 (RDS User
// Guide, PostgreSQL.Concepts.General.SSL); Aurora PostgreSQL keeps 0 (UNVERIFIED for 17).
func forceSSLDefault(family string) string {
	if strings.HasPrefix(family, "postgres") && familyMajor(family) >= 15 {
		return "1"
	}
	return "0"
}

var (
	pForceSSL = paramDef{Name: "rds.force_ssl", Description: "Force SSL connections.", DataType: "boolean",
		Allowed: "0,1", Default: forceSSLDefault}
	pRequireTLS = paramDef{Name: "require_secure_transport", Description: "Whether client connections must use a secure transport.",
		DataType: "boolean", Allowed: "0,1", Default: fixed("0")}
	pRequireTLSAurora = paramDef{Name: "require_secure_transport", Description: "Whether client connections must use a secure transport.",
		DataType: "string", Allowed: "ON,OFF", Default: fixed("OFF")}
	pMaxConnMySQL = paramDef{Name: "max_connections", Description: "The number of simultaneous client connections allowed.",
		DataType: "integer", Allowed: "1-100000", Default: fixed("{DBInstanceClassMemory/12582880}")}
	// binlog_format: MIXED is RDS's default for MariaDB ("The default binary logging format
	// is mixed", user guide: Configuring MariaDB binary logging) and for MySQL up to 8.0; the
	// mysql8.4 family defaults to ROW, MySQL 8.4's own default (its binlog_format is
	// deprecated there).
	pBinlog = paramDef{Name: "binlog_format", Description: "Binary logging format.", DataType: "string",
		Allowed: "ROW,STATEMENT,MIXED", Default: func(family string) string {
			if family == "mysql8.4" {
				return "ROW"
			}
			return "MIXED"
		}}
	pBinlogAurora = paramDef{Name: "binlog_format", Description: "Binary logging format.", DataType: "string",
		Allowed: "OFF,ROW,STATEMENT,MIXED", Static: true, Default: fixed("OFF")}
	pPerfSchema = paramDef{Name: "performance_schema", Description: "Enables or disables the Performance Schema.",
		DataType: "boolean", Allowed: "0,1", Static: true, Default: fixed("0")}
	pLogMinDuration = paramDef{Name: "log_min_duration_statement", Description: "Sets the minimum execution time above which statements will be logged.",
		DataType: "integer", Allowed: "-1-2147483647", Default: fixed("-1")}
	pMaxConnPG = paramDef{Name: "max_connections", Description: "Sets the maximum number of concurrent connections.",
		DataType: "integer", Allowed: "6-262143", Static: true, Default: fixed("LEAST({DBInstanceClassMemory/9531392},5000)")}
	// The parameters the data plane applies to its servers (dataplane.go); names, types,
	// apply types and defaults as RDS lists them in DescribeDBParameters of default.postgres*
	// and default.mariadb* / default.mysql*.
	pLogicalRepl = paramDef{Name: "rds.logical_replication", Description: "Enables logical decoding.", DataType: "boolean",
		Allowed: "0,1", Static: true, Default: fixed("0")}
	pMaxSlots = paramDef{Name: "max_replication_slots", Description: "Sets the maximum number of simultaneously defined replication slots.",
		DataType: "integer", Allowed: "5-8388607", Static: true, Default: fixed("20")}
	pMaxSenders = paramDef{Name: "max_wal_senders", Description: "Sets the maximum number of simultaneously running WAL sender processes.",
		DataType: "integer", Allowed: "5-8388607", Static: true, Default: fixed("20")}
	// max_logical_replication_workers: PostgreSQL's default (4), static (runtime-config-replication,
	// "This parameter can only be set at server start"); a subscriber needs one per subscription.
	pMaxLogicalWorkers = paramDef{Name: "max_logical_replication_workers", Description: "Maximum number of logical replication worker processes.",
		DataType: "integer", Allowed: "0-262143", Static: true, Default: fixed("4")}
	// max_slot_wal_keep_size: PostgreSQL 13+, MB, -1 (keep all WAL a slot needs) by default,
	// reloaded without a restart (runtime-config-replication: "can only be set in the
	// postgresql.conf file or on the server command line", i.e. sighup: RDS applies it at
	// once).
	pMaxSlotWALKeep = paramDef{Name: "max_slot_wal_keep_size", Description: "Sets the maximum WAL size that can be reserved by replication slots.",
		DataType: "integer", Allowed: "-1-2147483647", Default: fixed("-1")}
	pTxReadOnly = paramDef{Name: "default_transaction_read_only", Description: "Sets the default read-only status of new transactions.",
		DataType: "boolean", Allowed: "0,1", Default: fixed("0")}
	pReadOnly = paramDef{Name: "read_only", Description: "When set to 1, only users with admin rights can modify data.",
		DataType: "boolean", Allowed: "0,1", Default: fixed("{TrueIfReplica}")}
	pTrustCreators = paramDef{Name: "log_bin_trust_function_creators", Description: "Enforces restrictions on stored functions creation when binary logging is on.",
		DataType: "boolean", Allowed: "0,1", Default: fixed("0")}
	pPreload = paramDef{Name: "shared_preload_libraries", Description: "Lists shared libraries to preload into server.",
		DataType: "list", Allowed: "auto_explain,orafce,pg_cron,pg_stat_statements,pglogical", Static: true, Default: fixed("pg_stat_statements")}
)

// paramDefs returns the parameters of a family; cluster selects the cluster-level set of an
// Aurora family.
func paramDefs(family string, cluster bool) []paramDef {
	switch {
	case strings.HasPrefix(family, "aurora-mysql") && cluster:
		return []paramDef{pBinlogAurora, pRequireTLSAurora}
	case strings.HasPrefix(family, "aurora-mysql"):
		return []paramDef{pMaxConnMySQL, pPerfSchema}
	case strings.HasPrefix(family, "aurora-postgresql") && cluster:
		return []paramDef{pForceSSL, pPreload}
	case strings.HasPrefix(family, "aurora-postgresql"):
		return []paramDef{pLogMinDuration, pMaxConnPG}
	case strings.HasPrefix(family, "mysql"):
		return []paramDef{pBinlog, pMaxConnMySQL, pPerfSchema, pRequireTLS, pReadOnly, pTrustCreators}
	case strings.HasPrefix(family, "mariadb"):
		return []paramDef{pBinlog, pMaxConnMySQL, pPerfSchema, pRequireTLS, pReadOnly, pTrustCreators}
	case strings.HasPrefix(family, "postgres"):
		return []paramDef{pLogMinDuration, pMaxConnPG, pForceSSL, pPreload, pLogicalRepl, pMaxSlots, pMaxSenders, pMaxLogicalWorkers, pMaxSlotWALKeep, pTxReadOnly}
	}
	return nil
}

// families returns every parameter group family with the engine it belongs to.
func families() map[string]string {
	out := map[string]string{}
	for engine, eng := range engines {
		for _, v := range engineVersions(engine) {
			out[eng.Family(v)] = engine
		}
	}
	return out
}

// ---- state ------------------------------------------------------------------------------

type paramGroup struct {
	name, family, description string
	cluster                   bool
	isDefault                 bool
	values                    map[string]string // user-set values
	methods                   map[string]string // apply method of user-set values
	tags                      []Tag
}

type subnet struct {
	id, az, vpc string
}

type subnetGroup struct {
	name, description, vpc string
	subnets                []subnet
	tags                   []Tag
}

type optionGroup struct {
	name, engine, major, description string
	tags                             []Tag
}

type groupState struct {
	params        map[string]*paramGroup // DB parameter groups by name
	clusterParams map[string]*paramGroup // DB cluster parameter groups by name
	subnets       map[string]*subnetGroup
	options       map[string]*optionGroup
	knownSubnets  map[string]subnet // subnet id -> AZ and VPC (the simulated EC2 side)
}

func (g *groupState) paramGroup(name string, cluster bool) *paramGroup {
	if cluster {
		return g.clusterParams[name]
	}
	return g.params[name]
}

func groups(r *region) *groupState {
	return regionExt(r, "groups", func() *groupState {
		g := &groupState{params: map[string]*paramGroup{}, clusterParams: map[string]*paramGroup{},
			subnets: map[string]*subnetGroup{}, options: map[string]*optionGroup{}, knownSubnets: map[string]subnet{}}
		for family, engine := range families() {
			name := "default." + family
			desc := "Default parameter group for " + family
			g.params[name] = &paramGroup{name: name, family: family, description: desc, isDefault: true}
			if engines[engine].Aurora {
				g.clusterParams[name] = &paramGroup{name: name, family: family, description: "Default cluster parameter group for " + family,
					cluster: true, isDefault: true}
			}
		}
		for engine, eng := range engines {
			for _, v := range engineVersions(engine) {
				name := eng.OptionGroup(v)
				if g.options[name] == nil {
					major := strings.ReplaceAll(strings.TrimPrefix(name, "default:"+engine+"-"), "-", ".")
					g.options[name] = &optionGroup{name: name, engine: engine, major: major,
						description: "Default option group for " + engine + " " + major}
				}
			}
		}
		def := &subnetGroup{name: "default", description: "default", vpc: r.defaultVPC}
		for n, az := range r.zones() {
			sn := subnet{id: fmt.Sprintf("subnet-%s%02d", r.defaultVPC[4:], n), az: az, vpc: r.defaultVPC}
			def.subnets = append(def.subnets, sn)
			g.knownSubnets[sn.id] = sn
		}
		g.subnets["default"] = def
		return g
	})
}

// checkFamily rejects a parameter group whose family is not the engine version's.
func checkFamily(g *paramGroup, engine, version string) *apiError {
	eng := engines[engine]
	if eng == nil {
		return nil
	}
	if want := eng.Family(version); g.family != want {
		return errCombination("The parameter group %s with DBParameterGroupFamily %s can't be used for this instance. Use a parameter group with DBParameterGroupFamily %s.", g.name, g.family, want)
	}
	return nil
}

func (s *Sim) checkClusterParameterGroup(r *region, name, engine, version string) *apiError {
	g := groups(r).clusterParams[name]
	if g == nil {
		return errClusterParamGroupNotFound(name)
	}
	return checkFamily(g, engine, version)
}

// ---- subnet groups ----------------------------------------------------------------------

func renderSubnetGroup(s *Sim, r *region, name string) *xmlSubnetGroup {
	g := groups(r).subnets[name]
	if g == nil {
		return nil
	}
	x := &xmlSubnetGroup{DBSubnetGroupName: g.name, DBSubnetGroupDescription: g.description, VpcId: g.vpc,
		SubnetGroupStatus: "Complete", SupportedNetworkTypes: []string{"IPV4", "DUAL"}}
	if g.name != "default" {
		x.DBSubnetGroupArn = s.rdsARN(r.name, "subgrp", g.name)
	}
	for _, sn := range g.subnets {
		xs := xmlSubnet{SubnetIdentifier: sn.id, SubnetStatus: "Active"}
		xs.SubnetAvailabilityZone.Name = sn.az
		x.Subnets = append(x.Subnets, xs)
	}
	return x
}

// subnetGroupVPC returns the VPC of a subnet group (the default VPC for unknown names).
func subnetGroupVPC(s *Sim, r *region, name string) string {
	if g := groups(r).subnets[name]; g != nil {
		return g.vpc
	}
	return r.defaultVPC
}

// subnetGroupZones returns the distinct AZs of a subnet group, sorted.
func subnetGroupZones(s *Sim, r *region, name string) []string {
	g := groups(r).subnets[name]
	if g == nil {
		return r.zones()
	}
	seen := map[string]bool{}
	var out []string
	for _, sn := range g.subnets {
		if !seen[sn.az] {
			seen[sn.az] = true
			out = append(out, sn.az)
		}
	}
	sort.Strings(out)
	return out
}

// resolveSubnet returns a subnet's AZ and VPC. Subnets are not simulated as EC2 resources: a
// subnet id seen for the first time is placed in the region's default VPC, in the next AZ in
// turn, and keeps that placement. Fixtures declare subnets with their AZ and VPC.
func (g *groupState) resolveSubnet(r *region, id string) subnet {
	if sn, ok := g.knownSubnets[id]; ok {
		return sn
	}
	zones := r.zones()
	sn := subnet{id: id, az: zones[len(g.knownSubnets)%len(zones)], vpc: r.defaultVPC}
	g.knownSubnets[id] = sn
	return sn
}

// groupNameOK checks the length and first character of a subnet group name.
func groupNameOK(name string, max int) bool {
	if len(name) < 1 || len(name) > max {
		return false
	}
	c := name[0]
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// newSubnetGroup validates and builds a subnet group from subnet ids.
func (s *Sim) newSubnetGroup(r *region, name, desc string, ids []string) (*subnetGroup, *apiError) {
	g := groups(r)
	if strings.EqualFold(name, "default") {
		return nil, errInvalidValue("The DB subnet group name 'default' is reserved.")
	}
	if !groupNameOK(name, 255) || strings.ContainsAny(name, "/:") {
		return nil, errInvalidValue("The parameter DBSubnetGroupName is not a valid identifier. It must contain only ASCII letters, digits, periods, underscores, spaces, or hyphens and begin with a letter.")
	}
	if g.subnets[strings.ToLower(name)] != nil {
		return nil, errf("DBSubnetGroupAlreadyExists", "The DB subnet group '%s' already exists.", name)
	}
	if len(ids) == 0 {
		return nil, errMissing("SubnetIds")
	}
	sg := &subnetGroup{name: strings.ToLower(name), description: desc}
	azs := map[string]bool{}
	for _, id := range ids {
		if !strings.HasPrefix(id, "subnet-") {
			return nil, errf("InvalidSubnet", "The subnet ID '%s' does not exist", id)
		}
		sn := g.resolveSubnet(r, id)
		if sg.vpc == "" {
			sg.vpc = sn.vpc
		} else if sn.vpc != sg.vpc {
			return nil, errf("InvalidSubnet", "Subnets %s and %s are in different VPCs.", sg.subnets[0].id, id)
		}
		sg.subnets = append(sg.subnets, sn)
		azs[sn.az] = true
	}
	if len(azs) < 2 {
		var list []string
		for az := range azs {
			list = append(list, az)
		}
		return nil, errf("DBSubnetGroupDoesNotCoverEnoughAZs",
			"The DB subnet group doesn't meet Availability Zone (AZ) coverage requirement. Current AZ coverage: %s. Add subnets to cover at least 2 AZs.", strings.Join(list, ", "))
	}
	g.subnets[sg.name] = sg
	return sg, nil
}

type createDBSubnetGroupResult struct {
	DBSubnetGroup *xmlSubnetGroup
}

func createDBSubnetGroup(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	name := p.required("DBSubnetGroupName")
	desc := p.required("DBSubnetGroupDescription")
	ids, _ := p.list("SubnetIds", "SubnetIdentifier")
	tags, _ := p.tags("Tags")
	if err := p.Err(); err != nil {
		return nil, err
	}
	sg, e := s.newSubnetGroup(r, name, desc, ids)
	if e != nil {
		return nil, e
	}
	sg.tags = tags
	s.emit(c.now, r.name, "db-subnet-group", sg.name, s.rdsARN(r.name, "subgrp", sg.name), "created", c.action)
	return createDBSubnetGroupResult{DBSubnetGroup: renderSubnetGroup(s, r, sg.name)}, nil
}

type describeDBSubnetGroupsResult struct {
	DBSubnetGroups []*xmlSubnetGroup `xml:"DBSubnetGroups>DBSubnetGroup"`
	Marker         string            `xml:",omitempty"`
}

func describeDBSubnetGroups(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	name, byName := p.str("DBSubnetGroupName")
	max, marker := pageArgs(p)
	p.filters()
	if err := p.Err(); err != nil {
		return nil, err
	}
	g := groups(r)
	var names []string
	if byName {
		if g.subnets[strings.ToLower(name)] == nil {
			return nil, errSubnetGroupNotFound(name)
		}
		names = []string{strings.ToLower(name)}
	} else {
		for n := range g.subnets {
			names = append(names, n)
		}
	}
	page, next := paginate(names, func(n string) string { return n }, max, marker)
	res := describeDBSubnetGroupsResult{Marker: next}
	for _, n := range page {
		res.DBSubnetGroups = append(res.DBSubnetGroups, renderSubnetGroup(s, r, n))
	}
	return res, nil
}

// ---- option groups ----------------------------------------------------------------------

type xmlOptionGroup struct {
	OptionGroupName                       string
	OptionGroupDescription                string
	EngineName                            string
	MajorEngineVersion                    string
	Options                               []struct{} `xml:"Options>Option"`
	AllowsVpcAndNonVpcInstanceMemberships bool
	OptionGroupArn                        string
}

func (s *Sim) renderOptionGroup(r *region, g *optionGroup) *xmlOptionGroup {
	return &xmlOptionGroup{OptionGroupName: g.name, OptionGroupDescription: g.description, EngineName: g.engine,
		MajorEngineVersion: g.major, AllowsVpcAndNonVpcInstanceMemberships: true, OptionGroupArn: s.rdsARN(r.name, "og", g.name)}
}

func (s *Sim) newOptionGroup(r *region, name, engine, major, desc string) (*optionGroup, *apiError) {
	g := groups(r)
	if !validIdentifier(name, 255) {
		return nil, errBadIdentifier("OptionGroupName")
	}
	name = strings.ToLower(name)
	if g.options[name] != nil {
		return nil, errf("OptionGroupAlreadyExistsFault", "Option group %s already exists.", name)
	}
	engine = strings.ToLower(engine)
	ok := false
	for _, v := range engineVersions(engine) {
		ok = ok || strings.HasPrefix(v+".", major+".") || engines[engine].OptionGroup(v) == engines[engine].OptionGroup(major)
	}
	if engines[engine] == nil || !ok {
		return nil, errInvalidValue("Cannot find major version %s for %s", major, engine)
	}
	og := &optionGroup{name: name, engine: engine, major: major, description: desc}
	g.options[name] = og
	return og, nil
}

type optionGroupResult struct {
	OptionGroup *xmlOptionGroup
}

func createOptionGroup(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	name := p.required("OptionGroupName")
	engine := p.required("EngineName")
	major := p.required("MajorEngineVersion")
	desc := p.required("OptionGroupDescription")
	tags, _ := p.tags("Tags")
	if err := p.Err(); err != nil {
		return nil, err
	}
	og, e := s.newOptionGroup(r, name, engine, major, desc)
	if e != nil {
		return nil, e
	}
	og.tags = tags
	s.emit(c.now, r.name, "option-group", og.name, s.rdsARN(r.name, "og", og.name), "created", c.action)
	return optionGroupResult{OptionGroup: s.renderOptionGroup(r, og)}, nil
}

type describeOptionGroupsResult struct {
	OptionGroupsList []*xmlOptionGroup `xml:"OptionGroupsList>OptionGroup"`
	Marker           string            `xml:",omitempty"`
}

func describeOptionGroups(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	name, byName := p.str("OptionGroupName")
	engine := strings.ToLower(p.get("EngineName"))
	major := p.get("MajorEngineVersion")
	max, marker := pageArgs(p)
	p.filters()
	if err := p.Err(); err != nil {
		return nil, err
	}
	if major != "" && engine == "" {
		return nil, errCombination("If MajorEngineVersion is supplied, EngineName must also be supplied.")
	}
	g := groups(r)
	var list []*optionGroup
	for _, og := range g.options {
		if (byName && og.name != strings.ToLower(name)) || (engine != "" && og.engine != engine) || (major != "" && og.major != major) {
			continue
		}
		list = append(list, og)
	}
	if byName && len(list) == 0 {
		return nil, errOptionGroupNotFound(name)
	}
	page, next := paginate(list, func(og *optionGroup) string { return og.name }, max, marker)
	res := describeOptionGroupsResult{Marker: next}
	for _, og := range page {
		res.OptionGroupsList = append(res.OptionGroupsList, s.renderOptionGroup(r, og))
	}
	return res, nil
}

// ---- parameter groups -------------------------------------------------------------------

func (s *Sim) newParamGroup(r *region, name, family, desc string, cluster bool) (*paramGroup, *apiError) {
	g := groups(r)
	// A custom group's name "must be 1 to 255 letters, numbers, or hyphens; first character
	// must be a letter; can't end with a hyphen or contain two consecutive hyphens" (SDK doc
	// comments of CreateDBParameterGroupInput.DBParameterGroupName and
	// CopyDBParameterGroupInput.TargetDBParameterGroupIdentifier): no period. Only AWS's own
	// default groups ("default.postgres15", made in groups) carry one. A cluster group's
	// name keeps the simulator's earlier, looser check (periods allowed): UNVERIFIED.
	checked := name
	if cluster {
		checked = strings.ReplaceAll(name, ".", "-")
	}
	if !validIdentifier(checked, 255) {
		return nil, errBadIdentifier("DBParameterGroupName")
	}
	name = strings.ToLower(name)
	if g.paramGroup(name, cluster) != nil {
		return nil, errf("DBParameterGroupAlreadyExists", "Parameter group %s already exists", name)
	}
	if !cluster {
		if e := s.checkParamGroupQuota(r); e != nil {
			return nil, e
		}
	}
	engine, ok := families()[family]
	if !ok || (cluster && !engines[engine].Aurora) {
		return nil, errInvalidValue("The parameter DBParameterGroupFamily has an invalid value: %s", family)
	}
	pg := &paramGroup{name: name, family: family, description: desc, cluster: cluster}
	if cluster {
		g.clusterParams[name] = pg
	} else {
		g.params[name] = pg
	}
	return pg, nil
}

func (pg *paramGroup) kind() string {
	if pg.cluster {
		return "cluster-pg"
	}
	return "pg"
}

type xmlParamGroup struct {
	DBParameterGroupName        string `xml:",omitempty"`
	DBClusterParameterGroupName string `xml:",omitempty"`
	DBParameterGroupFamily      string
	Description                 string
	DBParameterGroupArn         string `xml:",omitempty"`
	DBClusterParameterGroupArn  string `xml:",omitempty"`
}

func (s *Sim) renderParamGroup(r *region, pg *paramGroup) *xmlParamGroup {
	x := &xmlParamGroup{DBParameterGroupFamily: pg.family, Description: pg.description}
	arn := s.rdsARN(r.name, pg.kind(), pg.name)
	if pg.cluster {
		x.DBClusterParameterGroupName, x.DBClusterParameterGroupArn = pg.name, arn
	} else {
		x.DBParameterGroupName, x.DBParameterGroupArn = pg.name, arn
	}
	return x
}

type createParamGroupResult struct {
	DBParameterGroup *xmlParamGroup `xml:",omitempty"`
}

type createClusterParamGroupResult struct {
	DBClusterParameterGroup *xmlParamGroup `xml:",omitempty"`
}

func createParamGroup(cluster bool) rdsHandler {
	nameParam := "DBParameterGroupName"
	if cluster {
		nameParam = "DBClusterParameterGroupName"
	}
	return func(c *call) (any, error) {
		s, p, r := c.sim, c.p, c.r
		name := p.required(nameParam)
		family := p.required("DBParameterGroupFamily")
		desc := p.required("Description")
		tags, _ := p.tags("Tags")
		if err := p.Err(); err != nil {
			return nil, err
		}
		pg, e := s.newParamGroup(r, name, family, desc, cluster)
		if e != nil {
			return nil, e
		}
		pg.tags = tags
		s.emit(c.now, r.name, pg.kind(), pg.name, s.rdsARN(r.name, pg.kind(), pg.name), "created", c.action)
		if cluster {
			return createClusterParamGroupResult{DBClusterParameterGroup: s.renderParamGroup(r, pg)}, nil
		}
		return createParamGroupResult{DBParameterGroup: s.renderParamGroup(r, pg)}, nil
	}
}

type describeParamGroupsResult struct {
	DBParameterGroups []*xmlParamGroup `xml:"DBParameterGroups>DBParameterGroup"`
	Marker            string           `xml:",omitempty"`
}

type describeClusterParamGroupsResult struct {
	DBClusterParameterGroups []*xmlParamGroup `xml:"DBClusterParameterGroups>DBClusterParameterGroup"`
	Marker                   string           `xml:",omitempty"`
}

func describeParamGroups(cluster bool) rdsHandler {
	nameParam := "DBParameterGroupName"
	if cluster {
		nameParam = "DBClusterParameterGroupName"
	}
	return func(c *call) (any, error) {
		s, p, r := c.sim, c.p, c.r
		name, byName := p.str(nameParam)
		max, marker := pageArgs(p)
		p.filters()
		if err := p.Err(); err != nil {
			return nil, err
		}
		g := groups(r)
		m := g.params
		if cluster {
			m = g.clusterParams
		}
		var list []*paramGroup
		if byName {
			pg := m[strings.ToLower(name)]
			if pg == nil {
				return nil, errParamGroupNotFoundKind(name, cluster)
			}
			list = []*paramGroup{pg}
		} else {
			for _, pg := range m {
				list = append(list, pg)
			}
		}
		page, next := paginate(list, func(pg *paramGroup) string { return pg.name }, max, marker)
		var xs []*xmlParamGroup
		for _, pg := range page {
			xs = append(xs, s.renderParamGroup(r, pg))
		}
		if cluster {
			return describeClusterParamGroupsResult{DBClusterParameterGroups: xs, Marker: next}, nil
		}
		return describeParamGroupsResult{DBParameterGroups: xs, Marker: next}, nil
	}
}

type xmlParameter struct {
	ParameterName  string
	ParameterValue string `xml:",omitempty"`
	Description    string
	Source         string
	ApplyType      string
	DataType       string
	AllowedValues  string
	IsModifiable   bool
	ApplyMethod    string `xml:",omitempty"`
}

type describeParametersResult struct {
	Parameters []xmlParameter `xml:"Parameters>Parameter"`
	Marker     string         `xml:",omitempty"`
}

// parameters renders the parameters of a group.
func (pg *paramGroup) parameters() []xmlParameter {
	var out []xmlParameter
	for _, d := range paramDefs(pg.family, pg.cluster) {
		x := xmlParameter{ParameterName: d.Name, ParameterValue: d.Default(pg.family), Description: d.Description,
			Source: "engine-default", ApplyType: "dynamic", DataType: d.DataType, AllowedValues: d.Allowed,
			IsModifiable: true, ApplyMethod: "pending-reboot"}
		if d.Static {
			x.ApplyType = "static"
		}
		if strings.HasPrefix(x.ParameterValue, "{") || strings.HasPrefix(x.ParameterValue, "LEAST(") {
			x.Source = "system"
		}
		if v, ok := pg.values[d.Name]; ok {
			x.ParameterValue, x.Source, x.ApplyMethod = v, "user", pg.methods[d.Name]
		}
		out = append(out, x)
	}
	return out
}

// paramValue returns the effective value of a parameter in a group ("" when unknown).
func (pg *paramGroup) paramValue(name string) string {
	for _, x := range pg.parameters() {
		if x.ParameterName == name {
			return x.ParameterValue
		}
	}
	return ""
}

func describeParameters(cluster bool) rdsHandler {
	nameParam := "DBParameterGroupName"
	if cluster {
		nameParam = "DBClusterParameterGroupName"
	}
	return func(c *call) (any, error) {
		p, r := c.p, c.r
		name := p.required(nameParam)
		source, bySource := p.str("Source")
		max, marker := pageArgs(p)
		p.filters()
		if err := p.Err(); err != nil {
			return nil, err
		}
		pg := groups(r).paramGroup(strings.ToLower(name), cluster)
		if pg == nil {
			return nil, errParamGroupNotFoundKind(name, cluster)
		}
		var list []xmlParameter
		for _, x := range pg.parameters() {
			if !bySource || x.Source == source {
				list = append(list, x)
			}
		}
		page, next := paginate(list, func(x xmlParameter) string { return x.ParameterName }, max, marker)
		return describeParametersResult{Parameters: page, Marker: next}, nil
	}
}

// setParameters validates and applies ModifyDB(Cluster)ParameterGroup parameters.
func (pg *paramGroup) setParameters(items []*params) *apiError {
	if pg.isDefault {
		return errInvalidValue("The parameter group %s is a default parameter group and cannot be modified.", pg.name)
	}
	if len(items) == 0 {
		return errMissing("Parameters")
	}
	if len(items) > 20 {
		return errInvalidValue("A maximum of 20 parameters can be modified in a single request.")
	}
	defs := map[string]paramDef{}
	for _, d := range paramDefs(pg.family, pg.cluster) {
		defs[d.Name] = d
	}
	type change struct{ name, value, method string }
	var changes []change
	for _, it := range items {
		name, value, method := it.get("ParameterName"), it.get("ParameterValue"), it.get("ApplyMethod")
		d, ok := defs[name]
		if !ok {
			return errInvalidValue("Could not find parameter with name: %s", name)
		}
		switch method {
		case "immediate":
			if d.Static {
				return errCombination("cannot use immediate apply method for static parameter")
			}
		case "pending-reboot":
		case "":
			return errInvalidValue("The parameter ApplyMethod must be provided for parameter %s.", name)
		default:
			return errInvalidValue("Invalid apply method %s for parameter %s.", method, name)
		}
		if !allowedValue(d, value) {
			return errInvalidValue("Value: %s is not allowed for parameter: %s. Allowed values are: %s", value, name, d.Allowed)
		}
		changes = append(changes, change{name, value, method})
	}
	if pg.values == nil {
		pg.values, pg.methods = map[string]string{}, map[string]string{}
	}
	for _, ch := range changes {
		pg.values[ch.name], pg.methods[ch.name] = ch.value, ch.method
	}
	return nil
}

// lastChanges splits the parameters of a ModifyDBParameterGroup call into the values to apply
// at once (ApplyMethod immediate) and whether any waits for a reboot.
func lastChanges(items []*params) (immediate map[string]string, pendingReboot bool) {
	immediate = map[string]string{}
	for _, it := range items {
		if it.get("ApplyMethod") == "immediate" {
			immediate[it.get("ParameterName")] = it.get("ParameterValue")
		} else {
			pendingReboot = true
		}
	}
	return immediate, pendingReboot
}

// allowedValue checks a value against AllowedValues: a comma list or a "min-max" range.
func allowedValue(d paramDef, v string) bool {
	if d.DataType == "integer" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return false
		}
		lo, hi, _ := strings.Cut(strings.TrimPrefix(d.Allowed, "-"), "-")
		l, _ := strconv.ParseInt(lo, 10, 64)
		if strings.HasPrefix(d.Allowed, "-") {
			l = -l
		}
		h, _ := strconv.ParseInt(hi, 10, 64)
		return n >= l && n <= h
	}
	allowed := strings.Split(d.Allowed, ",")
	vals := []string{v}
	if d.DataType == "list" {
		vals = strings.Split(v, ",")
	}
	for _, x := range vals {
		ok := false
		for _, a := range allowed {
			ok = ok || strings.EqualFold(strings.TrimSpace(x), a)
		}
		if !ok {
			return false
		}
	}
	return true
}

type modifyParamGroupResult struct {
	DBParameterGroupName string
}

type modifyClusterParamGroupResult struct {
	DBClusterParameterGroupName string
}

func modifyParamGroup(cluster bool) rdsHandler {
	nameParam := "DBParameterGroupName"
	if cluster {
		nameParam = "DBClusterParameterGroupName"
	}
	return func(c *call) (any, error) {
		s, p, r := c.sim, c.p, c.r
		name := p.required(nameParam)
		items, _ := p.structs("Parameters", "Parameter")
		if err := p.Err(); err != nil {
			return nil, err
		}
		pg := groups(r).paramGroup(strings.ToLower(name), cluster)
		if pg == nil {
			return nil, errParamGroupNotFoundKind(name, cluster)
		}
		if e := pg.setParameters(items); e != nil {
			return nil, e
		}
		if !cluster {
			immediate, pendingReboot := lastChanges(items)
			s.dataApplyGroup(r, pg, immediate, pendingReboot)
		}
		s.emit(c.now, r.name, pg.kind(), pg.name, s.rdsARN(r.name, pg.kind(), pg.name), "modified", c.action)
		if cluster {
			return modifyClusterParamGroupResult{DBClusterParameterGroupName: pg.name}, nil
		}
		return modifyParamGroupResult{DBParameterGroupName: pg.name}, nil
	}
}
