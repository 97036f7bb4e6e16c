package awsclient

import (
	"context"
	"errors"
	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/smithy-go"
)

// translateError turns an SDK error into an *Error naming the action and the resource.
// nil stays nil; an *Error is returned unchanged.
func translateError(op, resource string, err error) error {
	if err == nil {
		return nil
	}
	var done *model.Error
	if errors.As(err, &done) {
		return done
	}
	e := &model.Error{Op: op, Resource: resource, Err: err}
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) {
		e.RequestID = respErr.ServiceRequestID()
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		e.Code = apiErr.ErrorCode()
		e.Message = apiErr.ErrorMessage()
	}
	e.Kind = kindOf(err, e.Code)
	if e.Kind == model.KindUnknown && respErr != nil && respErr.HTTPStatusCode() >= 500 {
		e.Kind = model.KindUnavailable
	}
	return e
}

func kindOf(err error, code string) model.Kind {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return model.KindUnknown
	}
	if k, ok := typedFaultKind(err); ok {
		return k
	}
	var invalidParams smithy.InvalidParamsError
	if errors.As(err, &invalidParams) {
		return model.KindInvalidParameter
	}
	if code != "" {
		return codeKind(code)
	}
	if isTransportFailure(err) {
		return model.KindUnavailable
	}
	return model.KindUnknown
}

// isTransportFailure: no AWS error code, and the SDK saw a timeout, a retryable connection
// failure, or ran out of attempts on one.
func isTransportFailure(err error) bool {
	var timeout interface{ Timeout() bool }
	var retryable interface{ RetryableError() bool }
	var maxAttempts *retry.MaxAttemptsError
	return errors.As(err, &timeout) && timeout.Timeout() ||
		errors.As(err, &retryable) && retryable.RetryableError() ||
		errors.As(err, &maxAttempts)
}

func isA[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}

// typedFaults are the modeled RDS and KMS faults the workflow meets on its path.
var typedFaults = []struct {
	is   func(error) bool
	kind model.Kind
}{
	{isA[*types.DBInstanceNotFoundFault], model.KindNotFound},
	{isA[*types.DBSnapshotNotFoundFault], model.KindNotFound},
	{isA[*types.DBClusterNotFoundFault], model.KindNotFound},
	{isA[*types.DBClusterSnapshotNotFoundFault], model.KindNotFound},
	{isA[*types.DBClusterEndpointNotFoundFault], model.KindNotFound},
	{isA[*types.DBParameterGroupNotFoundFault], model.KindNotFound},
	{isA[*types.DBClusterParameterGroupNotFoundFault], model.KindNotFound},
	{isA[*types.DBSubnetGroupNotFoundFault], model.KindNotFound},
	{isA[*types.OptionGroupNotFoundFault], model.KindNotFound},
	{isA[*types.ResourceNotFoundFault], model.KindNotFound},
	{isA[*types.DBInstanceAlreadyExistsFault], model.KindAlreadyExists},
	{isA[*types.DBSnapshotAlreadyExistsFault], model.KindAlreadyExists},
	{isA[*types.DBClusterAlreadyExistsFault], model.KindAlreadyExists},
	{isA[*types.DBClusterSnapshotAlreadyExistsFault], model.KindAlreadyExists},
	{isA[*types.DBClusterEndpointAlreadyExistsFault], model.KindAlreadyExists},
	{isA[*types.InvalidDBInstanceStateFault], model.KindInvalidState},
	{isA[*types.DBInstanceNotReadyFault], model.KindInvalidState},
	{isA[*types.InvalidDBSnapshotStateFault], model.KindInvalidState},
	{isA[*types.InvalidDBClusterStateFault], model.KindInvalidState},
	{isA[*types.InvalidDBClusterSnapshotStateFault], model.KindInvalidState},
	{isA[*types.InvalidDBClusterEndpointStateFault], model.KindInvalidState},
	{isA[*types.KMSKeyNotAccessibleFault], model.KindKeyNotAccessible},
	{isA[*types.SnapshotQuotaExceededFault], model.KindQuotaExceeded},
	{isA[*types.InstanceQuotaExceededFault], model.KindQuotaExceeded},
	{isA[*types.StorageQuotaExceededFault], model.KindQuotaExceeded},
	{isA[*types.DBClusterQuotaExceededFault], model.KindQuotaExceeded},
	{isA[*types.DBClusterEndpointQuotaExceededFault], model.KindQuotaExceeded},
	{isA[*types.InsufficientDBInstanceCapacityFault], model.KindCapacity},
	{isA[*types.InsufficientDBClusterCapacityFault], model.KindCapacity},
	{isA[*types.InsufficientStorageClusterCapacityFault], model.KindCapacity},
	{isA[*types.InvalidRestoreFault], model.KindInvalidParameter},
	{isA[*types.InvalidVPCNetworkStateFault], model.KindInvalidParameter},
	{isA[*types.StorageTypeNotSupportedFault], model.KindInvalidParameter},
	{isA[*types.NetworkTypeNotSupported], model.KindInvalidParameter},
	{isA[*kmstypes.NotFoundException], model.KindNotFound},
	{isA[*kmstypes.DisabledException], model.KindKeyNotAccessible},
	{isA[*kmstypes.KMSInvalidStateException], model.KindKeyNotAccessible},
	{isA[*kmstypes.KeyUnavailableException], model.KindKeyNotAccessible},
	{isA[*kmstypes.InvalidArnException], model.KindInvalidParameter},
	{isA[*kmstypes.KMSInternalException], model.KindUnavailable},
	{isA[*kmstypes.DependencyTimeoutException], model.KindUnavailable},
}

