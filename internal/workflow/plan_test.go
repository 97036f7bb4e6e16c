package workflow

import (
	"testing"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/model"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sampleSource() *model.Instance {
	return &model.Instance{ID: "orders", Region: "us-east-1", Status: "available",
		Endpoint: "orders.abcdefghijkl.us-east-1.rds.amazonaws.com",
		Settings: model.InstanceSettings{DBInstanceClass: "db.m6g.large", Engine: "mysql", EngineVersion: "8.0.35",
			AllocatedStorage: 100, StorageType: "gp3", Iops: 3000, StorageThroughput: 125, MultiAZ: true,
			AvailabilityZone: "us-east-1a", MonitoringInterval: 60, PreferredMaintenanceWindow: "sun:05:00-sun:06:00",
			BackupRetentionPeriod: 7, DeletionProtection: true},
	}
}

var sampleKey = &model.Key{ID: "k1", ARN: "arn:aws:kms:us-east-1:123456789012:key/k1", Region: "us-east-1", Enabled: true, State: "Enabled"}

func TestBuildInstancePlanModes(t *testing.T) {
	src := sampleSource()
	assert.Equal(t, ModeEncrypt, BuildInstancePlan("", src, sampleKey).Mode)
	src.Settings.StorageEncrypted, src.Settings.KmsKeyID = true, "arn:aws:kms:us-east-1:123456789012:key/other"
	assert.Equal(t, ModeRekey, BuildInstancePlan("", src, sampleKey).Mode)
	src.Settings.KmsKeyID = sampleKey.ARN
	assert.Equal(t, ModeNone, BuildInstancePlan("", src, sampleKey).Mode)
}

func TestBuildInstancePlanRoutesSettings(t *testing.T) {
	p := BuildInstancePlan("0a1b2c3d", sampleSource(), sampleKey)
	via := map[string]string{}
	for _, s := range p.Settings {
		via[s.Name] = s.Via
	}
	assert.Equal(t, "restore", via["DBInstanceClass"])
	assert.Equal(t, "restore", via["MultiAZ"])
	assert.Equal(t, "modify", via["Iops"], "gp3 below 400 GiB: AWS refuses explicit IOPS at restore")
	big := sampleSource()
	big.Settings.AllocatedStorage, big.Settings.Iops, big.Settings.StorageThroughput = 400, 12000, 500
	for _, s := range BuildInstancePlan("0a1b2c3d", big, sampleKey).Settings {
		if s.Name == "Iops" || s.Name == "StorageThroughput" {
			assert.Equal(t, "restore", s.Via, "gp3 from 400 GiB on: %s passed at restore", s.Name)
		}
	}
	assert.Equal(t, "not-carried", via["AvailabilityZone"], "with Multi-AZ the zone is AWS's choice")
	assert.Equal(t, "modify", via["MonitoringInterval"], "restore does not accept monitoring")
	assert.Equal(t, "modify", via["PreferredMaintenanceWindow"])
	assert.Equal(t, "snapshot", via["EngineVersion"])
	assert.Equal(t, "add-roles", via["AssociatedRoles"])
	assert.Len(t, p.Settings, len(model.InstanceSettingRoutes))
}

func TestBuildInstancePlanStepsAndEstimates(t *testing.T) {
	small := sampleSource()
	small.Settings.AllocatedStorage = 20
	big := BuildInstancePlan("0a1b2c3d", sampleSource(), sampleKey)
	little := BuildInstancePlan("0a1b2c3d", small, sampleKey)
	names := make([]string, len(big.Steps))
	for i, s := range big.Steps {
		names[i] = s.Name
	}
	assert.Equal(t, []string{StepPreflight, StepFreeze, StepSnapshot, StepCopy, StepRestore, StepModify, StepParity,
		StepRenameSource, StepRenameTarget, StepUnfreeze, StepModifyLate, StepVerify}, names)
	assert.Greater(t, big.EstimatedTotal, little.EstimatedTotal, "estimates grow with storage")
	assert.Less(t, big.EstimatedDowntime, big.EstimatedTotal)
	assert.Greater(t, time.Duration(big.EstimatedDowntime), 20*time.Minute, "two renames alone take about 20 minutes")
	assert.Contains(t, big.Steps[2].Description, "rdsencrypt-0a1b2c3d-orders-unencrypted")
}

