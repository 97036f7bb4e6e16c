package rdssim

import (
	"fmt"
	"time"
)

// pendingMods is both the simulator's record of deferred changes and the
// PendingModifiedValues element.
type pendingMods struct {
	AllocatedStorage                 *int32  `xml:",omitempty"`
	BackupRetentionPeriod            *int32  `xml:",omitempty"`
	CACertificateIdentifier          *string `xml:",omitempty"`
	DBInstanceClass                  *string `xml:",omitempty"`
	DBInstanceIdentifier             *string `xml:",omitempty"`
	DBSubnetGroupName                *string `xml:",omitempty"`
	EngineVersion                    *string `xml:",omitempty"`
	IAMDatabaseAuthenticationEnabled *bool   `xml:",omitempty"`
	Iops                             *int32  `xml:",omitempty"`
	LicenseModel                     *string `xml:",omitempty"`
	MasterUserPassword               *string `xml:",omitempty"`
	MultiAZ                          *bool   `xml:",omitempty"`
	Port                             *int32  `xml:",omitempty"`
	StorageThroughput                *int32  `xml:",omitempty"`
	StorageType                      *string `xml:",omitempty"`
}

type xmlEndpoint struct {
	Address      string
	Port         int32
	HostedZoneId string
}

type xmlVpcSG struct {
	VpcSecurityGroupId string
	Status             string
}

type xmlParamGroupStatus struct {
	DBParameterGroupName string
	ParameterApplyStatus string
}

type xmlOptionGroupMembership struct {
	OptionGroupName string
	Status          string
}

type xmlStatusInfo struct {
	StatusType string
	Normal     bool
	Status     string
	Message    string `xml:",omitempty"`
}

type xmlSubnet struct {
	SubnetIdentifier       string
	SubnetAvailabilityZone struct{ Name string }
	SubnetStatus           string
}

// XMLSubnetGroup is the DBSubnetGroup element embedded in a DBInstance.
type xmlSubnetGroup struct {
	DBSubnetGroupName        string
	DBSubnetGroupDescription string
	VpcId                    string
	SubnetGroupStatus        string
	Subnets                  []xmlSubnet `xml:"Subnets>Subnet"`
	DBSubnetGroupArn         string      `xml:",omitempty"`
	SupportedNetworkTypes    []string    `xml:"SupportedNetworkTypes>member"`
}

type xmlCertDetails struct {
	CAIdentifier string
	ValidTill    string
}

type xmlSecret struct {
	SecretArn    string
	SecretStatus string
	KmsKeyId     string
}

