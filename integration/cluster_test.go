package integration

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/model"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/awsclient"
	"github.com/rdsencrypt/rdsencrypt/internal/rdssim"
	"github.com/rdsencrypt/rdsencrypt/internal/rdssim/simtest"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// auroraSource is a described Aurora cluster with its members and custom endpoints, as a test
// created it: what the migrated cluster must equal.
type auroraSource struct {
	cluster   *model.Cluster
	members   map[string]*model.Instance
	endpoints []model.ClusterEndpoint
}

// clusterMember is one member of a test cluster.
type clusterMember struct {
	id, class string
	tier      int32
	setup     func(*rds.CreateDBInstanceInput)
}

// createAuroraGroups creates the cluster and instance parameter groups and the subnet group of
// the full-settings cluster.
func (e *env) createAuroraGroups() {
	e.t.Helper()
	ctx := context.Background()
	_, err := e.rds.CreateDBClusterParameterGroup(ctx, &rds.CreateDBClusterParameterGroupInput{DBClusterParameterGroupName: aws.String("shop-cluster"),
		DBParameterGroupFamily: aws.String("aurora-mysql8.0"), Description: aws.String("shop")})
	require.NoError(e.t, err)
	_, err = e.rds.CreateDBParameterGroup(ctx, &rds.CreateDBParameterGroupInput{DBParameterGroupName: aws.String("shop-reader"),
		DBParameterGroupFamily: aws.String("aurora-mysql8.0"), Description: aws.String("shop readers")})
	require.NoError(e.t, err)
	_, err = e.rds.CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("shop-private"),
		DBSubnetGroupDescription: aws.String("shop"), SubnetIds: []string{"subnet-0a", "subnet-0b", "subnet-0c"}})
	require.NoError(e.t, err)
}

// fullSettingsCluster is an Aurora MySQL provisioned cluster with every cluster setting of
// docs/aws-behaviour.md#aurora-clusters given a non-default value.
func fullSettingsCluster(id string) *rds.CreateDBClusterInput {
	return &rds.CreateDBClusterInput{
		DBClusterIdentifier: aws.String(id), Engine: aws.String("aurora-mysql"),
		MasterUsername: aws.String("admin"), MasterUserPassword: aws.String("s3cret-Passw0rd-never-logged"),
		DBClusterParameterGroupName: aws.String("shop-cluster"), DBSubnetGroupName: aws.String("shop-private"),
		VpcSecurityGroupIds: []string{"sg-0aaa1111", "sg-0bbb2222"}, Port: aws.Int32(3307), DatabaseName: aws.String("shop"),
		BacktrackWindow: aws.Int64(86400), EnableIAMDatabaseAuthentication: aws.Bool(true),
		EnableCloudwatchLogsExports: []string{"audit", "error", "slowquery"}, DeletionProtection: aws.Bool(true),
		CopyTagsToSnapshot: aws.Bool(true), BackupRetentionPeriod: aws.Int32(14), PreferredBackupWindow: aws.String("03:00-03:30"),
		PreferredMaintenanceWindow: aws.String("sun:05:00-sun:05:30"), StorageType: aws.String("aurora-iopt1"),
		Tags: []rdstypes.Tag{{Key: aws.String("team"), Value: aws.String("shop")}, {Key: aws.String("env"), Value: aws.String("prod")}},
	}
}

// fullSettingsMembers are three members with different classes, tiers and settings.
func fullSettingsMembers(id, piKey string) []clusterMember {
	return []clusterMember{
		{id: id + "-writer", class: "db.r6g.xlarge", tier: 0, setup: func(in *rds.CreateDBInstanceInput) {
			in.EnablePerformanceInsights, in.PerformanceInsightsKMSKeyId = aws.Bool(true), aws.String(piKey)
			in.PerformanceInsightsRetentionPeriod = aws.Int32(31)
			in.MonitoringInterval, in.MonitoringRoleArn = aws.Int32(30), aws.String("arn:aws:iam::123456789012:role/rds-monitoring")
			in.PreferredMaintenanceWindow = aws.String("mon:06:00-mon:06:30")
			in.CACertificateIdentifier = aws.String("rds-ca-ecc384-g1")
			in.Tags = []rdstypes.Tag{{Key: aws.String("role"), Value: aws.String("writer")}}
		}},
		{id: id + "-reader-1", class: "db.r6g.large", tier: 1, setup: func(in *rds.CreateDBInstanceInput) {
			in.DBParameterGroupName = aws.String("shop-reader")
			in.AvailabilityZone = aws.String("us-east-1b")
			in.AutoMinorVersionUpgrade = aws.Bool(false)
		}},
		{id: id + "-reader-2", class: "db.r6g.2xlarge", tier: 7, setup: func(in *rds.CreateDBInstanceInput) {
			in.EnablePerformanceInsights = aws.Bool(true)
			in.PubliclyAccessible = aws.Bool(true)
		}},
	}
}

// createAurora creates a cluster, its members one by one (the first is the writer) and custom
// endpoints, moving the virtual clock until everything is available.
func (e *env) createAurora(in *rds.CreateDBClusterInput, members []clusterMember, endpoints ...*rds.CreateDBClusterEndpointInput) auroraSource {
	e.t.Helper()
	ctx := context.Background()
	_, err := e.rds.CreateDBCluster(ctx, in)
	requireCreated(e.t, err)
	e.h.Advance(time.Hour)
	for _, m := range members {
		mi := &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String(m.id), DBClusterIdentifier: in.DBClusterIdentifier,
			Engine: in.Engine, DBInstanceClass: aws.String(m.class), PromotionTier: aws.Int32(m.tier)}
		if m.setup != nil {
			m.setup(mi)
		}
		_, err := e.rds.CreateDBInstance(ctx, mi)
		requireCreated(e.t, err)
		e.h.Advance(time.Hour)
	}
	for _, ep := range endpoints {
		_, err := e.rds.CreateDBClusterEndpoint(ctx, ep)
		requireCreated(e.t, err)
	}
	e.h.Advance(time.Hour)
	return e.describeAurora(aws.ToString(in.DBClusterIdentifier))
}

