package integration

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/model"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/awsclient"
	"github.com/rdsencrypt/rdsencrypt/internal/rdssim"
	"github.com/rdsencrypt/rdsencrypt/internal/rdssim/simtest"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

const (
	region      = "us-east-1"
	otherRegion = "eu-west-1"
	// testSpeed runs the virtual clock fast enough that a whole migration (about an hour of
	// AWS time) takes a fraction of a second, while polls still see every status.
	testSpeed = 40000
)

// env is one simulator, one AWS client and one state directory: a fresh account.
type env struct {
	t      testing.TB
	h      *simtest.Harness
	rds    *rds.Client
	kms    *kms.Client
	client *awsclient.Client
	store  *workflow.Store
	mu     sync.Mutex
	events []workflow.Event
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, rdssim.Options{Speed: testSpeed})
}

// newEnvWith is newEnv with simulator options (a smaller quota, say).
func newEnvWith(t testing.TB, opts rdssim.Options) *env {
	t.Helper()
	h := simtest.Start(t, opts)
	store, err := workflow.OpenStore(t.TempDir())
	require.NoError(t, err)
	client := awsclient.NewForSimulator(awsclient.Config{Region: region, EndpointURL: h.URL,
		MaxBackoff: 5 * time.Millisecond})
	return &env{t: t, h: h, rds: h.RDS(region), kms: h.KMS(region), client: client, store: store}
}

// engine returns an engine for this account; id fixes the migration id when not empty.
func (e *env) engine(id string, approver workflow.Approver) *workflow.Engine {
	eng := &workflow.Engine{
		Clients:  func(r string) (model.RDS, error) { return e.client.For(r), nil },
		Store:    e.store,
		Approver: approver,
		Observer: workflow.ObserverFunc(func(ev workflow.Event) {
			e.mu.Lock()
			e.events = append(e.events, ev)
			e.mu.Unlock()
		}),
		Poll: awsclient.PollOptions{Min: time.Millisecond, Max: 4 * time.Millisecond},
		// The simulator's endpoint names resolve nowhere; tests stay off the network.
		Resolver: unresolvable{},
	}
	if id != "" {
		eng.NewID = func() (string, error) { return id, nil }
	}
	return eng
}

// enforcing gives an engine the EC2 and CloudWatch clients of the enforced write freeze.
func (e *env) enforcing(eng *workflow.Engine) *workflow.Engine {
	eng.Networks = func(r string) (model.Network, error) { return e.client.Network(r), nil }
	return eng
}

// ctx is the context of a migration: no deadline (a wall-clock bound fails a test on a busy
// machine; go test's -timeout catches a hang, with every goroutine's stack).
func (e *env) ctx() context.Context { return e.t.Context() }

// createKey creates a customer managed key with an alias and returns its ARN.
func (e *env) createKey(alias string) string {
	e.t.Helper()
	return createKeyIn(e.t, e.h.KMS(region), alias)
}

func createKeyIn(t testing.TB, c *kms.Client, alias string) string {
	t.Helper()
	ctx := context.Background()
	out, err := c.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("rdsencrypt test key")})
	require.NoError(t, err)
	_, err = c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(alias), TargetKeyId: out.KeyMetadata.KeyId})
	require.NoError(t, err)
	return aws.ToString(out.KeyMetadata.Arn)
}

// createGroups creates the parameter, option and subnet groups the full-settings source uses.
func (e *env) createGroups() {
	e.t.Helper()
	ctx := context.Background()
	_, err := e.rds.CreateDBParameterGroup(ctx, &rds.CreateDBParameterGroupInput{DBParameterGroupName: aws.String("orders-params"),
		DBParameterGroupFamily: aws.String("mysql8.0"), Description: aws.String("orders")})
	require.NoError(e.t, err)
	_, err = e.rds.CreateOptionGroup(ctx, &rds.CreateOptionGroupInput{OptionGroupName: aws.String("orders-options"),
		EngineName: aws.String("mysql"), MajorEngineVersion: aws.String("8.0"), OptionGroupDescription: aws.String("orders")})
	require.NoError(e.t, err)
	_, err = e.rds.CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("orders-private"),
		DBSubnetGroupDescription: aws.String("orders"), SubnetIds: []string{"subnet-0a", "subnet-0b", "subnet-0c"}})
	require.NoError(e.t, err)
}

