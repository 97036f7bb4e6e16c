package integration

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/output"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// Managed master password (#13 item 6, docs/aws-behaviour.md#managed-master-password): a
// source whose password RDS keeps in Secrets Manager. On the old workflow the new resource
// came back without MasterUserSecret and nothing said so for clusters.

// approvals records every approval and approves it.
type approvals struct {
	mu   sync.Mutex
	list []workflow.Approval
}

func (a *approvals) approver() workflow.Approver {
	return workflow.ApproverFunc(func(_ context.Context, ap workflow.Approval) (workflow.Decision, error) {
		a.mu.Lock()
		a.list = append(a.list, ap)
		a.mu.Unlock()
		return workflow.Approve, nil
	})
}

func (a *approvals) of(step string) workflow.Approval {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, ap := range a.list {
		if ap.Step == step {
			return ap
		}
	}
	return workflow.Approval{}
}

func approvalText(a workflow.Approval) string {
	return a.Summary + "\n" + strings.Join(a.Instructions, "\n") + "\n" + strings.Join(a.Details, "\n")
}

// secretReadable reports whether Secrets Manager still serves the secret's value.
func secretReadable(t *testing.T, sm *secretsmanager.Client, arn string) bool {
	t.Helper()
	_, err := sm.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		require.Contains(t, err.Error(), "ResourceNotFoundException")
		return false
	}
	return true
}

func TestManagedPasswordInstanceGetsANewSecretAfterCutover(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/k")
	in := simpleSource("vault")
	in.MasterUserPassword, in.ManageMasterUserPassword = nil, aws.Bool(true)
	src := e.createInstance(in)
	oldARN := src.MasterUserSecretARN
	require.NotEmpty(t, oldARN)
	sm := e.h.SecretsManager(region)

	plan, err := e.engine(fixedID, workflow.AutoApprove).Plan(e.ctx(), workflow.MigrateRequest{Region: region, Source: "vault", KmsKey: "alias/k"})
	require.NoError(t, err)
	require.NotNil(t, plan.MasterUserSecret)
	assert.Equal(t, oldARN, plan.MasterUserSecret.SourceARN)
	assert.True(t, slices.ContainsFunc(plan.Warnings, func(w string) bool { return strings.Contains(w, "NEW master password in a NEW secret") }), "plan warns up front: %v", plan.Warnings)
	names := make([]string, len(plan.Steps))
	for i, s := range plan.Steps {
		names[i] = s.Name
	}
	at := slices.Index(names, workflow.StepManagePassword)
	require.Positive(t, at, "the step is planned: %v", names)
	assert.Greater(t, at, slices.Index(names, workflow.StepUnfreeze), "after writes may resume")
	assert.False(t, plan.Steps[at].Downtime)

	rec := &approvals{}
	rep, err := e.engine(fixedID, rec.approver()).Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "vault", KmsKey: "alias/k"})
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusCompleted, rep.Status)
	assert.Contains(t, approvalText(rec.of(workflow.StepRenameSource)), "NEW password in a NEW secret", "the cutover approval says so")

	// The new instance, at the source's name, manages its password in a new secret.
	out, err := e.rds.DescribeDBInstances(e.ctx(), &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("vault")})
	require.NoError(t, err)
	inst := out.DBInstances[0]
	require.True(t, aws.ToBool(inst.StorageEncrypted))
	require.NotNil(t, inst.MasterUserSecret, "the new instance has MasterUserSecret")
	newARN := aws.ToString(inst.MasterUserSecret.SecretArn)
	assert.NotEqual(t, oldARN, newARN)
	require.NotNil(t, rep.MasterUserSecret)
	assert.Equal(t, newARN, rep.MasterUserSecret.NewARN, "the report names the new secret")
	assert.Equal(t, oldARN, rep.MasterUserSecret.SourceARN)
	assert.Empty(t, rep.Parity.Differences, "the secret's ARN is no parity surprise")
	var text bytes.Buffer
	output.PrintReport(&text, rep)
	assert.Contains(t, text.String(), "master password: NEW secret "+newARN)
	assert.True(t, secretReadable(t, sm, newARN))
	retired := e.describe(workflow.NamesFor(fixedID, "vault").Retired)
	assert.Equal(t, oldARN, retired.MasterUserSecretARN, "the retired source keeps its secret until cleanup")

	// Cleanup warns first, then the old secret goes with the retired source.
	rep, err = e.engine(fixedID, rec.approver()).Cleanup(e.ctx(), fixedID)
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusCleanedUp, rep.Status)
	clean := approvalText(rec.of("cleanup"))
	assert.Contains(t, clean, "RDS deletes the retired source's master password secret "+oldARN)
	assert.Contains(t, clean, newARN)
	assert.False(t, secretReadable(t, sm, oldARN), "deleted with the retired source")
	assert.True(t, secretReadable(t, sm, newARN))
}