func typedFaultKind(err error) (model.Kind, bool) {
	for _, f := range typedFaults {
		if f.is(err) {
			return f.kind, true
		}
	}
	return model.KindUnknown, false
}

// codeKinds are the unmodeled (generic) codes, and modeled codes whose names do not follow
// the patterns in codeKind.
var codeKinds = map[string]model.Kind{
	"InvalidParameterValue":       model.KindInvalidParameter,
	"InvalidParameterCombination": model.KindInvalidParameter,
	"MissingParameter":            model.KindInvalidParameter,
	"ValidationError":             model.KindInvalidParameter,
	"InvalidAction":               model.KindInvalidParameter,
	"InvalidSubnet":               model.KindInvalidParameter,
	"InvalidDBSubnetGroupFault":   model.KindInvalidParameter,
	"InvalidRestoreFault":         model.KindInvalidParameter,
	"InvalidVPCNetworkStateFault": model.KindInvalidParameter,

	"DBSubnetGroupDoesNotCoverEnoughAZs":   model.KindInvalidParameter,
	"DBSubnetGroupNotAllowedFault":         model.KindInvalidParameter,
	"ProvisionedIopsNotAvailableInAZFault": model.KindInvalidParameter,
	"StorageTypeNotSupported":              model.KindInvalidParameter,
	"StorageTypeNotAvailableFault":         model.KindInvalidParameter,
	"NetworkTypeNotSupported":              model.KindInvalidParameter,
	"InvalidArnException":                  model.KindInvalidParameter,
	"InvalidMarkerException":               model.KindInvalidParameter,
	"InvalidAliasNameException":            model.KindInvalidParameter,

	"KMSKeyNotAccessibleFault":              model.KindKeyNotAccessible,
	"DisabledException":                     model.KindKeyNotAccessible,
	"KMSInvalidStateException":              model.KindKeyNotAccessible,
	"KeyUnavailableException":               model.KindKeyNotAccessible,
	"NotFoundException":                     model.KindNotFound,
	"DBInstanceNotReady":                    model.KindInvalidState,
	"InvalidClientTokenId":                  model.KindAccessDenied,
	"UnrecognizedClientException":           model.KindAccessDenied,
	"SignatureDoesNotMatch":                 model.KindAccessDenied,
	"IncompleteSignature":                   model.KindAccessDenied,
	"ExpiredToken":                          model.KindAccessDenied,
	"ExpiredTokenException":                 model.KindAccessDenied,
	"RequestExpired":                        model.KindAccessDenied,
	"UnauthorizedOperation":                 model.KindAccessDenied,
	"OptInRequired":                         model.KindAccessDenied,
	"InternalFailure":                       model.KindUnavailable,
	"InternalError":                         model.KindUnavailable,
	"ServiceUnavailable":                    model.KindUnavailable,
	"KMSInternalException":                  model.KindUnavailable,
	"DependencyTimeoutException":            model.KindUnavailable,
	"RequestTimeout":                        model.KindUnavailable,
	"RequestTimeoutException":               model.KindUnavailable,
	"InsufficientAvailableIPsInSubnetFault": model.KindCapacity,
}

// codeKind classifies a wire error code: first the table, then the naming patterns the
// 149 RDS faults follow (…NotFound[Fault], …AlreadyExists[Fault], Invalid…State[Fault],
// …QuotaExceeded[Fault], Insufficient…Capacity[Fault]).
func codeKind(code string) model.Kind {
	if k, ok := codeKinds[code]; ok {
		return k
	}
	if _, ok := retry.DefaultThrottleErrorCodes[code]; ok {
		return model.KindThrottled
	}
	trimmed := strings.TrimSuffix(strings.TrimSuffix(code, "Fault"), "Exception")
	switch {
	case strings.HasPrefix(code, "AccessDenied"):
		return model.KindAccessDenied
	case strings.HasSuffix(trimmed, "NotFound"):
		return model.KindNotFound
	case strings.Contains(code, "AlreadyExist"):
		return model.KindAlreadyExists
	case strings.HasPrefix(code, "Invalid") && strings.Contains(code, "State"):
		return model.KindInvalidState
	case strings.Contains(code, "QuotaExceeded"):
		return model.KindQuotaExceeded
	case strings.HasPrefix(code, "Insufficient") && strings.Contains(code, "Capacity"):
		return model.KindCapacity
	case strings.HasPrefix(code, "InvalidParameter"):
		return model.KindInvalidParameter
	}
	return model.KindUnknown
}
