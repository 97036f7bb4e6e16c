package model

import (
	"context"
	"time"
)

// RDS is the set of RDS and KMS calls the workflow makes in one region. Every method that
// takes an identifier accepts it in any case; AWS stores identifiers lower case.
// Errors are *Error values (see errors.go); a resource that does not exist gives KindNotFound.
type RDS interface {
	// Region is the AWS region this client talks to.
	Region() string

	DescribeInstance(ctx context.Context, id string) (*Instance, error)
	// DescribeInstanceByResourceID finds an instance by its DbiResourceId, which survives renames.
	DescribeInstanceByResourceID(ctx context.Context, resourceID string) (*Instance, error)
	ListInstances(ctx context.Context) ([]Instance, error)
	RestoreInstance(ctx context.Context, in RestoreInstanceInput) (*Instance, error)
	CreateReadReplica(ctx context.Context, in ReadReplicaInput) (*Instance, error)
	// CreateClusterInstance creates a DB instance inside an Aurora cluster.
	CreateClusterInstance(ctx context.Context, in ClusterInstanceInput) (*Instance, error)
	// ModifyInstance applies the named settings immediately.
	ModifyInstance(ctx context.Context, id string, want InstanceSettings, fields []Setting) (*Instance, error)
	RenameInstance(ctx context.Context, id, newID string) (*Instance, error)
	// ManageInstanceMasterPassword turns on ManageMasterUserPassword: RDS generates a new
	// master password and keeps it in a new Secrets Manager secret, encrypted with
	// secretKmsKeyID ("" for the AWS managed key aws/secretsmanager).
	ManageInstanceMasterPassword(ctx context.Context, id, secretKmsKeyID string) (*Instance, error)
	RebootInstance(ctx context.Context, id string) (*Instance, error)
	// DeleteInstance deletes an instance; finalSnapshotID "" skips the final snapshot. With a
	// final snapshot the automated backups are retained (DeleteAutomatedBackups=false).
	DeleteInstance(ctx context.Context, id, finalSnapshotID string) error

	CreateSnapshot(ctx context.Context, instanceID, snapshotID string, tags Tags) (*Snapshot, error)
	CopySnapshot(ctx context.Context, in CopySnapshotInput) (*Snapshot, error)
	DescribeSnapshot(ctx context.Context, id string) (*Snapshot, error)
	// ListSnapshots lists the manual DB snapshots of the region.
	ListSnapshots(ctx context.Context) ([]Snapshot, error)
	DeleteSnapshot(ctx context.Context, id string) error

	DescribeCluster(ctx context.Context, id string) (*Cluster, error)
	DescribeClusterByResourceID(ctx context.Context, resourceID string) (*Cluster, error)
	ListClusters(ctx context.Context) ([]Cluster, error)
	CreateClusterSnapshot(ctx context.Context, clusterID, snapshotID string, tags Tags) (*Snapshot, error)
	DescribeClusterSnapshot(ctx context.Context, id string) (*Snapshot, error)
	ListClusterSnapshots(ctx context.Context) ([]Snapshot, error)
	DeleteClusterSnapshot(ctx context.Context, id string) error
	RestoreCluster(ctx context.Context, in RestoreClusterInput) (*Cluster, error)
	ModifyCluster(ctx context.Context, id string, want ClusterSettings, fields []Setting) (*Cluster, error)
	RenameCluster(ctx context.Context, id, newID string) (*Cluster, error)
	// ManageClusterMasterPassword is ManageInstanceMasterPassword for an Aurora cluster,
	// which holds the secret.
	ManageClusterMasterPassword(ctx context.Context, id, secretKmsKeyID string) (*Cluster, error)
	// DeleteCluster deletes a cluster; finalSnapshotID "" skips the final snapshot. With a
	// final snapshot the automated backups are retained (DeleteAutomatedBackups=false).
	DeleteCluster(ctx context.Context, id, finalSnapshotID string) error
	ListClusterEndpoints(ctx context.Context, clusterID string) ([]ClusterEndpoint, error)
	CreateClusterEndpoint(ctx context.Context, ep ClusterEndpoint) (*ClusterEndpoint, error)
	DeleteClusterEndpoint(ctx context.Context, id string) error

	// AddTags adds or overwrites tags on the resource with the given ARN.
	AddTags(ctx context.Context, arn string, tags Tags) error
	// SupportsEncryption reports whether the engine, version and class support storage encryption.
	SupportsEncryption(ctx context.Context, engine, engineVersion, class string) (bool, error)
	// EngineVersionOffered reports whether AWS still offers the exact engine version
	// (DescribeDBEngineVersions): a snapshot of a version it no longer offers cannot be restored.
	EngineVersionOffered(ctx context.Context, engine, engineVersion string) (bool, error)
	// SnapshotQuota returns the region's manual DB snapshot quota and its use
	// (DescribeAccountAttributes ManualSnapshots), or the cluster snapshot one.
	SnapshotQuota(ctx context.Context, cluster bool) (used, max int, err error)
	// Parameter returns a parameter of a DB parameter group, its value and its source (the
	// zero Parameter when the group does not list it).
	Parameter(ctx context.Context, group, name string) (Parameter, error)
	// SetParameters sets parameters of a DB parameter group with ApplyMethod immediate
	// (dynamic parameters apply at once to every instance using the group).
	SetParameters(ctx context.Context, group string, values map[string]string) error
	// SetParametersAtReboot sets parameters of a DB parameter group with ApplyMethod
	// pending-reboot: each instance using the group applies them at its next reboot. Static
	// parameters (rds.logical_replication) accept only this method.
	SetParametersAtReboot(ctx context.Context, group string, values map[string]string) error
	// ResetParameters puts parameters of a DB parameter group back to their engine default
	// (ResetDBParameterGroup, ApplyMethod immediate): the group no longer sets them.
	ResetParameters(ctx context.Context, group string, names []string) error
	// ClusterParameterValue returns a parameter's value in a DB cluster parameter group.
	ClusterParameterValue(ctx context.Context, group, name string) (string, error)
	// CopyParameterGroup copies the DB parameter group source, with every parameter value
	// it holds, to a new group target with the description and tags (CopyDBParameterGroup).
	// AWS cannot copy a default group (default.<family>): its copy is a new group of the
	// same family (CreateDBParameterGroup), which starts with the family's defaults, the
	// default group's values (docs/aws-behaviour.md#parameter-groups).
	CopyParameterGroup(ctx context.Context, source, target, description string, tags Tags) (*ParameterGroup, error)
	// ParameterGroup describes a DB parameter group with its tags; nil, nil when it does not
	// exist.
	ParameterGroup(ctx context.Context, name string) (*ParameterGroup, error)
	// Parameters returns the value of every parameter of a DB parameter group that has one
	// (DescribeDBParameters), by name.
	Parameters(ctx context.Context, group string) (map[string]string, error)
	// DeleteParameterGroup deletes a DB parameter group (DeleteDBParameterGroup). AWS refuses
	// default groups and groups a DB instance still uses (InvalidDBParameterGroupState).
	DeleteParameterGroup(ctx context.Context, name string) error

	// LogFiles lists the names of an instance's log files that contain the text
	// (DescribeDBLogFiles FilenameContains), oldest first.
	LogFiles(ctx context.Context, instanceID, contains string) ([]string, error)
	// ReadLogFile reads a whole log file from its start (DownloadDBLogFilePortion, Marker 0,
	// then each returned Marker until AdditionalDataPending is false).
	ReadLogFile(ctx context.Context, instanceID, name string) (string, error)
	// DescribeAttachments lists what names the DB instance (or, with cluster, the DB
	// cluster) id of ARN arn and stays with it when it is renamed: RDS Proxy targets, zero-ETL
	// integrations, blue/green deployments and event subscriptions (docs/aws-behaviour.md#attachments).
	DescribeAttachments(ctx context.Context, id, arn string, cluster bool) (*Attachments, error)
	// AddRole associates an IAM role with a DB instance (AddRoleToDBInstance) or, with
	// cluster, a DB cluster (AddRoleToDBCluster). feature may be "" for a cluster.
	AddRole(ctx context.Context, id, roleARN, feature string, cluster bool) error
	// AddSubscriptionSource and RemoveSubscriptionSource change the source identifiers of an
	// event subscription (AddSourceIdentifierToSubscription, RemoveSourceIdentifierFromSubscription).
	AddSubscriptionSource(ctx context.Context, subscription, sourceID string) error
	RemoveSubscriptionSource(ctx context.Context, subscription, sourceID string) error
	// EventSubscription returns the source identifiers an event subscription lists.
	EventSubscription(ctx context.Context, name string) ([]string, error)

	// DescribeKey resolves a KMS key by id, ARN, alias name or alias ARN.
	DescribeKey(ctx context.Context, ref string) (*Key, error)

	// ServerTime is AWS's time as stated in the Date header of the latest response,
	// advanced by local elapsed time since; the zero time before any response.
	ServerTime() time.Time
}

