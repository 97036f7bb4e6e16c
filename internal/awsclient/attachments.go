package awsclient

import (
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// DescribeAttachments reads what names a DB instance or cluster and stays with it when it is
// renamed (docs/aws-behaviour.md#attachments): the targets of every RDS Proxy of the region
// (DescribeDBProxies, then DescribeDBProxyTargets per proxy), the zero-ETL integrations
// (DescribeIntegrations) and blue/green deployments (DescribeBlueGreenDeployments, filtered
// on the source ARN) whose source it is, and the event subscriptions whose SourceIdsList
// names it (DescribeEventSubscriptions).
func (c *regionClient) DescribeAttachments(ctx context.Context, id, arn string, cluster bool) (*model.Attachments, error) {
	ctx = withTarget(ctx, id)
	out := &model.Attachments{}
	proxies, err := allPages(ctx, rds.NewDescribeDBProxiesPaginator(c.rds, &rds.DescribeDBProxiesInput{}),
		func(p *rds.DescribeDBProxiesOutput) []types.DBProxy { return p.DBProxies })
	if err != nil {
		return nil, translateError("DescribeDBProxies", id, err)
	}
	for _, px := range proxies {
		name := str(px.DBProxyName)
		targets, err := allPages(ctx, rds.NewDescribeDBProxyTargetsPaginator(c.rds, &rds.DescribeDBProxyTargetsInput{DBProxyName: aws.String(name)}),
			func(p *rds.DescribeDBProxyTargetsOutput) []types.DBProxyTarget { return p.Targets })
		if err != nil {
			if model.IsNotFound(translateError("DescribeDBProxyTargets", name, err)) {
				continue // deleted since it was listed
			}
			return nil, translateError("DescribeDBProxyTargets", name, err)
		}
		if slices.ContainsFunc(targets, func(t types.DBProxyTarget) bool { return proxyTargets(t, id, arn, cluster) }) {
			out.Proxies = append(out.Proxies, name)
		}
	}
	integrations, err := allPages(ctx, rds.NewDescribeIntegrationsPaginator(c.rds, &rds.DescribeIntegrationsInput{}),
		func(p *rds.DescribeIntegrationsOutput) []types.Integration { return p.Integrations })
	if err != nil {
		return nil, translateError("DescribeIntegrations", id, err)
	}
	for _, in := range integrations {
		if strings.EqualFold(str(in.SourceArn), arn) {
			out.Integrations = append(out.Integrations, str(in.IntegrationName))
		}
	}
	deployments, err := allPages(ctx, rds.NewDescribeBlueGreenDeploymentsPaginator(c.rds, &rds.DescribeBlueGreenDeploymentsInput{
		Filters: []types.Filter{{Name: aws.String("source"), Values: []string{arn}}}}),
		func(p *rds.DescribeBlueGreenDeploymentsOutput) []types.BlueGreenDeployment {
			return p.BlueGreenDeployments
		})
	if err != nil {
		return nil, translateError("DescribeBlueGreenDeployments", id, err)
	}
	for _, bg := range deployments {
		out.BlueGreen = append(out.BlueGreen, str(bg.BlueGreenDeploymentIdentifier))
	}
	subs, err := allPages(ctx, rds.NewDescribeEventSubscriptionsPaginator(c.rds, &rds.DescribeEventSubscriptionsInput{}),
		func(p *rds.DescribeEventSubscriptionsOutput) []types.EventSubscription {
			return p.EventSubscriptionsList
		})
	if err != nil {
		return nil, translateError("DescribeEventSubscriptions", id, err)
	}
	sourceType := "db-instance"
	if cluster {
		sourceType = "db-cluster"
	}
	for _, s := range subs {
		if str(s.SourceType) == sourceType && slices.ContainsFunc(s.SourceIdsList, func(x string) bool { return strings.EqualFold(x, id) }) {
			out.EventSubscriptions = append(out.EventSubscriptions, str(s.CustSubscriptionId))
		}
	}
	return out, nil
}

// proxyTargets reports whether a proxy target is the instance or cluster: an instance is an
// RDS_INSTANCE target of its own (not a member of a tracked cluster), a cluster a
// TRACKED_CLUSTER target (SDK v1.133.0 types.DBProxyTarget).
func proxyTargets(t types.DBProxyTarget, id, arn string, cluster bool) bool {
	if cluster {
		return t.Type == types.TargetTypeTrackedCluster && (strings.EqualFold(str(t.RdsResourceId), id) || strings.EqualFold(str(t.TargetArn), arn))
	}
	return t.Type == types.TargetTypeRdsInstance && str(t.TrackedClusterId) == "" &&
		(strings.EqualFold(str(t.RdsResourceId), id) || strings.EqualFold(str(t.TargetArn), arn))
}

// AddRole associates an IAM role with a DB instance or a DB cluster.
func (c *regionClient) AddRole(ctx context.Context, id, roleARN, feature string, cluster bool) error {
	ctx = withTarget(ctx, id)
	if cluster {
		_, err := c.rds.AddRoleToDBCluster(ctx, &rds.AddRoleToDBClusterInput{DBClusterIdentifier: aws.String(id),
			RoleArn: aws.String(roleARN), FeatureName: optString(feature)})
		return translateError("AddRoleToDBCluster", id, err)
	}
	_, err := c.rds.AddRoleToDBInstance(ctx, &rds.AddRoleToDBInstanceInput{DBInstanceIdentifier: aws.String(id),
		RoleArn: aws.String(roleARN), FeatureName: aws.String(feature)})
	return translateError("AddRoleToDBInstance", id, err)
}

// AddSubscriptionSource adds a source identifier to an event subscription.
func (c *regionClient) AddSubscriptionSource(ctx context.Context, subscription, sourceID string) error {
	ctx = withTarget(ctx, subscription)
	_, err := c.rds.AddSourceIdentifierToSubscription(ctx, &rds.AddSourceIdentifierToSubscriptionInput{
		SubscriptionName: aws.String(subscription), SourceIdentifier: aws.String(sourceID)})
	return translateError("AddSourceIdentifierToSubscription", subscription, err)
}

// RemoveSubscriptionSource removes a source identifier from an event subscription.
func (c *regionClient) RemoveSubscriptionSource(ctx context.Context, subscription, sourceID string) error {
	ctx = withTarget(ctx, subscription)
	_, err := c.rds.RemoveSourceIdentifierFromSubscription(ctx, &rds.RemoveSourceIdentifierFromSubscriptionInput{
		SubscriptionName: aws.String(subscription), SourceIdentifier: aws.String(sourceID)})
	return translateError("RemoveSourceIdentifierFromSubscription", subscription, err)
}

// EventSubscription returns the source identifiers an event subscription lists.
func (c *regionClient) EventSubscription(ctx context.Context, name string) ([]string, error) {
	ctx = withTarget(ctx, name)
	out, err := c.rds.DescribeEventSubscriptions(ctx, &rds.DescribeEventSubscriptionsInput{SubscriptionName: aws.String(name)})
	if err != nil {
		return nil, translateError("DescribeEventSubscriptions", name, err)
	}
	if len(out.EventSubscriptionsList) == 0 {
		return nil, nil
	}
	return out.EventSubscriptionsList[0].SourceIdsList, nil
}
