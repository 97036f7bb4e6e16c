package rdssim

import (
	"strconv"
	"strings"
	"time"
)

func init() {
	registerRDS("CreateDBCluster", createDBCluster)
	registerRDS("DescribeDBClusters", describeDBClusters)
	registerRDS("ModifyDBCluster", modifyDBCluster)
	registerRDS("DeleteDBCluster", deleteDBCluster)
}

type dbClusterResult struct {
	DBCluster *xmlDBCluster
}

// auroraEngine checks that engine names an Aurora engine the simulator models.
func auroraEngine(engine string) *apiError {
	if eng := engines[engine]; eng == nil || !eng.Aurora {
		return errInvalidValue("Invalid DB engine: %s. Supported engines for DB clusters: aurora-mysql, aurora-postgresql.", engine)
	}
	return nil
}

// parseClusterSettings reads the members shared by CreateDBCluster, RestoreDBClusterFromSnapshot
// and ModifyDBCluster (same wire names). Each action reads only what its API accepts: restore
// has no PreferredMaintenanceWindow, no StorageEncrypted and no DatabaseInsightsMode; modify
// has no DatabaseName (SDK v1.133.0 input types).
func (s *Sim) parseClusterSettings(p *params, r *region, c *clusterConfig, action string) {
	was := c.DatabaseInsightsMode
	s.parseInsights(p, r, &c.insights, action != "RestoreDBClusterFromSnapshot")
	// "If you change the value from standard to advanced, you must set the
	// PerformanceInsightsEnabled parameter to true and the PerformanceInsightsRetentionPeriod
	// parameter to 465" (ModifyDBClusterInput.DatabaseInsightsMode; CreateDBClusterInput's
	// says the same). Read strictly: in the same request.
	if c.DatabaseInsightsMode == "advanced" && was != "advanced" {
		if on, days := p.boolp("EnablePerformanceInsights"), p.intp("PerformanceInsightsRetentionPeriod"); on == nil || !*on || days == nil || *days != 465 {
			p.fail(errCombination("To turn on Database Insights advanced mode for a DB cluster, set EnablePerformanceInsights to true and PerformanceInsightsRetentionPeriod to 465."))
		}
	}
	// "The Active Directory directory ID to move the DB cluster to. Specify none to remove
	// the cluster from its current domain." (ModifyDBClusterInput.Domain); create and restore
	// take Domain and DomainIAMRoleName too ("Valid for: Aurora DB clusters only").
	if v, ok := p.str("Domain"); ok {
		c.Domain = v
		if strings.EqualFold(v, "none") {
			c.Domain, c.DomainIAMRoleName = "", ""
		}
	}
	if v, ok := p.str("DomainIAMRoleName"); ok && c.Domain != "" {
		c.DomainIAMRoleName = v
	}
	if v := p.intp("Port"); v != nil {
		c.Port = *v
	}
	if l, ok := p.list("VpcSecurityGroupIds", "VpcSecurityGroupId"); ok {
		c.VpcSecurityGroups = l
	}
	if v, ok := p.str("DBClusterParameterGroupName"); ok {
		c.ParameterGroup = strings.ToLower(v)
	}
	if b := p.boolp("CopyTagsToSnapshot"); b != nil {
		c.CopyTagsToSnapshot = *b
	}
	if b := p.boolp("DeletionProtection"); b != nil {
		c.DeletionProtection = *b
	}
	if b := p.boolp("EnableIAMDatabaseAuthentication"); b != nil {
		c.IAMAuth = *b
	}
	if s, ok := p.str("BacktrackWindow"); ok {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			p.fail(errInvalidValue("Invalid value %q for parameter BacktrackWindow: must be an integer", s))
		}
		c.BacktrackWindow = n
	}
	if v := p.intp("BackupRetentionPeriod"); v != nil {
		c.BackupRetention = *v
	}
	if v, ok := p.str("PreferredBackupWindow"); ok {
		c.BackupWindow = v
	}
	if v, ok := p.str("StorageType"); ok {
		c.StorageType = v
	}
	if v, ok := p.str("NetworkType"); ok {
		c.NetworkType = v
	}
	if v, ok := p.str("EngineLifecycleSupport"); ok {
		c.EngineLifecycleSupport = v
	}
	if p.has("ServerlessV2ScalingConfiguration") {
		sub := p.sub("ServerlessV2ScalingConfiguration")
		v := serverlessV2{Min: 0.5, Max: 16}
		if c.ServerlessV2 != nil {
			v = *c.ServerlessV2
		}
		for name, dst := range map[string]*float64{"MinCapacity": &v.Min, "MaxCapacity": &v.Max} {
			if s, ok := sub.str(name); ok {
				f, err := strconv.ParseFloat(s, 64)
				if err != nil {
					p.fail(errInvalidValue("Invalid value %q for ServerlessV2ScalingConfiguration.%s", s, name))
				}
				*dst = f
			}
		}
		c.ServerlessV2 = &v
	}
	if action != "ModifyDBCluster" {
		if v, ok := p.str("DBSubnetGroupName"); ok {
			c.SubnetGroup = strings.ToLower(v)
		}
		if v, ok := p.str("DatabaseName"); ok {
			c.DatabaseName = v
		}
		if l, ok := p.list("EnableCloudwatchLogsExports", "member"); ok {
			c.LogExports = l
		}
		if l, ok := p.list("AvailabilityZones", "AvailabilityZone"); ok {
			c.AvailabilityZones = l
		}
	}
	if action != "RestoreDBClusterFromSnapshot" {
		if v, ok := p.str("PreferredMaintenanceWindow"); ok {
			c.MaintenanceWindow = v
		}
		if b := p.boolp("AutoMinorVersionUpgrade"); b != nil {
			c.AutoMinorVersionUpgrade = *b
		}
		if b := p.boolp("EnableHttpEndpoint"); b != nil {
			c.HTTPEndpoint = *b
		}
	}
}

