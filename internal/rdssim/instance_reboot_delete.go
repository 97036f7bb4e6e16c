package rdssim

import (
	"time"
)

func init() {
	registerRDS("RebootDBInstance", rebootDBInstance)
	registerRDS("DeleteDBInstance", deleteDBInstance)
}

func rebootDBInstance(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	ref := p.required("DBInstanceIdentifier")
	failover := p.boolean("ForceFailover", false)
	if err := p.Err(); err != nil {
		return nil, err
	}
	inst, e := s.instanceByRef(r, ref)
	if e != nil {
		return nil, e
	}
	if e := requireAvailable(inst, ""); e != nil {
		return nil, e
	}
	if failover && !inst.cfg.MultiAZ {
		return nil, errCombination("Cannot do a failover reboot on a DB instance that is not Multi-AZ.")
	}
	if inst.cfg.StorageEncrypted {
		if k := s.keyByARN(inst.cfg.KmsKeyArn); k == nil || k.state != keyEnabled {
			return nil, errKeyNotAccessible(inst.cfg.KmsKeyArn)
		}
	}
	s.setInstanceStatus(inst, statusRebooting, c.now, c.action)
	s.timeline(inst, c.now, step{s.dur.Reboot, func(at time.Time) {
		inst.paramApply = "in-sync"
		if failover {
			inst.cfg.AZ, inst.cfg.SecondaryAZ = inst.cfg.SecondaryAZ, inst.cfg.AZ
		}
		s.setInstanceStatus(inst, statusAvailable, at, c.action)
	}})
	return dbInstanceResult{DBInstance: s.renderInstance(inst)}, nil
}

// instanceRemovedHooks are told when an instance is gone (e.g. to update cluster membership).
var instanceRemovedHooks []func(s *Sim, inst *instance, at time.Time)

func deleteDBInstance(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	ref := p.required("DBInstanceIdentifier")
	skip := p.boolean("SkipFinalSnapshot", false)
	finalRaw := p.get("FinalDBSnapshotIdentifier")
	deleteBackups := p.boolean("DeleteAutomatedBackups", true)
	if err := p.Err(); err != nil {
		return nil, err
	}
	inst, e := s.instanceByRef(r, ref)
	if e != nil {
		return nil, e
	}
	if inst.status == statusDeleting {
		return nil, errf("InvalidDBInstanceState", "Instance %s is already being deleted.", inst.id)
	}
	if inst.cfg.DeletionProtection {
		return nil, errCombination("Cannot delete protected DB Instance, please disable deletion protection and try again.")
	}
	var final string
	if inst.clusterID == "" {
		switch {
		case skip && finalRaw != "":
			return nil, errCombination("FinalDBSnapshotIdentifier can not be specified when deleting a DB instance with SkipFinalSnapshot enabled.")
		case !skip && finalRaw == "" && inst.source == nil:
			return nil, errCombination("FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.")
		case finalRaw != "" && inst.source != nil:
			return nil, errCombination("FinalDBSnapshotIdentifier can not be specified when deleting a read replica.")
		}
		if finalRaw != "" {
			if final, e = snapshotID("FinalDBSnapshotIdentifier", finalRaw); e != nil {
				return nil, e
			}
			if _, dup := r.snapshots[final]; dup {
				return nil, errSnapshotExists(final)
			}
			if e := requireAvailable(inst, "Instance "+inst.id+" is not in available state, a final snapshot cannot be taken."); e != nil {
				return nil, e
			}
			if e := s.checkSnapshotQuota(r); e != nil {
				return nil, e
			}
		}
	}
	if inst.renameTo != "" {
		delete(r.reserved, inst.renameTo)
		inst.renameTo = ""
	}
	if inst.pending.DBInstanceIdentifier != nil {
		delete(r.reserved, *inst.pending.DBInstanceIdentifier)
		inst.pending.DBInstanceIdentifier = nil
	}
	var sn *snapshot
	captured := true
	if final != "" {
		sn = s.newSnapshotFrom(inst, final, "manual", c.now)
		captured = s.dataSnapshot(inst, sn) // before the server stops
	}
	s.setInstanceStatus(inst, statusDeleting, c.now, c.action)
	res := dbInstanceResult{DBInstance: s.renderInstance(inst)}
	gone := s.dur.Delete
	if final != "" {
		sn.action, sn.srcKeyARN = c.action, inst.cfg.KmsKeyArn
		if inst.cfg.CopyTagsToSnapshot {
			sn.tags = append([]Tag(nil), inst.tags...)
		}
		dur := sized(s.dur.SnapshotBase, s.dur.SnapshotPerGiB, inst.cfg.AllocatedStorage)
		sn.progressStart, sn.progressEnd = c.now, c.now.Add(dur)
		r.snapshots[final] = sn
		s.setSnapshotStatus(sn, snapCreating, c.now, c.action)
		failed := takeFault(s.faults.failSnapshot, r.name, final) || !captured
		s.timeline(sn, c.now, step{dur, func(at time.Time) {
			if failed {
				s.setSnapshotStatus(sn, snapFailed, at, c.action)
				return
			}
			s.setSnapshotStatus(sn, snapAvailable, at, c.action)
		}})
		gone += dur
	}
	s.timeline(inst, c.now, step{gone, func(at time.Time) {
		id := inst.id
		s.removeInstance(inst)
		if deleteBackups {
			for _, sn := range sortedSnapshots(r) {
				if sn.typ == "automated" && sn.rid == inst.rid {
					sn.gone = true
					delete(r.snapshots, sn.id)
					s.dataDropSnapshot(sn)
				}
			}
		}
		s.emit(at, r.name, "instance", id, inst.rid, "deleted", c.action)
		s.refreshSessions(inst, at)
		for _, h := range instanceRemovedHooks {
			h(s, inst, at)
		}
	}})
	return res, nil
}
