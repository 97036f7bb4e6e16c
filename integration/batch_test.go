package integration

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/fleet"
	"github.com/rdsencrypt/rdsencrypt/internal/model"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/rdsencrypt/rdsencrypt/internal/awsclient"
	"github.com/rdsencrypt/rdsencrypt/internal/rdssim"
	"github.com/rdsencrypt/rdsencrypt/internal/rdssim/simtest"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// fleetEnv is a simulator holding a fleet, and a batch whose engines share one client with
// one rate limiter, as `rdsencrypt batch` builds them.
type fleetEnv struct {
	tb     testing.TB
	h      *simtest.Harness
	rds    *rds.Client
	client *awsclient.Client
	store  *workflow.Store
	// calls counts every AWS call the migrations made; failed holds those that failed
	// after the SDK's retries (other than not-found observations).
	calls  atomic.Int64
	mu     sync.Mutex
	failed []string
}

// fleetOptions size the simulator and the shared API budget.
type fleetOptions struct {
	speed float64 // virtual seconds per real second
	rate  float64 // the limiter's calls per real second
	burst int
	// snapshotQuota is the simulator's manual snapshot quota per region (default 100).
	snapshotQuota int
}

func newFleetEnv(tb testing.TB, o fleetOptions) *fleetEnv {
	tb.Helper()
	h := simtest.Start(tb, rdssim.Options{Speed: o.speed, ManualSnapshotQuota: o.snapshotQuota})
	store, err := workflow.OpenStore(fastDir(tb))
	require.NoError(tb, err)
	client := awsclient.NewForSimulator(awsclient.Config{Region: region, EndpointURL: h.URL, MaxBackoff: 5 * time.Millisecond,
		Limiter: rate.NewLimiter(rate.Limit(o.rate), o.burst)})
	return &fleetEnv{tb: tb, h: h, rds: h.RDS(region), client: client, store: store}
}

// fastDir is a private temporary directory in memory when the system has one: every
// journal save is fsynced, and hundreds of concurrent migrations would otherwise measure the
// disk rather than the batch.
func fastDir(tb testing.TB) string {
	tb.Helper()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "rdsencrypt-batch-"); err == nil {
			tb.Cleanup(func() { _ = os.RemoveAll(dir) })
			return dir
		}
	}
	return tb.TempDir()
}

// batch returns a batch over this account; ids fixes migration ids by source.
func (f *fleetEnv) batch(ids map[string]string) *fleet.Batch {
	b := &fleet.Batch{Base: workflow.Engine{
		Clients: func(r string) (model.RDS, error) { return f.client.For(r), nil },
		Store:   f.store,
		Observer: workflow.ObserverFunc(func(ev workflow.Event) {
			if ev.Type != workflow.EventAPICall {
				return
			}
			f.calls.Add(1)
			// Not-found answers are how steps observe what does not exist yet; any other
			// error here outlived the SDK's retries.
			if ev.Call.Error != "" && !strings.Contains(ev.Call.Error, "NotFound") {
				f.mu.Lock()
				f.failed = append(f.failed, ev.Call.Action+" "+ev.Call.Target+": "+ev.Call.Error)
				f.mu.Unlock()
			}
		}),
		Poll: awsclient.PollOptions{Min: 2 * time.Millisecond, Max: 8 * time.Millisecond},
	}}
	if ids != nil {
		b.IDFor = func(it fleet.BatchItem) string { return ids[it.Source] }
	}
	return b
}

func (f *fleetEnv) failedCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.failed...)
}

// createFleet creates n small PostgreSQL instances named prefix-NNN, tagged env=prod (odd
// ones also team=ledger), and waits until all are available.
func (f *fleetEnv) createFleet(prefix string, n int) []string {
	f.tb.Helper()
	ids := make([]string, n)
	for i := range n {
		ids[i] = fmt.Sprintf("%s-%03d", prefix, i)
		in := simpleSource(ids[i])
		in.Tags = []rdstypes.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}
		if i%2 == 1 {
			in.Tags = append(in.Tags, rdstypes.Tag{Key: aws.String("team"), Value: aws.String("ledger")})
		}
		_, err := f.rds.CreateDBInstance(context.Background(), in)
		require.NoError(f.tb, err)
	}
	f.h.Advance(3 * time.Hour)
	return ids
}