// finishClusterConfig validates a cluster configuration and fills the defaults that depend on
// other settings.
func (s *Sim) finishClusterConfig(r *region, c *clusterConfig) *apiError {
	eng := engines[c.Engine]
	if c.EngineLifecycleSupport == "" {
		// "Default: open-source-rds-extended-support" (SDK v1.133.0 doc comments of
		// CreateDBClusterInput and RestoreDBClusterFromSnapshotInput.EngineLifecycleSupport):
		// a restore does not keep the snapshot's value.
		c.EngineLifecycleSupport = "open-source-rds-extended-support"
	}
	if !s.versionOffered(c.Engine, c.EngineVersion) { // engine_versions.go
		return errVersionNotFound(c.Engine, c.EngineVersion)
	}
	if c.Port != 0 && (c.Port < 1150 || c.Port > 65535) {
		return errInvalidValue("Invalid port %d: must be between 1150 and 65535.", c.Port)
	}
	if c.Port == 0 {
		c.Port = eng.Port
	}
	if c.BackupRetention < 1 || c.BackupRetention > 35 {
		return errInvalidValue("Invalid backup retention period %d: must be between 1 and 35.", c.BackupRetention)
	}
	if c.BackupWindow != "" && !backupWindowRE.MatchString(c.BackupWindow) {
		return errInvalidValue("The backup window must be in the format hh24:mi-hh24:mi.")
	}
	if c.MaintenanceWindow != "" && !maintenanceWindowRE.MatchString(strings.ToLower(c.MaintenanceWindow)) {
		return errInvalidValue("The maintenance window must be in the format ddd:hh24:mi-ddd:hh24:mi.")
	}
	c.MaintenanceWindow = strings.ToLower(c.MaintenanceWindow)
	if c.BacktrackWindow != 0 {
		if c.Engine != "aurora-mysql" {
			return errInvalidValue("Backtrack is not supported for engine %s.", c.Engine)
		}
		if c.BacktrackWindow < 0 || c.BacktrackWindow > 259200 {
			return errInvalidValue("The backtrack window must be between 0 and 259200 seconds (72 hours).")
		}
	}
	switch c.StorageType {
	case "":
		c.StorageType = "aurora"
	case "aurora", "aurora-iopt1":
	default:
		return errInvalidValue("Invalid storage type for Aurora DB clusters: %s. Valid values: aurora, aurora-iopt1.", c.StorageType)
	}
	if v := c.ServerlessV2; v != nil {
		if v.Min < 0 || v.Max < 1 || v.Max > 256 || v.Min > v.Max || v.Min*2 != float64(int(v.Min*2)) || v.Max*2 != float64(int(v.Max*2)) {
			return errInvalidValue("Serverless v2 capacity must be in steps of 0.5 ACU with 0 <= MinCapacity <= MaxCapacity, 1 <= MaxCapacity <= 256.")
		}
	}
	if e := s.finishInsights(r, &c.insights); e != nil {
		return e
	}
	switch c.NetworkType {
	case "":
		c.NetworkType = "IPV4"
	case "IPV4", "DUAL":
	default:
		return errInvalidValue("Invalid network type %s: must be IPV4 or DUAL.", c.NetworkType)
	}
	for _, lt := range c.LogExports {
		ok := false
		for _, v := range eng.LogTypes {
			ok = ok || v == lt
		}
		if !ok {
			return errCombination("You cannot use the log types '%s' with engine version %s %s. For supported log types, see the documentation.", lt, c.Engine, c.EngineVersion)
		}
	}
	if c.ParameterGroup == "" {
		c.ParameterGroup = "default." + eng.Family(c.EngineVersion)
	}
	if e := s.checkClusterParameterGroup(r, c.ParameterGroup, c.Engine, c.EngineVersion); e != nil {
		return e
	}
	if c.SubnetGroup == "" {
		c.SubnetGroup = "default"
	}
	if e := s.checkGroup(r, "db-subnet-group", c.SubnetGroup, c.Engine, c.EngineVersion); e != nil {
		return e
	}
	if len(c.VpcSecurityGroups) == 0 {
		c.VpcSecurityGroups = []string{r.defaultSG}
	}
	if len(c.AvailabilityZones) == 0 {
		c.AvailabilityZones = subnetGroupZones(s, r, c.SubnetGroup)
	}
	if c.EngineMode == "" {
		c.EngineMode = "provisioned"
	}
	if c.VolumeGiB <= 0 {
		c.VolumeGiB = defaultClusterGiB
	}
	return nil
}

