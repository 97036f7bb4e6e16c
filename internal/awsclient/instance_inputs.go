package awsclient

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// How each InstanceSettings field reaches RestoreDBInstanceFromDBSnapshot. The keys are
// exactly the settings with Restore set in InstanceSettingRoutes (checked by a test).
var restoreInstanceSetters = map[model.Setting]setter[rds.RestoreDBInstanceFromDBSnapshotInput, model.InstanceSettings]{
	"DBInstanceClass": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ model.InstanceSettings) {
		in.DBInstanceClass = optString(w.DBInstanceClass)
	},
	"LicenseModel": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ model.InstanceSettings) {
		in.LicenseModel = optString(w.LicenseModel)
	},
	"AllocatedStorage": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ model.InstanceSettings) {
		in.AllocatedStorage = optPositive(w.AllocatedStorage)
	},
	"StorageType": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ model.InstanceSettings) {
		in.StorageType = optString(w.StorageType)
	},
	"Iops": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ model.InstanceSettings) {
		in.Iops = optPositive(w.Iops)
	},
	"StorageThroughput": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ model.InstanceSettings) {
		in.StorageThroughput = optPositive(w.StorageThroughput)
	},
	"MultiAZ": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ model.InstanceSettings) {
		in.MultiAZ = aws.Bool(w.MultiAZ)
	},
	"AvailabilityZone": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ model.InstanceSettings) {
		in.AvailabilityZone = optString(w.AvailabilityZone)
	},
	"DBSubnetGroupName": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ model.InstanceSettings) {
		in.DBSubnetGroupName = optString(w.DBSubnetGroupName)
	},
	"VpcSecurityGroupIDs": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ model.InstanceSettings) {
		in.VpcSecurityGroupIds = optList(w.VpcSecurityGroupIDs)
	},
	"DBParameterGroupName": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ model.InstanceSettings) {
		in.DBParameterGroupName = optString(w.DBParameterGroupName)
	},
	"OptionGroupName": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ model.InstanceSettings) {
		in.OptionGroupName = optString(w.OptionGroupName)
	},
	"Port": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ model.InstanceSettings) {
		in.Port = optPositive(w.Port)
	},
	"PubliclyAccessible": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ model.InstanceSettings) {
		in.PubliclyAccessible = aws.Bool(w.PubliclyAccessible)
	},
	"AutoMinorVersionUpgrade": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ model.InstanceSettings) {
		in.AutoMinorVersionUpgrade = aws.Bool(w.AutoMinorVersionUpgrade)
	},
	"CopyTagsToSnapshot": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ model.InstanceSettings) {
		in.CopyTagsToSnapshot = aws.Bool(w.CopyTagsToSnapshot)
	},
	"DeletionProtection": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ model.InstanceSettings) {
		in.DeletionProtection = aws.Bool(w.DeletionProtection)
	},
	"IAMDatabaseAuthenticationEnabled": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ model.InstanceSettings) {
		in.EnableIAMDatabaseAuthentication = aws.Bool(w.IAMDatabaseAuthenticationEnabled)
	},
	"EnabledCloudwatchLogsExports": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ model.InstanceSettings) {
		in.EnableCloudwatchLogsExports = optList(w.EnabledCloudwatchLogsExports)
	},
	"CACertificateIdentifier": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ model.InstanceSettings) {
		in.CACertificateIdentifier = optString(w.CACertificateIdentifier)
	},
	"BackupRetentionPeriod": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ model.InstanceSettings) {
		in.BackupRetentionPeriod = aws.Int32(w.BackupRetentionPeriod)
	},
	"PreferredBackupWindow": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ model.InstanceSettings) {
		in.PreferredBackupWindow = optString(w.PreferredBackupWindow)
	},
	"NetworkType": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ model.InstanceSettings) {
		in.NetworkType = optString(w.NetworkType)
	},
	"EngineLifecycleSupport": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ model.InstanceSettings) {
		in.EngineLifecycleSupport = optString(w.EngineLifecycleSupport)
	},
	"DedicatedLogVolume": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ model.InstanceSettings) {
		in.DedicatedLogVolume = aws.Bool(w.DedicatedLogVolume)
	},
	"ProcessorFeatures": func(in *rds.RestoreDBInstanceFromDBSnapshotInput, w, _ model.InstanceSettings) {
		in.ProcessorFeatures = processorFeatures(w.ProcessorFeatures)
	},
}

