package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/journal"
	"github.com/rdsencrypt/rdsencrypt/internal/rdssim"
	"github.com/rdsencrypt/rdsencrypt/internal/rdssim/simtest"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// Nothing secret is ever written: rdsencrypt's entry point, with credentials from the
// environment as an operator's would be, runs migrate, resume, cleanup and rollback at
// --debug against the simulator; then every file under the state directory and everything
// printed is searched for the secrets the tool could have seen.

const (
	dummyAccessKeyID = "AKIAIOSFODNN7RDSENC1"
	dummySecretKey   = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYRDSENCRYPTK"
	dummySessionTok  = "FwoGZXIvYXdzEJr//////////wEaDRDSENCRYPTsessionTOKENnotForLogs"
	sourcePassword   = "Src-Passw0rd-9f2c-never-in-files"
	rollbackPassword = "Rb-Passw0rd-41d7-never-in-files"
)

// secretNeedles are strings no file or output of the tool may contain. A Query body starts
// with Action=, so a MasterUserPassword parameter would follow an "&" (ManageMasterUserPassword=
// is no password).
var secretNeedles = []string{sourcePassword, rollbackPassword, dummySecretKey, dummySessionTok, dummyAccessKeyID,
	"X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token", "PreSignedUrl=", "&MasterUserPassword="}

type secretsCLI struct {
	t       *testing.T
	url     string
	state   string
	outputs bytes.Buffer // every stdout and stderr, for the search
}

