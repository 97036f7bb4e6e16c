package rdssim_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
}
