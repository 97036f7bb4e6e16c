package awsclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/rdsencrypt/rdsencrypt/internal/model"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sdkError wraps err the way the SDK does: OperationError > ResponseError > fault.
func sdkError(op string, status int, requestID string, err error) error {
	return &smithy.OperationError{ServiceID: "RDS", OperationName: op, Err: &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: err},
		RequestID:     requestID,
	}}
}

func generic(code string) error {
	return &smithy.GenericAPIError{Code: code, Message: code + " happened"}
}

func TestTranslateErrorKinds(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want model.Failure
	}{
		{"typed instance not found", &types.DBInstanceNotFoundFault{Message: aws.String("DBInstance db1 not found.")}, model.FailureNotFound},
		{"typed snapshot not found", &types.DBSnapshotNotFoundFault{}, model.FailureNotFound},
		{"typed cluster not found", &types.DBClusterNotFoundFault{}, model.FailureNotFound},
		{"typed cluster snapshot not found", &types.DBClusterSnapshotNotFoundFault{}, model.FailureNotFound},
		{"typed already exists", &types.DBSnapshotAlreadyExistsFault{}, model.FailureAlreadyExists},
		{"typed cluster already exists", &types.DBClusterAlreadyExistsFault{}, model.FailureAlreadyExists},
		{"typed invalid instance state", &types.InvalidDBInstanceStateFault{}, model.FailureInvalidState},
		{"typed invalid cluster state", &types.InvalidDBClusterStateFault{}, model.FailureInvalidState},
		{"typed KMS not accessible", &types.KMSKeyNotAccessibleFault{}, model.FailureKeyNotAccessible},
		{"typed snapshot quota", &types.SnapshotQuotaExceededFault{}, model.FailureQuotaExceeded},
		{"typed instance quota", &types.InstanceQuotaExceededFault{}, model.FailureQuotaExceeded},
		{"typed capacity", &types.InsufficientDBInstanceCapacityFault{}, model.FailureCapacity},
		{"typed cluster capacity", &types.InsufficientDBClusterCapacityFault{}, model.FailureCapacity},
		{"typed invalid restore", &types.InvalidRestoreFault{}, model.FailureInvalidParameter},
		{"kms not found", &kmstypes.NotFoundException{}, model.FailureNotFound},
		{"kms disabled", &kmstypes.DisabledException{}, model.FailureKeyNotAccessible},
		{"kms invalid state", &kmstypes.KMSInvalidStateException{}, model.FailureKeyNotAccessible},
		{"InvalidParameterValue", generic("InvalidParameterValue"), model.FailureInvalidParameter},
		{"InvalidParameterCombination", generic("InvalidParameterCombination"), model.FailureInvalidParameter},
		{"MissingParameter", generic("MissingParameter"), model.FailureInvalidParameter},
		{"AccessDenied", generic("AccessDenied"), model.FailureAccessDenied},
		{"AccessDeniedException", generic("AccessDeniedException"), model.FailureAccessDenied},
		{"InvalidClientTokenId", generic("InvalidClientTokenId"), model.FailureAccessDenied},
		{"Throttling", generic("Throttling"), model.FailureThrottled},
		{"ThrottlingException", generic("ThrottlingException"), model.FailureThrottled},
		{"generic code of a modeled fault", generic("DBInstanceNotFound"), model.FailureNotFound},
		{"generic KMSKeyNotAccessibleFault", generic("KMSKeyNotAccessibleFault"), model.FailureKeyNotAccessible},
		{"generic DBClusterSnapshotAlreadyExistsFault", generic("DBClusterSnapshotAlreadyExistsFault"), model.FailureAlreadyExists},
		{"generic InvalidDBSnapshotState", generic("InvalidDBSnapshotState"), model.FailureInvalidState},
		{"generic StorageQuotaExceeded", generic("StorageQuotaExceeded"), model.FailureQuotaExceeded},
		{"generic InsufficientStorageClusterCapacity", generic("InsufficientStorageClusterCapacity"), model.FailureCapacity},
		{"InternalFailure", generic("InternalFailure"), model.FailureUnavailable},
		{"unknown code", generic("SomethingNew"), model.FailureUnknown},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := translateError("CopyDBSnapshot", "snap-1", sdkError("CopyDBSnapshot", 400, "req-1", tc.err))
			var e *model.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tc.want, e.Failure, e.Error())
			assert.Equal(t, "CopyDBSnapshot", e.Op)
			assert.Equal(t, "snap-1", e.Resource)
			assert.Equal(t, "req-1", e.RequestID)
			assert.NotEmpty(t, e.Code)
			assert.Contains(t, err.Error(), "snap-1")
		})
	}
}

func TestTranslateErrorThrottledAfterRetries(t *testing.T) {
	inner := sdkError("DescribeDBInstances", 400, "req-9", generic("Throttling"))
	err := translateError("DescribeDBInstances", "db1", &retry.MaxAttemptsError{Attempt: 10, Err: inner})
	assert.True(t, model.IsThrottled(err))
	assert.Equal(t, "req-9", err.(*model.Error).RequestID)
}

func TestTranslateErrorServerFaultWithUnknownCode(t *testing.T) {
	err := translateError("DescribeDBInstances", "db1", sdkError("DescribeDBInstances", 503, "", generic("Whatever")))
	assert.Equal(t, model.FailureUnavailable, model.FailureOf(err))
}

func TestTranslateErrorClientValidation(t *testing.T) {
	var params smithy.InvalidParamsError
	params.Add(smithy.NewErrParamRequired("DBInstanceIdentifier"))
	err := translateError("ModifyDBInstance", "", &smithy.OperationError{OperationName: "ModifyDBInstance", Err: params})
	assert.Equal(t, model.FailureInvalidParameter, model.FailureOf(err))
}

func TestTranslateErrorKeepsContextCancellation(t *testing.T) {
	err := translateError("DescribeDBInstances", "db1", &smithy.OperationError{Err: context.Canceled})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, model.FailureUnknown, model.FailureOf(err))
}

func TestTranslateErrorNilAndIdempotent(t *testing.T) {
	assert.NoError(t, translateError("X", "y", nil))
	first := translateError("X", "y", generic("Throttling"))
	assert.Same(t, first, translateError("Z", "w", fmt.Errorf("wrapped: %w", first)))
	assert.True(t, errors.Is(first, first))
}

func TestTranslateErrorConnectionRefusedIsUnavailable(t *testing.T) {
	f := newFakeAWS(t)
	c := f.client(Config{MaxAttempts: 2})
	f.server.Close()
	_, err := c.For("").DescribeInstance(t.Context(), "db1")
	assert.Equal(t, model.FailureUnavailable, model.FailureOf(err), "%v", err)
}
