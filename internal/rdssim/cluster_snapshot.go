package rdssim

import (
	"sort"
	"strings"
	"time"
)

func init() {
	registerRDS("CreateDBClusterSnapshot", createDBClusterSnapshot)
	registerRDS("DescribeDBClusterSnapshots", describeDBClusterSnapshots)
	registerRDS("DeleteDBClusterSnapshot", deleteDBClusterSnapshot)
	registerRDS("CopyDBClusterSnapshot", copyDBClusterSnapshot)
	registerRDS("RestoreDBClusterFromSnapshot", restoreDBClusterFromSnapshot)
	registerTagKind("cluster-snapshot", func(s *Sim, r *region, id string) (*[]Tag, *apiError) {
		sn := aurora(r).snapshots[id]
		if sn == nil {
			return nil, errClusterSnapshotNotFound(id)
		}
		return &sn.tags, nil
	})
	onKeyLoss(func(s *Sim, k *kmsKey, at time.Time) {
		st := aurora(s.regions[k.region])
		for _, sn := range sortedClusterSnapshots(st) {
			if sn.status == snapCreating && (sn.cfg.KmsKeyArn == k.arn || sn.srcKeyARN == k.arn) {
				cancelTimeline(sn)
				s.setClusterSnapshotStatus(sn, snapFailed, at, sn.action)
			}
		}
	})
}

// clusterSnapshot is a DB cluster snapshot (manual or automated).
type clusterSnapshot struct {
	lifecycle
	r              *region
	id             string
	status         string
	typ            string // manual or automated
	created        time.Time
	progressStart  time.Time
	progressEnd    time.Time
	clusterID      string // DBClusterIdentifier when taken
	rid            string // DbClusterResourceId of the source cluster
	clusterCreated time.Time
	cfg            clusterConfig // the cluster's settings when taken (restore defaults)
	tags           []Tag
	sourceARN      string // SourceDBClusterSnapshotArn of a copy
	srcKeyARN      string // key needed to read the source while copying
	action         string
}

func (sn *clusterSnapshot) arn(s *Sim) string { return s.rdsARN(sn.r.name, "cluster-snapshot", sn.id) }

func (s *Sim) setClusterSnapshotStatus(sn *clusterSnapshot, status string, at time.Time, action string) {
	sn.status = status
	s.emit(at, sn.r.name, "cluster-snapshot", sn.id, sn.arn(s), status, action)
}

func (sn *clusterSnapshot) percent(now time.Time) int32 {
	switch sn.status {
	case snapAvailable:
		return 100
	case snapCreating, "copying":
		total := sn.progressEnd.Sub(sn.progressStart)
		if total <= 0 {
			return 0
		}
		p := int32(100 * now.Sub(sn.progressStart) / total)
		return min(max(p, 0), 99)
	}
	return 0
}

func errClusterSnapshotNotFound(id string) *apiError {
	return errf("DBClusterSnapshotNotFoundFault", "DBClusterSnapshot %s not found.", id)
}

func errClusterSnapshotExists(id string) *apiError {
	return errf("DBClusterSnapshotAlreadyExistsFault",
		"Cannot create the cluster snapshot because one with the identifier %s already exists.", id)
}

// clusterSnapshotByRef finds a cluster snapshot by identifier (region r) or ARN (any region).
func (s *Sim) clusterSnapshotByRef(r *region, ref string) (*clusterSnapshot, *apiError) {
	if strings.HasPrefix(ref, "arn:") {
		a, ok := parseARN(ref)
		if !ok || a.Service != "rds" || a.Kind != "cluster-snapshot" {
			return nil, errInvalidValue("Invalid DB cluster snapshot identifier: %s", ref)
		}
		if a.Account != s.account || s.regions[a.Region] == nil {
			return nil, errClusterSnapshotNotFound(ref)
		}
		r, ref = s.regions[a.Region], a.ID
	}
	if sn := aurora(r).snapshots[strings.ToLower(ref)]; sn != nil {
		return sn, nil
	}
	return nil, errClusterSnapshotNotFound(ref)
}

func sortedClusterSnapshots(st *auroraState) []*clusterSnapshot {
	out := make([]*clusterSnapshot, 0, len(st.snapshots))
	for _, sn := range st.snapshots {
		out = append(out, sn)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].id < out[b].id })
	return out
}

