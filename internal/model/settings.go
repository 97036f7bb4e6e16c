package model

import (
	"fmt"
	"reflect"
	"slices"
)

// Setting names a field of InstanceSettings or ClusterSettings (the Go field name).
type Setting string

// Route says how a setting of the source reaches the new resource: which API calls accept it.
type Route struct {
	Setting Setting
	// Restore: RestoreDBInstanceFromDBSnapshot / RestoreDBClusterFromSnapshot accept it.
	Restore bool
	// Replica: CreateDBInstanceReadReplica accepts it.
	Replica bool
	// Modify: ModifyDBInstance / ModifyDBCluster accept it.
	Modify bool
	// Compare: the parity check compares it between source and new resource.
	Compare bool
	// AfterCutover: the setting changes neither what applications write nor how they
	// connect, so the modify that applies it waits until writes resume (the instance
	// route's modify-after-cutover step; docs/precopy.md#settings-after-cutover).
	AfterCutover bool
	// Note explains a setting that cannot be carried, or a caveat.
	Note string
}

// InstanceSettingRoutes is the table of docs/aws-behaviour.md#restore and #read-replicas, in plan order.
var InstanceSettingRoutes = []Route{
	{Setting: "DBInstanceClass", Restore: true, Replica: true, Modify: true, Compare: true},
	{Setting: "Engine", Compare: true, Note: "taken from the snapshot"},
	{Setting: "EngineVersion", Compare: true, Note: "taken from the snapshot"},
	{Setting: "LicenseModel", Restore: true, Compare: true},
	{Setting: "AllocatedStorage", Restore: true, Replica: true, Modify: true, Compare: true},
	{Setting: "MaxAllocatedStorage", Replica: true, Modify: true, Compare: true, AfterCutover: true},
	{Setting: "StorageType", Restore: true, Replica: true, Modify: true, Compare: true},
	{Setting: "Iops", Restore: true, Replica: true, Modify: true, Compare: true},
	{Setting: "StorageThroughput", Restore: true, Replica: true, Modify: true, Compare: true},
	{Setting: "MultiAZ", Restore: true, Replica: true, Modify: true, Compare: true},
	{Setting: "AvailabilityZone", Restore: true, Replica: true, Note: "only for Single-AZ; AWS may choose another zone for Multi-AZ"},
	{Setting: "DBSubnetGroupName", Restore: true, Replica: true, Compare: true},
	{Setting: "VpcSecurityGroupIDs", Restore: true, Replica: true, Modify: true, Compare: true},
	{Setting: "DBParameterGroupName", Restore: true, Replica: true, Modify: true, Compare: true},
	{Setting: "OptionGroupName", Restore: true, Replica: true, Modify: true, Compare: true},
	{Setting: "Port", Restore: true, Replica: true, Modify: true, Compare: true},
	{Setting: "PubliclyAccessible", Restore: true, Replica: true, Modify: true, Compare: true},
	{Setting: "AutoMinorVersionUpgrade", Restore: true, Replica: true, Modify: true, Compare: true},
	{Setting: "CopyTagsToSnapshot", Restore: true, Replica: true, Modify: true, Compare: true, AfterCutover: true},
	{Setting: "DeletionProtection", Restore: true, Replica: true, Modify: true, Compare: true, AfterCutover: true},
	{Setting: "IAMDatabaseAuthenticationEnabled", Restore: true, Replica: true, Modify: true, Compare: true},
	{Setting: "EnabledCloudwatchLogsExports", Restore: true, Replica: true, Modify: true, Compare: true},
	{Setting: "CACertificateIdentifier", Restore: true, Replica: true, Modify: true, Compare: true},
	{Setting: "BackupRetentionPeriod", Restore: true, Modify: true, Compare: true},
	{Setting: "PreferredBackupWindow", Restore: true, Modify: true, Compare: true, AfterCutover: true},
	{Setting: "PreferredMaintenanceWindow", Modify: true, Compare: true, AfterCutover: true},
	{Setting: "MonitoringInterval", Replica: true, Modify: true, Compare: true, AfterCutover: true},
	{Setting: "MonitoringRoleArn", Replica: true, Modify: true, Compare: true, AfterCutover: true},
	{Setting: "PerformanceInsightsEnabled", Replica: true, Modify: true, Compare: true, AfterCutover: true},
	{Setting: "PerformanceInsightsKMSKeyID", Replica: true, Modify: true, Compare: true, AfterCutover: true},
	{Setting: "PerformanceInsightsRetentionPeriod", Replica: true, Modify: true, Compare: true, AfterCutover: true},
	{Setting: "DatabaseInsightsMode", Replica: true, Modify: true, Compare: true, AfterCutover: true},
	{Setting: "NetworkType", Restore: true, Replica: true, Modify: true, Compare: true},
	{Setting: "EngineLifecycleSupport", Restore: true, Modify: true, Compare: true, AfterCutover: true,
		Note: "restore's default enrols the new instance in RDS Extended Support: the source's value is passed"},
	{Setting: "DedicatedLogVolume", Restore: true, Replica: true, Modify: true, Compare: true},
	{Setting: "ProcessorFeatures", Restore: true, Replica: true, Modify: true, Compare: true},
	{Setting: "ReplicaMode", Replica: true, Modify: true, Compare: true},
	{Setting: "Domain", Note: "Kerberos (Active Directory) membership: a source with one is refused at preflight"},
	{Setting: "TdeCredentialArn", Note: "Oracle TDE credential: a source with one is refused at preflight"},
	{Setting: "ManagedMasterUserSecret", Note: "Secrets Manager password: a restore has none; turned on with ModifyDBInstance ManageMasterUserPassword after cutover (a new secret is created)"},
	{Setting: "AssociatedRoles", Compare: true, Note: "IAM role associations are not part of a snapshot: the add-roles step re-adds them (AddRoleToDBInstance); the replica-add-roles step re-adds a read replica's"},
}

