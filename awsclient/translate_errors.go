package awsclient

import (
	"context"
	"errors"
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
	var done *Error
	if errors.As(err, &done) {
		return done
	}
	e := &Error{Op: op, Resource: resource, Err: err}
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
	if e.Kind == KindUnknown && respErr != nil && respErr.HTTPStatusCode() >= 500 {
		e.Kind = KindUnavailable
	}
	return e
}

func kindOf(err error, code string) Kind {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return KindUnknown
	}
	if k, ok := typedFaultKind(err); ok {
		return k
	}
	var invalidParams smithy.InvalidParamsError
	if errors.As(err, &invalidParams) {
		return KindInvalidParameter
	}
	if code != "" {
		return codeKind(code)
	}
	if isTransportFailure(err) {
		return KindUnavailable
	}
	return KindUnknown
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
	kind Kind
}{
	{isA[*types.DBInstanceNotFoundFault], KindNotFound},
	{isA[*types.DBSnapshotNotFoundFault], KindNotFound},
	{isA[*types.DBClusterNotFoundFault], KindNotFound},
	{isA[*types.DBClusterSnapshotNotFoundFault], KindNotFound},
	{isA[*types.DBClusterEndpointNotFoundFault], KindNotFound},
	{isA[*types.DBParameterGroupNotFoundFault], KindNotFound},
	{isA[*types.DBClusterParameterGroupNotFoundFault], KindNotFound},
	{isA[*types.DBSubnetGroupNotFoundFault], KindNotFound},
	{isA[*types.OptionGroupNotFoundFault], KindNotFound},
	{isA[*types.ResourceNotFoundFault], KindNotFound},
	{isA[*types.DBInstanceAlreadyExistsFault], KindAlreadyExists},
	{isA[*types.DBSnapshotAlreadyExistsFault], KindAlreadyExists},
	{isA[*types.DBClusterAlreadyExistsFault], KindAlreadyExists},
	{isA[*types.DBClusterSnapshotAlreadyExistsFault], KindAlreadyExists},
	{isA[*types.DBClusterEndpointAlreadyExistsFault], KindAlreadyExists},
	{isA[*types.InvalidDBInstanceStateFault], KindInvalidState},
	{isA[*types.DBInstanceNotReadyFault], KindInvalidState},
	{isA[*types.InvalidDBSnapshotStateFault], KindInvalidState},
	{isA[*types.InvalidDBClusterStateFault], KindInvalidState},
	{isA[*types.InvalidDBClusterSnapshotStateFault], KindInvalidState},
	{isA[*types.InvalidDBClusterEndpointStateFault], KindInvalidState},
	{isA[*types.KMSKeyNotAccessibleFault], KindKeyNotAccessible},
	{isA[*types.SnapshotQuotaExceededFault], KindQuotaExceeded},
	{isA[*types.InstanceQuotaExceededFault], KindQuotaExceeded},
	{isA[*types.StorageQuotaExceededFault], KindQuotaExceeded},
	{isA[*types.DBClusterQuotaExceededFault], KindQuotaExceeded},
	{isA[*types.DBClusterEndpointQuotaExceededFault], KindQuotaExceeded},
	{isA[*types.InsufficientDBInstanceCapacityFault], KindCapacity},
	{isA[*types.InsufficientDBClusterCapacityFault], KindCapacity},
	{isA[*types.InsufficientStorageClusterCapacityFault], KindCapacity},
	{isA[*types.InvalidRestoreFault], KindInvalidParameter},
	{isA[*types.InvalidVPCNetworkStateFault], KindInvalidParameter},
	{isA[*types.StorageTypeNotSupportedFault], KindInvalidParameter},
	{isA[*types.NetworkTypeNotSupported], KindInvalidParameter},
	{isA[*kmstypes.NotFoundException], KindNotFound},
	{isA[*kmstypes.DisabledException], KindKeyNotAccessible},
	{isA[*kmstypes.KMSInvalidStateException], KindKeyNotAccessible},
	{isA[*kmstypes.KeyUnavailableException], KindKeyNotAccessible},
	{isA[*kmstypes.InvalidArnException], KindInvalidParameter},
	{isA[*kmstypes.KMSInternalException], KindUnavailable},
	{isA[*kmstypes.DependencyTimeoutException], KindUnavailable},
}

