package adapter_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/model"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/awsclient"
	"github.com/rdsencrypt/rdsencrypt/internal/rdssim"
	"github.com/rdsencrypt/rdsencrypt/internal/rdssim/simtest"
)

var start = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// fastPoll suits a simulator running 50000x real time: 1 ms real is 50 s virtual.
var fastPoll = awsclient.PollOptions{Min: time.Millisecond, Max: 5 * time.Millisecond}

// fast is how the tests' waits poll.
var fast = awsclient.Watch{Poll: fastPoll}

// errOf is the error of a wait whose result the test does not need.
func errOf[T any](_ T, err error) error { return err }

type env struct {
	h      *simtest.Harness
	client *awsclient.Client
	api    model.RDS // us-east-1
	tick   time.Duration
}

// startSim starts a simulator running fast and an awsclient pointed at it.
func startSim(t *testing.T, cfg awsclient.Config) *env {
	t.Helper()
	return startSimWith(t, cfg, rdssim.Options{Start: start, Speed: 50000})
}

// startTickingSim starts a simulator whose clock moves only when an instance is looked up
// by resource id or a snapshot by identifier, by tick each time: every poll of a wait sees the world tick later than
// the one before, however busy the machine is.
func startTickingSim(t *testing.T, tick time.Duration) *env {
	t.Helper()
	e := startSimWith(t, awsclient.Config{}, rdssim.Options{Start: start, ManualClock: true})
	e.tick = tick
	e.api = e.in("us-east-1")
	return e
}

// ticking advances the simulator's clock before each lookup of an instance by resource id
// and of a snapshot.
type ticking struct {
	model.RDS
	h    *simtest.Harness
	tick time.Duration
}

func (a ticking) DescribeInstanceByResourceID(ctx context.Context, id string) (*model.Instance, error) {
	a.h.Advance(a.tick)
	return a.RDS.DescribeInstanceByResourceID(ctx, id)
}

func (a ticking) DescribeSnapshot(ctx context.Context, id string) (*model.Snapshot, error) {
	a.h.Advance(a.tick)
	return a.RDS.DescribeSnapshot(ctx, id)
}

// in is the client of a region (ticking when the simulator's clock is manual).
func (e *env) in(region string) model.RDS {
	if e.tick > 0 {
		return ticking{RDS: e.client.For(region), h: e.h, tick: e.tick}
	}
	return e.client.For(region)
}

func startSimWith(t *testing.T, cfg awsclient.Config, opts rdssim.Options) *env {
	t.Helper()
	h := simtest.Start(t, opts)
	cfg.Region = "us-east-1"
	cfg.EndpointURL = h.URL
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = 20 * time.Millisecond
	}
	c := awsclient.NewForSimulator(cfg)
	return &env{h: h, client: c, api: c.For("us-east-1")}
}

func (e *env) ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// seedInstance creates an unencrypted MySQL instance with the raw SDK (awsclient has no
// CreateDBInstance outside clusters) and waits until it is available.
func (e *env) seedInstance(t *testing.T, region, id string, edit func(*rds.CreateDBInstanceInput)) *model.Instance {
	t.Helper()
	in := &rds.CreateDBInstanceInput{
		DBInstanceIdentifier:  aws.String(id),
		DBInstanceClass:       aws.String("db.t3.micro"),
		Engine:                aws.String("mysql"),
		MasterUsername:        aws.String("admin"),
		MasterUserPassword:    aws.String("secret-password"),
		AllocatedStorage:      aws.Int32(100),
		BackupRetentionPeriod: aws.Int32(7),
	}
	if edit != nil {
		edit(in)
	}
	out, err := e.h.RDS(region).CreateDBInstance(e.ctx(t), in)
	require.NoError(t, err)
	inst, err := awsclient.InstanceAvailable(e.in(region), aws.ToString(out.DBInstance.DbiResourceId), nil).Until(e.ctx(t), fast)
	require.NoError(t, err)
	return inst
}

// seedKey creates a customer-managed key with an alias and returns its ARN.
func (e *env) seedKey(t *testing.T, region, alias string) string {
	t.Helper()
	k := e.h.KMS(region)
	out, err := k.CreateKey(e.ctx(t), &kms.CreateKeyInput{Description: aws.String("test key")})
	require.NoError(t, err)
	_, err = k.CreateAlias(e.ctx(t), &kms.CreateAliasInput{AliasName: aws.String(alias), TargetKeyId: out.KeyMetadata.KeyId})
	require.NoError(t, err)
	return aws.ToString(out.KeyMetadata.Arn)
}

// encryptedCopy snapshots an instance and copies the snapshot with key, waiting for both.
func (e *env) encryptedCopy(t *testing.T, api model.RDS, instanceID, keyARN string) *model.Snapshot {
	t.Helper()
	ctx := e.ctx(t)
	_, err := api.CreateSnapshot(ctx, instanceID, instanceID+"-plain", nil)
	require.NoError(t, err)
	_, err = awsclient.SnapshotAvailable(api, instanceID+"-plain").Until(ctx, fast)
	require.NoError(t, err)
	_, err = api.CopySnapshot(ctx, model.CopySnapshotInput{SourceID: instanceID + "-plain", TargetID: instanceID + "-enc", KmsKeyID: keyARN})
	require.NoError(t, err)
	snap, err := awsclient.SnapshotAvailable(api, instanceID+"-enc").Until(ctx, fast)
	require.NoError(t, err)
	return snap
}

// skipIfUnsupported skips the test when the simulator does not implement the action yet.
func skipIfUnsupported(t *testing.T, err error, action string) {
	t.Helper()
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode() == "InvalidAction" {
		t.Skipf("simulator gap: %s is not implemented (%v)", action, err)
	}
}

// routed returns the settings of a route table that the flag accepts.
func routed(table []model.Route, flag func(model.Route) bool) []model.Setting {
	var out []model.Setting
	for _, r := range table {
		if flag(r) {
			out = append(out, r.Setting)
		}
	}
	return out
}
