package rdssim

import (
	"strconv"
	"time"
)

// XML shapes of DBCluster and DBClusterSnapshot (docs/aws-behaviour.md#responses-and-errors).

type xmlClusterMember struct {
	DBInstanceIdentifier          string
	IsClusterWriter               bool
	DBClusterParameterGroupStatus string
	PromotionTier                 int32
}

// xmlFloat renders a capacity the way AWS does (0.5, 2, 16).
type xmlFloat float64

// MarshalText makes encoding/xml write the shortest decimal form.
func (f xmlFloat) MarshalText() ([]byte, error) {
	return []byte(strconv.FormatFloat(float64(f), 'f', -1, 64)), nil
}

type xmlServerlessV2 struct {
	MinCapacity xmlFloat
	MaxCapacity xmlFloat
}

type xmlDBCluster struct {
	AllocatedStorage                   int32
	AvailabilityZones                  []string `xml:"AvailabilityZones>AvailabilityZone"`
	BackupRetentionPeriod              int32
	DatabaseName                       string `xml:",omitempty"`
	DBClusterIdentifier                string
	DBClusterParameterGroup            string
	DBSubnetGroup                      string
	Status                             string
	EarliestRestorableTime             string   `xml:",omitempty"`
	Endpoint                           string   `xml:",omitempty"`
	ReaderEndpoint                     string   `xml:",omitempty"`
	CustomEndpoints                    []string `xml:"CustomEndpoints>member"`
	MultiAZ                            bool
	Engine                             string
	EngineVersion                      string
	LatestRestorableTime               string `xml:",omitempty"`
	Port                               int32
	MasterUsername                     string `xml:",omitempty"`
	PreferredBackupWindow              string
	PreferredMaintenanceWindow         string
	ReplicationSourceIdentifier        string             `xml:",omitempty"`
	ReadReplicaIdentifiers             []string           `xml:"ReadReplicaIdentifiers>ReadReplicaIdentifier"`
	DBClusterMembers                   []xmlClusterMember `xml:"DBClusterMembers>DBClusterMember"`
	VpcSecurityGroups                  []xmlVpcSG         `xml:"VpcSecurityGroups>VpcSecurityGroupMembership"`
	HostedZoneId                       string
	StorageEncrypted                   bool
	StorageEncryptionType              string
	KmsKeyId                           string `xml:",omitempty"`
	DbClusterResourceId                string
	DBClusterArn                       string
	IAMDatabaseAuthenticationEnabled   bool
	ClusterCreateTime                  string
	EarliestBacktrackTime              string   `xml:",omitempty"`
	BacktrackWindow                    *int64   `xml:",omitempty"`
	BacktrackConsumedChangeRecords     *int64   `xml:",omitempty"`
	EnabledCloudwatchLogsExports       []string `xml:"EnabledCloudwatchLogsExports>member"`
	Capacity                           *int32   `xml:",omitempty"`
	EngineMode                         string
	PendingModifiedValues              *clusterPending `xml:",omitempty"`
	DeletionProtection                 bool
	HttpEndpointEnabled                bool
	CopyTagsToSnapshot                 bool
	CrossAccountClone                  bool
	TagList                            []Tag  `xml:"TagList>Tag"`
	GlobalClusterIdentifier            string `xml:",omitempty"`
	GlobalWriteForwardingRequested     *bool  `xml:",omitempty"`
	AutoMinorVersionUpgrade            bool
	NetworkType                        string           `xml:",omitempty"`
	ServerlessV2ScalingConfiguration   *xmlServerlessV2 `xml:",omitempty"`
	MasterUserSecret                   *xmlSecret       `xml:",omitempty"`
	StorageType                        string
	EngineLifecycleSupport             string `xml:",omitempty"`
	DatabaseInsightsMode               string `xml:",omitempty"`
	PerformanceInsightsEnabled         bool
	PerformanceInsightsKMSKeyId        string                `xml:",omitempty"`
	PerformanceInsightsRetentionPeriod *int32                `xml:",omitempty"`
	DomainMemberships                  []xmlDomainMembership `xml:"DomainMemberships>DomainMembership"`
	attachedClusterXML
}

