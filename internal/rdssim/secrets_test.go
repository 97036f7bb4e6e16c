package rdssim_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// secretValue reads the {"username","password"} value of a secret with the SDK's client.
func secretValue(t *testing.T, sm *secretsmanager.Client, arn string) (user, password, version string) {
	t.Helper()
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	require.NoError(t, err)
	var v struct{ Username, Password string }
	require.NoError(t, json.Unmarshal([]byte(aws.ToString(out.SecretString)), &v))
	assert.Equal(t, arn, aws.ToString(out.ARN))
	assert.Equal(t, []string{"AWSCURRENT"}, out.VersionStages)
	return v.Username, v.Password, aws.ToString(out.VersionId)
}

// TestManagedMasterSecretOfAnInstance: an instance created with ManageMasterUserPassword gets
// a secret RDS owns (rds!db-<uuid>, tagged with the instance ARN, aws/secretsmanager key)
// that the Secrets Manager API reads; rotation every 7 days changes its version and
// password; a restore comes back without one; a modify creates a new one; deleting the
// instance deletes its secret.
func TestManagedMasterSecretOfAnInstance(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c := h.RDS("us-east-1")
	sm := h.SecretsManager("us-east-1")
	in := mysqlInput("managed")
	in.MasterUserPassword, in.ManageMasterUserPassword = nil, aws.Bool(true)
	inst := createAvailable(t, h, c, in)
	require.NotNil(t, inst.MasterUserSecret)
	arn := aws.ToString(inst.MasterUserSecret.SecretArn)
	assert.Regexp(t, `^arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}-[A-Za-z0-9]{6}$`, arn)
	assert.Equal(t, "active", aws.ToString(inst.MasterUserSecret.SecretStatus))
	assert.Contains(t, aws.ToString(inst.MasterUserSecret.KmsKeyId), ":key/", "the aws/secretsmanager key's ARN")

	user, pw1, v1 := secretValue(t, sm, arn)
	assert.Equal(t, "admin", user)
	assert.Len(t, pw1, 28)

	d, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(arn)})
	require.NoError(t, err)
	assert.Equal(t, "rds", aws.ToString(d.OwningService))
	assert.Nil(t, d.KmsKeyId, "omitted for the AWS managed key aws/secretsmanager")
	assert.True(t, aws.ToBool(d.RotationEnabled))
	assert.Equal(t, int64(7), aws.ToInt64(d.RotationRules.AutomaticallyAfterDays))
	tags := map[string]string{}
	for _, tg := range d.Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	assert.Equal(t, aws.ToString(inst.DBInstanceArn), tags["aws:rds:primaryDBInstanceArn"])
	assert.Equal(t, "rds", tags["aws:secretsmanager:owningService"])
	byName, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: d.Name})
	require.NoError(t, err, "a secret is found by name too")
	assert.Equal(t, arn, aws.ToString(byName.ARN))

	// Rotation: 7 days later the secret has a new current version and password; the old one
	// is AWSPREVIOUS.
	h.Advance(7*24*time.Hour + time.Minute)
	_, pw2, v2 := secretValue(t, sm, arn)
	assert.NotEqual(t, v1, v2)
	assert.NotEqual(t, pw1, pw2)
	prev, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn), VersionStage: aws.String("AWSPREVIOUS")})
	require.NoError(t, err)
	assert.Equal(t, v1, aws.ToString(prev.VersionId))
	assert.Equal(t, arn, aws.ToString(describeOne(t, c, "managed").MasterUserSecret.SecretArn), "rotation keeps the secret")

	// A restore comes back without a managed secret (ManageMasterUserPassword on restore
	// applies to Oracle only), and may not ask for one.
	_, err = c.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("managed"), DBSnapshotIdentifier: aws.String("managed-snap")})
	require.NoError(t, err)
	advanceUntilSnapshot(t, h, c, "managed-snap", "available")
	_, err = c.RestoreDBInstanceFromDBSnapshot(ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{DBInstanceIdentifier: aws.String("restored-bad"),
		DBSnapshotIdentifier: aws.String("managed-snap"), ManageMasterUserPassword: aws.Bool(true)})
	assert.Equal(t, "InvalidParameterCombination", apiCode(t, err))
	_, err = c.RestoreDBInstanceFromDBSnapshot(ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{DBInstanceIdentifier: aws.String("restored"),
		DBSnapshotIdentifier: aws.String("managed-snap")})
	require.NoError(t, err)
	restored := advanceUntilInstance(t, h, c, "restored", "available")
	assert.Nil(t, restored.MasterUserSecret)

	// Turning management on creates a new secret of the restored instance.
	_, err = c.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("restored"),
		ManageMasterUserPassword: aws.Bool(true), ApplyImmediately: aws.Bool(true)})
	require.NoError(t, err)
	restored = advanceUntilInstance(t, h, c, "restored", "available")
	require.NotNil(t, restored.MasterUserSecret)
	newARN := aws.ToString(restored.MasterUserSecret.SecretArn)
	assert.NotEqual(t, arn, newARN)
	_, pw3, _ := secretValue(t, sm, newARN)
	assert.NotEqual(t, pw2, pw3, "RDS generates a new password")

	// Turning it off needs a password, and deletes the secret.
	_, err = c.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("restored"),
		ManageMasterUserPassword: aws.Bool(false), ApplyImmediately: aws.Bool(true)})
	assert.Equal(t, "InvalidParameterCombination", apiCode(t, err))

	// Deleting the instance deletes its secret: Secrets Manager no longer finds it.
	_, err = c.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("managed"), SkipFinalSnapshot: aws.Bool(true)})
	require.NoError(t, err)
	h.Advance(time.Hour)
	_, err = sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	assert.Equal(t, "ResourceNotFoundException", apiCode(t, err))
	assert.Contains(t, err.Error(), "Secrets Manager can't find the specified secret.")
	assert.Equal(t, 400, httpStatus(t, err))
	_, err = sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(arn)})
	assert.Equal(t, "ResourceNotFoundException", apiCode(t, err))
	_, _, _ = secretValue(t, sm, newARN) // the restored instance's own secret is untouched
}

