package rdssim

import "time"

// startRename runs an immediate rename (docs/aws-behaviour.md#renames). The new identifier is
// reserved at once; the old one keeps answering (status available, the new name under
// PendingModifiedValues) for RenameGrace; then the instance, its ARN and its endpoint move to
// the new identifier with status "renaming", reboot, and are available again Rename after the
// call. Tags, snapshots' DbiResourceId and replica links follow the instance.
func (s *Sim) startRename(c *call, inst *instance, newID string) {
	r, action := inst.r, c.action
	r.reserved[newID] = inst
	inst.renameTo = newID
	s.timeline(inst, c.now,
		step{s.dur.RenameGrace, func(at time.Time) {
			delete(r.instances, inst.id)
			delete(r.reserved, newID)
			inst.id, inst.renameTo = newID, ""
			inst.pending.DBInstanceIdentifier = nil
			r.instances[newID] = inst
			s.setInstanceStatus(inst, statusRenaming, at, action)
		}},
		step{s.dur.Rename - s.dur.Reboot, func(at time.Time) { s.setInstanceStatus(inst, statusRebooting, at, action) }},
		step{s.dur.Rename, func(at time.Time) {
			s.applyPendingNow(inst, true)
			s.setInstanceStatus(inst, statusAvailable, at, action)
		}},
	)
}
