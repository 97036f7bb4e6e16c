package rdssim

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

func init() {
	registerRDS("ModifyDBInstance", modifyDBInstance)
}

// modifyDBInstance applies ModifyDBInstance. Settings that AWS shows under
// PendingModifiedValues wait for the maintenance window unless ApplyImmediately; the rest
// (windows, flags, monitoring, Performance Insights, log exports, groups, security groups)
// apply at once regardless (docs/aws-behaviour.md#modify).
func modifyDBInstance(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	ref := p.required("DBInstanceIdentifier")
	if err := p.Err(); err != nil {
		return nil, err
	}
	inst, e := s.instanceByRef(r, ref)
	if e != nil {
		return nil, e
	}
	immediate := p.boolean("ApplyImmediately", false)
	cur := inst.cfg
	next := cur.clone()
	var pm pendingMods // deferrable changes requested by this call

	// Deferrable settings (PendingModifiedValues members).
	if v, ok := p.str("DBInstanceClass"); ok && v != cur.Class {
		pm.DBInstanceClass = strp(v)
	}
	if v := p.intp("AllocatedStorage"); v != nil && *v != cur.AllocatedStorage {
		pm.AllocatedStorage = v
	}
	if v, ok := p.str("StorageType"); ok && v != cur.StorageType {
		pm.StorageType = strp(v)
	}
	if v := p.intp("Iops"); v != nil && *v != cur.Iops {
		pm.Iops = v
	}
	if v := p.intp("StorageThroughput"); v != nil && *v != cur.StorageThroughput {
		pm.StorageThroughput = v
	}
	if b := p.boolp("MultiAZ"); b != nil && *b != cur.MultiAZ {
		pm.MultiAZ = b
	}
	if v, ok := p.str("DBSubnetGroupName"); ok && !strings.EqualFold(v, cur.SubnetGroup) {
		pm.DBSubnetGroupName = strp(strings.ToLower(v))
	}
	if v := p.intp("DBPortNumber"); v != nil && *v != cur.Port {
		pm.Port = v
	}
	if v, ok := p.str("EngineVersion"); ok && v != cur.EngineVersion {
		pm.EngineVersion = strp(v)
	}
	if v, ok := p.str("LicenseModel"); ok && v != cur.License {
		pm.LicenseModel = strp(v)
	}
	if v, ok := p.str("CACertificateIdentifier"); ok && v != cur.CACertificate {
		pm.CACertificateIdentifier = strp(v)
	}
	if b := p.boolp("EnableIAMDatabaseAuthentication"); b != nil && *b != cur.IAMAuth {
		pm.IAMDatabaseAuthenticationEnabled = b
	}
	if v := p.intp("BackupRetentionPeriod"); v != nil && *v != cur.BackupRetention {
		if (*v == 0) != (cur.BackupRetention == 0) {
			pm.BackupRetentionPeriod = v // turning backups on/off waits unless immediate
		} else {
			next.BackupRetention = *v
		}
	}
	password, hasPassword := p.str("MasterUserPassword")
	if hasPassword {
		pm.MasterUserPassword = strp("****")
	}
	newID := ""
	if v, ok := p.str("NewDBInstanceIdentifier"); ok {
		id, e := instanceID("NewDBInstanceIdentifier", v)
		if e != nil {
			return nil, e
		}
		if id != inst.id {
			newID = id
			pm.DBInstanceIdentifier = strp(id)
		}
	}

	// Settings applied at once.
	quiet, configuring := 0, map[string]bool{}
	if b := p.boolp("CopyTagsToSnapshot"); b != nil && *b != cur.CopyTagsToSnapshot {
		next.CopyTagsToSnapshot, quiet = *b, quiet+1
	}
	if b := p.boolp("DeletionProtection"); b != nil && *b != cur.DeletionProtection {
		next.DeletionProtection, quiet = *b, quiet+1
	}
	if b := p.boolp("AutoMinorVersionUpgrade"); b != nil && *b != cur.AutoMinorVersionUpgrade {
		next.AutoMinorVersionUpgrade, quiet = *b, quiet+1
	}
	if v, ok := p.str("PreferredBackupWindow"); ok && v != cur.BackupWindow {
		next.BackupWindow, quiet = v, quiet+1
	}
	if v, ok := p.str("PreferredMaintenanceWindow"); ok && !strings.EqualFold(v, cur.MaintenanceWindow) {
		next.MaintenanceWindow, quiet = v, quiet+1
	}
	if v := p.intp("MaxAllocatedStorage"); v != nil && *v != cur.MaxAllocatedStorage {
		next.MaxAllocatedStorage, quiet = *v, quiet+1
	}
	if v := p.intp("PromotionTier"); v != nil && *v != cur.PromotionTier {
		next.PromotionTier, quiet = *v, quiet+1
	}
	if next.BackupRetention != cur.BackupRetention {
		quiet++
	}
	if v := p.intp("MonitoringInterval"); v != nil && *v != cur.MonitoringInterval {
		next.MonitoringInterval, configuring["configuring-enhanced-monitoring"] = *v, true
	}
	if v, ok := p.str("MonitoringRoleArn"); ok && v != cur.MonitoringRoleArn {
		next.MonitoringRoleArn, configuring["configuring-enhanced-monitoring"] = v, true
	}
	if lc := p.sub("CloudwatchLogsExportConfiguration"); p.has("CloudwatchLogsExportConfiguration") {
		enable, _ := lc.list("EnableLogTypes", "member")
		disable, _ := lc.list("DisableLogTypes", "member")
		p.merge(lc)
		logs := slices.Clone(cur.LogExports)
		for _, l := range enable {
			if !slices.Contains(logs, l) {
				logs = append(logs, l)
			}
		}
		logs = slices.DeleteFunc(logs, func(l string) bool { return slices.Contains(disable, l) })
		if !slices.Equal(logs, cur.LogExports) {
			next.LogExports, configuring["configuring-log-exports"] = logs, true
		}
	}
	modifying := false
	// Settings issue 13 item 10 carries (SDK v1.133.0 ModifyDBInstanceInput members).
	if v, ok := p.str("EngineLifecycleSupport"); ok && v != cur.EngineLifecycleSupport {
		next.EngineLifecycleSupport, modifying = v, true
	}
	if b := p.boolp("DedicatedLogVolume"); b != nil && *b != cur.DedicatedLogVolume {
		next.DedicatedLogVolume, modifying = *b, true
	}
	if items, ok := p.structs("ProcessorFeatures", "ProcessorFeature"); ok {
		var pf []ProcessorFeature
		for _, it := range items {
			pf = append(pf, ProcessorFeature{Name: it.get("Name"), Value: it.get("Value")})
		}
		if !slices.Equal(pf, cur.ProcessorFeatures) {
			next.ProcessorFeatures, modifying = pf, true
		}
	} else if p.boolean("UseDefaultProcessorFeatures", false) && len(cur.ProcessorFeatures) > 0 {
		next.ProcessorFeatures, modifying = nil, true
	}
	if v, ok := p.str("ReplicaMode"); ok && v != cur.ReplicaMode {
		next.ReplicaMode, modifying = v, true
	}
	if b := p.boolp("EnablePerformanceInsights"); b != nil && *b != cur.PIEnabled {
		next.PIEnabled, modifying = *b, true
	}
	if v, ok := p.str("PerformanceInsightsKMSKeyId"); ok && v != "" {
		k, e := s.usableKey(r, v)
		if e != nil {
			return nil, e
		}
		if k.arn != cur.PIKMSKeyID {
			if cur.PIEnabled && cur.PIKMSKeyID != "" {
				return nil, errInvalidValue("You can't change the Performance Insights KMS key once it is set.")
			}
			next.PIKMSKeyID, modifying = k.arn, true
		}
	}
	if v := p.intp("PerformanceInsightsRetentionPeriod"); v != nil && *v != cur.PIRetention {
		next.PIRetention, modifying = *v, true
	}
	if v, ok := p.str("DatabaseInsightsMode"); ok && v != cur.DatabaseInsightsMode {
		next.DatabaseInsightsMode, modifying = v, true
	}
	if l, ok := p.list("VpcSecurityGroupIds", "VpcSecurityGroupId"); ok && !slices.Equal(l, cur.VpcSecurityGroups) {
		if e := s.checkGroupsVPC(r, cur.SubnetGroup, l); e != nil {
			return nil, e
		}
		next.VpcSecurityGroups, modifying = l, true
	}
	paramGroupChanged := false
	if v, ok := p.str("DBParameterGroupName"); ok && !strings.EqualFold(v, cur.ParameterGroup) {
		next.ParameterGroup, modifying, paramGroupChanged = strings.ToLower(v), true, true
	}
	if v, ok := p.str("OptionGroupName"); ok && !strings.EqualFold(v, cur.OptionGroup) {
		next.OptionGroup, modifying = strings.ToLower(v), true
	}
	if b := p.boolp("PubliclyAccessible"); b != nil && *b != cur.PubliclyAccessible {
		next.PubliclyAccessible, modifying = *b, true
	}
	if v, ok := p.str("NetworkType"); ok && v != cur.NetworkType {
		next.NetworkType, modifying = v, true
	}
	manage := p.boolp("ManageMasterUserPassword")
	secretKey := p.get("MasterUserSecretKmsKeyId")
	if manage != nil && *manage != cur.ManageMasterUserPassword {
		next.ManageMasterUserPassword, modifying = *manage, true
		next.MasterUserSecretKmsKeyArn = ""
		if *manage {
			k := s.managedKey(r, "alias/aws/secretsmanager")
			if secretKey != "" {
				if k, e = s.usableKey(r, secretKey); e != nil {
					return nil, e
				}
			}
			next.MasterUserSecretKmsKeyArn = k.arn
		}
	}
	rotate := p.boolean("RotateMasterUserPassword", false)
	p.boolean("AllowMajorVersionUpgrade", false)
	if err := p.Err(); err != nil {
		return nil, err
	}

	// Rules.
	if hasPassword && next.ManageMasterUserPassword {
		return nil, errCombination("You can't specify MasterUserPassword when ManageMasterUserPassword is enabled.")
	}
	// Turning management off needs the new password (ModifyDBInstance API reference).
	if cur.ManageMasterUserPassword && !next.ManageMasterUserPassword && !hasPassword {
		return nil, errCombination("You must specify MasterUserPassword when you turn off ManageMasterUserPassword.")
	}
	if hasPassword && (len(password) < 8 || len(password) > 128) {
		return nil, errInvalidValue("The parameter MasterUserPassword is not a valid password because it is shorter than 8 characters.")
	}
	if rotate && !cur.ManageMasterUserPassword {
		return nil, errCombination("You can't rotate the master user password because it isn't managed by Secrets Manager.")
	}
	if rotate && !immediate {
		return nil, errCombination("RotateMasterUserPassword requires ApplyImmediately.")
	}
	asked := next.clone()
	applyPending(&asked, pm)
	if e := checkGP3Params(p, &asked); e != nil { // before "No modifications": AWS checks the parameters first
		return nil, e
	}
	if pm == (pendingMods{}) && quiet == 0 && len(configuring) == 0 && !modifying && !rotate {
		return nil, errCombination("No modifications were requested")
	}
	if e := requireAvailable(inst, ""); e != nil {
		return nil, e
	}
	if inst.clusterID != "" && (pm.BackupRetentionPeriod != nil || next.BackupRetention != cur.BackupRetention) {
		return nil, errCombination("The specified DB instance is a member of a cluster and its backup retention should not be modified directly. Please use the ModifyDBCluster API instead.")
	}
	if pm.BackupRetentionPeriod != nil && *pm.BackupRetentionPeriod == 0 && len(inst.replicas) > 0 {
		return nil, errCombination("Cannot disable automated backups on a source of read replicas.")
	}
	if pm.BackupRetentionPeriod != nil && *pm.BackupRetentionPeriod > 0 && inst.source != nil &&
		cur.Engine == "postgres" && majorVersion(cur.EngineVersion) < 14 {
		return nil, errf("InvalidDBInstanceState", "DB Backups not supported on a read replica for engine postgres")
	}
	if newID != "" && r.idTaken(newID) {
		return nil, errInstanceExists()
	}
	if pm.AllocatedStorage != nil {
		if *pm.AllocatedStorage < cur.AllocatedStorage {
			return nil, errInvalidValue("Invalid storage size: you can't decrease the allocated storage (%d GiB) of a DB instance.", cur.AllocatedStorage)
		}
		if *pm.AllocatedStorage*10 < cur.AllocatedStorage*11 {
			return nil, errInvalidValue("The allocated storage must be increased by at least 10 percent.")
		}
	}
	// Validate the configuration as it will be once everything is applied.
	final := next.clone()
	applyPending(&final, pm)
	if pm.MultiAZ != nil && *pm.MultiAZ {
		final.AZ = ""
	}
	if e := s.finishConfig(r, &final); e != nil {
		return nil, e
	}
	next.MaintenanceWindow = final.MaintenanceWindow
	next.PIKMSKeyID, next.PIRetention, next.DatabaseInsightsMode = final.PIKMSKeyID, final.PIRetention, final.DatabaseInsightsMode
	if next.MonitoringInterval == 0 {
		next.MonitoringRoleArn = ""
	}

	// Apply.
	inst.cfg = next
	switch {
	case next.ManageMasterUserPassword && inst.secretARN == "":
		// RDS generates a new password and keeps it in the new secret.
		s.dataSetPassword(inst, s.newInstanceSecret(inst, c.now))
	case !next.ManageMasterUserPassword && inst.secretARN != "":
		// Turning management off deletes the secret (ModifyDBInstance API reference).
		s.deleteSecret(r, inst.secretARN, c.now)
		inst.secretARN = ""
	case rotate:
		s.rotateSecret(secretsOf(r).byARN[inst.secretARN], c.now)
	}
	if hasPassword {
		s.dataSetPassword(inst, password)
	}
	if paramGroupChanged {
		inst.paramApply = "pending-reboot"
	}
	mergePending(&inst.pending, pm)
	if newID != "" {
		r.reserved[newID] = inst
	}
	status := ""
	switch {
	case modifying || (immediate && pm != (pendingMods{MasterUserPassword: pm.MasterUserPassword})) || rotate:
		status = statusModifying
	case len(configuring) == 1:
		for st := range configuring {
			status = st
		}
	case len(configuring) > 1:
		status = statusModifying
	case hasPassword:
		// Password changes apply as soon as possible regardless of ApplyImmediately.
		status = "resetting-master-credentials"
	}
	if immediate && inst.pending.DBInstanceIdentifier != nil {
		s.startRename(c, inst, *inst.pending.DBInstanceIdentifier)
	} else if status != "" {
		dur := s.dur.Modify
		if immediate && (pm.AllocatedStorage != nil || pm.StorageType != nil || pm.Iops != nil) {
			dur += sized(0, s.dur.ModifyStoragePerGiB, final.AllocatedStorage)
		}
		s.setInstanceStatus(inst, status, c.now, c.action)
		s.timeline(inst, c.now, step{dur, func(at time.Time) {
			if immediate {
				s.applyPendingNow(inst, false)
			}
			inst.pending.MasterUserPassword = nil
			s.setInstanceStatus(inst, statusAvailable, at, c.action)
		}})
	}
	res := dbInstanceResult{DBInstance: s.renderInstance(inst)}
	return res, nil
}

