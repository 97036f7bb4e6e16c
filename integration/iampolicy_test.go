package integration

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/iampolicy"
	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// The IAM policy `rdsencrypt iam-policy` prints is complete and minimal: the simulator
// enforces it as IAM would, a whole migration, its cleanup and a rollback succeed under it,
// and without any one of its actions the run fails with an error that names that action.

// policyEnv is an account with the sources the policy scenario migrates, created before the
// policy is enforced (the policy is rdsencrypt's, not an administrator's).
func policyEnv(t *testing.T) *env {
	e := newEnv(t)
	e.createGroups()
	e.createKey("alias/orders")
	piKey := e.createKey("alias/pi")
	// deletion protection, tags copied to snapshots, settings only ModifyDBInstance carries
	e.createInstance(fullSettingsSource("orders", piKey))
	// a master password managed in Secrets Manager: step manage-master-password runs
	ledger := simpleSource("ledger")
	ledger.MasterUserPassword, ledger.ManageMasterUserPassword = nil, aws.Bool(true)
	e.createInstance(ledger)
	// an IAM role association, which the migration re-adds (AddRoleToDBInstance, iam:PassRole)
	_, err := e.rds.AddRoleToDBInstance(context.Background(), &rds.AddRoleToDBInstanceInput{DBInstanceIdentifier: aws.String("orders"),
		RoleArn: aws.String(s3ImportRole), FeatureName: aws.String("S3_INTEGRATION")})
	require.NoError(t, err)
	return e
}

// secretsCreated counts the Secrets Manager secrets RDS created so far (the simulator's
// events): RDS creates them with the caller's secretsmanager permissions.
func secretsCreated(e *env) int {
	n := 0
	for _, ev := range e.h.Events() {
		if ev.Type == "secret" && ev.Status == "created" {
			n++
		}
	}
	return n
}

func enforce(t *testing.T, e *env, doc *iampolicy.Document) {
	t.Helper()
	b, err := doc.JSON()
	require.NoError(t, err)
	e.h.EnforcePolicy(b)
}

// runPolicyScenario migrates orders and cleans it up, then migrates ledger and rolls it
// back. It stops at the first error and says at which stage.
func runPolicyScenario(t *testing.T, e *env) (stage string, err error) {
	// Both with the enforced freeze: its group is deleted by cleanup in the first, by
	// rollback in the second.
	enforced := workflow.RunOptions{Freeze: workflow.FreezeEnforce}
	eng := e.enforcing(e.engine(fixedID, workflow.AutoApprove))
	if _, err := eng.Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "orders", KmsKey: "alias/orders", Options: enforced}); err != nil {
		return "migrate", err
	}
	if _, err := eng.Cleanup(e.ctx(), fixedID); err != nil {
		return "cleanup", err
	}
	const second = "1b2c3d4e"
	eng = e.enforcing(e.engine(second, workflow.AutoApprove))
	if _, err := eng.Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/orders", Options: enforced}); err != nil {
		return "migrate ledger", err
	}
	if _, err := eng.Rollback(e.ctx(), second); err != nil {
		return "rollback", err
	}
	return "", nil
}

// notExercised lists policy actions the scenario cannot call, with the reason; every other
// action of the policy must be called by it.
var notExercised = map[string]string{
	"rds:CreateDBInstanceReadReplica": "the scenario's sources have no read replicas (replica_test.go migrates some)",
	// The replication strategy's calls: the policy scenarios run the snapshot strategy; the
	// replication strategy runs against the data plane (strategy_proof_test.go,
	// integration/dataplane: strategy_test.go, group_copy_test.go).
	"rds:DescribeDBLogFiles":                     "the replication strategy",
	"rds:DownloadDBLogFilePortion":               "the replication strategy",
	"rds:DescribeDBParameters":                   "the replication strategy (MySQL/MariaDB freeze)",
	"rds:ModifyDBParameterGroup":                 "the replication strategy (MySQL/MariaDB freeze)",
	"rds:CopyDBParameterGroup":                   "the replication strategy (MySQL/MariaDB: the new instance's parameter group copy)",
	"rds:DescribeDBParameterGroups":              "the replication strategy (MySQL/MariaDB: the new instance's parameter group copy)",
	"rds:DeleteDBParameterGroup":                 "the replication strategy (MySQL/MariaDB: rollback deletes the parameter group copy)",
	"rds:ListTagsForResource":                    "the replication strategy (MySQL/MariaDB: the parameter group copy's tags)",
	"rds:ResetDBParameterGroup":                  "the replication strategy (MySQL/MariaDB unfreeze: read_only back to the engine default; integration/dataplane/mysqlpos_test.go runs it under this policy)",
	"rds:CreateDBParameterGroup":                 "the replication strategy (PostgreSQL source change of a source on a default group; integration/dataplane/source_group_test.go runs the change under this policy)",
	"rds:DescribeDBProxyTargets":                 "called per RDS Proxy; a proxy targeting the source is refused (attachments_test.go)",
	"rds:AddSourceIdentifierToSubscription":      "only when AWS moved a subscription with the renamed source (attachments_test.go)",
	"rds:RemoveSourceIdentifierFromSubscription": "only when AWS moved a subscription with the renamed source (attachments_test.go)",
}