// TestManagedMasterSecretOfACluster: an Aurora cluster holds the secret (rds!cluster-<uuid>,
// tagged with the cluster ARN); a cluster restore has none and RestoreDBClusterFromSnapshot
// has no ManageMasterUserPassword member; ModifyDBCluster turns management on; deleting the
// cluster deletes the secret.
func TestManagedMasterSecretOfACluster(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c := h.RDS("us-east-1")
	sm := h.SecretsManager("us-east-1")
	in := auroraMySQLInput("aur")
	in.MasterUserPassword, in.ManageMasterUserPassword = nil, aws.Bool(true)
	cl := createCluster(t, h, c, in)
	require.NotNil(t, cl.MasterUserSecret)
	arn := aws.ToString(cl.MasterUserSecret.SecretArn)
	assert.Contains(t, arn, ":secret:rds!cluster-")
	user, _, _ := secretValue(t, sm, arn)
	assert.Equal(t, "admin", user)
	d, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(arn)})
	require.NoError(t, err)
	var primary string
	for _, tg := range d.Tags {
		if aws.ToString(tg.Key) == "aws:rds:primaryDBClusterArn" {
			primary = aws.ToString(tg.Value)
		}
	}
	assert.Equal(t, aws.ToString(cl.DBClusterArn), primary)

	_, err = c.CreateDBClusterSnapshot(ctx, &rds.CreateDBClusterSnapshotInput{DBClusterIdentifier: aws.String("aur"),
		DBClusterSnapshotIdentifier: aws.String("aur-snap")})
	require.NoError(t, err)
	advanceUntilClusterSnapshot(t, h, c, "aur-snap", "available")
	_, err = c.RestoreDBClusterFromSnapshot(ctx, &rds.RestoreDBClusterFromSnapshotInput{DBClusterIdentifier: aws.String("aur-new"),
		SnapshotIdentifier: aws.String("aur-snap"), Engine: aws.String("aurora-mysql")})
	require.NoError(t, err)
	restored := advanceUntilCluster(t, h, c, "aur-new", "available")
	assert.Nil(t, restored.MasterUserSecret)

	_, err = c.ModifyDBCluster(ctx, &rds.ModifyDBClusterInput{DBClusterIdentifier: aws.String("aur-new"),
		ManageMasterUserPassword: aws.Bool(true), MasterUserPassword: aws.String("another-password"), ApplyImmediately: aws.Bool(true)})
	assert.Equal(t, "InvalidParameterCombination", apiCode(t, err))
	_, err = c.ModifyDBCluster(ctx, &rds.ModifyDBClusterInput{DBClusterIdentifier: aws.String("aur-new"),
		ManageMasterUserPassword: aws.Bool(true), ApplyImmediately: aws.Bool(true)})
	require.NoError(t, err)
	restored = advanceUntilCluster(t, h, c, "aur-new", "available")
	require.NotNil(t, restored.MasterUserSecret)
	newARN := aws.ToString(restored.MasterUserSecret.SecretArn)
	assert.NotEqual(t, arn, newARN)
	assert.Contains(t, newARN, ":secret:rds!cluster-")
	secretValue(t, sm, newARN)

	_, err = c.DeleteDBCluster(ctx, &rds.DeleteDBClusterInput{DBClusterIdentifier: aws.String("aur"), SkipFinalSnapshot: aws.Bool(true)})
	require.NoError(t, err)
	h.Advance(time.Hour)
	_, err = sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	assert.Equal(t, "ResourceNotFoundException", apiCode(t, err))
}

