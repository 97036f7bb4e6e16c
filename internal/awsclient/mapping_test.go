package awsclient

import (
	"reflect"
	"testing"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/model"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/stretchr/testify/assert"
)

var created = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func fullDBInstance() *types.DBInstance {
	return &types.DBInstance{
		DBInstanceIdentifier:                  aws.String("DB1"),
		DbiResourceId:                         aws.String("db-ABC"),
		DBInstanceArn:                         aws.String("arn:aws:rds:us-east-1:123456789012:db:db1"),
		DBInstanceStatus:                      aws.String("available"),
		DBClusterIdentifier:                   aws.String("c1"),
		ReadReplicaSourceDBInstanceIdentifier: aws.String("src"),
		ReadReplicaDBInstanceIdentifiers:      []string{"r1", "arn:aws:rds:eu-west-1:123456789012:db:r2"},
		PendingModifiedValues:                 &types.PendingModifiedValues{DBInstanceClass: aws.String("db.r6g.large"), MasterUserPassword: aws.String("****"), DBInstanceIdentifier: aws.String("DB1-New")},
		PercentProgress:                       aws.String("42"),
		ReadReplicaDBClusterIdentifiers:       []string{"analytics"},
		ActivityStreamStatus:                  types.ActivityStreamStatusStarted,
		DBInstanceAutomatedBackupsReplications: []types.DBInstanceAutomatedBackupsReplication{
			{DBInstanceAutomatedBackupsArn: aws.String("arn:aws:rds:us-west-2:123456789012:auto-backup:ab-1")}},
		InstanceCreateTime:  &created,
		Endpoint:            &types.Endpoint{Address: aws.String("db1.abc.us-east-1.rds.amazonaws.com"), Port: aws.Int32(5432)},
		DBInstanceClass:     aws.String("db.m6g.large"),
		Engine:              aws.String("postgres"),
		EngineVersion:       aws.String("16.3"),
		LicenseModel:        aws.String("postgresql-license"),
		AllocatedStorage:    aws.Int32(100),
		MaxAllocatedStorage: aws.Int32(200),
		StorageType:         aws.String("gp3"),
		Iops:                aws.Int32(3000),
		StorageThroughput:   aws.Int32(125),
		MultiAZ:             aws.Bool(true),
		AvailabilityZone:    aws.String("us-east-1a"),
		DBSubnetGroup:       &types.DBSubnetGroup{DBSubnetGroupName: aws.String("sub"), VpcId: aws.String("vpc-0a1b")},
		VpcSecurityGroups: []types.VpcSecurityGroupMembership{{VpcSecurityGroupId: aws.String("sg-1"), Status: aws.String("active")},
			{VpcSecurityGroupId: aws.String("sg-2"), Status: aws.String("adding")}},
		DBParameterGroups:                  []types.DBParameterGroupStatus{{DBParameterGroupName: aws.String("pg"), ParameterApplyStatus: aws.String("pending-reboot")}},
		OptionGroupMemberships:             []types.OptionGroupMembership{{OptionGroupName: aws.String("og")}},
		PubliclyAccessible:                 aws.Bool(true),
		AutoMinorVersionUpgrade:            aws.Bool(true),
		CopyTagsToSnapshot:                 aws.Bool(true),
		DeletionProtection:                 aws.Bool(true),
		IAMDatabaseAuthenticationEnabled:   aws.Bool(true),
		EnabledCloudwatchLogsExports:       []string{"postgresql"},
		CACertificateIdentifier:            aws.String("rds-ca-rsa2048-g1"),
		BackupRetentionPeriod:              aws.Int32(7),
		PreferredBackupWindow:              aws.String("03:00-04:00"),
		PreferredMaintenanceWindow:         aws.String("sun:05:00-sun:06:00"),
		MonitoringInterval:                 aws.Int32(60),
		MonitoringRoleArn:                  aws.String("arn:aws:iam::123456789012:role/mon"),
		PerformanceInsightsEnabled:         aws.Bool(true),
		PerformanceInsightsKMSKeyId:        aws.String("arn:aws:kms:us-east-1:123456789012:key/pi"),
		PerformanceInsightsRetentionPeriod: aws.Int32(7),
		DatabaseInsightsMode:               types.DatabaseInsightsModeAdvanced,
		NetworkType:                        aws.String("IPV4"),
		StorageEncrypted:                   aws.Bool(true),
		KmsKeyId:                           aws.String("arn:aws:kms:us-east-1:123456789012:key/k"),
		MasterUserSecret:                   &types.MasterUserSecret{SecretArn: aws.String("arn:secret"), KmsKeyId: aws.String("arn:secret-key")},
		MasterUsername:                     aws.String("app"),
		DBName:                             aws.String("shop"),
		AssociatedRoles:                    []types.DBInstanceRole{{FeatureName: aws.String("s3Import"), RoleArn: aws.String("arn:aws:iam::123456789012:role/s3")}},
		TagList:                            []types.Tag{{Key: aws.String("team"), Value: aws.String("data")}},
		EngineLifecycleSupport:             aws.String("open-source-rds-extended-support-disabled"),
		DedicatedLogVolume:                 aws.Bool(true),
		ProcessorFeatures:                  []types.ProcessorFeature{{Name: aws.String("coreCount"), Value: aws.String("2")}},
		ReplicaMode:                        types.ReplicaModeMounted,
		DomainMemberships:                  []types.DomainMembership{{Domain: aws.String("d-1234567890")}},
		TdeCredentialArn:                   aws.String("arn:aws:rds:us-east-1:123456789012:tde:cred"),
	}
}

