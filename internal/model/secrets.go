package model

import (
	"context"
	"log/slog"
	"time"
)

// Secrets reads the master user secrets RDS keeps in AWS Secrets Manager for instances and
// clusters with a managed master password (MasterUserSecret). Errors are *Error values; a
// secret that does not exist (or was deleted with its instance) gives FailureNotFound.
type Secrets interface {
	// MasterCredentials returns the user name and the current password stored in the
	// secret (its AWSCURRENT version).
	MasterCredentials(ctx context.Context, secretARN string) (*Credentials, error)
	// DescribeSecret returns what Secrets Manager says about the secret, without its value.
	DescribeSecret(ctx context.Context, secretARN string) (*Secret, error)
}

// Credentials are a database user name and password.
type Credentials struct {
	Username string
	Password Password
}

// Password is a database password. It prints, logs and marshals as redact.Mark's
// "[REDACTED]" so that it cannot reach a log, the journal, the audit trail or a report by
// accident; Reveal returns the value for the one place that needs it (a database driver).
type Password string

const hiddenPassword = "[REDACTED]"

// Reveal returns the password itself.
func (p Password) Reveal() string { return string(p) }

func (p Password) String() string   { return hiddenPassword }
func (p Password) GoString() string { return hiddenPassword }

// LogValue keeps the password out of slog output.
func (p Password) LogValue() slog.Value { return slog.StringValue(hiddenPassword) }

// MarshalText keeps the password out of JSON, YAML and other encodings.
func (p Password) MarshalText() ([]byte, error) { return []byte(hiddenPassword), nil }

// Secret is a Secrets Manager secret's description.
type Secret struct {
	ARN, Name string
	// KmsKeyID is the key that encrypts it; "" means the AWS managed key aws/secretsmanager.
	KmsKeyID string
	// OwningService is "rds" for a secret RDS manages.
	OwningService string
	// RotationDays is the automatic rotation interval (0: not rotated).
	RotationDays int
	LastRotated  time.Time
	NextRotation time.Time
	Tags         Tags
}
