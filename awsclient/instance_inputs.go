package awsclient

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
)

// How each InstanceSettings field reaches RestoreDBInstanceFromDBSnapshot. The keys are
// exactly the settings with Restore set in InstanceSettingRoutes (checked by a test).
var restoreInstanceSetters = map[Setting]setter[rds.RestoreDBInstanceFromDBSnapshotInput, InstanceSettings]{
	"DBInstanceClass": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ InstanceSettings) {
		in.DBInstanceClass = optString(w.DBInstanceClass)
	},
	"LicenseModel": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ InstanceSettings) {
		in.LicenseModel = optString(w.LicenseModel)
	},
	"AllocatedStorage": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ InstanceSettings) {
		in.AllocatedStorage = optPositive(w.AllocatedStorage)
	},
	"StorageType": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ InstanceSettings) {
		in.StorageType = optString(w.StorageType)
	},
	"Iops": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ InstanceSettings) {
		in.Iops = optPositive(w.Iops)
	},
	"StorageThroughput": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ InstanceSettings) {
		in.StorageThroughput = optPositive(w.StorageThroughput)
	},
	"MultiAZ": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ InstanceSettings) {
		in.MultiAZ = aws.Bool(w.MultiAZ)
	},
	"AvailabilityZone": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ InstanceSettings) {
		in.AvailabilityZone = optString(w.AvailabilityZone)
	},
	"DBSubnetGroupName": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ InstanceSettings) {
		in.DBSubnetGroupName = optString(w.DBSubnetGroupName)
	},
	"VpcSecurityGroupIDs": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ InstanceSettings) {
		in.VpcSecurityGroupIds = optList(w.VpcSecurityGroupIDs)
	},
	"DBParameterGroupName": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ InstanceSettings) {
		in.DBParameterGroupName = optString(w.DBParameterGroupName)
	},
	"OptionGroupName": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ InstanceSettings) {
		in.OptionGroupName = optString(w.OptionGroupName)
	},
	"Port": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ InstanceSettings) {
		in.Port = optPositive(w.Port)
	},
	"PubliclyAccessible": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ InstanceSettings) {
		in.PubliclyAccessible = aws.Bool(w.PubliclyAccessible)
	},
	"AutoMinorVersionUpgrade": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ InstanceSettings) {
		in.AutoMinorVersionUpgrade = aws.Bool(w.AutoMinorVersionUpgrade)
	},
	"CopyTagsToSnapshot": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ InstanceSettings) {
		in.CopyTagsToSnapshot = aws.Bool(w.CopyTagsToSnapshot)
	},
	"DeletionProtection": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ InstanceSettings) {
		in.DeletionProtection = aws.Bool(w.DeletionProtection)
	},
	"IAMDatabaseAuthenticationEnabled": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ InstanceSettings) {
		in.EnableIAMDatabaseAuthentication = aws.Bool(w.IAMDatabaseAuthenticationEnabled)
	},
	"EnabledCloudwatchLogsExports": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ InstanceSettings) {
		in.EnableCloudwatchLogsExports = optList(w.EnabledCloudwatchLogsExports)
	},
	"CACertificateIdentifier": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ InstanceSettings) {
		in.CACertificateIdentifier = optString(w.CACertificateIdentifier)
	},
	"BackupRetentionPeriod": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ InstanceSettings) {
		in.BackupRetentionPeriod = aws.Int32(w.BackupRetentionPeriod)
	},
	"PreferredBackupWindow": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ InstanceSettings) {
		in.PreferredBackupWindow = optString(w.PreferredBackupWindow)
	},
	"NetworkType": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ InstanceSettings) {
		in.NetworkType = optString(w.NetworkType)
	},
}

