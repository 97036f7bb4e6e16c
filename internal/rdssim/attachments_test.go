package rdssim_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/rdssim"
)

// Conformance of the attachments (attachments.go): role associations, event subscriptions,
// and what Sim.Attach puts in place, read back through the SDK as AWS returns them.

const testRole = "arn:aws:iam::123456789012:role/rds-s3-import"

func TestRoleAssociations(t *testing.T) {
	t.Parallel()
	// The clock moves only by Advance: the restoring instance below must still be restoring
	// when the role is added, however slowly this machine runs.
	h := manual(t)
	c := h.RDS("us-east-1")
	createAvailable(t, h, c, postgresInput("pg", 400))

	_, err := c.AddRoleToDBInstance(ctx, &rds.AddRoleToDBInstanceInput{DBInstanceIdentifier: aws.String("pg"),
		RoleArn: aws.String(testRole), FeatureName: aws.String("s3Import")})
	require.NoError(t, err)
	_, err = c.AddRoleToDBInstance(ctx, &rds.AddRoleToDBInstanceInput{DBInstanceIdentifier: aws.String("pg"),
		RoleArn: aws.String(testRole), FeatureName: aws.String("s3Export")})
	assert.Equal(t, "DBInstanceRoleAlreadyExists", apiCode(t, err))
	assert.Equal(t, "The specified RoleArn or FeatureName value is already associated with the DB instance.", apiMessage(t, err))
	_, err = c.AddRoleToDBInstance(ctx, &rds.AddRoleToDBInstanceInput{DBInstanceIdentifier: aws.String("nope"),
		RoleArn: aws.String(testRole), FeatureName: aws.String("s3Import")})
	assert.Equal(t, "DBInstanceNotFound", apiCode(t, err))

	out, err := c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("pg")})
	require.NoError(t, err)
	assert.Equal(t, []types.DBInstanceRole{{RoleArn: aws.String(testRole), FeatureName: aws.String("s3Import"), Status: aws.String("ACTIVE")}},
		out.DBInstances[0].AssociatedRoles)
	assert.Equal(t, types.ActivityStreamStatusStopped, out.DBInstances[0].ActivityStreamStatus)

	// A snapshot restore takes no roles.
	_, err = c.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("pg"), DBSnapshotIdentifier: aws.String("pg-s")})
	require.NoError(t, err)
	advanceUntilSnapshot(t, h, c, "pg-s", "available")
	_, err = c.RestoreDBInstanceFromDBSnapshot(ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{DBInstanceIdentifier: aws.String("pg2"),
		DBSnapshotIdentifier: aws.String("pg-s")})
	require.NoError(t, err)
	_, err = c.AddRoleToDBInstance(ctx, &rds.AddRoleToDBInstanceInput{DBInstanceIdentifier: aws.String("pg2"),
		RoleArn: aws.String(testRole), FeatureName: aws.String("s3Import")})
	assert.Equal(t, "InvalidDBInstanceState", apiCode(t, err), "the instance must be available")
	restored := advanceUntilInstance(t, h, c, "pg2", "available")
	assert.Empty(t, restored.AssociatedRoles)

	// Clusters: AddRoleToDBCluster, and the AssociatedRoles of a restore.
	_, err = c.CreateDBCluster(ctx, &rds.CreateDBClusterInput{DBClusterIdentifier: aws.String("au"), Engine: aws.String("aurora-postgresql"),
		MasterUsername: aws.String("admin"), MasterUserPassword: aws.String("secret-password")})
	require.NoError(t, err)
	advanceUntilCluster(t, h, c, "au", "available")
	_, err = c.AddRoleToDBCluster(ctx, &rds.AddRoleToDBClusterInput{DBClusterIdentifier: aws.String("au"), RoleArn: aws.String(testRole)})
	require.NoError(t, err)
	_, err = c.AddRoleToDBCluster(ctx, &rds.AddRoleToDBClusterInput{DBClusterIdentifier: aws.String("au"), RoleArn: aws.String(testRole)})
	assert.Equal(t, "DBClusterRoleAlreadyExists", apiCode(t, err))
	assert.Equal(t, "The specified IAM role Amazon Resource Name (ARN) is already associated with the specified DB cluster.", apiMessage(t, err))
	_, err = c.CreateDBClusterSnapshot(ctx, &rds.CreateDBClusterSnapshotInput{DBClusterIdentifier: aws.String("au"), DBClusterSnapshotIdentifier: aws.String("au-s")})
	require.NoError(t, err)
	advanceUntilClusterSnapshot(t, h, c, "au-s", "available")
	_, err = c.RestoreDBClusterFromSnapshot(ctx, &rds.RestoreDBClusterFromSnapshotInput{DBClusterIdentifier: aws.String("au2"),
		SnapshotIdentifier: aws.String("au-s"), Engine: aws.String("aurora-postgresql"),
		AssociatedRoles: []types.DBClusterAssociatedRole{{RoleArn: aws.String(testRole), FeatureName: aws.String("s3Import")}}})
	require.NoError(t, err)
	cl := advanceUntilCluster(t, h, c, "au2", "available")
	assert.Equal(t, []types.DBClusterRole{{RoleArn: aws.String(testRole), FeatureName: aws.String("s3Import"), Status: aws.String("ACTIVE")}}, cl.AssociatedRoles)
}