// assertAllFieldsSet fails for every zero field, so that a field added to the settings
// structs without a mapping is noticed.
func assertAllFieldsSet(t *testing.T, v any) {
	t.Helper()
	rv := reflect.ValueOf(v)
	for i := range rv.NumField() {
		assert.False(t, rv.Field(i).IsZero(), "%T.%s is not mapped", v, rv.Type().Field(i).Name)
	}
}

func TestInstanceFromMapsEverySetting(t *testing.T) {
	inst := instanceFrom("us-east-1", fullDBInstance())
	assertAllFieldsSet(t, inst.Settings)
	assertAllFieldsSet(t, *inst)
	assert.Equal(t, "db1", inst.ID)
	assert.Equal(t, int32(5432), inst.Settings.Port)
	assert.Equal(t, []string{"s3Import=arn:aws:iam::123456789012:role/s3"}, inst.Settings.AssociatedRoles)
	assert.Equal(t, []string{"DBInstanceClass", "DBInstanceIdentifier", "MasterUserPassword"}, inst.PendingModifications)
	assert.Equal(t, "db1-new", inst.PendingRename)
	assert.Equal(t, "pending-reboot", inst.ParameterApplyStatus)
	assert.Equal(t, model.Tags{"team": "data"}, inst.Tags)
	assert.True(t, inst.Settings.ManagedMasterUserSecret)
	assert.True(t, inst.SecurityGroupsSettling, "sg-2 is still being added")
	d := fullDBInstance()
	d.VpcSecurityGroups[1].Status = aws.String("active")
	assert.False(t, instanceFrom("us-east-1", d).SecurityGroupsSettling, "every membership active")
}

func TestStorageEncryptionTypeNoneIsAuthoritative(t *testing.T) {
	d := fullDBInstance()
	d.StorageEncryptionType = types.StorageEncryptionType("none")
	assert.False(t, instanceFrom("us-east-1", d).Settings.StorageEncrypted)
	d.StorageEncrypted, d.StorageEncryptionType = aws.Bool(false), types.StorageEncryptionType("sse-rds")
	assert.True(t, instanceFrom("us-east-1", d).Settings.StorageEncrypted)
}

