package rdssim

import (
	"sort"
	"strings"
	"time"
)

// Aurora DB clusters (docs/aws-behaviour.md#renaming-a-cluster, #aurora-clusters). A cluster owns the storage, the engine
// settings and the writer/reader endpoints; its DB instances are created with CreateDBInstance
// and DBClusterIdentifier. Membership is derived from the instances' clusterID, so instance
// deletes and renames in the core need no callbacks.

// DB cluster statuses used by the simulator (docs/aws-behaviour.md#statuses).
const (
	clusterAvailable = "available"
	clusterCreating  = "creating"
	clusterBackingUp = "backing-up"
	clusterModifying = "modifying"
	clusterRenaming  = "renaming"
	clusterDeleting  = "deleting"
)

// AuroraDurations is the virtual-time model of cluster operations. AWS documents none of
// these; the values are of the order the console shows for small clusters:
//
//   - a new cluster is "creating" for a few minutes (no data to load), then "backing-up" for its
//     first automated backup;
//   - a restore from a cluster snapshot attaches a copy of the storage volume: a few minutes
//     plus a small per-GiB term;
//   - a rename (NewDBClusterIdentifier) is "renaming" for about 2 minutes, the figure AWS gives
//     for Multi-AZ DB clusters (multi-az-db-cluster-rename);
//   - cluster snapshots are storage-level and quick; a copy that (re-)encrypts takes longer.
type AuroraDurations struct {
	Create, InitialBackup         time.Duration
	RestoreBase, RestorePerGiB    time.Duration
	Modify, Rename, Delete        time.Duration
	SnapshotBase, SnapshotPerGiB  time.Duration
	CopyBase, CopyPerGiB          time.Duration
	SnapshotDelete                time.Duration
	EndpointCreate, EndpointApply time.Duration
	EndpointDelete                time.Duration
}

// DefaultAuroraDurations returns the cluster duration model.
func DefaultAuroraDurations() AuroraDurations {
	return AuroraDurations{
		Create: 4 * time.Minute, InitialBackup: time.Minute,
		RestoreBase: 5 * time.Minute, RestorePerGiB: 3 * time.Second,
		Modify: 2 * time.Minute, Rename: 2 * time.Minute, Delete: 3 * time.Minute,
		SnapshotBase: time.Minute, SnapshotPerGiB: 2 * time.Second,
		CopyBase: 2 * time.Minute, CopyPerGiB: 4 * time.Second,
		SnapshotDelete: 10 * time.Second,
		EndpointCreate: time.Minute, EndpointApply: time.Minute, EndpointDelete: 30 * time.Second,
	}
}

var auroraDur = DefaultAuroraDurations()

// defaultClusterGiB is the notional volume size of a cluster that does not state one; it
// only scales durations (Aurora reports AllocatedStorage 1).
const defaultClusterGiB = 10

// serverlessV2 is a ServerlessV2ScalingConfiguration.
type serverlessV2 struct {
	Min, Max float64
}

// clusterConfig is every setting of an Aurora cluster that create, restore and modify read.
type clusterConfig struct {
	Engine, EngineVersion, EngineMode string
	Port                              int32
	SubnetGroup                       string
	VpcSecurityGroups                 []string
	ParameterGroup                    string
	DatabaseName, MasterUsername      string
	BackupRetention                   int32
	BackupWindow, MaintenanceWindow   string
	CopyTagsToSnapshot                bool
	DeletionProtection                bool
	IAMAuth                           bool
	LogExports                        []string
	BacktrackWindow                   int64
	StorageEncrypted                  bool
	KmsKeyArn                         string
	StorageType                       string // aurora | aurora-iopt1
	ServerlessV2                      *serverlessV2
	AvailabilityZones                 []string
	NetworkType                       string
	AutoMinorVersionUpgrade           bool
	EngineLifecycleSupport            string
	ManageMasterUserPassword          bool
	MasterUserSecretKmsKeyArn         string
	HTTPEndpoint                      bool
	insights                          // Performance Insights and Database Insights (insights.go)
	// Domain and DomainIAMRoleName: the Active Directory directory of Kerberos
	// authentication, and the role RDS calls Directory Service with.
	Domain, DomainIAMRoleName   string
	GlobalClusterIdentifier     string
	ReplicationSourceIdentifier string
	VolumeGiB                   int32
}

