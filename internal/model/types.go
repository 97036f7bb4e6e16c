// Package model is rdsencrypt's view of RDS and KMS: DB instances, clusters, snapshots and
// keys with their settings, the route by which each setting reaches a restored resource,
// statuses, the Failure classes of AWS errors, and the RDS interface that the AWS adapter
// (internal/awsclient, the only importer of the SDK's service packages) implements.
package model

import (
	"strings"
	"time"
)

// Tags is a resource's tag set, key to value.
type Tags map[string]string

// Tag keys every resource created by rdsencrypt carries (docs/architecture.md#tags-and-names).
const (
	TagMigrationID = "rdsencrypt:migration-id"
	TagSource      = "rdsencrypt:source"
	TagRole        = "rdsencrypt:role"
)

// ParameterGroup is a DB parameter group.
type ParameterGroup struct {
	Name   string
	Family string // DBParameterGroupFamily, e.g. mariadb10.11
	ARN    string
	Tags   Tags
}

// Parameter is a parameter of a DB parameter group as DescribeDBParameters lists it: its value
// ("" when it has none) and where the value comes from.
type Parameter struct {
	Value string
	// Source is "user" when the group sets the value itself, "system" or "engine-default"
	// when it is the family's default (DescribeDBParameters: Source, "user | system |
	// engine-default").
	Source string
}

// ParameterSourceUser is the Source of a value the group sets itself.
const ParameterSourceUser = "user"

// ByUser reports whether the group sets the value itself: an operator's value, not the
// family's default, whatever the value reads.
func (p Parameter) ByUser() bool { return p.Source == ParameterSourceUser }

// DefaultParameterGroup reports whether name is one of AWS's default DB parameter groups,
// default.<family>: custom group names hold only letters, digits and hyphens.
func DefaultParameterGroup(name string) bool {
	return strings.HasPrefix(strings.ToLower(name), "default.")
}

// InstanceSettings are the settings of a DB instance that a migration must carry from the
// source to its encrypted replacement (docs/aws-behaviour.md#restore and #read-replicas). The same struct is
// read from a described instance and given to restore, replica creation and modify calls.
// A zero value means "not set" for strings and slices.
type InstanceSettings struct {
	DBInstanceClass                    string
	Engine                             string
	EngineVersion                      string
	LicenseModel                       string
	AllocatedStorage                   int32
	MaxAllocatedStorage                int32
	StorageType                        string
	Iops                               int32
	StorageThroughput                  int32
	MultiAZ                            bool
	AvailabilityZone                   string
	DBSubnetGroupName                  string
	VpcSecurityGroupIDs                []string
	DBParameterGroupName               string
	OptionGroupName                    string
	Port                               int32
	PubliclyAccessible                 bool
	AutoMinorVersionUpgrade            bool
	CopyTagsToSnapshot                 bool
	DeletionProtection                 bool
	IAMDatabaseAuthenticationEnabled   bool
	EnabledCloudwatchLogsExports       []string
	CACertificateIdentifier            string
	BackupRetentionPeriod              int32
	PreferredBackupWindow              string
	PreferredMaintenanceWindow         string
	MonitoringInterval                 int32
	MonitoringRoleArn                  string
	PerformanceInsightsEnabled         bool
	PerformanceInsightsKMSKeyID        string
	PerformanceInsightsRetentionPeriod int32
	DatabaseInsightsMode               string
	NetworkType                        string
	StorageEncrypted                   bool
	KmsKeyID                           string
	// ManagedMasterUserSecret is true when the master password is kept in Secrets Manager
	// (Instance.MasterUserSecretARN names the secret).
	ManagedMasterUserSecret bool
	// AssociatedRoles are IAM role associations as "FeatureName=RoleArn".
	AssociatedRoles []string
	// EngineLifecycleSupport: open-source-rds-extended-support (AWS's default, paid after the
	// end of standard support) or open-source-rds-extended-support-disabled.
	EngineLifecycleSupport string
	DedicatedLogVolume     bool
	// ProcessorFeatures as "Name=Value" (coreCount, threadsPerCore).
	ProcessorFeatures []string
	// ReplicaMode of an Oracle replica: open-read-only or mounted.
	ReplicaMode string
	// Domain is the Active Directory domain of a Kerberos-authenticated instance (the first
	// membership's); TdeCredentialArn the Oracle TDE credential. Neither is carried: a source
	// with either is refused at preflight.
	Domain           string
	TdeCredentialArn string
}

