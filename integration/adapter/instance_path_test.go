package adapter_test

import (
	"slices"
	"testing"

	"github.com/rdsencrypt/rdsencrypt/internal/model"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/awsclient"
)

func richSource(in *rds.CreateDBInstanceInput) {
	in.MultiAZ = aws.Bool(true)
	in.CopyTagsToSnapshot = aws.Bool(true)
	in.DeletionProtection = aws.Bool(true)
	in.EnableIAMDatabaseAuthentication = aws.Bool(true)
	in.MonitoringInterval = aws.Int32(60)
	in.MonitoringRoleArn = aws.String("arn:aws:iam::123456789012:role/rds-monitoring")
	in.EnablePerformanceInsights = aws.Bool(true)
	in.PerformanceInsightsRetentionPeriod = aws.Int32(7)
	in.MaxAllocatedStorage = aws.Int32(500)
	in.PreferredMaintenanceWindow = aws.String("sun:05:00-sun:05:30")
	in.PreferredBackupWindow = aws.String("03:00-03:30")
	in.EnableCloudwatchLogsExports = []string{"error", "slowquery"}
	in.VpcSecurityGroupIds = []string{"sg-0123456789abcdef0"}
	in.DBSubnetGroupName = aws.String("default")
	in.Tags = []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}
}