// requireCreated accepts "already exists" from a create call of the test's setup: the SDK
// retries a call whose response was lost, and the retry meets the first attempt's resource.
func requireCreated(t testing.TB, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), "AlreadyExists") {
		return
	}
	require.NoError(t, err)
}

func (e *env) describeAurora(id string) auroraSource {
	e.t.Helper()
	ctx := context.Background()
	api := e.client.For(region)
	cl, err := api.DescribeCluster(ctx, id)
	require.NoError(e.t, err, "describe cluster %s", id)
	src := auroraSource{cluster: cl, members: map[string]*model.Instance{}}
	for _, m := range cl.Members {
		src.members[m.InstanceID] = e.describe(m.InstanceID)
	}
	src.endpoints, err = api.ListClusterEndpoints(ctx, id)
	require.NoError(e.t, err)
	return src
}

func (e *env) clusterIDs() []string {
	e.t.Helper()
	return listIDs(e.t, e.client.For(region).ListClusters, func(c model.Cluster) string { return c.ID })
}

func (e *env) clusterSnapshotIDs() []string {
	e.t.Helper()
	return listIDs(e.t, e.client.For(region).ListClusterSnapshots, func(s model.Snapshot) string { return s.ID })
}

// allEndpointIDs lists the custom endpoints of the region as "cluster/endpoint".
func (e *env) allEndpointIDs() []string {
	e.t.Helper()
	var out []string
	for _, c := range e.clusterIDs() {
		eps, err := e.client.For(region).ListClusterEndpoints(context.Background(), c)
		require.NoError(e.t, err)
		for _, ep := range eps {
			out = append(out, c+"/"+ep.ID)
		}
	}
	return out
}

// assertSameClusterSettings checks every compared cluster setting.
func assertSameClusterSettings(t *testing.T, want, got model.ClusterSettings, what string) {
	t.Helper()
	assertSameRoutes(t, model.ClusterSettingRoutes, want, got, what)
}

// memberSettingNames are the settings an Aurora member has of its own.
var memberSettingNames = []model.Setting{"DBInstanceClass", "DBParameterGroupName", "AvailabilityZone", "PubliclyAccessible",
	"AutoMinorVersionUpgrade", "MonitoringInterval", "MonitoringRoleArn", "PerformanceInsightsEnabled", "PerformanceInsightsKMSKeyID",
	"PerformanceInsightsRetentionPeriod", "PreferredMaintenanceWindow", "CACertificateIdentifier"}

// assertMigratedCluster checks the cluster now at src's name is a new, encrypted one equal to
// src in every setting, member, endpoint address and tag.
func assertMigratedCluster(t *testing.T, e *env, src auroraSource, key string) {
	t.Helper()
	got := e.describeAurora(src.cluster.ID)
	assert.NotEqual(t, src.cluster.ResourceID, got.cluster.ResourceID, "a new cluster answers at the old name")
	assert.True(t, got.cluster.Settings.StorageEncrypted)
	assert.Equal(t, key, got.cluster.Settings.KmsKeyID)
	assert.Equal(t, src.cluster.Endpoint, got.cluster.Endpoint, "writer endpoint")
	assert.Equal(t, src.cluster.ReaderEndpoint, got.cluster.ReaderEndpoint, "reader endpoint")
	assertSameClusterSettings(t, src.cluster.Settings, got.cluster.Settings, "new cluster")
	for k, v := range src.cluster.Tags {
		assert.Equal(t, v, got.cluster.Tags[k], "cluster tag %s", k)
	}
	assert.Equal(t, fixedID, got.cluster.Tags[model.TagMigrationID])
	assert.ElementsMatch(t, src.cluster.Members, got.cluster.Members, "same member names, writer and promotion tiers")
	for id, want := range src.members {
		m := got.members[id]
		require.NotNil(t, m, "member %s", id)
		assert.NotEqual(t, want.ResourceID, m.ResourceID, "member %s is new", id)
		assert.Equal(t, want.Endpoint, m.Endpoint, "member %s endpoint", id)
		assert.True(t, m.Settings.StorageEncrypted, "member %s encrypted", id)
		for _, s := range memberSettingNames {
			w, _ := model.SettingValue(want.Settings, s)
			g, _ := model.SettingValue(m.Settings, s)
			assert.Equal(t, w, g, "member %s: %s", id, s)
		}
		for k, v := range want.Tags {
			assert.Equal(t, v, m.Tags[k], "member %s tag %s", id, k)
		}
	}
	require.Len(t, got.endpoints, len(src.endpoints))
	for i, want := range src.endpoints {
		ep := got.endpoints[i]
		assert.Equal(t, want.ID, ep.ID)
		assert.Equal(t, want.Address, ep.Address, "custom endpoint address")
		assert.Equal(t, want.Type, ep.Type)
		assert.ElementsMatch(t, want.StaticMembers, ep.StaticMembers)
		assert.ElementsMatch(t, want.ExcludedMembers, ep.ExcludedMembers)
		for k, v := range want.Tags {
			if !strings.HasPrefix(k, "rdsencrypt:") {
				assert.Equal(t, v, ep.Tags[k], "custom endpoint %s tag %s", ep.ID, k)
			}
		}
	}
}

