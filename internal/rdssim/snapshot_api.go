package rdssim

import (
	"strings"
	"time"
)

func init() {
	registerRDS("CreateDBSnapshot", createDBSnapshot)
	registerRDS("DescribeDBSnapshots", describeDBSnapshots)
	registerRDS("DeleteDBSnapshot", deleteDBSnapshot)
}

func createDBSnapshot(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	instRef := p.required("DBInstanceIdentifier")
	rawSnap := p.required("DBSnapshotIdentifier")
	tags, _ := p.tags("Tags")
	if err := p.Err(); err != nil {
		return nil, err
	}
	id, e := snapshotID("DBSnapshotIdentifier", rawSnap)
	if e != nil {
		return nil, e
	}
	inst, e := s.instanceByRef(r, instRef)
	if e != nil {
		return nil, e
	}
	if inst.clusterID != "" {
		return nil, errInvalidValue("The specified instance is a member of a cluster and a snapshot cannot be created directly. Please use the CreateDBClusterSnapshot API instead.")
	}
	if _, dup := r.snapshots[id]; dup {
		return nil, errSnapshotExists(id)
	}
	if e := requireAvailable(inst, "Cannot create a snapshot because the database instance "+inst.id+" is not currently in the available state."); e != nil {
		return nil, e
	}
	if e := s.checkSnapshotQuota(r); e != nil {
		return nil, e
	}
	if inst.cfg.StorageEncrypted {
		if k := s.keyByARN(inst.cfg.KmsKeyArn); k == nil || k.state != keyEnabled {
			return nil, errKeyNotAccessible(inst.cfg.KmsKeyArn)
		}
	}
	sn := s.newSnapshotFrom(inst, id, "manual", c.now)
	sn.action = c.action
	if inst.cfg.CopyTagsToSnapshot {
		sn.tags = mergeTags(inst.tags, tags)
	} else {
		sn.tags = tags
	}
	sn.srcKeyARN = inst.cfg.KmsKeyArn
	sn.changedGiB = snapshotChange(r, inst, sn)
	r.snapshots[id] = sn
	dur := sizedF(s.dur.SnapshotBase, s.dur.SnapshotPerGiB, sn.changedGiB)
	sn.progressStart, sn.progressEnd = c.now, c.now.Add(dur)
	s.setSnapshotStatus(sn, snapCreating, c.now, c.action)
	captured := s.dataSnapshot(inst, sn) // the data as of this call
	s.setInstanceStatus(inst, statusBackingUp, c.now, c.action)
	failed := takeFault(s.faults.failSnapshot, r.name, id) || !captured
	s.timeline(inst, c.now, step{dur, func(at time.Time) { s.setInstanceStatus(inst, statusAvailable, at, c.action) }})
	s.timeline(sn, c.now, step{dur, func(at time.Time) {
		if failed {
			s.setSnapshotStatus(sn, snapFailed, at, c.action)
			return
		}
		s.setSnapshotStatus(sn, snapAvailable, at, c.action)
	}})
	return dbSnapshotResult{DBSnapshot: s.renderSnapshot(sn, c.now)}, nil
}

type describeDBSnapshotsResult struct {
	DBSnapshots []*xmlDBSnapshot `xml:"DBSnapshots>DBSnapshot"`
	Marker      string           `xml:",omitempty"`
}

func describeDBSnapshots(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	snapRef, bySnap := p.str("DBSnapshotIdentifier")
	instRef, byInst := p.str("DBInstanceIdentifier")
	rid, byRID := p.str("DbiResourceId")
	typ, byType := p.str("SnapshotType")
	p.boolean("IncludeShared", false)
	p.boolean("IncludePublic", false)
	filters := p.filters("db-instance-id", "db-snapshot-id", "dbi-resource-id", "snapshot-type", "engine")
	max, marker := pageArgs(p)
	if err := p.Err(); err != nil {
		return nil, err
	}
	if byType {
		switch typ {
		case "automated", "manual", "shared", "public", "awsbackup":
		default:
			return nil, errInvalidValue("Invalid snapshot type: %s", typ)
		}
	}
	var list []*snapshot
	if bySnap && snapRef != "" {
		sn, e := s.snapshotByRef(r, snapRef)
		if e != nil {
			return nil, e
		}
		list = []*snapshot{sn}
	} else {
		list = sortedSnapshots(r)
	}
	var out []*snapshot
	for _, sn := range list {
		if byInst && instRef != "" && !strings.EqualFold(sn.instanceID, idOrARN(instRef)) {
			continue
		}
		if byRID && rid != "" && sn.rid != rid {
			continue
		}
		if byType && typ != "" && sn.typ != typ {
			continue
		}
		if !snapshotMatches(s, sn, filters) {
			continue
		}
		out = append(out, sn)
	}
	page, next := paginate(out, func(sn *snapshot) string { return sn.id }, max, marker)
	res := describeDBSnapshotsResult{Marker: next}
	for _, sn := range page {
		res.DBSnapshots = append(res.DBSnapshots, s.renderSnapshot(sn, c.now))
	}
	return res, nil
}

func snapshotMatches(s *Sim, sn *snapshot, filters []filter) bool {
	return matchFilters(filters, func(name string) []string {
		switch name {
		case "db-instance-id":
			return []string{sn.instanceID, s.rdsARN(sn.r.name, "db", sn.instanceID)}
		case "db-snapshot-id":
			return []string{sn.id, sn.arn(s)}
		case "dbi-resource-id":
			return []string{sn.rid}
		case "snapshot-type":
			return []string{sn.typ}
		case "engine":
			return []string{sn.cfg.Engine}
		}
		return nil
	})
}

func deleteDBSnapshot(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	ref := p.required("DBSnapshotIdentifier")
	if err := p.Err(); err != nil {
		return nil, err
	}
	sn, e := s.snapshotByRef(r, ref)
	if e != nil {
		return nil, e
	}
	if sn.r != r {
		return nil, errSnapshotNotFound(ref)
	}
	if sn.typ != "manual" {
		return nil, errf("InvalidDBSnapshotState", "Only manual snapshots may be deleted.")
	}
	if sn.status != snapAvailable && sn.status != snapFailed {
		return nil, errf("InvalidDBSnapshotState", "Cannot delete the snapshot because it is not currently in the available state.")
	}
	s.setSnapshotStatus(sn, snapDeleting, c.now, c.action)
	res := dbSnapshotResult{DBSnapshot: s.renderSnapshot(sn, c.now)}
	s.timeline(sn, c.now, step{s.dur.SnapshotDelete, func(at time.Time) {
		sn.gone = true
		delete(r.snapshots, sn.id)
		s.dataDropSnapshot(sn)
		s.emit(at, r.name, "snapshot", sn.id, sn.arn(s), "deleted", c.action)
	}})
	return res, nil
}
