package adapter_test

import (
	"testing"

	"github.com/rdsencrypt/rdsencrypt/internal/model"

	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/awsclient"
)

func TestCrossRegionEncryptedCopy(t *testing.T) {
	e := startSim(t, awsclient.Config{})
	ctx := e.ctx(t)
	us, eu := e.api, e.client.For("eu-west-1")
	euKey := e.seedKey(t, "eu-west-1", "alias/app-eu")
	e.seedInstance(t, "us-east-1", "app", nil)
	plain, err := us.CreateSnapshot(ctx, "app", "app-plain", nil)
	require.NoError(t, err)
	plain, err = awsclient.SnapshotAvailable(us, plain.ID).Until(ctx, fast)
	require.NoError(t, err)

	_, err = eu.CopySnapshot(ctx, model.CopySnapshotInput{
		SourceID: plain.ARN, SourceRegion: "us-east-1", TargetID: "app-enc-eu", KmsKeyID: "alias/app-eu",
		Tags: model.Tags{model.TagRole: "encrypted-copy"},
	})
	require.NoError(t, err)
	copied, err := awsclient.SnapshotAvailable(eu, "app-enc-eu").Until(ctx, fast)
	require.NoError(t, err)
	assert.Equal(t, "eu-west-1", copied.Region)
	assert.True(t, copied.Encrypted)
	assert.Equal(t, euKey, copied.KmsKeyID)
	assert.Equal(t, model.Tags{model.TagRole: "encrypted-copy"}, copied.Tags)

	_, err = us.DescribeSnapshot(ctx, "app-enc-eu")
	requireKind(t, model.FailureNotFound, err)
}

func TestModifyLogExportsAndDeleteWithFinalSnapshot(t *testing.T) {
	e := startSim(t, awsclient.Config{})
	ctx := e.ctx(t)
	src := e.seedInstance(t, "us-east-1", "app", func(in *rds.CreateDBInstanceInput) {
		in.EnableCloudwatchLogsExports = []string{"error", "slowquery"}
	})
	_, err := e.api.ModifyInstance(ctx, "app", model.InstanceSettings{EnabledCloudwatchLogsExports: []string{"general", "error"}},
		[]model.Setting{"EnabledCloudwatchLogsExports"})
	require.NoError(t, err)
	got, err := awsclient.InstanceAvailable(e.api, src.ResourceID, func(i *model.Instance) bool {
		return model.IsInstanceAvailable(i) && len(i.PendingModifications) == 0
	}).Until(ctx, fast)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"general", "error"}, got.Settings.EnabledCloudwatchLogsExports)

	require.NoError(t, e.api.DeleteInstance(ctx, "app", "App-Final"))
	require.NoError(t, errOf(awsclient.InstanceDeleted(e.api, src.ResourceID).Until(ctx, fast)))
	final, err := awsclient.SnapshotAvailable(e.api, "app-final").Until(ctx, fast)
	require.NoError(t, err)
	assert.Equal(t, "app", final.SourceID)
	assert.Equal(t, "manual", final.SnapshotType)
}