func majorVersion(v string) int {
	n, _ := strconv.Atoi(strings.SplitN(v, ".", 2)[0])
	return n
}

// mergePending records requested deferred changes on top of those already pending.
func mergePending(dst *pendingMods, pm pendingMods) {
	if pm.AllocatedStorage != nil {
		dst.AllocatedStorage = pm.AllocatedStorage
	}
	if pm.BackupRetentionPeriod != nil {
		dst.BackupRetentionPeriod = pm.BackupRetentionPeriod
	}
	if pm.CACertificateIdentifier != nil {
		dst.CACertificateIdentifier = pm.CACertificateIdentifier
	}
	if pm.DBInstanceClass != nil {
		dst.DBInstanceClass = pm.DBInstanceClass
	}
	if pm.DBInstanceIdentifier != nil {
		dst.DBInstanceIdentifier = pm.DBInstanceIdentifier
	}
	if pm.DBSubnetGroupName != nil {
		dst.DBSubnetGroupName = pm.DBSubnetGroupName
	}
	if pm.EngineVersion != nil {
		dst.EngineVersion = pm.EngineVersion
	}
	if pm.IAMDatabaseAuthenticationEnabled != nil {
		dst.IAMDatabaseAuthenticationEnabled = pm.IAMDatabaseAuthenticationEnabled
	}
	if pm.Iops != nil {
		dst.Iops = pm.Iops
	}
	if pm.LicenseModel != nil {
		dst.LicenseModel = pm.LicenseModel
	}
	if pm.MasterUserPassword != nil {
		dst.MasterUserPassword = pm.MasterUserPassword
	}
	if pm.MultiAZ != nil {
		dst.MultiAZ = pm.MultiAZ
	}
	if pm.Port != nil {
		dst.Port = pm.Port
	}
	if pm.StorageThroughput != nil {
		dst.StorageThroughput = pm.StorageThroughput
	}
	if pm.StorageType != nil {
		dst.StorageType = pm.StorageType
	}
}

