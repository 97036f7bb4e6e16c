package rdssim_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/rdssim"
	"github.com/rdsencrypt/rdsencrypt/internal/rdssim/simtest"
)

// took runs start and advances minute by minute until the snapshot is available; it returns
// the virtual time that took.
func snapshotTook(t *testing.T, h *simtest.Harness, c *rds.Client, id string, start func() error) time.Duration {
	t.Helper()
	t0 := h.Now()
	require.NoError(t, start())
	advanceUntilSnapshot(t, h, c, id, "available")
	return h.Now().Sub(t0)
}

// TestIncrementalSnapshotsAndCopies: the first snapshot and the first copy with a key are
// full; later ones cost what changed; a copy with another key, or after the earlier same-key
// copy is gone, is full again.
func TestIncrementalSnapshotsAndCopies(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c := h.RDS("us-east-1")
	newKey(t, h, "us-east-1", "alias/k1")
	newKey(t, h, "us-east-1", "alias/k2")
	in := mysqlInput("inc")
	in.AllocatedStorage = aws.Int32(400)
	in.BackupRetentionPeriod = aws.Int32(0)
	createAvailable(t, h, c, in)
	h.Workload("us-east-1", "inc", rdssim.Workload{Clients: 4, ChangeGiBPerHour: 6})
	d := rdssim.DefaultDurations()

	snap := func(id string) func() error {
		return func() error {
			_, err := c.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("inc"), DBSnapshotIdentifier: aws.String(id)})
			return err
		}
	}
	cp := func(src, dst, key string) func() error {
		return func() error {
			_, err := c.CopyDBSnapshot(ctx, &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: aws.String(src),
				TargetDBSnapshotIdentifier: aws.String(dst), KmsKeyId: aws.String(key)})
			return err
		}
	}
	full := func(base, perGiB time.Duration) time.Duration { return base + 400*perGiB }

	s1 := snapshotTook(t, h, c, "s1", snap("s1"))
	assert.InDelta(t, full(d.SnapshotBase, d.SnapshotPerGiB).Minutes(), s1.Minutes(), 1, "first snapshot is full")
	c1 := snapshotTook(t, h, c, "c1", cp("s1", "c1", "alias/k1"))
	assert.InDelta(t, full(d.EncryptedCopyBase, d.EncryptedCopyPerGiB).Minutes(), c1.Minutes(), 1, "first copy with a key is full")

	// ~2.1 h of writes at 6 GiB/h since s1: about 13 GiB changed.
	sinceS1 := s1 + c1
	changed := 6 * sinceS1.Hours()
	s2 := snapshotTook(t, h, c, "s2", snap("s2"))
	want := d.SnapshotBase + time.Duration(changed*float64(d.SnapshotPerGiB))
	assert.InDelta(t, want.Minutes(), s2.Minutes(), 1.5, "second snapshot holds what changed")
	c2 := snapshotTook(t, h, c, "c2", cp("s2", "c2", "alias/k1"))
	changed += 6 * s2.Hours()
	want = d.EncryptedCopyBase + time.Duration(changed*float64(d.EncryptedCopyPerGiB))
	assert.InDelta(t, want.Minutes(), c2.Minutes(), 1.5, "copy with the same key while c1 exists is incremental")
	assert.Less(t, c2, c1/5)

	c3 := snapshotTook(t, h, c, "c3", cp("s2", "c3", "alias/k2"))
	assert.InDelta(t, c1.Minutes(), c3.Minutes(), 1, "first copy with another key is full")

	// Without an earlier same-key copy, the copy is full again.
	for _, id := range []string{"c1", "c2"} {
		_, err := c.DeleteDBSnapshot(ctx, &rds.DeleteDBSnapshotInput{DBSnapshotIdentifier: aws.String(id)})
		require.NoError(t, err)
	}
	h.Advance(time.Minute)
	s3 := snapshotTook(t, h, c, "s3", snap("s3"))
	assert.Less(t, s3, s1/5, "s3 is incremental against s2")
	c4 := snapshotTook(t, h, c, "c4", cp("s3", "c4", "alias/k1"))
	assert.InDelta(t, c1.Minutes(), c4.Minutes(), 1, "the earlier k1 copies are gone: full")

	// A snapshot taken without writes since the last costs only the fixed part.
	h.Workload("us-east-1", "inc", rdssim.Workload{})
	s4 := snapshotTook(t, h, c, "s4", snap("s4"))
	s5 := snapshotTook(t, h, c, "s5", snap("s5"))
	assert.LessOrEqual(t, s5, d.SnapshotBase+time.Minute, "nothing written since s4: %v", s4)
}

