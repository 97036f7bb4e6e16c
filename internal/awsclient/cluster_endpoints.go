package awsclient

import (
	"context"

	"github.com/rdsencrypt/rdsencrypt/internal/model"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
)

// ListClusterEndpoints lists the custom endpoints of a cluster (writer and reader
// endpoints follow the cluster and are not listed).
func (c *regionClient) ListClusterEndpoints(ctx context.Context, clusterID string) ([]model.ClusterEndpoint, error) {
	ctx, clusterID = begin(ctx, clusterID)
	var list []model.ClusterEndpoint
	pages := rds.NewDescribeDBClusterEndpointsPaginator(c.rds, &rds.DescribeDBClusterEndpointsInput{
		DBClusterIdentifier: &clusterID,
		Filters:             []types.Filter{{Name: aws.String("db-cluster-endpoint-type"), Values: []string{"custom"}}},
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, translateError("DescribeDBClusterEndpoints", clusterID, err)
		}
		for i := range page.DBClusterEndpoints {
			list = append(list, clusterEndpointFrom(&page.DBClusterEndpoints[i]))
		}
	}
	// DescribeDBClusterEndpoints returns no tags: read each custom endpoint's own. An
	// endpoint deleted between the list and its tag read is absent, not an error.
	present := list[:0]
	for _, ep := range list {
		if ep.ARN != "" {
			tags, err := c.listTags(ctx, ep.ARN)
			if model.IsNotFound(err) {
				continue
			}
			if err != nil {
				return nil, err
			}
			ep.Tags = tags
		}
		present = append(present, ep)
	}
	return present, nil
}

func (c *regionClient) CreateClusterEndpoint(ctx context.Context, ep model.ClusterEndpoint) (*model.ClusterEndpoint, error) {
	ctx, id := begin(ctx, ep.ID)
	out, err := c.rds.CreateDBClusterEndpoint(ctx, &rds.CreateDBClusterEndpointInput{
		DBClusterEndpointIdentifier: &id,
		DBClusterIdentifier:         aws.String(model.NormalizeID(ep.ClusterID)),
		EndpointType:                aws.String(ep.Type),
		StaticMembers:               optList(ep.StaticMembers),
		ExcludedMembers:             optList(ep.ExcludedMembers),
		Tags:                        sdkTags(ep.Tags),
	})
	if err != nil {
		return nil, translateError("CreateDBClusterEndpoint", id, err)
	}
	created := model.ClusterEndpoint{
		ID:              model.NormalizeID(str(out.DBClusterEndpointIdentifier)),
		ClusterID:       model.NormalizeID(str(out.DBClusterIdentifier)),
		Type:            str(out.CustomEndpointType),
		Address:         str(out.Endpoint),
		Status:          str(out.Status),
		StaticMembers:   out.StaticMembers,
		ExcludedMembers: out.ExcludedMembers,
		ARN:             str(out.DBClusterEndpointArn),
		Tags:            ep.Tags,
	}
	return &created, nil
}

func (c *regionClient) DeleteClusterEndpoint(ctx context.Context, id string) error {
	ctx, id = begin(ctx, id)
	_, err := c.rds.DeleteDBClusterEndpoint(ctx, &rds.DeleteDBClusterEndpointInput{DBClusterEndpointIdentifier: &id})
	return translateError("DeleteDBClusterEndpoint", id, err)
}
