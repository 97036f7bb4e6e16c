package awsclient

import (
	"context"
	"errors"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/internal/model"

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
	e.Failure = failureOf(err, e.Code)
	if e.Failure == model.FailureUnknown && respErr != nil && respErr.HTTPStatusCode() >= 500 {
		e.Failure = model.FailureUnavailable
	}
	return e
}

func failureOf(err error, code string) model.Failure {
	var timedOut *AttemptTimeoutError
	if errors.As(err, &timedOut) {
		return model.FailureUnavailable
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return model.FailureUnknown
	}
	if k, ok := typedFailure(err); ok {
		return k
	}
	var invalidParams smithy.InvalidParamsError
	if errors.As(err, &invalidParams) {
		return model.FailureInvalidParameter
	}
	if code != "" {
		return codeFailure(code)
	}
	if isTransportFailure(err) {
		return model.FailureUnavailable
	}
	return model.FailureUnknown
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
	is      func(error) bool
	failure model.Failure
}{
	{isA[*types.DBInstanceNotFoundFault], model.FailureNotFound},
	{isA[*types.DBSnapshotNotFoundFault], model.FailureNotFound},
	{isA[*types.DBClusterNotFoundFault], model.FailureNotFound},
	{isA[*types.DBClusterSnapshotNotFoundFault], model.FailureNotFound},
	{isA[*types.DBClusterEndpointNotFoundFault], model.FailureNotFound},
	{isA[*types.DBParameterGroupNotFoundFault], model.FailureNotFound},
	{isA[*types.DBClusterParameterGroupNotFoundFault], model.FailureNotFound},
	{isA[*types.DBSubnetGroupNotFoundFault], model.FailureNotFound},
	{isA[*types.OptionGroupNotFoundFault], model.FailureNotFound},
	{isA[*types.ResourceNotFoundFault], model.FailureNotFound},
	{isA[*types.DBProxyNotFoundFault], model.FailureNotFound},
	{isA[*types.SubscriptionNotFoundFault], model.FailureNotFound},
	{isA[*types.SourceNotFoundFault], model.FailureNotFound},
	{isA[*types.DBInstanceRoleAlreadyExistsFault], model.FailureAlreadyExists},
	{isA[*types.DBClusterRoleAlreadyExistsFault], model.FailureAlreadyExists},
	{isA[*types.DBInstanceAlreadyExistsFault], model.FailureAlreadyExists},
	{isA[*types.DBSnapshotAlreadyExistsFault], model.FailureAlreadyExists},
	{isA[*types.DBClusterAlreadyExistsFault], model.FailureAlreadyExists},
	{isA[*types.DBClusterSnapshotAlreadyExistsFault], model.FailureAlreadyExists},
	{isA[*types.DBClusterEndpointAlreadyExistsFault], model.FailureAlreadyExists},
	{isA[*types.DBParameterGroupAlreadyExistsFault], model.FailureAlreadyExists},
	{isA[*types.InvalidDBInstanceStateFault], model.FailureInvalidState},
	{isA[*types.DBInstanceNotReadyFault], model.FailureInvalidState},
	{isA[*types.InvalidDBSnapshotStateFault], model.FailureInvalidState},
	{isA[*types.InvalidDBClusterStateFault], model.FailureInvalidState},
	{isA[*types.InvalidDBClusterSnapshotStateFault], model.FailureInvalidState},
	{isA[*types.InvalidDBClusterEndpointStateFault], model.FailureInvalidState},
	{isA[*types.InvalidDBParameterGroupStateFault], model.FailureInvalidState},
	{isA[*types.KMSKeyNotAccessibleFault], model.FailureKeyNotAccessible},
	{isA[*types.SnapshotQuotaExceededFault], model.FailureQuotaExceeded},
	{isA[*types.InstanceQuotaExceededFault], model.FailureQuotaExceeded},
	{isA[*types.StorageQuotaExceededFault], model.FailureQuotaExceeded},
	{isA[*types.DBClusterQuotaExceededFault], model.FailureQuotaExceeded},
	{isA[*types.DBClusterEndpointQuotaExceededFault], model.FailureQuotaExceeded},
	{isA[*types.DBParameterGroupQuotaExceededFault], model.FailureQuotaExceeded},
	{isA[*types.InsufficientDBInstanceCapacityFault], model.FailureCapacity},
	{isA[*types.InsufficientDBClusterCapacityFault], model.FailureCapacity},
	{isA[*types.InsufficientStorageClusterCapacityFault], model.FailureCapacity},
	{isA[*types.InvalidRestoreFault], model.FailureInvalidParameter},
	{isA[*types.InvalidVPCNetworkStateFault], model.FailureInvalidParameter},
	{isA[*types.StorageTypeNotSupportedFault], model.FailureInvalidParameter},
	{isA[*types.NetworkTypeNotSupported], model.FailureInvalidParameter},
	{isA[*kmstypes.NotFoundException], model.FailureNotFound},
	{isA[*kmstypes.DisabledException], model.FailureKeyNotAccessible},
	{isA[*kmstypes.KMSInvalidStateException], model.FailureKeyNotAccessible},
	{isA[*kmstypes.KeyUnavailableException], model.FailureKeyNotAccessible},
	{isA[*kmstypes.InvalidArnException], model.FailureInvalidParameter},
	{isA[*kmstypes.KMSInternalException], model.FailureUnavailable},
	{isA[*kmstypes.DependencyTimeoutException], model.FailureUnavailable},
}