func TestManagedPasswordInstanceRollbackKeepsTheSourceSecret(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/k")
	in := simpleSource("vault")
	in.MasterUserPassword, in.ManageMasterUserPassword = nil, aws.Bool(true)
	oldARN := e.createInstance(in).MasterUserSecretARN
	eng := e.engine(fixedID, workflow.AutoApprove)
	rep, err := eng.Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "vault", KmsKey: "alias/k"})
	require.NoError(t, err)
	newARN := rep.MasterUserSecret.NewARN
	require.NotEmpty(t, newARN)

	rep, err = eng.Rollback(e.ctx(), fixedID)
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusRolledBack, rep.Status)
	assert.Equal(t, oldARN, e.describe("vault").MasterUserSecretARN, "the source is back with its own secret")
	sm := e.h.SecretsManager(region)
	assert.True(t, secretReadable(t, sm, oldARN))
	assert.False(t, secretReadable(t, sm, newARN), "the new secret went with the new instance")
	assert.Contains(t, output.MasterSecretLine(rep), "vault kept its secret "+oldARN)
}

func TestManagedPasswordClusterGetsANewSecretAfterCutover(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/k")
	src := e.createAurora(&rds.CreateDBClusterInput{DBClusterIdentifier: aws.String("shop"), Engine: aws.String("aurora-mysql"),
		MasterUsername: aws.String("admin"), ManageMasterUserPassword: aws.Bool(true)},
		[]clusterMember{{id: "shop-1", class: "db.r6g.large", tier: 0}})
	oldARN := src.cluster.MasterUserSecretARN
	require.NotEmpty(t, oldARN)

	rec := &approvals{}
	eng := e.engine(fixedID, rec.approver())
	plan, err := eng.Plan(e.ctx(), clusterRequest("shop", "alias/k"))
	require.NoError(t, err)
	assert.True(t, slices.ContainsFunc(plan.Steps, func(s workflow.PlannedStep) bool { return s.Name == workflow.StepManagePassword && !s.Downtime }))
	assert.True(t, slices.ContainsFunc(plan.Warnings, func(w string) bool { return strings.Contains(w, "cluster shop is managed in Secrets Manager") }), "%v", plan.Warnings)

	rep, err := eng.Migrate(e.ctx(), clusterRequest("shop", "alias/k"))
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusCompleted, rep.Status)
	assert.Contains(t, approvalText(rec.of(workflow.StepRenameSource)), "NEW password in a NEW secret")
	out, err := e.rds.DescribeDBClusters(e.ctx(), &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String("shop")})
	require.NoError(t, err)
	cl := out.DBClusters[0]
	require.True(t, aws.ToBool(cl.StorageEncrypted))
	require.NotNil(t, cl.MasterUserSecret, "the new cluster holds a managed secret")
	newARN := aws.ToString(cl.MasterUserSecret.SecretArn)
	assert.NotEqual(t, oldARN, newARN)
	assert.Contains(t, newARN, ":secret:rds!cluster-")
	require.NotNil(t, rep.MasterUserSecret)
	assert.Equal(t, newARN, rep.MasterUserSecret.NewARN)
	assert.Empty(t, rep.Parity.Differences)

	_, err = eng.Cleanup(e.ctx(), fixedID)
	require.NoError(t, err)
	assert.Contains(t, approvalText(rec.of("cleanup")), "RDS deletes the retired source's master password secret "+oldARN)
	sm := e.h.SecretsManager(region)
	assert.False(t, secretReadable(t, sm, oldARN))
	assert.True(t, secretReadable(t, sm, newARN))
}

// cancelAfterManage cancels a run right after its ModifyDBInstance with
// ManageMasterUserPassword returned: RDS has made the new secret, the step has not seen it.
type cancelAfterManage struct {
	model.RDS
	cancel context.CancelFunc
}

func (c cancelAfterManage) ManageInstanceMasterPassword(ctx context.Context, id, key string) (*model.Instance, error) {
	inst, err := c.RDS.ManageInstanceMasterPassword(ctx, id, key)
	c.cancel()
	return inst, err
}