// fullSettingsSource is a MySQL instance with every setting of docs/aws-behaviour.md#restore given a
// non-default value.
func fullSettingsSource(id, piKey string) *rds.CreateDBInstanceInput {
	return &rds.CreateDBInstanceInput{
		DBInstanceIdentifier:               aws.String(id),
		DBInstanceClass:                    aws.String("db.m6g.large"),
		Engine:                             aws.String("mysql"),
		EngineVersion:                      aws.String("8.0.36"),
		MasterUsername:                     aws.String("admin"),
		MasterUserPassword:                 aws.String("s3cret-Passw0rd-never-logged"),
		AllocatedStorage:                   aws.Int32(400), // gp3 IOPS and throughput may be chosen from 400 GiB on
		MaxAllocatedStorage:                aws.Int32(1000),
		StorageType:                        aws.String("gp3"),
		Iops:                               aws.Int32(15000),
		StorageThroughput:                  aws.Int32(600),
		MultiAZ:                            aws.Bool(true),
		DBSubnetGroupName:                  aws.String("orders-private"),
		VpcSecurityGroupIds:                []string{"sg-0aaa1111", "sg-0bbb2222"},
		DBParameterGroupName:               aws.String("orders-params"),
		OptionGroupName:                    aws.String("orders-options"),
		Port:                               aws.Int32(3307),
		PubliclyAccessible:                 aws.Bool(true),
		AutoMinorVersionUpgrade:            aws.Bool(false),
		CopyTagsToSnapshot:                 aws.Bool(true),
		DeletionProtection:                 aws.Bool(true),
		EnableIAMDatabaseAuthentication:    aws.Bool(true),
		EnableCloudwatchLogsExports:        []string{"error", "slowquery"},
		CACertificateIdentifier:            aws.String("rds-ca-ecc384-g1"),
		BackupRetentionPeriod:              aws.Int32(14),
		PreferredBackupWindow:              aws.String("03:00-03:30"),
		PreferredMaintenanceWindow:         aws.String("sun:05:00-sun:05:30"),
		MonitoringInterval:                 aws.Int32(30),
		MonitoringRoleArn:                  aws.String("arn:aws:iam::123456789012:role/rds-monitoring"),
		EnablePerformanceInsights:          aws.Bool(true),
		PerformanceInsightsKMSKeyId:        aws.String(piKey),
		PerformanceInsightsRetentionPeriod: aws.Int32(31),
		NetworkType:                        aws.String("DUAL"),
		Tags: []rdstypes.Tag{{Key: aws.String("team"), Value: aws.String("payments")},
			{Key: aws.String("env"), Value: aws.String("prod")}},
	}
}

// simpleSource is a small PostgreSQL instance with default settings.
func simpleSource(id string) *rds.CreateDBInstanceInput {
	return &rds.CreateDBInstanceInput{
		DBInstanceIdentifier:  aws.String(id),
		DBInstanceClass:       aws.String("db.t3.medium"),
		Engine:                aws.String("postgres"),
		EngineVersion:         aws.String("16.6"),
		MasterUsername:        aws.String("postgres"),
		MasterUserPassword:    aws.String("another-s3cret-never-logged"),
		AllocatedStorage:      aws.Int32(20),
		BackupRetentionPeriod: aws.Int32(7),
		Tags:                  []rdstypes.Tag{{Key: aws.String("app"), Value: aws.String("ledger")}},
	}
}

// createInstance creates an instance and moves the virtual clock until it is available.
func (e *env) createInstance(in *rds.CreateDBInstanceInput) *model.Instance {
	e.t.Helper()
	_, err := e.rds.CreateDBInstance(context.Background(), in)
	require.NoError(e.t, err)
	e.h.Advance(3 * time.Hour)
	inst, err := e.client.For(region).DescribeInstance(context.Background(), aws.ToString(in.DBInstanceIdentifier))
	require.NoError(e.t, err)
	require.Equal(e.t, model.StatusAvailable, inst.Status)
	return inst
}

func (e *env) describe(id string) *model.Instance {
	e.t.Helper()
	inst, err := e.client.For(region).DescribeInstance(context.Background(), id)
	require.NoError(e.t, err, "describe %s", id)
	return inst
}

func (e *env) instanceIDs() []string { return e.instanceIDsIn(region) }

func (e *env) instanceIDsIn(reg string) []string {
	e.t.Helper()
	return listIDs(e.t, e.client.For(reg).ListInstances, func(i model.Instance) string { return i.ID })
}

func (e *env) snapshotIDs() []string {
	e.t.Helper()
	return listIDs(e.t, e.client.For(region).ListSnapshots, func(s model.Snapshot) string { return s.ID })
}

// listIDs lists resources and returns their identifiers.
func listIDs[T any](t testing.TB, list func(context.Context) ([]T, error), id func(T) string) []string {
	t.Helper()
	items, err := list(context.Background())
	require.NoError(t, err)
	var ids []string
	for _, it := range items {
		ids = append(ids, id(it))
	}
	return ids
}

// cancelAt returns an observer-driven cancel: the context ends when stop(ev) first says so.
func (e *env) cancelAt(eng *workflow.Engine, stop func(workflow.Event) bool) context.Context {
	ctx, cancel := context.WithCancel(e.ctx())
	prev := eng.Observer
	var once sync.Once
	eng.Observer = workflow.ObserverFunc(func(ev workflow.Event) {
		prev.Notify(ev)
		if stop(ev) {
			once.Do(cancel)
		}
	})
	return ctx
}

// unresolvable resolves no name, as the simulator's endpoints are not in any DNS.
type unresolvable struct{}

func (unresolvable) LookupHost(_ context.Context, host string) ([]string, error) {
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}
