package workflow

import (
	"testing"

	"github.com/stretchr/testify/assert"
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