func (c clusterConfig) clone() clusterConfig {
	c.VpcSecurityGroups = append([]string(nil), c.VpcSecurityGroups...)
	c.LogExports = append([]string(nil), c.LogExports...)
	c.AvailabilityZones = append([]string(nil), c.AvailabilityZones...)
	if c.ServerlessV2 != nil {
		v := *c.ServerlessV2
		c.ServerlessV2 = &v
	}
	return c
}

// clusterPending is the PendingModifiedValues of a cluster: what waits for the maintenance
// window because ApplyImmediately was false (the rename and an engine version change).
type clusterPending struct {
	DBClusterIdentifier *string `xml:",omitempty"`
	EngineVersion       *string `xml:",omitempty"`
}

func (p clusterPending) empty() bool { return p.DBClusterIdentifier == nil && p.EngineVersion == nil }

// cluster is an Aurora DB cluster.
type cluster struct {
	lifecycle
	r         *region
	id        string // current identifier, lower case
	rid       string // DbClusterResourceId, never changes
	status    string
	created   time.Time
	cfg       clusterConfig
	tags      []Tag
	pending   clusterPending
	writer    *instance // the current writer; re-elected when it leaves the cluster
	secretARN string
	action    string
	replicas  []*cluster // clusters whose ReplicationSourceIdentifier is this cluster
	att       attached   // roles, activity stream (attachments.go)
}

func (cl *cluster) arn(s *Sim) string { return s.rdsARN(cl.r.name, "cluster", cl.id) }

// auroraState is the per-region state of the cluster family.
type auroraState struct {
	clusters  map[string]*cluster         // by identifier
	snapshots map[string]*clusterSnapshot // by identifier
	endpoints map[string]*clusterEndpoint // custom endpoints by identifier (unique per region)
}

func aurora(r *region) *auroraState {
	return regionExt(r, "aurora", func() *auroraState {
		return &auroraState{clusters: map[string]*cluster{}, snapshots: map[string]*clusterSnapshot{},
			endpoints: map[string]*clusterEndpoint{}}
	})
}

func (s *Sim) setClusterStatus(cl *cluster, status string, at time.Time, action string) {
	cl.status = status
	s.emit(at, cl.r.name, "cluster", cl.id, cl.rid, status, action)
}

func errClusterNotFound(id string) *apiError {
	return errf("DBClusterNotFoundFault", "DBCluster %s not found.", id)
}

func errClusterState(format string, args ...any) *apiError {
	return errf("InvalidDBClusterStateFault", format, args...)
}

// clusterID validates and lower-cases a DB cluster identifier (1-63, same rules as
// instances).
func clusterID(param, id string) (string, *apiError) { return instanceID(param, id) }

// clusterByRef finds a cluster of region r by identifier or ARN.
func (s *Sim) clusterByRef(r *region, ref string) (*cluster, *apiError) {
	if strings.HasPrefix(ref, "arn:") {
		a, ok := parseARN(ref)
		if !ok || a.Service != "rds" || a.Kind != "cluster" {
			return nil, errInvalidValue("Invalid DB cluster identifier: %s", ref)
		}
		if a.Account != s.account || s.regions[a.Region] == nil {
			return nil, errClusterNotFound(ref)
		}
		r, ref = s.regions[a.Region], a.ID
	}
	if cl := aurora(r).clusters[strings.ToLower(ref)]; cl != nil {
		return cl, nil
	}
	return nil, errClusterNotFound(ref)
}

func sortedClusters(r *region) []*cluster {
	m := aurora(r).clusters
	out := make([]*cluster, 0, len(m))
	for _, cl := range m {
		out = append(out, cl)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].id < out[b].id })
	return out
}