// How each InstanceSettings field reaches CreateDBInstanceReadReplica (Replica routes).
var replicaSetters = map[model.Setting]setter[rds.CreateDBInstanceReadReplicaInput, model.InstanceSettings]{
	"DBInstanceClass": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ model.InstanceSettings) {
		in.DBInstanceClass = optString(w.DBInstanceClass)
	},
	"AllocatedStorage": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ model.InstanceSettings) {
		in.AllocatedStorage = optPositive(w.AllocatedStorage)
	},
	"MaxAllocatedStorage": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ model.InstanceSettings) {
		in.MaxAllocatedStorage = optPositive(w.MaxAllocatedStorage)
	},
	"StorageType": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ model.InstanceSettings) {
		in.StorageType = optString(w.StorageType)
	},
	"Iops": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ model.InstanceSettings) {
		in.Iops = optPositive(w.Iops)
	},
	"StorageThroughput": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ model.InstanceSettings) {
		in.StorageThroughput = optPositive(w.StorageThroughput)
	},
	"MultiAZ": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ model.InstanceSettings) {
		in.MultiAZ = aws.Bool(w.MultiAZ)
	},
	"AvailabilityZone": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ model.InstanceSettings) {
		in.AvailabilityZone = optString(w.AvailabilityZone)
	},
	"DBSubnetGroupName": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ model.InstanceSettings) {
		in.DBSubnetGroupName = optString(w.DBSubnetGroupName)
	},
	"VpcSecurityGroupIDs": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ model.InstanceSettings) {
		in.VpcSecurityGroupIds = optList(w.VpcSecurityGroupIDs)
	},
	"DBParameterGroupName": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ model.InstanceSettings) {
		in.DBParameterGroupName = optString(w.DBParameterGroupName)
	},
	"OptionGroupName": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ model.InstanceSettings) {
		in.OptionGroupName = optString(w.OptionGroupName)
	},
	"Port": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ model.InstanceSettings) {
		in.Port = optPositive(w.Port)
	},
	"PubliclyAccessible": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ model.InstanceSettings) {
		in.PubliclyAccessible = aws.Bool(w.PubliclyAccessible)
	},
	"AutoMinorVersionUpgrade": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ model.InstanceSettings) {
		in.AutoMinorVersionUpgrade = aws.Bool(w.AutoMinorVersionUpgrade)
	},
	"CopyTagsToSnapshot": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ model.InstanceSettings) {
		in.CopyTagsToSnapshot = aws.Bool(w.CopyTagsToSnapshot)
	},
	"DeletionProtection": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ model.InstanceSettings) {
		in.DeletionProtection = aws.Bool(w.DeletionProtection)
	},
	"IAMDatabaseAuthenticationEnabled": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ model.InstanceSettings) {
		in.EnableIAMDatabaseAuthentication = aws.Bool(w.IAMDatabaseAuthenticationEnabled)
	},
	"EnabledCloudwatchLogsExports": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ model.InstanceSettings) {
		in.EnableCloudwatchLogsExports = optList(w.EnabledCloudwatchLogsExports)
	},
	"CACertificateIdentifier": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ model.InstanceSettings) {
		in.CACertificateIdentifier = optString(w.CACertificateIdentifier)
	},
	"MonitoringInterval": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ model.InstanceSettings) {
		in.MonitoringInterval = aws.Int32(w.MonitoringInterval)
	},
	"MonitoringRoleArn": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ model.InstanceSettings) {
		in.MonitoringRoleArn = optString(w.MonitoringRoleArn)
	},
	"PerformanceInsightsEnabled": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ model.InstanceSettings) {
		in.EnablePerformanceInsights = aws.Bool(w.PerformanceInsightsEnabled)
	},
	"PerformanceInsightsKMSKeyID": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ model.InstanceSettings) {
		in.PerformanceInsightsKMSKeyId = optString(w.PerformanceInsightsKMSKeyID)
	},
	"PerformanceInsightsRetentionPeriod": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ model.InstanceSettings) {
		in.PerformanceInsightsRetentionPeriod = optPositive(w.PerformanceInsightsRetentionPeriod)
	},
	"DatabaseInsightsMode": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ model.InstanceSettings) {
		in.DatabaseInsightsMode = types.DatabaseInsightsMode(w.DatabaseInsightsMode)
	},
	"NetworkType": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ model.InstanceSettings) {
		in.NetworkType = optString(w.NetworkType)
	},
	"DedicatedLogVolume": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ model.InstanceSettings) {
		in.DedicatedLogVolume = aws.Bool(w.DedicatedLogVolume)
	},
	"ProcessorFeatures": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ model.InstanceSettings) {
		in.ProcessorFeatures = processorFeatures(w.ProcessorFeatures)
	},
	"ReplicaMode": func(in *rds.CreateDBInstanceReadReplicaInput, w, _ model.InstanceSettings) {
		in.ReplicaMode = types.ReplicaMode(w.ReplicaMode)
	},
}