// createCluster creates an unencrypted Aurora MySQL cluster with one writer.
func (f *fleetEnv) createCluster(id string) {
	f.tb.Helper()
	ctx := context.Background()
	_, err := f.rds.CreateDBCluster(ctx, &rds.CreateDBClusterInput{DBClusterIdentifier: aws.String(id), Engine: aws.String("aurora-mysql"),
		MasterUsername: aws.String("admin"), MasterUserPassword: aws.String("cluster-s3cret-never-logged"),
		BackupRetentionPeriod: aws.Int32(7), Tags: []rdstypes.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}})
	require.NoError(f.tb, err)
	f.h.Advance(time.Hour)
	_, err = f.rds.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String(id + "-1"),
		DBInstanceClass: aws.String("db.r6g.large"), Engine: aws.String("aurora-mysql"), DBClusterIdentifier: aws.String(id)})
	require.NoError(f.tb, err)
	f.h.Advance(time.Hour)
}

// createKey creates a customer managed key with an alias.
func (f *fleetEnv) createKey(alias string) string {
	f.tb.Helper()
	out, err := f.h.KMS(region).CreateKey(context.Background(), &kms.CreateKeyInput{})
	require.NoError(f.tb, err)
	_, err = f.h.KMS(region).CreateAlias(context.Background(), &kms.CreateAliasInput{AliasName: aws.String(alias), TargetKeyId: out.KeyMetadata.KeyId})
	require.NoError(f.tb, err)
	return aws.ToString(out.KeyMetadata.Arn)
}

// ctx is the context of a batch or migration: no deadline (a wall-clock bound fails a test
// on a busy machine; go test's -timeout catches a hang, with every goroutine's stack).
func (f *fleetEnv) ctx() context.Context { return f.tb.Context() }

func outcomes(rep *fleet.BatchReport) map[string]string {
	out := map[string]string{}
	for _, m := range rep.Migrations {
		out[m.Source] = m.Outcome
	}
	return out
}

func byID(rep *fleet.BatchReport, source string) *fleet.BatchMigration {
	for i := range rep.Migrations {
		if rep.Migrations[i].Source == source {
			return &rep.Migrations[i]
		}
	}
	return nil
}