// manualClusterSnapshotCount counts the manual cluster snapshots of a region for the quota.
func manualClusterSnapshotCount(r *region) int {
	n := 0
	for _, sn := range aurora(r).snapshots {
		if sn.typ == "manual" {
			n++
		}
	}
	return n
}

func (s *Sim) checkClusterSnapshotQuota(r *region) *apiError {
	if manualClusterSnapshotCount(r) >= s.opts.ManualSnapshotQuota {
		return errf("SnapshotQuotaExceeded", "The request cannot be processed because it would exceed the maximum number of snapshots.")
	}
	return nil
}

// startClusterSnapshot records a snapshot of the cluster's current state and schedules its
// completion. It does not touch the cluster's status.
func (s *Sim) startClusterSnapshot(cl *cluster, id, typ string, tags []Tag, now time.Time, action string) *clusterSnapshot {
	sn := &clusterSnapshot{r: cl.r, id: id, typ: typ, created: now, clusterID: cl.id, rid: cl.rid,
		clusterCreated: cl.created, cfg: cl.cfg.clone(), srcKeyARN: cl.cfg.KmsKeyArn, action: action}
	if cl.cfg.CopyTagsToSnapshot {
		sn.tags = mergeTags(cl.tags, tags)
	} else {
		sn.tags = append([]Tag(nil), tags...)
	}
	aurora(cl.r).snapshots[id] = sn
	dur := sized(auroraDur.SnapshotBase, auroraDur.SnapshotPerGiB, cl.cfg.VolumeGiB)
	sn.progressStart, sn.progressEnd = now, now.Add(dur)
	s.setClusterSnapshotStatus(sn, snapCreating, now, action)
	failed := takeFault(s.faults.failSnapshot, cl.r.name, id)
	s.timeline(sn, now, step{dur, func(at time.Time) {
		if failed {
			s.setClusterSnapshotStatus(sn, snapFailed, at, action)
			return
		}
		s.setClusterSnapshotStatus(sn, snapAvailable, at, action)
	}})
	return sn
}

// automatedClusterSnapshot records the automated snapshot taken at the end of a cluster's
// initial backup.
func (s *Sim) automatedClusterSnapshot(cl *cluster, at time.Time) {
	id := "rds:" + cl.id + "-" + at.UTC().Format("2006-01-02-15-04")
	st := aurora(cl.r)
	if st.snapshots[id] != nil {
		return
	}
	sn := &clusterSnapshot{r: cl.r, id: id, typ: "automated", created: at, progressStart: at, progressEnd: at,
		clusterID: cl.id, rid: cl.rid, clusterCreated: cl.created, cfg: cl.cfg.clone()}
	if cl.cfg.CopyTagsToSnapshot {
		sn.tags = append([]Tag(nil), cl.tags...)
	}
	st.snapshots[id] = sn
	s.setClusterSnapshotStatus(sn, snapAvailable, at, "AutomatedBackup")
}

type dbClusterSnapshotResult struct {
	DBClusterSnapshot *xmlDBClusterSnapshot
}

func createDBClusterSnapshot(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	ref := p.required("DBClusterIdentifier")
	raw := p.required("DBClusterSnapshotIdentifier")
	tags, _ := p.tags("Tags")
	if err := p.Err(); err != nil {
		return nil, err
	}
	id, e := clusterID("DBClusterSnapshotIdentifier", raw)
	if e != nil {
		return nil, e
	}
	cl, e := s.clusterByRef(r, ref)
	if e != nil {
		return nil, e
	}
	if aurora(r).snapshots[id] != nil {
		return nil, errClusterSnapshotExists(id)
	}
	if e := requireClusterAvailable(cl); e != nil {
		return nil, e
	}
	if e := s.checkClusterSnapshotQuota(r); e != nil {
		return nil, e
	}
	if cl.cfg.StorageEncrypted {
		if k := s.keyByARN(cl.cfg.KmsKeyArn); k == nil || k.state != keyEnabled {
			return nil, errKeyNotAccessible(cl.cfg.KmsKeyArn)
		}
	}
	sn := s.startClusterSnapshot(cl, id, "manual", tags, c.now, c.action)
	s.setClusterStatus(cl, clusterBackingUp, c.now, c.action)
	s.timeline(cl, c.now, step{sn.progressEnd.Sub(c.now), func(at time.Time) { s.setClusterStatus(cl, clusterAvailable, at, c.action) }})
	return dbClusterSnapshotResult{DBClusterSnapshot: s.renderClusterSnapshot(sn, c.now)}, nil
}