// assertRetiredCluster checks the source was only renamed: same resource, settings, members.
func assertRetiredCluster(t *testing.T, e *env, src auroraSource) {
	t.Helper()
	n := workflow.ClusterNamesFor(fixedID, src.cluster.ID)
	old := e.describeAurora(n.Retired)
	assert.Equal(t, src.cluster.ResourceID, old.cluster.ResourceID)
	assert.False(t, old.cluster.Settings.StorageEncrypted == true && src.cluster.Settings.StorageEncrypted == false)
	assertSameClusterSettings(t, src.cluster.Settings, old.cluster.Settings, "retired cluster")
	assert.Equal(t, src.cluster.Tags, old.cluster.Tags, "the source is never tagged")
	for id, want := range src.members {
		m := e.describe(n.MemberRetired(id))
		assert.Equal(t, want.ResourceID, m.ResourceID)
		assert.Equal(t, want.Tags, m.Tags)
	}
	assert.Empty(t, old.endpoints, "custom endpoints moved to the new cluster")
}

// assertNoOrphans checks exactly the expected resources exist after a completed migration.
func assertClusterEndState(t *testing.T, e *env, src auroraSource) {
	t.Helper()
	n := workflow.ClusterNamesFor(fixedID, src.cluster.ID)
	assert.ElementsMatch(t, []string{src.cluster.ID, n.Retired}, e.clusterIDs(), "no orphaned cluster")
	var insts []string
	for id := range src.members {
		insts = append(insts, id, n.MemberRetired(id))
	}
	assert.ElementsMatch(t, insts, e.instanceIDs(), "no orphaned instance")
	assert.ElementsMatch(t, []string{n.Snapshot}, e.clusterSnapshotIDs(), "no orphaned cluster snapshot")
	var eps []string
	for _, ep := range src.endpoints {
		eps = append(eps, src.cluster.ID+"/"+ep.ID)
	}
	assert.ElementsMatch(t, eps, e.allEndpointIDs(), "no orphaned custom endpoint")
}

// assertClusterRolledBack checks the account is as it was before the migration, but for the
// final snapshot of the new cluster when the rollback (its report rep) began after the cutover
// had started: the new cluster may have taken writes.
func assertClusterRolledBack(t *testing.T, e *env, src auroraSource, rep *workflow.Report) {
	t.Helper()
	got := e.describeAurora(src.cluster.ID)
	assert.Equal(t, src.cluster.ResourceID, got.cluster.ResourceID, "the source is back at its name")
	assert.Equal(t, src.cluster.Endpoint, got.cluster.Endpoint)
	assert.Equal(t, src.cluster.ReaderEndpoint, got.cluster.ReaderEndpoint)
	assert.Equal(t, src.cluster.Settings.StorageEncrypted, got.cluster.Settings.StorageEncrypted)
	assertSameClusterSettings(t, src.cluster.Settings, got.cluster.Settings, "source")
	assert.ElementsMatch(t, src.cluster.Members, got.cluster.Members)
	for id, want := range src.members {
		assert.Equal(t, want.ResourceID, got.members[id].ResourceID, "member %s", id)
		assert.Equal(t, want.Endpoint, got.members[id].Endpoint, "member %s", id)
	}
	require.Len(t, got.endpoints, len(src.endpoints))
	for i, want := range src.endpoints {
		assert.Equal(t, want.ID, got.endpoints[i].ID)
		assert.Equal(t, want.Address, got.endpoints[i].Address)
		assert.Equal(t, want.Type, got.endpoints[i].Type)
		assert.ElementsMatch(t, want.StaticMembers, got.endpoints[i].StaticMembers)
	}
	assert.Equal(t, []string{src.cluster.ID}, e.clusterIDs(), "every created cluster deleted")
	assert.ElementsMatch(t, slices.Collect(func(yield func(string) bool) {
		for id := range src.members {
			if !yield(id) {
				return
			}
		}
	}), e.instanceIDs(), "every created member deleted")
	if stepStatus(rep, workflow.StepRenameTarget) == workflow.StepPending {
		assert.Empty(t, e.clusterSnapshotIDs(), "every created snapshot deleted")
	} else {
		final := workflow.ClusterNamesFor(fixedID, src.cluster.ID).RollbackSnapshot
		assert.Equal(t, []string{final}, e.clusterSnapshotIDs(), "only the new cluster's final snapshot is left")
		snap, err := e.client.For(region).DescribeClusterSnapshot(context.Background(), final)
		require.NoError(t, err)
		assert.Equal(t, fixedID, snap.Tags[model.TagMigrationID])
		assert.Equal(t, workflow.RoleRollbackSnapshot, snap.Tags[model.TagRole])
		assert.Equal(t, src.cluster.ID, snap.Tags[model.TagSource])
	}
	var eps []string
	for _, ep := range src.endpoints {
		eps = append(eps, src.cluster.ID+"/"+ep.ID)
	}
	assert.ElementsMatch(t, eps, e.allEndpointIDs(), "no created endpoint left")
}

// assertClusterSourceOnlyRenamed checks invariant 1 for the source cluster and its members from
// the simulator's log: the only changes were creation, the snapshot, renames and (cluster)
// the endpoint deletion at cutover.
func assertClusterSourceOnlyRenamed(t *testing.T, e *env, src auroraSource) {
	t.Helper()
	rids := map[string]bool{src.cluster.ResourceID: true}
	for _, m := range src.members {
		rids[m.ResourceID] = true
	}
	for _, ev := range e.h.Events() {
		if !rids[ev.ResourceID] {
			continue
		}
		switch ev.Action {
		case "CreateDBCluster", "CreateDBInstance", "CreateDBClusterSnapshot", "AutomatedBackup":
		case "ModifyDBCluster", "ModifyDBInstance":
			assert.Contains(t, []string{"renaming", "rebooting", "available"}, ev.Status, "source %s modified: status %s", ev.ID, ev.Status)
		default:
			t.Errorf("source %s changed by %s (status %s)", ev.ID, ev.Action, ev.Status)
		}
	}
}