func TestBatchOfFiftyInstancesAndThreeClustersUnderThrottling(t *testing.T) {
	// 50 migrations keep 100 DB snapshots until their cleanups, whose final snapshots need
	// one more: the account's quota is raised to fit (the batch plan refuses what does not).
	f := newFleetEnv(t, fleetOptions{speed: 100000, rate: 500, burst: 20, snapshotQuota: 101})
	key := createKeyIn(t, f.h.KMS(region), "alias/fleet")
	ids := f.createFleet("ledger", 50)
	clusters := []string{"shop-a", "shop-b", "shop-c"}
	for _, c := range clusters {
		f.createCluster(c)
	}
	// RDS throttles below the limiter's burst: throttling happens, and the SDK's retries,
	// which also wait on the shared limiter, must absorb every one.
	f.h.Faults(rdssim.FaultRequest{Throttle: &rdssim.Throttle{RatePerSecond: 450, Burst: 10}})

	b := f.batch(nil)
	plan, err := b.Plan(f.ctx(), fleet.BatchRequest{Regions: []string{region}, KmsKey: "alias/fleet",
		Concurrency: 27, Cutover: fleet.CutoverAuto})
	require.NoError(t, err)
	require.Len(t, plan.Items, 53)
	assert.Contains(t, strings.Join(plan.Warnings, "\n"), "DB instances (kept until cleanup) next to 53 existing; RDS's default quota is 40",
		"the plan warns of the instance quota it will exceed")

	started := f.h.Now()
	rep := b.Run(f.ctx(), plan)
	t.Logf("53 databases: %d API calls, %d throttled by the simulator, %s virtual, summary %+v",
		f.calls.Load(), f.h.Sim.Throttled(), f.h.Now().Sub(started).Round(time.Minute), rep.Summary)

	assert.Empty(t, f.failedCalls(), "no call failed past the SDK's retries")
	for _, id := range ids {
		m := byID(rep, id)
		require.NotNil(t, m, id)
		assert.Equal(t, fleet.OutcomeCompleted, m.Outcome, "%s: %s", id, m.Reason)
		assert.Positive(t, m.APICalls)
		assert.Positive(t, m.DowntimeSeconds)
		assert.Empty(t, m.Parity.Differences)
	}
	assert.Zero(t, rep.Summary.Failed)
	// Aurora cluster migrations: asserted as they stand in the engine when this was written.
	clusterOutcome := fleet.OutcomeCompleted
	if _, err := b.Base.Plan(context.Background(), workflow.MigrateRequest{Kind: workflow.KindCluster, Region: region,
		Source: "shop-a", KmsKey: "alias/fleet"}); err != nil && strings.Contains(err.Error(), "not implemented") {
		clusterOutcome = fleet.OutcomeSkipped
	}
	for _, c := range clusters {
		m := byID(rep, c)
		require.NotNil(t, m, c)
		assert.Equal(t, clusterOutcome, m.Outcome, "%s: %s", c, m.Reason)
	}
	if clusterOutcome == fleet.OutcomeCompleted {
		assert.Equal(t, 53, rep.Summary.Completed)
		for _, c := range clusters {
			cl, err := f.client.For(region).DescribeCluster(context.Background(), c)
			require.NoError(t, err)
			assert.True(t, cl.Settings.StorageEncrypted, c)
			assert.Equal(t, key, cl.Settings.KmsKeyID, c)
		}
	} else {
		assert.Equal(t, 50, rep.Summary.Completed)
		assert.Equal(t, 3, rep.Summary.Skipped)
	}
	for _, id := range ids {
		inst, err := f.client.For(region).DescribeInstance(context.Background(), id)
		require.NoError(t, err)
		assert.True(t, inst.Settings.StorageEncrypted, id)
		assert.Equal(t, key, inst.Settings.KmsKeyID, id)
	}
	// every migration has its own journal
	states, _, err := f.store.List()
	require.NoError(t, err)
	assert.Len(t, states, rep.Summary.Completed+rep.Summary.Failed)
}

func TestBatchIsolatesFailures(t *testing.T) {
	f := newFleetEnv(t, fleetOptions{speed: 100000, rate: 500, burst: 20})
	createKeyIn(t, f.h.KMS(region), "alias/fleet")
	ids := f.createFleet("ledger", 10)
	migrationIDs := map[string]string{}
	for i, id := range ids {
		migrationIDs[id] = fmt.Sprintf("0b%06d", i)
	}
	// ledger-003's snapshot and ledger-006's encrypted copy end "failed".
	broken := map[string]string{
		"ledger-003": workflow.NamesFor(migrationIDs["ledger-003"], "ledger-003").Snapshot,
		"ledger-006": workflow.NamesFor(migrationIDs["ledger-006"], "ledger-006").EncryptedSnapshot,
	}
	f.h.Faults(rdssim.FaultRequest{FailSnapshot: []rdssim.ResourceRef{{Region: region, ID: broken["ledger-003"]}, {Region: region, ID: broken["ledger-006"]}}})

	b := f.batch(migrationIDs)
	plan, err := b.Plan(f.ctx(), fleet.BatchRequest{Regions: []string{region}, KmsKey: "alias/fleet",
		Concurrency: 4, Cutover: fleet.CutoverAuto})
	require.NoError(t, err)
	rep := b.Run(f.ctx(), plan)

	assert.Equal(t, fleet.BatchSummary{Completed: 8, Failed: 2, APICalls: rep.Summary.APICalls, ElapsedSeconds: rep.Summary.ElapsedSeconds}, rep.Summary)
	for source, snapshot := range broken {
		m := byID(rep, source)
		require.NotNil(t, m)
		id := migrationIDs[source]
		assert.Equal(t, fleet.OutcomeFailed, m.Outcome)
		assert.Equal(t, id, m.MigrationID)
		assert.Equal(t, workflow.StatusFailed, m.Status)
		assert.Contains(t, m.Reason, snapshot)
		assert.Contains(t, m.Next, "rdsencrypt resume "+id, "a failure names its resume command")
		assert.Equal(t, source, f.describeID(source), "the source still answers at its name")
	}
	// Each failed migration is an ordinary one: resumed alone, it completes.
	eng := b.Base
	eng.Approver = workflow.AutoApprove
	for source := range broken {
		r, err := eng.Resume(f.ctx(), migrationIDs[source])
		require.NoError(t, err, source)
		assert.Equal(t, workflow.StatusCompleted, r.Status)
	}
	assert.Empty(t, f.failedCalls())
}