// A run interrupted inside step manage-master-password, after its call went through,
// resumes without asking for a second secret: observe finds the new one, and the report
// names it.
func TestManagedPasswordStepResumesWithoutASecondSecret(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/k")
	in := simpleSource("vault")
	in.MasterUserPassword, in.ManageMasterUserPassword = nil, aws.Bool(true)
	e.createInstance(in)
	secrets := func() int {
		n := 0
		for _, ev := range e.h.Events() {
			if ev.Type == "secret" && ev.Status == "created" {
				n++
			}
		}
		return n
	}
	require.Equal(t, 1, secrets())
	eng := e.engine(fixedID, workflow.AutoApprove)
	ctx, cancel := context.WithCancel(e.ctx())
	defer cancel()
	eng.Clients = func(r string) (model.RDS, error) { return cancelAfterManage{RDS: e.client.For(r), cancel: cancel}, nil }
	_, err := eng.Migrate(ctx, workflow.MigrateRequest{Region: region, Source: "vault", KmsKey: "alias/k"})
	require.Error(t, err, "interrupted inside the step")
	require.Equal(t, 2, secrets(), "the call went through")
	st, err := e.store.Load(fixedID)
	require.NoError(t, err)
	last := st.Steps[len(st.Steps)-1]
	require.Equal(t, workflow.StepManagePassword, last.Name)
	require.Equal(t, workflow.StepRunning, last.Status)

	rep, err := e.engine(fixedID, workflow.AutoApprove).Resume(e.ctx(), fixedID)
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusCompleted, rep.Status)
	assert.Equal(t, 2, secrets(), "no second new secret")
	assert.Equal(t, e.describe("vault").MasterUserSecretARN, rep.MasterUserSecret.NewARN)
}

// A source that manages its master password and has read replicas (made before management
// was turned on: AWS refuses a replica of such a source for every engine but SQL Server)
// migrates in both replica orders: the new primary is restored without a managed password,
// its replicas are created from it, and only then does the manage-master-password step turn
// management on.
func TestManagedPasswordSourceWithReplicasMigrates(t *testing.T) {
	for _, order := range []string{workflow.ReplicasAfterCutover, workflow.ReplicasBeforeCutover} {
		t.Run(order, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			e.createKey("alias/k")
			e.createInstance(simpleSource("vault"))
			_, err := e.rds.CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("vault-r1"),
				SourceDBInstanceIdentifier: aws.String("vault")})
			require.NoError(t, err)
			e.h.Advance(2 * time.Hour)
			_, err = e.rds.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("vault"),
				ManageMasterUserPassword: aws.Bool(true), ApplyImmediately: aws.Bool(true)})
			require.NoError(t, err)
			e.h.Advance(time.Hour)
			src := e.describe("vault")
			require.NotEmpty(t, src.MasterUserSecretARN)
			_, err = e.rds.CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("vault-r2"),
				SourceDBInstanceIdentifier: aws.String("vault")})
			require.Error(t, err, "AWS refuses a new replica of it")

			req := workflow.MigrateRequest{Region: region, Source: "vault", KmsKey: "alias/k", Options: workflow.RunOptions{Replicas: order}}
			plan, err := e.engine(fixedID, workflow.AutoApprove).Plan(e.ctx(), req)
			require.NoError(t, err)
			names := stepNames(plan)
			at := slices.Index(names, workflow.StepManagePassword)
			require.Positive(t, at, "%v", names)
			for i, n := range names {
				if strings.HasPrefix(n, "replica") {
					assert.Less(t, i, at, "%s before %s", n, workflow.StepManagePassword)
				}
			}
			rep, err := e.engine(fixedID, workflow.AutoApprove).Migrate(e.ctx(), req)
			require.NoError(t, err)
			assert.Equal(t, workflow.StatusCompleted, rep.Status)
			assert.Empty(t, rep.Parity.Differences)
			got := e.describe("vault")
			assert.True(t, got.Settings.StorageEncrypted)
			assert.NotEmpty(t, got.MasterUserSecretARN)
			assert.NotEqual(t, src.MasterUserSecretARN, got.MasterUserSecretARN)
			r := e.describe("vault-r1")
			assert.True(t, r.Settings.StorageEncrypted)
			assert.Equal(t, "vault", lastPart(r.ReplicaSource))
		})
	}
}
