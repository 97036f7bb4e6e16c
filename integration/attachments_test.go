package integration

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/rdssim"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// Issue 13 item 9: what names the source and stays with it when the cutover retires it.

const s3ImportRole = "arn:aws:iam::123456789012:role/ledger-s3-import"

func (e *env) subscribe(name string, ids ...string) {
	e.t.Helper()
	_, err := e.rds.CreateEventSubscription(context.Background(), &rds.CreateEventSubscriptionInput{SubscriptionName: aws.String(name),
		SnsTopicArn: aws.String("arn:aws:sns:us-east-1:123456789012:ops"), SourceType: aws.String("db-instance"), SourceIds: ids})
	require.NoError(e.t, err)
}

func (e *env) subscriptionSources(name string) []string {
	e.t.Helper()
	out, err := e.rds.DescribeEventSubscriptions(context.Background(), &rds.DescribeEventSubscriptionsInput{SubscriptionName: aws.String(name)})
	require.NoError(e.t, err)
	return out.EventSubscriptionsList[0].SourceIdsList
}

// The source's IAM roles reach the new instance (add-roles step, parity compares them), and
// an event subscription naming it still names it after cutover.
func TestRolesAndEventSubscriptionsFollowTheMigration(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/ledger")
	e.createInstance(simpleSource("ledger"))
	_, err := e.rds.AddRoleToDBInstance(context.Background(), &rds.AddRoleToDBInstanceInput{DBInstanceIdentifier: aws.String("ledger"),
		RoleArn: aws.String(s3ImportRole), FeatureName: aws.String("s3Import")})
	require.NoError(t, err)
	e.subscribe("ops", "ledger")

	plan, err := e.engine("", workflow.AutoApprove).Plan(e.ctx(), workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/ledger"})
	require.NoError(t, err)
	assert.Contains(t, stepNames(plan), workflow.StepAddRoles)
	assert.Equal(t, []string{"ops"}, plan.EventSubscriptions)

	rep, err := e.engine(fixedID, workflow.AutoApprove).Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/ledger"})
	require.NoError(t, err)
	assert.Empty(t, rep.Parity.Differences)
	got := e.describe("ledger")
	assert.True(t, got.Settings.StorageEncrypted)
	assert.Equal(t, []string{"s3Import=" + s3ImportRole}, got.Settings.AssociatedRoles)
	assert.Equal(t, []string{"ledger"}, e.subscriptionSources("ops"))
}

// A read replica's IAM roles reach its replacement too (replica-add-roles step), in either
// replica order, and its parity then finds no difference to accept.
func TestReplicaRolesFollowTheMigration(t *testing.T) {
	for _, order := range []string{workflow.ReplicasAfterCutover, workflow.ReplicasBeforeCutover} {
		t.Run(order, func(t *testing.T) {
			e := newEnv(t)
			e.createKey("alias/ledger")
			e.createInstance(simpleSource("ledger"))
			_, err := e.rds.CreateDBInstanceReadReplica(context.Background(), &rds.CreateDBInstanceReadReplicaInput{
				DBInstanceIdentifier: aws.String("ledger-r1"), SourceDBInstanceIdentifier: aws.String("ledger")})
			require.NoError(t, err)
			e.h.Advance(2 * time.Hour)
			_, err = e.rds.AddRoleToDBInstance(context.Background(), &rds.AddRoleToDBInstanceInput{DBInstanceIdentifier: aws.String("ledger-r1"),
				RoleArn: aws.String(s3ImportRole), FeatureName: aws.String("s3Import")})
			require.NoError(t, err)
			req := workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/ledger", Options: workflow.RunOptions{Replicas: order}}

			plan, err := e.engine("", workflow.AutoApprove).Plan(e.ctx(), req)
			require.NoError(t, err)
			steps := stepNames(plan)
			assert.Contains(t, steps, workflow.StepReplicaRoles+":"+region+"/ledger-r1")
			assert.NotContains(t, steps, workflow.StepAddRoles, "the primary has no roles")

			var asked []string
			approve := workflow.ApproverFunc(func(ctx context.Context, a workflow.Approval) (workflow.Decision, error) {
				asked = append(asked, a.Details...)
				return workflow.AutoApprove.Approve(ctx, a)
			})
			rep, err := e.engine(fixedID, approve).Migrate(e.ctx(), req)
			require.NoError(t, err)
			assert.Empty(t, rep.Parity.Differences)
			for _, d := range asked {
				assert.NotContains(t, d, "AssociatedRoles", "no approval asks about the roles")
			}
			got := e.describe("ledger-r1")
			assert.True(t, got.Settings.StorageEncrypted)
			assert.Equal(t, []string{"s3Import=" + s3ImportRole}, got.Settings.AssociatedRoles)
		})
	}
}

// Should AWS move a subscription's source identifier with the renamed source, verify puts
// the name back and takes the retired name out.
func TestVerifyPutsAnEventSubscriptionBack(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/ledger")
	e.createInstance(simpleSource("ledger"))
	e.subscribe("ops", "ledger")
	retired := workflow.NamesFor(fixedID, "ledger").Retired
	moved := false
	approve := workflow.ApproverFunc(func(ctx context.Context, a workflow.Approval) (workflow.Decision, error) {
		if a.Step == workflow.StepUnfreeze && !moved { // the cutover is done: both names have moved
			moved = true
			_, err := e.rds.RemoveSourceIdentifierFromSubscription(ctx, &rds.RemoveSourceIdentifierFromSubscriptionInput{
				SubscriptionName: aws.String("ops"), SourceIdentifier: aws.String("ledger")})
			require.NoError(t, err)
			_, err = e.rds.AddSourceIdentifierToSubscription(ctx, &rds.AddSourceIdentifierToSubscriptionInput{
				SubscriptionName: aws.String("ops"), SourceIdentifier: aws.String(retired)})
			require.NoError(t, err)
		}
		return workflow.AutoApprove.Approve(ctx, a)
	})
	_, err := e.engine(fixedID, approve).Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/ledger"})
	require.NoError(t, err)
	require.True(t, moved)
	assert.Equal(t, []string{"ledger"}, e.subscriptionSources("ops"))
}

// Attachments the migration does not move are refused at preflight, before any side effect,
// each named with the command to run.
func TestPreflightRefusesAttachmentsThatStayWithTheSource(t *testing.T) {
	cases := []struct {
		attach rdssim.Attachment
		says   []string
	}{
		{rdssim.Attachment{Kind: rdssim.AttachProxy, Source: "ledger", Name: "app-proxy"},
			[]string{"RDS Proxy app-proxy", "aws rds deregister-db-proxy-targets --db-proxy-name app-proxy --db-instance-identifiers ledger"}},
		{rdssim.Attachment{Kind: rdssim.AttachIntegration, Source: "ledger", Name: "to-redshift"},
			[]string{"zero-ETL integration to-redshift", "aws rds delete-integration --integration-identifier to-redshift"}},
		{rdssim.Attachment{Kind: rdssim.AttachBlueGreen, Source: "ledger", Name: "upgrade"},
			[]string{"blue/green deployment bgd-", "aws rds delete-blue-green-deployment"}},
		{rdssim.Attachment{Kind: rdssim.AttachActivityStream, Source: "ledger"},
			[]string{"database activity stream (started)", "aws rds stop-activity-stream --resource-arn arn:aws:rds:us-east-1:"}},
		{rdssim.Attachment{Kind: rdssim.AttachBackupReplication, Source: "ledger", Name: otherRegion},
			[]string{"automated backups replicated to " + otherRegion, "aws rds stop-db-instance-automated-backups-replication --region " + otherRegion}},
		{rdssim.Attachment{Kind: rdssim.AttachAuroraReplica, Source: "ledger", Name: "analytics"},
			[]string{"Aurora read replica cluster analytics in " + region, "aws rds promote-read-replica-db-cluster --region " + region + " --db-cluster-identifier analytics"}},
	}
	for _, tc := range cases {
		t.Run(tc.attach.Kind, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.createKey("alias/ledger")
			e.createInstance(simpleSource("ledger"))
			e.h.Attach(region, tc.attach)
			before := e.h.Calls()
			eng := e.engine(fixedID, workflow.AutoApprove)
			req := workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/ledger"}
			_, perr := eng.Plan(e.ctx(), req)
			require.Error(t, perr, "plan shows the refusal too")
			_, err := eng.Migrate(e.ctx(), req)
			require.Error(t, err)
			for _, s := range tc.says {
				assert.Contains(t, err.Error(), s)
			}
			assert.Contains(t, workflow.NextOf(err), "rdsencrypt plan --db ledger --kms-key alias/ledger")
			assert.NotContains(t, err.Error(), "\n")
			assertNoMutatingCalls(t, before, e.h.Calls())
		})
	}
}

