package awsclient

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/rdsencrypt/rdsencrypt/internal/model"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const snapshotXML = `<DBSnapshot><DBSnapshotIdentifier>enc</DBSnapshotIdentifier><Status>creating</Status>` +
	`<Encrypted>true</Encrypted><PercentProgress>0</PercentProgress><DBInstanceIdentifier>db1</DBInstanceIdentifier></DBSnapshot>`

const instanceXML = `<DBInstance><DBInstanceIdentifier>db1</DBInstanceIdentifier><DbiResourceId>db-RES</DbiResourceId>` +
	`<DBInstanceStatus>available</DBInstanceStatus><EnabledCloudwatchLogsExports><member>upgrade</member>` +
	`<member>iam-db-auth-error</member></EnabledCloudwatchLogsExports></DBInstance>`

func TestWireCopySnapshotSameRegion(t *testing.T) {
	f := newFakeAWS(t)
	f.reply("CopyDBSnapshot", ok("CopyDBSnapshot", snapshotXML))
	api := f.client(Config{}).For("us-east-1")
	snap, err := api.CopySnapshot(t.Context(), model.CopySnapshotInput{
		SourceID: "Plain", SourceRegion: "us-east-1", TargetID: "ENC", KmsKeyID: "alias/Mine",
		Tags: model.Tags{model.TagRole: "encrypted-copy", model.TagMigrationID: "m1"},
	})
	require.NoError(t, err)
	assert.True(t, snap.Encrypted)
	form := f.lastCall("CopyDBSnapshot").Form
	assert.Equal(t, "plain", form.Get("SourceDBSnapshotIdentifier"))
	assert.Equal(t, "enc", form.Get("TargetDBSnapshotIdentifier"))
	assert.Equal(t, "alias/Mine", form.Get("KmsKeyId"), "key references keep their case")
	assert.Equal(t, "false", form.Get("CopyTags"))
	assert.Equal(t, model.TagMigrationID, form.Get("Tags.Tag.1.Key"), "tags are sent sorted by key")
	assert.Equal(t, model.TagRole, form.Get("Tags.Tag.2.Key"))
	assert.Empty(t, form.Get("PreSignedUrl"), "same region: no SourceRegion, so no presigned URL")
}

func TestWireCopySnapshotCrossRegionIsPresigned(t *testing.T) {
	f := newFakeAWS(t)
	f.reply("CopyDBSnapshot", ok("CopyDBSnapshot", snapshotXML))
	api := f.client(Config{}).For("eu-west-1")
	_, err := api.CopySnapshot(t.Context(), model.CopySnapshotInput{
		SourceID: "arn:aws:rds:us-east-1:123456789012:snapshot:plain", SourceRegion: "us-east-1", TargetID: "enc", KmsKeyID: "k",
	})
	require.NoError(t, err)
	call := f.lastCall("CopyDBSnapshot")
	assert.Equal(t, "eu-west-1", call.Region, "the call is signed for the destination region")
	assert.Contains(t, call.Form.Get("PreSignedUrl"), "us-east-1")
	assert.Empty(t, call.Form.Get("SourceRegion"))
}

func TestWireReadReplicaKmsKeyOnlyAcrossRegions(t *testing.T) {
	f := newFakeAWS(t)
	f.reply("CreateDBInstanceReadReplica", ok("CreateDBInstanceReadReplica", instanceXML))
	c := f.client(Config{})

	_, err := c.For("us-east-1").CreateReadReplica(t.Context(), model.ReadReplicaInput{
		ID: "r1", Source: "db1", KmsKeyID: "k", Settings: model.InstanceSettings{DBInstanceClass: "db.t4g.micro", MonitoringInterval: 0},
		Carry: []model.Setting{"DBInstanceClass", "MonitoringInterval"},
	})
	require.NoError(t, err)
	same := f.lastCall("CreateDBInstanceReadReplica").Form
	assert.Empty(t, same.Get("KmsKeyId"))
	assert.Empty(t, same.Get("PreSignedUrl"))
	assert.Equal(t, "db.t4g.micro", same.Get("DBInstanceClass"))
	assert.Equal(t, "0", same.Get("MonitoringInterval"), "0 is a meaningful monitoring interval")

	_, err = c.For("eu-west-1").CreateReadReplica(t.Context(), model.ReadReplicaInput{
		ID: "r2", Source: "arn:aws:rds:us-east-1:123456789012:db:db1", SourceRegion: "us-east-1", KmsKeyID: "k-eu",
	})
	require.NoError(t, err)
	cross := f.lastCall("CreateDBInstanceReadReplica")
	assert.Equal(t, "k-eu", cross.Form.Get("KmsKeyId"))
	assert.NotEmpty(t, cross.Form.Get("PreSignedUrl"))
	assert.Equal(t, "eu-west-1", cross.Region)
}

