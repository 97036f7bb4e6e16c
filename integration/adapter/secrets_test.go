package adapter_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/awsclient"
	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/rdssim"
)

// TestSecretsAdapter: the master user's credentials of a managed secret through
// awsclient.Secrets, equal to what the simulator stores; the password never shows in
// fmt, JSON, slog or the --debug wire log; a deleted secret is FailureNotFound.
func TestSecretsAdapter(t *testing.T) {
	t.Parallel()
	var wire bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&wire, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := startSimWith(t, awsclient.Config{Logger: logger}, rdssim.Options{Start: start, ManualClock: true})
	ctx := e.ctx(t)
	_, err := e.h.RDS("us-east-1").CreateDBInstance(ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("pw"),
		DBInstanceClass: aws.String("db.t3.micro"), Engine: aws.String("postgres"), MasterUsername: aws.String("admin"),
		ManageMasterUserPassword: aws.Bool(true), AllocatedStorage: aws.Int32(20)})
	require.NoError(t, err)
	e.h.Advance(time.Hour)
	inst, err := e.api.DescribeInstance(ctx, "pw")
	require.NoError(t, err)
	require.True(t, inst.Settings.ManagedMasterUserSecret)
	arn := inst.MasterUserSecretARN
	require.NotEmpty(t, arn)

	secrets := e.client.Secrets("us-east-1")
	creds, err := secrets.MasterCredentials(ctx, arn)
	require.NoError(t, err)
	user, password, ok := e.h.Sim.MasterSecretValue(arn)
	require.True(t, ok)
	assert.Equal(t, user, creds.Username)
	assert.Equal(t, password, creds.Password.Reveal())

	js, err := json.Marshal(creds)
	require.NoError(t, err)
	slog.New(slog.NewTextHandler(&wire, nil)).Info("credentials", "creds", creds, "password", creds.Password)
	// In the wire log the password would be JSON-escaped, then quoted by the text handler:
	// look for every stretch of it that escaping leaves alone.
	fragments := strings.FieldsFunc(password, func(r rune) bool { return strings.ContainsRune(`"\&<>`, r) })
	for _, shown := range []string{fmt.Sprint(creds), fmt.Sprintf("%+v %#v %s %q %x", *creds, *creds, creds.Password, creds.Password, creds.Password), string(js), wire.String()} {
		assert.NotContains(t, shown, password)
		for _, f := range fragments {
			if len(f) >= 6 {
				assert.NotContains(t, shown, f)
			}
		}
	}
	assert.Contains(t, wire.String(), `SecretString\":\"[REDACTED]\"`, "the wire log has the GetSecretValue response body, value withheld")

	d, err := secrets.DescribeSecret(ctx, arn)
	require.NoError(t, err)
	assert.Equal(t, "rds", d.OwningService)
	assert.Equal(t, 7, d.RotationDays)
	assert.Equal(t, arn, d.ARN)
	assert.Equal(t, inst.ARN, d.Tags["aws:rds:primaryDBInstanceArn"])

	_, err = e.h.RDS("us-east-1").DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("pw"), SkipFinalSnapshot: aws.Bool(true)})
	require.NoError(t, err)
	e.h.Advance(time.Hour)
	_, err = secrets.MasterCredentials(ctx, arn)
	assert.True(t, model.IsNotFound(err), "%v", err)
	assert.Contains(t, err.Error(), arn)
}
