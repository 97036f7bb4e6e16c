package awsclient

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// CopyParameterGroup copies a custom DB parameter group with CopyDBParameterGroup. AWS
// cannot copy a default group ("You can't copy a default DB parameter group. Instead, create
// a new custom DB parameter group, which copies the default parameters and values for the
// specified DB parameter group family", CopyDBParameterGroup's doc comment): for one, the
// copy is CreateDBParameterGroup of the default group's family.
func (c *regionClient) CopyParameterGroup(ctx context.Context, source, target, description string, tags model.Tags) (*model.ParameterGroup, error) {
	ctx, target = begin(ctx, target)
	var group *types.DBParameterGroup
	if model.DefaultParameterGroup(source) {
		src, err := c.describeParameterGroup(ctx, source)
		if err != nil {
			return nil, err
		}
		out, err := c.rds.CreateDBParameterGroup(ctx, &rds.CreateDBParameterGroupInput{DBParameterGroupName: &target,
			DBParameterGroupFamily: src.DBParameterGroupFamily, Description: aws.String(description), Tags: sdkTags(tags)})
		if err != nil {
			return nil, translateError("CreateDBParameterGroup", target, err)
		}
		group = out.DBParameterGroup
	} else {
		out, err := c.rds.CopyDBParameterGroup(ctx, &rds.CopyDBParameterGroupInput{
			SourceDBParameterGroupIdentifier: aws.String(model.NormalizeID(source)), TargetDBParameterGroupIdentifier: &target,
			TargetDBParameterGroupDescription: aws.String(description), Tags: sdkTags(tags)})
		if err != nil {
			return nil, translateError("CopyDBParameterGroup", target, err)
		}
		group = out.DBParameterGroup
	}
	if group == nil {
		return nil, emptyAnswer("CopyDBParameterGroup", target, "DB parameter group")
	}
	pg := parameterGroupFrom(group)
	pg.Tags = tags
	return pg, nil
}

// ParameterGroup describes a DB parameter group and reads its tags.
func (c *regionClient) ParameterGroup(ctx context.Context, name string) (*model.ParameterGroup, error) {
	ctx, name = begin(ctx, name)
	found, err := c.describeParameterGroup(ctx, name)
	if model.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	pg := parameterGroupFrom(found)
	if pg.Tags, err = c.listTags(ctx, pg.ARN); err != nil {
		return nil, err
	}
	return pg, nil
}

func (c *regionClient) describeParameterGroup(ctx context.Context, name string) (*types.DBParameterGroup, error) {
	out, err := c.rds.DescribeDBParameterGroups(ctx, &rds.DescribeDBParameterGroupsInput{DBParameterGroupName: aws.String(name)})
	if err != nil {
		return nil, translateError("DescribeDBParameterGroups", name, err)
	}
	if len(out.DBParameterGroups) == 0 {
		return nil, emptyAnswer("DescribeDBParameterGroups", name, "DB parameter group")
	}
	return onlyOne("DescribeDBParameterGroups", name, "DB parameter group", out.DBParameterGroups)
}

func parameterGroupFrom(g *types.DBParameterGroup) *model.ParameterGroup {
	return &model.ParameterGroup{Name: str(g.DBParameterGroupName), Family: str(g.DBParameterGroupFamily), ARN: str(g.DBParameterGroupArn)}
}

// Parameters pages through a DB parameter group and returns every value it holds.
func (c *regionClient) Parameters(ctx context.Context, group string) (map[string]string, error) {
	ctx, group = begin(ctx, group)
	records, err := allPages(ctx, rds.NewDescribeDBParametersPaginator(c.rds, &rds.DescribeDBParametersInput{DBParameterGroupName: aws.String(group)}),
		func(p *rds.DescribeDBParametersOutput) []types.Parameter { return p.Parameters })
	if err != nil {
		return nil, translateError("DescribeDBParameters", group, err)
	}
	out := map[string]string{}
	for _, p := range records {
		if p.ParameterValue != nil {
			out[str(p.ParameterName)] = str(p.ParameterValue)
		}
	}
	return out, nil
}

func (c *regionClient) DeleteParameterGroup(ctx context.Context, name string) error {
	ctx, name = begin(ctx, name)
	_, err := c.rds.DeleteDBParameterGroup(ctx, &rds.DeleteDBParameterGroupInput{DBParameterGroupName: &name})
	return translateError("DeleteDBParameterGroup", name, err)
}