func TestWireRestoreCarriesExactlyTheNamedSettings(t *testing.T) {
	f := newFakeAWS(t)
	f.reply("RestoreDBInstanceFromDBSnapshot", ok("RestoreDBInstanceFromDBSnapshot", instanceXML))
	want := instanceFrom("us-east-1", fullDBInstance()).Settings
	_, err := f.client(Config{}).For("").RestoreInstance(t.Context(), model.RestoreInstanceInput{
		ID: "DB1-enc", SnapshotID: "enc", Settings: want,
		Carry: []model.Setting{"DBInstanceClass", "VpcSecurityGroupIDs", "MultiAZ", "EnabledCloudwatchLogsExports", "BackupRetentionPeriod"},
	})
	require.NoError(t, err)
	form := f.lastCall("RestoreDBInstanceFromDBSnapshot").Form
	assert.Equal(t, "db1-enc", form.Get("DBInstanceIdentifier"))
	assert.Equal(t, "db.m6g.large", form.Get("DBInstanceClass"))
	assert.Equal(t, "sg-1", form.Get("VpcSecurityGroupIds.VpcSecurityGroupId.1"))
	assert.Equal(t, "true", form.Get("MultiAZ"))
	assert.Equal(t, "postgresql", form.Get("EnableCloudwatchLogsExports.member.1"))
	assert.Equal(t, "7", form.Get("BackupRetentionPeriod"))
	assert.Empty(t, form.Get("DBParameterGroupName"), "not named in Carry")
	assert.Empty(t, form.Get("Port"))
}

func TestWireModifyAppliesImmediatelyWithLogDiff(t *testing.T) {
	f := newFakeAWS(t)
	f.reply("DescribeDBInstances", ok("DescribeDBInstances", "<DBInstances>"+instanceXML+"</DBInstances>"))
	f.reply("ModifyDBInstance", ok("ModifyDBInstance", instanceXML))
	api := f.client(Config{}).For("")
	_, err := api.ModifyInstance(t.Context(), "DB1", model.InstanceSettings{
		EnabledCloudwatchLogsExports: []string{"postgresql", "upgrade"}, PerformanceInsightsEnabled: true,
		PerformanceInsightsRetentionPeriod: 7, PreferredMaintenanceWindow: "sun:05:00-sun:06:00",
	}, []model.Setting{"EnabledCloudwatchLogsExports", "PerformanceInsightsEnabled", "PerformanceInsightsRetentionPeriod", "PreferredMaintenanceWindow"})
	require.NoError(t, err)
	form := f.lastCall("ModifyDBInstance").Form
	assert.Equal(t, "true", form.Get("ApplyImmediately"))
	assert.Equal(t, "postgresql", form.Get("CloudwatchLogsExportConfiguration.EnableLogTypes.member.1"))
	assert.Equal(t, "iam-db-auth-error", form.Get("CloudwatchLogsExportConfiguration.DisableLogTypes.member.1"))
	assert.Equal(t, "true", form.Get("EnablePerformanceInsights"))
	assert.Equal(t, "7", form.Get("PerformanceInsightsRetentionPeriod"))
	assert.Equal(t, "sun:05:00-sun:06:00", form.Get("PreferredMaintenanceWindow"))

	// Nothing to change: no ModifyDBInstance call at all.
	before := len(f.callsOf("ModifyDBInstance"))
	_, err = api.ModifyInstance(t.Context(), "db1", model.InstanceSettings{EnabledCloudwatchLogsExports: []string{"iam-db-auth-error", "upgrade"}},
		[]model.Setting{"EnabledCloudwatchLogsExports"})
	require.NoError(t, err)
	assert.Len(t, f.callsOf("ModifyDBInstance"), before)
}

