package workflow

import (
	"testing"

	"github.com/rdsencrypt/rdsencrypt/internal/model"

	"github.com/stretchr/testify/assert"
)

func TestCompareSettingsFindsEveryDifference(t *testing.T) {
	src := sampleSource().Settings
	src.VpcSecurityGroupIDs = []string{"sg-2", "sg-1"}
	src.EnabledCloudwatchLogsExports = []string{"error", "slowquery"}
	same := src
	same.VpcSecurityGroupIDs = []string{"sg-1", "sg-2"}  // order does not matter
	same.StorageEncrypted, same.KmsKeyID = true, "arn:k" // encryption is meant to differ
	assert.Empty(t, compareSettings(model.InstanceSettingRoutes, "orders", src, same))

	diff := same
	diff.MultiAZ = false
	diff.MonitoringInterval = 0
	diff.EnabledCloudwatchLogsExports = []string{"error"}
	got := compareSettings(model.InstanceSettingRoutes, "orders", src, diff)
	var names []string
	for _, d := range got {
		names = append(names, d.Setting)
		assert.Equal(t, "orders", d.Resource)
	}
	assert.ElementsMatch(t, []string{"MultiAZ", "MonitoringInterval", "EnabledCloudwatchLogsExports"}, names)
}

func TestSettingsToModifyOnlyModifiable(t *testing.T) {
	src := sampleSource().Settings
	src.DBSubnetGroupName = "private"
	tgt := src
	tgt.DBSubnetGroupName = "default" // restore-only: parity reports it, modify cannot fix it
	tgt.PreferredMaintenanceWindow = ""
	assert.Equal(t, []model.Setting{"PreferredMaintenanceWindow"}, settingsToModify(model.InstanceSettingRoutes, src, tgt))
}

func TestQuietForNeedsConsecutiveIdlePolls(t *testing.T) {
	q := quietFor(3)
	assert.False(t, q(true))
	assert.False(t, q(true))
	assert.False(t, q(false), "a busy poll starts the count again")
	assert.False(t, q(true))
	assert.False(t, q(true))
	assert.True(t, q(true))
}
