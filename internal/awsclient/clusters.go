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

func (c *regionClient) DescribeCluster(ctx context.Context, id string) (*model.Cluster, error) {
	ctx, id = begin(ctx, id)
	out, err := c.rds.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: &id})
	if err != nil {
		return nil, translateError("DescribeDBClusters", id, err)
	}
	if len(out.DBClusters) == 0 {
		return nil, emptyAnswer("DescribeDBClusters", id, "DB cluster")
	}
	found, err := onlyOne("DescribeDBClusters", id, "DB cluster", out.DBClusters)
	if err != nil {
		return nil, err
	}
	return clusterFrom(c.region, found), nil
}

// DescribeClusterByResourceID filters on db-cluster-resource-id, which survives renames.
func (c *regionClient) DescribeClusterByResourceID(ctx context.Context, resourceID string) (*model.Cluster, error) {
	if c.lookups != nil {
		return c.lookups.clusters.get(ctx, resourceID)
	}
	ctx = withTarget(ctx, resourceID)
	out, err := c.rds.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{
		Filters: []types.Filter{{Name: aws.String("db-cluster-resource-id"), Values: []string{resourceID}}},
	})
	if err != nil {
		return nil, translateError("DescribeDBClusters", resourceID, err)
	}
	found, err := onlyOne("DescribeDBClusters", resourceID, "DB cluster with resource id", out.DBClusters)
	if err != nil {
		return nil, err
	}
	return clusterFrom(c.region, found), nil
}

func (c *regionClient) ListClusters(ctx context.Context) ([]model.Cluster, error) {
	ctx = withTarget(ctx, "")
	records, err := allPages(ctx, rds.NewDescribeDBClustersPaginator(c.rds, &rds.DescribeDBClustersInput{}),
		func(p *rds.DescribeDBClustersOutput) []types.DBCluster { return p.DBClusters })
	if err != nil {
		return nil, translateError("DescribeDBClusters", c.region, err)
	}
	return convertAll(c.region, records, clusterFrom), nil
}

// RestoreCluster restores an encrypted cluster: for Aurora the restore itself encrypts
// (docs/aws-behaviour.md#aurora-clusters). Engine is required by the API and is always sent.
func (c *regionClient) RestoreCluster(ctx context.Context, in model.RestoreClusterInput) (*model.Cluster, error) {
	const op = "RestoreDBClusterFromSnapshot"
	ctx, id := begin(ctx, in.ID)
	input := &rds.RestoreDBClusterFromSnapshotInput{
		DBClusterIdentifier: &id,
		SnapshotIdentifier:  aws.String(model.NormalizeID(in.SnapshotID)),
		Engine:              optString(in.Settings.Engine),
		KmsKeyId:            optString(in.KmsKeyID),
		Tags:                sdkTags(in.Tags),
	}
	if err := carrySettings(op, id, model.ClusterSettingRoutes, allowsRestore, restoreClusterSetters,
		input, in.Settings, model.ClusterSettings{}, in.Carry); err != nil {
		return nil, err
	}
	out, err := c.rds.RestoreDBClusterFromSnapshot(ctx, input)
	if err != nil {
		return nil, translateError(op, id, err)
	}
	return clusterFrom(c.region, out.DBCluster), nil
}

// ModifyCluster applies the named settings with ApplyImmediately; no call is made when
// nothing would change.
func (c *regionClient) ModifyCluster(ctx context.Context, id string, want model.ClusterSettings, fields []model.Setting) (*model.Cluster, error) {
	const op = "ModifyDBCluster"
	ctx, id = begin(ctx, id)
	var current model.ClusterSettings
	if slices.Contains(fields, "EnabledCloudwatchLogsExports") {
		cl, err := c.DescribeCluster(ctx, id)
		if err != nil {
			return nil, err
		}
		current = cl.Settings
	}
	input := &rds.ModifyDBClusterInput{DBClusterIdentifier: &id, ApplyImmediately: aws.Bool(true)}
	untouched := *input
	if err := carrySettings(op, id, model.ClusterSettingRoutes, allowsModify, modifyClusterSetters,
		input, want, current, fields); err != nil {
		return nil, err
	}
	if reflect.DeepEqual(*input, untouched) {
		return c.DescribeCluster(ctx, id)
	}
	return c.modifyCluster(ctx, id, input)
}

// RenameCluster changes the cluster identifier and with it the writer and reader endpoints.
func (c *regionClient) RenameCluster(ctx context.Context, id, newID string) (*model.Cluster, error) {
	ctx, id = begin(ctx, id)
	return c.modifyCluster(ctx, id, &rds.ModifyDBClusterInput{
		DBClusterIdentifier:    &id,
		NewDBClusterIdentifier: aws.String(model.NormalizeID(newID)),
		ApplyImmediately:       aws.Bool(true),
	})
}

func (c *regionClient) ManageClusterMasterPassword(ctx context.Context, id, secretKmsKeyID string) (*model.Cluster, error) {
	ctx, id = begin(ctx, id)
	return c.modifyCluster(ctx, id, &rds.ModifyDBClusterInput{DBClusterIdentifier: &id, ApplyImmediately: aws.Bool(true),
		ManageMasterUserPassword: aws.Bool(true), MasterUserSecretKmsKeyId: optString(secretKmsKeyID)})
}

func (c *regionClient) modifyCluster(ctx context.Context, id string, input *rds.ModifyDBClusterInput) (*model.Cluster, error) {
	out, err := c.rds.ModifyDBCluster(ctx, input)
	if err != nil {
		return nil, translateError("ModifyDBCluster", id, err)
	}
	return clusterFrom(c.region, out.DBCluster), nil
}

func (c *regionClient) DeleteCluster(ctx context.Context, id, finalSnapshotID string) error {
	ctx, id = begin(ctx, id)
	input := &rds.DeleteDBClusterInput{DBClusterIdentifier: &id}
	if finalSnapshotID == "" {
		input.SkipFinalSnapshot = aws.Bool(true)
	} else {
		// A resource worth a final snapshot keeps its point-in-time window too: AWS removes
		// automated backups at once by default (SDK v1.133.0 doc comment of
		// DeleteDBClusterInput.DeleteAutomatedBackups); retained, they expire with their
		// retention period.
		input.FinalDBSnapshotIdentifier = aws.String(model.NormalizeID(finalSnapshotID))
		input.DeleteAutomatedBackups = aws.Bool(false)
	}
	_, err := c.rds.DeleteDBCluster(ctx, input)
	return translateError("DeleteDBCluster", id, err)
}
