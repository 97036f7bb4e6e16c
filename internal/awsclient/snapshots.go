package awsclient

import (
	"context"

	"github.com/rdsencrypt/rdsencrypt/internal/model"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
)

func (c *regionClient) CreateSnapshot(ctx context.Context, instanceID, snapshotID string, tags model.Tags) (*model.Snapshot, error) {
	ctx, snapshotID = begin(ctx, snapshotID)
	out, err := c.rds.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{
		DBInstanceIdentifier: aws.String(model.NormalizeID(instanceID)),
		DBSnapshotIdentifier: &snapshotID,
		Tags:                 sdkTags(tags),
	})
	if err != nil {
		return nil, translateError("CreateDBSnapshot", snapshotID, err)
	}
	return snapshotFrom(c.region, out.DBSnapshot), nil
}

// CopySnapshot copies with explicit tags and CopyTags=false, so the copy carries our tags
// and not the source's. SourceRegion is set only across regions (it triggers presigning).
func (c *regionClient) CopySnapshot(ctx context.Context, in model.CopySnapshotInput) (*model.Snapshot, error) {
	ctx, target := begin(ctx, in.TargetID)
	input := &rds.CopyDBSnapshotInput{
		SourceDBSnapshotIdentifier: aws.String(model.NormalizeID(in.SourceID)),
		TargetDBSnapshotIdentifier: &target,
		KmsKeyId:                   optString(in.KmsKeyID),
		CopyTags:                   aws.Bool(false),
		Tags:                       sdkTags(in.Tags),
	}
	if c.isCrossRegion(in.SourceRegion) {
		input.SourceRegion = aws.String(in.SourceRegion)
	}
	out, err := c.rds.CopyDBSnapshot(ctx, input)
	if err != nil {
		return nil, translateError("CopyDBSnapshot", target, err)
	}
	return snapshotFrom(c.region, out.DBSnapshot), nil
}

func (c *regionClient) DescribeSnapshot(ctx context.Context, id string) (*model.Snapshot, error) {
	ctx, id = begin(ctx, id)
	if c.coalescesSnapshot(id) {
		return c.lookups.snapshots.get(ctx, id)
	}
	out, err := c.rds.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: &id})
	if err != nil {
		return nil, translateError("DescribeDBSnapshots", id, err)
	}
	if len(out.DBSnapshots) == 0 {
		return nil, emptyAnswer("DescribeDBSnapshots", id, "DB snapshot")
	}
	found, err := onlyOne("DescribeDBSnapshots", id, "DB snapshot", out.DBSnapshots)
	if err != nil {
		return nil, err
	}
	return snapshotFrom(c.region, found), nil
}

func (c *regionClient) ListSnapshots(ctx context.Context) ([]model.Snapshot, error) {
	ctx = withTarget(ctx, "")
	records, err := allPages(ctx, rds.NewDescribeDBSnapshotsPaginator(c.rds, &rds.DescribeDBSnapshotsInput{SnapshotType: aws.String("manual")}),
		func(p *rds.DescribeDBSnapshotsOutput) []types.DBSnapshot { return p.DBSnapshots })
	if err != nil {
		return nil, translateError("DescribeDBSnapshots", c.region, err)
	}
	return convertAll(c.region, records, snapshotFrom), nil
}

func (c *regionClient) DeleteSnapshot(ctx context.Context, id string) error {
	ctx, id = begin(ctx, id)
	_, err := c.rds.DeleteDBSnapshot(ctx, &rds.DeleteDBSnapshotInput{DBSnapshotIdentifier: &id})
	return translateError("DeleteDBSnapshot", id, err)
}

func (c *regionClient) CreateClusterSnapshot(ctx context.Context, clusterID, snapshotID string, tags model.Tags) (*model.Snapshot, error) {
	ctx, snapshotID = begin(ctx, snapshotID)
	out, err := c.rds.CreateDBClusterSnapshot(ctx, &rds.CreateDBClusterSnapshotInput{
		DBClusterIdentifier:         aws.String(model.NormalizeID(clusterID)),
		DBClusterSnapshotIdentifier: &snapshotID,
		Tags:                        sdkTags(tags),
	})
	if err != nil {
		return nil, translateError("CreateDBClusterSnapshot", snapshotID, err)
	}
	return clusterSnapshotFrom(c.region, out.DBClusterSnapshot), nil
}

func (c *regionClient) DescribeClusterSnapshot(ctx context.Context, id string) (*model.Snapshot, error) {
	ctx, id = begin(ctx, id)
	if c.coalescesSnapshot(id) {
		return c.lookups.clusterSnapshots.get(ctx, id)
	}
	out, err := c.rds.DescribeDBClusterSnapshots(ctx, &rds.DescribeDBClusterSnapshotsInput{DBClusterSnapshotIdentifier: &id})
	if err != nil {
		return nil, translateError("DescribeDBClusterSnapshots", id, err)
	}
	if len(out.DBClusterSnapshots) == 0 {
		return nil, emptyAnswer("DescribeDBClusterSnapshots", id, "DB cluster snapshot")
	}
	found, err := onlyOne("DescribeDBClusterSnapshots", id, "DB cluster snapshot", out.DBClusterSnapshots)
	if err != nil {
		return nil, err
	}
	return clusterSnapshotFrom(c.region, found), nil
}

func (c *regionClient) ListClusterSnapshots(ctx context.Context) ([]model.Snapshot, error) {
	ctx = withTarget(ctx, "")
	records, err := allPages(ctx, rds.NewDescribeDBClusterSnapshotsPaginator(c.rds, &rds.DescribeDBClusterSnapshotsInput{SnapshotType: aws.String("manual")}),
		func(p *rds.DescribeDBClusterSnapshotsOutput) []types.DBClusterSnapshot { return p.DBClusterSnapshots })
	if err != nil {
		return nil, translateError("DescribeDBClusterSnapshots", c.region, err)
	}
	return convertAll(c.region, records, clusterSnapshotFrom), nil
}

func (c *regionClient) DeleteClusterSnapshot(ctx context.Context, id string) error {
	ctx, id = begin(ctx, id)
	_, err := c.rds.DeleteDBClusterSnapshot(ctx, &rds.DeleteDBClusterSnapshotInput{DBClusterSnapshotIdentifier: &id})
	return translateError("DeleteDBClusterSnapshot", id, err)
}
