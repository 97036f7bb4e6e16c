package workflow

import (
	"context"
	"github.com/rdsencrypt/rdsencrypt/internal/model"

	"github.com/rdsencrypt/rdsencrypt/internal/awsclient"
)

// waitCluster polls a cluster by its resource id (stable across renames) until done says so,
// reporting each status change as progress. A failure status ends the wait with an error.
func (r *run) waitCluster(ctx context.Context, resourceID string, done func(*model.Cluster) bool) (*model.Cluster, error) {
	var last string
	return awsclient.Poll(ctx, r.e.Poll,
		func(ctx context.Context) (*model.Cluster, error) {
			return r.api.DescribeClusterByResourceID(ctx, resourceID)
		},
		func(c *model.Cluster) (bool, error) {
			if model.IsClusterFailed(c.Status) {
				return false, errorf(c.ID, "rdsencrypt resume "+r.st.ID+" (it replaces what failed) or rdsencrypt rollback "+r.st.ID, nil,
					"DB cluster %s is %s", c.ID, c.Status)
			}
			return done(c), nil
		},
		func(c *model.Cluster) {
			if key := c.ID + "/" + c.Status; key != last {
				last = key
				r.notify(Event{Kind: EventStepProgress, Resource: c.ID, Status: c.Status, Percent: -1})
			}
		})
}

func (r *run) waitClusterGone(ctx context.Context, resourceID string) error {
	_, err := awsclient.Poll(ctx, r.e.Poll,
		func(ctx context.Context) (*model.Cluster, error) {
			c, err := r.api.DescribeClusterByResourceID(ctx, resourceID)
			if model.IsNotFound(err) {
				return nil, nil
			}
			return c, err
		},
		func(c *model.Cluster) (bool, error) { return c == nil, nil },
		func(c *model.Cluster) {
			if c != nil {
				r.notify(Event{Kind: EventStepProgress, Resource: c.ID, Status: c.Status, Percent: -1})
			}
		})
	return err
}

func (r *run) waitClusterSnapshotAvailable(ctx context.Context, id string) (*model.Snapshot, error) {
	return r.waitSnapshotAvailableBy(ctx, id, "DB cluster snapshot", r.api.DescribeClusterSnapshot)
}

func (r *run) waitClusterSnapshotGone(ctx context.Context, id string) error {
	return r.waitSnapshotGoneBy(ctx, id, r.api.DescribeClusterSnapshot)
}

// findEndpoint returns the custom endpoint id of the cluster clusterID, or nil.
func (r *run) findEndpoint(ctx context.Context, clusterID, id string) (*model.ClusterEndpoint, error) {
	eps, err := r.api.ListClusterEndpoints(ctx, clusterID)
	if model.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	for i := range eps {
		if eps[i].ID == id {
			return &eps[i], nil
		}
	}
	return nil, nil
}

// waitEndpoint polls a custom endpoint of a cluster (by the cluster's resource id, so that a
// rename in between does not lose it) until done says so; done sees nil once it is gone.
func (r *run) waitEndpoint(ctx context.Context, clusterRID, id string, done func(*model.ClusterEndpoint) bool) (*model.ClusterEndpoint, error) {
	var last string
	return awsclient.Poll(ctx, r.e.Poll,
		func(ctx context.Context) (*model.ClusterEndpoint, error) {
			cl, err := r.api.DescribeClusterByResourceID(ctx, clusterRID)
			if err != nil {
				return nil, err
			}
			return r.findEndpoint(ctx, cl.ID, id)
		},
		func(ep *model.ClusterEndpoint) (bool, error) { return done(ep), nil },
		func(ep *model.ClusterEndpoint) {
			status := "gone"
			if ep != nil {
				status = ep.Status
			}
			if status != last {
				last = status
				r.notify(Event{Kind: EventStepProgress, Resource: id, Status: status, Percent: -1})
			}
		})
}

// endpointSettled: available, or gone.
func endpointSettled(ep *model.ClusterEndpoint) bool {
	return ep == nil || ep.Status == model.EndpointAvailable
}

func endpointGone(ep *model.ClusterEndpoint) bool { return ep == nil }
