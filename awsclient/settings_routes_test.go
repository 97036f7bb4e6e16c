package awsclient

import (
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// settingsWith returns the settings of the table whose route has the flag.
func settingsWith(table []Route, flag func(Route) bool) []Setting {
	var out []Setting
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
		table []Route
		flag  func(Route) bool
		keys  []Setting
	}{
		{"restore instance", InstanceSettingRoutes, allowsRestore, slices.Sorted(maps.Keys(restoreInstanceSetters))},
		{"read replica", InstanceSettingRoutes, allowsReplica, slices.Sorted(maps.Keys(replicaSetters))},
		{"modify instance", InstanceSettingRoutes, allowsModify, slices.Sorted(maps.Keys(modifyInstanceSetters))},
		{"restore cluster", ClusterSettingRoutes, allowsRestore, slices.Sorted(maps.Keys(restoreClusterSetters))},
		{"modify cluster", ClusterSettingRoutes, allowsModify, slices.Sorted(maps.Keys(modifyClusterSetters))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, settingsWith(tc.table, tc.flag), tc.keys)
		})
	}
}

func TestEveryRoutedSettingNamesAField(t *testing.T) {
	for _, r := range InstanceSettingRoutes {
		_, err := SettingValue(InstanceSettings{}, r.Setting)
		assert.NoError(t, err, r.Setting)
	}
	for _, r := range ClusterSettingRoutes {
		_, err := SettingValue(ClusterSettings{}, r.Setting)
		assert.NoError(t, err, r.Setting)
	}
}

func TestCarryRefusesSettingTheCallDoesNotAccept(t *testing.T) {
	c := &regionClient{region: "us-east-1"}
	_, err := c.RestoreInstance(t.Context(), RestoreInstanceInput{
		ID: "db1-enc", SnapshotID: "snap", Carry: []Setting{"DBInstanceClass", "MonitoringInterval"},
	})
	require.Error(t, err)
	assert.Equal(t, KindInvalidParameter, KindOf(err))
	assert.Contains(t, err.Error(), "MonitoringInterval")
	assert.Contains(t, err.Error(), "RestoreDBInstanceFromDBSnapshot")

	_, err = c.CreateReadReplica(t.Context(), ReadReplicaInput{ID: "r", Source: "db1", Carry: []Setting{"BackupRetentionPeriod"}})
	assert.Equal(t, KindInvalidParameter, KindOf(err))

	_, err = c.ModifyCluster(t.Context(), "c1", ClusterSettings{}, []Setting{"DatabaseName"})
	assert.Equal(t, KindInvalidParameter, KindOf(err))

	_, err = c.ModifyInstance(t.Context(), "db1", InstanceSettings{}, []Setting{"NoSuchSetting"})
	assert.Equal(t, KindInvalidParameter, KindOf(err))
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
	assert.Equal(t, "mydb", normalizeID(" MyDB "))
	arn := "arn:aws:rds:eu-west-1:123456789012:snapshot:Snap"
	assert.Equal(t, arn, normalizeID(arn))
}