// members returns the cluster's DB instances, oldest first.
func (cl *cluster) members() []*instance {
	var out []*instance
	for _, i := range cl.r.instances {
		if i.clusterID == cl.id {
			out = append(out, i)
		}
	}
	sort.Slice(out, func(a, b int) bool {
		if !out[a].created.Equal(out[b].created) {
			return out[a].created.Before(out[b].created)
		}
		return out[a].id < out[b].id
	})
	return out
}

// currentWriter returns the writer, electing one when the previous writer left: the first
// member created is the writer; on its loss the member with the lowest promotion tier (then
// the oldest) takes over, as an Aurora failover does.
func (cl *cluster) currentWriter() *instance {
	ms := cl.members()
	for _, m := range ms {
		if m == cl.writer {
			return m
		}
	}
	failover := cl.writer != nil
	cl.writer = nil
	for _, m := range ms {
		switch {
		case m.status == statusDeleting:
		case cl.writer == nil:
			cl.writer = m
		case failover && m.cfg.PromotionTier < cl.writer.cfg.PromotionTier:
			cl.writer = m
		}
	}
	return cl.writer
}

// Endpoint addresses (docs/aws-behaviour.md#endpoints).
func (cl *cluster) writerAddress() string {
	return cl.id + ".cluster-" + cl.r.suffix + "." + cl.r.name + ".rds.amazonaws.com"
}

func (cl *cluster) readerAddress() string {
	return cl.id + ".cluster-ro-" + cl.r.suffix + "." + cl.r.name + ".rds.amazonaws.com"
}

// requireClusterAvailable returns InvalidDBClusterStateFault unless the cluster is available.
func requireClusterAvailable(cl *cluster) *apiError {
	if cl.status == clusterAvailable {
		return nil
	}
	return errClusterState("DBCluster %s is not in the available state.", cl.id)
}

// removeCluster drops a cluster, its custom endpoints and its automated snapshots.
func (s *Sim) removeCluster(cl *cluster, keepAutomated bool) {
	st := aurora(cl.r)
	cl.gone = true
	if cl.secretARN != "" { // RDS deletes the managed secret with its cluster
		s.deleteSecret(cl.r, cl.secretARN, s.clock.now())
	}
	delete(st.clusters, cl.id)
	for id, ep := range st.endpoints {
		if ep.cluster == cl {
			ep.gone = true
			delete(st.endpoints, id)
		}
	}
	if !keepAutomated {
		for id, sn := range st.snapshots {
			if sn.typ == "automated" && sn.rid == cl.rid {
				sn.gone = true
				delete(st.snapshots, id)
			}
		}
	}
	for _, rep := range cl.replicas {
		rep.cfg.ReplicationSourceIdentifier = "" // promoted to standalone
	}
	if src := s.replicationSource(cl); src != nil {
		out := src.replicas[:0]
		for _, x := range src.replicas {
			if x != cl {
				out = append(out, x)
			}
		}
		src.replicas = out
	}
}

// replicationSource returns the cluster a cross-region replica cluster replicates from.
func (s *Sim) replicationSource(cl *cluster) *cluster {
	if cl.cfg.ReplicationSourceIdentifier == "" {
		return nil
	}
	a, ok := parseARN(cl.cfg.ReplicationSourceIdentifier)
	if !ok || s.regions[a.Region] == nil {
		return nil
	}
	src, _ := s.clusterByRef(s.regions[a.Region], a.ID)
	return src
}

// provisionCluster runs the timeline of a new cluster: creating for build, then the first
// automated backup, then available.
func (s *Sim) provisionCluster(cl *cluster, start time.Time, build time.Duration, action string) {
	s.timeline(cl, start,
		step{build, func(at time.Time) { s.setClusterStatus(cl, clusterBackingUp, at, action) }},
		step{build + auroraDur.InitialBackup, func(at time.Time) {
			s.automatedClusterSnapshot(cl, at)
			s.setClusterStatus(cl, clusterAvailable, at, action)
		}})
}

