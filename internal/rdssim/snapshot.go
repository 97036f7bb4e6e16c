package rdssim

import (
	"sort"
	"strings"
	"time"
)

// DB snapshot statuses.
const (
	snapCreating  = "creating"
	snapPending   = "pending"
	snapAvailable = "available"
	snapDeleting  = "deleting"
	snapFailed    = "failed"
)

// snapshot is a DB snapshot (manual or automated).
type snapshot struct {
	lifecycle
	r      *region
	id     string
	status string
	typ    string // manual or automated

	created       time.Time // SnapshotCreateTime
	originalTime  time.Time // OriginalSnapshotCreateTime
	progressStart time.Time // PercentProgress runs from progressStart to progressEnd
	progressEnd   time.Time

	instanceID      string // DBInstanceIdentifier when the snapshot was taken
	rid             string // DbiResourceId of the source instance
	instanceCreated time.Time
	cfg             instanceConfig // the instance's settings at snapshot time
	instanceTags    []Tag          // the instance's tags at snapshot time (restore default)
	tags            []Tag

	sourceSnapshotARN string // cross-region copies only
	sourceRegion      string
	srcKeyARN         string // key needed to read the source during a copy
	action            string

	// Incremental storage (incremental.go): written is the source instance's running total
	// of GiB written when the snapshot was taken (for a copy: the source snapshot's);
	// copy marks a copy; changedGiB is what this snapshot or copy had to store or transfer.
	written    float64
	copy       bool
	changedGiB float64
}

func (sn *snapshot) arn(s *Sim) string { return s.rdsARN(sn.r.name, "snapshot", sn.id) }

func (s *Sim) setSnapshotStatus(sn *snapshot, status string, at time.Time, action string) {
	sn.status = status
	s.emit(at, sn.r.name, "snapshot", sn.id, sn.arn(s), status, action)
}

// percent is PercentProgress at now.
func (sn *snapshot) percent(now time.Time) int32 {
	switch sn.status {
	case snapAvailable:
		return 100
	case snapPending:
		return 0
	case snapCreating:
		total := sn.progressEnd.Sub(sn.progressStart)
		if total <= 0 {
			return 0
		}
		p := int32(100 * now.Sub(sn.progressStart) / total)
		if p < 0 {
			p = 0
		}
		if p > 99 {
			p = 99
		}
		return p
	}
	return 0
}

// snapshotByRef finds a snapshot of region r by identifier or ARN.
func (s *Sim) snapshotByRef(r *region, ref string) (*snapshot, *apiError) {
	if strings.HasPrefix(ref, "arn:") {
		a, ok := parseARN(ref)
		if !ok || a.Service != "rds" || a.Kind != "snapshot" {
			return nil, errInvalidValue("Invalid snapshot identifier: %s", ref)
		}
		if a.Account != s.account {
			return nil, errSnapshotNotFound(ref)
		}
		rr := s.regions[a.Region]
		if rr == nil {
			return nil, errSnapshotNotFound(ref)
		}
		r, ref = rr, a.ID
	}
	if sn := r.snapshots[strings.ToLower(ref)]; sn != nil {
		return sn, nil
	}
	return nil, errSnapshotNotFound(ref)
}

func sortedSnapshots(r *region) []*snapshot {
	out := make([]*snapshot, 0, len(r.snapshots))
	for _, sn := range r.snapshots {
		out = append(out, sn)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].id < out[b].id })
	return out
}

// manualSnapshotCount counts the manual snapshots of a region for the quota.
func manualSnapshotCount(r *region) int {
	n := 0
	for _, sn := range r.snapshots {
		if sn.typ == "manual" {
			n++
		}
	}
	return n
}

func (s *Sim) checkSnapshotQuota(r *region) *apiError {
	if manualSnapshotCount(r) >= s.opts.ManualSnapshotQuota {
		return errf("SnapshotQuotaExceeded", "The request cannot be processed because it would exceed the maximum number of snapshots.")
	}
	return nil
}

// newSnapshotFrom creates a snapshot record of an instance's current settings.
func (s *Sim) newSnapshotFrom(inst *instance, id, typ string, at time.Time) *snapshot {
	return &snapshot{r: inst.r, id: id, typ: typ, created: at, originalTime: at,
		instanceID: inst.id, rid: inst.rid, instanceCreated: inst.created, cfg: inst.cfg.clone(),
		instanceTags: append([]Tag(nil), inst.tags...), written: inst.writtenAt(at)}
}