// TestBatchRefusesWhatTheSnapshotQuotaCannotHold: each migration's preflight counts its own
// snapshots only; a batch's migrations keep theirs until their cleanups, so together they can
// exceed the quota (a migration would then fail at its encrypted copy, inside its write
// freeze). Quota 5: two migrations (2 each without the pre-copy) and one cleanup's final
// snapshot fit exactly; the third is failed at the plan, before any call of its own, and the
// two others complete and clean up.
func TestBatchRefusesWhatTheSnapshotQuotaCannotHold(t *testing.T) {
	f := newFleetEnv(t, fleetOptions{speed: 100000, rate: 500, burst: 20, snapshotQuota: 5})
	createKeyIn(t, f.h.KMS(region), "alias/fleet")
	ids := f.createFleet("ledger", 3)
	migrationIDs := map[string]string{ids[0]: "0c000000", ids[1]: "0c000001", ids[2]: "0c000002"}
	b := f.batch(migrationIDs)
	plan, err := b.Plan(f.ctx(), fleet.BatchRequest{Regions: []string{region}, KmsKey: "alias/fleet",
		Concurrency: 3, Cutover: fleet.CutoverAuto})
	require.NoError(t, err)
	require.Equal(t, 2, plan.Planned())
	failed := plan.PlanFailures()
	require.Len(t, failed, 1)
	assert.Equal(t, ids[2], failed[0].Source, "the migrations are fitted in the plan's order")
	assert.Contains(t, failed[0].Skip, "the manual DB snapshots quota of us-east-1 is 5, 0 in use: the 2 migrations of the batch planned before it need 5")
	assert.Contains(t, failed[0].Next, "Manual DB instance snapshots")
	assert.Contains(t, failed[0].Next, "rdsencrypt plan --db ledger-002 --kms-key alias/fleet")

	rep := b.Run(f.ctx(), plan)
	assert.Equal(t, fleet.OutcomeCompleted, byID(rep, ids[0]).Outcome, byID(rep, ids[0]).Reason)
	assert.Equal(t, fleet.OutcomeCompleted, byID(rep, ids[1]).Outcome, byID(rep, ids[1]).Reason)
	assert.Equal(t, fleet.OutcomeFailed, byID(rep, ids[2]).Outcome)
	assert.Empty(t, byID(rep, ids[2]).MigrationID, "no migration of ledger-002 was started")
	assert.Empty(t, f.failedCalls(), "no snapshot was refused")
	eng := b.Base
	eng.Approver = workflow.AutoApprove
	for _, source := range ids[:2] {
		r, err := eng.Cleanup(f.ctx(), migrationIDs[source])
		require.NoError(t, err, "cleanup of %s: its final snapshot fits", source)
		assert.Equal(t, workflow.StatusCleanedUp, r.Status)
	}
}

func (f *fleetEnv) describeID(id string) string {
	inst, err := f.client.For(region).DescribeInstance(context.Background(), id)
	require.NoError(f.tb, err)
	return inst.ID
}