// applyPending writes pending values into a configuration (not the identifier).
func applyPending(c *instanceConfig, pm pendingMods) {
	if pm.AllocatedStorage != nil {
		c.AllocatedStorage = *pm.AllocatedStorage
	}
	if pm.BackupRetentionPeriod != nil {
		c.BackupRetention = *pm.BackupRetentionPeriod
	}
	if pm.CACertificateIdentifier != nil {
		c.CACertificate = *pm.CACertificateIdentifier
	}
	if pm.DBInstanceClass != nil {
		c.Class = *pm.DBInstanceClass
	}
	if pm.DBSubnetGroupName != nil {
		c.SubnetGroup = *pm.DBSubnetGroupName
	}
	if pm.EngineVersion != nil {
		c.EngineVersion = *pm.EngineVersion
	}
	if pm.IAMDatabaseAuthenticationEnabled != nil {
		c.IAMAuth = *pm.IAMDatabaseAuthenticationEnabled
	}
	if pm.Iops != nil {
		c.Iops = *pm.Iops
	}
	if pm.LicenseModel != nil {
		c.License = *pm.LicenseModel
	}
	if pm.MultiAZ != nil {
		c.MultiAZ = *pm.MultiAZ
		if c.MultiAZ {
			c.AZ = ""
		}
	}
	if pm.Port != nil {
		c.Port = *pm.Port
	}
	if pm.StorageThroughput != nil {
		c.StorageThroughput = *pm.StorageThroughput
	}
	if pm.StorageType != nil {
		c.StorageType = *pm.StorageType
		if c.StorageType != "io1" && c.StorageType != "io2" && c.StorageType != "gp3" && pm.Iops == nil {
			c.Iops = 0
		}
		if c.StorageType != "gp3" {
			c.StorageThroughput = 0 // only gp3 has a throughput setting
		}
	}
	fillGP3Baseline(c) // storage_rules.go
}

// applyPendingNow applies the pending modifications (as ApplyImmediately or a maintenance
// window would). A pending rename is applied only when withRename is set.
func (s *Sim) applyPendingNow(inst *instance, withRename bool) {
	pm := inst.pending
	applyPending(&inst.cfg, pm)
	if inst.cfg.MultiAZ {
		inst.cfg.AZ, inst.cfg.SecondaryAZ = inst.r.zones()[0], inst.r.zones()[1]
	} else {
		inst.cfg.SecondaryAZ = ""
		if inst.cfg.AZ == "" {
			inst.cfg.AZ = inst.r.zones()[0]
		}
	}
	keepID := inst.pending.DBInstanceIdentifier
	inst.pending = pendingMods{}
	if !withRename {
		inst.pending.DBInstanceIdentifier = keepID
	}
}
