package awsclient

import (
	"strings"

	"github.com/rdsencrypt/rdsencrypt/internal/model"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
)

// How each ClusterSettings field reaches RestoreDBClusterFromSnapshot (Restore routes).
var restoreClusterSetters = map[model.Setting]setter[rds.RestoreDBClusterFromSnapshotInput, model.ClusterSettings]{
	"Engine": func(in *rds.RestoreDBClusterFromSnapshotInput, w, _ model.ClusterSettings) {
		in.Engine = optString(w.Engine)
	},
	"EngineVersion": func(in *rds.RestoreDBClusterFromSnapshotInput, w, _ model.ClusterSettings) {
		in.EngineVersion = optString(w.EngineVersion)
	},
	"EngineMode": func(in *rds.RestoreDBClusterFromSnapshotInput, w, _ model.ClusterSettings) {
		in.EngineMode = optString(w.EngineMode)
	},
	"Port": func(in *rds.RestoreDBClusterFromSnapshotInput, w, _ model.ClusterSettings) {
		in.Port = optPositive(w.Port)
	},
	"DBSubnetGroupName": func(in *rds.RestoreDBClusterFromSnapshotInput, w, _ model.ClusterSettings) {
		in.DBSubnetGroupName = optString(w.DBSubnetGroupName)
	},
	"VpcSecurityGroupIDs": func(in *rds.RestoreDBClusterFromSnapshotInput, w, _ model.ClusterSettings) {
		in.VpcSecurityGroupIds = optList(w.VpcSecurityGroupIDs)
	},
	"DBClusterParameterGroupName": func(in *rds.RestoreDBClusterFromSnapshotInput, w, _ model.ClusterSettings) {
		in.DBClusterParameterGroupName = optString(w.DBClusterParameterGroupName)
	},
	"DatabaseName": func(in *rds.RestoreDBClusterFromSnapshotInput, w, _ model.ClusterSettings) {
		in.DatabaseName = optString(w.DatabaseName)
	},
	"StorageType": func(in *rds.RestoreDBClusterFromSnapshotInput, w, _ model.ClusterSettings) {
		in.StorageType = optString(w.StorageType)
	},
	"BackupRetentionPeriod": func(in *rds.RestoreDBClusterFromSnapshotInput, w, _ model.ClusterSettings) {
		in.BackupRetentionPeriod = optPositive(w.BackupRetentionPeriod) // Aurora: 1-35
	},
	"PreferredBackupWindow": func(in *rds.RestoreDBClusterFromSnapshotInput, w, _ model.ClusterSettings) {
		in.PreferredBackupWindow = optString(w.PreferredBackupWindow)
	},
	"CopyTagsToSnapshot": func(in *rds.RestoreDBClusterFromSnapshotInput, w, _ model.ClusterSettings) {
		in.CopyTagsToSnapshot = aws.Bool(w.CopyTagsToSnapshot)
	},
	"DeletionProtection": func(in *rds.RestoreDBClusterFromSnapshotInput, w, _ model.ClusterSettings) {
		in.DeletionProtection = aws.Bool(w.DeletionProtection)
	},
	"IAMDatabaseAuthenticationEnabled": func(in *rds.RestoreDBClusterFromSnapshotInput, w, _ model.ClusterSettings) {
		in.EnableIAMDatabaseAuthentication = aws.Bool(w.IAMDatabaseAuthenticationEnabled)
	},
	"EnabledCloudwatchLogsExports": func(in *rds.RestoreDBClusterFromSnapshotInput, w, _ model.ClusterSettings) {
		in.EnableCloudwatchLogsExports = optList(w.EnabledCloudwatchLogsExports)
	},
	"BacktrackWindow": func(in *rds.RestoreDBClusterFromSnapshotInput, w, _ model.ClusterSettings) {
		in.BacktrackWindow = optBacktrack(w.BacktrackWindow)
	},
	"ServerlessV2MinCapacity": func(in *rds.RestoreDBClusterFromSnapshotInput, w, _ model.ClusterSettings) {
		in.ServerlessV2ScalingConfiguration = withV2Min(in.ServerlessV2ScalingConfiguration, w.ServerlessV2MinCapacity)
	},
	"ServerlessV2MaxCapacity": func(in *rds.RestoreDBClusterFromSnapshotInput, w, _ model.ClusterSettings) {
		in.ServerlessV2ScalingConfiguration = withV2Max(in.ServerlessV2ScalingConfiguration, w.ServerlessV2MaxCapacity)
	},
	"AssociatedRoles": func(in *rds.RestoreDBClusterFromSnapshotInput, w, _ model.ClusterSettings) {
		in.AssociatedRoles = associatedRoles(w.AssociatedRoles)
	},
	"NetworkType": func(in *rds.RestoreDBClusterFromSnapshotInput, w, _ model.ClusterSettings) {
		in.NetworkType = optString(w.NetworkType)
	},
	"EngineLifecycleSupport": func(in *rds.RestoreDBClusterFromSnapshotInput, w, _ model.ClusterSettings) {
		in.EngineLifecycleSupport = optString(w.EngineLifecycleSupport)
	},
	"PerformanceInsightsEnabled": func(in *rds.RestoreDBClusterFromSnapshotInput, w, _ model.ClusterSettings) {
		in.EnablePerformanceInsights = aws.Bool(w.PerformanceInsightsEnabled)
	},
	"PerformanceInsightsKMSKeyID": func(in *rds.RestoreDBClusterFromSnapshotInput, w, _ model.ClusterSettings) {
		in.PerformanceInsightsKMSKeyId = optString(w.PerformanceInsightsKMSKeyID)
	},
	"PerformanceInsightsRetentionPeriod": func(in *rds.RestoreDBClusterFromSnapshotInput, w, _ model.ClusterSettings) {
		in.PerformanceInsightsRetentionPeriod = optPositive(w.PerformanceInsightsRetentionPeriod)
	},
	"Domain": func(in *rds.RestoreDBClusterFromSnapshotInput, w, _ model.ClusterSettings) {
		in.Domain = optString(w.Domain)
	},
	"DomainIAMRoleName": func(in *rds.RestoreDBClusterFromSnapshotInput, w, _ model.ClusterSettings) {
		in.DomainIAMRoleName = optString(w.DomainIAMRoleName)
	},
}