func shopCluster(e *env) auroraSource {
	e.t.Helper()
	e.createAuroraGroups()
	piKey := e.createKey("alias/pi")
	return e.createAurora(fullSettingsCluster("shop"), fullSettingsMembers("shop", piKey),
		&rds.CreateDBClusterEndpointInput{DBClusterEndpointIdentifier: aws.String("shop-analytics"), DBClusterIdentifier: aws.String("shop"),
			EndpointType: aws.String("READER"), StaticMembers: []string{"shop-reader-1", "shop-reader-2"},
			Tags: []rdstypes.Tag{{Key: aws.String("team"), Value: aws.String("analytics")}}})
}

func clusterRequest(source, key string) workflow.MigrateRequest {
	return workflow.MigrateRequest{Kind: workflow.KindCluster, Region: region, Source: source, KmsKey: key}
}

func TestMigrateClusterCarriesEverySetting(t *testing.T) {
	e := newEnv(t)
	key := e.createKey("alias/shop")
	src := shopCluster(e)
	require.False(t, src.cluster.Settings.StorageEncrypted)
	require.Len(t, src.members, 3)
	require.Len(t, src.endpoints, 1)

	eng := e.engine(fixedID, workflow.AutoApprove)
	rep, err := eng.Migrate(e.ctx(), clusterRequest("shop", "alias/shop"))
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusCompleted, rep.Status)
	assert.Equal(t, workflow.KindCluster, rep.Kind)
	assert.Empty(t, rep.Parity.Differences)
	assert.Greater(t, rep.DowntimeSeconds, 0.0)
	assertMigratedCluster(t, e, src, key)
	assertRetiredCluster(t, e, src)
	assertClusterEndState(t, e, src)
	assertClusterSourceOnlyRenamed(t, e, src)

	// Cleanup: refused without approval, then deletes the retired cluster with a final snapshot.
	_, err = e.engine("", workflow.RefuseApprover).Cleanup(e.ctx(), fixedID)
	require.Error(t, err)
	n := workflow.ClusterNamesFor(fixedID, "shop")
	assert.Contains(t, e.clusterIDs(), n.Retired)
	rep, err = eng.Cleanup(e.ctx(), fixedID)
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusCleanedUp, rep.Status)
	assert.Equal(t, []string{"shop"}, e.clusterIDs())
	assert.ElementsMatch(t, []string{"shop-writer", "shop-reader-1", "shop-reader-2"}, e.instanceIDs())
	assert.Equal(t, []string{n.FinalSnapshot}, e.clusterSnapshotIDs())
	final, err := e.client.For(region).DescribeClusterSnapshot(context.Background(), n.FinalSnapshot)
	require.NoError(t, err)
	assert.Equal(t, src.cluster.ResourceID, final.SourceResource, "the final snapshot is of the retired source")
	assert.Equal(t, workflow.RoleFinalSnapshot, final.Tags[model.TagRole])
	assertMigratedCluster(t, e, src, key)
	_, err = eng.Rollback(e.ctx(), fixedID)
	require.Error(t, err, "no rollback after cleanup")
}

func TestPlanClusterMakesNoMutatingCall(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/shop")
	shopCluster(e)
	before := e.h.Calls()
	plan, err := e.engine("", nil).Plan(e.ctx(), clusterRequest("shop", "alias/shop"))
	require.NoError(t, err)
	assertNoMutatingCalls(t, before, e.h.Calls())
	assert.Equal(t, workflow.KindCluster, plan.Kind)
	assert.Equal(t, workflow.ModeEncrypt, plan.Mode)
	var steps []string
	for _, s := range plan.Steps {
		steps = append(steps, s.Name)
	}
	assert.Equal(t, []string{"preflight", "freeze-writes", "snapshot", "restore", "modify",
		"member:shop-writer", "member:shop-reader-1", "member:shop-reader-2", "endpoint:shop-analytics",
		"parity-check", "cutover-retire-source", "cutover-promote-target", "cutover-endpoint:shop-analytics",
		"unfreeze-writes", "verify"}, steps, "writer first, then readers by promotion tier")
	via := map[string]string{}
	for _, s := range plan.Settings {
		via[s.Resource+"/"+s.Name] = s.Via
	}
	assert.Equal(t, "restore", via["shop/BacktrackWindow"])
	assert.Equal(t, "modify", via["shop/PreferredMaintenanceWindow"])
	assert.Equal(t, "create", via["shop-reader-1/DBParameterGroupName"])
}

func TestMigrateServerlessV2PostgresCluster(t *testing.T) {
	e := newEnv(t)
	key := e.createKey("alias/events")
	src := e.createAurora(&rds.CreateDBClusterInput{DBClusterIdentifier: aws.String("events"), Engine: aws.String("aurora-postgresql"),
		EngineVersion: aws.String("16.6"), MasterUsername: aws.String("postgres"), MasterUserPassword: aws.String("another-s3cret-never-logged"),
		ServerlessV2ScalingConfiguration: &rdstypes.ServerlessV2ScalingConfiguration{MinCapacity: aws.Float64(0.5), MaxCapacity: aws.Float64(16)},
		EnableCloudwatchLogsExports:      []string{"postgresql"}, BackupRetentionPeriod: aws.Int32(7),
		Tags: []rdstypes.Tag{{Key: aws.String("app"), Value: aws.String("events")}}},
		[]clusterMember{{id: "events-1", class: "db.serverless", tier: 0}, {id: "events-2", class: "db.serverless", tier: 1}})
	require.Equal(t, 16.0, src.cluster.Settings.ServerlessV2MaxCapacity)

	rep, err := e.engine(fixedID, workflow.AutoApprove).Migrate(e.ctx(), clusterRequest("events", key))
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusCompleted, rep.Status)
	assertMigratedCluster(t, e, src, key)
	assertClusterEndState(t, e, src)
}