func createDBCluster(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	rawID := p.required("DBClusterIdentifier")
	engine := strings.ToLower(p.required("Engine"))
	if err := p.Err(); err != nil {
		return nil, err
	}
	id, e := clusterID("DBClusterIdentifier", rawID)
	if e != nil {
		return nil, e
	}
	if e := auroraEngine(engine); e != nil {
		return nil, e
	}
	eng := engines[engine]
	cfg := clusterConfig{Engine: engine, EngineVersion: eng.DefaultVersion, BackupRetention: 1, AutoMinorVersionUpgrade: true}
	if v, ok := p.str("EngineVersion"); ok {
		cfg.EngineVersion = v
	}
	if _, ok := p.str("DBClusterInstanceClass"); ok {
		return nil, errCombination("DBClusterInstanceClass is only valid for Multi-AZ DB clusters, which are not created for engine %s.", engine)
	}
	if v, ok := p.str("EngineMode"); ok && v != "provisioned" {
		return nil, errInvalidValue("The engine mode %s isn't supported for %s %s. Use provisioned with ServerlessV2ScalingConfiguration for Aurora Serverless v2.", v, engine, cfg.EngineVersion)
	}
	s.parseClusterSettings(p, r, &cfg, c.action)
	cfg.MasterUsername = p.get("MasterUsername")
	encrypted := p.boolp("StorageEncrypted")
	kmsRef, hasKMS := p.str("KmsKeyId")
	password, hasPassword := p.str("MasterUserPassword")
	manage := p.boolean("ManageMasterUserPassword", false)
	secretKey, hasSecretKey := p.str("MasterUserSecretKmsKeyId")
	global := p.get("GlobalClusterIdentifier")
	source := p.get("ReplicationSourceIdentifier")
	tags, _ := p.tags("Tags")
	if err := p.Err(); err != nil {
		return nil, err
	}
	st := aurora(r)
	if st.clusters[id] != nil {
		return nil, errf("DBClusterAlreadyExistsFault", "DB Cluster already exists")
	}
	var src *cluster
	if source != "" {
		if src, e = s.clusterByRef(r, source); e != nil {
			return nil, e
		}
		if src.r == r {
			return nil, errInvalidValue("The source DB cluster %s must be in a different region than the read replica.", source)
		}
		if engineBase(src.cfg.Engine) != engineBase(engine) {
			return nil, errCombination("The engine of the read replica (%s) must match the engine of its source (%s).", engine, src.cfg.Engine)
		}
		cfg.ReplicationSourceIdentifier = src.arn(s)
		cfg.MasterUsername = src.cfg.MasterUsername
	}
	if global != "" {
		if !validIdentifier(global, 255) {
			return nil, errBadIdentifier("GlobalClusterIdentifier")
		}
		cfg.GlobalClusterIdentifier = strings.ToLower(global)
	}
	secondary := src != nil || global != ""
	if !secondary {
		if cfg.MasterUsername == "" {
			return nil, errInvalidValue("The parameter MasterUsername must be provided and must not be blank.")
		}
		switch {
		case manage && hasPassword:
			return nil, errCombination("You can't specify MasterUserPassword and ManageMasterUserPassword at the same time.")
		case !manage && !hasPassword:
			return nil, errInvalidValue("The parameter MasterUserPassword must be provided and must not be blank.")
		case hasPassword && (len(password) < 8 || len(password) > 128):
			return nil, errInvalidValue("The parameter MasterUserPassword is not a valid password because it is shorter than 8 characters.")
		}
	}
	if hasSecretKey && !manage {
		return nil, errCombination("You can't specify MasterUserSecretKmsKeyId without ManageMasterUserPassword.")
	}
	if hasKMS && (encrypted == nil || !*encrypted) && src == nil {
		return nil, errCombination("You must set StorageEncrypted to true when you specify a KmsKeyId.")
	}
	switch {
	case src != nil && src.cfg.StorageEncrypted && !hasKMS:
		return nil, errCombination("Cannot create a cross region unencrypted read replica from encrypted source.")
	case src != nil && !src.cfg.StorageEncrypted && hasKMS:
		return nil, errCombination("Cannot create an encrypted read replica of an unencrypted DB cluster.")
	case hasKMS || (encrypted != nil && *encrypted):
		k := s.managedKey(r, "alias/aws/rds")
		if hasKMS {
			if k, e = s.usableKey(r, kmsRef); e != nil {
				return nil, e
			}
		}
		cfg.StorageEncrypted, cfg.KmsKeyArn = true, k.arn
	}
	if manage {
		k := s.managedKey(r, "alias/aws/secretsmanager")
		if hasSecretKey {
			if k, e = s.usableKey(r, secretKey); e != nil {
				return nil, e
			}
		}
		cfg.ManageMasterUserPassword, cfg.MasterUserSecretKmsKeyArn = true, k.arn
	}
	if cfg.BackupWindow == "" {
		cfg.BackupWindow = defaultBackupWindow(id)
	}
	if cfg.MaintenanceWindow == "" {
		cfg.MaintenanceWindow = defaultMaintenanceWindow(id)
	}
	if e := s.finishClusterConfig(r, &cfg); e != nil {
		return nil, e
	}
	roles, e := clusterRoles(p)
	if e != nil {
		return nil, e
	}
	cl := s.addCluster(r, id, cfg, tags, c.now, c.action)
	cl.att.roles = roles
	if src != nil {
		src.replicas = append(src.replicas, cl)
	}
	s.provisionCluster(cl, c.now, auroraDur.Create, c.action)
	return dbClusterResult{DBCluster: s.renderCluster(cl, c.now)}, nil
}

