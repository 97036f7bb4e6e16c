package workflow

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// The manual snapshots a migration holds are counted from its planned steps: the pre-copy adds
// two, read replicas and the replication strategy's temporary replica none (AWS takes no
// final snapshot of a replica), and cleanup's final snapshot is one more at the peak.
func TestSnapshotsNeededCountsThePlannedSteps(t *testing.T) {
	pg := sampleSource()
	pg.Settings.Engine, pg.Settings.EngineVersion = "postgres", "15.10"
	cases := []struct {
		name  string
		in    instancePlanInput
		steps []string
	}{
		{"snapshot", instancePlanInput{src: sampleSource()}, []string{StepSnapshot, StepCopy}},
		{"precopy", instancePlanInput{src: sampleSource(), precopy: true}, []string{StepPreSnapshot, StepPreCopy, StepSnapshot, StepCopy}},
		{"replicas", instancePlanInput{src: sampleSource(), replicas: replicaNodes(), order: ReplicasBeforeCutover, precopy: true},
			[]string{StepPreSnapshot, StepPreCopy, StepSnapshot, StepCopy}},
		{"replication-mysql", instancePlanInput{src: sampleSource(), strategy: StrategyReplication}, []string{StepSnapshot, StepCopy}},
		{"replication-postgres", instancePlanInput{src: pg, strategy: StrategyReplication}, []string{StepSnapshot, StepCopy}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.in.id, c.in.key = "0a1b2c3d", sampleKey
			p := buildInstancePlan(c.in)
			need := SnapshotsNeeded(p)
			assert.False(t, need.Cluster)
			assert.Equal(t, c.steps, need.Steps)
			assert.Equal(t, len(c.steps)+1, need.Peak())
		})
	}
	// the MySQL case does plan the temporary replica, which adds no snapshot
	p := buildInstancePlan(instancePlanInput{id: "0a1b2c3d", src: sampleSource(), key: sampleKey, strategy: StrategyReplication})
	assert.Contains(t, planStepNames(p), StepReplPosReplica)
}

// describeOnly answers the preflight's first reads; any other call (a mutating one included)
// panics on the nil model.RDS it embeds.
type describeOnly struct {
	model.RDS
	inst    *model.Instance
	cluster *model.Cluster
}

func (d describeOnly) Region() string { return "us-east-1" }

func (d describeOnly) DescribeInstance(_ context.Context, id string) (*model.Instance, error) {
	if d.inst == nil || d.inst.ID != id {
		return nil, errors.New("unexpected describe of " + id)
	}
	return d.inst, nil
}

func (d describeOnly) DescribeCluster(_ context.Context, id string) (*model.Cluster, error) {
	if d.cluster == nil || d.cluster.ID != id {
		return nil, errors.New("unexpected describe of " + id)
	}
	return d.cluster, nil
}

// refusal runs a preflight against describeOnly: a call past its reads fails the test.
func refusal(t *testing.T, preflight func() error) (err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("the preflight went on past the refusal (a call describeOnly does not answer): %v", r)
		}
	}()
	return preflight()
}

// A Multi-AZ DB cluster (engine mysql or postgres, restored with RestoreDBClusterFromSnapshot
// and a DB cluster instance class) is refused before any other call, whether it is named with
// --cluster or one of its instances with --db; so is an Oracle instance with a TDE credential,
// whose password restore would need. The simulator has no Multi-AZ DB clusters and no TDE
// credentials: the preflight reads are answered here.
func TestPreflightRefusesWhatItCannotRestore(t *testing.T) {
	ctx := context.Background()
	e := &Engine{}

	cl := &model.Cluster{ID: "orders", Status: model.StatusAvailable,
		Members:  []model.ClusterMember{{InstanceID: "orders-1", IsWriter: true}},
		Settings: model.ClusterSettings{Engine: "postgres", EngineVersion: "16.6"}}
	err := refusal(t, func() error {
		_, err := e.inspectCluster(ctx, describeOnly{cluster: cl}, MigrateRequest{Kind: KindCluster, Source: "orders", KmsKey: "alias/k"})
		return err
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "DB cluster orders runs postgres: a Multi-AZ DB cluster")
	assert.Contains(t, NextOf(err), "restore-db-cluster-from-snapshot --db-cluster-instance-class")
	assert.NotContains(t, err.Error(), "\n")

	member := &model.Instance{ID: "orders-1", ClusterID: "orders", Status: model.StatusAvailable,
		Settings: model.InstanceSettings{Engine: "postgres", EngineVersion: "16.6"}}
	err = refusal(t, func() error {
		_, _, err := e.inspect(ctx, describeOnly{inst: member}, MigrateRequest{Source: "orders-1", KmsKey: "alias/k"})
		return err
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "DB instance orders-1 is a member of Multi-AZ DB cluster orders (postgres)")
	assert.Contains(t, NextOf(err), "copy-db-cluster-snapshot --kms-key-id alias/k")

	tde := &model.Instance{ID: "erp", Status: model.StatusAvailable, Settings: model.InstanceSettings{Engine: "oracle-ee",
		TdeCredentialArn: "arn:aws:cloudhsm:us-east-1:123456789012:cluster/erp"}}
	err = refusal(t, func() error {
		_, _, err := e.inspect(ctx, describeOnly{inst: tde}, MigrateRequest{Source: "erp", KmsKey: "alias/k"})
		return err
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "DB instance erp uses Oracle TDE credential arn:aws:cloudhsm:us-east-1:123456789012:cluster/erp")
	assert.Contains(t, NextOf(err), "--tde-credential-arn and --tde-credential-password")
}