func TestMigrateRekeysAnEncryptedCluster(t *testing.T) {
	e := newEnv(t)
	oldKey := e.createKey("alias/old")
	newKey := e.createKey("alias/new")
	in := fullSettingsCluster("shop")
	in.DBClusterParameterGroupName, in.DBSubnetGroupName = nil, nil
	in.StorageEncrypted, in.KmsKeyId = aws.Bool(true), aws.String(oldKey)
	src := e.createAurora(in, []clusterMember{{id: "shop-1", class: "db.r6g.large", tier: 1}})

	eng := e.engine(fixedID, workflow.AutoApprove)
	plan, err := eng.Plan(e.ctx(), clusterRequest("shop", newKey))
	require.NoError(t, err)
	assert.Equal(t, workflow.ModeRekey, plan.Mode)
	rep, err := eng.Migrate(e.ctx(), clusterRequest("shop", newKey))
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusCompleted, rep.Status)
	src.cluster.Settings.KmsKeyID = newKey // the one setting that must change
	assertMigratedCluster(t, e, src, newKey)

	before := e.h.Calls()
	rep, err = e.engine("", workflow.AutoApprove).Migrate(e.ctx(), clusterRequest("shop", newKey))
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusNothingToDo, rep.Status, "already encrypted with the key")
	assertNoMutatingCalls(t, before, e.h.Calls())
}

// newManualEnv is newEnv on a virtual clock that only Advance moves: a resource left
// "creating" stays so.
func newManualEnv(t *testing.T) *env {
	t.Helper()
	h := simtest.Start(t, rdssim.Options{ManualClock: true})
	store, err := workflow.OpenStore(t.TempDir())
	require.NoError(t, err)
	client := awsclient.NewForSimulator(awsclient.Config{Region: region, EndpointURL: h.URL, MaxBackoff: 5 * time.Millisecond})
	return &env{t: t, h: h, rds: h.RDS(region), kms: h.KMS(region), client: client, store: store}
}

func TestMigrateClusterRefusals(t *testing.T) {
	e := newManualEnv(t)
	e.createKey("alias/k")
	base := func(id string) *rds.CreateDBClusterInput {
		return &rds.CreateDBClusterInput{DBClusterIdentifier: aws.String(id), Engine: aws.String("aurora-mysql"),
			MasterUsername: aws.String("admin"), MasterUserPassword: aws.String("s3cret-Passw0rd")}
	}
	global := base("in-global")
	global.GlobalClusterIdentifier = aws.String("shop-global")
	e.createAurora(global, nil)
	primary := e.createAurora(base("primary"), nil)
	west := e.h.RDS(otherRegion)
	_, err := west.CreateDBCluster(context.Background(), &rds.CreateDBClusterInput{DBClusterIdentifier: aws.String("replica"),
		Engine: aws.String("aurora-mysql"), ReplicationSourceIdentifier: aws.String(primary.cluster.ARN), SourceRegion: aws.String(region)})
	require.NoError(t, err)
	e.h.Advance(time.Hour)
	createKeyIn(t, e.h.KMS(otherRegion), "alias/k")
	e.createInstance(simpleSource("ledger"))
	_, err = e.rds.CreateDBCluster(context.Background(), base("busy"))
	require.NoError(t, err) // still creating

	cases := []struct {
		name, region, cluster, want, next string
	}{
		{"global database", region, "in-global", "belongs to global database shop-global", "RemoveFromGlobalCluster"},
		{"cross-region replica", otherRegion, "replica", "is a cross-region read replica of " + primary.cluster.ARN, "migrate its source cluster"},
		{"unknown cluster", region, "nope", `DB cluster "nope" not found in us-east-1`, "rdsencrypt scan"},
		{"an instance, not a cluster", region, "ledger", `DB cluster "ledger" not found`, "rdsencrypt migrate --db ledger"},
		{"not available", region, "busy", `is "creating", not available`, "wait until it is available"},
		{"missing key", region, "primary", "KMS key alias/missing not found", "list-aliases"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.h.Calls()
			key := "alias/k"
			if c.name == "missing key" {
				key = "alias/missing"
			}
			req := clusterRequest(c.cluster, key)
			req.Region = c.region
			_, err := e.engine("", workflow.AutoApprove).Migrate(e.ctx(), req)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.Contains(t, workflow.NextOf(err), c.next)
			assert.NotContains(t, err.Error(), "\n")
			assertNoMutatingCalls(t, before, e.h.Calls())
		})
	}
	states, _, err := e.store.List()
	require.NoError(t, err)
	assert.Empty(t, states, "a refused migration leaves no journal")
}