// How each InstanceSettings field reaches CreateDBInstanceReadReplica (Replica routes).
var replicaSetters = map[Setting]setter[rds.CreateDBInstanceReadReplicaInput, InstanceSettings]{
	"DBInstanceClass": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ InstanceSettings) {
		in.DBInstanceClass = optString(w.DBInstanceClass)
	},
	"AllocatedStorage": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ InstanceSettings) {
		in.AllocatedStorage = optPositive(w.AllocatedStorage)
	},
	"MaxAllocatedStorage": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ InstanceSettings) {
		in.MaxAllocatedStorage = optPositive(w.MaxAllocatedStorage)
	},
	"StorageType": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ InstanceSettings) {
		in.StorageType = optString(w.StorageType)
	},
	"Iops": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ InstanceSettings) { in.Iops = optPositive(w.Iops) },
	"StorageThroughput": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ InstanceSettings) {
		in.StorageThroughput = optPositive(w.StorageThroughput)
	},
	"MultiAZ": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ InstanceSettings) {
		in.MultiAZ = aws.Bool(w.MultiAZ)
	},
	"AvailabilityZone": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ InstanceSettings) {
		in.AvailabilityZone = optString(w.AvailabilityZone)
	},
	"DBSubnetGroupName": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ InstanceSettings) {
		in.DBSubnetGroupName = optString(w.DBSubnetGroupName)
	},
	"VpcSecurityGroupIDs": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ InstanceSettings) {
		in.VpcSecurityGroupIds = optList(w.VpcSecurityGroupIDs)
	},
	"DBParameterGroupName": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ InstanceSettings) {
		in.DBParameterGroupName = optString(w.DBParameterGroupName)
	},
	"OptionGroupName": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ InstanceSettings) {
		in.OptionGroupName = optString(w.OptionGroupName)
	},
	"Port": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ InstanceSettings) { in.Port = optPositive(w.Port) },
	"PubliclyAccessible": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ InstanceSettings) {
		in.PubliclyAccessible = aws.Bool(w.PubliclyAccessible)
	},
	"AutoMinorVersionUpgrade": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ InstanceSettings) {
		in.AutoMinorVersionUpgrade = aws.Bool(w.AutoMinorVersionUpgrade)
	},
	"CopyTagsToSnapshot": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ InstanceSettings) {
		in.CopyTagsToSnapshot = aws.Bool(w.CopyTagsToSnapshot)
	},
	"DeletionProtection": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ InstanceSettings) {
		in.DeletionProtection = aws.Bool(w.DeletionProtection)
	},
	"IAMDatabaseAuthenticationEnabled": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ InstanceSettings) {
		in.EnableIAMDatabaseAuthentication = aws.Bool(w.IAMDatabaseAuthenticationEnabled)
	},
	"EnabledCloudwatchLogsExports": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ InstanceSettings) {
		in.EnableCloudwatchLogsExports = optList(w.EnabledCloudwatchLogsExports)
	},
	"CACertificateIdentifier": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ InstanceSettings) {
		in.CACertificateIdentifier = optString(w.CACertificateIdentifier)
	},
	"MonitoringInterval": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ InstanceSettings) {
		in.MonitoringInterval = aws.Int32(w.MonitoringInterval)
	},
	"MonitoringRoleArn": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ InstanceSettings) {
		in.MonitoringRoleArn = optString(w.MonitoringRoleArn)
	},
	"PerformanceInsightsEnabled": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ InstanceSettings) {
		in.EnablePerformanceInsights = aws.Bool(w.PerformanceInsightsEnabled)
	},
	"PerformanceInsightsKMSKeyID": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ InstanceSettings) {
		in.PerformanceInsightsKMSKeyId = optString(w.PerformanceInsightsKMSKeyID)
	},
	"PerformanceInsightsRetentionPeriod": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ InstanceSettings) {
		in.PerformanceInsightsRetentionPeriod = optPositive(w.PerformanceInsightsRetentionPeriod)
	},
	"DatabaseInsightsMode": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ InstanceSettings) {
		in.DatabaseInsightsMode = types.DatabaseInsightsMode(w.DatabaseInsightsMode)
	},
	"NetworkType": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ InstanceSettings) {
		in.NetworkType = optString(w.NetworkType)
	},
}