func instancePolicy() *iampolicy.Document {
	return iampolicy.New(iampolicy.Options{Region: region, Account: "123456789012"})
}

func TestMigrationSucceedsUnderThePrintedPolicy(t *testing.T) {
	e := policyEnv(t)
	doc := instancePolicy()
	enforce(t, e, doc)
	before := e.h.Calls()
	secretsBefore := secretsCreated(e)

	stage, err := runPolicyScenario(t, e)
	require.NoError(t, err, "stage %s", stage)

	names := workflow.NamesFor(fixedID, "orders")
	assert.ElementsMatch(t, []string{"orders", "ledger"}, e.instanceIDs())
	// ledger was rolled back after its cutover: its new instance's data is kept in a snapshot.
	assert.ElementsMatch(t, []string{names.EncryptedSnapshot, names.FinalSnapshot,
		workflow.NamesFor("1b2c3d4e", "ledger").RollbackSnapshot}, e.snapshotIDs())

	called := map[string]bool{}
	for action, n := range e.h.Calls() {
		if n > before[action] {
			called[action] = true
		}
	}
	for _, a := range doc.Actions() {
		service, name, _ := strings.Cut(a, ":")
		exercised := called[name]
		switch a {
		case "kms:CreateGrant":
			exercised = called["CopyDBSnapshot"] // RDS creates grants on the customer managed key
		case "ec2:CreateTags":
			exercised = called["CreateSecurityGroup"] // tags given on create
		case "secretsmanager:CreateSecret", "secretsmanager:TagResource":
			exercised = secretsCreated(e) > secretsBefore // RDS creates and tags the new secret as the caller
		}
		if a == "iam:PassRole" {
			exercised = called["AddRoleToDBInstance"] // associating a role passes it to RDS
		}
		if why, ok := notExercised[a]; ok {
			assert.False(t, exercised, "%s is exercised now: drop it from notExercised (%s)", a, why)
			continue
		}
		assert.True(t, exercised, "policy action %s is never called (%s): remove it from the policy", a, service)
	}
	for action := range called {
		if !slices.ContainsFunc([]string{"rds:", "kms:", "ec2:", "cloudwatch:"}, func(prefix string) bool { return slices.Contains(doc.Actions(), prefix+action) }) {
			t.Errorf("the scenario called %s, which the policy does not list, yet was allowed", action)
		}
	}
}

func TestEachPolicyActionIsNeeded(t *testing.T) {
	doc := instancePolicy()
	for _, action := range doc.Actions() {
		if _, skip := notExercised[action]; skip {
			continue
		}
		t.Run(action, func(t *testing.T) {
			t.Parallel()
			e := policyEnv(t)
			enforce(t, e, doc.Without(action))
			stage, err := runPolicyScenario(t, e)
			require.Error(t, err, "the scenario succeeded without %s", action)
			assert.Contains(t, err.Error(), action, "the %s error names the missing action", stage)
			assert.NotEmpty(t, workflow.NextOf(err), "the %s error names the next command: %v", stage, err)
			assert.NotContains(t, err.Error(), "\n")
			t.Logf("%s: %s", stage, err)
		})
	}
}

// --- Aurora clusters, under `rdsencrypt iam-policy --cluster` ---------------------------

func clusterPolicy() *iampolicy.Document {
	return iampolicy.New(iampolicy.Options{Cluster: true, Region: region, Account: "123456789012"})
}

