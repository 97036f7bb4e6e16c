package awsclient

import (
	"context"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/internal/model"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
)

// lookups are the coalesced lookups of one region: the ones the waits poll with.
type lookups struct {
	instances        *coalescer[types.DBInstance, model.Instance]
	clusters         *coalescer[types.DBCluster, model.Cluster]
	snapshots        *coalescer[types.DBSnapshot, model.Snapshot]
	clusterSnapshots *coalescer[types.DBClusterSnapshot, model.Snapshot]
}

// newLookups returns the coalescers of a region client, or nil when cfg does not coalesce.
func newLookups(c *regionClient, cfg Config) *lookups {
	if cfg.CoalesceWindow <= 0 {
		return nil
	}
	w, l := cfg.CoalesceWindow, cfg.Limiter
	return &lookups{
		instances: newCoalescer(lookupSpec[types.DBInstance, model.Instance]{
			op:       "DescribeDBInstances",
			fetch:    c.instancesByResourceIDs,
			key:      func(r *types.DBInstance) string { return aws.ToString(r.DbiResourceId) },
			convert:  func(r *types.DBInstance) *model.Instance { return instanceFrom(c.region, r) },
			notFound: func(id string) error { return notFound("DescribeDBInstances", id, "DB instance with resource id") },
		}, w, l),
		clusters: newCoalescer(lookupSpec[types.DBCluster, model.Cluster]{
			op:       "DescribeDBClusters",
			fetch:    c.clustersByResourceIDs,
			key:      func(r *types.DBCluster) string { return aws.ToString(r.DbClusterResourceId) },
			convert:  func(r *types.DBCluster) *model.Cluster { return clusterFrom(c.region, r) },
			notFound: func(id string) error { return notFound("DescribeDBClusters", id, "DB cluster with resource id") },
		}, w, l),
		snapshots: newCoalescer(lookupSpec[types.DBSnapshot, model.Snapshot]{
			op:       "DescribeDBSnapshots",
			fetch:    c.snapshotsByIDs,
			key:      func(r *types.DBSnapshot) string { return aws.ToString(r.DBSnapshotIdentifier) },
			convert:  func(r *types.DBSnapshot) *model.Snapshot { return snapshotFrom(c.region, r) },
			notFound: func(id string) error { return notFound("DescribeDBSnapshots", id, "DB snapshot") },
		}, w, l),
		clusterSnapshots: newCoalescer(lookupSpec[types.DBClusterSnapshot, model.Snapshot]{
			op:       "DescribeDBClusterSnapshots",
			fetch:    c.clusterSnapshotsByIDs,
			key:      func(r *types.DBClusterSnapshot) string { return aws.ToString(r.DBClusterSnapshotIdentifier) },
			convert:  func(r *types.DBClusterSnapshot) *model.Snapshot { return clusterSnapshotFrom(c.region, r) },
			notFound: func(id string) error { return notFound("DescribeDBClusterSnapshots", id, "DB cluster snapshot") },
		}, w, l),
	}
}

// coalescesSnapshot reports whether a lookup of the snapshot id may be coalesced: by
// identifier only. An ARN names a snapshot of another account or region, which the
// identifier filters of this region do not list.
func (c *regionClient) coalescesSnapshot(id string) bool {
	return c.lookups != nil && !strings.HasPrefix(id, "arn:")
}

func idFilter(name string, ids []string) []types.Filter {
	return []types.Filter{{Name: aws.String(name), Values: ids}}
}

func (c *regionClient) instancesByResourceIDs(ctx context.Context, ids []string) ([]types.DBInstance, error) {
	return allPages(ctx, rds.NewDescribeDBInstancesPaginator(c.rds, &rds.DescribeDBInstancesInput{Filters: idFilter("dbi-resource-id", ids)}),
		func(p *rds.DescribeDBInstancesOutput) []types.DBInstance { return p.DBInstances })
}

func (c *regionClient) clustersByResourceIDs(ctx context.Context, ids []string) ([]types.DBCluster, error) {
	return allPages(ctx, rds.NewDescribeDBClustersPaginator(c.rds, &rds.DescribeDBClustersInput{Filters: idFilter("db-cluster-resource-id", ids)}),
		func(p *rds.DescribeDBClustersOutput) []types.DBCluster { return p.DBClusters })
}

func (c *regionClient) snapshotsByIDs(ctx context.Context, ids []string) ([]types.DBSnapshot, error) {
	return allPages(ctx, rds.NewDescribeDBSnapshotsPaginator(c.rds, &rds.DescribeDBSnapshotsInput{Filters: idFilter("db-snapshot-id", ids)}),
		func(p *rds.DescribeDBSnapshotsOutput) []types.DBSnapshot { return p.DBSnapshots })
}

func (c *regionClient) clusterSnapshotsByIDs(ctx context.Context, ids []string) ([]types.DBClusterSnapshot, error) {
	return allPages(ctx, rds.NewDescribeDBClusterSnapshotsPaginator(c.rds, &rds.DescribeDBClusterSnapshotsInput{Filters: idFilter("db-cluster-snapshot-id", ids)}),
		func(p *rds.DescribeDBClusterSnapshotsOutput) []types.DBClusterSnapshot { return p.DBClusterSnapshots })
}