// How each InstanceSettings field reaches ModifyDBInstance (Modify routes). Log exports
// are a diff against the current value; everything else is the wanted value.
var modifyInstanceSetters = map[model.Setting]setter[rds.ModifyDBInstanceInput, model.InstanceSettings]{
	"DBInstanceClass": func(in *rds.ModifyDBInstanceInput, w, _ model.InstanceSettings) {
		in.DBInstanceClass = optString(w.DBInstanceClass)
	},
	"AllocatedStorage": func(in *rds.ModifyDBInstanceInput, w, _ model.InstanceSettings) {
		in.AllocatedStorage = optPositive(w.AllocatedStorage)
	},
	"MaxAllocatedStorage": func(in *rds.ModifyDBInstanceInput, w, _ model.InstanceSettings) {
		in.MaxAllocatedStorage = optPositive(w.MaxAllocatedStorage)
	},
	"StorageType": func(in *rds.ModifyDBInstanceInput, w, _ model.InstanceSettings) {
		in.StorageType = optString(w.StorageType)
	},
	"Iops": func(in *rds.ModifyDBInstanceInput, w, _ model.InstanceSettings) { in.Iops = optPositive(w.Iops) },
	"StorageThroughput": func(in *rds.ModifyDBInstanceInput, w, _ model.InstanceSettings) {
		in.StorageThroughput = optPositive(w.StorageThroughput)
	},
	"MultiAZ": func(in *rds.ModifyDBInstanceInput, w, _ model.InstanceSettings) { in.MultiAZ = aws.Bool(w.MultiAZ) },
	"VpcSecurityGroupIDs": func(in *rds.ModifyDBInstanceInput, w, _ model.InstanceSettings) {
		in.VpcSecurityGroupIds = optList(w.VpcSecurityGroupIDs)
	},
	"DBParameterGroupName": func(in *rds.ModifyDBInstanceInput, w, _ model.InstanceSettings) {
		in.DBParameterGroupName = optString(w.DBParameterGroupName)
	},
	"OptionGroupName": func(in *rds.ModifyDBInstanceInput, w, _ model.InstanceSettings) {
		in.OptionGroupName = optString(w.OptionGroupName)
	},
	"Port": func(in *rds.ModifyDBInstanceInput, w, _ model.InstanceSettings) {
		in.DBPortNumber = optPositive(w.Port)
	},
	"PubliclyAccessible": func(in *rds.ModifyDBInstanceInput, w, _ model.InstanceSettings) {
		in.PubliclyAccessible = aws.Bool(w.PubliclyAccessible)
	},
	"AutoMinorVersionUpgrade": func(in *rds.ModifyDBInstanceInput, w, _ model.InstanceSettings) {
		in.AutoMinorVersionUpgrade = aws.Bool(w.AutoMinorVersionUpgrade)
	},
	"CopyTagsToSnapshot": func(in *rds.ModifyDBInstanceInput, w, _ model.InstanceSettings) {
		in.CopyTagsToSnapshot = aws.Bool(w.CopyTagsToSnapshot)
	},
	"DeletionProtection": func(in *rds.ModifyDBInstanceInput, w, _ model.InstanceSettings) {
		in.DeletionProtection = aws.Bool(w.DeletionProtection)
	},
	"IAMDatabaseAuthenticationEnabled": func(in *rds.ModifyDBInstanceInput, w, _ model.InstanceSettings) {
		in.EnableIAMDatabaseAuthentication = aws.Bool(w.IAMDatabaseAuthenticationEnabled)
	},
	"EnabledCloudwatchLogsExports": func(in *rds.ModifyDBInstanceInput, w, cur model.InstanceSettings) {
		in.CloudwatchLogsExportConfiguration = logsExportChange(w.EnabledCloudwatchLogsExports, cur.EnabledCloudwatchLogsExports)
	},
	"CACertificateIdentifier": func(in *rds.ModifyDBInstanceInput, w, _ model.InstanceSettings) {
		in.CACertificateIdentifier = optString(w.CACertificateIdentifier)
	},
	"BackupRetentionPeriod": func(in *rds.ModifyDBInstanceInput, w, _ model.InstanceSettings) {
		in.BackupRetentionPeriod = aws.Int32(w.BackupRetentionPeriod)
	},
	"PreferredBackupWindow": func(in *rds.ModifyDBInstanceInput, w, _ model.InstanceSettings) {
		in.PreferredBackupWindow = optString(w.PreferredBackupWindow)
	},
	"PreferredMaintenanceWindow": func(in *rds.ModifyDBInstanceInput, w, _ model.InstanceSettings) {
		in.PreferredMaintenanceWindow = optString(w.PreferredMaintenanceWindow)
	},
	"MonitoringInterval": func(in *rds.ModifyDBInstanceInput, w, _ model.InstanceSettings) {
		in.MonitoringInterval = aws.Int32(w.MonitoringInterval)
	},
	"MonitoringRoleArn": func(in *rds.ModifyDBInstanceInput, w, _ model.InstanceSettings) {
		in.MonitoringRoleArn = optString(w.MonitoringRoleArn)
	},
	"PerformanceInsightsEnabled": func(in *rds.ModifyDBInstanceInput, w, _ model.InstanceSettings) {
		in.EnablePerformanceInsights = aws.Bool(w.PerformanceInsightsEnabled)
	},
	"PerformanceInsightsKMSKeyID": func(in *rds.ModifyDBInstanceInput, w, _ model.InstanceSettings) {
		in.PerformanceInsightsKMSKeyId = optString(w.PerformanceInsightsKMSKeyID)
	},
	"PerformanceInsightsRetentionPeriod": func(in *rds.ModifyDBInstanceInput, w, _ model.InstanceSettings) {
		in.PerformanceInsightsRetentionPeriod = optPositive(w.PerformanceInsightsRetentionPeriod)
	},
	"DatabaseInsightsMode": func(in *rds.ModifyDBInstanceInput, w, _ model.InstanceSettings) {
		in.DatabaseInsightsMode = types.DatabaseInsightsMode(w.DatabaseInsightsMode)
	},
	"NetworkType": func(in *rds.ModifyDBInstanceInput, w, _ model.InstanceSettings) {
		in.NetworkType = optString(w.NetworkType)
	},
	"EngineLifecycleSupport": func(in *rds.ModifyDBInstanceInput, w, _ model.InstanceSettings) {
		in.EngineLifecycleSupport = optString(w.EngineLifecycleSupport)
	},
	"DedicatedLogVolume": func(in *rds.ModifyDBInstanceInput, w, _ model.InstanceSettings) {
		in.DedicatedLogVolume = aws.Bool(w.DedicatedLogVolume)
	},
	"ProcessorFeatures": func(in *rds.ModifyDBInstanceInput, w, _ model.InstanceSettings) {
		in.ProcessorFeatures = processorFeatures(w.ProcessorFeatures)
		in.UseDefaultProcessorFeatures = aws.Bool(len(w.ProcessorFeatures) == 0)
	},
	"ReplicaMode": func(in *rds.ModifyDBInstanceInput, w, _ model.InstanceSettings) {
		in.ReplicaMode = types.ReplicaMode(w.ReplicaMode)
	},
}

// processorFeatures turns "Name=Value" pairs into the SDK's list (nil when empty).
func processorFeatures(pairs []string) []types.ProcessorFeature {
	var out []types.ProcessorFeature
	for _, p := range pairs {
		name, value, _ := strings.Cut(p, "=")
		out = append(out, types.ProcessorFeature{Name: aws.String(name), Value: aws.String(value)})
	}
	return out
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