// addCluster stores a new cluster in status creating.
func (s *Sim) addCluster(r *region, id string, cfg clusterConfig, tags []Tag, now time.Time, action string) *cluster {
	cl := &cluster{r: r, id: id, rid: s.ids.resourceID("cluster-"), created: now, cfg: cfg, tags: tags, action: action}
	if cfg.ManageMasterUserPassword {
		s.newClusterSecret(cl, now)
	}
	aurora(r).clusters[id] = cl
	s.setClusterStatus(cl, clusterCreating, now, action)
	return cl
}

type describeDBClustersResult struct {
	DBClusters []*xmlDBCluster `xml:"DBClusters>DBCluster"`
	Marker     string          `xml:",omitempty"`
}

func describeDBClusters(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	ref, byID := p.str("DBClusterIdentifier")
	filters := p.filters("clone-group-id", "db-cluster-id", "db-cluster-resource-id", "domain", "engine")
	max, marker := pageArgs(p)
	if err := p.Err(); err != nil {
		return nil, err
	}
	var list []*cluster
	if byID {
		cl, e := s.clusterByRef(r, ref)
		if e != nil {
			return nil, e
		}
		list = []*cluster{cl}
	} else {
		list = sortedClusters(r)
	}
	var out []*cluster
	for _, cl := range list {
		if clusterMatches(s, cl, filters) {
			out = append(out, cl)
		}
	}
	page, next := paginate(out, func(cl *cluster) string { return cl.id }, max, marker)
	res := describeDBClustersResult{Marker: next}
	for _, cl := range page {
		res.DBClusters = append(res.DBClusters, s.renderCluster(cl, c.now))
	}
	return res, nil
}