// TestSecretsManagerIAM: with a policy in force, reading a secret needs
// secretsmanager:GetSecretValue on its ARN; the refusal is AccessDeniedException.
func TestSecretsManagerIAM(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c := h.RDS("us-east-1")
	in := mysqlInput("iam")
	in.MasterUserPassword, in.ManageMasterUserPassword = nil, aws.Bool(true)
	arn := aws.ToString(createAvailable(t, h, c, in).MasterUserSecret.SecretArn)
	sm := h.SecretsManager("us-east-1")
	h.EnforcePolicy(policyDoc(allow("secretsmanager:DescribeSecret", "*")))
	_, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(arn)})
	require.NoError(t, err)
	_, err = sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	assert.Equal(t, "AccessDeniedException", apiCode(t, err))
	assert.Contains(t, err.Error(), "is not authorized to perform: secretsmanager:GetSecretValue on resource: "+arn)
	h.EnforcePolicy(policyDoc(allow("secretsmanager:GetSecretValue", arn)))
	_, _, _ = secretValue(t, sm, arn)
}

// A read replica of a source whose master password RDS manages is refused for every engine
// but SQL Server (RDS User Guide, "Password management with Amazon RDS and AWS Secrets
// Manager", Limitations). The simulator refused it for mysql only.
func TestNoReplicaOfAManagedPasswordSourceButSQLServer(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c := h.RDS("us-east-1")
	for _, tc := range []struct {
		engine, class, license string
		refused                bool
	}{
		{"mysql", "db.t3.micro", "", true},
		{"mariadb", "db.t3.micro", "", true},
		{"postgres", "db.t3.micro", "", true},
		{"oracle-ee", "db.m5.large", "bring-your-own-license", true},
		{"sqlserver-ee", "db.m5.xlarge", "license-included", false},
	} {
		id := strings.ReplaceAll(tc.engine, "-", "")
		in := mysqlInput(id)
		in.Engine, in.DBInstanceClass = aws.String(tc.engine), aws.String(tc.class)
		if tc.license != "" {
			in.LicenseModel = aws.String(tc.license)
		}
		in.MasterUserPassword, in.ManageMasterUserPassword = nil, aws.Bool(true)
		createAvailable(t, h, c, in)
		_, err := c.CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String(id + "-r"),
			SourceDBInstanceIdentifier: aws.String(id)})
		if !tc.refused {
			assert.NoError(t, err, tc.engine)
			continue
		}
		assert.Equal(t, "InvalidParameterValue", apiCode(t, err), tc.engine)
		assert.Equal(t, "Creating read replicas for source instance with engine "+tc.engine+
			" where ManageMasterUserPassword is enabled is not supported.", apiMessage(t, err))
	}
}