type xmlDBInstance struct {
	DBInstanceIdentifier                  string
	DBInstanceClass                       string
	Engine                                string
	DBInstanceStatus                      string
	MasterUsername                        string       `xml:",omitempty"`
	DBName                                string       `xml:",omitempty"`
	Endpoint                              *xmlEndpoint `xml:",omitempty"`
	AllocatedStorage                      int32
	InstanceCreateTime                    string `xml:",omitempty"`
	PreferredBackupWindow                 string `xml:",omitempty"`
	BackupRetentionPeriod                 int32
	VpcSecurityGroups                     []xmlVpcSG            `xml:"VpcSecurityGroups>VpcSecurityGroupMembership"`
	DBParameterGroups                     []xmlParamGroupStatus `xml:"DBParameterGroups>DBParameterGroup"`
	AvailabilityZone                      string                `xml:",omitempty"`
	DBSubnetGroup                         *xmlSubnetGroup       `xml:",omitempty"`
	PreferredMaintenanceWindow            string                `xml:",omitempty"`
	PendingModifiedValues                 pendingMods
	LatestRestorableTime                  string `xml:",omitempty"`
	MultiAZ                               bool
	EngineVersion                         string
	AutoMinorVersionUpgrade               bool
	ReadReplicaSourceDBInstanceIdentifier string                     `xml:",omitempty"`
	ReadReplicaDBInstanceIdentifiers      []string                   `xml:"ReadReplicaDBInstanceIdentifiers>ReadReplicaDBInstanceIdentifier"`
	ReplicaMode                           string                     `xml:",omitempty"`
	LicenseModel                          string                     `xml:",omitempty"`
	Iops                                  *int32                     `xml:",omitempty"`
	StorageThroughput                     *int32                     `xml:",omitempty"`
	OptionGroupMemberships                []xmlOptionGroupMembership `xml:"OptionGroupMemberships>OptionGroupMembership"`
	CharacterSetName                      string                     `xml:",omitempty"`
	NcharCharacterSetName                 string                     `xml:",omitempty"`
	SecondaryAvailabilityZone             string                     `xml:",omitempty"`
	PubliclyAccessible                    bool
	StatusInfos                           []xmlStatusInfo `xml:"StatusInfos>DBInstanceStatusInfo"`
	StorageType                           string
	DbInstancePort                        int32
	DBClusterIdentifier                   string `xml:",omitempty"`
	StorageEncrypted                      bool
	StorageEncryptionType                 string
	KmsKeyId                              string `xml:",omitempty"`
	DbiResourceId                         string
	CACertificateIdentifier               string
	CopyTagsToSnapshot                    bool
	MonitoringInterval                    int32
	EnhancedMonitoringResourceArn         string `xml:",omitempty"`
	MonitoringRoleArn                     string `xml:",omitempty"`
	PromotionTier                         *int32 `xml:",omitempty"`
	DBInstanceArn                         string
	Timezone                              string `xml:",omitempty"`
	IAMDatabaseAuthenticationEnabled      bool
	DatabaseInsightsMode                  string `xml:",omitempty"`
	PerformanceInsightsEnabled            bool
	PerformanceInsightsKMSKeyId           string             `xml:",omitempty"`
	PerformanceInsightsRetentionPeriod    *int32             `xml:",omitempty"`
	EnabledCloudwatchLogsExports          []string           `xml:"EnabledCloudwatchLogsExports>member"`
	ProcessorFeatures                     []ProcessorFeature `xml:"ProcessorFeatures>ProcessorFeature"`
	DeletionProtection                    bool
	MaxAllocatedStorage                   *int32 `xml:",omitempty"`
	TagList                               []Tag  `xml:"TagList>Tag"`
	CustomerOwnedIpEnabled                bool
	BackupTarget                          string          `xml:",omitempty"`
	NetworkType                           string          `xml:",omitempty"`
	CertificateDetails                    *xmlCertDetails `xml:",omitempty"`
	MasterUserSecret                      *xmlSecret      `xml:",omitempty"`
	DedicatedLogVolume                    bool
	IsStorageConfigUpgradeAvailable       bool
	MultiTenant                           bool
	EngineLifecycleSupport                string                `xml:",omitempty"`
	DomainMemberships                     []xmlDomainMembership `xml:"DomainMemberships>DomainMembership"`
	attachedInstanceXML
}

type xmlDomainMembership struct {
	Domain      string
	Status      string
	IAMRoleName string `xml:",omitempty"`
}

func i32p(v int32) *int32 { return &v }

func strp(s string) *string { return &s }

func boolp(b bool) *bool { return &b }

// endpointVisible reports whether the instance has a DNS endpoint in its current status.
func endpointVisible(i *instance) bool {
	switch i.status {
	case statusCreating, statusIncompatibleRest:
		return false
	}
	return true
}

