package rdssim_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/rdssim"
	"github.com/rdsencrypt/rdsencrypt/internal/rdssim/simtest"
)

// CopyDBParameterGroup and DeleteDBParameterGroup follow their SDK doc comments
// (internal/rdssim/param_group_copy.go): the copy carries every value, takes the request's
// tags, refuses default sources, bad or taken target names and the quota; a group in use or a
// default group cannot be deleted.
func TestCopyAndDeleteParameterGroup(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c := h.RDS("us-east-1")
	_, err := c.CreateDBParameterGroup(ctx, &rds.CreateDBParameterGroupInput{DBParameterGroupName: aws.String("app"),
		DBParameterGroupFamily: aws.String("mysql8.0"), Description: aws.String("app"),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("db")}}})
	require.NoError(t, err)
	_, err = c.ModifyDBParameterGroup(ctx, &rds.ModifyDBParameterGroupInput{DBParameterGroupName: aws.String("app"), Parameters: []types.Parameter{
		{ParameterName: aws.String("binlog_format"), ParameterValue: aws.String("ROW"), ApplyMethod: types.ApplyMethodImmediate},
		{ParameterName: aws.String("performance_schema"), ParameterValue: aws.String("1"), ApplyMethod: types.ApplyMethodPendingReboot}}})
	require.NoError(t, err)

	arn := "arn:aws:rds:us-east-1:" + h.Sim.AccountID() + ":pg:app"
	out, err := c.CopyDBParameterGroup(ctx, &rds.CopyDBParameterGroupInput{SourceDBParameterGroupIdentifier: aws.String(arn),
		TargetDBParameterGroupIdentifier: aws.String("App-Copy"), TargetDBParameterGroupDescription: aws.String("copy of app"),
		Tags: []types.Tag{{Key: aws.String("rdsencrypt:migration-id"), Value: aws.String("m1")}}})
	require.NoError(t, err)
	assert.Equal(t, "app-copy", aws.ToString(out.DBParameterGroup.DBParameterGroupName))
	assert.Equal(t, "mysql8.0", aws.ToString(out.DBParameterGroup.DBParameterGroupFamily))
	assert.Equal(t, "copy of app", aws.ToString(out.DBParameterGroup.Description))
	for _, name := range []string{"binlog_format", "performance_schema", "max_connections"} {
		want, wantSrc := paramValue(t, c, "app", name)
		got, gotSrc := paramValue(t, c, "app-copy", name)
		assert.Equal(t, want, got, name)
		assert.Equal(t, wantSrc, gotSrc, name)
	}
	tags, err := c.ListTagsForResource(ctx, &rds.ListTagsForResourceInput{ResourceName: out.DBParameterGroup.DBParameterGroupArn})
	require.NoError(t, err)
	require.Len(t, tags.TagList, 1, "the request's tags, not the source's")
	assert.Equal(t, "rdsencrypt:migration-id", aws.ToString(tags.TagList[0].Key))

	// The copy is its own group: changing it leaves the source as it was.
	_, err = c.ModifyDBParameterGroup(ctx, &rds.ModifyDBParameterGroupInput{DBParameterGroupName: aws.String("app-copy"), Parameters: []types.Parameter{
		{ParameterName: aws.String("read_only"), ParameterValue: aws.String("1"), ApplyMethod: types.ApplyMethodImmediate}}})
	require.NoError(t, err)
	v, _ := paramValue(t, c, "app", "read_only")
	assert.Equal(t, "{TrueIfReplica}", v)

	copyErr := func(source, target string) error {
		_, err := c.CopyDBParameterGroup(ctx, &rds.CopyDBParameterGroupInput{SourceDBParameterGroupIdentifier: aws.String(source),
			TargetDBParameterGroupIdentifier: aws.String(target), TargetDBParameterGroupDescription: aws.String("x")})
		return err
	}
	var nf *types.DBParameterGroupNotFoundFault
	require.True(t, errors.As(copyErr("nope", "x"), &nf))
	assert.Equal(t, 404, httpStatus(t, copyErr("nope", "x")))
	assert.Equal(t, "InvalidParameterValue", apiCode(t, copyErr("default.mysql8.0", "x")), "a default group cannot be copied")
	for _, bad := range []string{"1app", "app-", "a--b", "a.b", "a_b", strings.Repeat("a", 256)} {
		assert.Equal(t, "InvalidParameterValue", apiCode(t, copyErr("app", bad)), bad)
	}
	var exists *types.DBParameterGroupAlreadyExistsFault
	require.True(t, errors.As(copyErr("app", "APP-COPY"), &exists))
	require.NoError(t, copyErr("app", strings.Repeat("a", 255)))

	// Delete: default groups and groups in use are refused; a deleted group is gone.
	del := func(name string) error {
		_, err := c.DeleteDBParameterGroup(ctx, &rds.DeleteDBParameterGroupInput{DBParameterGroupName: aws.String(name)})
		return err
	}
	var state *types.InvalidDBParameterGroupStateFault
	require.True(t, errors.As(del("default.mysql8.0"), &state))
	in := mysqlInput("db")
	in.DBParameterGroupName = aws.String("app-copy")
	createAvailable(t, h, c, in)
	require.True(t, errors.As(del("app-copy"), &state), "in use by db")
	require.True(t, errors.As(del("nope"), &nf))
	require.NoError(t, del("app"), "the source of a copy is not in use")
	_, err = c.DescribeDBParameterGroups(ctx, &rds.DescribeDBParameterGroupsInput{DBParameterGroupName: aws.String("app")})
	require.True(t, errors.As(err, &nf))
	require.True(t, errors.As(copyErr("app", "again"), &nf))
}