func TestMigrateClusterRefusesATakenName(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/k")
	src := e.createAurora(&rds.CreateDBClusterInput{DBClusterIdentifier: aws.String("shop"), Engine: aws.String("aurora-mysql"),
		MasterUsername: aws.String("admin"), MasterUserPassword: aws.String("s3cret-Passw0rd")},
		[]clusterMember{{id: "shop-1", class: "db.r6g.large", tier: 1}})
	e.createInstance(simpleSource(workflow.ClusterNamesFor(fixedID, "shop").MemberRetired("shop-1")))
	_, err := e.engine(fixedID, workflow.AutoApprove).Migrate(e.ctx(), clusterRequest("shop", "alias/k"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is taken")
	assert.Equal(t, src.cluster.ResourceID, e.describeAurora("shop").cluster.ResourceID)
}

func TestClusterJournalLostIsRebuiltFromTags(t *testing.T) {
	for _, after := range []string{workflow.StepRestore, "member:shop-writer", "endpoint:shop-analytics", workflow.StepRenameSource, workflow.StepRenameTarget} {
		t.Run(after, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			key := e.createKey("alias/shop")
			src := shopCluster(e)
			eng := e.engine(fixedID, workflow.AutoApprove)
			ctx := e.cancelAt(eng, func(ev workflow.Event) bool { return ev.Type == workflow.EventStepDone && ev.Step == after })
			_, err := eng.Migrate(ctx, clusterRequest("shop", "alias/shop"))
			require.ErrorIs(t, err, workflow.ErrStopped)
			require.NoError(t, os.Remove(filepath.Join(e.store.Dir(), fixedID+".json")))

			id, err := eng.Rebuild(e.ctx(), workflow.KindCluster, region, "shop")
			require.NoError(t, err)
			assert.Equal(t, fixedID, id)
			rep, err := eng.Resume(e.ctx(), id)
			require.NoError(t, err)
			assert.Equal(t, workflow.StatusCompleted, rep.Status)
			assertMigratedCluster(t, e, src, key)
			assertClusterEndState(t, e, src)
		})
	}
}

// A cluster migration's journal lost after the cutover and rebuilt from tags records the
// cutover: the rollback asks to stop writes and deletes the encrypted cluster with its final
// snapshot (review V15, as TestJournalLostAfterTheCutoverRollsBackWithTheFinalSnapshot for an
// instance: the encrypted cluster was deleted with no snapshot).
func TestClusterJournalLostAfterTheCutoverRollsBackWithTheFinalSnapshot(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/k")
	src := smallCluster(e)
	eng := e.engine(fixedID, workflow.AutoApprove)
	ctx := e.cancelAt(eng, func(ev workflow.Event) bool {
		return ev.Type == workflow.EventStepDone && ev.Step == workflow.StepUnfreeze
	})
	_, err := eng.Migrate(ctx, clusterRequest("shop", "alias/k"))
	require.ErrorIs(t, err, workflow.ErrStopped)
	encrypted := e.describeAurora("shop").cluster
	require.True(t, encrypted.Settings.StorageEncrypted, "the cutover is made: the encrypted cluster has the name")
	require.NoError(t, os.Remove(filepath.Join(e.store.Dir(), fixedID+".json")))

	got, err := eng.Rebuild(e.ctx(), workflow.KindCluster, region, "shop")
	require.NoError(t, err)
	require.Equal(t, fixedID, got)
	var asked approvals
	rep, err := e.engine(fixedID, asked.approver()).Rollback(e.ctx(), fixedID)
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusRolledBack, rep.Status)

	final := workflow.ClusterNamesFor(fixedID, "shop").RollbackSnapshot
	a := asked.of("rollback")
	assert.True(t, a.Downtime)
	assert.Contains(t, strings.Join(a.Instructions, "\n"), "Stop writes to shop first")
	assert.Contains(t, strings.Join(a.Details, "\n"), final)
	assert.Equal(t, []string{final}, e.clusterSnapshotIDs(), "the encrypted cluster's final snapshot, nothing else")
	snap, err := e.client.For(region).DescribeClusterSnapshot(context.Background(), final)
	require.NoError(t, err)
	assert.Equal(t, encrypted.ResourceID, snap.SourceResource)
	assert.Equal(t, fixedID, snap.Tags[model.TagMigrationID])
	assert.Equal(t, workflow.RoleRollbackSnapshot, snap.Tags[model.TagRole])
	assert.Equal(t, []string{"shop"}, e.clusterIDs())
	assert.Equal(t, src.cluster.ResourceID, e.describeAurora("shop").cluster.ResourceID, "the unencrypted source is back at its name")
}

// A cluster migrated once keeps that migration's tags (role target on the cluster and its
// members, its id); the journal of a later migration of the same name (a rekey) is still
// rebuilt, for the later id: stopped after its restore, and again after its cutover, when the
// first migration's cluster sits at the later one's retired name (review T9, as
// TestJournalLostIsRebuiltAfterAFinishedMigrationOfTheName for an instance).
func TestClusterJournalLostIsRebuiltAfterAFinishedMigrationOfTheName(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/k")
	newKey := e.createKey("alias/k2")
	smallCluster(e)
	first := e.engine(fixedID, workflow.AutoApprove)
	_, err := first.Migrate(e.ctx(), clusterRequest("shop", "alias/k"))
	require.NoError(t, err)
	_, err = first.Cleanup(e.ctx(), fixedID)
	require.NoError(t, err)
	require.Equal(t, fixedID, e.describeAurora("shop").cluster.Tags[model.TagMigrationID], "the finished migration's tags stay")

	const laterID = "4e5f6a7b"
	resumeRebuiltAfterRestore(t, e, laterID, clusterRequest("shop", newKey))
	assert.Equal(t, newKey, e.describeAurora("shop").cluster.Settings.KmsKeyID)
	assert.ElementsMatch(t, []string{"shop", workflow.ClusterNamesFor(laterID, "shop").Retired}, e.clusterIDs())

	require.NoError(t, os.Remove(filepath.Join(e.store.Dir(), laterID+".json")))
	got, err := e.engine(laterID, workflow.AutoApprove).Rebuild(e.ctx(), workflow.KindCluster, region, "shop")
	require.NoError(t, err)
	assert.Equal(t, laterID, got)
	later := e.engine(laterID, workflow.AutoApprove)
	rep, err := later.Resume(e.ctx(), laterID)
	require.NoError(t, err)
	require.Equal(t, workflow.StatusCompleted, rep.Status)
	rep, err = later.Cleanup(e.ctx(), laterID)
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusCleanedUp, rep.Status)
	assert.Equal(t, []string{"shop"}, e.clusterIDs())
}

