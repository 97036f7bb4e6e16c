package awsclient

import (
	"context"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// SupportsEncryption asks DescribeOrderableDBInstanceOptions whether any orderable option
// for the engine, version and class supports storage encryption. A version AWS no longer
// offers (old instances often run one) has no orderable options: the class is then judged
// by the engine's other versions, since encryption support belongs to the class.
func (c *regionClient) SupportsEncryption(ctx context.Context, engine, engineVersion, class string) (bool, error) {
	ctx = withTarget(ctx, engine+" "+engineVersion+" "+class)
	supported, found, err := c.orderableEncryption(ctx, engine, engineVersion, class)
	if err != nil || found || engineVersion == "" {
		return supported, err
	}
	supported, _, err = c.orderableEncryption(ctx, engine, "", class)
	return supported, err
}

// orderableEncryption reports whether any option supports encryption, and whether any
// option was found at all.
func (c *regionClient) orderableEncryption(ctx context.Context, engine, engineVersion, class string) (supported, found bool, err error) {
	pages := rds.NewDescribeOrderableDBInstanceOptionsPaginator(c.rds, &rds.DescribeOrderableDBInstanceOptionsInput{
		Engine:          aws.String(engine),
		EngineVersion:   optString(engineVersion),
		DBInstanceClass: optString(class),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return false, found, translateError("DescribeOrderableDBInstanceOptions", engine, err)
		}
		for _, o := range page.OrderableDBInstanceOptions {
			found = true
			if aws.ToBool(o.SupportsStorageEncryption) {
				return true, true, nil
			}
		}
	}
	return false, found, nil
}

// Parameter pages through a DB parameter group until it finds the parameter.
func (c *regionClient) Parameter(ctx context.Context, group, name string) (model.Parameter, error) {
	ctx = withTarget(ctx, group)
	pages := rds.NewDescribeDBParametersPaginator(c.rds, &rds.DescribeDBParametersInput{DBParameterGroupName: aws.String(group)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return model.Parameter{}, translateError("DescribeDBParameters", group, err)
		}
		for _, p := range page.Parameters {
			if str(p.ParameterName) == name {
				return model.Parameter{Value: str(p.ParameterValue), Source: str(p.Source)}, nil
			}
		}
	}
	return model.Parameter{}, nil
}

// ClusterParameterValue pages through a DB cluster parameter group until it finds the
// parameter ("" when unset).
func (c *regionClient) ClusterParameterValue(ctx context.Context, group, name string) (string, error) {
	ctx = withTarget(ctx, group)
	pages := rds.NewDescribeDBClusterParametersPaginator(c.rds, &rds.DescribeDBClusterParametersInput{DBClusterParameterGroupName: aws.String(group)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return "", translateError("DescribeDBClusterParameters", group, err)
		}
		for _, p := range page.Parameters {
			if str(p.ParameterName) == name {
				return str(p.ParameterValue), nil
			}
		}
	}
	return "", nil
}

// EngineVersionOffered asks DescribeDBEngineVersions whether AWS still offers the exact
// engine version; a snapshot of a version it no longer offers must be upgraded
// (ModifyDBSnapshot) before it can be restored.
func (c *regionClient) EngineVersionOffered(ctx context.Context, engine, engineVersion string) (bool, error) {
	ctx = withTarget(ctx, engine+" "+engineVersion)
	out, err := c.rds.DescribeDBEngineVersions(ctx, &rds.DescribeDBEngineVersionsInput{
		Engine: aws.String(engine), EngineVersion: aws.String(engineVersion)})
	if err != nil {
		return false, translateError("DescribeDBEngineVersions", engine, err)
	}
	for _, v := range out.DBEngineVersions {
		if str(v.EngineVersion) == engineVersion && (v.Status == nil || str(v.Status) == "available") {
			return true, nil
		}
	}
	return false, nil
}

// SnapshotQuota reads the region's manual snapshot quota and its use from
// DescribeAccountAttributes: ManualSnapshots, or ManualClusterSnapshots for clusters.
func (c *regionClient) SnapshotQuota(ctx context.Context, cluster bool) (used, max int, err error) {
	name := "ManualSnapshots"
	if cluster {
		name = "ManualClusterSnapshots"
	}
	ctx = withTarget(ctx, name)
	out, err := c.rds.DescribeAccountAttributes(ctx, &rds.DescribeAccountAttributesInput{})
	if err != nil {
		return 0, 0, translateError("DescribeAccountAttributes", name, err)
	}
	for _, q := range out.AccountQuotas {
		if str(q.AccountQuotaName) == name {
			return int(aws.ToInt64(q.Used)), int(aws.ToInt64(q.Max)), nil
		}
	}
	return 0, 0, &model.Error{Failure: model.FailureUnknown, Op: "DescribeAccountAttributes", Resource: name,
		Message: "the account attributes list no " + name + " quota"}
}

// SetParameters sets parameters of a DB parameter group with ApplyMethod immediate, which
// applies dynamic parameters to the running instances that use the group at once (RDS user
// guide, "Modifying parameters in a DB parameter group"; ModifyDBParameterGroup's doc comment:
// "Changes to dynamic parameters are applied immediately"). AWS refuses default groups.
func (c *regionClient) SetParameters(ctx context.Context, group string, values map[string]string) error {
	return c.setParameters(ctx, group, values, types.ApplyMethodImmediate)
}

// SetParametersAtReboot is SetParameters with ApplyMethod pending-reboot, the only method a
// static parameter takes: "You can use the immediate value with dynamic parameters only. You
// can use the pending-reboot value for both dynamic and static parameters, and changes are
// applied when you reboot the DB instance without failover" (ModifyDBParameterGroup API
// reference, Parameters).
func (c *regionClient) SetParametersAtReboot(ctx context.Context, group string, values map[string]string) error {
	return c.setParameters(ctx, group, values, types.ApplyMethodPendingReboot)
}

// ResetParameters resets parameters of a DB parameter group to the engine default
// (ResetDBParameterGroup: "To reset specific parameters, provide a list of the following:
// ParameterName and ApplyMethod"), ResetAllParameters false: its default is to reset them all.
func (c *regionClient) ResetParameters(ctx context.Context, group string, names []string) error {
	ctx = withTarget(ctx, group)
	params := make([]types.Parameter, 0, len(names))
	for _, n := range names {
		params = append(params, types.Parameter{ParameterName: aws.String(n), ApplyMethod: types.ApplyMethodImmediate})
	}
	_, err := c.rds.ResetDBParameterGroup(ctx, &rds.ResetDBParameterGroupInput{DBParameterGroupName: aws.String(group),
		ResetAllParameters: aws.Bool(false), Parameters: params})
	return translateError("ResetDBParameterGroup", group, err)
}

func (c *regionClient) setParameters(ctx context.Context, group string, values map[string]string, method types.ApplyMethod) error {
	ctx = withTarget(ctx, group)
	names := make([]string, 0, len(values))
	for n := range values {
		names = append(names, n)
	}
	sort.Strings(names)
	params := make([]types.Parameter, 0, len(names))
	for _, n := range names {
		params = append(params, types.Parameter{ParameterName: aws.String(n), ParameterValue: aws.String(values[n]),
			ApplyMethod: method})
	}
	_, err := c.rds.ModifyDBParameterGroup(ctx, &rds.ModifyDBParameterGroupInput{DBParameterGroupName: aws.String(group), Parameters: params})
	return translateError("ModifyDBParameterGroup", group, err)
}