func clusterMatches(s *Sim, cl *cluster, filters []filter) bool {
	return matchFilters(filters, func(name string) []string {
		switch name {
		case "db-cluster-id":
			return []string{cl.id, cl.arn(s)}
		case "db-cluster-resource-id":
			return []string{cl.rid}
		case "engine":
			return []string{cl.cfg.Engine}
		}
		return nil // clone-group-id, domain: no clones and no directory domains are simulated
	})
}

func modifyDBCluster(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	ref := p.required("DBClusterIdentifier")
	if err := p.Err(); err != nil {
		return nil, err
	}
	cl, e := s.clusterByRef(r, ref)
	if e != nil {
		return nil, e
	}
	if e := requireClusterAvailable(cl); e != nil {
		return nil, e
	}
	// Only the rename and an engine version change wait for the maintenance window without
	// ApplyImmediately; Aurora applies every other change at once (ModifyDBCluster API doc).
	immediate := p.boolean("ApplyImmediately", false)
	newCfg := cl.cfg.clone()
	s.parseClusterSettings(p, r, &newCfg, c.action)
	if l, ok := p.list("CloudwatchLogsExportConfiguration.EnableLogTypes", "member"); ok {
		newCfg.LogExports = appendMissing(newCfg.LogExports, l)
	}
	if l, ok := p.list("CloudwatchLogsExportConfiguration.DisableLogTypes", "member"); ok {
		newCfg.LogExports = removeAll(newCfg.LogExports, l)
	}
	rawNew, rename := p.str("NewDBClusterIdentifier")
	version, upgrade := p.str("EngineVersion")
	manage := p.boolp("ManageMasterUserPassword")
	secretKey := p.get("MasterUserSecretKmsKeyId")
	rotate := p.boolean("RotateMasterUserPassword", false)
	_, hasPassword := p.str("MasterUserPassword")
	if err := p.Err(); err != nil {
		return nil, err
	}
	if e := s.finishClusterConfig(r, &newCfg); e != nil {
		return nil, e
	}
	// The master password rules of the ModifyDBCluster API reference (ManageMasterUserPassword,
	// MasterUserPassword, RotateMasterUserPassword).
	if manage != nil && *manage != cl.cfg.ManageMasterUserPassword {
		newCfg.ManageMasterUserPassword, newCfg.MasterUserSecretKmsKeyArn = *manage, ""
		if *manage {
			k := s.managedKey(r, secretsManagerKeyAlias)
			if secretKey != "" {
				var e *apiError
				if k, e = s.usableKey(r, secretKey); e != nil {
					return nil, e
				}
			}
			newCfg.MasterUserSecretKmsKeyArn = k.arn
		} else if !hasPassword {
			return nil, errCombination("You must specify MasterUserPassword when you turn off ManageMasterUserPassword.")
		}
	}
	switch {
	case hasPassword && newCfg.ManageMasterUserPassword:
		return nil, errCombination("You can't specify MasterUserPassword when ManageMasterUserPassword is enabled.")
	case rotate && !cl.cfg.ManageMasterUserPassword:
		return nil, errCombination("You can't rotate the master user password because it isn't managed by Secrets Manager.")
	case rotate && !immediate:
		return nil, errCombination("RotateMasterUserPassword requires ApplyImmediately.")
	}
	newID := ""
	if rename {
		id, e := clusterID("NewDBClusterIdentifier", rawNew)
		if e != nil {
			return nil, e
		}
		if id != cl.id {
			if aurora(r).clusters[id] != nil {
				return nil, errf("DBClusterAlreadyExistsFault", "DB Cluster already exists")
			}
			newID = id
		}
	}
	if upgrade && version != cl.cfg.EngineVersion {
		if immediate {
			newCfg.EngineVersion = version
		} else {
			newCfg.EngineVersion = cl.cfg.EngineVersion
			cl.pending.EngineVersion = strp(version)
		}
	}
	changed := !sameClusterConfig(cl.cfg, newCfg) || rotate
	groupsChanged := strings.Join(cl.cfg.VpcSecurityGroups, ",") != strings.Join(newCfg.VpcSecurityGroups, ",")
	cl.cfg = newCfg
	if groupsChanged {
		// An Aurora instance's VPC security groups are the cluster's (ModifyDBInstance
		// VpcSecurityGroupIds API doc: "managed by the DB cluster"): the members follow.
		for _, m := range cl.members() {
			m.cfg.VpcSecurityGroups = append([]string(nil), newCfg.VpcSecurityGroups...)
			s.refreshSessions(m, c.now)
		}
	}
	switch {
	case newCfg.ManageMasterUserPassword && cl.secretARN == "":
		s.newClusterSecret(cl, c.now)
	case !newCfg.ManageMasterUserPassword && cl.secretARN != "":
		s.deleteSecret(r, cl.secretARN, c.now) // the ModifyDBCluster API reference: RDS deletes the secret
		cl.secretARN = ""
	case rotate:
		s.rotateSecret(secretsOf(r).byARN[cl.secretARN], c.now)
	}
	switch {
	case newID != "" && immediate:
		s.renameCluster(cl, newID, c.now, c.action)
	case newID != "":
		cl.pending.DBClusterIdentifier = strp(newID)
	case changed:
		s.setClusterStatus(cl, clusterModifying, c.now, c.action)
		s.timeline(cl, c.now, step{auroraDur.Modify, func(at time.Time) { s.setClusterStatus(cl, clusterAvailable, at, c.action) }})
	}
	return dbClusterResult{DBCluster: s.renderCluster(cl, c.now)}, nil
}

