package rdssim

import (
	"strings"
)

func init() {
	registerRDS("RestoreDBInstanceFromDBSnapshot", restoreDBInstanceFromDBSnapshot)
}

// restoreDefaults resets the settings that a restore does not take from the snapshot
// (docs/aws-behaviour.md#restore): default network and groups, Single-AZ, no copy-tags, no deletion
// protection, no IAM auth, no log exports, default CA, and nothing of what restore does not
// accept (maintenance window, monitoring, Performance Insights, storage autoscaling, managed
// master password).
func restoreDefaults(id string, c *instanceConfig) {
	c.SubnetGroup, c.VpcSecurityGroups, c.ParameterGroup, c.OptionGroup = "", nil, "", ""
	c.MultiAZ, c.AZ, c.SecondaryAZ = false, "", ""
	c.PubliclyAccessible, c.CopyTagsToSnapshot, c.DeletionProtection, c.IAMAuth = false, false, false, false
	c.LogExports = nil
	c.CACertificate = defaultCA
	c.AutoMinorVersionUpgrade = true
	c.MaintenanceWindow = defaultMaintenanceWindow(id)
	c.MonitoringInterval, c.MonitoringRoleArn = 0, ""
	c.PIEnabled, c.PIKMSKeyID, c.PIRetention = false, "", 0
	c.DatabaseInsightsMode = "standard"
	c.MaxAllocatedStorage = 0
	c.ManageMasterUserPassword, c.MasterUserSecretKmsKeyArn = false, ""
	c.NetworkType = "IPV4"
	c.DomainMemberships = nil
	// "Default: open-source-rds-extended-support" (SDK v1.133.0 doc comment of
	// RestoreDBInstanceFromDBSnapshotInput.EngineLifecycleSupport): not the snapshot's value.
	c.EngineLifecycleSupport = defaultLifecycleSupport
	c.CustomerOwnedIP = false
}

