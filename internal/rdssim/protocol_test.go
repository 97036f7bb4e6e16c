package rdssim_test

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/rdssim"
)

type rawResult struct {
	status int
	header http.Header
	body   string
	code   string
	typ    string
}

// post sends a raw AWS Query request.
func post(t *testing.T, base string, form url.Values, auth string) rawResult {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var e struct {
		Error struct{ Type, Code string }
	}
	_ = xml.Unmarshal(b, &e)
	return rawResult{status: resp.StatusCode, header: resp.Header, body: string(b), code: e.Error.Code, typ: e.Error.Type}
}

func TestQueryProtocol(t *testing.T) {
	t.Parallel()
	h := manual(t)
	form := func(kv ...string) url.Values {
		v := url.Values{"Version": {"2014-10-31"}}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	r := post(t, h.URL, form("Action", "DescribeDBInstances"), "")
	assert.Equal(t, 200, r.status)
	assert.Contains(t, r.body, `<DescribeDBInstancesResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><DescribeDBInstancesResult>`)
	assert.Contains(t, r.body, "<ResponseMetadata><RequestId>"+r.header.Get("X-Amzn-Requestid")+"</RequestId></ResponseMetadata>")
	assert.Equal(t, "text/xml", r.header.Get("Content-Type"))
	date, err := http.ParseTime(r.header.Get("Date"))
	require.NoError(t, err)
	assert.Equal(t, testStart, date, "Date carries the virtual time")
	h.Advance(48 * time.Hour)
	r = post(t, h.URL, form("Action", "DescribeDBInstances"), "")
	date, _ = http.ParseTime(r.header.Get("Date"))
	assert.Equal(t, testStart.Add(48*time.Hour), date)

	r = post(t, h.URL, form("Action", "FrobnicateDBInstance"), "")
	assert.Equal(t, 400, r.status)
	assert.Equal(t, "InvalidAction", r.code)
	assert.Equal(t, "Sender", r.typ)
	assert.NotEmpty(t, r.header.Get("X-Amzn-Requestid"))
	assert.Contains(t, r.body, "<RequestId>")

	r = post(t, h.URL, form("Action", "CreateDBSnapshot", "DBInstanceIdentifier", "x"), "")
	assert.Equal(t, "MissingParameter", r.code)
	r = post(t, h.URL, url.Values{"Action": {"DescribeDBInstances"}}, "")
	assert.Equal(t, "MissingParameter", r.code, "Version is required")
	r = post(t, h.URL, form("Action", "DescribeDBSnapshots", "IncludeShared", "maybe"), "")
	assert.Equal(t, "InvalidParameterValue", r.code)
	r = post(t, h.URL, form("Action", "DescribeDBInstances", "DBInstanceIdentifier", "nope"), "")
	assert.Equal(t, 404, r.status)
	assert.Equal(t, "DBInstanceNotFound", r.code)

	// A bare "Key=" is an empty list: the region's default security group is used.
	r = post(t, h.URL, form("Action", "CreateDBInstance", "DBInstanceIdentifier", "raw", "DBInstanceClass", "db.t3.micro",
		"Engine", "postgres", "MasterUsername", "u", "MasterUserPassword", "password1", "AllocatedStorage", "20",
		"VpcSecurityGroupIds", "", "Tags.Tag.2.Key", "second", "Tags.Tag.2.Value", "2", "Tags.Tag.1.Key", "first", "Tags.Tag.1.Value", "1"), "")
	require.Equal(t, 200, r.status, r.body)
	db := describeOne(t, h.RDS("us-east-1"), "raw")
	require.Len(t, db.VpcSecurityGroups, 1)
	assert.Regexp(t, `^sg-[0-9a-f]{17}$`, aws.ToString(db.VpcSecurityGroups[0].VpcSecurityGroupId))
	assert.Equal(t, "first", aws.ToString(db.TagList[0].Key), "list items ordered by N")

	// Regions come from the SigV4 scope; unknown regions are refused.
	auth := "AWS4-HMAC-SHA256 Credential=AKID/20250301/ap-south-2/rds/aws4_request, SignedHeaders=host, Signature=x"
	r = post(t, h.URL, form("Action", "DescribeDBInstances"), auth)
	assert.Equal(t, 403, r.status)
	assert.Equal(t, "SignatureDoesNotMatch", r.code)
	auth = "AWS4-HMAC-SHA256 Credential=AKID/20250301/eu-west-1/rds/aws4_request, SignedHeaders=host, Signature=x"
	r = post(t, h.URL, form("Action", "DescribeDBInstances", "DBInstanceIdentifier", "raw"), auth)
	assert.Equal(t, "DBInstanceNotFound", r.code, "raw lives in the default region only")
}

func TestKMS(t *testing.T) {
	t.Parallel()
	h := manual(t)
	k := h.KMS("us-east-1")
	created, err := k.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("app")})
	require.NoError(t, err)
	md := created.KeyMetadata
	assert.Equal(t, kmstypes.KeyStateEnabled, md.KeyState)
	assert.Equal(t, kmstypes.KeyManagerTypeCustomer, md.KeyManager)
	assert.Equal(t, "arn:aws:kms:us-east-1:123456789012:key/"+aws.ToString(md.KeyId), aws.ToString(md.Arn))
	_, err = k.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/app"), TargetKeyId: md.Arn})
	require.NoError(t, err)
	_, err = k.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/app"), TargetKeyId: md.KeyId})
	var exists *kmstypes.AlreadyExistsException
	require.True(t, errors.As(err, &exists), "got %v", err)

	for _, ref := range []string{aws.ToString(md.KeyId), aws.ToString(md.Arn), "alias/app", "arn:aws:kms:us-east-1:123456789012:alias/app"} {
		out, err := k.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(ref)})
		require.NoError(t, err, ref)
		assert.Equal(t, aws.ToString(md.KeyId), aws.ToString(out.KeyMetadata.KeyId), ref)
	}
	managed, err := k.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/rds")})
	require.NoError(t, err)
	assert.Equal(t, kmstypes.KeyManagerTypeAws, managed.KeyMetadata.KeyManager)
	_, err = k.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String("alias/aws/rds")})
	require.Error(t, err, "AWS managed keys can't be disabled")

	_, err = k.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/none")})
	var nf *kmstypes.NotFoundException
	require.True(t, errors.As(err, &nf), "got %v", err)
	_, err = h.KMS("us-west-2").DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: md.KeyId})
	require.True(t, errors.As(err, &nf), "keys are regional: %v", err)
	west, err := h.KMS("us-west-2").DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/rds")})
	require.NoError(t, err)
	assert.NotEqual(t, aws.ToString(managed.KeyMetadata.Arn), aws.ToString(west.KeyMetadata.Arn))

	aliases, err := k.ListAliases(ctx, &kms.ListAliasesInput{})
	require.NoError(t, err)
	var names []string
	for _, a := range aliases.Aliases {
		names = append(names, aws.ToString(a.AliasName))
	}
	assert.Contains(t, names, "alias/aws/rds")
	assert.Contains(t, names, "alias/app")
	byKey, err := k.ListAliases(ctx, &kms.ListAliasesInput{KeyId: md.KeyId})
	require.NoError(t, err)
	require.Len(t, byKey.Aliases, 1)
	pages := kms.NewListAliasesPaginator(k, &kms.ListAliasesInput{Limit: aws.Int32(1)})
	n := 0
	for pages.HasMorePages() {
		_, err := pages.NextPage(ctx)
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, len(aliases.Aliases), n)

	_, err = k.DisableKey(ctx, &kms.DisableKeyInput{KeyId: md.KeyId})
	require.NoError(t, err)
	d, _ := k.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: md.KeyId})
	assert.Equal(t, kmstypes.KeyStateDisabled, d.KeyMetadata.KeyState)
	assert.False(t, d.KeyMetadata.Enabled)
	_, err = k.EnableKey(ctx, &kms.EnableKeyInput{KeyId: md.KeyId})
	require.NoError(t, err)
	del, err := k.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: md.KeyId, PendingWindowInDays: aws.Int32(7)})
	require.NoError(t, err)
	assert.Equal(t, kmstypes.KeyStatePendingDeletion, del.KeyState)
	assert.Equal(t, testStart.Add(7*24*time.Hour), aws.ToTime(del.DeletionDate))
	_, err = k.EnableKey(ctx, &kms.EnableKeyInput{KeyId: md.KeyId})
	var inv *kmstypes.KMSInvalidStateException
	require.True(t, errors.As(err, &inv), "got %v", err)

	// RDS refuses a key pending deletion.
	in := mysqlInput("db")
	in.StorageEncrypted, in.KmsKeyId = aws.Bool(true), aws.String("alias/app")
	_, err = h.RDS("us-east-1").CreateDBInstance(ctx, in)
	var kerr *types.KMSKeyNotAccessibleFault
	require.True(t, errors.As(err, &kerr), "got %v", err)
	// An encrypted instance without KmsKeyId uses alias/aws/rds.
	in.KmsKeyId = nil
	out, err := h.RDS("us-east-1").CreateDBInstance(ctx, in)
	require.NoError(t, err)
	assert.Equal(t, aws.ToString(managed.KeyMetadata.Arn), aws.ToString(out.DBInstance.KmsKeyId))
}