// Instance is a described DB instance.
type Instance struct {
	ID         string // DBInstanceIdentifier, lower case
	ResourceID string // DbiResourceId, stable across renames
	ARN        string
	Region     string
	Status     string
	// Endpoint is the DNS address; empty while AWS has not assigned one.
	Endpoint string
	// MasterUsername and DBName are the database the replication strategy connects to.
	MasterUsername string
	DBName         string
	// ClusterID is set when the instance is an Aurora cluster member.
	ClusterID string
	// VpcID is the VPC of the instance's DB subnet group.
	VpcID string
	// SecurityGroupsSettling: a membership of VpcSecurityGroupIDs is not active yet (adding,
	// removing), so the groups shown are not all in force.
	SecurityGroupsSettling bool
	// ReplicaSource is the source of a read replica: an identifier in the same region, an ARN
	// across regions. Empty for a primary.
	ReplicaSource string
	// Replicas lists the read replicas: identifiers in the same region, ARNs across regions.
	Replicas []string
	// PendingModifications lists the names of settings waiting for the maintenance window.
	PendingModifications []string
	// ParameterApplyStatus is the state of the DB parameter group: in-sync, applying,
	// pending-reboot.
	ParameterApplyStatus string
	// PendingRename is the identifier a rename is about to give the instance: right after
	// the call the old identifier still answers, available, with the new one pending.
	PendingRename string
	// PercentProgress is the storage-optimization progress AWS reports, if any.
	PercentProgress string
	CreateTime      time.Time
	// MasterUserSecretARN is the Secrets Manager secret RDS manages for the master user
	// password (MasterUserSecret), "" when the password is not managed. Each instance has its
	// own: it is an identity, like ResourceID, not a setting parity compares.
	MasterUserSecretARN string
	// MasterUserSecretKmsKeyID is the KMS key that encrypts that secret.
	MasterUserSecretKmsKeyID string
	// ReplicaClusters are the Aurora read replica clusters of an RDS for MySQL instance
	// (ReadReplicaDBClusterIdentifiers).
	ReplicaClusters []string
	// BackupReplications are the ARNs of the instance's automated backups replicated to other
	// regions (DBInstanceAutomatedBackupsReplications).
	BackupReplications []string
	// ActivityStreamStatus is the database activity stream's status (stopped when none).
	ActivityStreamStatus string
	Settings             InstanceSettings
	Tags                 Tags
}

// Snapshot is a described DB snapshot or DB cluster snapshot.
type Snapshot struct {
	ID               string
	ARN              string
	Region           string
	Status           string
	SourceID         string // instance or cluster the snapshot was taken from
	SourceResource   string // DbiResourceId or DbClusterResourceId of that source
	Engine           string
	Encrypted        bool
	KmsKeyID         string
	PercentProgress  int32
	AllocatedStorage int32
	SnapshotType     string // manual, automated, ...
	CreateTime       time.Time
	Tags             Tags
}

// Key is a described KMS key.
type Key struct {
	ID      string
	ARN     string
	Region  string
	Enabled bool
	// State is the KMS key state: Enabled, Disabled, PendingDeletion, ...
	State string
	// Manager is AWS for AWS-managed keys (alias/aws/rds), CUSTOMER otherwise.
	Manager string
	// Spec and Usage are the KMS KeySpec and KeyUsage: RDS encrypts only with a symmetric
	// encryption key, SYMMETRIC_DEFAULT and ENCRYPT_DECRYPT.
	Spec  string
	Usage string
}