// TestRestoreAvailableBeforeLoaded: a restore is available after the same time whatever the
// size (lazy loading), not after a per-GiB hydration.
func TestRestoreAvailableBeforeLoaded(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c := h.RDS("us-east-1")
	took := map[int32]time.Duration{}
	for _, gib := range []int32{20, 4000} {
		id := "lazy" + map[int32]string{20: "small", 4000: "big"}[gib]
		in := mysqlInput(id)
		in.AllocatedStorage = aws.Int32(gib)
		in.BackupRetentionPeriod = aws.Int32(0)
		createAvailable(t, h, c, in)
		_, err := c.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String(id), DBSnapshotIdentifier: aws.String(id + "-s")})
		require.NoError(t, err)
		advanceUntilSnapshot(t, h, c, id+"-s", "available")
		t0 := h.Now()
		_, err = c.RestoreDBInstanceFromDBSnapshot(ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{
			DBInstanceIdentifier: aws.String(id + "-r"), DBSnapshotIdentifier: aws.String(id + "-s")})
		require.NoError(t, err)
		advanceUntilInstance(t, h, c, id+"-r", "available")
		took[gib] = h.Now().Sub(t0)
	}
	assert.Equal(t, took[20], took[4000], "available does not wait for the volume to load")
	assert.InDelta(t, rdssim.DefaultDurations().RestoreBase.Minutes(), took[4000].Minutes(), 1)
}

// TestSecurityGroups drives the EC2 client: create in the VPC of the DB subnet group, tags,
// no inbound rules, duplicates, not found, in-use and default groups cannot be deleted, and a
// group of another VPC is refused by ModifyDBInstance.
func TestSecurityGroups(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c, e := h.RDS("us-east-1"), h.EC2("us-east-1")
	db := createAvailable(t, h, c, mysqlInput("sgdb"))
	vpc := aws.ToString(db.DBSubnetGroup.VpcId)
	orig := aws.ToString(db.VpcSecurityGroups[0].VpcSecurityGroupId)

	out, err := e.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("freeze-sgdb"),
		Description: aws.String("no inbound rules"), VpcId: aws.String(vpc),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSecurityGroup,
			Tags: []ec2types.Tag{{Key: aws.String("rdsencrypt:migration-id"), Value: aws.String("m1")}}}}})
	require.NoError(t, err)
	id := aws.ToString(out.GroupId)
	require.NotEmpty(t, id)
	assert.Equal(t, "m1", aws.ToString(out.Tags[0].Value))

	_, err = e.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("freeze-sgdb"),
		Description: aws.String("again"), VpcId: aws.String(vpc)})
	assert.Equal(t, "InvalidGroup.Duplicate", apiCode(t, err))
	_, err = e.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("x"),
		Description: aws.String("x"), VpcId: aws.String("vpc-00000000")})
	assert.Equal(t, "InvalidVpcID.NotFound", apiCode(t, err))

	d, err := e.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id, orig}})
	require.NoError(t, err)
	require.Len(t, d.SecurityGroups, 2)
	for _, g := range d.SecurityGroups {
		if aws.ToString(g.GroupId) == id {
			assert.Empty(t, g.IpPermissions, "a new group has no inbound rule")
			assert.Len(t, g.IpPermissionsEgress, 1)
			assert.Equal(t, vpc, aws.ToString(g.VpcId))
		} else {
			assert.NotEmpty(t, g.IpPermissions, "the instance's group lets its clients in")
		}
	}
	byTag, err := e.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:rdsencrypt:migration-id"), Values: []string{"m1"}}}})
	require.NoError(t, err)
	require.Len(t, byTag.SecurityGroups, 1)
	assert.Equal(t, id, aws.ToString(byTag.SecurityGroups[0].GroupId))
	_, err = e.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{"sg-0000000000000000f"}})
	assert.Equal(t, "InvalidGroup.NotFound", apiCode(t, err))

	_, err = c.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("sgdb"),
		VpcSecurityGroupIds: []string{id}, ApplyImmediately: aws.Bool(true)})
	require.NoError(t, err)
	advanceUntilInstance(t, h, c, "sgdb", "available")
	_, err = e.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(id)})
	assert.Equal(t, "DependencyViolation", apiCode(t, err))
	_, err = c.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("sgdb"),
		VpcSecurityGroupIds: []string{orig}, ApplyImmediately: aws.Bool(true)})
	require.NoError(t, err)
	advanceUntilInstance(t, h, c, "sgdb", "available")
	_, err = e.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(id)})
	require.NoError(t, err)
	_, err = e.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
	assert.Equal(t, "InvalidGroup.NotFound", apiCode(t, err))
	_, err = e.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(orig)})
	assert.Contains(t, []string{"CannotDelete", "DependencyViolation"}, apiCode(t, err))
}

// connections returns the per-minute Maximum of an AWS/RDS metric of instance id over the
// last n whole minutes, oldest first.
func metric(t *testing.T, h *simtest.Harness, cw *cloudwatch.Client, id, name string, n int) []float64 {
	t.Helper()
	end := h.Now().Truncate(time.Minute)
	out, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(end.Add(-time.Duration(n) * time.Minute)), EndTime: aws.Time(end),
		ScanBy: cwtypes.ScanByTimestampAscending,
		MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("m"), MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: aws.String("AWS/RDS"), MetricName: aws.String(name),
				Dimensions: []cwtypes.Dimension{{Name: aws.String("DBInstanceIdentifier"), Value: aws.String(id)}}},
			Period: aws.Int32(60), Stat: aws.String("Maximum")}}},
	})
	require.NoError(t, err)
	require.Len(t, out.MetricDataResults, 1)
	r := out.MetricDataResults[0]
	require.Equal(t, cwtypes.StatusCodeComplete, r.StatusCode)
	require.Len(t, r.Timestamps, len(r.Values))
	for i := 1; i < len(r.Timestamps); i++ {
		require.True(t, r.Timestamps[i].After(r.Timestamps[i-1]))
	}
	return r.Values
}