func typedFaultKind(err error) (Kind, bool) {
	for _, f := range typedFaults {
		if f.is(err) {
			return f.kind, true
		}
	}
	return KindUnknown, false
}

// codeKinds are the unmodeled (generic) codes, and modeled codes whose names do not follow
// the patterns in codeKind.
var codeKinds = map[string]Kind{
	"InvalidParameterValue":       KindInvalidParameter,
	"InvalidParameterCombination": KindInvalidParameter,
	"MissingParameter":            KindInvalidParameter,
	"ValidationError":             KindInvalidParameter,
	"InvalidAction":               KindInvalidParameter,
	"InvalidSubnet":               KindInvalidParameter,
	"InvalidDBSubnetGroupFault":   KindInvalidParameter,
	"InvalidRestoreFault":         KindInvalidParameter,
	"InvalidVPCNetworkStateFault": KindInvalidParameter,

	"DBSubnetGroupDoesNotCoverEnoughAZs":   KindInvalidParameter,
	"DBSubnetGroupNotAllowedFault":         KindInvalidParameter,
	"ProvisionedIopsNotAvailableInAZFault": KindInvalidParameter,
	"StorageTypeNotSupported":              KindInvalidParameter,
	"StorageTypeNotAvailableFault":         KindInvalidParameter,
	"NetworkTypeNotSupported":              KindInvalidParameter,
	"InvalidArnException":                  KindInvalidParameter,
	"InvalidMarkerException":               KindInvalidParameter,
	"InvalidAliasNameException":            KindInvalidParameter,

	"KMSKeyNotAccessibleFault":              KindKeyNotAccessible,
	"DisabledException":                     KindKeyNotAccessible,
	"KMSInvalidStateException":              KindKeyNotAccessible,
	"KeyUnavailableException":               KindKeyNotAccessible,
	"NotFoundException":                     KindNotFound,
	"DBInstanceNotReady":                    KindInvalidState,
	"InvalidClientTokenId":                  KindAccessDenied,
	"UnrecognizedClientException":           KindAccessDenied,
	"SignatureDoesNotMatch":                 KindAccessDenied,
	"IncompleteSignature":                   KindAccessDenied,
	"ExpiredToken":                          KindAccessDenied,
	"ExpiredTokenException":                 KindAccessDenied,
	"RequestExpired":                        KindAccessDenied,
	"UnauthorizedOperation":                 KindAccessDenied,
	"OptInRequired":                         KindAccessDenied,
	"InternalFailure":                       KindUnavailable,
	"InternalError":                         KindUnavailable,
	"ServiceUnavailable":                    KindUnavailable,
	"KMSInternalException":                  KindUnavailable,
	"DependencyTimeoutException":            KindUnavailable,
	"RequestTimeout":                        KindUnavailable,
	"RequestTimeoutException":               KindUnavailable,
	"InsufficientAvailableIPsInSubnetFault": KindCapacity,
}

// codeKind classifies a wire error code: first the table, then the naming patterns the
// 149 RDS faults follow (…NotFound[Fault], …AlreadyExists[Fault], Invalid…State[Fault],
// …QuotaExceeded[Fault], Insufficient…Capacity[Fault]).
func codeKind(code string) Kind {
	if k, ok := codeKinds[code]; ok {
		return k
	}
	if _, ok := retry.DefaultThrottleErrorCodes[code]; ok {
		return KindThrottled
	}
	trimmed := strings.TrimSuffix(strings.TrimSuffix(code, "Fault"), "Exception")
	switch {
	case strings.HasPrefix(code, "AccessDenied"):
		return KindAccessDenied
	case strings.HasSuffix(trimmed, "NotFound"):
		return KindNotFound
	case strings.Contains(code, "AlreadyExist"):
		return KindAlreadyExists
	case strings.HasPrefix(code, "Invalid") && strings.Contains(code, "State"):
		return KindInvalidState
	case strings.Contains(code, "QuotaExceeded"):
		return KindQuotaExceeded
	case strings.HasPrefix(code, "Insufficient") && strings.Contains(code, "Capacity"):
		return KindCapacity
	case strings.HasPrefix(code, "InvalidParameter"):
		return KindInvalidParameter
	}
	return KindUnknown
}