func TestWireRenameAndDescribeByResourceID(t *testing.T) {
	f := newFakeAWS(t)
	f.reply("ModifyDBInstance", ok("ModifyDBInstance", instanceXML))
	f.reply("DescribeDBInstances", ok("DescribeDBInstances", "<DBInstances>"+instanceXML+"</DBInstances>"))
	api := f.client(Config{}).For("")
	_, err := api.RenameInstance(t.Context(), "DB1", "DB1-Old")
	require.NoError(t, err)
	form := f.lastCall("ModifyDBInstance").Form
	assert.Equal(t, "db1", form.Get("DBInstanceIdentifier"))
	assert.Equal(t, "db1-old", form.Get("NewDBInstanceIdentifier"))
	assert.Equal(t, "true", form.Get("ApplyImmediately"))

	inst, err := api.DescribeInstanceByResourceID(t.Context(), "db-RES")
	require.NoError(t, err)
	assert.Equal(t, "db-RES", inst.ResourceID)
	form = f.lastCall("DescribeDBInstances").Form
	assert.Equal(t, "dbi-resource-id", form.Get("Filters.Filter.1.Name"))
	assert.Equal(t, "db-RES", form.Get("Filters.Filter.1.Values.Value.1"))
}

func TestWireDescribeByResourceIDEmptyIsNotFound(t *testing.T) {
	f := newFakeAWS(t)
	f.reply("DescribeDBInstances", ok("DescribeDBInstances", "<DBInstances/>"))
	_, err := f.client(Config{}).For("").DescribeInstanceByResourceID(t.Context(), "db-GONE")
	assert.True(t, model.IsNotFound(err))
}

// AWS says "no such identifier" with an error; a success with nothing in it (here an empty
// body, then an empty list) is an error, never "not found".
func TestWireDescribeByIdentifierEmptyAnswerIsNotNotFound(t *testing.T) {
	for _, body := range []fakeReply{{Status: 200, Body: ""}, ok("DescribeDBInstances", "<DBInstances/>")} {
		f := newFakeAWS(t)
		f.reply("DescribeDBInstances", body)
		_, err := f.client(Config{}).For("").DescribeInstance(t.Context(), "ledger")
		require.Error(t, err, "body %q", body.Body)
		assert.False(t, model.IsNotFound(err), "body %q: %v", body.Body, err)
	}
	for action, describe := range map[string]func(c model.RDS) error{
		"DescribeDBClusters":         func(c model.RDS) error { _, err := c.DescribeCluster(t.Context(), "shop"); return err },
		"DescribeDBSnapshots":        func(c model.RDS) error { _, err := c.DescribeSnapshot(t.Context(), "snap"); return err },
		"DescribeDBClusterSnapshots": func(c model.RDS) error { _, err := c.DescribeClusterSnapshot(t.Context(), "snap"); return err },
	} {
		f := newFakeAWS(t)
		f.reply(action, fakeReply{Status: 200, Body: ""})
		err := describe(f.client(Config{}).For(""))
		require.Error(t, err, action)
		assert.False(t, model.IsNotFound(err), "%s: %v", action, err)
	}
}

func TestWireErrorsCarryKindCodeAndRequestID(t *testing.T) {
	f := newFakeAWS(t)
	f.reply("DescribeDBInstances", fault(404, "DBInstanceNotFound", "DBInstance nope not found."))
	_, err := f.client(Config{}).For("").DescribeInstance(t.Context(), "Nope")
	var e *model.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, model.FailureNotFound, e.Failure)
	assert.Equal(t, "DescribeDBInstances", e.Op)
	assert.Equal(t, "nope", e.Resource)
	assert.Equal(t, "DBInstanceNotFound", e.Code)
	assert.NotEmpty(t, e.RequestID)
}

