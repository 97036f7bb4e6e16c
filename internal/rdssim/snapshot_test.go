package rdssim_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/rdssim"
	"github.com/rdsencrypt/rdsencrypt/internal/rdssim/simtest"
)

func TestSnapshotRules(t *testing.T) {
	t.Parallel()
	h := simtest.Start(t, rdssim.Options{Start: testStart, ManualClock: true, ManualSnapshotQuota: 3})
	c := h.RDS("us-east-1")
	createAvailable(t, h, c, mysqlInput("s"))
	snap := func(db, id string) error {
		_, err := c.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String(db), DBSnapshotIdentifier: aws.String(id)})
		return err
	}
	var nf *types.DBInstanceNotFoundFault
	require.True(t, errors.As(snap("nope", "x"), &nf))
	assert.Equal(t, "InvalidParameterValue", apiCode(t, snap("s", "bad--id")))
	require.NoError(t, snap("s", "Snap-1"))
	var busy *types.InvalidDBInstanceStateFault
	require.True(t, errors.As(snap("s", "snap-2"), &busy), "instance backing-up")
	advanceUntilSnapshot(t, h, c, "snap-1", "available")
	var dup *types.DBSnapshotAlreadyExistsFault
	require.True(t, errors.As(snap("s", "SNAP-1"), &dup))

	// Copies and quota.
	for _, id := range []string{"c1", "c2"} {
		_, err := c.CopyDBSnapshot(ctx, &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: aws.String("snap-1"), TargetDBSnapshotIdentifier: aws.String(id)})
		require.NoError(t, err)
	}
	_, err := c.CopyDBSnapshot(ctx, &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: aws.String("snap-1"), TargetDBSnapshotIdentifier: aws.String("c3")})
	var quota *types.SnapshotQuotaExceededFault
	require.True(t, errors.As(err, &quota), "quota: %v", err)
	_, err = c.CopyDBSnapshot(ctx, &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: aws.String("c1"), TargetDBSnapshotIdentifier: aws.String("c4")})
	var state *types.InvalidDBSnapshotStateFault
	require.True(t, errors.As(err, &state), "copy of a creating snapshot: %v", err)
	_, err = c.CopyDBSnapshot(ctx, &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: aws.String("missing"), TargetDBSnapshotIdentifier: aws.String("c4")})
	var snf *types.DBSnapshotNotFoundFault
	require.True(t, errors.As(err, &snf))
	assert.Equal(t, 404, httpStatus(t, err))

	// Describe: by instance, type, filters.
	all, err := c.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{DBInstanceIdentifier: aws.String("s")})
	require.NoError(t, err)
	assert.Len(t, all.DBSnapshots, 4, "automated + snap-1 + c1 + c2")
	manual, err := c.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{SnapshotType: aws.String("manual")})
	require.NoError(t, err)
	assert.Len(t, manual.DBSnapshots, 3)
	f, err := c.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{Filters: []types.Filter{
		{Name: aws.String("db-snapshot-id"), Values: []string{"c1", "c2"}}, {Name: aws.String("engine"), Values: []string{"mysql"}}}})
	require.NoError(t, err)
	assert.Len(t, f.DBSnapshots, 2)
	byRID, err := c.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{DbiResourceId: all.DBSnapshots[0].DbiResourceId})
	require.NoError(t, err)
	assert.Len(t, byRID.DBSnapshots, 4)
	_, err = c.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{Filters: []types.Filter{{Name: aws.String("color"), Values: []string{"x"}}}})
	assert.Equal(t, "InvalidParameterValue", apiCode(t, err))

	// Waiters.
	w := rds.NewDBSnapshotAvailableWaiter(c, func(o *rds.DBSnapshotAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, 5*time.Millisecond
	})
	h.Advance(time.Hour)
	require.NoError(t, w.Wait(ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String("c2")}, 5*time.Second))

	// Delete: manual only, then gone (DBSnapshotDeleted waiter).
	auto, err := c.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{SnapshotType: aws.String("automated")})
	require.NoError(t, err)
	require.Len(t, auto.DBSnapshots, 1)
	_, err = c.DeleteDBSnapshot(ctx, &rds.DeleteDBSnapshotInput{DBSnapshotIdentifier: auto.DBSnapshots[0].DBSnapshotIdentifier})
	require.True(t, errors.As(err, &state), "automated snapshots can't be deleted: %v", err)
	out, err := c.DeleteDBSnapshot(ctx, &rds.DeleteDBSnapshotInput{DBSnapshotIdentifier: aws.String("c1")})
	require.NoError(t, err)
	assert.Equal(t, "deleting", aws.ToString(out.DBSnapshot.Status))
	dw := rds.NewDBSnapshotDeletedWaiter(c, func(o *rds.DBSnapshotDeletedWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, 5*time.Millisecond
	})
	h.Advance(time.Minute)
	require.NoError(t, dw.Wait(ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String("c1")}, time.Second))
}

