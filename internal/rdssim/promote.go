package rdssim

import "time"

func init() {
	registerRDS("PromoteReadReplica", promoteReadReplica)
}

// promoteReadReplica promotes a read replica to a standalone instance (API reference,
// PromoteReadReplica): it must be a replica, available (not backing-up); BackupRetentionPeriod
// (default 1, 0-35) and PreferredBackupWindow apply to the promoted instance. The instance is
// "modifying", then reboots, then is available without a source. The promoted instance's
// server stops following its source (dataplane.go).
func promoteReadReplica(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	ref := p.required("DBInstanceIdentifier")
	retention := p.intp("BackupRetentionPeriod")
	window, hasWindow := p.str("PreferredBackupWindow")
	if err := p.Err(); err != nil {
		return nil, err
	}
	inst, e := s.instanceByRef(r, ref)
	if e != nil {
		return nil, e
	}
	if inst.source == nil {
		return nil, errf("InvalidDBInstanceState", "DB Instance %s is not a read replica.", inst.id)
	}
	if e := requireAvailable(inst, "DB Instance "+inst.id+" is not in available state."); e != nil {
		return nil, e
	}
	days := int32(1)
	if retention != nil {
		days = *retention
	}
	if days < 0 || days > 35 {
		return nil, errInvalidValue("Invalid backup retention period %d: must be a value from 0 to 35.", days)
	}
	src := inst.source
	src.replicas = removeInst(src.replicas, inst)
	inst.source = nil
	inst.cfg.BackupRetention = days
	if hasWindow {
		inst.cfg.BackupWindow = window
	}
	inst.cfg.ReplicaMode = ""
	s.setInstanceStatus(inst, statusModifying, c.now, c.action)
	if s.hasData(inst) {
		s.dataPromote(inst)
	}
	s.timeline(inst, c.now,
		step{s.dur.Modify - s.dur.Reboot, func(at time.Time) { s.setInstanceStatus(inst, statusRebooting, at, c.action) }},
		step{s.dur.Modify, func(at time.Time) { s.setInstanceStatus(inst, statusAvailable, at, c.action) }},
	)
	return dbInstanceResult{DBInstance: s.renderInstance(inst)}, nil
}