func (c *secretsCLI) run(args ...string) (string, int) {
	c.t.Helper()
	var out, errOut bytes.Buffer
	all := append([]string{"--endpoint-url", c.url, "--state-dir", c.state, "--region", "us-east-1",
		"--debug", "--poll-interval", "2ms"}, withAskFlags(args, "--yes", "--no-tui")...)
	code := Main(all, Streams{In: strings.NewReader(""), Out: &out, Err: &errOut})
	c.outputs.Write(out.Bytes())
	c.outputs.Write(errOut.Bytes())
	if code != 0 {
		c.t.Logf("rdsencrypt %s: exit %d: %s", strings.Join(args, " "), code, lastLines(errOut.String(), 3))
	}
	return out.String(), code
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func reportOf(t *testing.T, stdout string) workflow.Report {
	t.Helper()
	var rep workflow.Report
	require.NoError(t, json.Unmarshal([]byte(stdout), &rep), "report: %s", stdout)
	return rep
}

func TestNoSecretIsEverWritten(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("AWS_ACCESS_KEY_ID", dummyAccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", dummySecretKey)
	t.Setenv("AWS_SESSION_TOKEN", dummySessionTok)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(home, "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")

	h := simtest.Start(t, rdssim.Options{Speed: 40000})
	ctx := context.Background()
	k := h.KMS("us-east-1")
	key, err := k.CreateKey(ctx, &kms.CreateKeyInput{})
	require.NoError(t, err)
	_, err = k.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/k"), TargetKeyId: key.KeyMetadata.KeyId})
	require.NoError(t, err)
	db := h.RDS("us-east-1")
	source := func(id string, edit func(*rds.CreateDBInstanceInput)) {
		in := &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String(id), DBInstanceClass: aws.String("db.t3.medium"),
			Engine: aws.String("postgres"), EngineVersion: aws.String("16.6"), MasterUsername: aws.String("postgres"),
			AllocatedStorage: aws.Int32(20), BackupRetentionPeriod: aws.Int32(7), CopyTagsToSnapshot: aws.Bool(true)}
		edit(in)
		_, err := db.CreateDBInstance(ctx, in)
		require.NoError(t, err)
	}
	source("ledger", func(in *rds.CreateDBInstanceInput) { in.MasterUserPassword = aws.String(sourcePassword) })
	source("vault", func(in *rds.CreateDBInstanceInput) { in.ManageMasterUserPassword = aws.Bool(true) })
	source("scratch", func(in *rds.CreateDBInstanceInput) { in.MasterUserPassword = aws.String(rollbackPassword) })
	h.Advance(3 * time.Hour)
	// The tool never sets a password; one changed behind its back is pending on the source
	// while it runs, so its describes and debug log would show it if anything did.
	_, err = db.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("scratch"),
		MasterUserPassword: aws.String(rollbackPassword + "-next")})
	require.NoError(t, err)

	tmp := t.TempDir()
	c := &secretsCLI{t: t, url: h.URL, state: filepath.Join(tmp, "state")}
	flag := filepath.Join(tmp, "freeze-once")

	// migrate stops at a failing freeze hook; resume finishes; cleanup retires the source.
	_, code := c.run("migrate", "--db", "ledger", "--kms-key", "alias/k", "-o", "json",
		"--freeze-hook", "test -e "+flag+" || { touch "+flag+"; exit 3; }")
	require.NotZero(t, code, "the first freeze fails")
	store, err := workflow.OpenStore(c.state)
	require.NoError(t, err)
	states, _, err := store.List()
	require.NoError(t, err)
	require.Len(t, states, 1)
	ledgerID := states[0].ID
	out, code := c.run("resume", ledgerID, "-o", "json")
	require.Zero(t, code, out)
	assert.Equal(t, workflow.StatusCompleted, reportOf(t, out).Status)
	out, code = c.run("cleanup", ledgerID, "-o", "json")
	require.Zero(t, code, out)
	rep := reportOf(t, out)
	assert.Equal(t, workflow.StatusCleanedUp, rep.Status)
	// the report includes the audit trail: where it is, its counts, the approvals in full
	require.NotNil(t, rep.Audit)
	assert.Equal(t, store.AuditPath(ledgerID), rep.Audit.Path)
	assert.Positive(t, rep.Audit.ByType[journal.AuditAPICall])
	assert.Positive(t, rep.Audit.ByType[journal.AuditStateChange])
	require.NotEmpty(t, rep.Audit.Approvals)
	last := rep.Audit.Approvals[len(rep.Audit.Approvals)-1]
	assert.Equal(t, "cleanup", last.Step)
	assert.NotEmpty(t, last.User)
	assert.False(t, last.Time.IsZero())

	// a source whose password Secrets Manager manages
	out, code = c.run("migrate", "--db", "vault", "--kms-key", "alias/k", "-o", "json", "--freeze", "enforce")
	require.Zero(t, code, out)
	vaultRep := reportOf(t, out)
	vaultID := vaultRep.MigrationID
	// The report names the new secret (step manage-master-password); the passwords in the old
	// and the new secret are searched for like the other secrets.
	require.NotNil(t, vaultRep.MasterUserSecret)
	require.NotEmpty(t, vaultRep.MasterUserSecret.NewARN)
	described, err := db.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("vault")})
	require.NoError(t, err)
	require.NotNil(t, described.DBInstances[0].MasterUserSecret, "the new vault manages its password")
	assert.Equal(t, aws.ToString(described.DBInstances[0].MasterUserSecret.SecretArn), vaultRep.MasterUserSecret.NewARN,
		"the report names the new secret, whole (an ARN is not redacted)")
	var managed []string
	if h.Sim != nil {
		for _, arn := range []string{vaultRep.MasterUserSecret.SourceARN, vaultRep.MasterUserSecret.NewARN} {
			_, pw, ok := h.Sim.MasterSecretValue(arn)
			require.True(t, ok, arn)
			managed = append(managed, pw)
		}
	}
	out, code = c.run("cleanup", vaultID, "-o", "json")
	require.Zero(t, code, out)

	// a migration rolled back
	out, code = c.run("migrate", "--db", "scratch", "--kms-key", "alias/k", "-o", "json", "--freeze", "none")
	require.Zero(t, code, out)
	scratchID := reportOf(t, out).MigrationID
	out, code = c.run("rollback", scratchID, "-o", "json")
	require.Zero(t, code, out)
	assert.Equal(t, workflow.StatusRolledBack, reportOf(t, out).Status)
	c.run("status", "-o", "json")
	c.run("status", ledgerID)

	require.Contains(t, c.outputs.String(), "aws request", "--debug logged the wire traffic searched here")
	assertNoSecrets(t, "stdout/stderr", c.outputs.Bytes(), managed...)
	files := 0
	require.NoError(t, filepath.WalkDir(c.state, func(path string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		info, err := d.Info()
		require.NoError(t, err)
		if d.IsDir() {
			assert.Equal(t, fs.FileMode(0o700), info.Mode().Perm(), "directory %s", path)
			return nil
		}
		files++
		assert.Equal(t, fs.FileMode(0o600), info.Mode().Perm(), "file %s", path)
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		assertNoSecrets(t, path, b, managed...)
		return nil
	}))
	assert.Equal(t, 12, files, "a journal, a lock and an audit trail per migration, and a lock per source")
	for _, id := range []string{ledgerID, vaultID, scratchID} {
		recs, err := store.ReadAudit(id)
		require.NoError(t, err)
		assert.NotEmpty(t, recs, "audit trail of %s", id)
	}
}

func assertNoSecrets(t *testing.T, what string, b []byte, extra ...string) {
	t.Helper()
	s := string(b)
	for _, needle := range append(slices.Clone(secretNeedles), extra...) {
		if i := strings.Index(s, needle); i >= 0 {
			t.Errorf("%s contains %q: ...%s...", what, needle, s[max(0, i-80):min(len(s), i+80)])
		}
	}
}