// ClusterSettings are the settings of an Aurora DB cluster that a migration carries
// (docs/aws-behaviour.md#aurora-clusters).
type ClusterSettings struct {
	Engine                           string
	EngineVersion                    string
	EngineMode                       string
	Port                             int32
	DBSubnetGroupName                string
	VpcSecurityGroupIDs              []string
	DBClusterParameterGroupName      string
	DatabaseName                     string
	StorageType                      string
	BackupRetentionPeriod            int32
	PreferredBackupWindow            string
	PreferredMaintenanceWindow       string
	CopyTagsToSnapshot               bool
	DeletionProtection               bool
	IAMDatabaseAuthenticationEnabled bool
	EnabledCloudwatchLogsExports     []string
	BacktrackWindow                  int64
	ServerlessV2MinCapacity          float64
	ServerlessV2MaxCapacity          float64
	AssociatedRoles                  []string // "FeatureName=RoleArn"
	NetworkType                      string
	// HTTPEndpointEnabled is the RDS Data API (EnableHttpEndpoint; a restore leaves it off).
	HTTPEndpointEnabled bool
	// EngineLifecycleSupport: a restore's default enrols the cluster in RDS Extended Support.
	EngineLifecycleSupport string
	// Performance Insights and Database Insights at the cluster level; a restore takes the
	// first three, not the mode (DatabaseInsightsMode is standard or advanced).
	PerformanceInsightsEnabled         bool
	PerformanceInsightsKMSKeyID        string
	PerformanceInsightsRetentionPeriod int32
	DatabaseInsightsMode               string
	// Domain is the Active Directory directory of Kerberos authentication (the first domain
	// membership), DomainIAMRoleName the role RDS calls Directory Service with.
	Domain            string
	DomainIAMRoleName string
	StorageEncrypted  bool
	KmsKeyID          string
	// ManagedMasterUserSecret is true when the master password is kept in Secrets Manager
	// (Cluster.MasterUserSecretARN names the secret).
	ManagedMasterUserSecret bool
}

// ClusterMember is one DB instance of an Aurora cluster.
type ClusterMember struct {
	InstanceID    string
	IsWriter      bool
	PromotionTier int32
}

// Cluster is a described Aurora DB cluster.
type Cluster struct {
	ID             string
	ResourceID     string // DbClusterResourceId
	ARN            string
	Region         string
	Status         string
	Endpoint       string
	ReaderEndpoint string
	Members        []ClusterMember
	// GlobalClusterID is set when the cluster belongs to a global database.
	GlobalClusterID string
	// ReplicationSource is set when the cluster is a cross-region replica.
	ReplicationSource string
	CustomEndpoints   []string
	// ReplicaClusters are the ARNs of the clusters replicating from this one
	// (ReadReplicaIdentifiers), in this region or another.
	ReplicaClusters []string
	// ActivityStreamStatus is the database activity stream's status (stopped when none).
	ActivityStreamStatus string
	// MasterUserSecretARN is the cluster's managed master user secret ("" when none): the
	// cluster holds it, its instances have none.
	MasterUserSecretARN string
	// MasterUserSecretKmsKeyID is the KMS key that encrypts that secret.
	MasterUserSecretKmsKeyID string
	Settings                 ClusterSettings
	Tags                     Tags
}

// Attachments are what names a DB instance or cluster and stays with it when a migration
// renames it to its retired name (docs/aws-behaviour.md#attachments); each list is empty when
// there is none.
type Attachments struct {
	// Proxies are the RDS Proxies with the source among their targets.
	Proxies []string
	// Integrations are the zero-ETL integrations whose source is the source's ARN.
	Integrations []string
	// BlueGreen are the blue/green deployments whose source (blue) is the source.
	BlueGreen []string
	// EventSubscriptions are the event subscriptions that list the source's identifier.
	EventSubscriptions []string
}

// ClusterEndpoint is a custom endpoint of an Aurora cluster.
type ClusterEndpoint struct {
	ID              string
	ClusterID       string
	Type            string // READER or ANY
	Address         string
	Status          string
	StaticMembers   []string
	ExcludedMembers []string
	ARN             string
	Tags            Tags
}