func restoreDBInstanceFromDBSnapshot(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	rawID := p.required("DBInstanceIdentifier")
	snapRef := p.get("DBSnapshotIdentifier")
	clusterSnapRef := p.get("DBClusterSnapshotIdentifier")
	if err := p.Err(); err != nil {
		return nil, err
	}
	id, e := instanceID("DBInstanceIdentifier", rawID)
	if e != nil {
		return nil, e
	}
	var sn *snapshot
	switch {
	case snapRef != "" && clusterSnapRef != "":
		return nil, errCombination("Specify either DBSnapshotIdentifier or DBClusterSnapshotIdentifier, not both.")
	case snapRef == "" && clusterSnapRef == "":
		return nil, errMissing("DBSnapshotIdentifier")
	case clusterSnapRef != "":
		if sn, e = clusterSnapshotRestoreHook(c, clusterSnapRef); e != nil {
			return nil, e
		}
	default:
		if sn, e = s.snapshotByRef(r, snapRef); e != nil {
			return nil, e
		}
		if sn.r != r {
			return nil, errSnapshotNotFound(snapRef)
		}
	}
	if sn.status != snapAvailable {
		return nil, errf("InvalidDBSnapshotState", "Snapshot %s is not in available state.", sn.id)
	}
	if e := requireInstanceProfile(p, sn.cfg.Engine); e != nil {
		return nil, e
	}
	if !engines[sn.cfg.Engine].Aurora && !s.versionOffered(sn.cfg.Engine, sn.cfg.EngineVersion) {
		return nil, errVersionNotFound(sn.cfg.Engine, sn.cfg.EngineVersion) // engine_versions.go
	}
	if r.idTaken(id) {
		return nil, errInstanceExists()
	}
	if sn.cfg.StorageEncrypted {
		if k := s.keyByARN(sn.cfg.KmsKeyArn); k == nil || k.state != keyEnabled {
			return nil, errKeyNotAccessible(sn.cfg.KmsKeyArn)
		}
	}
	cfg := sn.cfg.clone()
	restoreDefaults(id, &cfg)
	parseCommonSettings(p, &cfg)
	parseStorageSettings(p, &cfg)
	parseNetworkSettings(p, &cfg)
	parseBackupSettings(p, &cfg)
	if v, ok := p.str("Engine"); ok {
		cfg.Engine = strings.ToLower(v)
	}
	if v, ok := p.str("LicenseModel"); ok {
		cfg.License = v
	}
	if v, ok := p.str("DBName"); ok {
		cfg.DBName = v
	}
	manage := p.boolean("ManageMasterUserPassword", false)
	secretKey := p.get("MasterUserSecretKmsKeyId")
	tags, hasTags := p.tags("Tags")
	if err := p.Err(); err != nil {
		return nil, err
	}
	if engines[cfg.Engine] == nil || engineBase(cfg.Engine) != engineBase(sn.cfg.Engine) {
		return nil, errCombination("Cannot restore a snapshot of engine %s as engine %s.", sn.cfg.Engine, cfg.Engine)
	}
	if cfg.AllocatedStorage < sn.cfg.AllocatedStorage {
		return nil, errInvalidValue("The allocated storage %d is smaller than the snapshot's %d GiB; storage can't be decreased.", cfg.AllocatedStorage, sn.cfg.AllocatedStorage)
	}
	if cfg.AllocatedStorage > sn.cfg.AllocatedStorage && cfg.AllocatedStorage*10 < sn.cfg.AllocatedStorage*11 {
		return nil, errInvalidValue("The allocated storage must be increased by at least 10 percent.")
	}
	if manage {
		if !strings.HasPrefix(cfg.Engine, "oracle") {
			return nil, errCombination("ManageMasterUserPassword is supported at restore only for RDS for Oracle; use ModifyDBInstance after the restore.")
		}
		k := s.managedKey(r, "alias/aws/secretsmanager")
		if secretKey != "" {
			if k, e = s.usableKey(r, secretKey); e != nil {
				return nil, e
			}
		}
		cfg.ManageMasterUserPassword, cfg.MasterUserSecretKmsKeyArn = true, k.arn
	}
	if e := checkSQLServerStorageParams(p, cfg.Engine, "RestoreDBInstanceFromDBSnapshot"); e != nil {
		return nil, e
	}
	if e := checkGP3Params(p, &cfg); e != nil {
		return nil, e
	}
	defaultGroups(r, &cfg)
	if e := s.finishConfig(r, &cfg); e != nil {
		return nil, e
	}
	inst := &instance{r: r, id: id, rid: s.ids.resourceID("db-"), created: c.now, cfg: cfg, action: c.action}
	if hasTags {
		inst.tags = tags
	} else {
		inst.tags = append([]Tag(nil), sn.instanceTags...)
	}
	if cfg.ManageMasterUserPassword { // Oracle only, which has no data plane
		s.newInstanceSecret(inst, c.now)
	}
	if s.hasData(inst) {
		if e := s.dataCheck(cfg.Engine); e != nil {
			return nil, e
		}
	}
	r.instances[id] = inst
	if s.hasData(inst) {
		s.dataRestore(inst, sn)
	}
	s.setInstanceStatus(inst, statusCreating, c.now, c.action)
	build := sized(s.dur.RestoreBase, s.dur.RestorePerGiB, cfg.AllocatedStorage)
	if cfg.StorageType != sn.cfg.StorageType {
		build += sized(0, s.dur.ModifyStoragePerGiB, cfg.AllocatedStorage)
	}
	fail := ""
	if takeFault(s.faults.failRestore, r.name, id) {
		fail = statusIncompatibleRest
	}
	s.provision(inst, c.now, build, c.action, fail)
	if cfg.StorageEncrypted {
		s.keyUsed(cfg.KmsKeyArn, KeyUseRestore, c.now)
	}
	return dbInstanceResult{DBInstance: s.renderInstance(inst)}, nil
}