// clusterStopPoints are the instants a cluster migration is interrupted at: after each step,
// and in the middle of each mutating step, right after its first side effect (the first
// successful mutating AWS call), before the step's waits end.
func clusterStopPoints(t *testing.T) []stopPoint {
	e := newEnv(t)
	e.createKey("alias/shop")
	smallCluster(e)
	plan, err := e.engine("", nil).Plan(e.ctx(), clusterRequest("shop", "alias/shop"))
	require.NoError(t, err)
	var out []stopPoint
	for _, s := range plan.Steps {
		step := s.Name
		out = append(out, stopPoint{"after-" + step, func(ev workflow.Event) bool { return ev.Type == workflow.EventStepDone && ev.Step == step }})
		if s.Mutating && step != workflow.StepFreeze && step != workflow.StepUnfreeze {
			out = append(out, stopPoint{"during-" + step, func(ev workflow.Event) bool {
				return ev.Type == workflow.EventAPICall && ev.Step == step && ev.Call != nil && ev.Call.Error == "" && !isReadOnly(ev.Call.Action)
			}})
		}
	}
	return out
}

type stopPoint struct {
	name string
	stop func(workflow.Event) bool
}

// TestClusterCrashPointsResume stops a migration of a two-member cluster with a custom
// endpoint at every step boundary and right after every side effect, resumes it, and checks
// the end state equals an uninterrupted run's, with nothing orphaned.
func TestClusterCrashPointsResume(t *testing.T) {
	for _, p := range clusterStopPoints(t) {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			key := e.createKey("alias/shop")
			src := smallCluster(e)
			eng := e.engine(fixedID, workflow.AutoApprove)
			stopped := false
			ctx := e.cancelAt(eng, func(ev workflow.Event) bool {
				stopped = stopped || p.stop(ev)
				return p.stop(ev)
			})
			rep, err := eng.Migrate(ctx, clusterRequest("shop", "alias/shop"))
			require.True(t, stopped, "the stop point %s was reached", p.name)
			if p.name == "after-"+workflow.StepVerify {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, workflow.ErrStopped, "stopped at %s", p.name)
				assert.Equal(t, workflow.StatusPaused, rep.Status)
				rep, err = e.engine("", workflow.AutoApprove).Resume(e.ctx(), fixedID)
				require.NoError(t, err)
			}
			assert.Equal(t, workflow.StatusCompleted, rep.Status)
			assertMigratedCluster(t, e, src, key)
			assertRetiredCluster(t, e, src)
			assertClusterEndState(t, e, src)
			assertClusterSourceOnlyRenamed(t, e, src)
		})
	}
}

// TestClusterCrashPointsRollback stops a cluster migration at every point before cleanup and
// rolls it back: the account must be as it was before.
func TestClusterCrashPointsRollback(t *testing.T) {
	for _, p := range clusterStopPoints(t) {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.createKey("alias/shop")
			src := smallCluster(e)
			eng := e.engine(fixedID, workflow.AutoApprove)
			stopped := false
			_, _ = eng.Migrate(e.cancelAt(eng, func(ev workflow.Event) bool {
				stopped = stopped || p.stop(ev)
				return p.stop(ev)
			}), clusterRequest("shop", "alias/shop"))
			require.True(t, stopped, "the stop point %s was reached", p.name)

			rep, err := e.engine("", workflow.AutoApprove).Rollback(e.ctx(), fixedID)
			require.NoError(t, err)
			assert.Equal(t, workflow.StatusRolledBack, rep.Status)
			assertClusterRolledBack(t, e, src, rep)
		})
	}
}

// TestClusterRollbackIsResumable interrupts a rollback after cutover again and again.
func TestClusterRollbackIsResumable(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/shop")
	src := shopCluster(e)
	_, err := e.engine(fixedID, workflow.AutoApprove).Migrate(e.ctx(), clusterRequest("shop", "alias/shop"))
	require.NoError(t, err)
	var rep *workflow.Report
	for i := 1; ; i++ {
		rb := e.engine("", workflow.AutoApprove)
		n := 0
		ctx := e.cancelAt(rb, func(ev workflow.Event) bool {
			if ev.Type == workflow.EventStepProgress {
				n++
			}
			return n == 4*i
		})
		var err error
		rep, err = rb.Rollback(ctx, fixedID)
		if err == nil {
			assert.Equal(t, workflow.StatusRolledBack, rep.Status)
			break
		}
		require.Less(t, i, 60, "rollback did not converge: %v", err)
	}
	assertClusterRolledBack(t, e, src, rep)
}

func smallCluster(e *env) auroraSource {
	e.t.Helper()
	return e.createAurora(&rds.CreateDBClusterInput{DBClusterIdentifier: aws.String("shop"), Engine: aws.String("aurora-mysql"),
		MasterUsername: aws.String("admin"), MasterUserPassword: aws.String("s3cret-Passw0rd"), DeletionProtection: aws.Bool(true)},
		[]clusterMember{{id: "shop-1", class: "db.r6g.large", tier: 0}, {id: "shop-2", class: "db.r6g.large", tier: 1}},
		&rds.CreateDBClusterEndpointInput{DBClusterEndpointIdentifier: aws.String("shop-any"), DBClusterIdentifier: aws.String("shop"),
			EndpointType: aws.String("ANY"), ExcludedMembers: []string{"shop-1"}})
}