func TestFaults(t *testing.T) {
	t.Parallel()
	h := fast(t)
	c := h.RDS("us-east-1")

	// Throttling: the SDK retryer backs off and succeeds.
	h.Faults(rdssim.FaultRequest{Throttle: &rdssim.Throttle{RatePerSecond: 100, Burst: 2}})
	for range 12 {
		_, err := c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{})
		require.NoError(t, err)
	}
	_, err := h.KMS("us-east-1").ListAliases(ctx, &kms.ListAliasesInput{})
	require.NoError(t, err)
	assert.Positive(t, h.Sim.Throttled(), "some calls were throttled")
	assert.Greater(t, h.Calls()["DescribeDBInstances"], 12, "throttled attempts were retried")
	h.Sim.SetThrottle(nil)

	// A throttled call answers Throttling / Rate exceeded with HTTP 400.
	h.Sim.SetThrottle(&rdssim.Throttle{RatePerSecond: 0.001, Burst: 1, Actions: []string{"DescribeDBSnapshots"}})
	noRetry := h.RDS("us-east-1", func(o *rds.Options) { o.RetryMaxAttempts = 1 })
	_, err = noRetry.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{})
	require.NoError(t, err)
	_, err = noRetry.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{})
	assert.Equal(t, "Throttling", apiCode(t, err))
	assert.Equal(t, 400, httpStatus(t, err))
	assert.Contains(t, err.Error(), "Rate exceeded")
	h.Sim.ClearFaults()

	// The 2nd call of an action fails with the injected code and its HTTP status.
	require.NoError(t, h.Sim.InjectFailure(rdssim.CallFailure{Action: "DescribeDBInstances", Nth: 2, Code: "DBInstanceNotFound"}))
	_, err = c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{})
	require.NoError(t, err)
	_, err = c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{})
	var nf *types.DBInstanceNotFoundFault
	require.True(t, errors.As(err, &nf), "got %v", err)
	assert.Equal(t, 404, httpStatus(t, err))
	_, err = c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{})
	require.NoError(t, err, "one-shot")

	// A 500 InternalFailure is retried by the SDK.
	before := h.Calls()["DescribeDBSnapshots"]
	require.NoError(t, h.Sim.InjectFailure(rdssim.CallFailure{Action: "DescribeDBSnapshots", Code: "InternalFailure"}))
	_, err = c.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{})
	require.NoError(t, err)
	assert.Equal(t, before+2, h.Calls()["DescribeDBSnapshots"])
}