// render builds the DBInstance element. It copies every slice, so the result can be
// encoded after the lock is released.
func (s *Sim) renderInstance(i *instance) *xmlDBInstance {
	c := i.cfg
	x := &xmlDBInstance{
		DBInstanceIdentifier: i.id, DBInstanceClass: c.Class, Engine: c.Engine, DBInstanceStatus: i.status,
		MasterUsername: c.MasterUsername, DBName: c.DBName, AllocatedStorage: c.AllocatedStorage,
		InstanceCreateTime: xmlTime(i.created), PreferredBackupWindow: c.BackupWindow,
		BackupRetentionPeriod: c.BackupRetention, AvailabilityZone: c.AZ,
		PreferredMaintenanceWindow: c.MaintenanceWindow, PendingModifiedValues: i.pending,
		MultiAZ: c.MultiAZ, EngineVersion: c.EngineVersion, AutoMinorVersionUpgrade: c.AutoMinorVersionUpgrade,
		ReplicaMode: c.ReplicaMode, LicenseModel: c.License, CharacterSetName: c.CharacterSet,
		NcharCharacterSetName: c.NcharCharacterSet, SecondaryAvailabilityZone: c.SecondaryAZ,
		PubliclyAccessible: c.PubliclyAccessible, StorageType: c.StorageType, DbInstancePort: c.Port,
		DBClusterIdentifier: i.clusterID, StorageEncrypted: c.StorageEncrypted, StorageEncryptionType: "none",
		KmsKeyId: c.KmsKeyArn, DbiResourceId: i.rid, CACertificateIdentifier: c.CACertificate,
		CopyTagsToSnapshot: c.CopyTagsToSnapshot, MonitoringInterval: c.MonitoringInterval,
		MonitoringRoleArn: c.MonitoringRoleArn, DBInstanceArn: i.arn(s), Timezone: c.Timezone,
		IAMDatabaseAuthenticationEnabled: c.IAMAuth, DatabaseInsightsMode: c.DatabaseInsightsMode,
		PerformanceInsightsEnabled: c.PIEnabled, DeletionProtection: c.DeletionProtection,
		EnabledCloudwatchLogsExports: append([]string(nil), c.LogExports...),
		ProcessorFeatures:            append([]ProcessorFeature(nil), c.ProcessorFeatures...),
		TagList:                      append([]Tag(nil), i.tags...), CustomerOwnedIpEnabled: c.CustomerOwnedIP,
		BackupTarget: c.BackupTarget, NetworkType: c.NetworkType, DedicatedLogVolume: c.DedicatedLogVolume,
		EngineLifecycleSupport: c.EngineLifecycleSupport,
		attachedInstanceXML:    i.att.instanceXML(),
	}
	for _, d := range c.DomainMemberships {
		x.DomainMemberships = append(x.DomainMemberships, xmlDomainMembership{Domain: d, Status: "joined"})
	}
	if c.StorageEncrypted {
		x.StorageEncryptionType = "sse-kms"
	}
	if i.renameTo != "" {
		x.PendingModifiedValues.DBInstanceIdentifier = strp(i.renameTo)
	}
	if endpointVisible(i) {
		x.Endpoint = &xmlEndpoint{Address: s.endpointAddress(i), Port: c.Port, HostedZoneId: i.r.hostedZone}
		if c.BackupRetention > 0 {
			x.LatestRestorableTime = xmlTime(s.clock.now().Add(-5 * time.Minute).Truncate(5 * time.Minute))
		}
	}
	for _, sg := range c.VpcSecurityGroups {
		x.VpcSecurityGroups = append(x.VpcSecurityGroups, xmlVpcSG{VpcSecurityGroupId: sg, Status: "active"})
	}
	if c.ParameterGroup != "" {
		st := i.paramApply
		if st == "" {
			st = "in-sync"
		}
		x.DBParameterGroups = []xmlParamGroupStatus{{DBParameterGroupName: c.ParameterGroup, ParameterApplyStatus: st}}
	}
	if c.OptionGroup != "" {
		x.OptionGroupMemberships = []xmlOptionGroupMembership{{OptionGroupName: c.OptionGroup, Status: "in-sync"}}
	}
	if c.SubnetGroup != "" {
		x.DBSubnetGroup = subnetGroupView(s, i.r, c.SubnetGroup)
	}
	if c.Iops > 0 {
		x.Iops = i32p(c.Iops)
	}
	if c.StorageThroughput > 0 {
		x.StorageThroughput = i32p(c.StorageThroughput)
	}
	if c.MaxAllocatedStorage > 0 {
		x.MaxAllocatedStorage = i32p(c.MaxAllocatedStorage)
	}
	if i.clusterID != "" {
		x.PromotionTier = i32p(c.PromotionTier)
	}
	if c.MonitoringInterval > 0 {
		x.EnhancedMonitoringResourceArn = fmt.Sprintf("arn:aws:logs:%s:%s:log-group:RDSOSMetrics:log-stream:%s", i.r.name, s.account, i.rid)
	}
	if c.PIEnabled {
		x.PerformanceInsightsKMSKeyId = c.PIKMSKeyID
		x.PerformanceInsightsRetentionPeriod = i32p(c.PIRetention)
	}
	if c.CACertificate != "" {
		x.CertificateDetails = &xmlCertDetails{CAIdentifier: c.CACertificate,
			ValidTill: xmlTime(i.created.AddDate(1, 0, 0).Truncate(24 * time.Hour))}
	}
	if c.ManageMasterUserPassword {
		x.MasterUserSecret = &xmlSecret{SecretArn: i.secretARN, SecretStatus: secretStatus(i.r, i.secretARN), KmsKeyId: c.MasterUserSecretKmsKeyArn}
	}
	if src := i.source; src != nil {
		if src.r == i.r {
			x.ReadReplicaSourceDBInstanceIdentifier = src.id
		} else {
			x.ReadReplicaSourceDBInstanceIdentifier = src.arn(s)
		}
		st := xmlStatusInfo{StatusType: "read replication", Normal: true, Status: "replicating"}
		x.StatusInfos = []xmlStatusInfo{st}
	}
	for _, rep := range i.replicas {
		if rep.r == i.r {
			x.ReadReplicaDBInstanceIdentifiers = append(x.ReadReplicaDBInstanceIdentifiers, rep.id)
		} else {
			x.ReadReplicaDBInstanceIdentifiers = append(x.ReadReplicaDBInstanceIdentifiers, rep.arn(s))
		}
	}
	return x
}

// dbInstanceResult is the result element of the single-instance actions.
type dbInstanceResult struct {
	DBInstance *xmlDBInstance
}