func TestSnapshotFailureInjectionAndKeyLoss(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c := h.RDS("us-east-1")
	keyARN := newKey(t, h, "us-east-1", "alias/k")
	createAvailable(t, h, c, mysqlInput("db"))
	_, err := c.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("db"), DBSnapshotIdentifier: aws.String("plain")})
	require.NoError(t, err)
	advanceUntilSnapshot(t, h, c, "plain", "available")

	// Injected: the next copy named "bad" fails; the waiter reports the failure.
	h.Faults(rdssim.FaultRequest{FailSnapshot: []rdssim.ResourceRef{{Region: "us-east-1", ID: "bad"}}})
	_, err = c.CopyDBSnapshot(ctx, &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: aws.String("plain"), TargetDBSnapshotIdentifier: aws.String("bad"), KmsKeyId: aws.String(keyARN)})
	require.NoError(t, err)
	h.Advance(time.Hour)
	assert.Equal(t, "failed", aws.ToString(describeSnap(t, c, "bad").Status))
	w := rds.NewDBSnapshotAvailableWaiter(c, func(o *rds.DBSnapshotAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, 5*time.Millisecond
	})
	require.Error(t, w.Wait(ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String("bad")}, time.Second))

	// A key disabled while the encrypted copy runs fails it.
	_, err = c.CopyDBSnapshot(ctx, &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: aws.String("plain"), TargetDBSnapshotIdentifier: aws.String("enc"), KmsKeyId: aws.String("alias/k")})
	require.NoError(t, err)
	require.NoError(t, h.Sim.DisableKeyAt("us-east-1", "alias/k", h.Now().Add(5*time.Minute)))
	h.Advance(4 * time.Minute)
	assert.Equal(t, "creating", aws.ToString(describeSnap(t, c, "enc").Status))
	h.Advance(2 * time.Minute)
	assert.Equal(t, "failed", aws.ToString(describeSnap(t, c, "enc").Status))

	// A disabled key can't be used.
	_, err = c.CopyDBSnapshot(ctx, &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: aws.String("plain"), TargetDBSnapshotIdentifier: aws.String("enc2"), KmsKeyId: aws.String("alias/k")})
	var kmsErr *types.KMSKeyNotAccessibleFault
	require.True(t, errors.As(err, &kmsErr), "disabled key: %v", err)
	// Nor can a key of another region.
	westKey := newKey(t, h, "us-west-2", "alias/west")
	_, err = c.CopyDBSnapshot(ctx, &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: aws.String("plain"), TargetDBSnapshotIdentifier: aws.String("enc2"), KmsKeyId: aws.String(westKey)})
	require.True(t, errors.As(err, &kmsErr), "foreign key: %v", err)
	// Nor an asymmetric, signing or HMAC key: RDS encrypts only with symmetric encryption keys.
	for _, spec := range []struct{ spec, usage string }{{"RSA_2048", "ENCRYPT_DECRYPT"}, {"ECC_NIST_P256", "SIGN_VERIFY"}, {"HMAC_256", "GENERATE_VERIFY_MAC"}} {
		out, err := h.KMS("us-east-1").CreateKey(ctx, &kms.CreateKeyInput{KeySpec: kmstypes.KeySpec(spec.spec), KeyUsage: kmstypes.KeyUsageType(spec.usage)})
		require.NoError(t, err)
		_, err = c.CopyDBSnapshot(ctx, &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: aws.String("plain"), TargetDBSnapshotIdentifier: aws.String("enc2"), KmsKeyId: out.KeyMetadata.Arn})
		require.True(t, errors.As(err, &kmsErr), "%s key: %v", spec.spec, err)
		assert.Contains(t, err.Error(), "symmetric encryption")
	}

	// A key disabled during a restore leaves the instance without credentials.
	k2 := newKey(t, h, "us-east-1", "alias/k2")
	_, err = c.CopyDBSnapshot(ctx, &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: aws.String("plain"), TargetDBSnapshotIdentifier: aws.String("enc3"), KmsKeyId: aws.String(k2)})
	require.NoError(t, err)
	advanceUntilSnapshot(t, h, c, "enc3", "available")
	_, err = c.RestoreDBInstanceFromDBSnapshot(ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{DBInstanceIdentifier: aws.String("restored"), DBSnapshotIdentifier: aws.String("enc3")})
	require.NoError(t, err)
	h.Faults(rdssim.FaultRequest{DisableKeys: []rdssim.KeyDisableAt{{Region: "us-east-1", KeyID: k2, AfterSeconds: 60}}})
	h.Advance(time.Hour)
	assert.Equal(t, "inaccessible-encryption-credentials", aws.ToString(describeOne(t, c, "restored").DBInstanceStatus))

	// A key armed to go away with the next copy stays usable until a copy with it starts, then
	// fails that copy however long the caller waits.
	k3 := newKey(t, h, "us-east-1", "alias/k3")
	h.Faults(rdssim.FaultRequest{DisableKeys: []rdssim.KeyDisableAt{{Region: "us-east-1", KeyID: k3, AfterSeconds: 60, OnCopy: true}}})
	h.Advance(time.Hour)
	_, err = c.CopyDBSnapshot(ctx, &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: aws.String("plain"), TargetDBSnapshotIdentifier: aws.String("enc4"), KmsKeyId: aws.String(k3)})
	require.NoError(t, err, "the key is still enabled when the copy is asked for")
	h.Advance(24 * time.Hour)
	assert.Equal(t, "failed", aws.ToString(advanceUntilSnapshot(t, h, c, "enc4", "failed").Status))

	// Armed to go away with the next restore into it: usable until the restore is accepted,
	// then the restoring instance loses its credentials however long the caller waits.
	k4 := newKey(t, h, "us-east-1", "alias/k4")
	_, err = c.CopyDBSnapshot(ctx, &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: aws.String("plain"), TargetDBSnapshotIdentifier: aws.String("enc5"), KmsKeyId: aws.String(k4)})
	require.NoError(t, err)
	h.Faults(rdssim.FaultRequest{DisableKeys: []rdssim.KeyDisableAt{{Region: "us-east-1", KeyID: k4, AfterSeconds: 60, OnRestore: true}}})
	advanceUntilSnapshot(t, h, c, "enc5", "available")
	_, err = c.RestoreDBInstanceFromDBSnapshot(ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{DBInstanceIdentifier: aws.String("restored2"), DBSnapshotIdentifier: aws.String("enc5")})
	require.NoError(t, err, "the key is still enabled when the restore is asked for")
	h.Advance(24 * time.Hour)
	assert.Equal(t, "inaccessible-encryption-credentials", aws.ToString(describeOne(t, c, "restored2").DBInstanceStatus))
}