type describeDBClusterSnapshotsResult struct {
	DBClusterSnapshots []*xmlDBClusterSnapshot `xml:"DBClusterSnapshots>DBClusterSnapshot"`
	Marker             string                  `xml:",omitempty"`
}

func describeDBClusterSnapshots(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	snapRef, bySnap := p.str("DBClusterSnapshotIdentifier")
	clusterRef, byCluster := p.str("DBClusterIdentifier")
	rid, byRID := p.str("DbClusterResourceId")
	typ := p.get("SnapshotType")
	filters := p.filters("db-cluster-id", "db-cluster-snapshot-id", "snapshot-type", "engine")
	max, marker := pageArgs(p)
	if err := p.Err(); err != nil {
		return nil, err
	}
	switch typ {
	case "", "automated", "manual", "shared", "public", "awsbackup":
	default:
		return nil, errInvalidValue("Invalid snapshot type: %s", typ)
	}
	var list []*clusterSnapshot
	if bySnap {
		sn, e := s.clusterSnapshotByRef(r, snapRef)
		if e != nil {
			return nil, e
		}
		list = []*clusterSnapshot{sn}
	} else {
		list = sortedClusterSnapshots(aurora(r))
	}
	var out []*clusterSnapshot
	for _, sn := range list {
		switch {
		case byCluster && !strings.EqualFold(sn.clusterID, idOrARN(clusterRef)):
		case byRID && sn.rid != rid:
		case typ != "" && sn.typ != typ:
		case typ == "" && !bySnap && sn.typ != "manual" && sn.typ != "automated":
		case !clusterSnapshotMatches(s, sn, filters):
		default:
			out = append(out, sn)
		}
	}
	page, next := paginate(out, func(sn *clusterSnapshot) string { return sn.id }, max, marker)
	res := describeDBClusterSnapshotsResult{Marker: next}
	for _, sn := range page {
		res.DBClusterSnapshots = append(res.DBClusterSnapshots, s.renderClusterSnapshot(sn, c.now))
	}
	return res, nil
}

func clusterSnapshotMatches(s *Sim, sn *clusterSnapshot, filters []filter) bool {
	return matchFilters(filters, func(name string) []string {
		switch name {
		case "db-cluster-id":
			return []string{sn.clusterID, s.rdsARN(sn.r.name, "cluster", sn.clusterID)}
		case "db-cluster-snapshot-id":
			return []string{sn.id, sn.arn(s)}
		case "snapshot-type":
			return []string{sn.typ}
		case "engine":
			return []string{sn.cfg.Engine}
		}
		return nil
	})
}

func deleteDBClusterSnapshot(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	ref := p.required("DBClusterSnapshotIdentifier")
	if err := p.Err(); err != nil {
		return nil, err
	}
	sn, e := s.clusterSnapshotByRef(r, ref)
	if e != nil {
		return nil, e
	}
	if sn.r != r {
		return nil, errClusterSnapshotNotFound(ref)
	}
	if sn.typ == "automated" {
		return nil, errf("InvalidDBClusterSnapshotStateFault", "Only manual snapshots may be deleted.")
	}
	if sn.status != snapAvailable && sn.status != snapFailed {
		return nil, errf("InvalidDBClusterSnapshotStateFault", "Cannot delete the snapshot because it is not in available state.")
	}
	s.setClusterSnapshotStatus(sn, snapDeleting, c.now, c.action)
	s.timeline(sn, c.now, step{auroraDur.SnapshotDelete, func(at time.Time) {
		s.emit(at, sn.r.name, "cluster-snapshot", sn.id, sn.arn(s), "deleted", c.action)
		sn.gone = true
		delete(aurora(sn.r).snapshots, sn.id)
	}})
	return dbClusterSnapshotResult{DBClusterSnapshot: s.renderClusterSnapshot(sn, c.now)}, nil
}

