package awsclient

import (
	"reflect"

	"github.com/rdsencrypt/rdsencrypt/internal/model"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
)

// instanceFrom maps a described DB instance. The master password is never read here: only
// the ARN of a managed secret (Secrets reads its value, for the callers that need it).
func instanceFrom(region string, d *types.DBInstance) *model.Instance {
	inst := &model.Instance{
		ID:                   model.NormalizeID(str(d.DBInstanceIdentifier)),
		ResourceID:           str(d.DbiResourceId),
		ARN:                  str(d.DBInstanceArn),
		Region:               region,
		Status:               str(d.DBInstanceStatus),
		ClusterID:            str(d.DBClusterIdentifier),
		ReplicaSource:        str(d.ReadReplicaSourceDBInstanceIdentifier),
		Replicas:             append([]string(nil), d.ReadReplicaDBInstanceIdentifiers...),
		PendingModifications: pendingModificationNames(d.PendingModifiedValues),
		PercentProgress:      str(d.PercentProgress),
		ReplicaClusters:      append([]string(nil), d.ReadReplicaDBClusterIdentifiers...),
		ActivityStreamStatus: string(d.ActivityStreamStatus),
		CreateTime:           timeOf(d.InstanceCreateTime),
		Settings:             instanceSettingsFrom(d),
		Tags:                 tagsFrom(d.TagList),
	}
	if d.Endpoint != nil {
		inst.Endpoint = str(d.Endpoint.Address)
	}
	inst.MasterUsername, inst.DBName = str(d.MasterUsername), str(d.DBName)
	if d.DBSubnetGroup != nil {
		inst.VpcID = str(d.DBSubnetGroup.VpcId)
	}
	for _, g := range d.VpcSecurityGroups {
		// "adding" or "removing" while a change of groups is applied; "active" once in force
		if st := str(g.Status); st != "" && st != "active" {
			inst.SecurityGroupsSettling = true
		}
	}
	if d.MasterUserSecret != nil {
		inst.MasterUserSecretARN = str(d.MasterUserSecret.SecretArn)
		inst.MasterUserSecretKmsKeyID = str(d.MasterUserSecret.KmsKeyId)
	}
	for _, b := range d.DBInstanceAutomatedBackupsReplications {
		inst.BackupReplications = append(inst.BackupReplications, str(b.DBInstanceAutomatedBackupsArn))
	}
	if len(d.DBParameterGroups) > 0 {
		inst.ParameterApplyStatus = str(d.DBParameterGroups[0].ParameterApplyStatus)
	}
	if d.PendingModifiedValues != nil {
		inst.PendingRename = model.NormalizeID(str(d.PendingModifiedValues.DBInstanceIdentifier))
	}
	return inst
}

