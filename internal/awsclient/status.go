package awsclient

import (
	"context"
	"strconv"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// StatusGone is the status of a resource that does not exist (any more).
const StatusGone = "gone"

// A StatusFunc reads a resource and its status. A resource that does not exist is
// (zero value, StatusGone, nil): NotFound is an answer, not an error.
type StatusFunc[T any] func(context.Context) (T, string, error)

// statusOf turns a find function into a StatusFunc.
func statusOf[T any](find func(context.Context) (*T, error), status func(*T) string) StatusFunc[*T] {
	return func(ctx context.Context) (*T, string, error) {
		v, err := find(ctx)
		if model.IsNotFound(err) {
			return nil, StatusGone, nil
		}
		if err != nil {
			return nil, "", err
		}
		return v, status(v), nil
	}
}

// InstanceStatus reads the instance with this DbiResourceId (stable across renames).
func InstanceStatus(api model.RDS, resourceID string) StatusFunc[*model.Instance] {
	return statusOf(func(ctx context.Context) (*model.Instance, error) {
		return api.DescribeInstanceByResourceID(ctx, resourceID)
	}, func(i *model.Instance) string { return i.Status })
}

// ClusterStatus reads the cluster with this DbClusterResourceId (stable across renames).
func ClusterStatus(api model.RDS, resourceID string) StatusFunc[*model.Cluster] {
	return statusOf(func(ctx context.Context) (*model.Cluster, error) {
		return api.DescribeClusterByResourceID(ctx, resourceID)
	}, func(c *model.Cluster) string { return c.Status })
}

// SnapshotStatus reads a DB snapshot.
func SnapshotStatus(api model.RDS, id string) StatusFunc[*model.Snapshot] {
	return statusOf(func(ctx context.Context) (*model.Snapshot, error) { return api.DescribeSnapshot(ctx, id) },
		func(s *model.Snapshot) string { return s.Status })
}

// ClusterSnapshotStatus reads a DB cluster snapshot.
func ClusterSnapshotStatus(api model.RDS, id string) StatusFunc[*model.Snapshot] {
	return statusOf(func(ctx context.Context) (*model.Snapshot, error) { return api.DescribeClusterSnapshot(ctx, id) },
		func(s *model.Snapshot) string { return s.Status })
}

// ClusterEndpointStatus reads a custom endpoint of the cluster with resource id clusterRID.
func ClusterEndpointStatus(api model.RDS, clusterRID, id string) StatusFunc[*model.ClusterEndpoint] {
	return statusOf(func(ctx context.Context) (*model.ClusterEndpoint, error) {
		return FindClusterEndpoint(ctx, api, clusterRID, id)
	}, func(ep *model.ClusterEndpoint) string { return ep.Status })
}

// Observed is what a wait reports of the resource it watches, at each change.
type Observed struct {
	ID      string // identifier now (it changes with a rename)
	Status  string // StatusGone once it no longer exists
	Percent int    // progress in percent, -1 when AWS reports none
}

func observeInstance(i *model.Instance) Observed {
	pct, err := strconv.Atoi(i.PercentProgress)
	if err != nil {
		pct = -1
	}
	return Observed{ID: i.ID, Status: i.Status, Percent: pct}
}

func observeCluster(c *model.Cluster) Observed {
	return Observed{ID: c.ID, Status: c.Status, Percent: -1}
}

func observeSnapshot(s *model.Snapshot) Observed {
	return Observed{ID: s.ID, Status: s.Status, Percent: int(s.PercentProgress)}
}

func observeClusterEndpoint(ep *model.ClusterEndpoint) Observed {
	return Observed{ID: ep.ID, Status: ep.Status, Percent: -1}
}
