package awsclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

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
		want Kind
	}{
		{"typed instance not found", &types.DBInstanceNotFoundFault{Message: aws.String("DBInstance db1 not found.")}, KindNotFound},
		{"typed snapshot not found", &types.DBSnapshotNotFoundFault{}, KindNotFound},
		{"typed cluster not found", &types.DBClusterNotFoundFault{}, KindNotFound},
		{"typed cluster snapshot not found", &types.DBClusterSnapshotNotFoundFault{}, KindNotFound},
		{"typed already exists", &types.DBSnapshotAlreadyExistsFault{}, KindAlreadyExists},
		{"typed cluster already exists", &types.DBClusterAlreadyExistsFault{}, KindAlreadyExists},
		{"typed invalid instance state", &types.InvalidDBInstanceStateFault{}, KindInvalidState},
		{"typed invalid cluster state", &types.InvalidDBClusterStateFault{}, KindInvalidState},
		{"typed KMS not accessible", &types.KMSKeyNotAccessibleFault{}, KindKeyNotAccessible},
		{"typed snapshot quota", &types.SnapshotQuotaExceededFault{}, KindQuotaExceeded},
		{"typed instance quota", &types.InstanceQuotaExceededFault{}, KindQuotaExceeded},
		{"typed capacity", &types.InsufficientDBInstanceCapacityFault{}, KindCapacity},
		{"typed cluster capacity", &types.InsufficientDBClusterCapacityFault{}, KindCapacity},
		{"typed invalid restore", &types.InvalidRestoreFault{}, KindInvalidParameter},
		{"kms not found", &kmstypes.NotFoundException{}, KindNotFound},
		{"kms disabled", &kmstypes.DisabledException{}, KindKeyNotAccessible},
		{"kms invalid state", &kmstypes.KMSInvalidStateException{}, KindKeyNotAccessible},
		{"InvalidParameterValue", generic("InvalidParameterValue"), KindInvalidParameter},
		{"InvalidParameterCombination", generic("InvalidParameterCombination"), KindInvalidParameter},
		{"MissingParameter", generic("MissingParameter"), KindInvalidParameter},
		{"AccessDenied", generic("AccessDenied"), KindAccessDenied},
		{"AccessDeniedException", generic("AccessDeniedException"), KindAccessDenied},
		{"InvalidClientTokenId", generic("InvalidClientTokenId"), KindAccessDenied},
		{"Throttling", generic("Throttling"), KindThrottled},
		{"ThrottlingException", generic("ThrottlingException"), KindThrottled},
		{"generic code of a modeled fault", generic("DBInstanceNotFound"), KindNotFound},
		{"generic KMSKeyNotAccessibleFault", generic("KMSKeyNotAccessibleFault"), KindKeyNotAccessible},
		{"generic DBClusterSnapshotAlreadyExistsFault", generic("DBClusterSnapshotAlreadyExistsFault"), KindAlreadyExists},
		{"generic InvalidDBSnapshotState", generic("InvalidDBSnapshotState"), KindInvalidState},
		{"generic StorageQuotaExceeded", generic("StorageQuotaExceeded"), KindQuotaExceeded},
		{"generic InsufficientStorageClusterCapacity", generic("InsufficientStorageClusterCapacity"), KindCapacity},
		{"InternalFailure", generic("InternalFailure"), KindUnavailable},
		{"unknown code", generic("SomethingNew"), KindUnknown},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := translateError("CopyDBSnapshot", "snap-1", sdkError("CopyDBSnapshot", 400, "req-1", tc.err))
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tc.want, e.Kind, e.Error())
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
	assert.True(t, IsThrottled(err))
	assert.Equal(t, "req-9", err.(*Error).RequestID)
}

func TestTranslateErrorServerFaultWithUnknownCode(t *testing.T) {
	err := translateError("DescribeDBInstances", "db1", sdkError("DescribeDBInstances", 503, "", generic("Whatever")))
	assert.Equal(t, KindUnavailable, KindOf(err))
}

func TestTranslateErrorClientValidation(t *testing.T) {
	var params smithy.InvalidParamsError
	params.Add(smithy.NewErrParamRequired("DBInstanceIdentifier"))
	err := translateError("ModifyDBInstance", "", &smithy.OperationError{OperationName: "ModifyDBInstance", Err: params})
	assert.Equal(t, KindInvalidParameter, KindOf(err))
}

func TestTranslateErrorKeepsContextCancellation(t *testing.T) {
	err := translateError("DescribeDBInstances", "db1", &smithy.OperationError{Err: context.Canceled})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, KindUnknown, KindOf(err))
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
	assert.Equal(t, KindUnavailable, KindOf(err), "%v", err)
}
