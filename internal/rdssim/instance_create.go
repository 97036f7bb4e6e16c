package rdssim

import (
	"strings"
	"time"
)

func init() {
	registerRDS("CreateDBInstance", createDBInstance)
}

func createDBInstance(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	rawID := p.required("DBInstanceIdentifier")
	p.required("DBInstanceClass")
	engine := strings.ToLower(p.required("Engine"))
	if err := p.Err(); err != nil {
		return nil, err
	}
	id, e := instanceID("DBInstanceIdentifier", rawID)
	if e != nil {
		return nil, e
	}
	eng := engines[engine]
	if eng == nil {
		return nil, errInvalidValue("Invalid DB engine: %s", engine)
	}
	if e := requireInstanceProfile(p, engine); e != nil { // engine_versions.go
		return nil, e
	}
	cfg := instanceConfig{Engine: engine, EngineVersion: eng.DefaultVersion, License: eng.License, Port: eng.Port,
		AutoMinorVersionUpgrade: true, BackupRetention: 1, CACertificate: defaultCA}
	if v, ok := p.str("EngineVersion"); ok {
		cfg.EngineVersion = v
		if !eng.Aurora && !s.versionOffered(engine, v) { // engine_versions.go; Aurora members follow their cluster
			return nil, errVersionNotFound(engine, v)
		}
	}
	if v, ok := p.str("LicenseModel"); ok {
		cfg.License = v
	}
	parseCommonSettings(p, &cfg)
	parseStorageSettings(p, &cfg)
	parseNetworkSettings(p, &cfg)
	s.parseMonitoringSettings(p, r, &cfg)
	parseBackupSettings(p, &cfg)
	if v, ok := p.str("PreferredMaintenanceWindow"); ok {
		cfg.MaintenanceWindow = v
	}
	if v := p.intp("MaxAllocatedStorage"); v != nil {
		cfg.MaxAllocatedStorage = *v
	}
	cfg.DBName = p.get("DBName")
	cfg.MasterUsername = p.get("MasterUsername")
	cfg.CharacterSet = p.get("CharacterSetName")
	cfg.NcharCharacterSet = p.get("NcharCharacterSetName")
	cfg.Timezone = p.get("Timezone")
	if v := p.intp("PromotionTier"); v != nil {
		cfg.PromotionTier = *v
	} else {
		cfg.PromotionTier = 1
	}
	encrypted := p.boolp("StorageEncrypted")
	kmsRef, hasKMS := p.str("KmsKeyId")
	password, hasPassword := p.str("MasterUserPassword")
	manage := p.boolean("ManageMasterUserPassword", false)
	secretKey, hasSecretKey := p.str("MasterUserSecretKmsKeyId")
	clusterID := strings.ToLower(p.get("DBClusterIdentifier"))
	tags, _ := p.tags("Tags")
	if err := p.Err(); err != nil {
		return nil, err
	}
	if r.idTaken(id) {
		return nil, errInstanceExists()
	}

	inst := &instance{r: r, id: id, rid: s.ids.resourceID("db-"), created: c.now, action: c.action}
	if eng.Aurora || clusterID != "" {
		if clusterID == "" {
			return nil, errInvalidValue("The parameter DBClusterIdentifier must be provided for engine %s.", engine)
		}
		inst.cfg = cfg
		if e := clusterMemberHook(c, inst, clusterID); e != nil {
			return nil, e
		}
		inst.clusterID = clusterID
		cfg = inst.cfg
	} else {
		if cfg.StorageType == "" {
			cfg.StorageType = "gp3"
			if cfg.Iops > 0 {
				cfg.StorageType = "io1"
			}
		}
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
		if hasSecretKey && !manage {
			return nil, errCombination("You can't specify MasterUserSecretKmsKeyId without ManageMasterUserPassword.")
		}
		if hasKMS && (encrypted == nil || !*encrypted) {
			return nil, errCombination("You must set StorageEncrypted to true when you specify a KmsKeyId.")
		}
		if encrypted != nil && *encrypted {
			cfg.StorageEncrypted = true
			k := s.managedKey(r, "alias/aws/rds")
			if hasKMS {
				if k, e = s.usableKey(r, kmsRef); e != nil {
					return nil, e
				}
			}
			cfg.KmsKeyArn = k.arn
		}
		if manage {
			k := s.managedKey(r, "alias/aws/secretsmanager")
			if hasSecretKey {
				if k, e = s.usableKey(r, secretKey); e != nil {
					return nil, e
				}
			}
			cfg.ManageMasterUserPassword = true
			cfg.MasterUserSecretKmsKeyArn = k.arn
		}
		defaultGroups(r, &cfg)
	}
	if cfg.BackupWindow == "" {
		cfg.BackupWindow = defaultBackupWindow(id)
	}
	if cfg.MaintenanceWindow == "" {
		cfg.MaintenanceWindow = defaultMaintenanceWindow(id)
	}
	if e := checkGP3Params(p, &cfg); e != nil {
		return nil, e
	}
	if e := s.finishConfig(r, &cfg); e != nil {
		return nil, e
	}
	inst.cfg = cfg
	inst.tags = tags
	if s.hasData(inst) {
		if e := s.dataCheck(cfg.Engine); e != nil {
			return nil, e
		}
	}
	if cfg.ManageMasterUserPassword {
		password = s.newInstanceSecret(inst, c.now)
	}
	r.instances[id] = inst
	if s.hasData(inst) {
		s.dataCreate(inst, password)
	}
	s.setInstanceStatus(inst, statusCreating, c.now, c.action)
	build := sized(s.dur.CreateBase, s.dur.CreatePerGiB, cfg.AllocatedStorage)
	s.provision(inst, c.now, build, c.action, "")
	return dbInstanceResult{DBInstance: s.renderInstance(inst)}, nil
}

// provision runs the timeline of a new instance (create, restore, replica): "creating" for
// build, then "backing-up" for the initial automated backup when backups are on, then
// "available". With failStatus set the instance ends in that status instead.
func (s *Sim) provision(inst *instance, start time.Time, build time.Duration, action, failStatus string) {
	steps := []step{}
	switch {
	case failStatus != "":
		steps = append(steps, step{build, func(at time.Time) { s.setInstanceStatus(inst, failStatus, at, action) }})
	case inst.cfg.BackupRetention > 0 && inst.clusterID == "":
		steps = append(steps,
			step{build, func(at time.Time) { s.setInstanceStatus(inst, statusBackingUp, at, action) }},
			step{build + s.dur.InitialBackup, func(at time.Time) {
				s.automatedSnapshot(inst, at)
				s.setInstanceStatus(inst, statusAvailable, at, action)
			}})
	default:
		steps = append(steps, step{build, func(at time.Time) { s.setInstanceStatus(inst, statusAvailable, at, action) }})
	}
	s.timeline(inst, start, steps...)
}

func init() {
	// A key that becomes unusable while an encrypted instance is being built leaves the
	// instance without its encryption credentials.
	onKeyLoss(func(s *Sim, k *kmsKey, at time.Time) {
		r := s.regions[k.region]
		for _, inst := range sortedInstances(r) {
			if inst.cfg.KmsKeyArn == k.arn && inst.status == statusCreating {
				cancelTimeline(inst)
				s.setInstanceStatus(inst, statusInaccessibleCreds, at, inst.action)
			}
		}
	})
}