func TestCrossRegionCopy(t *testing.T) {
	t.Parallel()
	h := manual(t)
	east, west := h.RDS("us-east-1"), h.RDS("us-west-2")
	keyEast := newKey(t, h, "us-east-1", "alias/e")
	keyWest := newKey(t, h, "us-west-2", "alias/w")
	in := mysqlInput("db")
	in.StorageEncrypted, in.KmsKeyId = aws.Bool(true), aws.String(keyEast)
	createAvailable(t, h, east, in)
	_, err := east.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("db"), DBSnapshotIdentifier: aws.String("s")})
	require.NoError(t, err)
	src := advanceUntilSnapshot(t, h, east, "s", "available")

	_, err = west.CopyDBSnapshot(ctx, &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: src.DBSnapshotArn, TargetDBSnapshotIdentifier: aws.String("s-west"), SourceRegion: aws.String("us-east-1")})
	assert.Equal(t, "InvalidParameterValue", apiCode(t, err), "encrypted cross-region copy needs a destination key")
	out, err := west.CopyDBSnapshot(ctx, &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: src.DBSnapshotArn, TargetDBSnapshotIdentifier: aws.String("s-west"),
		SourceRegion: aws.String("us-east-1"), KmsKeyId: aws.String("alias/w"), CopyTags: aws.Bool(true)})
	require.NoError(t, err)
	assert.Equal(t, "pending", aws.ToString(out.DBSnapshot.Status))
	assert.Equal(t, "us-east-1", aws.ToString(out.DBSnapshot.SourceRegion))
	assert.Equal(t, aws.ToString(src.DBSnapshotArn), aws.ToString(out.DBSnapshot.SourceDBSnapshotIdentifier))
	assert.Equal(t, keyWest, aws.ToString(out.DBSnapshot.KmsKeyId))
	got := advanceUntilSnapshot(t, h, west, "s-west", "available")
	assert.Equal(t, "arn:aws:rds:us-west-2:123456789012:snapshot:s-west", aws.ToString(got.DBSnapshotArn))

	// A plain id of another region's snapshot is not found in this region.
	_, err = west.CopyDBSnapshot(ctx, &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: aws.String("s"), TargetDBSnapshotIdentifier: aws.String("x"), KmsKeyId: aws.String("alias/w")})
	var snf *types.DBSnapshotNotFoundFault
	require.True(t, errors.As(err, &snf))
}

