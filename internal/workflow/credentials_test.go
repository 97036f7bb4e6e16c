package workflow

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

type fakeSecrets map[string]string

func (f fakeSecrets) MasterCredentials(_ context.Context, arn string) (*model.Credentials, error) {
	pw, ok := f[arn]
	if !ok {
		return nil, &model.Error{Op: "GetSecretValue", Resource: arn, Failure: model.FailureNotFound}
	}
	return &model.Credentials{Username: "app", Password: model.Password(pw)}, nil
}

func (f fakeSecrets) DescribeSecret(context.Context, string) (*model.Secret, error) { return nil, nil }

func TestCredentialChainOrder(t *testing.T) {
	ctx := context.Background()
	sec := fakeSecrets{"managed": "from-managed", "given": "from-flag"}
	chain := CredentialChain{Secrets: func(string) model.Secrets { return sec }, SecretARN: "given", EnvPassword: "from-env"}
	pw, err := chain.MasterPassword(ctx, &model.Instance{MasterUserSecretARN: "managed"})
	require.NoError(t, err)
	assert.Equal(t, "from-managed", pw, "the instance's managed secret first")
	pw, err = chain.MasterPassword(ctx, &model.Instance{})
	require.NoError(t, err)
	assert.Equal(t, "from-flag", pw, "then --db-secret")
	chain.SecretARN = ""
	pw, err = chain.MasterPassword(ctx, &model.Instance{})
	require.NoError(t, err)
	assert.Equal(t, "from-env", pw, "then the environment")
	chain.EnvPassword = ""
	_, err = chain.MasterPassword(ctx, &model.Instance{})
	assert.ErrorContains(t, err, EnvDBPassword)
	chain.SecretARN = "missing"
	_, err = chain.MasterPassword(ctx, &model.Instance{})
	assert.ErrorContains(t, err, "missing")
}
