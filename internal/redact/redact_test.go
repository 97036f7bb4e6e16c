package redact

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestString(t *testing.T) {
	const secretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	sessionToken := "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD" + strings.Repeat("Ab3+", 40) + "=="
	cases := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"plain text", "DBInstanceNotFound: orders-db not found", "DBInstanceNotFound: orders-db not found"},
		{"identifiers and ARNs kept",
			"arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab db-ABCDEFGHIJKLMNOPQRSTUVWXY",
			"arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab db-ABCDEFGHIJKLMNOPQRSTUVWXY"},
		{"Secrets Manager ARN kept (it names a secret)",
			"new secret arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-d848be33-d7a3-49a5-ac12-ae349098671f-yqiAXU",
			"new secret arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-d848be33-d7a3-49a5-ac12-ae349098671f-yqiAXU"},
		{"secret value after an ARN still redacted",
			"arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-x secret: hunter22",
			"arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-x secret: [REDACTED]"},
		{"sha256 hex kept",
			"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
			"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
		{"presigned URL",
			"PreSignedUrl: https://rds.us-east-1.amazonaws.com/?Action=CopyDBSnapshot&SourceDBSnapshotIdentifier=x&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20260301%2Fus-east-1%2Frds%2Faws4_request&X-Amz-Date=20260301T000000Z&X-Amz-Security-Token=FwoGZXIvYXdzEabc&X-Amz-Signature=0123abcd rejected",
			"PreSignedUrl: [REDACTED] rejected"},
		{"bare presigned URL",
			"fetch https://bucket.s3.amazonaws.com/key?X-Amz-Signature=0123abcd&X-Amz-Expires=60 failed",
			"fetch https://bucket.s3.amazonaws.com/key?[REDACTED] failed"},
		{"URL without secrets kept", "see https://docs.aws.amazon.com/x?tab=1", "see https://docs.aws.amazon.com/x?tab=1"},
		{"query parameters outside a URL",
			"X-Amz-Signature=abcdef&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE/20260301/us-east-1/rds/aws4_request&X-Amz-Security-Token=tok",
			"X-Amz-Signature=[REDACTED]&X-Amz-Credential=[REDACTED]&X-Amz-Security-Token=[REDACTED]"},
		{"URL-encoded presigned URL in a form body",
			"Action=CopyDBSnapshot&PreSignedUrl=https%3A%2F%2Frds.us-east-1.amazonaws.com%2F%3FX-Amz-Signature%3Dabc&KmsKeyId=k",
			"Action=CopyDBSnapshot&PreSignedUrl=[REDACTED]&KmsKeyId=k"},
		{"master password form", "Action=CreateDBInstance&MasterUserPassword=hunter22&Engine=mysql",
			"Action=CreateDBInstance&MasterUserPassword=[REDACTED]&Engine=mysql"},
		{"master password JSON", `{"MasterUserPassword": "hunter22", "Engine":"mysql"}`,
			`{"MasterUserPassword": "[REDACTED]", "Engine":"mysql"}`},
		{"password colon", "password: hunter22", "password: [REDACTED]"},
		{"password in URL", "hook failed: psql postgres://admin:hunter22@orders-db:5432/app",
			"hook failed: psql postgres://admin:[REDACTED]@orders-db:5432/app"},
		{"secret access key alone", "key " + secretKey + " leaked", "key [REDACTED] leaked"},
		{"secret access key env", "AWS_SECRET_ACCESS_KEY=" + secretKey, "AWS_SECRET_ACCESS_KEY=[REDACTED]"},
		{"access key id", "using AKIAIOSFODNN7EXAMPLE now", "using [REDACTED] now"},
		{"session token", "token " + sessionToken + " end", "token [REDACTED] end"},
		{"two keys side by side", secretKey + " " + secretKey, "[REDACTED] [REDACTED]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := String(c.in)
			assert.Equal(t, c.want, got)
			assert.Equal(t, got, String(got), "idempotent")
		})
	}
}
