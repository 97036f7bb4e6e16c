package adapter_test

import (
	"testing"

	"github.com/rdsencrypt/rdsencrypt/internal/model"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/awsclient"
)

func TestSupportsEncryptionAndParameter(t *testing.T) {
	e := startSim(t, awsclient.Config{})
	ctx := e.ctx(t)
	raw := e.h.RDS("us-east-1")
	_, err := raw.CreateDBParameterGroup(ctx, &rds.CreateDBParameterGroupInput{
		DBParameterGroupName: aws.String("app-params"), DBParameterGroupFamily: aws.String("mysql8.0"), Description: aws.String("app"),
	})
	skipIfUnsupported(t, err, "CreateDBParameterGroup")
	require.NoError(t, err)
	_, err = raw.ModifyDBParameterGroup(ctx, &rds.ModifyDBParameterGroupInput{
		DBParameterGroupName: aws.String("app-params"),
		Parameters:           []types.Parameter{{ParameterName: aws.String("require_secure_transport"), ParameterValue: aws.String("1"), ApplyMethod: types.ApplyMethodImmediate}},
	})
	require.NoError(t, err)
	src := e.seedInstance(t, "us-east-1", "app", func(in *rds.CreateDBInstanceInput) { in.DBParameterGroupName = aws.String("app-params") })
	assert.Equal(t, "app-params", src.Settings.DBParameterGroupName)

	v, err := e.api.Parameter(ctx, "app-params", "require_secure_transport")
	require.NoError(t, err)
	assert.Equal(t, model.Parameter{Value: "1", Source: model.ParameterSourceUser}, v)
	require.NoError(t, e.api.SetParameters(ctx, "app-params", map[string]string{"read_only": "1", "require_secure_transport": "0"}))
	for name, want := range map[string]string{"read_only": "1", "require_secure_transport": "0"} {
		v, err := e.api.Parameter(ctx, "app-params", name)
		require.NoError(t, err)
		assert.Equal(t, model.Parameter{Value: want, Source: model.ParameterSourceUser}, v, name)
	}
	requireKind(t, model.FailureNotFound, e.api.SetParameters(ctx, "missing-params", map[string]string{"read_only": "1"}))
	require.NoError(t, e.api.ResetParameters(ctx, "app-params", []string{"read_only"}))
	v, err = e.api.Parameter(ctx, "app-params", "read_only")
	require.NoError(t, err)
	assert.Equal(t, "{TrueIfReplica}", v.Value, "the engine default again")
	assert.False(t, v.ByUser(), "the engine default again: Source %q", v.Source)
	v, err = e.api.Parameter(ctx, "app-params", "require_secure_transport")
	require.NoError(t, err)
	assert.Equal(t, "0", v.Value, "only the named parameter is reset")
	requireKind(t, model.FailureNotFound, e.api.ResetParameters(ctx, "missing-params", []string{"read_only"}))
	v, err = e.api.Parameter(ctx, "app-params", "no_such_parameter")
	require.NoError(t, err)
	assert.Zero(t, v)
	_, err = e.api.Parameter(ctx, "missing-params", "max_connections")
	requireKind(t, model.FailureNotFound, err)

	ok, err := e.api.SupportsEncryption(ctx, "mysql", src.Settings.EngineVersion, "db.t3.micro")
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = e.api.SupportsEncryption(ctx, "mysql", src.Settings.EngineVersion, "db.m1.small")
	require.NoError(t, err)
	assert.False(t, ok, "previous-generation classes have no encryption at rest")
}

func TestAddTags(t *testing.T) {
	e := startSim(t, awsclient.Config{})
	ctx := e.ctx(t)
	src := e.seedInstance(t, "us-east-1", "app", nil)
	require.NoError(t, e.api.AddTags(ctx, src.ARN, model.Tags{model.TagMigrationID: "m1", "env": "prod"}))
	require.NoError(t, e.api.AddTags(ctx, src.ARN, nil), "no tags, no call")
	got, err := e.api.DescribeInstance(ctx, "app")
	require.NoError(t, err)
	assert.Equal(t, model.Tags{model.TagMigrationID: "m1", "env": "prod"}, got.Tags)
	err = e.api.AddTags(ctx, "arn:aws:rds:us-east-1:123456789012:db:missing", model.Tags{"a": "b"})
	requireKind(t, model.FailureNotFound, err)
}

func TestClusterParameterValue(t *testing.T) {
	e := startSim(t, awsclient.Config{})
	ctx := e.ctx(t)
	raw := e.h.RDS("us-east-1")
	_, err := raw.CreateDBClusterParameterGroup(ctx, &rds.CreateDBClusterParameterGroupInput{
		DBClusterParameterGroupName: aws.String("pg-tls"), DBParameterGroupFamily: aws.String("aurora-postgresql16"), Description: aws.String("tls"),
	})
	require.NoError(t, err)
	_, err = raw.ModifyDBClusterParameterGroup(ctx, &rds.ModifyDBClusterParameterGroupInput{
		DBClusterParameterGroupName: aws.String("pg-tls"),
		Parameters:                  []types.Parameter{{ParameterName: aws.String("rds.force_ssl"), ParameterValue: aws.String("1"), ApplyMethod: types.ApplyMethodImmediate}},
	})
	require.NoError(t, err)
	v, err := e.api.ClusterParameterValue(ctx, "pg-tls", "rds.force_ssl")
	require.NoError(t, err)
	assert.Equal(t, "1", v)
	_, err = e.api.ClusterParameterValue(ctx, "missing", "rds.force_ssl")
	requireKind(t, model.FailureNotFound, err)
}