// clusterPolicyEnv has the three-member cluster with a custom endpoint of cluster_test.go.
func clusterPolicyEnv(t *testing.T) *env {
	e := newEnv(t)
	e.createKey("alias/shop")
	shopCluster(e)
	// a master password managed in Secrets Manager: step manage-master-password runs
	_, err := e.rds.ModifyDBCluster(e.ctx(), &rds.ModifyDBClusterInput{DBClusterIdentifier: aws.String("shop"),
		ManageMasterUserPassword: aws.Bool(true), ApplyImmediately: aws.Bool(true)})
	require.NoError(t, err)
	e.h.Advance(time.Hour)
	// an IAM role association, which the restore carries (AssociatedRoles, iam:PassRole)
	_, err = e.rds.AddRoleToDBCluster(context.Background(), &rds.AddRoleToDBClusterInput{DBClusterIdentifier: aws.String("shop"),
		RoleArn: aws.String(s3ImportRole)})
	require.NoError(t, err)
	return e
}

// runClusterPolicyScenario migrates the cluster and cleans it up.
func runClusterPolicyScenario(t *testing.T, e *env) (stage string, err error) {
	eng := e.enforcing(e.engine(fixedID, workflow.AutoApprove))
	req := clusterRequest("shop", "alias/shop")
	req.Options.Freeze = workflow.FreezeEnforce // its group is deleted by cleanup
	if _, err := eng.Migrate(e.ctx(), req); err != nil {
		return "migrate", err
	}
	if _, err := eng.Cleanup(e.ctx(), fixedID); err != nil {
		return "cleanup", err
	}
	return "", nil
}

// clusterNotExercised: instance-path actions the cluster scenario does not call.
var clusterNotExercised = map[string]string{
	"rds:CreateDBInstanceReadReplica":        "instance replicas",
	"rds:CopyDBSnapshot":                     "instance path only: a cluster is encrypted by its restore",
	"rds:RestoreDBInstanceFromDBSnapshot":    "instance path only",
	"rds:CreateDBSnapshot":                   "instance path only",
	"rds:DeleteDBSnapshot":                   "instance path only",
	"rds:DescribeDBSnapshots":                "instance path only",
	"rds:DescribeOrderableDBInstanceOptions": "instance preflight",
	// The replication strategy's calls: the policy scenarios run the snapshot strategy; the
	// replication strategy runs against the data plane (strategy_proof_test.go,
	// integration/dataplane: strategy_test.go, group_copy_test.go).
	"rds:DescribeDBLogFiles":                     "the replication strategy",
	"rds:DownloadDBLogFilePortion":               "the replication strategy",
	"rds:DescribeDBParameters":                   "the replication strategy (MySQL/MariaDB freeze)",
	"rds:ModifyDBParameterGroup":                 "the replication strategy (MySQL/MariaDB freeze)",
	"rds:CopyDBParameterGroup":                   "the replication strategy (MySQL/MariaDB: the new instance's parameter group copy)",
	"rds:DescribeDBParameterGroups":              "the replication strategy (MySQL/MariaDB: the new instance's parameter group copy)",
	"rds:DeleteDBParameterGroup":                 "the replication strategy (MySQL/MariaDB: rollback deletes the parameter group copy)",
	"rds:ResetDBParameterGroup":                  "the replication strategy (MySQL/MariaDB unfreeze: read_only back to the engine default; integration/dataplane/mysqlpos_test.go runs it under this policy)",
	"rds:CreateDBParameterGroup":                 "the replication strategy (PostgreSQL source change of a source on a default group)",
	"rds:AddRoleToDBInstance":                    "instance path only: a cluster's restore carries its roles",
	"rds:DescribeDBProxyTargets":                 "called per RDS Proxy; a proxy targeting the source is refused (attachments_test.go)",
	"rds:AddSourceIdentifierToSubscription":      "only when AWS moved a subscription with the renamed source (attachments_test.go)",
	"rds:RemoveSourceIdentifierFromSubscription": "only when AWS moved a subscription with the renamed source (attachments_test.go)",
}