// How each ClusterSettings field reaches ModifyDBCluster (Modify routes).
var modifyClusterSetters = map[model.Setting]setter[rds.ModifyDBClusterInput, model.ClusterSettings]{
	"Port": func(in *rds.ModifyDBClusterInput, w, _ model.ClusterSettings) { in.Port = optPositive(w.Port) },
	"VpcSecurityGroupIDs": func(in *rds.ModifyDBClusterInput, w, _ model.ClusterSettings) {
		in.VpcSecurityGroupIds = optList(w.VpcSecurityGroupIDs)
	},
	"DBClusterParameterGroupName": func(in *rds.ModifyDBClusterInput, w, _ model.ClusterSettings) {
		in.DBClusterParameterGroupName = optString(w.DBClusterParameterGroupName)
	},
	"StorageType": func(in *rds.ModifyDBClusterInput, w, _ model.ClusterSettings) {
		in.StorageType = optString(w.StorageType)
	},
	"BackupRetentionPeriod": func(in *rds.ModifyDBClusterInput, w, _ model.ClusterSettings) {
		in.BackupRetentionPeriod = optPositive(w.BackupRetentionPeriod)
	},
	"PreferredBackupWindow": func(in *rds.ModifyDBClusterInput, w, _ model.ClusterSettings) {
		in.PreferredBackupWindow = optString(w.PreferredBackupWindow)
	},
	"PreferredMaintenanceWindow": func(in *rds.ModifyDBClusterInput, w, _ model.ClusterSettings) {
		in.PreferredMaintenanceWindow = optString(w.PreferredMaintenanceWindow)
	},
	"CopyTagsToSnapshot": func(in *rds.ModifyDBClusterInput, w, _ model.ClusterSettings) {
		in.CopyTagsToSnapshot = aws.Bool(w.CopyTagsToSnapshot)
	},
	"DeletionProtection": func(in *rds.ModifyDBClusterInput, w, _ model.ClusterSettings) {
		in.DeletionProtection = aws.Bool(w.DeletionProtection)
	},
	"IAMDatabaseAuthenticationEnabled": func(in *rds.ModifyDBClusterInput, w, _ model.ClusterSettings) {
		in.EnableIAMDatabaseAuthentication = aws.Bool(w.IAMDatabaseAuthenticationEnabled)
	},
	"EnabledCloudwatchLogsExports": func(in *rds.ModifyDBClusterInput, w, cur model.ClusterSettings) {
		in.CloudwatchLogsExportConfiguration = logsExportChange(w.EnabledCloudwatchLogsExports, cur.EnabledCloudwatchLogsExports)
	},
	"BacktrackWindow": func(in *rds.ModifyDBClusterInput, w, _ model.ClusterSettings) {
		in.BacktrackWindow = aws.Int64(w.BacktrackWindow)
	},
	"ServerlessV2MinCapacity": func(in *rds.ModifyDBClusterInput, w, _ model.ClusterSettings) {
		in.ServerlessV2ScalingConfiguration = withV2Min(in.ServerlessV2ScalingConfiguration, w.ServerlessV2MinCapacity)
	},
	"ServerlessV2MaxCapacity": func(in *rds.ModifyDBClusterInput, w, _ model.ClusterSettings) {
		in.ServerlessV2ScalingConfiguration = withV2Max(in.ServerlessV2ScalingConfiguration, w.ServerlessV2MaxCapacity)
	},
	"NetworkType": func(in *rds.ModifyDBClusterInput, w, _ model.ClusterSettings) {
		in.NetworkType = optString(w.NetworkType)
	},
	"EngineLifecycleSupport": func(in *rds.ModifyDBClusterInput, w, _ model.ClusterSettings) {
		in.EngineLifecycleSupport = optString(w.EngineLifecycleSupport)
	},
	"HTTPEndpointEnabled": func(in *rds.ModifyDBClusterInput, w, _ model.ClusterSettings) {
		in.EnableHttpEndpoint = aws.Bool(w.HTTPEndpointEnabled)
	},
	"PerformanceInsightsEnabled": func(in *rds.ModifyDBClusterInput, w, _ model.ClusterSettings) {
		in.EnablePerformanceInsights = aws.Bool(w.PerformanceInsightsEnabled)
	},
	"PerformanceInsightsKMSKeyID": func(in *rds.ModifyDBClusterInput, w, _ model.ClusterSettings) {
		in.PerformanceInsightsKMSKeyId = optString(w.PerformanceInsightsKMSKeyID)
	},
	"PerformanceInsightsRetentionPeriod": func(in *rds.ModifyDBClusterInput, w, _ model.ClusterSettings) {
		in.PerformanceInsightsRetentionPeriod = optPositive(w.PerformanceInsightsRetentionPeriod)
	},
	// "If you change the value from standard to advanced, you must set the
	// PerformanceInsightsEnabled parameter to true and the PerformanceInsightsRetentionPeriod
	// parameter to 465" (ModifyDBClusterInput.DatabaseInsightsMode): sent together.
	"DatabaseInsightsMode": func(in *rds.ModifyDBClusterInput, w, _ model.ClusterSettings) {
		in.DatabaseInsightsMode = types.DatabaseInsightsMode(w.DatabaseInsightsMode)
		if w.DatabaseInsightsMode == string(types.DatabaseInsightsModeAdvanced) {
			in.EnablePerformanceInsights = aws.Bool(w.PerformanceInsightsEnabled)
			in.PerformanceInsightsRetentionPeriod = optPositive(w.PerformanceInsightsRetentionPeriod)
		}
	},
	"Domain": func(in *rds.ModifyDBClusterInput, w, _ model.ClusterSettings) {
		in.Domain = aws.String(w.Domain)
		if w.Domain == "" {
			in.Domain = aws.String("none") // "Specify none to remove the cluster from its current domain"
		}
	},
	"DomainIAMRoleName": func(in *rds.ModifyDBClusterInput, w, _ model.ClusterSettings) {
		in.DomainIAMRoleName = optString(w.DomainIAMRoleName)
	},
}