// clusterEndpointsVisible reports whether the writer/reader DNS names exist yet.
func clusterEndpointsVisible(cl *cluster) bool {
	return cl.status != clusterCreating && cl.status != statusInaccessibleCreds
}

func (s *Sim) renderCluster(cl *cluster, now time.Time) *xmlDBCluster {
	c := cl.cfg
	x := &xmlDBCluster{
		AllocatedStorage: 1, AvailabilityZones: append([]string(nil), c.AvailabilityZones...),
		BackupRetentionPeriod: c.BackupRetention, DatabaseName: c.DatabaseName, DBClusterIdentifier: cl.id,
		DBClusterParameterGroup: c.ParameterGroup, DBSubnetGroup: c.SubnetGroup, Status: cl.status,
		Engine: c.Engine, EngineVersion: c.EngineVersion, Port: c.Port, MasterUsername: c.MasterUsername,
		PreferredBackupWindow: c.BackupWindow, PreferredMaintenanceWindow: c.MaintenanceWindow,
		ReplicationSourceIdentifier: c.ReplicationSourceIdentifier, HostedZoneId: cl.r.hostedZone,
		StorageEncrypted: c.StorageEncrypted, StorageEncryptionType: "none", KmsKeyId: c.KmsKeyArn,
		DbClusterResourceId: cl.rid, DBClusterArn: cl.arn(s), IAMDatabaseAuthenticationEnabled: c.IAMAuth,
		ClusterCreateTime: xmlTime(cl.created), EnabledCloudwatchLogsExports: append([]string(nil), c.LogExports...),
		EngineMode: c.EngineMode, DeletionProtection: c.DeletionProtection, HttpEndpointEnabled: c.HTTPEndpoint,
		CopyTagsToSnapshot: c.CopyTagsToSnapshot, TagList: append([]Tag(nil), cl.tags...),
		GlobalClusterIdentifier: c.GlobalClusterIdentifier, AutoMinorVersionUpgrade: c.AutoMinorVersionUpgrade,
		NetworkType: c.NetworkType, StorageType: c.StorageType, EngineLifecycleSupport: c.EngineLifecycleSupport,
		DatabaseInsightsMode: c.DatabaseInsightsMode, PerformanceInsightsEnabled: c.PIEnabled,
		PerformanceInsightsKMSKeyId: c.PIKMSKeyID, attachedClusterXML: cl.att.clusterXML(),
	}
	if c.PIEnabled {
		x.PerformanceInsightsRetentionPeriod = i32p(c.PIRetention)
	}
	if c.Domain != "" {
		x.DomainMemberships = []xmlDomainMembership{{Domain: c.Domain, Status: "joined", IAMRoleName: c.DomainIAMRoleName}}
	}
	if c.StorageEncrypted {
		x.StorageEncryptionType = "sse-kms"
	}
	if clusterEndpointsVisible(cl) {
		x.Endpoint, x.ReaderEndpoint = cl.writerAddress(), cl.readerAddress()
		if c.BackupRetention > 0 {
			x.EarliestRestorableTime = xmlTime(cl.created.Add(auroraDur.Create))
			x.LatestRestorableTime = xmlTime(now.Add(-5 * time.Minute).Truncate(5 * time.Minute))
		}
	}
	for _, ep := range sortedEndpointsOf(cl) {
		x.CustomEndpoints = append(x.CustomEndpoints, ep.address())
	}
	for _, rep := range cl.replicas {
		x.ReadReplicaIdentifiers = append(x.ReadReplicaIdentifiers, rep.arn(s))
	}
	w := cl.currentWriter()
	azs := map[string]bool{}
	for _, m := range cl.members() {
		azs[m.cfg.AZ] = true
		x.DBClusterMembers = append(x.DBClusterMembers, xmlClusterMember{DBInstanceIdentifier: m.id,
			IsClusterWriter: m == w, DBClusterParameterGroupStatus: "in-sync", PromotionTier: m.cfg.PromotionTier})
	}
	x.MultiAZ = len(azs) > 1 // instances in more than one AZ
	for _, sg := range c.VpcSecurityGroups {
		x.VpcSecurityGroups = append(x.VpcSecurityGroups, xmlVpcSG{VpcSecurityGroupId: sg, Status: "active"})
	}
	if c.Engine == "aurora-mysql" {
		x.BacktrackWindow = &c.BacktrackWindow
		if c.BacktrackWindow > 0 {
			var zero int64
			x.BacktrackConsumedChangeRecords = &zero
			x.EarliestBacktrackTime = xmlTime(cl.created)
		}
	}
	if !cl.pending.empty() {
		p := cl.pending
		x.PendingModifiedValues = &p
	}
	if v := c.ServerlessV2; v != nil {
		x.ServerlessV2ScalingConfiguration = &xmlServerlessV2{MinCapacity: xmlFloat(v.Min), MaxCapacity: xmlFloat(v.Max)}
	}
	if c.ManageMasterUserPassword {
		x.MasterUserSecret = &xmlSecret{SecretArn: cl.secretARN, SecretStatus: secretStatus(cl.r, cl.secretARN), KmsKeyId: c.MasterUserSecretKmsKeyArn}
	}
	if c.GlobalClusterIdentifier != "" {
		x.GlobalWriteForwardingRequested = boolp(false)
	}
	return x
}