// automatedSnapshot records the automated snapshot RDS takes after creating an instance.
func (s *Sim) automatedSnapshot(inst *instance, at time.Time) {
	id := "rds:" + inst.id + "-" + at.UTC().Format("2006-01-02-15-04")
	if _, dup := inst.r.snapshots[id]; dup {
		return
	}
	sn := s.newSnapshotFrom(inst, id, "automated", at)
	sn.progressStart, sn.progressEnd = at, at
	if inst.cfg.CopyTagsToSnapshot {
		sn.tags = append([]Tag(nil), inst.tags...)
	}
	inst.r.snapshots[id] = sn
	if !s.dataSnapshot(inst, sn) {
		s.setSnapshotStatus(sn, snapFailed, at, "AutomatedBackup")
		return
	}
	s.setSnapshotStatus(sn, snapAvailable, at, "AutomatedBackup")
}

type xmlDBSnapshot struct {
	DBSnapshotIdentifier             string
	DBInstanceIdentifier             string
	SnapshotCreateTime               string `xml:",omitempty"`
	Engine                           string
	AllocatedStorage                 int32
	Status                           string
	Port                             int32
	AvailabilityZone                 string `xml:",omitempty"`
	VpcId                            string `xml:",omitempty"`
	InstanceCreateTime               string `xml:",omitempty"`
	MasterUsername                   string `xml:",omitempty"`
	EngineVersion                    string
	LicenseModel                     string `xml:",omitempty"`
	SnapshotType                     string
	Iops                             *int32 `xml:",omitempty"`
	OptionGroupName                  string `xml:",omitempty"`
	PercentProgress                  int32
	SourceRegion                     string `xml:",omitempty"`
	SourceDBSnapshotIdentifier       string `xml:",omitempty"`
	StorageType                      string
	Encrypted                        bool
	KmsKeyId                         string `xml:",omitempty"`
	DBSnapshotArn                    string
	Timezone                         string `xml:",omitempty"`
	IAMDatabaseAuthenticationEnabled bool
	ProcessorFeatures                []ProcessorFeature `xml:"ProcessorFeatures>ProcessorFeature"`
	DbiResourceId                    string
	TagList                          []Tag  `xml:"TagList>Tag"`
	OriginalSnapshotCreateTime       string `xml:",omitempty"`
	SnapshotDatabaseTime             string `xml:",omitempty"`
	SnapshotTarget                   string
	StorageThroughput                *int32 `xml:",omitempty"`
	DedicatedLogVolume               bool
	MultiTenant                      bool
	BackupRetentionPeriod            *int32 `xml:",omitempty"`
	PreferredBackupWindow            string `xml:",omitempty"`
	StorageEncryptionType            string
}

func (s *Sim) renderSnapshot(sn *snapshot, now time.Time) *xmlDBSnapshot {
	c := sn.cfg
	x := &xmlDBSnapshot{DBSnapshotIdentifier: sn.id, DBInstanceIdentifier: sn.instanceID,
		Engine: c.Engine, AllocatedStorage: c.AllocatedStorage, Status: sn.status, Port: c.Port,
		AvailabilityZone: c.AZ, VpcId: sn.r.defaultVPC, InstanceCreateTime: xmlTime(sn.instanceCreated),
		MasterUsername: c.MasterUsername, EngineVersion: c.EngineVersion, LicenseModel: c.License,
		SnapshotType: sn.typ, OptionGroupName: c.OptionGroup, PercentProgress: sn.percent(now),
		SourceRegion: sn.sourceRegion, SourceDBSnapshotIdentifier: sn.sourceSnapshotARN,
		StorageType: c.StorageType, Encrypted: c.StorageEncrypted, KmsKeyId: c.KmsKeyArn,
		DBSnapshotArn: sn.arn(s), Timezone: c.Timezone, IAMDatabaseAuthenticationEnabled: c.IAMAuth,
		ProcessorFeatures: append([]ProcessorFeature(nil), c.ProcessorFeatures...), DbiResourceId: sn.rid,
		TagList: append([]Tag(nil), sn.tags...), OriginalSnapshotCreateTime: xmlTime(sn.originalTime),
		SnapshotTarget: "region", DedicatedLogVolume: c.DedicatedLogVolume,
		PreferredBackupWindow: c.BackupWindow, StorageEncryptionType: "none"}
	if sn.status != snapPending {
		x.SnapshotCreateTime = xmlTime(sn.created)
		x.SnapshotDatabaseTime = xmlTime(sn.originalTime)
	}
	if c.StorageEncrypted {
		x.StorageEncryptionType = "sse-kms"
	}
	if c.Iops > 0 {
		x.Iops = i32p(c.Iops)
	}
	if c.StorageThroughput > 0 {
		x.StorageThroughput = i32p(c.StorageThroughput)
	}
	x.BackupRetentionPeriod = i32p(c.BackupRetention)
	return x
}

type dbSnapshotResult struct {
	DBSnapshot *xmlDBSnapshot
}
