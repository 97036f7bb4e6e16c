package adapter_test

import (
	"context"
	"testing"

	"github.com/rdsencrypt/rdsencrypt/internal/model"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/awsclient"
	"github.com/rdsencrypt/rdsencrypt/internal/rdssim"
)

// seedCluster creates an unencrypted Aurora MySQL cluster with one writer and a custom
// endpoint, with the raw SDK, and waits until all are available.
func (e *env) seedCluster(t *testing.T, id string) *model.Cluster {
	t.Helper()
	ctx := e.ctx(t)
	raw := e.h.RDS("us-east-1")
	out, err := raw.CreateDBCluster(ctx, &rds.CreateDBClusterInput{
		DBClusterIdentifier: aws.String(id), Engine: aws.String("aurora-mysql"),
		MasterUsername: aws.String("admin"), MasterUserPassword: aws.String("secret-password"),
		BackupRetentionPeriod: aws.Int32(5), DeletionProtection: aws.Bool(true), CopyTagsToSnapshot: aws.Bool(true),
		EnableCloudwatchLogsExports: []string{"audit", "error"}, EnableIAMDatabaseAuthentication: aws.Bool(true),
		PreferredMaintenanceWindow: aws.String("sun:05:00-sun:05:30"), PreferredBackupWindow: aws.String("03:00-03:30"),
		VpcSecurityGroupIds: []string{"sg-0123456789abcdef0"},
	})
	skipIfUnsupported(t, err, "CreateDBCluster")
	require.NoError(t, err)
	_, err = raw.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
		DBInstanceIdentifier: aws.String(id + "-1"), DBClusterIdentifier: aws.String(id),
		Engine: aws.String("aurora-mysql"), DBInstanceClass: aws.String("db.r6g.large"), PromotionTier: aws.Int32(1),
	})
	require.NoError(t, err)
	cl, err := awsclient.ClusterAvailable(e.api, aws.ToString(out.DBCluster.DbClusterResourceId), func(c *model.Cluster) bool {
		return model.IsClusterAvailable(c) && len(c.Members) == 1
	}).Until(ctx, fast)
	require.NoError(t, err)
	member, err := e.api.DescribeInstance(ctx, id+"-1")
	require.NoError(t, err)
	_, err = awsclient.InstanceAvailable(e.api, member.ResourceID, nil).Until(ctx, fast)
	require.NoError(t, err)
	_, err = raw.CreateDBClusterEndpoint(ctx, &rds.CreateDBClusterEndpointInput{
		DBClusterEndpointIdentifier: aws.String(id + "-ro"), DBClusterIdentifier: aws.String(id),
		EndpointType: aws.String("READER"), StaticMembers: []string{id + "-1"},
	})
	require.NoError(t, err)
	_, err = awsclient.ClusterEndpointAvailable(e.api, aws.ToString(out.DBCluster.DbClusterResourceId), id+"-ro", nil).Until(ctx, fast)
	require.NoError(t, err)
	return cl
}