// TestClientsThroughSecurityGroups: clients connect through the instance's security groups,
// keep their sessions when the groups are replaced (stateful), lose them at a reboot, and
// cannot come back through an ingress-free group; a held session survives the reboot;
// DatabaseConnections, WriteIOPS and WriteThroughput report it through CloudWatch GetMetricData.
func TestClientsThroughSecurityGroups(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c, e, cw := h.RDS("us-east-1"), h.EC2("us-east-1"), h.CloudWatch("us-east-1")
	db := createAvailable(t, h, c, mysqlInput("app"))
	h.Workload("us-east-1", "app", rdssim.Workload{Clients: 7, ChangeGiBPerHour: 1, WriteIOPS: 250})
	h.Advance(3 * time.Minute)
	assert.Equal(t, []float64{7, 7}, metric(t, h, cw, "app", "DatabaseConnections", 2))
	assert.Equal(t, []float64{250, 250}, metric(t, h, cw, "app", "WriteIOPS", 2))
	assert.InDeltaSlice(t, []float64{(1 << 30) / 3600.0, (1 << 30) / 3600.0}, metric(t, h, cw, "app", "WriteThroughput", 2), 0.01,
		"WriteThroughput: 1 GiB changed per hour, in bytes per second")
	require.NoError(t, h.Connect("us-east-1", "app"))

	g, err := e.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("closed"),
		Description: aws.String("no inbound rules"), VpcId: db.DBSubnetGroup.VpcId})
	require.NoError(t, err)
	_, err = c.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("app"),
		VpcSecurityGroupIds: []string{aws.ToString(g.GroupId)}, ApplyImmediately: aws.Bool(true)})
	require.NoError(t, err)
	advanceUntilInstance(t, h, c, "app", "available")
	h.Advance(2 * time.Minute)
	assert.Equal(t, []float64{7, 7}, metric(t, h, cw, "app", "DatabaseConnections", 2), "open sessions survive the new groups")
	assert.Error(t, h.Connect("us-east-1", "app"), "no new connection through an ingress-free group")

	h.HoldSession("us-east-1", "app", 1)
	_, err = c.RebootDBInstance(ctx, &rds.RebootDBInstanceInput{DBInstanceIdentifier: aws.String("app")})
	require.NoError(t, err)
	advanceUntilInstance(t, h, c, "app", "available")
	h.Advance(2 * time.Minute)
	assert.Equal(t, []float64{1, 1}, metric(t, h, cw, "app", "DatabaseConnections", 2), "only the held session is left")
	h.HoldSession("us-east-1", "app", -1)
	h.Advance(2 * time.Minute)
	assert.Equal(t, []float64{0, 0}, metric(t, h, cw, "app", "DatabaseConnections", 2))
	assert.Equal(t, []float64{0, 0}, metric(t, h, cw, "app", "WriteIOPS", 2))
	assert.Equal(t, []float64{0, 0}, metric(t, h, cw, "app", "WriteThroughput", 2), "no session, nothing written")

	// A minute that has not ended is not reported; an unknown instance has no datapoints.
	assert.Empty(t, metric(t, h, cw, "nosuch", "DatabaseConnections", 3))

	// The API's rules: a query id must start with a lower-case letter.
	_, err = cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(h.Now().Add(-time.Hour)), EndTime: aws.Time(h.Now()),
		MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("Bad"), Expression: aws.String("x")}}})
	assert.Equal(t, "InvalidParameterValue", apiCode(t, err))
	_, err = cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(h.Now()), EndTime: aws.Time(h.Now().Add(-time.Hour)),
		MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("m"), Expression: aws.String("x")}}})
	assert.Equal(t, "InvalidParameterValue", apiCode(t, err))
}

// TestClientsFollowTheName: the clients of an identifier follow it through a rename; the
// renamed instance loses them.
func TestClientsFollowTheName(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c := h.RDS("us-east-1")
	createAvailable(t, h, c, mysqlInput("orders"))
	h.Workload("us-east-1", "orders", rdssim.Workload{Clients: 3})
	h.Advance(time.Minute)
	if h.Sim == nil {
		t.Skip("session counts are read in process")
	}
	require.Equal(t, 3, h.Sim.Sessions("us-east-1", "orders"))
	_, err := c.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("orders"),
		NewDBInstanceIdentifier: aws.String("orders-old"), ApplyImmediately: aws.Bool(true)})
	require.NoError(t, err)
	h.Advance(time.Minute) // the new name answers after the rename's grace
	advanceUntilInstance(t, h, c, "orders-old", "available")
	assert.Equal(t, 0, h.Sim.Sessions("us-east-1", "orders-old"))
	assert.Error(t, h.Connect("us-east-1", "orders"), "nothing answers as orders any more")
}