// RestoreInstanceInput restores a new DB instance from a DB snapshot.
type RestoreInstanceInput struct {
	ID         string
	SnapshotID string
	Settings   InstanceSettings
	// Carry names the settings passed to the restore call; each must have Restore set in
	// InstanceSettingRoutes.
	Carry []Setting
	Tags  Tags
}

// ReadReplicaInput creates a read replica of Source (identifier, or ARN across regions).
type ReadReplicaInput struct {
	ID           string
	Source       string
	SourceRegion string // set only when the source is in another region
	KmsKeyID     string // required across regions for an encrypted source; omitted otherwise
	Settings     InstanceSettings
	Carry        []Setting // each must have Replica set in InstanceSettingRoutes
	Tags         Tags
}

// ClusterInstanceInput creates a DB instance in an Aurora cluster.
type ClusterInstanceInput struct {
	ID                                 string
	ClusterID                          string
	Engine                             string
	DBInstanceClass                    string
	PromotionTier                      int32
	DBParameterGroupName               string
	AvailabilityZone                   string
	PubliclyAccessible                 bool
	AutoMinorVersionUpgrade            bool
	MonitoringInterval                 int32
	MonitoringRoleArn                  string
	PerformanceInsightsEnabled         bool
	PerformanceInsightsKMSKeyID        string
	PerformanceInsightsRetentionPeriod int32
	PreferredMaintenanceWindow         string
	CACertificateIdentifier            string
	Tags                               Tags
}

// CopySnapshotInput copies a DB snapshot, encrypting it with KmsKeyID.
type CopySnapshotInput struct {
	SourceID     string // identifier, or ARN across regions
	SourceRegion string // set only for a cross-region copy
	TargetID     string
	KmsKeyID     string
	Tags         Tags
}

// RestoreClusterInput restores an Aurora cluster from a cluster snapshot, encrypted with KmsKeyID.
type RestoreClusterInput struct {
	ID         string
	SnapshotID string
	KmsKeyID   string
	Settings   ClusterSettings
	Carry      []Setting // each must have Restore set in ClusterSettingRoutes
	Tags       Tags
}