func TestWireThrottlingIsRetriedThenReported(t *testing.T) {
	f := newFakeAWS(t)
	throttle := fault(400, "Throttling", "Rate exceeded")
	f.reply("DescribeDBSnapshots", throttle, throttle, throttle, ok("DescribeDBSnapshots", "<DBSnapshots>"+snapshotXML+"</DBSnapshots>"))
	var records []CallRecord
	var mu sync.Mutex
	c := f.client(Config{OnCall: func(r CallRecord) { mu.Lock(); records = append(records, r); mu.Unlock() }})
	snap, err := c.For("").DescribeSnapshot(t.Context(), "enc")
	require.NoError(t, err)
	assert.Equal(t, "enc", snap.ID)
	assert.Len(t, f.callsOf("DescribeDBSnapshots"), 4)
	require.Len(t, records, 1)
	assert.Equal(t, 4, records[0].Attempts)
	assert.Equal(t, "DescribeDBSnapshots", records[0].Action)
	assert.Equal(t, "enc", records[0].Target)
	assert.Equal(t, "us-east-1", records[0].Region)
	assert.Equal(t, f.date, records[0].AWSTime)
	assert.NotEmpty(t, records[0].RequestID)
	assert.NoError(t, records[0].Err)

	f.reply("DescribeDBClusters", throttle)
	c = f.client(Config{MaxAttempts: 3})
	_, err = c.For("").DescribeCluster(t.Context(), "c1")
	assert.True(t, model.IsThrottled(err), "%v", err)
	assert.Len(t, f.callsOf("DescribeDBClusters"), 3)
}

func TestWireServerTimeAndCallObserver(t *testing.T) {
	f := newFakeAWS(t)
	f.reply("DeleteDBSnapshot", ok("DeleteDBSnapshot", snapshotXML))
	c := f.client(Config{})
	api := c.For("")
	assert.True(t, api.ServerTime().IsZero())
	var seen []CallRecord
	ctx := WithCallObserver(t.Context(), func(r CallRecord) { seen = append(seen, r) })
	require.NoError(t, api.DeleteSnapshot(ctx, "Enc"))
	require.Len(t, seen, 1)
	assert.Equal(t, "enc", seen[0].Target)
	assert.False(t, api.ServerTime().Before(f.date))
	assert.Equal(t, c.ServerTime().Truncate(1e9), api.ServerTime().Truncate(1e9))
}

type countingLimiter struct{ n atomic.Int32 }

func (l *countingLimiter) Wait(context.Context) error { l.n.Add(1); return nil }

func TestWireLimiterIsWaitedOnEveryAttempt(t *testing.T) {
	f := newFakeAWS(t)
	f.reply("DescribeDBSnapshots", fault(400, "Throttling", "Rate exceeded"), ok("DescribeDBSnapshots", "<DBSnapshots>"+snapshotXML+"</DBSnapshots>"))
	lim := &countingLimiter{}
	_, err := f.client(Config{Limiter: lim}).For("").DescribeSnapshot(t.Context(), "enc")
	require.NoError(t, err)
	assert.Equal(t, int32(2), lim.n.Load())
}

func TestWireKMSDescribeKeyAndMissingKey(t *testing.T) {
	f := newFakeAWS(t)
	f.reply("DescribeKey",
		fakeReply{Status: 200, Body: `{"KeyMetadata":{"KeyId":"k1","Arn":"arn:aws:kms:us-east-1:123456789012:key/k1","Enabled":true,"KeyState":"Enabled","KeyManager":"CUSTOMER"}}`},
		fakeReply{Status: 400, Body: `{"__type":"NotFoundException","message":"Alias alias/none is not found."}`},
		fakeReply{Status: 400, Body: `{"__type":"DisabledException","message":"key is disabled"}`})
	api := f.client(Config{}).For("")
	key, err := api.DescribeKey(t.Context(), "alias/Mine")
	require.NoError(t, err)
	assert.Equal(t, &model.Key{ID: "k1", ARN: "arn:aws:kms:us-east-1:123456789012:key/k1", Region: "us-east-1", Enabled: true, State: "Enabled", Manager: "CUSTOMER"}, key)
	_, err = api.DescribeKey(t.Context(), "alias/none")
	assert.True(t, model.IsNotFound(err), "%v", err)
	_, err = api.DescribeKey(t.Context(), "k2")
	assert.True(t, model.IsKeyNotAccessible(err), "%v", err)
}
