package awsclient

import (
	"context"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// networkClient implements model.Network for one region with the SDK's ec2 and cloudwatch
// clients.
type networkClient struct {
	region string
	ec2    *ec2.Client
	cw     *cloudwatch.Client
}

var _ model.Network = (*networkClient)(nil)

// Network returns the EC2/CloudWatch implementation for a region ("" means the default).
func (c *Client) Network(region string) model.Network {
	if region == "" {
		region = c.aws.Region
	}
	apiOptions := c.middlewares(region)
	return &networkClient{
		region: region,
		ec2: ec2.NewFromConfig(c.aws, func(o *ec2.Options) {
			o.Region = region
			o.APIOptions = append(o.APIOptions, apiOptions...)
			if c.cfg.EndpointURL != "" {
				o.BaseEndpoint = aws.String(c.cfg.EndpointURL)
			}
		}),
		cw: cloudwatch.NewFromConfig(c.aws, func(o *cloudwatch.Options) {
			o.Region = region
			o.APIOptions = append(o.APIOptions, apiOptions...)
			if c.cfg.EndpointURL != "" {
				o.BaseEndpoint = aws.String(c.cfg.EndpointURL)
			}
		}),
	}
}

func groupOf(g ec2types.SecurityGroup) *model.SecurityGroup {
	out := &model.SecurityGroup{ID: aws.ToString(g.GroupId), Name: aws.ToString(g.GroupName),
		VpcID: aws.ToString(g.VpcId), InboundRules: len(g.IpPermissions), Tags: model.Tags{}}
	for _, t := range g.Tags {
		out.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return out
}

func (n *networkClient) CreateSecurityGroup(ctx context.Context, name, description, vpcID string, tags model.Tags) (*model.SecurityGroup, error) {
	ctx = withTarget(ctx, name)
	var sdkTags []ec2types.Tag
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		sdkTags = append(sdkTags, ec2types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	in := &ec2.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String(description), VpcId: aws.String(vpcID)}
	if len(sdkTags) > 0 {
		in.TagSpecifications = []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSecurityGroup, Tags: sdkTags}}
	}
	out, err := n.ec2.CreateSecurityGroup(ctx, in)
	if err != nil {
		return nil, translateError("CreateSecurityGroup", name, err)
	}
	return &model.SecurityGroup{ID: aws.ToString(out.GroupId), Name: name, VpcID: vpcID, Tags: tags}, nil
}

func (n *networkClient) DescribeSecurityGroup(ctx context.Context, id string) (*model.SecurityGroup, error) {
	ctx = withTarget(ctx, id)
	out, err := n.ec2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
	if err != nil {
		return nil, translateError("DescribeSecurityGroups", id, err)
	}
	if len(out.SecurityGroups) == 0 {
		return nil, notFound("DescribeSecurityGroups", id, "security group")
	}
	return groupOf(out.SecurityGroups[0]), nil
}

func (n *networkClient) FindSecurityGroups(ctx context.Context, key, value string) ([]model.SecurityGroup, error) {
	in := &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{{Name: aws.String("tag:" + key), Values: []string{value}}}}
	var list []model.SecurityGroup
	p := ec2.NewDescribeSecurityGroupsPaginator(n.ec2, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, translateError("DescribeSecurityGroups", key+"="+value, err)
		}
		for _, g := range out.SecurityGroups {
			list = append(list, *groupOf(g))
		}
	}
	return list, nil
}

func (n *networkClient) DeleteSecurityGroup(ctx context.Context, id string) error {
	ctx = withTarget(ctx, id)
	_, err := n.ec2.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(id)})
	return translateError("DeleteSecurityGroup", id, err)
}

func (n *networkClient) InstanceMetric(ctx context.Context, instanceID, metric string, from, to time.Time) ([]model.MetricPoint, error) {
	ctx, instanceID = begin(ctx, instanceID)
	in := &cloudwatch.GetMetricDataInput{StartTime: aws.Time(from), EndTime: aws.Time(to),
		ScanBy: cwtypes.ScanByTimestampAscending,
		MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("m"), MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: aws.String("AWS/RDS"), MetricName: aws.String(metric),
				Dimensions: []cwtypes.Dimension{{Name: aws.String("DBInstanceIdentifier"), Value: aws.String(instanceID)}}},
			Period: aws.Int32(60), Stat: aws.String("Maximum")}}}}
	var points []model.MetricPoint
	p := cloudwatch.NewGetMetricDataPaginator(n.cw, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, translateError("GetMetricData", instanceID, err)
		}
		for _, r := range out.MetricDataResults {
			for i := range min(len(r.Timestamps), len(r.Values)) {
				points = append(points, model.MetricPoint{At: r.Timestamps[i], Value: r.Values[i]})
			}
		}
	}
	return points, nil
}