func TestClusterMigrationSucceedsUnderThePrintedPolicy(t *testing.T) {
	doc := clusterPolicy()
	t.Run("migrate and cleanup", func(t *testing.T) {
		e := clusterPolicyEnv(t)
		enforce(t, e, doc)
		before := e.h.Calls()
		secretsBefore := secretsCreated(e)
		stage, err := runClusterPolicyScenario(t, e)
		require.NoError(t, err, "stage %s", stage)
		assert.Equal(t, []string{"shop"}, e.clusterIDs())
		called := map[string]bool{}
		for action, n := range e.h.Calls() {
			called[action] = n > before[action]
		}
		for _, a := range doc.Actions() {
			_, name, _ := strings.Cut(a, ":")
			exercised := called[name]
			switch a {
			case "kms:CreateGrant":
				exercised = called["RestoreDBClusterFromSnapshot"] // RDS creates grants on the customer managed key
			case "secretsmanager:CreateSecret", "secretsmanager:TagResource":
				exercised = secretsCreated(e) > secretsBefore
			case "ec2:CreateTags":
				exercised = called["CreateSecurityGroup"] // tags given on create
			case "iam:PassRole":
				exercised = called["RestoreDBClusterFromSnapshot"] // the restore passes the source's roles
			}
			if _, ok := clusterNotExercised[a]; ok {
				assert.False(t, exercised, "%s is exercised by the cluster scenario now", a)
				continue
			}
			assert.True(t, exercised, "cluster policy action %s is never called", a)
		}
	})
	t.Run("rollback", func(t *testing.T) {
		e := newEnv(t)
		e.createKey("alias/k")
		src := smallCluster(e)
		enforce(t, e, doc)
		eng := e.enforcing(e.engine(fixedID, workflow.AutoApprove))
		req := clusterRequest("shop", "alias/k")
		req.Options.Freeze = workflow.FreezeEnforce // its group is deleted by rollback
		_, err := eng.Migrate(e.ctx(), req)
		require.NoError(t, err)
		rep, err := eng.Rollback(e.ctx(), fixedID)
		require.NoError(t, err)
		assertClusterRolledBack(t, e, src, rep)
	})
}

func TestEachClusterPolicyActionIsNeeded(t *testing.T) {
	doc := clusterPolicy()
	for _, action := range doc.Actions() {
		if _, skip := clusterNotExercised[action]; skip {
			continue
		}
		t.Run(action, func(t *testing.T) {
			t.Parallel()
			e := clusterPolicyEnv(t)
			enforce(t, e, doc.Without(action))
			stage, err := runClusterPolicyScenario(t, e)
			require.Error(t, err, "the scenario succeeded without %s", action)
			assert.Contains(t, err.Error(), action, "the %s error names the missing action", stage)
			assert.NotEmpty(t, workflow.NextOf(err), "the %s error names the next command: %v", stage, err)
			t.Logf("%s: %s", stage, err)
		})
	}
}

// The printed policy's parameter group statements, evaluated by the simulator as IAM would:
// the replication strategy's copy of the source's group is allowed only with the migration
// tag, its tags can be read, and only a group tagged as a migration's can be deleted (the
// policy scenarios run the snapshot strategy, which makes no copy).
func TestPolicyScopesTheParameterGroupCopy(t *testing.T) {
	e := newEnv(t)
	ctx := e.ctx()
	for _, name := range []string{"app-params", "operators-params"} {
		_, err := e.rds.CreateDBParameterGroup(ctx, &rds.CreateDBParameterGroupInput{DBParameterGroupName: aws.String(name),
			DBParameterGroupFamily: aws.String("mariadb10.11"), Description: aws.String(name)})
		require.NoError(t, err)
	}
	enforce(t, e, instancePolicy())
	api := e.client.For(region)
	ours := model.Tags{model.TagMigrationID: fixedID, model.TagRole: workflow.RoleParameterGroup}

	_, err := api.CopyParameterGroup(ctx, "app-params", "untagged-copy", "copy", nil)
	require.Equal(t, model.FailureAccessDenied, model.FailureOf(err), "a copy without the migration tag: %v", err)
	name := workflow.ParameterGroupCopyName("app-params", fixedID)
	_, err = api.CopyParameterGroup(ctx, "app-params", name, "copy", ours)
	require.NoError(t, err)
	pg, err := api.ParameterGroup(ctx, name)
	require.NoError(t, err)
	assert.Equal(t, ours, pg.Tags)
	err = api.DeleteParameterGroup(ctx, "operators-params")
	require.Equal(t, model.FailureAccessDenied, model.FailureOf(err), "deleting an untagged group: %v", err)
	require.NoError(t, api.DeleteParameterGroup(ctx, name))
}