// copyDBClusterSnapshot copies a cluster snapshot. Unlike CopyDBSnapshot it cannot encrypt:
// "If you copy an unencrypted DB cluster snapshot and specify a value for the KmsKeyId
// parameter, an error is returned" (API reference; docs/aws-behaviour.md#aurora-clusters). An encrypted source is copied with its
// key, or re-encrypted with KmsKeyId; a cross-region copy of an encrypted snapshot needs a key
// of the destination region.
func copyDBClusterSnapshot(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	srcRef := p.required("SourceDBClusterSnapshotIdentifier")
	raw := p.required("TargetDBClusterSnapshotIdentifier")
	kmsRef, hasKMS := p.str("KmsKeyId")
	copyTags := p.boolean("CopyTags", false)
	tags, _ := p.tags("Tags")
	if err := p.Err(); err != nil {
		return nil, err
	}
	id, e := clusterID("TargetDBClusterSnapshotIdentifier", raw)
	if e != nil {
		return nil, e
	}
	src, e := s.clusterSnapshotByRef(r, srcRef)
	if e != nil {
		return nil, e
	}
	if aurora(r).snapshots[id] != nil {
		return nil, errClusterSnapshotExists(id)
	}
	if src.status != snapAvailable {
		return nil, errf("InvalidDBClusterSnapshotStateFault", "Snapshot %s is not in available state.", src.id)
	}
	if e := s.checkClusterSnapshotQuota(r); e != nil {
		return nil, e
	}
	cross := src.r != r
	cfg := src.cfg.clone()
	reencrypt := false
	switch {
	case !cfg.StorageEncrypted && hasKMS:
		return nil, errCombination("Cannot copy an unencrypted DB cluster snapshot %s with a KMS key: KmsKeyId can only be specified when copying an encrypted DB cluster snapshot.", src.id)
	case cfg.StorageEncrypted && cross && !hasKMS:
		return nil, errInvalidValue("Must specify new KMS key for cross region encrypted snapshot copy.")
	case cfg.StorageEncrypted && hasKMS:
		k, e := s.usableKey(r, kmsRef)
		if e != nil {
			return nil, e
		}
		reencrypt = k.arn != cfg.KmsKeyArn
		cfg.KmsKeyArn = k.arn
	}
	if src.cfg.StorageEncrypted {
		if k := s.keyByARN(src.cfg.KmsKeyArn); k == nil || k.state != keyEnabled {
			return nil, errKeyNotAccessible(src.cfg.KmsKeyArn)
		}
	}
	sn := &clusterSnapshot{r: r, id: id, typ: "manual", created: c.now, clusterID: src.clusterID, rid: src.rid,
		clusterCreated: src.clusterCreated, cfg: cfg, sourceARN: src.arn(s), srcKeyARN: src.cfg.KmsKeyArn, action: c.action}
	if copyTags {
		sn.tags = mergeTags(src.tags, tags)
	} else {
		sn.tags = append([]Tag(nil), tags...)
	}
	if cross {
		// A snapshot copied into another region lives in that region's default VPC.
		sn.cfg.SubnetGroup, sn.cfg.VpcSecurityGroups, sn.cfg.ParameterGroup = "default", nil, ""
		sn.cfg.AvailabilityZones = subnetGroupZones(s, r, "default")
	}
	aurora(r).snapshots[id] = sn
	base, perGiB := auroraDur.CopyBase, auroraDur.CopyPerGiB
	if reencrypt {
		base, perGiB = s.dur.EncryptedCopyBase, s.dur.EncryptedCopyPerGiB
	}
	queue := time.Duration(0)
	if cross {
		queue = s.dur.CrossRegionQueue
		perGiB += s.dur.CrossRegionPerGiB
	}
	work := sized(base, perGiB, cfg.VolumeGiB)
	sn.progressStart, sn.progressEnd = c.now.Add(queue), c.now.Add(queue+work)
	failed := takeFault(s.faults.failSnapshot, r.name, id)
	finish := step{queue + work, func(at time.Time) {
		if failed {
			s.setClusterSnapshotStatus(sn, snapFailed, at, c.action)
			return
		}
		s.setClusterSnapshotStatus(sn, snapAvailable, at, c.action)
	}}
	if cross {
		s.setClusterSnapshotStatus(sn, snapPending, c.now, c.action)
		s.timeline(sn, c.now, step{queue, func(at time.Time) { s.setClusterSnapshotStatus(sn, "copying", at, c.action) }}, finish)
	} else {
		s.setClusterSnapshotStatus(sn, "copying", c.now, c.action)
		s.timeline(sn, c.now, finish)
	}
	return dbClusterSnapshotResult{DBClusterSnapshot: s.renderClusterSnapshot(sn, c.now)}, nil
}

