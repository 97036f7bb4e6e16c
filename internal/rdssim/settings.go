package rdssim

import (
	"regexp"
	"strings"
)

// Parsers for the instance settings shared by CreateDBInstance, CreateDBInstanceReadReplica and
// RestoreDBInstanceFromDBSnapshot (same parameter names in all three). Each action calls only
// the groups its API accepts.

// parseClassAndFlags reads the settings every instance-creating action accepts.
func parseCommonSettings(p *params, c *instanceConfig) {
	if v, ok := p.str("DBInstanceClass"); ok {
		c.Class = v
	}
	if b := p.boolp("AutoMinorVersionUpgrade"); b != nil {
		c.AutoMinorVersionUpgrade = *b
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
	if l, ok := p.list("EnableCloudwatchLogsExports", "member"); ok {
		c.LogExports = l
	}
	if v, ok := p.str("CACertificateIdentifier"); ok {
		c.CACertificate = v
	}
	if v, ok := p.str("DBParameterGroupName"); ok {
		c.ParameterGroup = strings.ToLower(v)
	}
	if v, ok := p.str("OptionGroupName"); ok {
		c.OptionGroup = strings.ToLower(v)
	}
	if items, ok := p.structs("ProcessorFeatures", "ProcessorFeature"); ok {
		c.ProcessorFeatures = nil
		for _, it := range items {
			c.ProcessorFeatures = append(c.ProcessorFeatures, ProcessorFeature{Name: it.get("Name"), Value: it.get("Value")})
		}
	}
	if p.boolean("UseDefaultProcessorFeatures", false) {
		c.ProcessorFeatures = nil
	}
	if b := p.boolp("DedicatedLogVolume"); b != nil {
		c.DedicatedLogVolume = *b
	}
	if b := p.boolp("EnableCustomerOwnedIp"); b != nil {
		c.CustomerOwnedIP = *b
	}
	if v, ok := p.str("BackupTarget"); ok {
		c.BackupTarget = v
	}
	if v, ok := p.str("EngineLifecycleSupport"); ok {
		c.EngineLifecycleSupport = v
	}
	if v, ok := p.str("Domain"); ok && v != "" {
		c.DomainMemberships = []string{v}
	}
}

// parseStorageSettings reads AllocatedStorage, StorageType, Iops and StorageThroughput.
func parseStorageSettings(p *params, c *instanceConfig) {
	if v := p.intp("AllocatedStorage"); v != nil {
		c.AllocatedStorage = *v
	}
	if v, ok := p.str("StorageType"); ok {
		c.StorageType = v
		if v != "io1" && v != "io2" && v != "gp3" {
			c.Iops = 0
		}
		if v != "gp3" {
			c.StorageThroughput = 0 // only gp3 has a throughput setting
		}
	}
	if v := p.intp("Iops"); v != nil {
		c.Iops = *v
	}
	if v := p.intp("StorageThroughput"); v != nil {
		c.StorageThroughput = *v
	}
}

// parseNetworkSettings reads placement and connectivity settings.
func parseNetworkSettings(p *params, c *instanceConfig) {
	if b := p.boolp("MultiAZ"); b != nil {
		c.MultiAZ = *b
	}
	if v, ok := p.str("AvailabilityZone"); ok {
		c.AZ = v
	}
	if v, ok := p.str("DBSubnetGroupName"); ok {
		c.SubnetGroup = strings.ToLower(v)
	}
	if l, ok := p.list("VpcSecurityGroupIds", "VpcSecurityGroupId"); ok {
		c.VpcSecurityGroups = l
	}
	if v := p.intp("Port"); v != nil {
		c.Port = *v
	}
	if b := p.boolp("PubliclyAccessible"); b != nil {
		c.PubliclyAccessible = *b
	}
	if v, ok := p.str("NetworkType"); ok {
		c.NetworkType = v
	}
	if c.MultiAZ && p.get("AvailabilityZone") != "" {
		p.fail(errCombination("Requesting a specific availability zone is not valid for Multi-AZ instances."))
	}
}

// parseMonitoringSettings reads Enhanced Monitoring, Performance Insights and Database
// Insights settings (not accepted by restore).
func (s *Sim) parseMonitoringSettings(p *params, r *region, c *instanceConfig) {
	if v := p.intp("MonitoringInterval"); v != nil {
		c.MonitoringInterval = *v
	}
	if v, ok := p.str("MonitoringRoleArn"); ok {
		c.MonitoringRoleArn = v
	}
	s.parseInsights(p, r, &c.insights, true)
}

// parseBackupSettings reads BackupRetentionPeriod and PreferredBackupWindow.
func parseBackupSettings(p *params, c *instanceConfig) {
	if v := p.intp("BackupRetentionPeriod"); v != nil {
		c.BackupRetention = *v
	}
	if v, ok := p.str("PreferredBackupWindow"); ok {
		c.BackupWindow = v
	}
}

var (
	backupWindowRE      = regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$`)
	maintenanceWindowRE = regexp.MustCompile(`^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d$`)
)

var validMonitoringIntervals = map[int32]bool{0: true, 1: true, 5: true, 10: true, 15: true, 30: true, 60: true}

// finishConfig fills defaults that depend on other settings and validates the result.
func (s *Sim) finishConfig(r *region, c *instanceConfig) *apiError {
	eng := engines[c.Engine]
	if !strings.HasPrefix(c.Class, "db.") || len(c.Class) < 6 {
		return errCombination("RDS does not support creating a DB instance with the following combination: DBInstanceClass=%s, Engine=%s, EngineVersion=%s, LicenseModel=%s.", c.Class, c.Engine, c.EngineVersion, c.License)
	}
	if c.StorageEncrypted && !classSupportsEncryption(c.Class) { // orderable.go
		return errClassNoEncryption(c.Class)
	}
	switch c.StorageType {
	case "gp2", "gp3", "io1", "io2", "standard":
	case "aurora", "aurora-iopt1":
		if eng == nil || !eng.Aurora {
			return errInvalidValue("Invalid storage type: %s", c.StorageType)
		}
	default:
		return errInvalidValue("Invalid storage type: %s", c.StorageType)
	}
	if eng != nil && !eng.Aurora {
		if c.AllocatedStorage < 20 || c.AllocatedStorage > 65536 {
			return errInvalidValue("Invalid storage size for engine name %s and storage type %s: %d", c.Engine, c.StorageType, c.AllocatedStorage)
		}
		if (c.StorageType == "io1" || c.StorageType == "io2") && c.Iops == 0 {
			return errCombination("Iops must be specified for storage type %s.", c.StorageType)
		}
		if (c.StorageType == "gp2" || c.StorageType == "standard") && c.Iops > 0 {
			return errCombination("You can't specify IOPS for storage type %s.", c.StorageType)
		}
		if c.StorageThroughput > 0 && c.StorageType != "gp3" {
			return errCombination("You can't specify storage throughput for storage type %s.", c.StorageType)
		}
		if c.MaxAllocatedStorage != 0 && c.MaxAllocatedStorage <= c.AllocatedStorage {
			return errCombination("Max storage size must be greater than storage size.")
		}
		fillGP3Baseline(c) // storage_rules.go
		if c.EngineLifecycleSupport == "" {
			c.EngineLifecycleSupport = defaultLifecycleSupport
		}
	}
	if c.AZ != "" {
		ok := false
		for _, z := range r.zones() {
			ok = ok || z == c.AZ
		}
		if !ok {
			return errInvalidValue("Cannot find the specified availability zone %s.", c.AZ)
		}
	}
	if c.Port != 0 && (c.Port < 1150 || c.Port > 65535) {
		return errInvalidValue("Invalid port %d: must be between 1150 and 65535.", c.Port)
	}
	if c.BackupRetention < 0 || c.BackupRetention > 35 {
		return errInvalidValue("Invalid backup retention period %d: must be between 0 and 35.", c.BackupRetention)
	}
	if c.BackupWindow != "" && !backupWindowRE.MatchString(c.BackupWindow) {
		return errInvalidValue("The backup window must be in the format hh24:mi-hh24:mi.")
	}
	if c.MaintenanceWindow != "" && !maintenanceWindowRE.MatchString(strings.ToLower(c.MaintenanceWindow)) {
		return errInvalidValue("The maintenance window must be in the format ddd:hh24:mi-ddd:hh24:mi.")
	}
	c.MaintenanceWindow = strings.ToLower(c.MaintenanceWindow)
	if !validMonitoringIntervals[c.MonitoringInterval] {
		return errInvalidValue("Invalid Monitoring Interval %d: must be one of 0, 1, 5, 10, 15, 30, 60.", c.MonitoringInterval)
	}
	if c.MonitoringInterval > 0 && c.MonitoringRoleArn == "" {
		return errCombination("A MonitoringRoleARN value is required if you specify a MonitoringInterval value other than 0.")
	}
	if c.MonitoringInterval == 0 {
		c.MonitoringRoleArn = ""
	}
	if e := s.finishInsights(r, &c.insights); e != nil {
		return e
	}
	if c.CACertificate == "" {
		c.CACertificate = defaultCA
	}
	if !knownCAs[c.CACertificate] {
		return errf("CertificateNotFound", "Certificate %s not found.", c.CACertificate)
	}
	switch c.NetworkType {
	case "":
		c.NetworkType = "IPV4"
	case "IPV4", "DUAL":
	default:
		return errInvalidValue("Invalid network type %s: must be IPV4 or DUAL.", c.NetworkType)
	}
	if eng != nil {
		for _, lt := range c.LogExports {
			ok := false
			for _, v := range eng.LogTypes {
				ok = ok || v == lt
			}
			if !ok {
				return errCombination("You cannot use the log types '%s' with engine version %s %s. For supported log types, see the documentation.", lt, c.Engine, c.EngineVersion)
			}
		}
	}
	for kind, name := range map[string]string{"db-parameter-group": c.ParameterGroup,
		"option-group": c.OptionGroup, "db-subnet-group": c.SubnetGroup} {
		if e := s.checkGroup(r, kind, name, c.Engine, c.EngineVersion); e != nil {
			return e
		}
	}
	if c.AZ == "" && !c.MultiAZ {
		c.AZ = r.zones()[0]
	}
	if c.MultiAZ {
		c.AZ, c.SecondaryAZ = r.zones()[0], r.zones()[1]
	} else {
		c.SecondaryAZ = ""
	}
	return nil
}

// managedKey returns an AWS-managed key of the region by alias.
func (s *Sim) managedKey(r *region, alias string) *kmsKey {
	return r.keys[r.aliases[alias].targetID]
}

// defaultGroups fills unset parameter/option/subnet groups and security groups with the
// region's defaults.
func defaultGroups(r *region, c *instanceConfig) {
	eng := engines[c.Engine]
	if c.ParameterGroup == "" && eng != nil {
		c.ParameterGroup = "default." + eng.Family(c.EngineVersion)
	}
	if c.OptionGroup == "" && eng != nil && !eng.Aurora {
		c.OptionGroup = eng.OptionGroup(c.EngineVersion)
	}
	if c.SubnetGroup == "" {
		c.SubnetGroup = "default"
	}
	if len(c.VpcSecurityGroups) == 0 {
		c.VpcSecurityGroups = []string{r.defaultSG}
	}
}