// TestInstanceEncryptionPath drives snapshot -> encrypted copy -> restore with every
// setting -> modify the rest -> rename swap -> cleanup, through awsclient only.
func TestInstanceEncryptionPath(t *testing.T) {
	e := startSim(t, awsclient.Config{})
	ctx := e.ctx(t)
	api := e.api
	keyARN := e.seedKey(t, "us-east-1", "alias/app")
	src := e.seedInstance(t, "us-east-1", "App", richSource)

	// Describe maps the source completely.
	assert.Equal(t, "app", src.ID)
	assert.False(t, src.Settings.StorageEncrypted)
	assert.True(t, src.Settings.MultiAZ)
	assert.Equal(t, []string{"sg-0123456789abcdef0"}, src.Settings.VpcSecurityGroupIDs)
	assert.Equal(t, "default", src.Settings.DBSubnetGroupName)
	assert.ElementsMatch(t, []string{"error", "slowquery"}, src.Settings.EnabledCloudwatchLogsExports)
	assert.Equal(t, int32(60), src.Settings.MonitoringInterval)
	assert.True(t, src.Settings.PerformanceInsightsEnabled)
	assert.Equal(t, model.Tags{"env": "prod"}, src.Tags)
	assert.NotEmpty(t, src.Endpoint)

	key, err := api.DescribeKey(ctx, "alias/app")
	require.NoError(t, err)
	assert.Equal(t, keyARN, key.ARN)
	assert.True(t, key.Enabled)

	// Snapshot, with progress reported while it runs.
	ours := model.Tags{model.TagMigrationID: "m1", model.TagRole: "snapshot"}
	plain, err := api.CreateSnapshot(ctx, "APP", "App-Plain", ours)
	require.NoError(t, err)
	assert.Equal(t, "app-plain", plain.ID)
	var statuses []string
	plain, err = awsclient.SnapshotAvailable(api, "app-plain").Until(ctx, awsclient.Watch{Poll: fastPoll, OnChange: func(s awsclient.Observed) { statuses = append(statuses, s.Status) }})
	require.NoError(t, err)
	assert.False(t, plain.Encrypted)
	assert.Equal(t, src.ResourceID, plain.SourceResource)
	assert.Equal(t, model.SnapshotAvailable, statuses[len(statuses)-1])

	// Encrypted copy carries exactly our tags.
	copyTags := model.Tags{model.TagMigrationID: "m1", model.TagRole: "encrypted-copy"}
	_, err = api.CopySnapshot(ctx, model.CopySnapshotInput{SourceID: "app-plain", TargetID: "app-enc", KmsKeyID: "alias/app", Tags: copyTags})
	require.NoError(t, err)
	enc, err := awsclient.SnapshotAvailable(api, "app-enc").Until(ctx, fast)
	require.NoError(t, err)
	assert.True(t, enc.Encrypted)
	assert.Equal(t, keyARN, enc.KmsKeyID)
	assert.Equal(t, copyTags, enc.Tags)

	// Restore with every setting restore accepts, then modify the rest.
	restored, err := api.RestoreInstance(ctx, model.RestoreInstanceInput{
		ID: "app-new", SnapshotID: "app-enc", Settings: src.Settings,
		// AWS refuses explicit IOPS or throughput for this 100 GiB gp3 source (below 400 GiB).
		Carry: routed(model.InstanceSettingRoutes, func(r model.Route) bool {
			return r.Restore && r.Setting != "AvailabilityZone" && r.Setting != "Iops" && r.Setting != "StorageThroughput"
		}),
		Tags: model.Tags{"env": "prod", model.TagMigrationID: "m1"},
	})
	require.NoError(t, err)
	restored, err = awsclient.InstanceAvailable(api, restored.ResourceID, nil).Until(ctx, fast)
	require.NoError(t, err)
	assert.True(t, restored.Settings.StorageEncrypted)
	assert.Equal(t, keyARN, restored.Settings.KmsKeyID)

	modifyOnly := routed(model.InstanceSettingRoutes, func(r model.Route) bool { return r.Modify && !r.Restore })
	_, err = api.ModifyInstance(ctx, "app-new", src.Settings, modifyOnly)
	require.NoError(t, err)
	restored, err = awsclient.InstanceAvailable(api, restored.ResourceID, func(i *model.Instance) bool {
		return model.IsInstanceAvailable(i) && len(i.PendingModifications) == 0 && i.Settings.MonitoringInterval == 60
	}).Until(ctx, fast)
	require.NoError(t, err)

	for _, r := range model.InstanceSettingRoutes {
		if !r.Compare || r.Setting == "AvailabilityZone" {
			continue
		}
		want, _ := model.SettingValue(src.Settings, r.Setting)
		got, _ := model.SettingValue(restored.Settings, r.Setting)
		if w, ok := want.([]string); ok {
			assert.ElementsMatch(t, w, got, "setting %s", r.Setting)
			continue
		}
		assert.Equal(t, want, got, "setting %s", r.Setting)
	}

	// Rename swap, each rename awaited by resource id.
	_, err = api.RenameInstance(ctx, "app", "app-old")
	require.NoError(t, err)
	old, err := awsclient.InstanceAvailable(api, src.ResourceID, model.InstanceAvailableAs("app-old")).Until(ctx, fast)
	require.NoError(t, err)
	assert.Equal(t, "app-old", old.ID)
	_, err = api.RenameInstance(ctx, "app-new", "APP")
	require.NoError(t, err)
	final, err := awsclient.InstanceAvailable(api, restored.ResourceID, model.InstanceAvailableAs("app")).Until(ctx, fast)
	require.NoError(t, err)
	assert.Equal(t, src.Endpoint, final.Endpoint, "same identifier, same hostname")

	byID, err := api.DescribeInstance(ctx, "App")
	require.NoError(t, err)
	assert.Equal(t, restored.ResourceID, byID.ResourceID)

	all, err := api.ListInstances(ctx)
	require.NoError(t, err)
	assert.Len(t, all, 2)
	snaps, err := api.ListSnapshots(ctx)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"app-plain", "app-enc"}, ids(snaps))

	// Cleanup: snapshots, then the old instance (deletion protection first).
	require.NoError(t, api.DeleteSnapshot(ctx, "app-plain"))
	require.NoError(t, errOf(awsclient.SnapshotDeleted(api, "app-plain").Until(ctx, fast)))
	err = api.DeleteInstance(ctx, "app-old", "")
	assert.Equal(t, model.FailureInvalidParameter, model.FailureOf(err), "deletion protection: %v", err)
	_, err = api.ModifyInstance(ctx, "app-old", model.InstanceSettings{DeletionProtection: false}, []model.Setting{"DeletionProtection"})
	require.NoError(t, err)
	_, err = awsclient.InstanceAvailable(api, src.ResourceID, func(i *model.Instance) bool {
		return model.IsInstanceAvailable(i) && !i.Settings.DeletionProtection
	}).Until(ctx, fast)
	require.NoError(t, err)
	require.NoError(t, api.DeleteInstance(ctx, "app-old", ""))
	require.NoError(t, errOf(awsclient.InstanceDeleted(api, src.ResourceID).Until(ctx, fast)))
	_, err = api.DescribeInstance(ctx, "app-old")
	assert.True(t, model.IsNotFound(err))
}

func ids(snaps []model.Snapshot) []string {
	var out []string
	for _, s := range snaps {
		out = append(out, s.ID)
	}
	slices.Sort(out)
	return out
}