// The region's custom DB parameter groups count against the DBParameterGroups quota of
// DescribeAccountAttributes; a create or copy past it is DBParameterGroupQuotaExceeded.
func TestParameterGroupQuota(t *testing.T) {
	t.Parallel()
	h := simtest.Start(t, rdssim.Options{Start: testStart, ManualClock: true, ParameterGroupQuota: 2})
	c := h.RDS("us-east-1")
	for i := range 2 {
		_, err := c.CreateDBParameterGroup(ctx, &rds.CreateDBParameterGroupInput{DBParameterGroupName: aws.String(fmt.Sprintf("g%d", i)),
			DBParameterGroupFamily: aws.String("mariadb10.11"), Description: aws.String("x")})
		require.NoError(t, err)
	}
	attrs, err := c.DescribeAccountAttributes(ctx, &rds.DescribeAccountAttributesInput{})
	require.NoError(t, err)
	found := false
	for _, q := range attrs.AccountQuotas {
		if aws.ToString(q.AccountQuotaName) == "DBParameterGroups" {
			found = true
			assert.Equal(t, int64(2), aws.ToInt64(q.Used), "default groups are not counted")
			assert.Equal(t, int64(2), aws.ToInt64(q.Max))
		}
	}
	assert.True(t, found)
	var quota *types.DBParameterGroupQuotaExceededFault
	_, err = c.CopyDBParameterGroup(ctx, &rds.CopyDBParameterGroupInput{SourceDBParameterGroupIdentifier: aws.String("g0"),
		TargetDBParameterGroupIdentifier: aws.String("g2"), TargetDBParameterGroupDescription: aws.String("x")})
	require.True(t, errors.As(err, &quota), "got %v", err)
	_, err = c.CreateDBParameterGroup(ctx, &rds.CreateDBParameterGroupInput{DBParameterGroupName: aws.String("g2"),
		DBParameterGroupFamily: aws.String("mariadb10.11"), Description: aws.String("x")})
	require.True(t, errors.As(err, &quota), "got %v", err)
	_, err = c.DeleteDBParameterGroup(ctx, &rds.DeleteDBParameterGroupInput{DBParameterGroupName: aws.String("g1")})
	require.NoError(t, err)
	_, err = c.CopyDBParameterGroup(ctx, &rds.CopyDBParameterGroupInput{SourceDBParameterGroupIdentifier: aws.String("g0"),
		TargetDBParameterGroupIdentifier: aws.String("g2"), TargetDBParameterGroupDescription: aws.String("x")})
	require.NoError(t, err)
}

// ResetDBParameterGroup (internal/rdssim/param_group_reset.go): a reset parameter is the
// engine default again (the value and Source of a group that never set it), the others keep their user values; a
// default group and an unknown parameter are refused.
func TestResetParameterGroup(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c := h.RDS("us-east-1")
	_, err := c.CreateDBParameterGroup(ctx, &rds.CreateDBParameterGroupInput{DBParameterGroupName: aws.String("app"),
		DBParameterGroupFamily: aws.String("mariadb10.11"), Description: aws.String("app")})
	require.NoError(t, err)
	defValue, defSource := paramValue(t, c, "app", "read_only")
	_, err = c.ModifyDBParameterGroup(ctx, &rds.ModifyDBParameterGroupInput{DBParameterGroupName: aws.String("app"), Parameters: []types.Parameter{
		{ParameterName: aws.String("read_only"), ParameterValue: aws.String("0"), ApplyMethod: types.ApplyMethodImmediate},
		{ParameterName: aws.String("binlog_format"), ParameterValue: aws.String("ROW"), ApplyMethod: types.ApplyMethodImmediate}}})
	require.NoError(t, err)
	v, src := paramValue(t, c, "app", "read_only")
	assert.Equal(t, []string{"0", "user"}, []string{v, src})

	reset := func(group string, names ...string) error {
		var ps []types.Parameter
		for _, n := range names {
			ps = append(ps, types.Parameter{ParameterName: aws.String(n), ApplyMethod: types.ApplyMethodImmediate})
		}
		_, err := c.ResetDBParameterGroup(ctx, &rds.ResetDBParameterGroupInput{DBParameterGroupName: aws.String(group),
			ResetAllParameters: aws.Bool(false), Parameters: ps})
		return err
	}
	require.NoError(t, reset("app", "read_only"))
	v, src = paramValue(t, c, "app", "read_only")
	assert.Equal(t, "{TrueIfReplica}", v)
	assert.Equal(t, []string{defValue, defSource}, []string{v, src}, "as in a group that never set it")
	v, src = paramValue(t, c, "app", "binlog_format")
	assert.Equal(t, []string{"ROW", "user"}, []string{v, src}, "only the listed parameter is reset")

	assert.Equal(t, "InvalidParameterValue", apiCode(t, reset("default.mariadb10.11", "read_only")))
	assert.Equal(t, "InvalidParameterValue", apiCode(t, reset("app", "nope")))
	assert.Equal(t, "InvalidParameterCombination", apiCode(t, reset("app", "performance_schema")), "immediate is for dynamic parameters only")
}
