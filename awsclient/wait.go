package awsclient

import (
	"context"
	"fmt"
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
func WaitInstance(ctx context.Context, api RDS, resourceID string, until func(*Instance) bool,
	opts PollOptions, onChange func(*Instance),
) (*Instance, error) {
	fetch := func(ctx context.Context) (*Instance, error) { return api.DescribeInstanceByResourceID(ctx, resourceID) }
	check := func(i *Instance) (bool, error) {
		if until(i) {
			return true, nil
		}
		if IsInstanceFailed(i.Status) {
			return false, &StatusError{What: "DB instance", ID: i.ID, ResourceID: resourceID, Status: i.Status}
		}
		return false, nil
	}
	return Poll(ctx, opts, fetch, check, onChange)
}

// WaitInstanceAvailable waits until the instance with this resource id is available.
func WaitInstanceAvailable(ctx context.Context, api RDS, resourceID string, opts PollOptions, onChange func(*Instance)) (*Instance, error) {
	return WaitInstance(ctx, api, resourceID, IsInstanceAvailable, opts, onChange)
}

// WaitCluster polls a cluster by its DbClusterResourceId until until(cluster) holds,
// failing fast on a failure status.
func WaitCluster(ctx context.Context, api RDS, resourceID string, until func(*Cluster) bool,
	opts PollOptions, onChange func(*Cluster),
) (*Cluster, error) {
	fetch := func(ctx context.Context) (*Cluster, error) { return api.DescribeClusterByResourceID(ctx, resourceID) }
	check := func(c *Cluster) (bool, error) {
		if until(c) {
			return true, nil
		}
		if IsClusterFailed(c.Status) {
			return false, &StatusError{What: "DB cluster", ID: c.ID, ResourceID: resourceID, Status: c.Status}
		}
		return false, nil
	}
	return Poll(ctx, opts, fetch, check, onChange)
}

// WaitSnapshot waits until a DB snapshot is available, failing fast if it fails.
func WaitSnapshot(ctx context.Context, api RDS, id string, opts PollOptions, onChange func(*Snapshot)) (*Snapshot, error) {
	return waitSnapshot(ctx, "DB snapshot", api.DescribeSnapshot, id, opts, onChange)
}

// WaitClusterSnapshot waits until a DB cluster snapshot is available.
func WaitClusterSnapshot(ctx context.Context, api RDS, id string, opts PollOptions, onChange func(*Snapshot)) (*Snapshot, error) {
	return waitSnapshot(ctx, "DB cluster snapshot", api.DescribeClusterSnapshot, id, opts, onChange)
}

func waitSnapshot(ctx context.Context, what string, describe func(context.Context, string) (*Snapshot, error),
	id string, opts PollOptions, onChange func(*Snapshot),
) (*Snapshot, error) {
	fetch := func(ctx context.Context) (*Snapshot, error) { return describe(ctx, id) }
	check := func(s *Snapshot) (bool, error) {
		if IsSnapshotFailed(s.Status) {
			return false, &StatusError{What: what, ID: s.ID, Status: s.Status}
		}
		return IsSnapshotAvailable(s), nil
	}
	return Poll(ctx, opts, fetch, check, onChange)
}

// WaitInstanceGone waits until no instance has this resource id.
func WaitInstanceGone(ctx context.Context, api RDS, resourceID string, opts PollOptions, onChange func(*Instance)) error {
	return waitGone(ctx, opts, func(ctx context.Context) (*Instance, error) {
		return api.DescribeInstanceByResourceID(ctx, resourceID)
	}, onChange)
}

// WaitClusterGone waits until no cluster has this resource id.
func WaitClusterGone(ctx context.Context, api RDS, resourceID string, opts PollOptions, onChange func(*Cluster)) error {
	return waitGone(ctx, opts, func(ctx context.Context) (*Cluster, error) {
		return api.DescribeClusterByResourceID(ctx, resourceID)
	}, onChange)
}

// WaitSnapshotGone waits until the DB snapshot no longer exists.
func WaitSnapshotGone(ctx context.Context, api RDS, id string, opts PollOptions, onChange func(*Snapshot)) error {
	return waitGone(ctx, opts, func(ctx context.Context) (*Snapshot, error) { return api.DescribeSnapshot(ctx, id) }, onChange)
}

// WaitClusterSnapshotGone waits until the DB cluster snapshot no longer exists.
func WaitClusterSnapshotGone(ctx context.Context, api RDS, id string, opts PollOptions, onChange func(*Snapshot)) error {
	return waitGone(ctx, opts, func(ctx context.Context) (*Snapshot, error) { return api.DescribeClusterSnapshot(ctx, id) }, onChange)
}

// waitGone polls until describe says NotFound; onChange sees the resource while it exists.
func waitGone[T comparable](ctx context.Context, opts PollOptions, describe func(context.Context) (T, error), onChange func(T)) error {
	var gone T
	fetch := func(ctx context.Context) (T, error) {
		v, err := describe(ctx)
		if IsNotFound(err) {
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
func WaitClusterEndpoint(ctx context.Context, api RDS, clusterID, endpointID string, opts PollOptions, onChange func(*ClusterEndpoint)) (*ClusterEndpoint, error) {
	endpointID = normalizeID(endpointID)
	fetch := func(ctx context.Context) (*ClusterEndpoint, error) {
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
	check := func(ep *ClusterEndpoint) (bool, error) { return ep.Status == EndpointAvailable, nil }
	return Poll(ctx, opts, fetch, check, onChange)
}
