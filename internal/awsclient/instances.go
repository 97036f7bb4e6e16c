package awsclient

import (
	"context"
	"reflect"
	"slices"

	"github.com/rdsencrypt/rdsencrypt/internal/model"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
)

func (c *regionClient) DescribeInstance(ctx context.Context, id string) (*model.Instance, error) {
	ctx, id = begin(ctx, id)
	out, err := c.rds.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: &id})
	if err != nil {
		return nil, translateError("DescribeDBInstances", id, err)
	}
	if len(out.DBInstances) == 0 {
		return nil, emptyAnswer("DescribeDBInstances", id, "DB instance")
	}
	found, err := onlyOne("DescribeDBInstances", id, "DB instance", out.DBInstances)
	if err != nil {
		return nil, err
	}
	return instanceFrom(c.region, found), nil
}

// DescribeInstanceByResourceID filters on dbi-resource-id, which survives renames; an
// empty result is KindNotFound.
func (c *regionClient) DescribeInstanceByResourceID(ctx context.Context, resourceID string) (*model.Instance, error) {
	if c.lookups != nil {
		return c.lookups.instances.get(ctx, resourceID)
	}
	ctx = withTarget(ctx, resourceID)
	out, err := c.rds.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{
		Filters: []types.Filter{{Name: aws.String("dbi-resource-id"), Values: []string{resourceID}}},
	})
	if err != nil {
		return nil, translateError("DescribeDBInstances", resourceID, err)
	}
	found, err := onlyOne("DescribeDBInstances", resourceID, "DB instance with resource id", out.DBInstances)
	if err != nil {
		return nil, err
	}
	return instanceFrom(c.region, found), nil
}

func (c *regionClient) ListInstances(ctx context.Context) ([]model.Instance, error) {
	ctx = withTarget(ctx, "")
	records, err := allPages(ctx, rds.NewDescribeDBInstancesPaginator(c.rds, &rds.DescribeDBInstancesInput{}),
		func(p *rds.DescribeDBInstancesOutput) []types.DBInstance { return p.DBInstances })
	if err != nil {
		return nil, translateError("DescribeDBInstances", c.region, err)
	}
	return convertAll(c.region, records, instanceFrom), nil
}

func (c *regionClient) RestoreInstance(ctx context.Context, in model.RestoreInstanceInput) (*model.Instance, error) {
	const op = "RestoreDBInstanceFromDBSnapshot"
	ctx, id := begin(ctx, in.ID)
	input := &rds.RestoreDBInstanceFromDBSnapshotInput{
		DBInstanceIdentifier: &id,
		DBSnapshotIdentifier: aws.String(model.NormalizeID(in.SnapshotID)),
		Tags:                 sdkTags(in.Tags),
	}
	if err := carrySettings(op, id, model.InstanceSettingRoutes, allowsRestore, restoreInstanceSetters,
		input, in.Settings, model.InstanceSettings{}, in.Carry); err != nil {
		return nil, err
	}
	out, err := c.rds.RestoreDBInstanceFromDBSnapshot(ctx, input)
	if err != nil {
		return nil, translateError(op, id, err)
	}
	return instanceFrom(c.region, out.DBInstance), nil
}

// CreateReadReplica is called in the replica's region. SourceRegion and KmsKeyId are sent
// only across regions: same-region replicas inherit the source key, and AWS rejects a
// KmsKeyId or a presigned URL there (docs/aws-behaviour.md#presigned-urls, #read-replicas).
func (c *regionClient) CreateReadReplica(ctx context.Context, in model.ReadReplicaInput) (*model.Instance, error) {
	const op = "CreateDBInstanceReadReplica"
	ctx, id := begin(ctx, in.ID)
	input := &rds.CreateDBInstanceReadReplicaInput{
		DBInstanceIdentifier:       &id,
		SourceDBInstanceIdentifier: aws.String(model.NormalizeID(in.Source)),
		Tags:                       sdkTags(in.Tags),
	}
	if c.isCrossRegion(in.SourceRegion) {
		input.SourceRegion = aws.String(in.SourceRegion)
		input.KmsKeyId = optString(in.KmsKeyID)
	}
	if err := carrySettings(op, id, model.InstanceSettingRoutes, allowsReplica, replicaSetters,
		input, in.Settings, model.InstanceSettings{}, in.Carry); err != nil {
		return nil, err
	}
	out, err := c.rds.CreateDBInstanceReadReplica(ctx, input)
	if err != nil {
		return nil, translateError(op, id, err)
	}
	return instanceFrom(c.region, out.DBInstance), nil
}

