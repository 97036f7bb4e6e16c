package awsclient

import (
	"context"
	"errors"
	"fmt"
	"github.com/rdsencrypt/rdsencrypt/internal/model"
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
		want model.Kind
	}{
		{"typed instance not found", &types.DBInstanceNotFoundFault{Message: aws.String("DBInstance db1 not found.")}, model.KindNotFound},
		{"typed snapshot not found", &types.DBSnapshotNotFoundFault{}, model.KindNotFound},
		{"typed cluster not found", &types.DBClusterNotFoundFault{}, model.KindNotFound},
		{"typed cluster snapshot not found", &types.DBClusterSnapshotNotFoundFault{}, model.KindNotFound},
		{"typed already exists", &types.DBSnapshotAlreadyExistsFault{}, model.KindAlreadyExists},
		{"typed cluster already exists", &types.DBClusterAlreadyExistsFault{}, model.KindAlreadyExists},
		{"typed invalid instance state", &types.InvalidDBInstanceStateFault{}, model.KindInvalidState},
		{"typed invalid cluster state", &types.InvalidDBClusterStateFault{}, model.KindInvalidState},
		{"typed KMS not accessible", &types.KMSKeyNotAccessibleFault{}, model.KindKeyNotAccessible},
		{"typed snapshot quota", &types.SnapshotQuotaExceededFault{}, model.KindQuotaExceeded},
		{"typed instance quota", &types.InstanceQuotaExceededFault{}, model.KindQuotaExceeded},
		{"typed capacity", &types.InsufficientDBInstanceCapacityFault{}, model.KindCapacity},
		{"typed cluster capacity", &types.InsufficientDBClusterCapacityFault{}, model.KindCapacity},
		{"typed invalid restore", &types.InvalidRestoreFault{}, model.KindInvalidParameter},
		{"kms not found", &kmstypes.NotFoundException{}, model.KindNotFound},
		{"kms disabled", &kmstypes.DisabledException{}, model.KindKeyNotAccessible},
		{"kms invalid state", &kmstypes.KMSInvalidStateException{}, model.KindKeyNotAccessible},
		{"InvalidParameterValue", generic("InvalidParameterValue"), model.KindInvalidParameter},
		{"InvalidParameterCombination", generic("InvalidParameterCombination"), model.KindInvalidParameter},
		{"MissingParameter", generic("MissingParameter"), model.KindInvalidParameter},
		{"AccessDenied", generic("AccessDenied"), model.KindAccessDenied},
		{"AccessDeniedException", generic("AccessDeniedException"), model.KindAccessDenied},
		{"InvalidClientTokenId", generic("InvalidClientTokenId"), model.KindAccessDenied},
		{"Throttling", generic("Throttling"), model.KindThrottled},
		{"ThrottlingException", generic("ThrottlingException"), model.KindThrottled},
		{"generic code of a modeled fault", generic("DBInstanceNotFound"), model.KindNotFound},
		{"generic KMSKeyNotAccessibleFault", generic("KMSKeyNotAccessibleFault"), model.KindKeyNotAccessible},
		{"generic DBClusterSnapshotAlreadyExistsFault", generic("DBClusterSnapshotAlreadyExistsFault"), model.KindAlreadyExists},
		{"generic InvalidDBSnapshotState", generic("InvalidDBSnapshotState"), model.KindInvalidState},
		{"generic StorageQuotaExceeded", generic("StorageQuotaExceeded"), model.KindQuotaExceeded},
		{"generic InsufficientStorageClusterCapacity", generic("InsufficientStorageClusterCapacity"), model.KindCapacity},
		{"InternalFailure", generic("InternalFailure"), model.KindUnavailable},
		{"unknown code", generic("SomethingNew"), model.KindUnknown},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := translateError("CopyDBSnapshot", "snap-1", sdkError("CopyDBSnapshot", 400, "req-1", tc.err))
			var e *model.Error
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
	assert.True(t, model.IsThrottled(err))
	assert.Equal(t, "req-9", err.(*model.Error).RequestID)
}

func TestTranslateErrorServerFaultWithUnknownCode(t *testing.T) {
	err := translateError("DescribeDBInstances", "db1", sdkError("DescribeDBInstances", 503, "", generic("Whatever")))
	assert.Equal(t, model.KindUnavailable, model.KindOf(err))
}

func TestTranslateErrorClientValidation(t *testing.T) {
	var params smithy.InvalidParamsError
	params.Add(smithy.NewErrParamRequired("DBInstanceIdentifier"))
	err := translateError("ModifyDBInstance", "", &smithy.OperationError{OperationName: "ModifyDBInstance", Err: params})
	assert.Equal(t, model.KindInvalidParameter, model.KindOf(err))
}

func TestTranslateErrorKeepsContextCancellation(t *testing.T) {
	err := translateError("DescribeDBInstances", "db1", &smithy.OperationError{Err: context.Canceled})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, model.KindUnknown, model.KindOf(err))
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
	assert.Equal(t, model.KindUnavailable, model.KindOf(err), "%v", err)
}
