package awsclient

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

func clusterFrom(region string, d *types.DBCluster) *model.Cluster {
	cl := &model.Cluster{
		ID:                   model.NormalizeID(str(d.DBClusterIdentifier)),
		ResourceID:           str(d.DbClusterResourceId),
		ARN:                  str(d.DBClusterArn),
		Region:               region,
		Status:               str(d.Status),
		Endpoint:             str(d.Endpoint),
		ReaderEndpoint:       str(d.ReaderEndpoint),
		GlobalClusterID:      str(d.GlobalClusterIdentifier),
		ReplicationSource:    str(d.ReplicationSourceIdentifier),
		CustomEndpoints:      append([]string(nil), d.CustomEndpoints...),
		ReplicaClusters:      append([]string(nil), d.ReadReplicaIdentifiers...),
		ActivityStreamStatus: string(d.ActivityStreamStatus),
		Settings:             clusterSettingsFrom(d),
		Tags:                 tagsFrom(d.TagList),
	}
	if d.MasterUserSecret != nil {
		cl.MasterUserSecretARN = str(d.MasterUserSecret.SecretArn)
		cl.MasterUserSecretKmsKeyID = str(d.MasterUserSecret.KmsKeyId)
	}
	for _, m := range d.DBClusterMembers {
		cl.Members = append(cl.Members, model.ClusterMember{
			InstanceID:    model.NormalizeID(str(m.DBInstanceIdentifier)),
			IsWriter:      aws.ToBool(m.IsClusterWriter),
			PromotionTier: aws.ToInt32(m.PromotionTier),
		})
	}
	return cl
}

func clusterSettingsFrom(d *types.DBCluster) model.ClusterSettings {
	s := model.ClusterSettings{
		Engine:                           str(d.Engine),
		EngineVersion:                    str(d.EngineVersion),
		EngineMode:                       str(d.EngineMode),
		Port:                             aws.ToInt32(d.Port),
		DBSubnetGroupName:                str(d.DBSubnetGroup),
		DBClusterParameterGroupName:      str(d.DBClusterParameterGroup),
		DatabaseName:                     str(d.DatabaseName),
		StorageType:                      str(d.StorageType),
		BackupRetentionPeriod:            aws.ToInt32(d.BackupRetentionPeriod),
		PreferredBackupWindow:            str(d.PreferredBackupWindow),
		PreferredMaintenanceWindow:       str(d.PreferredMaintenanceWindow),
		CopyTagsToSnapshot:               aws.ToBool(d.CopyTagsToSnapshot),
		DeletionProtection:               aws.ToBool(d.DeletionProtection),
		IAMDatabaseAuthenticationEnabled: aws.ToBool(d.IAMDatabaseAuthenticationEnabled),
		EnabledCloudwatchLogsExports:     append([]string(nil), d.EnabledCloudwatchLogsExports...),
		BacktrackWindow:                  aws.ToInt64(d.BacktrackWindow),
		NetworkType:                      str(d.NetworkType),
		HTTPEndpointEnabled:              aws.ToBool(d.HttpEndpointEnabled),
		EngineLifecycleSupport:           str(d.EngineLifecycleSupport),
		PerformanceInsightsEnabled:       aws.ToBool(d.PerformanceInsightsEnabled),
		PerformanceInsightsKMSKeyID:      str(d.PerformanceInsightsKMSKeyId),
		DatabaseInsightsMode:             string(d.DatabaseInsightsMode),
		StorageEncrypted:                 storageEncrypted(d.StorageEncrypted, d.StorageEncryptionType),
		KmsKeyID:                         str(d.KmsKeyId),
		ManagedMasterUserSecret:          d.MasterUserSecret != nil,
	}
	for _, g := range d.VpcSecurityGroups {
		s.VpcSecurityGroupIDs = append(s.VpcSecurityGroupIDs, str(g.VpcSecurityGroupId))
	}
	if v2 := d.ServerlessV2ScalingConfiguration; v2 != nil {
		s.ServerlessV2MinCapacity = aws.ToFloat64(v2.MinCapacity)
		s.ServerlessV2MaxCapacity = aws.ToFloat64(v2.MaxCapacity)
	}
	for _, r := range d.AssociatedRoles {
		s.AssociatedRoles = append(s.AssociatedRoles, str(r.FeatureName)+"="+str(r.RoleArn))
	}
	if s.PerformanceInsightsEnabled {
		s.PerformanceInsightsRetentionPeriod = aws.ToInt32(d.PerformanceInsightsRetentionPeriod)
	}
	if len(d.DomainMemberships) > 0 {
		s.Domain, s.DomainIAMRoleName = str(d.DomainMemberships[0].Domain), str(d.DomainMemberships[0].IAMRoleName)
	}
	return s
}

func clusterEndpointFrom(d *types.DBClusterEndpoint) model.ClusterEndpoint {
	return model.ClusterEndpoint{
		ID:              model.NormalizeID(str(d.DBClusterEndpointIdentifier)),
		ClusterID:       model.NormalizeID(str(d.DBClusterIdentifier)),
		Type:            str(d.CustomEndpointType),
		Address:         str(d.Endpoint),
		Status:          str(d.Status),
		StaticMembers:   append([]string(nil), d.StaticMembers...),
		ExcludedMembers: append([]string(nil), d.ExcludedMembers...),
		ARN:             str(d.DBClusterEndpointArn),
	}
}
