package rdssim_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func policyDoc(statements ...map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": statements})
	return b
}

func allow(actions any, resources any) map[string]any {
	return map[string]any{"Effect": "Allow", "Action": actions, "Resource": resources}
}

func TestPolicyDeniesWhatIsNotAllowed(t *testing.T) {
	h := manual(t)
	c := h.RDS("us-east-1")
	createAvailable(t, h, c, mysqlInput("db1"))
	h.EnforcePolicy(policyDoc(allow("rds:Describe*", "*")))

	_, err := c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("db1")})
	require.NoError(t, err, "Action wildcards match")

	_, err = c.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("db1"), DBSnapshotIdentifier: aws.String("s1")})
	require.Error(t, err)
	assert.Equal(t, "AccessDenied", apiCode(t, err))
	assert.Equal(t, http.StatusForbidden, httpStatus(t, err))
	assert.Contains(t, err.Error(), "User: arn:aws:iam::123456789012:user/rdsencrypt is not authorized to perform: rds:CreateDBSnapshot on resource: arn:aws:rds:us-east-1:123456789012:snapshot:s1 because no identity-based policy allows the rds:CreateDBSnapshot action")

	_, err = h.KMS("us-east-1").DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/rds")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "AccessDeniedException")
	assert.Contains(t, err.Error(), "kms:DescribeKey on resource: arn:aws:kms:us-east-1:123456789012:key/")

	h.EnforcePolicy(nil)
	_, err = c.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("db1"), DBSnapshotIdentifier: aws.String("s1")})
	require.NoError(t, err, "nil stops enforcement")
}

func TestPolicyResourcesTagsAndDeny(t *testing.T) {
	h := manual(t)
	c := h.RDS("us-east-1")
	createAvailable(t, h, c, mysqlInput("db1"))
	h.EnforcePolicy(policyDoc(
		allow("rds:DescribeDBSnapshots", "*"),
		allow("rds:CreateDBSnapshot", []string{"arn:aws:rds:*:*:db:*", "arn:aws:rds:*:*:snapshot:ok-*"}),
		map[string]any{"Effect": "Allow", "Action": "rds:AddTagsToResource", "Resource": "arn:aws:rds:*:*:snapshot:ok-*",
			"Condition": map[string]any{"StringEquals": map[string]any{"aws:RequestTag/owner": "me"}}},
		map[string]any{"Effect": "Allow", "Action": "rds:DeleteDBSnapshot", "Resource": "*",
			"Condition": map[string]any{"Null": map[string]any{"aws:ResourceTag/owner": "false"}}},
		map[string]any{"Effect": "Deny", "Action": "rds:DeleteDBSnapshot", "Resource": "arn:aws:rds:*:*:snapshot:ok-keep"},
	))
	snap := func(id string, tags ...types.Tag) error {
		_, err := c.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("db1"),
			DBSnapshotIdentifier: aws.String(id), Tags: tags})
		if err == nil {
			advanceUntilSnapshot(t, h, c, id, "available")
		}
		return err
	}
	require.Error(t, snap("other"), "Resource patterns narrow the snapshot name")
	require.NoError(t, snap("ok-plain"))
	err := snap("ok-tagged", types.Tag{Key: aws.String("owner"), Value: aws.String("you")})
	require.Error(t, err, "request tags are authorized as rds:AddTagsToResource")
	assert.Contains(t, err.Error(), "rds:AddTagsToResource on resource: arn:aws:rds:us-east-1:123456789012:snapshot:ok-tagged")
	require.NoError(t, snap("ok-mine", types.Tag{Key: aws.String("owner"), Value: aws.String("me")}))
	require.NoError(t, snap("ok-keep", types.Tag{Key: aws.String("owner"), Value: aws.String("me")}))

	del := func(id string) error {
		_, err := c.DeleteDBSnapshot(ctx, &rds.DeleteDBSnapshotInput{DBSnapshotIdentifier: aws.String(id)})
		return err
	}
	require.Error(t, del("ok-plain"), "aws:ResourceTag is the resource's own tags")
	require.NoError(t, del("ok-mine"))
	err = del("ok-keep")
	require.Error(t, err, "an explicit deny wins")
	assert.Contains(t, err.Error(), "with an explicit deny in an identity-based policy")
}