// TestClusterEncryptionPath: cluster snapshot -> restore with KmsKeyId and every setting ->
// members -> custom endpoint -> rename swap -> cleanup, through awsclient only.
func TestClusterEncryptionPath(t *testing.T) {
	e := startSim(t, awsclient.Config{})
	ctx := e.ctx(t)
	api := e.api
	keyARN := e.seedKey(t, "us-east-1", "alias/app")
	src := e.seedCluster(t, "Orders")

	assert.Equal(t, "orders", src.ID)
	assert.False(t, src.Settings.StorageEncrypted)
	assert.Equal(t, "aurora-mysql", src.Settings.Engine)
	assert.True(t, src.Settings.DeletionProtection)
	assert.ElementsMatch(t, []string{"audit", "error"}, src.Settings.EnabledCloudwatchLogsExports)
	require.Len(t, src.Members, 1)
	assert.Equal(t, model.ClusterMember{InstanceID: "orders-1", IsWriter: true, PromotionTier: 1}, src.Members[0])

	_, err := api.CreateClusterSnapshot(ctx, "orders", "orders-plain", model.Tags{model.TagRole: "snapshot"})
	require.NoError(t, err)
	snap, err := awsclient.ClusterSnapshotAvailable(api, "orders-plain").Until(ctx, fast)
	require.NoError(t, err)
	assert.False(t, snap.Encrypted)
	assert.Equal(t, src.ResourceID, snap.SourceResource)
	assert.Equal(t, "snapshot", snap.Tags[model.TagRole])

	restored, err := api.RestoreCluster(ctx, model.RestoreClusterInput{
		ID: "orders-new", SnapshotID: "orders-plain", KmsKeyID: "alias/app", Settings: src.Settings,
		Carry: routed(model.ClusterSettingRoutes, func(r model.Route) bool { return r.Restore }),
		Tags:  model.Tags{model.TagMigrationID: "m1"},
	})
	require.NoError(t, err)
	restored, err = awsclient.ClusterAvailable(api, restored.ResourceID, nil).Until(ctx, fast)
	require.NoError(t, err)
	assert.True(t, restored.Settings.StorageEncrypted)
	assert.Equal(t, keyARN, restored.Settings.KmsKeyID)
	assert.Empty(t, restored.Members, "restore creates no instances")

	_, err = api.ModifyCluster(ctx, "orders-new", src.Settings, routed(model.ClusterSettingRoutes, func(r model.Route) bool { return r.Modify && !r.Restore }))
	require.NoError(t, err)
	restored, err = awsclient.ClusterAvailable(api, restored.ResourceID, func(c *model.Cluster) bool {
		return model.IsClusterAvailable(c) && c.Settings.PreferredMaintenanceWindow == src.Settings.PreferredMaintenanceWindow
	}).Until(ctx, fast)
	require.NoError(t, err)
	for _, r := range model.ClusterSettingRoutes {
		if !r.Compare {
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

	member, err := api.CreateClusterInstance(ctx, model.ClusterInstanceInput{
		ID: "orders-new-1", ClusterID: "orders-new", Engine: "aurora-mysql", DBInstanceClass: "db.r6g.large", PromotionTier: 1,
		AutoMinorVersionUpgrade: true, Tags: model.Tags{model.TagMigrationID: "m1"},
	})
	require.NoError(t, err)
	member, err = awsclient.InstanceAvailable(api, member.ResourceID, nil).Until(ctx, fast)
	require.NoError(t, err)
	assert.Equal(t, "orders-new", member.ClusterID)
	assert.True(t, member.Settings.StorageEncrypted)

	// Custom endpoint: move it from the old cluster to the new one.
	eps, err := api.ListClusterEndpoints(ctx, "orders")
	require.NoError(t, err)
	require.Len(t, eps, 1)
	assert.Equal(t, "orders-ro", eps[0].ID)
	assert.Equal(t, "READER", eps[0].Type)
	assert.Equal(t, []string{"orders-1"}, eps[0].StaticMembers)
	require.NoError(t, api.DeleteClusterEndpoint(ctx, "orders-ro"))
	_, err = awsclient.Poll(ctx, fastPoll, func(ctx2 context.Context) ([]model.ClusterEndpoint, error) {
		return api.ListClusterEndpoints(ctx2, "orders")
	},
		func(l []model.ClusterEndpoint) (bool, error) { return len(l) == 0, nil }, nil)
	require.NoError(t, err)
	created, err := api.CreateClusterEndpoint(ctx, model.ClusterEndpoint{ID: "orders-ro", ClusterID: "orders-new", Type: "READER", StaticMembers: []string{"orders-new-1"}})
	require.NoError(t, err)
	assert.Equal(t, "orders-ro", created.ID)
	ep, err := awsclient.ClusterEndpointAvailable(api, restored.ResourceID, "orders-ro", nil).Until(ctx, fast)
	require.NoError(t, err)
	assert.Equal(t, eps[0].Address, ep.Address, "custom endpoint names do not contain the cluster name")

	// Rename swap.
	_, err = api.RenameCluster(ctx, "orders", "orders-old")
	require.NoError(t, err)
	_, err = awsclient.ClusterAvailable(api, src.ResourceID, model.ClusterAvailableAs("orders-old")).Until(ctx, fast)
	require.NoError(t, err)
	_, err = api.RenameCluster(ctx, "orders-new", "orders")
	require.NoError(t, err)
	final, err := awsclient.ClusterAvailable(api, restored.ResourceID, model.ClusterAvailableAs("orders")).Until(ctx, fast)
	require.NoError(t, err)
	assert.Equal(t, src.Endpoint, final.Endpoint)
	assert.Equal(t, src.ReaderEndpoint, final.ReaderEndpoint)

	byID, err := api.DescribeCluster(ctx, "ORDERS")
	require.NoError(t, err)
	assert.Equal(t, restored.ResourceID, byID.ResourceID)
	all, err := api.ListClusters(ctx)
	require.NoError(t, err)
	assert.Len(t, all, 2)
	snaps, err := api.ListClusterSnapshots(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"orders-plain"}, ids(snaps))

	// Cleanup of the old cluster: member, protection, cluster, snapshot.
	oldMember, err := api.DescribeInstance(ctx, "orders-1")
	require.NoError(t, err)
	require.NoError(t, api.DeleteInstance(ctx, "orders-1", ""))
	require.NoError(t, errOf(awsclient.InstanceDeleted(api, oldMember.ResourceID).Until(ctx, fast)))
	err = api.DeleteCluster(ctx, "orders-old", "")
	requireKind(t, model.FailureInvalidParameter, err)
	_, err = api.ModifyCluster(ctx, "orders-old", model.ClusterSettings{}, []model.Setting{"DeletionProtection"})
	require.NoError(t, err)
	_, err = awsclient.ClusterAvailable(api, src.ResourceID, func(c *model.Cluster) bool {
		return model.IsClusterAvailable(c) && !c.Settings.DeletionProtection
	}).Until(ctx, fast)
	require.NoError(t, err)
	require.NoError(t, api.DeleteCluster(ctx, "orders-old", ""))
	require.NoError(t, errOf(awsclient.ClusterDeleted(api, src.ResourceID).Until(ctx, fast)))
	require.NoError(t, api.DeleteClusterSnapshot(ctx, "orders-plain"))
	require.NoError(t, errOf(awsclient.ClusterSnapshotDeleted(api, "orders-plain").Until(ctx, fast)))
	_, err = api.DescribeClusterSnapshot(ctx, "orders-plain")
	requireKind(t, model.FailureNotFound, err)
}

// TestListClusterEndpointsSkipsOneDeletedMeanwhile: an endpoint deleted between the
// DescribeDBClusterEndpoints page and the read of its tags is absent from the list, not an
// error. The tag read answers DBClusterEndpointNotFoundFault, as AWS does for a deleted one.
func TestListClusterEndpointsSkipsOneDeletedMeanwhile(t *testing.T) {
	e := startSim(t, awsclient.Config{})
	ctx := e.ctx(t)
	e.seedCluster(t, "orders")
	eps, err := e.api.ListClusterEndpoints(ctx, "orders")
	require.NoError(t, err)
	require.Len(t, eps, 1)

	require.NoError(t, e.h.Sim.InjectFailure(rdssim.CallFailure{Action: "ListTagsForResource", Nth: 1,
		Code: "DBClusterEndpointNotFoundFault", Message: "DBClusterEndpoint orders-ro not found."}))
	eps, err = e.api.ListClusterEndpoints(ctx, "orders")
	require.NoError(t, err)
	assert.Empty(t, eps)
}