func TestFailedClusterSnapshotIsRetakenOnResume(t *testing.T) {
	e := newEnv(t)
	key := e.createKey("alias/k")
	src := smallCluster(e)
	n := workflow.ClusterNamesFor(fixedID, "shop")
	e.h.Faults(rdssim.FaultRequest{FailSnapshot: []rdssim.ResourceRef{{Region: region, ID: n.Snapshot}}})
	eng := e.engine(fixedID, workflow.AutoApprove)
	rep, err := eng.Migrate(e.ctx(), clusterRequest("shop", "alias/k"))
	require.Error(t, err)
	assert.Equal(t, workflow.StatusFailed, rep.Status)
	assert.Contains(t, err.Error(), n.Snapshot)
	assert.Contains(t, workflow.NextOf(err), "rdsencrypt resume "+fixedID)

	rep, err = eng.Resume(e.ctx(), fixedID)
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusCompleted, rep.Status)
	assertMigratedCluster(t, e, src, key)
	assertClusterEndState(t, e, src)
}

func TestIncompatibleClusterRestoreIsReplacedOnResume(t *testing.T) {
	e := newEnv(t)
	key := e.createKey("alias/k")
	src := smallCluster(e)
	n := workflow.ClusterNamesFor(fixedID, "shop")
	e.h.Faults(rdssim.FaultRequest{FailRestore: []rdssim.ResourceRef{{Region: region, ID: n.Target}}})
	eng := e.engine(fixedID, workflow.AutoApprove)
	_, err := eng.Migrate(e.ctx(), clusterRequest("shop", "alias/k"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "incompatible-restore")

	rep, err := eng.Resume(e.ctx(), fixedID)
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusCompleted, rep.Status)
	assertMigratedCluster(t, e, src, key)
	assertClusterEndState(t, e, src)
}

func TestClusterParityDifferenceStopsBeforeCutover(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/k")
	src := smallCluster(e)
	eng := e.engine(fixedID, workflow.AutoApprove)
	// Change a new member behind the tool's back once every member exists, so parity differs.
	n := workflow.ClusterNamesFor(fixedID, "shop")
	var once bool
	prev := eng.Observer
	eng.Observer = workflow.ObserverFunc(func(ev workflow.Event) {
		prev.Notify(ev)
		if ev.Type == workflow.EventStepDone && ev.Step == "member:shop-2" && !once {
			once = true
			_, err := e.client.For(region).ModifyInstance(context.Background(), n.MemberTarget("shop-2"),
				model.InstanceSettings{PreferredMaintenanceWindow: "mon:01:00-mon:01:30"}, []model.Setting{"PreferredMaintenanceWindow"})
			require.NoError(t, err)
			e.h.Advance(10 * time.Minute)
		}
	})
	rep, err := eng.Migrate(e.ctx(), clusterRequest("shop", "alias/k"))
	require.ErrorIs(t, err, workflow.ErrStopped)
	require.Len(t, rep.Parity.Differences, 1)
	assert.Equal(t, workflow.Difference{Resource: "shop-2", Setting: "PreferredMaintenanceWindow",
		Source: src.members["shop-2"].Settings.PreferredMaintenanceWindow, Target: "mon:01:00-mon:01:30"}, rep.Parity.Differences[0])
	assert.Equal(t, workflow.StepPending, stepStatus(rep, workflow.StepRenameSource), "cutover did not start")
	assert.Equal(t, src.cluster.ResourceID, e.describeAurora("shop").cluster.ResourceID)

	rep, err = eng.Rollback(e.ctx(), fixedID)
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusRolledBack, rep.Status)
	assertClusterRolledBack(t, e, src, rep)
}

// TestClusterRollbackAfterCutoverKeepsTheNewClusterInASnapshot: a rollback after cutover
// deletes the new cluster only with a final cluster snapshot tagged as the migration's, and
// its approval says so.
func TestClusterRollbackAfterCutoverKeepsTheNewClusterInASnapshot(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/k")
	src := smallCluster(e)
	_, err := e.engine(fixedID, workflow.AutoApprove).Migrate(e.ctx(), clusterRequest("shop", "alias/k"))
	require.NoError(t, err)

	var asked []workflow.Approval
	rep, err := e.engine("", workflow.ApproverFunc(func(_ context.Context, a workflow.Approval) (workflow.Decision, error) {
		asked = append(asked, a)
		return workflow.Approve, nil
	})).Rollback(e.ctx(), fixedID)
	require.NoError(t, err)
	require.Len(t, asked, 1)
	final := workflow.ClusterNamesFor(fixedID, "shop").RollbackSnapshot
	assert.Contains(t, strings.Join(asked[0].Details, "\n"), "final snapshot "+final, "the approval names the snapshot kept")
	assertClusterRolledBack(t, e, src, rep)
	snap, err := e.client.For(region).DescribeClusterSnapshot(context.Background(), final)
	require.NoError(t, err)
	assert.True(t, snap.Encrypted, "the encrypted cluster's data")
}

// TestKeyDisabledDuringClusterRestoreNamesTheKey: AWS only says the new cluster failed; the
// error says the key became inaccessible and how to go on.
func TestKeyDisabledDuringClusterRestoreNamesTheKey(t *testing.T) {
	e := newEnv(t)
	key := e.createKey("alias/k")
	smallCluster(e)
	// The simulator disables the key a minute (AWS clock) after it accepts the restore into it:
	// the key goes away under the restore whatever the machine's load.
	e.h.Faults(rdssim.FaultRequest{DisableKeys: []rdssim.KeyDisableAt{{Region: region, KeyID: key, AfterSeconds: 60, OnRestore: true}}})
	_, err := e.engine(fixedID, workflow.AutoApprove).Migrate(e.ctx(), clusterRequest("shop", "alias/k"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "KMS key "+key+" became inaccessible (Disabled) while the encrypted cluster")
	assert.Contains(t, workflow.NextOf(err), "aws kms enable-key --key-id "+key)
}