func TestDescribePagingAndFilters(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c := h.RDS("eu-west-1")
	for i := range 45 {
		in := mysqlInput(fmt.Sprintf("db-%02d", i))
		if i%3 == 0 {
			in.Engine = aws.String("postgres")
		}
		_, err := c.CreateDBInstance(ctx, in)
		require.NoError(t, err)
	}
	p := rds.NewDescribeDBInstancesPaginator(c, &rds.DescribeDBInstancesInput{MaxRecords: aws.Int32(20)})
	var ids []string
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		require.NoError(t, err)
		pages++
		for _, db := range out.DBInstances {
			ids = append(ids, aws.ToString(db.DBInstanceIdentifier))
		}
	}
	assert.Equal(t, 3, pages)
	assert.Len(t, ids, 45)
	assert.Equal(t, "db-00", ids[0])
	assert.Equal(t, "db-44", ids[44])

	_, err := c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{MaxRecords: aws.Int32(5)})
	assert.Equal(t, "InvalidParameterValue", apiCode(t, err))
	out, err := c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{Filters: []types.Filter{{Name: aws.String("engine"), Values: []string{"postgres"}}}})
	require.NoError(t, err)
	assert.Len(t, out.DBInstances, 15)
	out, err = c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{Filters: []types.Filter{{Name: aws.String("db-instance-id"),
		Values: []string{"db-01", "arn:aws:rds:eu-west-1:123456789012:db:db-02"}}}})
	require.NoError(t, err)
	assert.Len(t, out.DBInstances, 2)
	out, err = c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{Filters: []types.Filter{{Name: aws.String("db-instance-id"), Values: []string{"none"}}}})
	require.NoError(t, err)
	assert.Empty(t, out.DBInstances, "a filter matching nothing is an empty list, not an error")
	out, err = c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("arn:aws:rds:eu-west-1:123456789012:db:db-03")})
	require.NoError(t, err)
	assert.Len(t, out.DBInstances, 1)
	// Regions are separate.
	other, err := h.RDS("us-east-1").DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{})
	require.NoError(t, err)
	assert.Empty(t, other.DBInstances)
}

func TestTags(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c := h.RDS("us-east-1")
	db := createAvailable(t, h, c, mysqlInput("t"))
	_, err := c.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("t"), DBSnapshotIdentifier: aws.String("t-s"),
		Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}}})
	require.NoError(t, err)
	for _, arn := range []string{aws.ToString(db.DBInstanceArn), "arn:aws:rds:us-east-1:123456789012:snapshot:t-s"} {
		_, err = c.AddTagsToResource(ctx, &rds.AddTagsToResourceInput{ResourceName: aws.String(arn),
			Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("2")}, {Key: aws.String("b"), Value: aws.String("3")}}})
		require.NoError(t, err)
		_, err = c.RemoveTagsFromResource(ctx, &rds.RemoveTagsFromResourceInput{ResourceName: aws.String(arn), TagKeys: []string{"b"}})
		require.NoError(t, err)
		out, err := c.ListTagsForResource(ctx, &rds.ListTagsForResourceInput{ResourceName: aws.String(arn)})
		require.NoError(t, err)
		assert.Equal(t, []types.Tag{{Key: aws.String("a"), Value: aws.String("2")}}, out.TagList, arn)
	}
	_, err = c.AddTagsToResource(ctx, &rds.AddTagsToResourceInput{ResourceName: db.DBInstanceArn, Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("1")}}})
	assert.Equal(t, "InvalidParameterValue", apiCode(t, err))
	_, err = c.ListTagsForResource(ctx, &rds.ListTagsForResourceInput{ResourceName: aws.String("arn:aws:rds:us-east-1:123456789012:snapshot:none")})
	var snf *types.DBSnapshotNotFoundFault
	require.True(t, errors.As(err, &snf))
	_, err = c.ListTagsForResource(ctx, &rds.ListTagsForResourceInput{ResourceName: aws.String("arn:aws:rds:us-west-2:123456789012:db:t")})
	assert.Equal(t, "InvalidParameterValue", apiCode(t, err), "ARN of another region")
}