func TestPolicyFinalSnapshotNeedsCreateDBSnapshot(t *testing.T) {
	h := manual(t)
	c := h.RDS("us-east-1")
	createAvailable(t, h, c, mysqlInput("db1"))
	h.EnforcePolicy(policyDoc(allow("rds:DeleteDBInstance", "*")))
	_, err := c.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("db1"), FinalDBSnapshotIdentifier: aws.String("last")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not authorized to perform: rds:CreateDBSnapshot on resource: arn:aws:rds:us-east-1:123456789012:db:db1")
	h.EnforcePolicy(policyDoc(allow([]string{"rds:DeleteDBInstance", "rds:CreateDBSnapshot"}, "*")))
	_, err = c.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("db1"), FinalDBSnapshotIdentifier: aws.String("last")})
	require.NoError(t, err)
}

func TestPolicyKMSUseThroughRDS(t *testing.T) {
	h := manual(t)
	c := h.RDS("us-east-1")
	k := h.KMS("us-east-1")
	createAvailable(t, h, c, mysqlInput("db1"))
	key, err := k.CreateKey(ctx, &kms.CreateKeyInput{})
	require.NoError(t, err)
	_, err = c.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("db1"), DBSnapshotIdentifier: aws.String("s1")})
	require.NoError(t, err)
	advanceUntilSnapshot(t, h, c, "s1", "available")

	rdsOnly := allow([]string{"rds:CopyDBSnapshot"}, "*")
	h.EnforcePolicy(policyDoc(rdsOnly))
	copyTo := func(id, keyID string) error {
		_, err := c.CopyDBSnapshot(ctx, &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: aws.String("s1"),
			TargetDBSnapshotIdentifier: aws.String(id), KmsKeyId: aws.String(keyID)})
		return err
	}
	err = copyTo("c1", *key.KeyMetadata.Arn)
	require.Error(t, err, "a customer managed key needs kms:CreateGrant through RDS")
	assert.Equal(t, "KMSKeyNotAccessibleFault", apiCode(t, err))
	require.NoError(t, copyTo("c2", "alias/aws/rds"), "an AWS-managed key needs no identity permission")

	viaOtherService := map[string]any{"Effect": "Allow", "Action": []string{"kms:CreateGrant", "kms:DescribeKey"}, "Resource": "*",
		"Condition": map[string]any{"StringEquals": map[string]any{"kms:ViaService": "ec2.us-east-1.amazonaws.com"}}}
	h.EnforcePolicy(policyDoc(rdsOnly, viaOtherService))
	require.Error(t, copyTo("c3", *key.KeyMetadata.Arn))

	grantViaRDS := map[string]any{"Effect": "Allow", "Action": []string{"kms:CreateGrant", "kms:DescribeKey"}, "Resource": "arn:aws:kms:*:*:key/*",
		"Condition": map[string]any{"StringLike": map[string]any{"kms:ViaService": "rds.*.amazonaws.com"},
			"Bool": map[string]any{"kms:GrantIsForAWSResource": true}}}
	h.EnforcePolicy(policyDoc(rdsOnly, grantViaRDS))
	require.Error(t, copyTo("c4", *key.KeyMetadata.Arn), "kms:GrantIsForAWSResource is absent from DescribeKey: that statement allows only CreateGrant")

	describeViaRDS := map[string]any{"Effect": "Allow", "Action": "kms:DescribeKey", "Resource": "arn:aws:kms:*:*:key/*",
		"Condition": map[string]any{"StringLike": map[string]any{"kms:ViaService": "rds.*.amazonaws.com"}}}
	h.EnforcePolicy(policyDoc(rdsOnly, grantViaRDS, describeViaRDS))
	require.NoError(t, copyTo("c5", *key.KeyMetadata.Arn))

	_, err = k.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: key.KeyMetadata.KeyId})
	require.Error(t, err, "the direct call is not made through RDS")
}

func TestPolicyControlEndpoint(t *testing.T) {
	h := manual(t)
	post := func(body string) *http.Response {
		resp, err := http.Post(h.URL+"/_sim/policy", "application/json", bytes.NewBufferString(body))
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	assert.Equal(t, http.StatusBadRequest, post(`{"Statement":[{"Effect":"Permit","Action":"*","Resource":"*"}]}`).StatusCode)
	assert.Equal(t, http.StatusBadRequest, post(`{"Statement":[{"Effect":"Allow","NotAction":"*","Resource":"*"}]}`).StatusCode)
	assert.Equal(t, http.StatusBadRequest, post(`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericLessThan":{"a":"1"}}}]}`).StatusCode)
	assert.Equal(t, http.StatusOK, post(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"rds:DescribeDBInstances","Resource":"*"}}`).StatusCode)

	c := h.RDS("us-east-1")
	_, err := c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{})
	require.NoError(t, err)
	_, err = c.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{})
	require.Error(t, err)

	req, _ := http.NewRequest(http.MethodDelete, h.URL+"/_sim/policy", nil)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	_, err = c.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{})
	require.NoError(t, err)
}