func TestClusterFromMapsEverySetting(t *testing.T) {
	d := &types.DBCluster{
		DBClusterIdentifier:                aws.String("C1"),
		DbClusterResourceId:                aws.String("cluster-ABC"),
		DBClusterArn:                       aws.String("arn:aws:rds:us-east-1:123456789012:cluster:c1"),
		Status:                             aws.String("available"),
		Endpoint:                           aws.String("c1.cluster-abc.us-east-1.rds.amazonaws.com"),
		ReaderEndpoint:                     aws.String("c1.cluster-ro-abc.us-east-1.rds.amazonaws.com"),
		DBClusterMembers:                   []types.DBClusterMember{{DBInstanceIdentifier: aws.String("I1"), IsClusterWriter: aws.Bool(true), PromotionTier: aws.Int32(1)}},
		GlobalClusterIdentifier:            aws.String("g1"),
		ReplicationSourceIdentifier:        aws.String("arn:src"),
		ReadReplicaIdentifiers:             []string{"arn:aws:rds:us-west-2:123456789012:cluster:dr"},
		HttpEndpointEnabled:                aws.Bool(true),
		EngineLifecycleSupport:             aws.String("open-source-rds-extended-support-disabled"),
		ActivityStreamStatus:               types.ActivityStreamStatusStarted,
		PerformanceInsightsEnabled:         aws.Bool(true),
		PerformanceInsightsKMSKeyId:        aws.String("arn:pi-key"),
		PerformanceInsightsRetentionPeriod: aws.Int32(465),
		DatabaseInsightsMode:               types.DatabaseInsightsModeAdvanced,
		DomainMemberships:                  []types.DomainMembership{{Domain: aws.String("d-1234567890"), IAMRoleName: aws.String("rds-directory")}},
		CustomEndpoints:                    []string{"ep1.cluster-custom-abc.us-east-1.rds.amazonaws.com"},
		Engine:                             aws.String("aurora-postgresql"),
		EngineVersion:                      aws.String("16.2"),
		EngineMode:                         aws.String("provisioned"),
		Port:                               aws.Int32(5432),
		DBSubnetGroup:                      aws.String("sub"),
		VpcSecurityGroups:                  []types.VpcSecurityGroupMembership{{VpcSecurityGroupId: aws.String("sg-1")}},
		DBClusterParameterGroup:            aws.String("cpg"),
		DatabaseName:                       aws.String("app"),
		StorageType:                        aws.String("aurora-iopt1"),
		BackupRetentionPeriod:              aws.Int32(7),
		PreferredBackupWindow:              aws.String("03:00-04:00"),
		PreferredMaintenanceWindow:         aws.String("sun:05:00-sun:06:00"),
		CopyTagsToSnapshot:                 aws.Bool(true),
		DeletionProtection:                 aws.Bool(true),
		IAMDatabaseAuthenticationEnabled:   aws.Bool(true),
		EnabledCloudwatchLogsExports:       []string{"postgresql"},
		BacktrackWindow:                    aws.Int64(3600),
		ServerlessV2ScalingConfiguration:   &types.ServerlessV2ScalingConfigurationInfo{MinCapacity: aws.Float64(0.5), MaxCapacity: aws.Float64(8)},
		AssociatedRoles:                    []types.DBClusterRole{{FeatureName: aws.String("s3Import"), RoleArn: aws.String("arn:role")}},
		NetworkType:                        aws.String("DUAL"),
		StorageEncrypted:                   aws.Bool(true),
		KmsKeyId:                           aws.String("arn:key"),
		MasterUserSecret:                   &types.MasterUserSecret{SecretArn: aws.String("arn:secret"), KmsKeyId: aws.String("arn:secret-key")},
		TagList:                            []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}},
	}
	cl := clusterFrom("us-east-1", d)
	assertAllFieldsSet(t, cl.Settings)
	assertAllFieldsSet(t, *cl)
	assert.Equal(t, []model.ClusterMember{{InstanceID: "i1", IsWriter: true, PromotionTier: 1}}, cl.Members)
	assert.Equal(t, []string{"s3Import=arn:role"}, cl.Settings.AssociatedRoles)
}

func TestSnapshotFromMapsEveryField(t *testing.T) {
	s := snapshotFrom("us-east-1", &types.DBSnapshot{
		DBSnapshotIdentifier: aws.String("Snap"), DBSnapshotArn: aws.String("arn:snap"), Status: aws.String("creating"),
		DBInstanceIdentifier: aws.String("db1"), DbiResourceId: aws.String("db-ABC"), Engine: aws.String("postgres"),
		Encrypted: aws.Bool(true), KmsKeyId: aws.String("arn:key"), PercentProgress: aws.Int32(40),
		AllocatedStorage: aws.Int32(100), SnapshotType: aws.String("manual"), SnapshotCreateTime: &created,
		TagList: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}},
	})
	assertAllFieldsSet(t, *s)
	assert.Equal(t, "snap", s.ID)
}

func TestAssociatedRolesRoundTrip(t *testing.T) {
	roles := associatedRoles([]string{"s3Import=arn:aws:iam::1:role/a", "=arn:aws:iam::1:role/b"})
	assert.Equal(t, "s3Import", aws.ToString(roles[0].FeatureName))
	assert.Equal(t, "arn:aws:iam::1:role/a", aws.ToString(roles[0].RoleArn))
	assert.Nil(t, roles[1].FeatureName)
}
