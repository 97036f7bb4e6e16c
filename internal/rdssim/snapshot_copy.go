package rdssim

import (
	"strings"
	"time"
)

func init() {
	registerRDS("CopyDBSnapshot", copyDBSnapshot)
	onKeyLoss(failSnapshotsUsingKey)
}

func copyDBSnapshot(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	srcRef := p.required("SourceDBSnapshotIdentifier")
	rawTarget := p.required("TargetDBSnapshotIdentifier")
	kmsRef := p.get("KmsKeyId")
	copyTags := p.boolean("CopyTags", false)
	tags, _ := p.tags("Tags")
	optionGroup := p.get("OptionGroupName")
	copyOptionGroup := p.boolean("CopyOptionGroup", false)
	presigned := p.get("PreSignedUrl")
	if err := p.Err(); err != nil {
		return nil, err
	}
	target, e := snapshotID("TargetDBSnapshotIdentifier", rawTarget)
	if e != nil {
		return nil, e
	}
	var src *snapshot
	if strings.HasPrefix(srcRef, "arn:") {
		if src, e = s.snapshotByRef(r, srcRef); e != nil {
			return nil, e
		}
	} else {
		if !validIdentifier(strings.TrimPrefix(srcRef, "rds:"), 255) {
			return nil, errBadIdentifier("SourceDBSnapshotIdentifier")
		}
		if src = r.snapshots[strings.ToLower(srcRef)]; src == nil {
			return nil, errSnapshotNotFound(srcRef)
		}
	}
	cross := src.r != r
	if e := checkPresignedURL(c, presigned, src.r.name); e != nil {
		return nil, e
	}
	if src.status != snapAvailable {
		return nil, errf("InvalidDBSnapshotState", "Snapshot %s is not in available state.", src.id)
	}
	if _, dup := r.snapshots[target]; dup {
		return nil, errSnapshotExists(target)
	}
	if e := s.checkSnapshotQuota(r); e != nil {
		return nil, e
	}
	var srcKey, key *kmsKey
	if src.cfg.StorageEncrypted {
		if srcKey = s.keyByARN(src.cfg.KmsKeyArn); srcKey == nil || srcKey.state != keyEnabled {
			return nil, errKeyNotAccessible(src.cfg.KmsKeyArn)
		}
	}
	switch {
	case kmsRef != "":
		if key, e = s.usableKey(r, kmsRef); e != nil {
			return nil, e
		}
	case srcKey != nil && cross:
		return nil, errInvalidValue("KmsKeyId must be specified to copy an encrypted snapshot to another region.")
	default:
		key = srcKey
	}
	cfg := src.cfg.clone()
	reencrypt := key != nil && key != srcKey
	cfg.StorageEncrypted = key != nil
	cfg.KmsKeyArn = ""
	if key != nil {
		cfg.KmsKeyArn = key.arn
	}
	switch {
	case optionGroup != "":
		cfg.OptionGroup = strings.ToLower(optionGroup)
	case cross && !copyOptionGroup:
		if eng := engines[cfg.Engine]; eng != nil {
			cfg.OptionGroup = eng.OptionGroup(cfg.EngineVersion)
		}
	}
	sn := &snapshot{r: r, id: target, typ: "manual", created: c.now, originalTime: src.originalTime,
		instanceID: src.instanceID, rid: src.rid, instanceCreated: src.instanceCreated, cfg: cfg,
		instanceTags: append([]Tag(nil), src.instanceTags...), action: c.action,
		copy: true, written: src.written}
	sn.changedGiB = copyChange(r, src, sn)
	if srcKey != nil {
		sn.srcKeyARN = srcKey.arn
	}
	if copyTags {
		sn.tags = mergeTags(src.tags, tags)
	} else {
		sn.tags = tags
	}
	if cross {
		sn.sourceSnapshotARN, sn.sourceRegion = src.arn(s), src.r.name
	}
	gib := sn.changedGiB
	work := sizedF(s.dur.CopyBase, s.dur.CopyPerGiB, gib)
	if reencrypt {
		work = sizedF(s.dur.EncryptedCopyBase, s.dur.EncryptedCopyPerGiB, gib)
	}
	var queue time.Duration
	if cross {
		queue = s.dur.CrossRegionQueue
		work += sizedF(0, s.dur.CrossRegionPerGiB, gib)
	}
	sn.progressStart, sn.progressEnd = c.now.Add(queue), c.now.Add(queue+work)
	r.snapshots[target] = sn
	failed := takeFault(s.faults.failSnapshot, r.name, target) || !s.dataCopySnapshot(src, sn)
	var steps []step
	if cross {
		s.setSnapshotStatus(sn, snapPending, c.now, c.action)
		steps = append(steps, step{queue, func(at time.Time) { s.setSnapshotStatus(sn, snapCreating, at, c.action) }})
	} else {
		s.setSnapshotStatus(sn, snapCreating, c.now, c.action)
	}
	steps = append(steps, step{queue + work, func(at time.Time) {
		if failed {
			s.setSnapshotStatus(sn, snapFailed, at, c.action)
			return
		}
		s.setSnapshotStatus(sn, snapAvailable, at, c.action)
	}})
	s.timeline(sn, c.now, steps...)
	if key != nil {
		s.keyUsed(cfg.KmsKeyArn, KeyUseCopy, c.now)
	}
	return dbSnapshotResult{DBSnapshot: s.renderSnapshot(sn, c.now)}, nil
}

// failSnapshotsUsingKey fails every snapshot or copy in progress that writes with or reads
// from a key that became unusable.
func failSnapshotsUsingKey(s *Sim, k *kmsKey, at time.Time) {
	for _, name := range s.opts.Regions {
		for _, sn := range sortedSnapshots(s.regions[name]) {
			if sn.status != snapCreating && sn.status != snapPending {
				continue
			}
			if sn.cfg.KmsKeyArn == k.arn || sn.srcKeyARN == k.arn {
				cancelTimeline(sn)
				s.setSnapshotStatus(sn, snapFailed, at, sn.action)
			}
		}
	}
}