func TestControlEndpoints(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c := h.RDS("us-east-1")
	get := func(path string, out any) int {
		resp, err := http.Get(h.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		if out != nil {
			require.NoError(t, json.NewDecoder(resp.Body).Decode(out))
		}
		return resp.StatusCode
	}
	postJSON := func(path, body string) int {
		resp, err := http.Post(h.URL+path, "application/json", strings.NewReader(body))
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	var health struct {
		Status string
		Time   time.Time
	}
	assert.Equal(t, 200, get("/_sim/health", &health))
	assert.Equal(t, "ok", health.Status)
	assert.Equal(t, testStart, health.Time)

	_, err := c.CreateDBInstance(ctx, mysqlInput("ctl"))
	require.NoError(t, err)
	assert.Equal(t, 200, postJSON("/_sim/advance?seconds=900", ""))
	var events []rdssim.Event
	get("/_sim/events", &events)
	require.Len(t, events, 4, "3 instance states and the automated snapshot")
	var inst []string
	for _, e := range events {
		if e.Type == "instance" {
			inst = append(inst, e.Status)
			assert.Equal(t, "us-east-1", e.Region)
			assert.Equal(t, "CreateDBInstance", e.Action)
		}
	}
	assert.Equal(t, []string{"creating", "backing-up", "available"}, inst)
	assert.Equal(t, testStart.Add(10*time.Minute), events[1].Time)

	var st rdssim.Stats
	get("/_sim/stats", &st)
	assert.Equal(t, 1, st.Calls["CreateDBInstance"])

	assert.Equal(t, 200, postJSON("/_sim/faults", `{"fail_calls":[{"action":"DescribeDBInstances","code":"InvalidDBInstanceState"}]}`))
	_, err = c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{})
	assert.Equal(t, "InvalidDBInstanceState", apiCode(t, err))
	assert.Equal(t, 400, postJSON("/_sim/faults", `{not json`))
	assert.Equal(t, 404, get("/_sim/nope", nil))

	assert.Equal(t, 200, postJSON("/_sim/reset", ""))
	out, err := c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{})
	require.NoError(t, err)
	assert.Empty(t, out.DBInstances)
	assert.Equal(t, testStart, h.Now())
}