// renameCluster moves a cluster to a new identifier at once: the writer and reader endpoints
// follow the name, custom endpoints (which do not contain it) keep their addresses (docs/aws-behaviour.md#renaming-a-cluster).
func (s *Sim) renameCluster(cl *cluster, newID string, now time.Time, action string) {
	st := aurora(cl.r)
	for _, m := range cl.members() {
		m.clusterID = newID
	}
	delete(st.clusters, cl.id)
	cl.id = newID
	st.clusters[newID] = cl
	cl.pending.DBClusterIdentifier = nil
	s.setClusterStatus(cl, clusterRenaming, now, action)
	s.timeline(cl, now, step{auroraDur.Rename, func(at time.Time) { s.setClusterStatus(cl, clusterAvailable, at, action) }})
}

func sameClusterConfig(a, b clusterConfig) bool {
	eq := func(x, y []string) bool { return strings.Join(x, "\x00") == strings.Join(y, "\x00") }
	sv := func(v *serverlessV2) serverlessV2 {
		if v == nil {
			return serverlessV2{-1, -1}
		}
		return *v
	}
	return eq(a.VpcSecurityGroups, b.VpcSecurityGroups) && eq(a.LogExports, b.LogExports) &&
		eq(a.AvailabilityZones, b.AvailabilityZones) && sv(a.ServerlessV2) == sv(b.ServerlessV2) &&
		func() bool {
			a.VpcSecurityGroups, a.LogExports, a.AvailabilityZones, a.ServerlessV2 = nil, nil, nil, nil
			b.VpcSecurityGroups, b.LogExports, b.AvailabilityZones, b.ServerlessV2 = nil, nil, nil, nil
			return a.Engine == b.Engine && a.EngineVersion == b.EngineVersion && a.Port == b.Port &&
				a.ParameterGroup == b.ParameterGroup && a.BackupRetention == b.BackupRetention &&
				a.BackupWindow == b.BackupWindow && a.MaintenanceWindow == b.MaintenanceWindow &&
				a.CopyTagsToSnapshot == b.CopyTagsToSnapshot && a.DeletionProtection == b.DeletionProtection &&
				a.IAMAuth == b.IAMAuth && a.BacktrackWindow == b.BacktrackWindow && a.StorageType == b.StorageType &&
				a.NetworkType == b.NetworkType && a.AutoMinorVersionUpgrade == b.AutoMinorVersionUpgrade &&
				a.HTTPEndpoint == b.HTTPEndpoint && a.EngineLifecycleSupport == b.EngineLifecycleSupport &&
				a.insights == b.insights && a.Domain == b.Domain && a.DomainIAMRoleName == b.DomainIAMRoleName
		}()
}