// optBacktrack: 0 means backtracking is off, which is also what a restore gives.
func optBacktrack(seconds int64) *int64 {
	if seconds <= 0 {
		return nil
	}
	return aws.Int64(seconds)
}

func withV2Min(c *types.ServerlessV2ScalingConfiguration, min float64) *types.ServerlessV2ScalingConfiguration {
	if min <= 0 {
		return c
	}
	if c == nil {
		c = &types.ServerlessV2ScalingConfiguration{}
	}
	c.MinCapacity = optFloat(min)
	return c
}

func withV2Max(c *types.ServerlessV2ScalingConfiguration, max float64) *types.ServerlessV2ScalingConfiguration {
	if max <= 0 {
		return c
	}
	if c == nil {
		c = &types.ServerlessV2ScalingConfiguration{}
	}
	c.MaxCapacity = optFloat(max)
	return c
}

// associatedRoles parses "FeatureName=RoleArn" entries.
func associatedRoles(roles []string) []types.DBClusterAssociatedRole {
	var out []types.DBClusterAssociatedRole
	for _, r := range roles {
		feature, arn, _ := strings.Cut(r, "=")
		out = append(out, types.DBClusterAssociatedRole{RoleArn: aws.String(arn), FeatureName: optString(feature)})
	}
	return out
}