func instanceSettingsFrom(d *types.DBInstance) model.InstanceSettings {
	s := model.InstanceSettings{
		DBInstanceClass:                    str(d.DBInstanceClass),
		Engine:                             str(d.Engine),
		EngineVersion:                      str(d.EngineVersion),
		LicenseModel:                       str(d.LicenseModel),
		AllocatedStorage:                   aws.ToInt32(d.AllocatedStorage),
		MaxAllocatedStorage:                aws.ToInt32(d.MaxAllocatedStorage),
		StorageType:                        str(d.StorageType),
		Iops:                               aws.ToInt32(d.Iops),
		StorageThroughput:                  aws.ToInt32(d.StorageThroughput),
		MultiAZ:                            aws.ToBool(d.MultiAZ),
		AvailabilityZone:                   str(d.AvailabilityZone),
		PubliclyAccessible:                 aws.ToBool(d.PubliclyAccessible),
		AutoMinorVersionUpgrade:            aws.ToBool(d.AutoMinorVersionUpgrade),
		CopyTagsToSnapshot:                 aws.ToBool(d.CopyTagsToSnapshot),
		DeletionProtection:                 aws.ToBool(d.DeletionProtection),
		IAMDatabaseAuthenticationEnabled:   aws.ToBool(d.IAMDatabaseAuthenticationEnabled),
		EnabledCloudwatchLogsExports:       append([]string(nil), d.EnabledCloudwatchLogsExports...),
		CACertificateIdentifier:            str(d.CACertificateIdentifier),
		BackupRetentionPeriod:              aws.ToInt32(d.BackupRetentionPeriod),
		PreferredBackupWindow:              str(d.PreferredBackupWindow),
		PreferredMaintenanceWindow:         str(d.PreferredMaintenanceWindow),
		MonitoringInterval:                 aws.ToInt32(d.MonitoringInterval),
		MonitoringRoleArn:                  str(d.MonitoringRoleArn),
		PerformanceInsightsEnabled:         aws.ToBool(d.PerformanceInsightsEnabled),
		PerformanceInsightsKMSKeyID:        str(d.PerformanceInsightsKMSKeyId),
		PerformanceInsightsRetentionPeriod: aws.ToInt32(d.PerformanceInsightsRetentionPeriod),
		DatabaseInsightsMode:               string(d.DatabaseInsightsMode),
		NetworkType:                        str(d.NetworkType),
		StorageEncrypted:                   storageEncrypted(d.StorageEncrypted, d.StorageEncryptionType),
		KmsKeyID:                           str(d.KmsKeyId),
		ManagedMasterUserSecret:            d.MasterUserSecret != nil,
		EngineLifecycleSupport:             str(d.EngineLifecycleSupport),
		DedicatedLogVolume:                 aws.ToBool(d.DedicatedLogVolume),
		ReplicaMode:                        string(d.ReplicaMode),
		TdeCredentialArn:                   str(d.TdeCredentialArn),
	}
	for _, f := range d.ProcessorFeatures {
		s.ProcessorFeatures = append(s.ProcessorFeatures, str(f.Name)+"="+str(f.Value))
	}
	if len(d.DomainMemberships) > 0 {
		s.Domain = str(d.DomainMemberships[0].Domain)
	}
	if d.Endpoint != nil && d.Endpoint.Port != nil {
		s.Port = *d.Endpoint.Port
	} else {
		s.Port = aws.ToInt32(d.DbInstancePort)
	}
	if d.DBSubnetGroup != nil {
		s.DBSubnetGroupName = str(d.DBSubnetGroup.DBSubnetGroupName)
	}
	for _, g := range d.VpcSecurityGroups {
		s.VpcSecurityGroupIDs = append(s.VpcSecurityGroupIDs, str(g.VpcSecurityGroupId))
	}
	if len(d.DBParameterGroups) > 0 {
		s.DBParameterGroupName = str(d.DBParameterGroups[0].DBParameterGroupName)
	}
	if len(d.OptionGroupMemberships) > 0 {
		s.OptionGroupName = str(d.OptionGroupMemberships[0].OptionGroupName)
	}
	for _, r := range d.AssociatedRoles {
		s.AssociatedRoles = append(s.AssociatedRoles, str(r.FeatureName)+"="+str(r.RoleArn))
	}
	return s
}

// storageEncrypted follows docs/aws-behaviour.md#encrypting-an-instance: StorageEncryptionType "none" is
// authoritative when present, else the StorageEncrypted flag.
func storageEncrypted(flag *bool, encType types.StorageEncryptionType) bool {
	switch encType {
	case "":
		return aws.ToBool(flag)
	case "none":
		return false
	default:
		return true
	}
}

// pendingModificationNames lists the fields of PendingModifiedValues that are set. Only
// names are taken: a pending MasterUserPassword is reported, its value is not read.
func pendingModificationNames(p *types.PendingModifiedValues) []string {
	if p == nil {
		return nil
	}
	var names []string
	v := reflect.ValueOf(p).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		if !v.Type().Field(i).IsExported() || f.IsZero() {
			continue
		}
		if f.Kind() == reflect.Slice && f.Len() == 0 {
			continue
		}
		names = append(names, v.Type().Field(i).Name)
	}
	return names
}
