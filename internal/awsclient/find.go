package awsclient

import (
	"context"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// The find functions read one resource the waits watch. A resource that does not exist is a
// KindNotFound error here, and only here: the status functions turn it into StatusGone.
// Instances, clusters and snapshots are found by the adapter's Describe* methods, which
// already say NotFound (and refuse an answer naming more than one resource).

// FindClusterEndpoint returns the custom endpoint id of the cluster with resource id
// clusterRID (stable across the cluster's renames). A missing cluster or endpoint is
// KindNotFound.
func FindClusterEndpoint(ctx context.Context, api model.RDS, clusterRID, id string) (*model.ClusterEndpoint, error) {
	cl, err := api.DescribeClusterByResourceID(ctx, clusterRID)
	if err != nil {
		return nil, err
	}
	eps, err := api.ListClusterEndpoints(ctx, cl.ID)
	if err != nil {
		return nil, err
	}
	id = model.NormalizeID(id)
	for i := range eps {
		if eps[i].ID == id {
			return &eps[i], nil
		}
	}
	return nil, notFound("DescribeDBClusterEndpoints", id, "DB cluster endpoint")
}
