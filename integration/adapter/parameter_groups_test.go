package adapter_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/awsclient"
	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// CopyParameterGroup, ParameterGroup, Parameters and DeleteParameterGroup over HTTP: a custom
// group is copied with its values and the given tags, a default group becomes a new group
// of its family with the same values, a missing group is nil, and the AWS refusals arrive as
// their model.Failure.
func TestParameterGroupCopyDescribeDelete(t *testing.T) {
	e := startSim(t, awsclient.Config{})
	ctx := e.ctx(t)
	raw := e.h.RDS("us-east-1")
	_, err := raw.CreateDBParameterGroup(ctx, &rds.CreateDBParameterGroupInput{DBParameterGroupName: aws.String("app-params"),
		DBParameterGroupFamily: aws.String("mariadb10.11"), Description: aws.String("app")})
	require.NoError(t, err)
	require.NoError(t, e.api.SetParameters(ctx, "app-params", map[string]string{"binlog_format": "ROW"}))

	tags := model.Tags{model.TagMigrationID: "m1", model.TagRole: "parameter-group"}
	pg, err := e.api.CopyParameterGroup(ctx, "App-Params", "app-params-rdsencrypt-m1", "copy", tags)
	require.NoError(t, err)
	assert.Equal(t, "app-params-rdsencrypt-m1", pg.Name)
	assert.Equal(t, "mariadb10.11", pg.Family)
	assert.Contains(t, pg.ARN, ":pg:app-params-rdsencrypt-m1")
	got, err := e.api.ParameterGroup(ctx, "app-params-rdsencrypt-m1")
	require.NoError(t, err)
	assert.Equal(t, pg.ARN, got.ARN)
	assert.Equal(t, tags, got.Tags)
	src, err := e.api.Parameters(ctx, "app-params")
	require.NoError(t, err)
	cp, err := e.api.Parameters(ctx, "app-params-rdsencrypt-m1")
	require.NoError(t, err)
	assert.Equal(t, "ROW", cp["binlog_format"])
	assert.Equal(t, src, cp, "the copy holds every value of the source")

	// A default group: a new group of its family, holding the default's values.
	def, err := e.api.CopyParameterGroup(ctx, "default.mariadb10.11", "default-rdsencrypt-m1", "copy", tags)
	require.NoError(t, err)
	assert.Equal(t, "mariadb10.11", def.Family)
	defaults, err := e.api.Parameters(ctx, "default.mariadb10.11")
	require.NoError(t, err)
	cp, err = e.api.Parameters(ctx, "default-rdsencrypt-m1")
	require.NoError(t, err)
	assert.Equal(t, defaults, cp)

	// The copy of a default group, named as a migration names it: AWS refuses a period in a
	// group's name ("default.postgres15-rdsencrypt-m1"), the migration's name has none.
	_, err = e.api.CopyParameterGroup(ctx, "default.postgres15", "default.postgres15-rdsencrypt-m1", "copy", tags)
	requireKind(t, model.FailureInvalidParameter, err)
	pgDef, err := e.api.CopyParameterGroup(ctx, "default.postgres15", workflow.ParameterGroupCopyName("default.postgres15", "m1"), "copy", tags)
	require.NoError(t, err)
	assert.Equal(t, "default-postgres15-rdsencrypt-m1", pgDef.Name)

	_, err = e.api.CopyParameterGroup(ctx, "app-params", "app-params-rdsencrypt-m1", "copy", tags)
	requireKind(t, model.FailureAlreadyExists, err)
	_, err = e.api.CopyParameterGroup(ctx, "missing", "x-rdsencrypt-m1", "copy", tags)
	requireKind(t, model.FailureNotFound, err)
	missing, err := e.api.ParameterGroup(ctx, "missing")
	require.NoError(t, err)
	assert.Nil(t, missing)

	e.seedInstance(t, "us-east-1", "app", func(in *rds.CreateDBInstanceInput) {
		in.Engine, in.DBParameterGroupName = aws.String("mariadb"), aws.String("app-params-rdsencrypt-m1")
	})
	requireKind(t, model.FailureInvalidState, e.api.DeleteParameterGroup(ctx, "app-params-rdsencrypt-m1"))
	requireKind(t, model.FailureInvalidState, e.api.DeleteParameterGroup(ctx, "default.mariadb10.11"))
	require.NoError(t, e.api.DeleteParameterGroup(ctx, "default-rdsencrypt-m1"))
	requireKind(t, model.FailureNotFound, e.api.DeleteParameterGroup(ctx, "default-rdsencrypt-m1"))
	gone, err := e.api.ParameterGroup(ctx, "default-rdsencrypt-m1")
	require.NoError(t, err)
	assert.Nil(t, gone)
}