// restoreDBClusterFromSnapshot creates a new cluster (and no instances) from a cluster
// snapshot. KmsKeyId encrypts an unencrypted snapshot's data or re-encrypts an encrypted one;
// without it the cluster keeps the snapshot's encryption. Settings not passed take the
// defaults of docs/aws-behaviour.md#aurora-clusters: default security group, default cluster parameter group, default subnet
// group, no backtracking, no log exports, IAM auth off, deletion protection off, no tag copy,
// a new maintenance window (PreferredMaintenanceWindow is not a member of this API).
func restoreDBClusterFromSnapshot(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	rawID := p.required("DBClusterIdentifier")
	engine := strings.ToLower(p.required("Engine"))
	snapRef := p.required("SnapshotIdentifier")
	if err := p.Err(); err != nil {
		return nil, err
	}
	id, e := clusterID("DBClusterIdentifier", rawID)
	if e != nil {
		return nil, e
	}
	if e := auroraEngine(engine); e != nil {
		return nil, e
	}
	if a, ok := parseARN(snapRef); ok && a.Kind == "snapshot" {
		return nil, errCombination("Restoring a DB instance snapshot (%s) into an Aurora DB cluster is not supported by the simulator.", snapRef)
	}
	sn, e := s.clusterSnapshotByRef(r, snapRef)
	if e != nil {
		return nil, e
	}
	if sn.r != r {
		return nil, errClusterSnapshotNotFound(snapRef)
	}
	if aurora(r).clusters[id] != nil {
		return nil, errf("DBClusterAlreadyExistsFault", "DB Cluster already exists")
	}
	if sn.status != snapAvailable {
		return nil, errf("InvalidDBClusterSnapshotStateFault", "Snapshot %s is not in available state.", sn.id)
	}
	if engine != sn.cfg.Engine {
		return nil, errInvalidValue("The engine name requested for your DB cluster (%s) doesn't match the engine name of your source snapshot (%s).", engine, sn.cfg.Engine)
	}
	src := sn.cfg
	cfg := clusterConfig{Engine: engine, EngineVersion: src.EngineVersion, EngineMode: src.EngineMode, Port: src.Port,
		DatabaseName: src.DatabaseName, MasterUsername: src.MasterUsername, BackupRetention: src.BackupRetention,
		BackupWindow: src.BackupWindow, StorageType: src.StorageType, AutoMinorVersionUpgrade: true,
		StorageEncrypted: src.StorageEncrypted, KmsKeyArn: src.KmsKeyArn, VolumeGiB: src.VolumeGiB}
	if v, ok := p.str("EngineVersion"); ok {
		cfg.EngineVersion = v
	}
	s.parseClusterSettings(p, r, &cfg, c.action)
	kmsRef, hasKMS := p.str("KmsKeyId")
	tags, _ := p.tags("Tags")
	if err := p.Err(); err != nil {
		return nil, err
	}
	roles, e := clusterRoles(p)
	if e != nil {
		return nil, e
	}
	if hasKMS {
		k, e := s.usableKey(r, kmsRef)
		if e != nil {
			return nil, e
		}
		cfg.StorageEncrypted, cfg.KmsKeyArn = true, k.arn
	}
	if src.StorageEncrypted {
		if k := s.keyByARN(src.KmsKeyArn); k == nil || k.state != keyEnabled {
			return nil, errKeyNotAccessible(src.KmsKeyArn)
		}
	}
	if cfg.BackupWindow == "" {
		cfg.BackupWindow = defaultBackupWindow(id)
	}
	cfg.MaintenanceWindow = defaultMaintenanceWindow(id)
	if e := s.finishClusterConfig(r, &cfg); e != nil {
		return nil, e
	}
	cl := s.addCluster(r, id, cfg, tags, c.now, c.action)
	cl.att.roles = roles
	build := sized(auroraDur.RestoreBase, auroraDur.RestorePerGiB, cfg.VolumeGiB)
	if cfg.StorageEncrypted && cfg.KmsKeyArn != src.KmsKeyArn {
		build += sized(0, s.dur.EncryptedCopyPerGiB, cfg.VolumeGiB)
	}
	if takeFault(s.faults.failRestore, r.name, id) {
		s.timeline(cl, c.now, step{build, func(at time.Time) { s.setClusterStatus(cl, statusIncompatibleRest, at, c.action) }})
	} else {
		s.provisionCluster(cl, c.now, build, c.action)
	}
	if cfg.StorageEncrypted {
		s.keyUsed(cfg.KmsKeyArn, KeyUseRestore, c.now)
	}
	return dbClusterResult{DBCluster: s.renderCluster(cl, c.now)}, nil
}
