package adapter_test

import (
	"testing"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/model"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/awsclient"
)

// TestReadReplicasOfAnEncryptedPrimary creates a same-region replica (the key is given but
// must not be sent) and a cross-region one (key of the replica's region, presigned).
func TestReadReplicasOfAnEncryptedPrimary(t *testing.T) {
	e := startSim(t, awsclient.Config{})
	ctx := e.ctx(t)
	api, eu := e.api, e.client.For("eu-west-1")
	usKey := e.seedKey(t, "us-east-1", "alias/app")
	euKey := e.seedKey(t, "eu-west-1", "alias/app-eu")
	e.seedInstance(t, "us-east-1", "app", func(in *rds.CreateDBInstanceInput) { in.BackupRetentionPeriod = aws.Int32(3) })
	enc := e.encryptedCopy(t, api, "app", usKey)
	primary, err := api.RestoreInstance(ctx, model.RestoreInstanceInput{
		ID: "app-new", SnapshotID: enc.ID, Settings: model.InstanceSettings{BackupRetentionPeriod: 3},
		Carry: []model.Setting{"BackupRetentionPeriod"},
	})
	require.NoError(t, err)
	primary, err = awsclient.InstanceAvailable(api, primary.ResourceID, nil).Until(ctx, fast)
	require.NoError(t, err)

	same, err := api.CreateReadReplica(ctx, model.ReadReplicaInput{
		ID: "app-new-r1", Source: "app-new", SourceRegion: "us-east-1", KmsKeyID: usKey,
		Settings: model.InstanceSettings{DBInstanceClass: "db.t3.small", MonitoringInterval: 0},
		Carry:    []model.Setting{"DBInstanceClass", "MonitoringInterval"},
		Tags:     model.Tags{model.TagRole: "replica"},
	})
	require.NoError(t, err)
	same, err = awsclient.InstanceAvailable(api, same.ResourceID, nil).Until(ctx, fast)
	require.NoError(t, err)
	assert.Equal(t, "app-new", same.ReplicaSource)
	assert.True(t, same.Settings.StorageEncrypted)
	assert.Equal(t, usKey, same.Settings.KmsKeyID)
	assert.Equal(t, "db.t3.small", same.Settings.DBInstanceClass)
	assert.Equal(t, "replica", same.Tags[model.TagRole])

	cross, err := eu.CreateReadReplica(ctx, model.ReadReplicaInput{
		ID: "app-new-eu", Source: primary.ARN, SourceRegion: "us-east-1", KmsKeyID: "alias/app-eu",
	})
	require.NoError(t, err)
	cross, err = awsclient.InstanceAvailable(eu, cross.ResourceID, nil).Until(ctx, fast)
	require.NoError(t, err)
	assert.Equal(t, "eu-west-1", cross.Region)
	assert.True(t, cross.Settings.StorageEncrypted)
	assert.Equal(t, euKey, cross.Settings.KmsKeyID)

	primary, err = api.DescribeInstance(ctx, "app-new")
	require.NoError(t, err)
	assert.Contains(t, primary.Replicas, "app-new-r1")
	assert.Contains(t, primary.Replicas, cross.ARN, "cross-region replicas are listed by ARN")

	// A cross-region replica without a key is refused by AWS: the error kind says so.
	_, err = eu.CreateReadReplica(ctx, model.ReadReplicaInput{ID: "app-new-eu2", Source: primary.ARN, SourceRegion: "us-east-1"})
	requireKind(t, model.FailureInvalidParameter, err)
}

// TestRebootAndWaitThroughRenameVisibility reboots, then renames and waits by resource id
// while the old identifier may still answer.
// Each poll sees the simulator 20 s later, so the rename's states are seen whatever the load.
func TestRebootAndWaitThroughRenameVisibility(t *testing.T) {
	e := startTickingSim(t, 20*time.Second)
	ctx := e.ctx(t)
	src := e.seedInstance(t, "us-east-1", "app", nil)

	rebooting, err := e.api.RebootInstance(ctx, "APP")
	require.NoError(t, err)
	assert.Equal(t, model.InstanceRebooting, rebooting.Status)
	_, err = awsclient.InstanceAvailable(e.api, src.ResourceID, nil).Until(ctx, fast)
	require.NoError(t, err)

	_, err = e.api.RenameInstance(ctx, "app", "app-old")
	require.NoError(t, err)
	var seen []string
	got, err := awsclient.InstanceAvailable(e.api, src.ResourceID, model.InstanceAvailableAs("app-old")).Until(ctx,
		awsclient.Watch{Poll: fastPoll, OnChange: func(i awsclient.Observed) { seen = append(seen, i.ID+"/"+i.Status) }})
	require.NoError(t, err)
	assert.Equal(t, "app-old", got.ID)
	assert.Equal(t, "app-old/available", seen[len(seen)-1])
	assert.Greater(t, len(seen), 1, "intermediate states were reported: %v", seen)
	_, err = e.api.DescribeInstance(ctx, "app")
	assert.True(t, model.IsNotFound(err))
}
