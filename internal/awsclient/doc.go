// Package awsclient is the only package that imports the AWS SDK's service packages. It
// implements model.RDS over the RDS and KMS clients of each region, returns the project's
// own types, translates AWS errors into model.Error with its model.Failure, and reports
// every call (for the audit trail) and its progress.
package awsclient