type xmlDBClusterSnapshot struct {
	AvailabilityZones                []string `xml:"AvailabilityZones>AvailabilityZone"`
	DBClusterSnapshotIdentifier      string
	DBClusterIdentifier              string
	SnapshotCreateTime               string `xml:",omitempty"`
	Engine                           string
	EngineMode                       string
	AllocatedStorage                 int32
	Status                           string
	Port                             int32
	VpcId                            string
	ClusterCreateTime                string
	MasterUsername                   string `xml:",omitempty"`
	EngineVersion                    string
	LicenseModel                     string
	SnapshotType                     string
	PercentProgress                  int32
	StorageEncrypted                 bool
	StorageEncryptionType            string
	KmsKeyId                         string `xml:",omitempty"`
	DBClusterSnapshotArn             string
	SourceDBClusterSnapshotArn       string `xml:",omitempty"`
	IAMDatabaseAuthenticationEnabled bool
	TagList                          []Tag `xml:"TagList>Tag"`
	DbClusterResourceId              string
	StorageType                      string
}

func (s *Sim) renderClusterSnapshot(sn *clusterSnapshot, now time.Time) *xmlDBClusterSnapshot {
	c := sn.cfg
	x := &xmlDBClusterSnapshot{
		AvailabilityZones: append([]string(nil), c.AvailabilityZones...), DBClusterSnapshotIdentifier: sn.id,
		DBClusterIdentifier: sn.clusterID, Engine: c.Engine, EngineMode: c.EngineMode, Status: sn.status,
		Port: c.Port, VpcId: subnetGroupVPC(s, sn.r, c.SubnetGroup), ClusterCreateTime: xmlTime(sn.clusterCreated),
		MasterUsername: c.MasterUsername, EngineVersion: c.EngineVersion, LicenseModel: engines[c.Engine].License,
		SnapshotType: sn.typ, PercentProgress: sn.percent(now), StorageEncrypted: c.StorageEncrypted,
		StorageEncryptionType: "none", KmsKeyId: c.KmsKeyArn, DBClusterSnapshotArn: sn.arn(s),
		SourceDBClusterSnapshotArn: sn.sourceARN, IAMDatabaseAuthenticationEnabled: c.IAMAuth,
		TagList: append([]Tag(nil), sn.tags...), DbClusterResourceId: sn.rid, StorageType: c.StorageType,
	}
	if c.StorageEncrypted {
		x.StorageEncryptionType = "sse-kms"
	}
	if sn.status != snapPending {
		x.SnapshotCreateTime = xmlTime(sn.created)
	}
	return x
}
