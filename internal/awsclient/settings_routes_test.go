package awsclient

import (
	"maps"
	"slices"
	"testing"

	"github.com/rdsencrypt/rdsencrypt/internal/model"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// settingsWith returns the settings of the table whose route has the flag.
func settingsWith(table []model.Route, flag func(model.Route) bool) []model.Setting {
	var out []model.Setting
	for _, r := range table {
		if flag(r) {
			out = append(out, r.Setting)
		}
	}
	slices.Sort(out)
	return out
}

func TestEverySettingRouteHasExactlyOneMapping(t *testing.T) {
	cases := []struct {
		name  string
		table []model.Route
		flag  func(model.Route) bool
		keys  []model.Setting
	}{
		{"restore instance", model.InstanceSettingRoutes, allowsRestore, slices.Sorted(maps.Keys(restoreInstanceSetters))},
		{"read replica", model.InstanceSettingRoutes, allowsReplica, slices.Sorted(maps.Keys(replicaSetters))},
		{"modify instance", model.InstanceSettingRoutes, allowsModify, slices.Sorted(maps.Keys(modifyInstanceSetters))},
		{"restore cluster", model.ClusterSettingRoutes, allowsRestore, slices.Sorted(maps.Keys(restoreClusterSetters))},
		{"modify cluster", model.ClusterSettingRoutes, allowsModify, slices.Sorted(maps.Keys(modifyClusterSetters))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, settingsWith(tc.table, tc.flag), tc.keys)
		})
	}
}

func TestEveryRoutedSettingNamesAField(t *testing.T) {
	for _, r := range model.InstanceSettingRoutes {
		_, err := model.SettingValue(model.InstanceSettings{}, r.Setting)
		assert.NoError(t, err, r.Setting)
	}
	for _, r := range model.ClusterSettingRoutes {
		_, err := model.SettingValue(model.ClusterSettings{}, r.Setting)
		assert.NoError(t, err, r.Setting)
	}
}

func TestCarryRefusesSettingTheCallDoesNotAccept(t *testing.T) {
	c := &regionClient{region: "us-east-1"}
	_, err := c.RestoreInstance(t.Context(), model.RestoreInstanceInput{
		ID: "db1-enc", SnapshotID: "snap", Carry: []model.Setting{"DBInstanceClass", "MonitoringInterval"},
	})
	require.Error(t, err)
	assert.Equal(t, model.FailureInvalidParameter, model.FailureOf(err))
	assert.Contains(t, err.Error(), "MonitoringInterval")
	assert.Contains(t, err.Error(), "RestoreDBInstanceFromDBSnapshot")

	_, err = c.CreateReadReplica(t.Context(), model.ReadReplicaInput{ID: "r", Source: "db1", Carry: []model.Setting{"BackupRetentionPeriod"}})
	assert.Equal(t, model.FailureInvalidParameter, model.FailureOf(err))

	_, err = c.ModifyCluster(t.Context(), "c1", model.ClusterSettings{}, []model.Setting{"DatabaseName"})
	assert.Equal(t, model.FailureInvalidParameter, model.FailureOf(err))

	_, err = c.ModifyInstance(t.Context(), "db1", model.InstanceSettings{}, []model.Setting{"NoSuchSetting"})
	assert.Equal(t, model.FailureInvalidParameter, model.FailureOf(err))
}

func TestLogsExportChangeIsADiff(t *testing.T) {
	change := logsExportChange([]string{"postgresql", "upgrade"}, []string{"upgrade", "iam-db-auth-error"})
	require.NotNil(t, change)
	assert.Equal(t, []string{"postgresql"}, change.EnableLogTypes)
	assert.Equal(t, []string{"iam-db-auth-error"}, change.DisableLogTypes)
	assert.Nil(t, logsExportChange([]string{"a", "b"}, []string{"b", "a"}))
	assert.Nil(t, logsExportChange(nil, nil))
}

func TestNormalizeIDLowersIdentifiersButNotARNs(t *testing.T) {
	assert.Equal(t, "mydb", model.NormalizeID(" MyDB "))
	arn := "arn:aws:rds:eu-west-1:123456789012:snapshot:Snap"
	assert.Equal(t, arn, model.NormalizeID(arn))
}
