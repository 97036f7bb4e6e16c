package workflow

import (
	"context"

	"github.com/rdsencrypt/rdsencrypt/internal/awsclient"
	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

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

// waitEndpointAvailable waits until a custom endpoint of a cluster (by the cluster's resource
// id, so that a rename in between does not lose it) is available and done says so.
func (r *run) waitEndpointAvailable(ctx context.Context, clusterRID, id string, done func(*model.ClusterEndpoint) bool) (*model.ClusterEndpoint, error) {
	return until(ctx, r, awsclient.ClusterEndpointAvailable(r.api, clusterRID, id, done))
}

// waitEndpointSettled waits until a custom endpoint is available, or gone if it was being
// deleted; it returns nil when gone.
func (r *run) waitEndpointSettled(ctx context.Context, clusterRID, id string) (*model.ClusterEndpoint, error) {
	return until(ctx, r, awsclient.ClusterEndpointSettled(r.api, clusterRID, id))
}

// waitEndpointGone waits until a custom endpoint no longer exists.
func (r *run) waitEndpointGone(ctx context.Context, clusterRID, id string) error {
	_, err := until(ctx, r, awsclient.ClusterEndpointDeleted(r.api, clusterRID, id))
	return err
}
