package awsclient

import (
	"context"
	"fmt"
	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// StatusError says a resource reached a status from which waiting longer cannot succeed.
type StatusError struct {
	What       string // "DB instance", "DB snapshot", ...
	ID         string
	ResourceID string
	Status     string
}

func (e *StatusError) Error() string {
	if e.ResourceID != "" && e.ResourceID != e.ID {
		return fmt.Sprintf("%s %s (%s) is in failure status %q", e.What, e.ID, e.ResourceID, e.Status)
	}
	return fmt.Sprintf("%s %s is in failure status %q", e.What, e.ID, e.Status)
}

// WaitInstance polls an instance by its DbiResourceId, which survives renames, until
// until(instance) holds. A failure status (IsInstanceFailed) that until does not accept
// ends the wait with a *StatusError.
func WaitInstance(ctx context.Context, api model.RDS, resourceID string, until func(*model.Instance) bool,
	opts PollOptions, onChange func(*model.Instance),
) (*model.Instance, error) {
	fetch := func(ctx context.Context) (*model.Instance, error) {
		return api.DescribeInstanceByResourceID(ctx, resourceID)
	}
	check := func(i *model.Instance) (bool, error) {
		if until(i) {
			return true, nil
		}
		if model.IsInstanceFailed(i.Status) {
			return false, &StatusError{What: "DB instance", ID: i.ID, ResourceID: resourceID, Status: i.Status}
		}
		return false, nil
	}
	return Poll(ctx, opts, fetch, check, onChange)
}

// WaitInstanceAvailable waits until the instance with this resource id is available.
func WaitInstanceAvailable(ctx context.Context, api model.RDS, resourceID string, opts PollOptions, onChange func(*model.Instance)) (*model.Instance, error) {
	return WaitInstance(ctx, api, resourceID, model.IsInstanceAvailable, opts, onChange)
}

// WaitCluster polls a cluster by its DbClusterResourceId until until(cluster) holds,
// failing fast on a failure status.
func WaitCluster(ctx context.Context, api model.RDS, resourceID string, until func(*model.Cluster) bool,
	opts PollOptions, onChange func(*model.Cluster),
) (*model.Cluster, error) {
	fetch := func(ctx context.Context) (*model.Cluster, error) {
		return api.DescribeClusterByResourceID(ctx, resourceID)
	}
	check := func(c *model.Cluster) (bool, error) {
		if until(c) {
			return true, nil
		}
		if model.IsClusterFailed(c.Status) {
			return false, &StatusError{What: "DB cluster", ID: c.ID, ResourceID: resourceID, Status: c.Status}
		}
		return false, nil
	}
	return Poll(ctx, opts, fetch, check, onChange)
}

// WaitSnapshot waits until a DB snapshot is available, failing fast if it fails.
func WaitSnapshot(ctx context.Context, api model.RDS, id string, opts PollOptions, onChange func(*model.Snapshot)) (*model.Snapshot, error) {
	return waitSnapshot(ctx, "DB snapshot", api.DescribeSnapshot, id, opts, onChange)
}

// WaitClusterSnapshot waits until a DB cluster snapshot is available.
func WaitClusterSnapshot(ctx context.Context, api model.RDS, id string, opts PollOptions, onChange func(*model.Snapshot)) (*model.Snapshot, error) {
	return waitSnapshot(ctx, "DB cluster snapshot", api.DescribeClusterSnapshot, id, opts, onChange)
}

func waitSnapshot(ctx context.Context, what string, describe func(context.Context, string) (*model.Snapshot, error),
	id string, opts PollOptions, onChange func(*model.Snapshot),
) (*model.Snapshot, error) {
	fetch := func(ctx context.Context) (*model.Snapshot, error) { return describe(ctx, id) }
	check := func(s *model.Snapshot) (bool, error) {
		if model.IsSnapshotFailed(s.Status) {
			return false, &StatusError{What: what, ID: s.ID, Status: s.Status}
		}
		return model.IsSnapshotAvailable(s), nil
	}
	return Poll(ctx, opts, fetch, check, onChange)
}

// WaitInstanceGone waits until no instance has this resource id.
func WaitInstanceGone(ctx context.Context, api model.RDS, resourceID string, opts PollOptions, onChange func(*model.Instance)) error {
	return waitGone(ctx, opts, func(ctx context.Context) (*model.Instance, error) {
		return api.DescribeInstanceByResourceID(ctx, resourceID)
	}, onChange)
}

// WaitClusterGone waits until no cluster has this resource id.
func WaitClusterGone(ctx context.Context, api model.RDS, resourceID string, opts PollOptions, onChange func(*model.Cluster)) error {
	return waitGone(ctx, opts, func(ctx context.Context) (*model.Cluster, error) {
		return api.DescribeClusterByResourceID(ctx, resourceID)
	}, onChange)
}

// WaitSnapshotGone waits until the DB snapshot no longer exists.
func WaitSnapshotGone(ctx context.Context, api model.RDS, id string, opts PollOptions, onChange func(*model.Snapshot)) error {
	return waitGone(ctx, opts, func(ctx context.Context) (*model.Snapshot, error) { return api.DescribeSnapshot(ctx, id) }, onChange)
}

// WaitClusterSnapshotGone waits until the DB cluster snapshot no longer exists.
func WaitClusterSnapshotGone(ctx context.Context, api model.RDS, id string, opts PollOptions, onChange func(*model.Snapshot)) error {
	return waitGone(ctx, opts, func(ctx context.Context) (*model.Snapshot, error) { return api.DescribeClusterSnapshot(ctx, id) }, onChange)
}

// waitGone polls until describe says NotFound; onChange sees the resource while it exists.
func waitGone[T comparable](ctx context.Context, opts PollOptions, describe func(context.Context) (T, error), onChange func(T)) error {
	var gone T
	fetch := func(ctx context.Context) (T, error) {
		v, err := describe(ctx)
		if model.IsNotFound(err) {
			return gone, nil
		}
		return v, err
	}
	check := func(v T) (bool, error) { return v == gone, nil }
	notify := func(v T) {
		if v != gone && onChange != nil {
			onChange(v)
		}
	}
	_, err := Poll(ctx, opts, fetch, check, notify)
	return err
}

// WaitClusterEndpoint waits until a custom endpoint of the cluster is available.
func WaitClusterEndpoint(ctx context.Context, api model.RDS, clusterID, endpointID string, opts PollOptions, onChange func(*model.ClusterEndpoint)) (*model.ClusterEndpoint, error) {
	endpointID = model.NormalizeID(endpointID)
	fetch := func(ctx context.Context) (*model.ClusterEndpoint, error) {
		eps, err := api.ListClusterEndpoints(ctx, clusterID)
		if err != nil {
			return nil, err
		}
		for i := range eps {
			if eps[i].ID == endpointID {
				return &eps[i], nil
			}
		}
		return nil, notFound("DescribeDBClusterEndpoints", endpointID, "DB cluster endpoint")
	}
	check := func(ep *model.ClusterEndpoint) (bool, error) { return ep.Status == model.EndpointAvailable, nil }
	return Poll(ctx, opts, fetch, check, onChange)
}
