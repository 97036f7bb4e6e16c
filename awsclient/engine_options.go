package awsclient

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
)

// SupportsEncryption asks DescribeOrderableDBInstanceOptions whether any orderable option
// for the engine, version and class supports storage encryption.
func (c *regionClient) SupportsEncryption(ctx context.Context, engine, engineVersion, class string) (bool, error) {
	ctx = withTarget(ctx, engine+" "+engineVersion+" "+class)
	pages := rds.NewDescribeOrderableDBInstanceOptionsPaginator(c.rds, &rds.DescribeOrderableDBInstanceOptionsInput{
		Engine:          aws.String(engine),
		EngineVersion:   optString(engineVersion),
		DBInstanceClass: optString(class),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return false, translateError("DescribeOrderableDBInstanceOptions", engine, err)
		}
		for _, o := range page.OrderableDBInstanceOptions {
			if aws.ToBool(o.SupportsStorageEncryption) {
				return true, nil
			}
		}
	}
	return false, nil
}

// ParameterValue pages through a DB parameter group until it finds the parameter.
func (c *regionClient) ParameterValue(ctx context.Context, group, name string) (string, error) {
	ctx = withTarget(ctx, group)
	pages := rds.NewDescribeDBParametersPaginator(c.rds, &rds.DescribeDBParametersInput{DBParameterGroupName: aws.String(group)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return "", translateError("DescribeDBParameters", group, err)
		}
		for _, p := range page.Parameters {
			if str(p.ParameterName) == name {
				return str(p.ParameterValue), nil
			}
		}
	}
	return "", nil
}
