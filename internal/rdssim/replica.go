package rdssim

import (
	"strings"
	"time"
)

func init() {
	registerRDS("CreateDBInstanceReadReplica", createDBInstanceReadReplica)
}

// createDBInstanceReadReplica follows docs/aws-behaviour.md#read-replicas. The call is made in the replica's
// region; a cross-region source is named by ARN.
func createDBInstanceReadReplica(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	rawID := p.required("DBInstanceIdentifier")
	srcRef := p.get("SourceDBInstanceIdentifier")
	if p.get("SourceDBClusterIdentifier") != "" {
		return nil, errCombination("Read replicas of Multi-AZ DB clusters are not supported by this simulator core.")
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	if srcRef == "" {
		return nil, errMissing("SourceDBInstanceIdentifier")
	}
	id, e := instanceID("DBInstanceIdentifier", rawID)
	if e != nil {
		return nil, e
	}
	var src *instance
	if strings.HasPrefix(srcRef, "arn:") {
		src, e = s.instanceByARN(srcRef)
	} else {
		src, e = s.instanceByRef(r, srcRef)
	}
	if e != nil {
		return nil, e
	}
	cross := src.r != r
	kmsRef := p.get("KmsKeyId")
	if e := checkPresignedURL(c, p.get("PreSignedUrl"), src.r.name); e != nil {
		return nil, e
	}
	if src.clusterID != "" || engines[src.cfg.Engine].Aurora {
		return nil, errInvalidValue("Aurora DB instances don't support CreateDBInstanceReadReplica; add a reader to the cluster instead.")
	}
	if r.idTaken(id) {
		return nil, errInstanceExists()
	}
	if e := requireAvailable(src, "Instance "+src.id+" is not in available state."); e != nil {
		return nil, e
	}
	if src.cfg.BackupRetention == 0 {
		return nil, errf("InvalidDBInstanceState", "Automated backups are not enabled for this database instance. To enable automated backups, use ModifyDBInstance to set the backup retention period to a non-zero value.")
	}
	// RDS User Guide, "Password management with Amazon RDS and AWS Secrets Manager",
	// Limitations: managing the master password with Secrets Manager is not supported for
	// "Creating a read replica when the source DB or DB cluster manages credentials with
	// Secrets Manager. This applies to all DB engines except RDS for SQL Server."
	// (docs/aws-behaviour.md#managed-master-password). The wording is the one observed for
	// mysql, with the source's engine.
	if src.cfg.ManageMasterUserPassword && engineBase(src.cfg.Engine) != "sqlserver" {
		return nil, errInvalidValue("Creating read replicas for source instance with engine %s where ManageMasterUserPassword is enabled is not supported.", src.cfg.Engine)
	}
	var key *kmsKey
	switch {
	case !src.cfg.StorageEncrypted && kmsRef != "":
		return nil, errCombination("Cannot create an encrypted read replica from an unencrypted source DB instance.")
	case src.cfg.StorageEncrypted && cross && kmsRef == "":
		return nil, errCombination("Cannot create a cross region unencrypted read replica from encrypted source.")
	case src.cfg.StorageEncrypted && kmsRef != "":
		// Same region or not, an encrypted source's replica may take its own key, which may
		// differ from the source's (SDK v1.133.0 doc comment of
		// CreateDBInstanceReadReplicaInput.KmsKeyId). The 2019 refusal "Your request does not
		// require the KMS key parameter" is no longer AWS's behaviour.
		if key, e = s.usableKey(r, kmsRef); e != nil {
			return nil, e
		}
	case src.cfg.StorageEncrypted:
		if key = s.keyByARN(src.cfg.KmsKeyArn); key == nil || key.state != keyEnabled {
			return nil, errKeyNotAccessible(src.cfg.KmsKeyArn)
		}
	}

	// Inheritance: same-region replicas keep the source's groups and network; cross-region
	// ones get the destination region's defaults.
	cfg := src.cfg.clone()
	cfg.BackupRetention, cfg.MaxAllocatedStorage = 0, 0
	cfg.MultiAZ, cfg.AZ, cfg.SecondaryAZ = false, "", ""
	cfg.CopyTagsToSnapshot, cfg.DeletionProtection, cfg.IAMAuth = false, false, false
	cfg.LogExports = nil
	cfg.MonitoringInterval, cfg.MonitoringRoleArn = 0, ""
	cfg.PIEnabled, cfg.PIKMSKeyID, cfg.PIRetention, cfg.DatabaseInsightsMode = false, "", 0, "standard"
	cfg.ManageMasterUserPassword, cfg.MasterUserSecretKmsKeyArn = false, ""
	cfg.CACertificate = defaultCA
	cfg.MaintenanceWindow = defaultMaintenanceWindow(id)
	cfg.BackupWindow = src.cfg.BackupWindow
	if cross {
		cfg.SubnetGroup, cfg.VpcSecurityGroups, cfg.ParameterGroup, cfg.OptionGroup = "", nil, "", ""
	}
	cfg.StorageEncrypted = key != nil
	cfg.KmsKeyArn = ""
	if key != nil {
		cfg.KmsKeyArn = key.arn
	}
	parseCommonSettings(p, &cfg)
	parseStorageSettings(p, &cfg)
	parseNetworkSettings(p, &cfg)
	s.parseMonitoringSettings(p, r, &cfg)
	if v := p.intp("MaxAllocatedStorage"); v != nil {
		cfg.MaxAllocatedStorage = *v
	}
	if v, ok := p.str("ReplicaMode"); ok {
		cfg.ReplicaMode = v
	}
	tags, _ := p.tags("Tags")
	if err := p.Err(); err != nil {
		return nil, err
	}
	if cfg.AllocatedStorage < src.cfg.AllocatedStorage {
		return nil, errInvalidValue("The allocated storage of a read replica can't be smaller than the source's %d GiB.", src.cfg.AllocatedStorage)
	}
	if p.has("DBParameterGroupName") && !replicaParameterGroupAllowed(src.cfg.Engine, cross) {
		return nil, errReplicaParameterGroup(src.cfg.Engine)
	}
	if e := checkSQLServerStorageParams(p, src.cfg.Engine, "CreateDBInstanceReadReplica"); e != nil {
		return nil, e
	}
	if e := checkGP3Params(p, &cfg); e != nil {
		return nil, e
	}
	defaultGroups(r, &cfg)
	if e := s.finishConfig(r, &cfg); e != nil {
		return nil, e
	}
	inst := &instance{r: r, id: id, rid: s.ids.resourceID("db-"), created: c.now, cfg: cfg, tags: tags,
		source: src, action: c.action}
	if s.hasData(inst) {
		if e := s.dataCheck(cfg.Engine); e != nil {
			return nil, e
		}
	}
	r.instances[id] = inst
	src.replicas = append(src.replicas, inst)
	if s.hasData(inst) {
		s.dataReplica(inst, src)
	}
	s.setInstanceStatus(inst, statusCreating, c.now, c.action)

	build := sized(s.dur.ReplicaBase, s.dur.ReplicaPerGiB, cfg.AllocatedStorage)
	if cross {
		build += s.dur.CrossRegionQueue + sized(0, s.dur.CrossRegionPerGiB, cfg.AllocatedStorage)
	}
	s.provision(inst, c.now, build, c.action, "")
	// The source is "modifying" while RDS snapshots it for the replica.
	s.setInstanceStatus(src, statusModifying, c.now, c.action)
	s.timeline(src, c.now, step{s.dur.ReplicaSourceSuspend, func(at time.Time) {
		s.setInstanceStatus(src, statusAvailable, at, c.action)
	}})
	return dbInstanceResult{DBInstance: s.renderInstance(inst)}, nil
}