// How each InstanceSettings field reaches ModifyDBInstance (Modify routes). Log exports
// are a diff against the current value; everything else is the wanted value.
var modifyInstanceSetters = map[Setting]setter[rds.ModifyDBInstanceInput, InstanceSettings]{
	"DBInstanceClass": func(in *rds.ModifyDBInstanceInput, w, _ InstanceSettings) {
		in.DBInstanceClass = optString(w.DBInstanceClass)
	},
	"AllocatedStorage": func(in *rds.ModifyDBInstanceInput, w, _ InstanceSettings) {
		in.AllocatedStorage = optPositive(w.AllocatedStorage)
	},
	"MaxAllocatedStorage": func(in *rds.ModifyDBInstanceInput, w, _ InstanceSettings) {
		in.MaxAllocatedStorage = optPositive(w.MaxAllocatedStorage)
	},
	"StorageType": func(in *rds.ModifyDBInstanceInput, w, _ InstanceSettings) { in.StorageType = optString(w.StorageType) },
	"Iops":        func(in *rds.ModifyDBInstanceInput, w, _ InstanceSettings) { in.Iops = optPositive(w.Iops) },
	"StorageThroughput": func(in *rds.ModifyDBInstanceInput, w, _ InstanceSettings) {
		in.StorageThroughput = optPositive(w.StorageThroughput)
	},
	"MultiAZ": func(in *rds.ModifyDBInstanceInput, w, _ InstanceSettings) { in.MultiAZ = aws.Bool(w.MultiAZ) },
	"VpcSecurityGroupIDs": func(in *rds.ModifyDBInstanceInput, w, _ InstanceSettings) {
		in.VpcSecurityGroupIds = optList(w.VpcSecurityGroupIDs)
	},
	"DBParameterGroupName": func(in *rds.ModifyDBInstanceInput, w, _ InstanceSettings) {
		in.DBParameterGroupName = optString(w.DBParameterGroupName)
	},
	"OptionGroupName": func(in *rds.ModifyDBInstanceInput, w, _ InstanceSettings) {
		in.OptionGroupName = optString(w.OptionGroupName)
	},
	"Port": func(in *rds.ModifyDBInstanceInput, w, _ InstanceSettings) { in.DBPortNumber = optPositive(w.Port) },
	"PubliclyAccessible": func(in *rds.ModifyDBInstanceInput, w, _ InstanceSettings) {
		in.PubliclyAccessible = aws.Bool(w.PubliclyAccessible)
	},
	"AutoMinorVersionUpgrade": func(in *rds.ModifyDBInstanceInput, w, _ InstanceSettings) {
		in.AutoMinorVersionUpgrade = aws.Bool(w.AutoMinorVersionUpgrade)
	},
	"CopyTagsToSnapshot": func(in *rds.ModifyDBInstanceInput, w, _ InstanceSettings) {
		in.CopyTagsToSnapshot = aws.Bool(w.CopyTagsToSnapshot)
	},
	"DeletionProtection": func(in *rds.ModifyDBInstanceInput, w, _ InstanceSettings) {
		in.DeletionProtection = aws.Bool(w.DeletionProtection)
	},
	"IAMDatabaseAuthenticationEnabled": func(in *rds.ModifyDBInstanceInput, w, _ InstanceSettings) {
		in.EnableIAMDatabaseAuthentication = aws.Bool(w.IAMDatabaseAuthenticationEnabled)
	},
	"EnabledCloudwatchLogsExports": func(in *rds.ModifyDBInstanceInput, w, cur InstanceSettings) {
		in.CloudwatchLogsExportConfiguration = logsExportChange(w.EnabledCloudwatchLogsExports, cur.EnabledCloudwatchLogsExports)
	},
	"CACertificateIdentifier": func(in *rds.ModifyDBInstanceInput, w, _ InstanceSettings) {
		in.CACertificateIdentifier = optString(w.CACertificateIdentifier)
	},
	"BackupRetentionPeriod": func(in *rds.ModifyDBInstanceInput, w, _ InstanceSettings) {
		in.BackupRetentionPeriod = aws.Int32(w.BackupRetentionPeriod)
	},
	"PreferredBackupWindow": func(in *rds.ModifyDBInstanceInput, w, _ InstanceSettings) {
		in.PreferredBackupWindow = optString(w.PreferredBackupWindow)
	},
	"PreferredMaintenanceWindow": func(in *rds.ModifyDBInstanceInput, w, _ InstanceSettings) {
		in.PreferredMaintenanceWindow = optString(w.PreferredMaintenanceWindow)
	},
	"MonitoringInterval": func(in *rds.ModifyDBInstanceInput, w, _ InstanceSettings) {
		in.MonitoringInterval = aws.Int32(w.MonitoringInterval)
	},
	"MonitoringRoleArn": func(in *rds.ModifyDBInstanceInput, w, _ InstanceSettings) {
		in.MonitoringRoleArn = optString(w.MonitoringRoleArn)
	},
	"PerformanceInsightsEnabled": func(in *rds.ModifyDBInstanceInput, w, _ InstanceSettings) {
		in.EnablePerformanceInsights = aws.Bool(w.PerformanceInsightsEnabled)
	},
	"PerformanceInsightsKMSKeyID": func(in *rds.ModifyDBInstanceInput, w, _ InstanceSettings) {
		in.PerformanceInsightsKMSKeyId = optString(w.PerformanceInsightsKMSKeyID)
	},
	"PerformanceInsightsRetentionPeriod": func(in *rds.ModifyDBInstanceInput, w, _ InstanceSettings) {
		in.PerformanceInsightsRetentionPeriod = optPositive(w.PerformanceInsightsRetentionPeriod)
	},
	"DatabaseInsightsMode": func(in *rds.ModifyDBInstanceInput, w, _ InstanceSettings) {
		in.DatabaseInsightsMode = types.DatabaseInsightsMode(w.DatabaseInsightsMode)
	},
	"NetworkType": func(in *rds.ModifyDBInstanceInput, w, _ InstanceSettings) { in.NetworkType = optString(w.NetworkType) },
}

// logsExportChange is the Enable/Disable diff that turns current into want; nil when
// they already match.
func logsExportChange(want, current []string) *types.CloudwatchLogsExportConfiguration {
	enable, disable := without(want, current), without(current, want)
	if len(enable) == 0 && len(disable) == 0 {
		return nil
	}
	return &types.CloudwatchLogsExportConfiguration{EnableLogTypes: enable, DisableLogTypes: disable}
}
