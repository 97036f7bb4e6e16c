package awsclient

import (
	"context"
	"maps"
	"slices"

	"github.com/rdsencrypt/rdsencrypt/internal/model"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
)

// tagsFrom reads an SDK TagList.
func tagsFrom(list []types.Tag) model.Tags {
	tags := model.Tags{}
	for _, t := range list {
		tags[str(t.Key)] = str(t.Value)
	}
	return tags
}

// sdkTags converts tags sorted by key (deterministic requests); nil for none.
func sdkTags(tags model.Tags) []types.Tag {
	if len(tags) == 0 {
		return nil
	}
	out := make([]types.Tag, 0, len(tags))
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	return out
}

func (c *regionClient) AddTags(ctx context.Context, arn string, tags model.Tags) error {
	ctx, arn = begin(ctx, arn)
	if len(tags) == 0 {
		return nil
	}
	_, err := c.rds.AddTagsToResource(ctx, &rds.AddTagsToResourceInput{ResourceName: &arn, Tags: sdkTags(tags)})
	return translateError("AddTagsToResource", arn, err)
}

// listTags reads the tags of a resource by ARN.
func (c *regionClient) listTags(ctx context.Context, arn string) (model.Tags, error) {
	out, err := c.rds.ListTagsForResource(ctx, &rds.ListTagsForResourceInput{ResourceName: aws.String(arn)})
	if err != nil {
		return nil, translateError("ListTagsForResource", arn, err)
	}
	return tagsFrom(out.TagList), nil
}