// ClusterSettingRoutes is the table of docs/aws-behaviour.md#aurora-clusters, in plan order.
var ClusterSettingRoutes = []Route{
	{Setting: "Engine", Restore: true, Compare: true},
	{Setting: "EngineVersion", Restore: true, Compare: true},
	{Setting: "EngineMode", Restore: true, Compare: true},
	{Setting: "Port", Restore: true, Modify: true, Compare: true},
	{Setting: "DBSubnetGroupName", Restore: true, Compare: true},
	{Setting: "VpcSecurityGroupIDs", Restore: true, Modify: true, Compare: true},
	{Setting: "DBClusterParameterGroupName", Restore: true, Modify: true, Compare: true},
	{Setting: "DatabaseName", Restore: true, Compare: true},
	{Setting: "StorageType", Restore: true, Modify: true, Compare: true},
	{Setting: "BackupRetentionPeriod", Restore: true, Modify: true, Compare: true},
	{Setting: "PreferredBackupWindow", Restore: true, Modify: true, Compare: true},
	{Setting: "PreferredMaintenanceWindow", Modify: true, Compare: true},
	{Setting: "CopyTagsToSnapshot", Restore: true, Modify: true, Compare: true},
	{Setting: "DeletionProtection", Restore: true, Modify: true, Compare: true},
	{Setting: "IAMDatabaseAuthenticationEnabled", Restore: true, Modify: true, Compare: true},
	{Setting: "EnabledCloudwatchLogsExports", Restore: true, Modify: true, Compare: true},
	{Setting: "BacktrackWindow", Restore: true, Modify: true, Compare: true},
	{Setting: "ServerlessV2MinCapacity", Restore: true, Modify: true, Compare: true},
	{Setting: "ServerlessV2MaxCapacity", Restore: true, Modify: true, Compare: true},
	{Setting: "AssociatedRoles", Restore: true, Compare: true},
	{Setting: "ManagedMasterUserSecret", Note: "Secrets Manager password: a restore has none; turned on with ModifyDBCluster ManageMasterUserPassword after cutover (a new secret is created)"},
	{Setting: "NetworkType", Restore: true, Modify: true, Compare: true},
	{Setting: "EngineLifecycleSupport", Restore: true, Modify: true, Compare: true,
		Note: "restore's default enrols the new cluster in RDS Extended Support: the source's value is passed"},
	{Setting: "HTTPEndpointEnabled", Modify: true, Compare: true, Note: "the RDS Data API: not a restore parameter, turned on by modify"},
	{Setting: "PerformanceInsightsEnabled", Restore: true, Modify: true, Compare: true},
	{Setting: "PerformanceInsightsKMSKeyID", Restore: true, Modify: true, Compare: true},
	{Setting: "PerformanceInsightsRetentionPeriod", Restore: true, Modify: true, Compare: true},
	{Setting: "DatabaseInsightsMode", Modify: true, Compare: true, AfterCutover: true,
		Note: "not a restore parameter (a restored cluster is standard): set by ModifyDBCluster after cutover, with Performance Insights"},
	{Setting: "Domain", Restore: true, Modify: true, Compare: true, Note: "Kerberos (Active Directory): passed to the restore with DomainIAMRoleName"},
	{Setting: "DomainIAMRoleName", Restore: true, Modify: true, Compare: true},
}

// RouteOf returns the route of a setting in a table.
func RouteOf(table []Route, s Setting) (Route, bool) {
	i := slices.IndexFunc(table, func(r Route) bool { return r.Setting == s })
	if i < 0 {
		return Route{}, false
	}
	return table[i], true
}

// SettingValue returns the value of the named field of an InstanceSettings or ClusterSettings.
func SettingValue(settings any, s Setting) (any, error) {
	v := reflect.ValueOf(settings)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	f := v.FieldByName(string(s))
	if !f.IsValid() {
		return nil, fmt.Errorf("unknown setting %q for %T", s, settings)
	}
	return f.Interface(), nil
}