// The modify in the freeze costs nothing when only settings that wait for
// modify-after-cutover go by modify; those cost the after-cutover step, a few seconds when
// they all apply at once, minutes when one takes the instance through configuring-*.
func TestPlanModifyEstimates(t *testing.T) {
	estimates := func(p *Plan) map[string]time.Duration {
		out := map[string]time.Duration{}
		for _, s := range p.Steps {
			out[s.Name] = time.Duration(s.Estimate)
		}
		return out
	}
	src := sampleSource() // monitoring, a maintenance window, deletion protection
	e := estimates(BuildInstancePlan("0a1b2c3d", src, sampleKey))
	assert.Zero(t, e[StepModify], "nothing that matters for writes goes by modify")
	assert.Equal(t, 3*time.Minute, e[StepModifyLate], "monitoring: configuring-enhanced-monitoring")
	src.Settings.MonitoringInterval = 0
	e = estimates(BuildInstancePlan("0a1b2c3d", src, sampleKey))
	assert.Equal(t, modifyAtOnceEstimate, e[StepModifyLate], "a window and deletion protection apply at once")
	src.Settings.PreferredMaintenanceWindow, src.Settings.DeletionProtection = "", false
	e = estimates(BuildInstancePlan("0a1b2c3d", src, sampleKey))
	assert.Zero(t, e[StepModifyLate])
	src.Settings.ReplicaMode = "mounted"
	e = estimates(BuildInstancePlan("0a1b2c3d", src, sampleKey))
	assert.Equal(t, 3*time.Minute, e[StepModify], "a setting that matters before applications return stays in the freeze")
	for _, s := range BuildInstancePlan("0a1b2c3d", src, sampleKey).Steps {
		if s.Name == StepModifyLate {
			assert.False(t, s.Downtime, "after unfreeze: not write downtime")
		}
	}
}

// With a known write rate, the snapshot and copy inside the freeze count the GiB written
// during the pre-copy (6 and 12 s per GiB); without the pre-copy nothing changes.
func TestPlanCountsTheChangesSinceThePrecopy(t *testing.T) {
	src := sampleSource()
	src.Settings.AllocatedStorage = 400
	plan := func(rate *float64) *Plan {
		return buildInstancePlan(instancePlanInput{id: "0a1b2c3d", src: src, key: sampleKey, precopy: true, writeRate: rate})
	}
	unknown, rate := plan(nil), 4.0
	known := plan(&rate)
	// The pre-copy: snapshot 1 min (incremental after the automated backup), copy 3 min +
	// 400 × 12 s, the freeze 30 s: 84.5 min at 4 GiB/h is 5.63 GiB, so 33.8 s more for the
	// snapshot and 67.6 s more for the copy.
	assert.InDelta(t, (time.Duration(unknown.EstimatedDowntime) + 101400*time.Millisecond).Seconds(), time.Duration(known.EstimatedDowntime).Seconds(), 0.01)
	without := func(p *Plan) Duration { return p.Strategies[1].EstimatedDowntime }
	assert.Equal(t, without(unknown), without(known), "--precopy=false has no pre-copy to catch up on")
	assert.Contains(t, known.Warnings[0], "counting 4.0 GiB/h written meanwhile")
	assert.Contains(t, unknown.Warnings[0], "could not be read from CloudWatch")
}

func TestBuildInstancePlanWarnings(t *testing.T) {
	src := sampleSource()
	src.PendingModifications = []string{"DBInstanceClass"}
	src.Settings.BackupRetentionPeriod = 0
	w := BuildInstancePlan("", src, sampleKey).Warnings
	assert.Contains(t, joinLines(w), "pending modifications")
	assert.Contains(t, joinLines(w), "automated backups are off")
	assert.Contains(t, joinLines(w), "deletion protection is on")
}

func joinLines(lines []string) string {
	out := ""
	for _, l := range lines {
		out += l + "\n"
	}
	return out
}

func replicaNodes() []replicaNode {
	r1 := &model.Instance{ID: "orders-r1", Region: "us-east-1", Settings: sampleSource().Settings}
	x := &model.Instance{ID: "orders-eu", Region: "eu-west-1", Settings: sampleSource().Settings}
	c := &model.Instance{ID: "orders-r1-c", Region: "us-east-1", Settings: sampleSource().Settings}
	return []replicaNode{{inst: r1}, {inst: x}, {inst: c, parent: "us-east-1/orders-r1"}}
}