func init() {
	clusterMemberHook = joinCluster
	registerTagKind("cluster", func(s *Sim, r *region, id string) (*[]Tag, *apiError) {
		cl := aurora(r).clusters[id]
		if cl == nil {
			return nil, errClusterNotFound(id)
		}
		return &cl.tags, nil
	})
	// A key that becomes unusable while a cluster is being built leaves it without its
	// encryption credentials, as for instances.
	onKeyLoss(func(s *Sim, k *kmsKey, at time.Time) {
		for _, cl := range sortedClusters(s.regions[k.region]) {
			if cl.cfg.KmsKeyArn == k.arn && cl.status == clusterCreating {
				cancelTimeline(cl)
				s.setClusterStatus(cl, statusInaccessibleCreds, at, cl.action)
			}
		}
	})
}

// joinCluster is the core's clusterMemberHook: CreateDBInstance with DBClusterIdentifier.
// Storage, encryption, backups, network, port and credentials belong to the cluster (docs/aws-behaviour.md#aurora-clusters); the
// instance keeps its class, parameter group, promotion tier, AZ, monitoring and tags.
func joinCluster(c *call, inst *instance, ref string) *apiError {
	cl, e := c.sim.clusterByRef(c.r, ref)
	if e != nil {
		return e
	}
	p := c.p
	if _, ok := p.str("MasterUserPassword"); ok {
		return errCombination("The requested DB Instance will be a member of a DB Cluster. Set master user password for the DB Cluster.")
	}
	if engineBase(inst.cfg.Engine) != engineBase(cl.cfg.Engine) {
		return errCombination("The engine name requested for your DB instance (%s) doesn't match the engine name of your DB cluster (%s).", inst.cfg.Engine, cl.cfg.Engine)
	}
	if cl.status == clusterDeleting || cl.status == statusInaccessibleCreds {
		return errClusterState("DBCluster %s is not in the available state.", cl.id)
	}
	if inst.cfg.Class == "db.serverless" && cl.cfg.ServerlessV2 == nil {
		return errCombination("Set the Serverless v2 scaling configuration on the parent DB cluster before creating a Serverless v2 DB instance.")
	}
	if inst.cfg.PromotionTier < 0 || inst.cfg.PromotionTier > 15 {
		return errInvalidValue("Invalid PromotionTier %d: must be between 0 and 15.", inst.cfg.PromotionTier)
	}
	cc := cl.cfg
	ic := &inst.cfg
	ic.Engine, ic.EngineVersion = cl.cfg.Engine, cc.EngineVersion
	ic.AllocatedStorage, ic.StorageType, ic.Iops, ic.StorageThroughput, ic.MaxAllocatedStorage = 1, cc.StorageType, 0, 0, 0
	ic.StorageEncrypted, ic.KmsKeyArn = cc.StorageEncrypted, cc.KmsKeyArn
	ic.BackupRetention, ic.BackupWindow = cc.BackupRetention, cc.BackupWindow
	ic.Port, ic.SubnetGroup = cc.Port, cc.SubnetGroup
	ic.VpcSecurityGroups = append([]string(nil), cc.VpcSecurityGroups...)
	ic.MasterUsername, ic.DBName = cc.MasterUsername, ""
	if cl.cfg.Engine == "aurora-mysql" {
		ic.DBName = cc.DatabaseName
	}
	ic.IAMAuth, ic.CopyTagsToSnapshot, ic.DeletionProtection = cc.IAMAuth, cc.CopyTagsToSnapshot, false
	ic.LogExports = nil
	ic.MultiAZ = false
	ic.NetworkType = cc.NetworkType
	if ic.ParameterGroup == "" {
		ic.ParameterGroup = "default." + engines[cc.Engine].Family(cc.EngineVersion)
	}
	ic.OptionGroup = engines[cc.Engine].OptionGroup(cc.EngineVersion)
	ic.License = engines[cc.Engine].License
	return nil
}
