package adapter_test

import (
	"testing"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/model"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/awsclient"
	"github.com/rdsencrypt/rdsencrypt/internal/rdssim"
)

func requireKind(t *testing.T, want model.Failure, err error) *model.Error {
	t.Helper()
	var e *model.Error
	require.ErrorAs(t, err, &e, "want %v", want)
	assert.Equal(t, want, e.Failure, "%v", err)
	return e
}

func TestErrorKindsFromTheSimulator(t *testing.T) {
	e := startTickingSim(t, 20*time.Second) // the source is still backing up at the second snapshot, at any speed
	ctx := e.ctx(t)
	api := e.api
	e.seedKey(t, "us-east-1", "alias/app")
	e.seedInstance(t, "us-east-1", "app", nil)

	t.Run("not found", func(t *testing.T) {
		_, err := api.DescribeInstance(ctx, "Missing")
		got := requireKind(t, model.FailureNotFound, err)
		assert.Equal(t, "DescribeDBInstances", got.Op)
		assert.Equal(t, "missing", got.Resource)
		assert.Equal(t, "DBInstanceNotFound", got.Code)
		assert.NotEmpty(t, got.RequestID)
		_, err = api.DescribeSnapshot(ctx, "missing")
		requireKind(t, model.FailureNotFound, err)
		_, err = api.DescribeInstanceByResourceID(ctx, "db-NOSUCHRESOURCE")
		requireKind(t, model.FailureNotFound, err)
		_, err = api.DescribeKey(ctx, "alias/none")
		requireKind(t, model.FailureNotFound, err)
	})

	t.Run("invalid state then already exists", func(t *testing.T) {
		_, err := api.CreateSnapshot(ctx, "app", "s1", nil)
		require.NoError(t, err)
		_, err = api.CreateSnapshot(ctx, "app", "s2", nil)
		requireKind(t, model.FailureInvalidState, err)
		_, err = awsclient.SnapshotAvailable(api, "s1").Until(ctx, fast)
		require.NoError(t, err)
		inst, err := api.DescribeInstance(ctx, "app")
		require.NoError(t, err)
		_, err = awsclient.InstanceAvailable(api, inst.ResourceID, nil).Until(ctx, fast)
		require.NoError(t, err)
		_, err = api.CreateSnapshot(ctx, "app", "S1", nil)
		requireKind(t, model.FailureAlreadyExists, err)
		_, err = api.RestoreInstance(ctx, model.RestoreInstanceInput{ID: "app", SnapshotID: "s1"})
		requireKind(t, model.FailureAlreadyExists, err)
	})

	t.Run("invalid parameter", func(t *testing.T) {
		_, err := api.RenameInstance(ctx, "app", "1-not--valid-")
		requireKind(t, model.FailureInvalidParameter, err)
	})

	t.Run("key not accessible", func(t *testing.T) {
		_, err := api.CopySnapshot(ctx, model.CopySnapshotInput{SourceID: "s1", TargetID: "s1-enc", KmsKeyID: "alias/none"})
		requireKind(t, model.FailureKeyNotAccessible, err)

		_, err = e.h.KMS("us-east-1").DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String("alias/app")})
		require.NoError(t, err)
		key, err := api.DescribeKey(ctx, "alias/app")
		require.NoError(t, err)
		assert.False(t, key.Enabled)
		assert.Equal(t, "Disabled", key.State)
		_, err = api.CopySnapshot(ctx, model.CopySnapshotInput{SourceID: "s1", TargetID: "s1-enc", KmsKeyID: "alias/app"})
		requireKind(t, model.FailureKeyNotAccessible, err)
	})

	t.Run("injected faults", func(t *testing.T) {
		cases := []struct {
			code string
			want model.Failure
		}{
			{"AccessDenied", model.FailureAccessDenied},
			{"InvalidParameterCombination", model.FailureInvalidParameter},
			{"SnapshotQuotaExceeded", model.FailureQuotaExceeded},
			{"InsufficientDBInstanceCapacity", model.FailureCapacity},
			{"KMSKeyNotAccessibleFault", model.FailureKeyNotAccessible},
		}
		for _, tc := range cases {
			e.h.Faults(rdssim.FaultRequest{FailCalls: []rdssim.CallFailure{{Action: "DescribeDBSnapshots", Nth: 1, Code: tc.code}}})
			_, err := api.DescribeSnapshot(ctx, "s1")
			got := requireKind(t, tc.want, err)
			assert.Equal(t, tc.code, got.Code)
		}
	})
}

func TestServerErrorIsRetried(t *testing.T) {
	var records []awsclient.CallRecord
	e := startSim(t, awsclient.Config{OnCall: func(r awsclient.CallRecord) { records = append(records, r) }})
	e.h.Faults(rdssim.FaultRequest{FailCalls: []rdssim.CallFailure{{Action: "DescribeDBSnapshots", Nth: 1, Code: "InternalFailure", Status: 500}}})
	_, err := e.api.DescribeSnapshot(e.ctx(t), "none")
	requireKind(t, model.FailureNotFound, err)
	require.NotEmpty(t, records)
	last := records[len(records)-1]
	assert.Equal(t, 2, last.Attempts, "the 500 was retried")
	assert.True(t, model.IsNotFound(last.Err))
}

func TestWaitFailsFastOnFailureStatus(t *testing.T) {
	e := startSim(t, awsclient.Config{})
	ctx := e.ctx(t)
	api := e.api
	keyARN := e.seedKey(t, "us-east-1", "alias/app")
	e.seedInstance(t, "us-east-1", "app", nil)

	e.h.Faults(rdssim.FaultRequest{FailSnapshot: []rdssim.ResourceRef{{ID: "doomed"}}})
	_, err := api.CreateSnapshot(ctx, "app", "doomed", nil)
	require.NoError(t, err)
	_, err = awsclient.SnapshotAvailable(api, "doomed").Until(ctx, fast)
	var se *awsclient.StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, model.SnapshotFailed, se.Status)

	enc := e.encryptedCopy(t, api, "app", keyARN)
	e.h.Faults(rdssim.FaultRequest{FailRestore: []rdssim.ResourceRef{{ID: "app-new"}}})
	restored, err := api.RestoreInstance(ctx, model.RestoreInstanceInput{ID: "app-new", SnapshotID: enc.ID})
	require.NoError(t, err)
	_, err = awsclient.InstanceAvailable(api, restored.ResourceID, nil).Until(ctx, fast)
	require.ErrorAs(t, err, &se)
	assert.True(t, model.IsInstanceFailed(se.Status), se.Status)
	assert.Contains(t, err.Error(), "app-new")
}