func (c *regionClient) CreateClusterInstance(ctx context.Context, in model.ClusterInstanceInput) (*model.Instance, error) {
	const op = "CreateDBInstance"
	ctx, id := begin(ctx, in.ID)
	input := &rds.CreateDBInstanceInput{
		DBInstanceIdentifier:       &id,
		DBClusterIdentifier:        aws.String(model.NormalizeID(in.ClusterID)),
		Engine:                     aws.String(in.Engine),
		DBInstanceClass:            aws.String(in.DBInstanceClass),
		PromotionTier:              aws.Int32(in.PromotionTier),
		DBParameterGroupName:       optString(in.DBParameterGroupName),
		AvailabilityZone:           optString(in.AvailabilityZone),
		PubliclyAccessible:         aws.Bool(in.PubliclyAccessible),
		AutoMinorVersionUpgrade:    aws.Bool(in.AutoMinorVersionUpgrade),
		MonitoringInterval:         aws.Int32(in.MonitoringInterval),
		MonitoringRoleArn:          optString(in.MonitoringRoleArn),
		EnablePerformanceInsights:  aws.Bool(in.PerformanceInsightsEnabled),
		PreferredMaintenanceWindow: optString(in.PreferredMaintenanceWindow),
		CACertificateIdentifier:    optString(in.CACertificateIdentifier),
		Tags:                       sdkTags(in.Tags),
	}
	if in.PerformanceInsightsEnabled {
		input.PerformanceInsightsKMSKeyId = optString(in.PerformanceInsightsKMSKeyID)
		input.PerformanceInsightsRetentionPeriod = optPositive(in.PerformanceInsightsRetentionPeriod)
	}
	out, err := c.rds.CreateDBInstance(ctx, input)
	if err != nil {
		return nil, translateError(op, id, err)
	}
	return instanceFrom(c.region, out.DBInstance), nil
}

// ModifyInstance applies the named settings with ApplyImmediately. When nothing would
// change (e.g. log exports already match) no call is made and the instance is described.
func (c *regionClient) ModifyInstance(ctx context.Context, id string, want model.InstanceSettings, fields []model.Setting) (*model.Instance, error) {
	const op = "ModifyDBInstance"
	ctx, id = begin(ctx, id)
	var current model.InstanceSettings
	if slices.Contains(fields, "EnabledCloudwatchLogsExports") {
		inst, err := c.DescribeInstance(ctx, id)
		if err != nil {
			return nil, err
		}
		current = inst.Settings
	}
	input := &rds.ModifyDBInstanceInput{DBInstanceIdentifier: &id, ApplyImmediately: aws.Bool(true)}
	untouched := *input
	if err := carrySettings(op, id, model.InstanceSettingRoutes, allowsModify, modifyInstanceSetters,
		input, want, current, fields); err != nil {
		return nil, err
	}
	if reflect.DeepEqual(*input, untouched) {
		return c.DescribeInstance(ctx, id)
	}
	return c.modifyInstance(ctx, id, input)
}

// RenameInstance changes the identifier (and so the endpoint) immediately. The old id
// may keep answering for a while: wait on the resource id (docs/aws-behaviour.md#renames).
func (c *regionClient) RenameInstance(ctx context.Context, id, newID string) (*model.Instance, error) {
	ctx, id = begin(ctx, id)
	return c.modifyInstance(ctx, id, &rds.ModifyDBInstanceInput{
		DBInstanceIdentifier:    &id,
		NewDBInstanceIdentifier: aws.String(model.NormalizeID(newID)),
		ApplyImmediately:        aws.Bool(true),
	})
}

func (c *regionClient) ManageInstanceMasterPassword(ctx context.Context, id, secretKmsKeyID string) (*model.Instance, error) {
	ctx, id = begin(ctx, id)
	return c.modifyInstance(ctx, id, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: &id, ApplyImmediately: aws.Bool(true),
		ManageMasterUserPassword: aws.Bool(true), MasterUserSecretKmsKeyId: optString(secretKmsKeyID)})
}

func (c *regionClient) modifyInstance(ctx context.Context, id string, input *rds.ModifyDBInstanceInput) (*model.Instance, error) {
	out, err := c.rds.ModifyDBInstance(ctx, input)
	if err != nil {
		return nil, translateError("ModifyDBInstance", id, err)
	}
	return instanceFrom(c.region, out.DBInstance), nil
}

func (c *regionClient) RebootInstance(ctx context.Context, id string) (*model.Instance, error) {
	ctx, id = begin(ctx, id)
	out, err := c.rds.RebootDBInstance(ctx, &rds.RebootDBInstanceInput{DBInstanceIdentifier: &id})
	if err != nil {
		return nil, translateError("RebootDBInstance", id, err)
	}
	return instanceFrom(c.region, out.DBInstance), nil
}

func (c *regionClient) DeleteInstance(ctx context.Context, id, finalSnapshotID string) error {
	ctx, id = begin(ctx, id)
	input := &rds.DeleteDBInstanceInput{DBInstanceIdentifier: &id}
	if finalSnapshotID == "" {
		input.SkipFinalSnapshot = aws.Bool(true)
	} else {
		// A resource worth a final snapshot keeps its point-in-time window too: AWS removes
		// automated backups at once by default (SDK v1.133.0 doc comment of
		// DeleteDBInstanceInput.DeleteAutomatedBackups); retained, they expire with their
		// retention period.
		input.FinalDBSnapshotIdentifier = aws.String(model.NormalizeID(finalSnapshotID))
		input.DeleteAutomatedBackups = aws.Bool(false)
	}
	_, err := c.rds.DeleteDBInstance(ctx, input)
	return translateError("DeleteDBInstance", id, err)
}