func TestEventSubscriptionsListTheirSourcesByIdentifier(t *testing.T) {
	t.Parallel()
	h := fast(t)
	c := h.RDS("us-east-1")
	createAvailable(t, h, c, mysqlInput("db1"))
	_, err := c.CreateEventSubscription(ctx, &rds.CreateEventSubscriptionInput{SubscriptionName: aws.String("ops"),
		SnsTopicArn: aws.String("arn:aws:sns:us-east-1:123456789012:ops"), SourceType: aws.String("db-instance"), SourceIds: []string{"nope"}})
	assert.Equal(t, "SourceNotFound", apiCode(t, err))
	_, err = c.CreateEventSubscription(ctx, &rds.CreateEventSubscriptionInput{SubscriptionName: aws.String("ops"),
		SnsTopicArn: aws.String("arn:aws:sns:us-east-1:123456789012:ops"), SourceType: aws.String("db-instance"), SourceIds: []string{"db1"}})
	require.NoError(t, err)

	// A rename leaves the list as written (events follow the name).
	_, err = c.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("db1"),
		NewDBInstanceIdentifier: aws.String("db1-old"), ApplyImmediately: aws.Bool(true)})
	require.NoError(t, err)
	h.Advance(20 * time.Minute) // the old name answers until the rename takes effect
	advanceUntilInstance(t, h, c, "db1-old", "available")
	out, err := c.DescribeEventSubscriptions(ctx, &rds.DescribeEventSubscriptionsInput{SubscriptionName: aws.String("ops")})
	require.NoError(t, err)
	require.Len(t, out.EventSubscriptionsList, 1)
	assert.Equal(t, []string{"db1"}, out.EventSubscriptionsList[0].SourceIdsList)

	_, err = c.AddSourceIdentifierToSubscription(ctx, &rds.AddSourceIdentifierToSubscriptionInput{SubscriptionName: aws.String("ops"),
		SourceIdentifier: aws.String("db1")})
	assert.Equal(t, "SourceNotFound", apiCode(t, err), "db1 no longer exists")
	add, err := c.AddSourceIdentifierToSubscription(ctx, &rds.AddSourceIdentifierToSubscriptionInput{SubscriptionName: aws.String("ops"),
		SourceIdentifier: aws.String("db1-old")})
	require.NoError(t, err)
	assert.Equal(t, []string{"db1", "db1-old"}, add.EventSubscription.SourceIdsList)
	rm, err := c.RemoveSourceIdentifierFromSubscription(ctx, &rds.RemoveSourceIdentifierFromSubscriptionInput{SubscriptionName: aws.String("ops"),
		SourceIdentifier: aws.String("db1")})
	require.NoError(t, err)
	assert.Equal(t, []string{"db1-old"}, rm.EventSubscription.SourceIdsList)
	_, err = c.RemoveSourceIdentifierFromSubscription(ctx, &rds.RemoveSourceIdentifierFromSubscriptionInput{SubscriptionName: aws.String("nope"),
		SourceIdentifier: aws.String("db1")})
	assert.Equal(t, "SubscriptionNotFound", apiCode(t, err))
	_, err = c.DescribeEventSubscriptions(ctx, &rds.DescribeEventSubscriptionsInput{SubscriptionName: aws.String("nope")})
	assert.Equal(t, "SubscriptionNotFound", apiCode(t, err))
}