func TestBatchManualCutoverPreparesThenResumes(t *testing.T) {
	f := newFleetEnv(t, fleetOptions{speed: 100000, rate: 500, burst: 20})
	createKeyIn(t, f.h.KMS(region), "alias/fleet")
	ids := f.createFleet("ledger", 4)
	b := f.batch(nil)
	plan, err := b.Plan(f.ctx(), fleet.BatchRequest{Regions: []string{region}, KmsKey: "alias/fleet",
		Concurrency: 4, Cutover: fleet.CutoverManual})
	require.NoError(t, err)
	rep := b.Run(f.ctx(), plan)
	assert.Equal(t, 4, rep.Summary.AwaitingCutover)
	for _, id := range ids {
		m := byID(rep, id)
		assert.Equal(t, fleet.OutcomeAwaitingCutover, m.Outcome, m.Reason)
		assert.Equal(t, workflow.StatusPaused, m.Status)
		assert.Equal(t, "rdsencrypt resume "+m.MigrationID+"   (freezes writes if not yet frozen, then runs the cutover: the endpoint is down for minutes)", m.Next)
		inst, err := f.client.For(region).DescribeInstance(context.Background(), id)
		require.NoError(t, err)
		assert.False(t, inst.Settings.StorageEncrypted, "the source still serves: no cutover yet")
		target, err := f.client.For(region).DescribeInstance(context.Background(), workflow.NamesFor(m.MigrationID, id).Target)
		require.NoError(t, err)
		assert.True(t, target.Settings.StorageEncrypted, "the encrypted instance is ready")
	}
	m := byID(rep, ids[0])
	eng := b.Base
	eng.Approver = workflow.AutoApprove
	r, err := eng.Resume(f.ctx(), m.MigrationID)
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusCompleted, r.Status)

	// A second batch leaves alone what the first one started or retired.
	plan, err = b.Plan(f.ctx(), fleet.BatchRequest{Regions: []string{region}, KmsKey: "alias/fleet", Cutover: fleet.CutoverAuto})
	require.NoError(t, err)
	assert.Zero(t, plan.Planned())
	skips := map[string]string{}
	for _, it := range plan.Items {
		skips[it.Source] = it.Skip + " | " + it.Next
	}
	assert.Contains(t, skips[workflow.NamesFor(m.MigrationID, ids[0]).Retired], "retired source of migration "+m.MigrationID)
	assert.Contains(t, skips[ids[1]], "rdsencrypt resume "+byID(rep, ids[1]).MigrationID)
	assert.Equal(t, 4, plan.AlreadyEncrypted, "the migrated one and the three prepared targets")
}

func TestBatchSelection(t *testing.T) {
	f := newFleetEnv(t, fleetOptions{speed: 100000, rate: 500, burst: 20})
	createKeyIn(t, f.h.KMS(region), "alias/fleet")
	f.createFleet("ledger", 6) // odd ones are tagged team=ledger
	_, err := f.rds.CreateDBInstanceReadReplica(context.Background(), &rds.CreateDBInstanceReadReplicaInput{
		DBInstanceIdentifier: aws.String("ledger-001-ro"), SourceDBInstanceIdentifier: aws.String("ledger-001"),
		Tags: []rdstypes.Tag{{Key: aws.String("team"), Value: aws.String("ledger")}}})
	require.NoError(t, err)
	f.h.Advance(time.Hour)
	before := f.h.Calls()

	team, err := fleet.ParseTagFilter("tag:team=ledger")
	require.NoError(t, err)
	skip, err := fleet.ParseGlob("*-005")
	require.NoError(t, err)
	plan, err := f.batch(nil).Plan(f.ctx(), fleet.BatchRequest{Regions: []string{region}, KmsKey: "alias/fleet",
		Selection: fleet.Selection{Include: []fleet.TagFilter{team}, Exclude: []fleet.Glob{skip}}, Cutover: fleet.CutoverAuto})
	require.NoError(t, err)
	assertNoMutatingCalls(t, before, f.h.Calls())

	var planned []string
	for _, it := range plan.Items {
		if it.Skip == "" {
			planned = append(planned, it.Source)
			require.NotNil(t, it.Plan)
			assert.Equal(t, workflow.ModeEncrypt, it.Plan.Mode)
		}
	}
	assert.Equal(t, []string{"ledger-001", "ledger-003"}, planned)
	require.Len(t, plan.Items, 3)
	assert.Equal(t, "ledger-001-ro", plan.Items[1].Source)
	assert.Contains(t, plan.Items[1].Skip, "read replica of ledger-001")
	assert.Equal(t, 4, plan.NotSelected, "ledger-000, -002, -004 untagged; -005 excluded")
}