func planStepNames(p *Plan) []string {
	out := make([]string, len(p.Steps))
	for i, s := range p.Steps {
		out[i] = s.Name
	}
	return out
}

func TestPlanWithReplicasAfterCutover(t *testing.T) {
	euKey := &model.Key{ARN: "arn:aws:kms:eu-west-1:123456789012:key/eu", Region: "eu-west-1", Enabled: true}
	p := buildInstancePlan(instancePlanInput{id: "0a1b2c3d", src: sampleSource(), key: sampleKey, replicas: replicaNodes(),
		keys: map[string]*model.Key{"us-east-1": sampleKey, "eu-west-1": euKey}, order: ReplicasAfterCutover})
	names := planStepNames(p)
	unfreeze := indexOf(names, StepUnfreeze)
	assert.Less(t, unfreeze, indexOf(names, "replica-create:us-east-1/orders-r1"), "replicas come after the primary's cutover")
	assert.Less(t, indexOf(names, "replica-promote:us-east-1/orders-r1"), indexOf(names, "replica-create:us-east-1/orders-r1-c"), "a cascade's parent is swapped first")
	assert.Equal(t, StepVerify, names[len(names)-1])
	assert.Equal(t, map[string]string{"eu-west-1": euKey.ARN}, p.RegionKeys)
	for _, s := range p.Steps[unfreeze:] {
		assert.False(t, s.Downtime, "%s is not write downtime", s.Name)
	}
	assert.Contains(t, joinLines(p.Warnings), "stale")
	assert.Contains(t, joinLines(p.Warnings), "us-east-1/orders-r1-c (replica of us-east-1/orders-r1)")
}

func TestPlanWithReplicasBeforeCutover(t *testing.T) {
	after := buildInstancePlan(instancePlanInput{id: "0a1b2c3d", src: sampleSource(), key: sampleKey, replicas: replicaNodes(), order: ReplicasAfterCutover})
	before := buildInstancePlan(instancePlanInput{id: "0a1b2c3d", src: sampleSource(), key: sampleKey, replicas: replicaNodes(), order: ReplicasBeforeCutover})
	names := planStepNames(before)
	assert.Less(t, indexOf(names, "replica-parity:eu-west-1/orders-eu"), indexOf(names, StepRenameSource), "replicas exist before cutover")
	assert.Less(t, indexOf(names, "replica-promote:eu-west-1/orders-eu"), indexOf(names, StepUnfreeze), "all swapped while writes are frozen")
	assert.Greater(t, before.EstimatedDowntime, after.EstimatedDowntime, "before-cutover costs write downtime")
	assert.Equal(t, before.EstimatedTotal, after.EstimatedTotal)
	assert.ElementsMatch(t, planStepNames(after), names, "the same steps in another order")
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// A wait inside the freeze expects what the plan's model says, not the size's full time: the
// final snapshot after a pre-copy holds the GiB written since it (rate × the journaled AWS
// times), so its polls come close around a 1.5-minute end, not around 42 minutes.
func TestWaitsExpectThePlansModel(t *testing.T) {
	src := sampleSource()
	src.Settings.AllocatedStorage = 400
	rate := 4.0
	precopyAt := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	r := &run{src: src, st: &State{Kind: KindInstance, Options: RunOptions{Precopy: true, Freeze: FreezeNone},
		WriteGiBPerHour: &rate, PrecopyAt: precopyAt, FreezeAt: precopyAt.Add(90 * time.Minute)}}
	expect := func(name string) time.Duration {
		s, ok := stepByName(allInstanceSteps, name)
		require.True(t, ok)
		r.expectStep(s)
		return r.expect.within
	}
	assert.Equal(t, time.Minute+36*time.Second, expect(StepSnapshot), "1 min + 6 GiB × 6 s")
	assert.Equal(t, 3*time.Minute+72*time.Second, expect(StepCopy), "3 min + 6 GiB × 12 s")
	assert.Equal(t, 10*time.Minute, expect(StepRestore), "8 min + the initial backup")
	assert.Equal(t, 3*time.Minute+400*12*time.Second, expect(StepPreCopy), "the pre-copy's copy is full")
	r.subject = "us-east-1/orders-r1"
	assert.Equal(t, time.Minute+400*6*time.Second, expect(StepSnapshot), "a replica's step keeps its own estimate")
}