// An Aurora cluster with an RDS Proxy is refused like an instance; its IAM roles are carried
// by the restore and compared by parity.
func TestClusterAttachments(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/shop")
	shopCluster(e)
	_, err := e.rds.AddRoleToDBCluster(context.Background(), &rds.AddRoleToDBClusterInput{DBClusterIdentifier: aws.String("shop"),
		RoleArn: aws.String(s3ImportRole)})
	require.NoError(t, err)
	e.h.Attach(region, rdssim.Attachment{Kind: rdssim.AttachProxy, Source: "shop", Cluster: true, Name: "shop-proxy"})
	before := e.h.Calls()
	_, err = e.engine(fixedID, workflow.AutoApprove).Migrate(e.ctx(), clusterRequest("shop", "alias/shop"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "RDS Proxy shop-proxy")
	assert.Contains(t, err.Error(), "--db-cluster-identifiers shop")
	assertNoMutatingCalls(t, before, e.h.Calls())

	e2 := newEnv(t)
	e2.createKey("alias/shop")
	shopCluster(e2)
	_, err = e2.rds.AddRoleToDBCluster(context.Background(), &rds.AddRoleToDBClusterInput{DBClusterIdentifier: aws.String("shop"),
		RoleArn: aws.String(s3ImportRole), FeatureName: aws.String("s3Import")})
	require.NoError(t, err)
	rep, err := e2.engine(fixedID, workflow.AutoApprove).Migrate(e2.ctx(), clusterRequest("shop", "alias/shop"))
	require.NoError(t, err)
	assert.Empty(t, rep.Parity.Differences)
	cl, err := e2.client.For(region).DescribeCluster(context.Background(), "shop")
	require.NoError(t, err)
	assert.True(t, cl.Settings.StorageEncrypted)
	assert.Equal(t, []string{"s3Import=" + s3ImportRole}, cl.Settings.AssociatedRoles)
}

// TestClusterAttachmentsThatStayWithTheSource: besides an RDS Proxy, a zero-ETL integration,
// a blue/green deployment, a started activity stream and a cross-region Aurora replica
// cluster stay with the source cluster when the cutover retires it: each is refused at
// preflight, before any side effect, with the command that detaches it.
func TestClusterAttachmentsThatStayWithTheSource(t *testing.T) {
	cases := []struct {
		name   string
		attach func(e *env, src auroraSource)
		says   []string
	}{
		{"integration", func(e *env, _ auroraSource) {
			e.h.Attach(region, rdssim.Attachment{Kind: rdssim.AttachIntegration, Source: "shop", Cluster: true, Name: "to-redshift"})
		}, []string{"DB cluster shop has zero-ETL integration to-redshift", "aws rds delete-integration --integration-identifier to-redshift"}},
		{"blue-green", func(e *env, _ auroraSource) {
			e.h.Attach(region, rdssim.Attachment{Kind: rdssim.AttachBlueGreen, Source: "shop", Cluster: true, Name: "upgrade"})
		}, []string{"blue/green deployment bgd-", "aws rds delete-blue-green-deployment"}},
		{"activity-stream", func(e *env, _ auroraSource) {
			e.h.Attach(region, rdssim.Attachment{Kind: rdssim.AttachActivityStream, Source: "shop", Cluster: true})
		}, []string{"database activity stream (started)", "aws rds stop-activity-stream --resource-arn arn:aws:rds:us-east-1:"}},
		{"replica-cluster", func(e *env, src auroraSource) {
			_, err := e.h.RDS(otherRegion).CreateDBCluster(context.Background(), &rds.CreateDBClusterInput{DBClusterIdentifier: aws.String("shop-eu"),
				Engine: aws.String("aurora-mysql"), ReplicationSourceIdentifier: aws.String(src.cluster.ARN), SourceRegion: aws.String(region)})
			require.NoError(e.t, err)
			e.h.Advance(time.Hour)
		}, []string{"Aurora read replica cluster shop-eu in " + otherRegion, "aws rds promote-read-replica-db-cluster --region " + otherRegion + " --db-cluster-identifier shop-eu"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.createKey("alias/shop")
			tc.attach(e, shopCluster(e))
			before := e.h.Calls()
			eng := e.engine(fixedID, workflow.AutoApprove)
			_, perr := eng.Plan(e.ctx(), clusterRequest("shop", "alias/shop"))
			require.Error(t, perr, "plan shows the refusal too")
			_, err := eng.Migrate(e.ctx(), clusterRequest("shop", "alias/shop"))
			require.Error(t, err)
			for _, s := range tc.says {
				assert.Contains(t, err.Error(), s)
			}
			assert.Contains(t, workflow.NextOf(err), "rdsencrypt plan --cluster shop --kms-key alias/shop")
			assert.NotContains(t, err.Error(), "\n")
			assertNoMutatingCalls(t, before, e.h.Calls())
		})
	}
}

func stepNames(p *workflow.Plan) []string {
	var out []string
	for _, s := range p.Steps {
		out = append(out, s.Name)
	}
	return out
}

// Issue 13 item 10 for Aurora: the Data API (EnableHttpEndpoint, which restore does not take)
// and EngineLifecycleSupport (whose restore default enrols the cluster in paid Extended
// Support) reach the new cluster, and parity compares them.
func TestClusterDataAPIAndLifecycleAreCarried(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/shop")
	shopCluster(e)
	_, err := e.rds.ModifyDBCluster(context.Background(), &rds.ModifyDBClusterInput{DBClusterIdentifier: aws.String("shop"),
		EnableHttpEndpoint: aws.Bool(true), EngineLifecycleSupport: aws.String("open-source-rds-extended-support-disabled"),
		ApplyImmediately: aws.Bool(true)})
	require.NoError(t, err)
	e.h.Advance(time.Hour)
	src, err := e.client.For(region).DescribeCluster(context.Background(), "shop")
	require.NoError(t, err)
	require.True(t, src.Settings.HTTPEndpointEnabled)
	require.Equal(t, "open-source-rds-extended-support-disabled", src.Settings.EngineLifecycleSupport)

	rep, err := e.engine(fixedID, workflow.AutoApprove).Migrate(e.ctx(), clusterRequest("shop", "alias/shop"))
	require.NoError(t, err)
	assert.Empty(t, rep.Parity.Differences)
	cl, err := e.client.For(region).DescribeCluster(context.Background(), "shop")
	require.NoError(t, err)
	assert.True(t, cl.Settings.StorageEncrypted)
	assert.True(t, cl.Settings.HTTPEndpointEnabled, "Data API")
	assert.Equal(t, "open-source-rds-extended-support-disabled", cl.Settings.EngineLifecycleSupport)
}

// Issue 13 item 10 for Aurora: Database Insights advanced (which needs Performance Insights
// kept 465 days) and the Active Directory domain reach the new cluster. The restore takes
// Performance Insights and the domain; the mode, which it does not take, is set by the
// cluster's modify-after-cutover step, after writes resume; parity and verify compare them.
func TestClusterDatabaseInsightsAndDomainAreCarried(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/shop")
	shopCluster(e)
	_, err := e.rds.ModifyDBCluster(context.Background(), &rds.ModifyDBClusterInput{DBClusterIdentifier: aws.String("shop"),
		DatabaseInsightsMode: rdstypes.DatabaseInsightsModeAdvanced, EnablePerformanceInsights: aws.Bool(true),
		PerformanceInsightsRetentionPeriod: aws.Int32(465), Domain: aws.String("d-1234567890"),
		DomainIAMRoleName: aws.String("rds-directory"), ApplyImmediately: aws.Bool(true)})
	require.NoError(t, err)
	e.h.Advance(time.Hour)
	src, err := e.client.For(region).DescribeCluster(context.Background(), "shop")
	require.NoError(t, err)
	require.Equal(t, "advanced", src.Settings.DatabaseInsightsMode)
	require.Equal(t, "d-1234567890", src.Settings.Domain)

	plan, err := e.engine("", workflow.AutoApprove).Plan(e.ctx(), clusterRequest("shop", "alias/shop"))
	require.NoError(t, err)
	steps := stepNames(plan)
	late := slices.Index(steps, workflow.StepModifyLate)
	require.Greater(t, late, slices.Index(steps, workflow.StepUnfreeze), "the mode is set after writes resume")
	assert.False(t, plan.Steps[late].Downtime)
	for _, ps := range plan.Settings {
		switch {
		case ps.Resource != "shop": // the members' own settings
		case ps.Name == "DatabaseInsightsMode":
			assert.Equal(t, "modify", ps.Via)
		case ps.Name == "Domain" || ps.Name == "DomainIAMRoleName" || ps.Name == "PerformanceInsightsRetentionPeriod":
			assert.Equal(t, "restore", ps.Via, ps.Name)
		}
	}

	var modes []string // the new cluster's mode when writes may resume
	approve := workflow.ApproverFunc(func(ctx context.Context, a workflow.Approval) (workflow.Decision, error) {
		if a.Step == workflow.StepUnfreeze {
			cl, err := e.client.For(region).DescribeCluster(ctx, "shop")
			require.NoError(t, err)
			modes = append(modes, cl.Settings.DatabaseInsightsMode)
		}
		return workflow.AutoApprove.Approve(ctx, a)
	})
	rep, err := e.engine(fixedID, approve).Migrate(e.ctx(), clusterRequest("shop", "alias/shop"))
	require.NoError(t, err)
	assert.Empty(t, rep.Parity.Differences)
	assert.Equal(t, []string{"standard"}, modes, "a restored cluster is standard until modify-after-cutover")
	cl, err := e.client.For(region).DescribeCluster(context.Background(), "shop")
	require.NoError(t, err)
	assert.True(t, cl.Settings.StorageEncrypted)
	assert.Equal(t, "advanced", cl.Settings.DatabaseInsightsMode)
	assert.True(t, cl.Settings.PerformanceInsightsEnabled)
	assert.Equal(t, int32(465), cl.Settings.PerformanceInsightsRetentionPeriod)
	assert.Equal(t, "d-1234567890", cl.Settings.Domain)
	assert.Equal(t, "rds-directory", cl.Settings.DomainIAMRoleName)
}
