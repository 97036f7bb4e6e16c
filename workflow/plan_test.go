package workflow

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/rdsencrypt/rdsencrypt/awsclient"
)

func sampleSource() *awsclient.Instance {
	return &awsclient.Instance{ID: "orders", Region: "us-east-1", Status: "available",
		Endpoint: "orders.abcdefghijkl.us-east-1.rds.amazonaws.com",
		Settings: awsclient.InstanceSettings{DBInstanceClass: "db.m6g.large", Engine: "mysql", EngineVersion: "8.0.35",
			AllocatedStorage: 100, StorageType: "gp3", Iops: 3000, StorageThroughput: 125, MultiAZ: true,
			AvailabilityZone: "us-east-1a", MonitoringInterval: 60, PreferredMaintenanceWindow: "sun:05:00-sun:06:00",
			BackupRetentionPeriod: 7, DeletionProtection: true},
	}
}

var sampleKey = &awsclient.Key{ID: "k1", ARN: "arn:aws:kms:us-east-1:123456789012:key/k1", Region: "us-east-1", Enabled: true, State: "Enabled"}

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
	assert.Equal(t, "restore", via["Iops"], "gp3 with IOPS is passed at restore")
	assert.Equal(t, "not-carried", via["AvailabilityZone"], "with Multi-AZ the zone is AWS's choice")
	assert.Equal(t, "modify", via["MonitoringInterval"], "restore does not accept monitoring")
	assert.Equal(t, "modify", via["PreferredMaintenanceWindow"])
	assert.Equal(t, "snapshot", via["EngineVersion"])
	assert.Equal(t, "not-carried", via["AssociatedRoles"])
	assert.Len(t, p.Settings, len(awsclient.InstanceSettingRoutes))
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
		StepRenameSource, StepRenameTarget, StepUnfreeze, StepVerify}, names)
	assert.Greater(t, big.EstimatedTotal, little.EstimatedTotal, "estimates grow with storage")
	assert.Less(t, big.EstimatedDowntime, big.EstimatedTotal)
	assert.Greater(t, time.Duration(big.EstimatedDowntime), 20*time.Minute, "two renames alone take about 20 minutes")
	assert.Contains(t, big.Steps[2].Description, "rdsencrypt-0a1b2c3d-orders-unencrypted")
}

func TestBuildInstancePlanWarnings(t *testing.T) {
	src := sampleSource()
	src.Replicas = []string{"orders-replica"}
	src.PendingModifications = []string{"DBInstanceClass"}
	src.Settings.BackupRetentionPeriod = 0
	w := BuildInstancePlan("", src, sampleKey).Warnings
	assert.Contains(t, joinLines(w), "read replicas (orders-replica)")
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