func typedFailure(err error) (model.Failure, bool) {
	for _, f := range typedFaults {
		if f.is(err) {
			return f.failure, true
		}
	}
	return model.FailureUnknown, false
}

// codeFailures are the unmodeled (generic) codes, and modeled codes whose names do not follow
// the patterns in codeFailure.
var codeFailures = map[string]model.Failure{
	"InvalidGroup.Duplicate":      model.FailureAlreadyExists, // EC2 security groups
	"DependencyViolation":         model.FailureInvalidState,
	"InvalidParameterValue":       model.FailureInvalidParameter,
	"InvalidParameterCombination": model.FailureInvalidParameter,
	"MissingParameter":            model.FailureInvalidParameter,
	"ValidationError":             model.FailureInvalidParameter,
	"InvalidAction":               model.FailureInvalidParameter,
	"InvalidSubnet":               model.FailureInvalidParameter,
	"InvalidDBSubnetGroupFault":   model.FailureInvalidParameter,
	"InvalidRestoreFault":         model.FailureInvalidParameter,
	"InvalidVPCNetworkStateFault": model.FailureInvalidParameter,

	"DBSubnetGroupDoesNotCoverEnoughAZs":   model.FailureInvalidParameter,
	"DBSubnetGroupNotAllowedFault":         model.FailureInvalidParameter,
	"ProvisionedIopsNotAvailableInAZFault": model.FailureInvalidParameter,
	"StorageTypeNotSupported":              model.FailureInvalidParameter,
	"StorageTypeNotAvailableFault":         model.FailureInvalidParameter,
	"NetworkTypeNotSupported":              model.FailureInvalidParameter,
	"InvalidArnException":                  model.FailureInvalidParameter,
	"InvalidMarkerException":               model.FailureInvalidParameter,
	"InvalidAliasNameException":            model.FailureInvalidParameter,

	"KMSKeyNotAccessibleFault":              model.FailureKeyNotAccessible,
	"DisabledException":                     model.FailureKeyNotAccessible,
	"KMSInvalidStateException":              model.FailureKeyNotAccessible,
	"KeyUnavailableException":               model.FailureKeyNotAccessible,
	"NotFoundException":                     model.FailureNotFound,
	"DBInstanceNotReady":                    model.FailureInvalidState,
	"InvalidClientTokenId":                  model.FailureAccessDenied,
	"UnrecognizedClientException":           model.FailureAccessDenied,
	"SignatureDoesNotMatch":                 model.FailureAccessDenied,
	"IncompleteSignature":                   model.FailureAccessDenied,
	"ExpiredToken":                          model.FailureAccessDenied,
	"ExpiredTokenException":                 model.FailureAccessDenied,
	"RequestExpired":                        model.FailureAccessDenied,
	"UnauthorizedOperation":                 model.FailureAccessDenied,
	"OptInRequired":                         model.FailureAccessDenied,
	"InternalFailure":                       model.FailureUnavailable,
	"InternalError":                         model.FailureUnavailable,
	"ServiceUnavailable":                    model.FailureUnavailable,
	"KMSInternalException":                  model.FailureUnavailable,
	"DependencyTimeoutException":            model.FailureUnavailable,
	"RequestTimeout":                        model.FailureUnavailable,
	"RequestTimeoutException":               model.FailureUnavailable,
	"InsufficientAvailableIPsInSubnetFault": model.FailureCapacity,
	// Secrets Manager: a secret whose KMS key cannot decrypt it, a service fault, and a
	// secret scheduled for deletion.
	"DecryptionFailure":       model.FailureKeyNotAccessible,
	"InternalServiceError":    model.FailureUnavailable,
	"InvalidRequestException": model.FailureInvalidState,
}

// codeFailure classifies a wire error code: first the table, then the naming patterns the
// 149 RDS faults follow (…NotFound[Fault], …AlreadyExists[Fault], Invalid…State[Fault],
// …QuotaExceeded[Fault], Insufficient…Capacity[Fault]).
func codeFailure(code string) model.Failure {
	if k, ok := codeFailures[code]; ok {
		return k
	}
	if _, ok := retry.DefaultThrottleErrorCodes[code]; ok {
		return model.FailureThrottled
	}
	trimmed := strings.TrimSuffix(strings.TrimSuffix(code, "Fault"), "Exception")
	switch {
	case strings.HasPrefix(code, "AccessDenied"):
		return model.FailureAccessDenied
	case strings.HasSuffix(trimmed, "NotFound"):
		return model.FailureNotFound
	case strings.Contains(code, "AlreadyExist"):
		return model.FailureAlreadyExists
	case strings.HasPrefix(code, "Invalid") && strings.Contains(code, "State"):
		return model.FailureInvalidState
	case strings.Contains(code, "QuotaExceeded"):
		return model.FailureQuotaExceeded
	case strings.HasPrefix(code, "Insufficient") && strings.Contains(code, "Capacity"):
		return model.FailureCapacity
	case strings.HasPrefix(code, "InvalidParameter"):
		return model.FailureInvalidParameter
	}
	return model.FailureUnknown
}