func appendMissing(list, add []string) []string {
	out := append([]string(nil), list...)
	for _, v := range add {
		found := false
		for _, x := range out {
			found = found || x == v
		}
		if !found {
			out = append(out, v)
		}
	}
	return out
}

func removeAll(list, drop []string) []string {
	var out []string
	for _, v := range list {
		keep := true
		for _, d := range drop {
			keep = keep && d != v
		}
		if keep {
			out = append(out, v)
		}
	}
	return out
}

func deleteDBCluster(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	ref := p.required("DBClusterIdentifier")
	skip := p.boolean("SkipFinalSnapshot", false)
	final, hasFinal := p.str("FinalDBSnapshotIdentifier")
	deleteAutomated := p.boolean("DeleteAutomatedBackups", true)
	if err := p.Err(); err != nil {
		return nil, err
	}
	cl, e := s.clusterByRef(r, ref)
	if e != nil {
		return nil, e
	}
	if cl.status == clusterDeleting {
		return nil, errClusterState("Cluster %s is already being deleted.", cl.id)
	}
	if cl.cfg.DeletionProtection {
		return nil, errCombination("Cannot delete protected Cluster, please disable deletion protection and try again.")
	}
	for _, m := range cl.members() {
		if m.status != statusDeleting {
			return nil, errClusterState("Cluster cannot be deleted, it still contains DB instances in non-deleting state.")
		}
	}
	switch {
	case skip && hasFinal:
		return nil, errCombination("FinalDBSnapshotIdentifier can not be specified when deleting a cluster with SkipFinalSnapshot enabled.")
	case !skip && !hasFinal:
		return nil, errCombination("FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.")
	}
	// A cluster a restore left incompatible-restore can be deleted: that is its only remedy.
	if cl.status != clusterAvailable && cl.status != statusInaccessibleCreds && cl.status != clusterBackingUp &&
		cl.status != statusIncompatibleRest {
		return nil, errClusterState("DBCluster %s is not in the available state.", cl.id)
	}
	dur := auroraDur.Delete
	if hasFinal {
		id, e := clusterID("FinalDBSnapshotIdentifier", final)
		if e != nil {
			return nil, e
		}
		if aurora(r).snapshots[id] != nil {
			return nil, errClusterSnapshotExists(id)
		}
		if e := s.checkClusterSnapshotQuota(r); e != nil {
			return nil, e
		}
		sn := s.startClusterSnapshot(cl, id, "manual", nil, c.now, c.action)
		dur += sn.progressEnd.Sub(c.now)
	}
	s.setClusterStatus(cl, clusterDeleting, c.now, c.action)
	s.timeline(cl, c.now, step{dur, func(at time.Time) {
		s.emit(at, cl.r.name, "cluster", cl.id, cl.rid, "deleted", c.action)
		s.removeCluster(cl, !deleteAutomated)
	}})
	return dbClusterResult{DBCluster: s.renderCluster(cl, c.now)}, nil
}