func TestAttachmentsReadBackAsAWSReturnsThem(t *testing.T) {
	t.Parallel()
	h := fast(t)
	c := h.RDS("us-east-1")
	createAvailable(t, h, c, mysqlInput("db1"))
	for _, a := range []rdssim.Attachment{
		{Kind: rdssim.AttachProxy, Source: "db1", Name: "app-proxy"},
		{Kind: rdssim.AttachIntegration, Source: "db1", Name: "to-redshift"},
		{Kind: rdssim.AttachBlueGreen, Source: "db1", Name: "upgrade"},
		{Kind: rdssim.AttachActivityStream, Source: "db1"},
		{Kind: rdssim.AttachBackupReplication, Source: "db1", Name: "us-west-2"},
		{Kind: rdssim.AttachAuroraReplica, Source: "db1", Name: "analytics"},
	} {
		h.Attach("us-east-1", a)
	}
	arn := "arn:aws:rds:us-east-1:" + h.Sim.AccountID() + ":db:db1"

	px, err := c.DescribeDBProxies(ctx, &rds.DescribeDBProxiesInput{})
	require.NoError(t, err)
	require.Len(t, px.DBProxies, 1)
	assert.Equal(t, "app-proxy", aws.ToString(px.DBProxies[0].DBProxyName))
	tg, err := c.DescribeDBProxyTargets(ctx, &rds.DescribeDBProxyTargetsInput{DBProxyName: aws.String("app-proxy")})
	require.NoError(t, err)
	require.Len(t, tg.Targets, 1)
	assert.Equal(t, "db1", aws.ToString(tg.Targets[0].RdsResourceId))
	assert.Equal(t, types.TargetTypeRdsInstance, tg.Targets[0].Type)
	_, err = c.DescribeDBProxyTargets(ctx, &rds.DescribeDBProxyTargetsInput{DBProxyName: aws.String("nope")})
	assert.Equal(t, "DBProxyNotFoundFault", apiCode(t, err))

	in, err := c.DescribeIntegrations(ctx, &rds.DescribeIntegrationsInput{})
	require.NoError(t, err)
	require.Len(t, in.Integrations, 1)
	assert.Equal(t, arn, aws.ToString(in.Integrations[0].SourceArn))
	_, err = c.DescribeIntegrations(ctx, &rds.DescribeIntegrationsInput{IntegrationIdentifier: aws.String("nope")})
	assert.Equal(t, "IntegrationNotFoundFault", apiCode(t, err))

	bg, err := c.DescribeBlueGreenDeployments(ctx, &rds.DescribeBlueGreenDeploymentsInput{
		Filters: []types.Filter{{Name: aws.String("source"), Values: []string{arn}}}})
	require.NoError(t, err)
	require.Len(t, bg.BlueGreenDeployments, 1)
	assert.Equal(t, "upgrade", aws.ToString(bg.BlueGreenDeployments[0].BlueGreenDeploymentName))
	_, err = c.DescribeBlueGreenDeployments(ctx, &rds.DescribeBlueGreenDeploymentsInput{BlueGreenDeploymentIdentifier: aws.String("bgd-nope")})
	assert.Equal(t, "BlueGreenDeploymentNotFoundFault", apiCode(t, err))

	out, err := c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("db1")})
	require.NoError(t, err)
	db := out.DBInstances[0]
	assert.Equal(t, types.ActivityStreamStatusStarted, db.ActivityStreamStatus)
	require.Len(t, db.DBInstanceAutomatedBackupsReplications, 1)
	assert.True(t, strings.HasPrefix(aws.ToString(db.DBInstanceAutomatedBackupsReplications[0].DBInstanceAutomatedBackupsArn), "arn:aws:rds:us-west-2:"))
	assert.Equal(t, []string{"analytics"}, db.ReadReplicaDBClusterIdentifiers)
}

func TestFixtureAttachments(t *testing.T) {
	t.Parallel()
	h := fast(t)
	fx := `{"Regions": {"us-east-1": {
	  "Instances": [{"DBInstanceIdentifier": "db1", "DBInstanceClass": "db.t3.micro", "Engine": "mysql",
	                 "MasterUsername": "admin", "MasterUserPassword": "secret-password", "AllocatedStorage": 100}],
	  "EventSubscriptions": [{"SubscriptionName": "ops", "SnsTopicArn": "arn:aws:sns:us-east-1:123456789012:ops",
	                          "SourceType": "db-instance", "SourceIds": ["db1"]}],
	  "Attachments": [{"Kind": "proxy", "Source": "db1", "Name": "app-proxy"}]}}}`
	require.NoError(t, h.Sim.LoadFixture(strings.NewReader(fx)))
	c := h.RDS("us-east-1")
	subs, err := c.DescribeEventSubscriptions(ctx, &rds.DescribeEventSubscriptionsInput{})
	require.NoError(t, err)
	require.Len(t, subs.EventSubscriptionsList, 1)
	assert.Equal(t, []string{"db1"}, subs.EventSubscriptionsList[0].SourceIdsList)
	tg, err := c.DescribeDBProxyTargets(ctx, &rds.DescribeDBProxyTargetsInput{DBProxyName: aws.String("app-proxy")})
	require.NoError(t, err)
	require.Len(t, tg.Targets, 1)
}

// binlog_format defaults to MIXED for MariaDB and MySQL up to 8.0, ROW for MySQL 8.4
// (groups.go cites the user guide).
func TestBinlogFormatDefaults(t *testing.T) {
	t.Parallel()
	h := fast(t)
	c := h.RDS("us-east-1")
	for group, want := range map[string]string{"default.mariadb10.11": "MIXED", "default.mysql8.0": "MIXED", "default.mysql8.4": "ROW"} {
		out, err := c.DescribeDBParameters(ctx, &rds.DescribeDBParametersInput{DBParameterGroupName: aws.String(group)})
		require.NoError(t, err, group)
		got := ""
		for _, p := range out.Parameters {
			if aws.ToString(p.ParameterName) == "binlog_format" {
				got = aws.ToString(p.ParameterValue)
			}
		}
		assert.Equal(t, want, got, group)
	}
}
