package rdssim

import (
	"fmt"
	"net/http"
)

// apiError is an error returned to the client: an RDS query error or a KMS JSON error.
type apiError struct {
	Code    string
	Message string
	Status  int
	// QueryCode is the awsQuery-compatible code of a CloudWatch error (X-Amzn-Query-Error).
	QueryCode string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

// errf builds an apiError whose HTTP status comes from the table of docs/aws-behaviour.md#errors.
func errf(code, format string, args ...any) *apiError {
	return &apiError{Code: code, Message: fmt.Sprintf(format, args...), Status: statusOf(code)}
}

// errorStatus maps wire codes whose HTTP status is not 400 (docs/aws-behaviour.md#errors, SDK schemas).
var errorStatus = map[string]int{
	"DBInstanceNotFound":                  http.StatusNotFound,
	"DBSnapshotNotFound":                  http.StatusNotFound,
	"DBParameterGroupNotFound":            http.StatusNotFound,
	"OptionGroupNotFoundFault":            http.StatusNotFound,
	"DBSubnetGroupNotFoundFault":          http.StatusNotFound,
	"AuthorizationNotFound":               http.StatusNotFound,
	"CertificateNotFound":                 http.StatusNotFound,
	"DomainNotFoundFault":                 http.StatusNotFound,
	"ResourceNotFoundFault":               http.StatusNotFound,
	"DBClusterNotFoundFault":              http.StatusNotFound,
	"DBClusterSnapshotNotFoundFault":      http.StatusNotFound,
	"DBClusterParameterGroupNotFound":     http.StatusNotFound,
	"GlobalClusterNotFoundFault":          http.StatusNotFound,
	"DBClusterQuotaExceededFault":         http.StatusForbidden,
	"InsufficientDBClusterCapacityFault":  http.StatusForbidden,
	"DBClusterEndpointQuotaExceededFault": http.StatusForbidden,
	"InvalidClientTokenId":                http.StatusForbidden,
	"SignatureDoesNotMatch":               http.StatusForbidden,
	"InternalFailure":                     http.StatusInternalServerError,
	"ServiceUnavailable":                  http.StatusServiceUnavailable,
	"KMSInternalException":                http.StatusInternalServerError,
}

func statusOf(code string) int {
	if s, ok := errorStatus[code]; ok {
		return s
	}
	return http.StatusBadRequest
}

// RegisterErrorStatus lets other files declare the HTTP status of a wire code.
func registerErrorStatus(code string, status int) { errorStatus[code] = status }

// Messages used by several handlers; wording follows AWS where it is known (docs/aws-behaviour.md#errors).

func errMissing(param string) *apiError {
	return errf("MissingParameter", "The request must contain the parameter %s", param)
}

func errInvalidValue(format string, args ...any) *apiError {
	return errf("InvalidParameterValue", format, args...)
}

func errCombination(format string, args ...any) *apiError {
	return errf("InvalidParameterCombination", format, args...)
}

func errInstanceNotFound(id string) *apiError {
	return errf("DBInstanceNotFound", "DBInstance %s not found.", id)
}

func errSnapshotNotFound(id string) *apiError {
	return errf("DBSnapshotNotFound", "DBSnapshot %s not found.", id)
}

func errInstanceExists() *apiError {
	return errf("DBInstanceAlreadyExists", "DB instance already exists")
}

func errSnapshotExists(id string) *apiError {
	return errf("DBSnapshotAlreadyExists",
		"Cannot create the snapshot because a snapshot with the identifier %s already exists.", id)
}

func errKeyNotAccessible(key string) *apiError {
	return errf("KMSKeyNotAccessibleFault",
		"The specified KMS key [%s] does not exist, is not enabled or you do not have permissions to access it.", key)
}
