package integration

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/journal"
	"github.com/rdsencrypt/rdsencrypt/internal/model"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/rdssim"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

const fixedID = "0a1b2c3d"

// assertSameSettings checks every compared setting of got against want.
func assertSameSettings(t *testing.T, want, got model.InstanceSettings, what string) {
	t.Helper()
	assertSameRoutes(t, model.InstanceSettingRoutes, want, got, what)
}

// assertSameRoutes checks every setting a route table compares, lists as sets.
func assertSameRoutes(t *testing.T, table []model.Route, want, got any, what string) {
	t.Helper()
	for _, r := range table {
		if !r.Compare {
			continue
		}
		w, _ := model.SettingValue(want, r.Setting)
		g, _ := model.SettingValue(got, r.Setting)
		if ws, ok := w.([]string); ok {
			assert.ElementsMatch(t, ws, g, "%s: %s", what, r.Setting)
			continue
		}
		assert.Equal(t, w, g, "%s: %s", what, r.Setting)
	}
}

func TestMigrateInstanceCarriesEverySetting(t *testing.T) {
	e := newEnv(t)
	e.createGroups()
	key := e.createKey("alias/orders")
	piKey := e.createKey("alias/pi")
	src := e.createInstance(fullSettingsSource("orders", piKey))
	require.False(t, src.Settings.StorageEncrypted)

	rep, err := e.engine(fixedID, workflow.AutoApprove).Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "orders", KmsKey: "alias/orders"})
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusCompleted, rep.Status)
	assert.Empty(t, rep.Parity.Differences)
	assert.Equal(t, key, rep.KmsKeyARN)
	assert.Greater(t, rep.DowntimeSeconds, 0.0, "downtime is measured on the AWS clock")
	assert.Positive(t, rep.APICalls)

	got := e.describe("orders")
	assert.NotEqual(t, src.ResourceID, got.ResourceID, "a new instance answers at the old name")
	assert.True(t, got.Settings.StorageEncrypted)
	assert.Equal(t, key, got.Settings.KmsKeyID)
	assert.Equal(t, src.Endpoint, got.Endpoint, "applications keep their hostname")
	assertSameSettings(t, src.Settings, got.Settings, "new instance")
	assert.Equal(t, "payments", got.Tags["team"])
	assert.Equal(t, "prod", got.Tags["env"])
	assert.Equal(t, fixedID, got.Tags[model.TagMigrationID])
	assert.Equal(t, "orders", got.Tags[model.TagSource])
	assert.Equal(t, workflow.RoleTarget, got.Tags[model.TagRole])

	names := workflow.NamesFor(fixedID, "orders")
	retired := e.describe(names.Retired)
	assert.Equal(t, src.ResourceID, retired.ResourceID, "the source is renamed, never replaced")
	assert.False(t, retired.Settings.StorageEncrypted)
	assertSameSettings(t, src.Settings, retired.Settings, "retired source")
	assert.Equal(t, src.Tags, retired.Tags, "the source is never tagged or modified")
	assert.ElementsMatch(t, []string{"orders", names.Retired}, e.instanceIDs())
	assert.ElementsMatch(t, []string{names.Snapshot, names.EncryptedSnapshot}, e.snapshotIDs())
	assertSourceOnlyRenamed(t, e, src.ResourceID)
}

// assertSourceOnlyRenamed checks invariant 1 from the simulator's own log: the only actions
// that changed the source were its creation, the snapshot, and renames (a rename shows as
// renaming, rebooting, available; any other modification would show as modifying).
func assertSourceOnlyRenamed(t *testing.T, e *env, resourceID string) {
	t.Helper()
	renameStatuses := map[string]bool{"renaming": true, "rebooting": true, "available": true}
	lastID := ""
	for _, ev := range e.h.Events() {
		if ev.ResourceID != resourceID || ev.Type != "instance" {
			continue
		}
		switch ev.Action {
		case "CreateDBInstance", "CreateDBSnapshot":
		case "ModifyDBInstance":
			assert.True(t, renameStatuses[ev.Status], "source modified: status %s", ev.Status)
		default:
			t.Errorf("source changed by %s (status %s)", ev.Action, ev.Status)
		}
		if lastID != "" && ev.ID != lastID {
			assert.Equal(t, "renaming", ev.Status, "the source's name changed other than by a rename")
		}
		lastID = ev.ID
	}
}

func TestMigrateRekeysAnEncryptedInstance(t *testing.T) {
	e := newEnv(t)
	oldKey := e.createKey("alias/old")
	newKey := e.createKey("alias/new")
	in := simpleSource("ledger")
	in.StorageEncrypted, in.KmsKeyId = aws.Bool(true), aws.String(oldKey)
	src := e.createInstance(in)

	eng := e.engine(fixedID, workflow.AutoApprove)
	plan, err := eng.Plan(e.ctx(), workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: newKey})
	require.NoError(t, err)
	assert.Equal(t, workflow.ModeRekey, plan.Mode)

	rep, err := eng.Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: newKey})
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusCompleted, rep.Status)
	got := e.describe("ledger")
	assert.Equal(t, newKey, got.Settings.KmsKeyID)
	assert.Equal(t, src.Endpoint, got.Endpoint)
}

func TestMigrateAlreadyEncryptedWithTheKeyDoesNothing(t *testing.T) {
	e := newEnv(t)
	key := e.createKey("alias/k")
	in := simpleSource("ledger")
	in.StorageEncrypted, in.KmsKeyId = aws.Bool(true), aws.String(key)
	e.createInstance(in)
	before := e.h.Calls()

	rep, err := e.engine("", workflow.AutoApprove).Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/k"})
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusNothingToDo, rep.Status)
	assertNoMutatingCalls(t, before, e.h.Calls())
}

var readOnlyActions = map[string]bool{}

func isReadOnly(action string) bool {
	return strings.HasPrefix(action, "Describe") || strings.HasPrefix(action, "List") || readOnlyActions[action]
}

// assertNoMutatingCalls checks invariant 5 from the simulator's call counts.
func assertNoMutatingCalls(t *testing.T, before, after map[string]int) {
	t.Helper()
	for action, n := range after {
		if n != before[action] {
			assert.True(t, isReadOnly(action), "mutating call %s made %d time(s)", action, n-before[action])
		}
	}
}

func TestPlanMakesNoMutatingCall(t *testing.T) {
	e := newEnv(t)
	e.createGroups()
	e.createKey("alias/orders")
	piKey := e.createKey("alias/pi")
	e.createInstance(fullSettingsSource("orders", piKey))
	before := e.h.Calls()
	plan, err := e.engine("", nil).Plan(e.ctx(), workflow.MigrateRequest{Region: region, Source: "orders", KmsKey: "alias/orders"})
	require.NoError(t, err)
	assertNoMutatingCalls(t, before, e.h.Calls())
	assert.Equal(t, workflow.ModeEncrypt, plan.Mode)
	assert.Len(t, plan.Steps, 12)
	via := map[string]string{}
	for _, s := range plan.Settings {
		via[s.Name] = s.Via
	}
	assert.Equal(t, "modify", via["MonitoringInterval"])
	assert.Equal(t, "restore", via["VpcSecurityGroupIDs"])
}

func TestMigrateBadInputFailsClearly(t *testing.T) {
	// The virtual clock moves only by Advance: "busy" stays creating however long the cases
	// before it take on a loaded machine (at testSpeed its creation ends 15 ms after the call).
	e := newEnvWith(t, rdssim.Options{ManualClock: true})
	key := e.createKey("alias/k")
	e.createInstance(simpleSource("ledger"))
	_, err := e.h.KMS(otherRegion).CreateKey(context.Background(), &kms.CreateKeyInput{})
	require.NoError(t, err)
	foreign := createKeyIn(t, e.h.KMS(otherRegion), "alias/foreign")
	disabled := e.createKey("alias/disabled")
	_, err = e.kms.DisableKey(context.Background(), &kms.DisableKeyInput{KeyId: aws.String(disabled)})
	require.NoError(t, err)
	out, err := e.kms.CreateKey(context.Background(), &kms.CreateKeyInput{KeySpec: kmstypes.KeySpecRsa2048, KeyUsage: kmstypes.KeyUsageTypeEncryptDecrypt})
	require.NoError(t, err)
	asymmetric := aws.ToString(out.KeyMetadata.Arn)
	out, err = e.kms.CreateKey(context.Background(), &kms.CreateKeyInput{KeySpec: kmstypes.KeySpecEccNistP256, KeyUsage: kmstypes.KeyUsageTypeSignVerify})
	require.NoError(t, err)
	signing := aws.ToString(out.KeyMetadata.Arn)
	_, err = e.rds.CreateDBInstance(context.Background(), simpleSource("busy"))
	require.NoError(t, err) // still creating: not available

	cases := []struct {
		name, db, key, want string
	}{
		{"unknown db", "nope", key, `DB instance "nope" not found in us-east-1`},
		{"not available", "busy", key, `is "creating", not available`},
		{"missing key", "ledger", "alias/missing", "KMS key alias/missing not found"},
		{"disabled key", "ledger", "alias/disabled", "not enabled"},
		{"key in another region", "ledger", foreign, "is in eu-west-1, not in us-east-1"},
		{"no key", "ledger", "", "no KMS key given"},
		{"asymmetric key", "ledger", asymmetric, "is RSA_2048 for ENCRYPT_DECRYPT: RDS encrypts only with symmetric encryption keys"},
		{"signing key", "ledger", signing, "is ECC_NIST_P256 for SIGN_VERIFY"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.h.Calls()
			_, err := e.engine("", workflow.AutoApprove).Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: c.db, KmsKey: c.key})
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.NotEmpty(t, workflow.NextOf(err), "the error names the next command")
			assert.NotContains(t, err.Error(), "\n")
			assertNoMutatingCalls(t, before, e.h.Calls())
		})
	}
	states, _, err := e.store.List()
	require.NoError(t, err)
	assert.Empty(t, states, "a refused migration leaves no journal")
}

func TestMigrateRefusesATakenName(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/k")
	e.createInstance(simpleSource("ledger"))
	e.createInstance(simpleSource(workflow.NamesFor(fixedID, "ledger").Target))
	_, err := e.engine(fixedID, workflow.AutoApprove).Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/k"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is taken")
}

func TestMigrateSurvivesAThrottlingStorm(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/k")
	e.createInstance(simpleSource("ledger"))
	e.h.Faults(rdssim.FaultRequest{Throttle: &rdssim.Throttle{RatePerSecond: 200, Burst: 5}})
	rep, err := e.engine(fixedID, workflow.AutoApprove).Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/k"})
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusCompleted, rep.Status)
}

func TestFailedSnapshotIsRetakenOnResume(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/k")
	e.createInstance(simpleSource("ledger"))
	names := workflow.NamesFor(fixedID, "ledger")
	e.h.Faults(rdssim.FaultRequest{FailSnapshot: []rdssim.ResourceRef{{Region: region, ID: names.Snapshot}}})
	eng := e.engine(fixedID, workflow.AutoApprove)
	rep, err := eng.Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/k"})
	require.Error(t, err)
	assert.Equal(t, workflow.StatusFailed, rep.Status)
	assert.Contains(t, err.Error(), names.Snapshot)
	assert.Contains(t, workflow.NextOf(err), "rdsencrypt resume "+fixedID)

	rep, err = eng.Resume(e.ctx(), fixedID)
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusCompleted, rep.Status)
}

func TestIncompatibleRestoreIsReplacedOnResume(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/k")
	e.createInstance(simpleSource("ledger"))
	names := workflow.NamesFor(fixedID, "ledger")
	e.h.Faults(rdssim.FaultRequest{FailRestore: []rdssim.ResourceRef{{Region: region, ID: names.Target}}})
	eng := e.engine(fixedID, workflow.AutoApprove)
	_, err := eng.Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/k"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "incompatible-restore")

	rep, err := eng.Resume(e.ctx(), fixedID)
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusCompleted, rep.Status)
	assert.ElementsMatch(t, []string{"ledger", names.Retired}, e.instanceIDs())
}

// TestFailedRestoreOfAProtectedSourceConverges: a source with deletion protection whose
// restore fails can be resumed (the failed target is replaced) or rolled back (it is
// deleted): the new instance gets its protection only once healthy.
func TestFailedRestoreOfAProtectedSourceConverges(t *testing.T) {
	for _, then := range []string{"resume", "rollback"} {
		t.Run(then, func(t *testing.T) {
			e := newEnv(t)
			key := e.createKey("alias/k")
			in := simpleSource("ledger")
			in.DeletionProtection = aws.Bool(true)
			src := e.createInstance(in)
			names := workflow.NamesFor(fixedID, "ledger")
			e.h.Faults(rdssim.FaultRequest{FailRestore: []rdssim.ResourceRef{{Region: region, ID: names.Target}}})
			eng := e.engine(fixedID, workflow.AutoApprove)
			_, err := eng.Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/k"})
			require.Error(t, err)
			assert.Contains(t, err.Error(), "incompatible-restore")
			assert.False(t, e.describe(names.Target).Settings.DeletionProtection, "a failed restore is not protected")

			if then == "resume" {
				rep, err := eng.Resume(e.ctx(), fixedID)
				require.NoError(t, err)
				assert.Equal(t, workflow.StatusCompleted, rep.Status)
				assertMigratedEndState(t, e, src, key)
				assert.True(t, e.describe("ledger").Settings.DeletionProtection, "the healthy new instance is protected")
				return
			}
			rep, err := eng.Rollback(e.ctx(), fixedID)
			require.NoError(t, err)
			assert.Equal(t, workflow.StatusRolledBack, rep.Status)
			assert.Equal(t, []string{"ledger"}, e.instanceIDs())
			assert.Empty(t, e.snapshotIDs())
			assert.True(t, e.describe("ledger").Settings.DeletionProtection, "the source keeps its protection")
		})
	}
}

func TestKeyDisabledMidMigration(t *testing.T) {
	e := newEnv(t)
	key := e.createKey("alias/k")
	in := simpleSource("ledger")
	in.AllocatedStorage = aws.Int32(200) // an encrypted copy of about 40 virtual minutes
	e.createInstance(in)
	// the key goes away one virtual minute after the encrypted copy starts: the simulator
	// schedules it with the copy itself, so a slow machine cannot let the copy finish first
	// (an observer calling DisableKey after CopyDBSnapshot returned could land 40 virtual
	// minutes late under load)
	e.h.Faults(rdssim.FaultRequest{DisableKeys: []rdssim.KeyDisableAt{{Region: region, KeyID: key, AfterSeconds: 60, OnCopy: true}}})
	eng := e.engine(fixedID, workflow.AutoApprove)
	rep, err := eng.Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/k"})
	require.Error(t, err)
	require.NotNil(t, rep)
	assert.Equal(t, workflow.StatusFailed, rep.Status)
	assert.Equal(t, "ledger", e.describe("ledger").ID, "the source still answers at its name")
	assert.Contains(t, err.Error(), "KMS key "+key+" became inaccessible (Disabled) while the encrypted copy", "the key is named as the cause")
	assert.Contains(t, workflow.NextOf(err), "aws kms enable-key --key-id "+key)
	assert.Contains(t, workflow.NextOf(err), "rdsencrypt resume "+fixedID)
	assert.NotContains(t, err.Error(), "\n")

	_, err = e.kms.EnableKey(context.Background(), &kms.EnableKeyInput{KeyId: aws.String(key)})
	require.NoError(t, err)
	rep, err = e.engine("", workflow.AutoApprove).Resume(e.ctx(), fixedID)
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusCompleted, rep.Status)
}

func TestSecondProcessIsRefused(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/k")
	e.createInstance(simpleSource("ledger"))
	// approve the freeze, quit before the snapshot: a migration with a journal to resume
	// (quitting before the first change keeps none)
	eng := e.engine(fixedID, workflow.ApproverFunc(func(_ context.Context, a workflow.Approval) (workflow.Decision, error) {
		if a.Step == workflow.StepFreeze {
			return workflow.Approve, nil
		}
		return workflow.Quit, nil
	}))
	_, err := eng.Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/k"})
	require.ErrorIs(t, err, workflow.ErrStopped)

	release, err := e.store.Lock(fixedID)
	require.NoError(t, err)
	defer release()
	_, err = e.engine("", workflow.AutoApprove).Resume(e.ctx(), fixedID)
	require.ErrorIs(t, err, journal.ErrLocked)
	assert.Contains(t, err.Error(), "another process")

	_, err = e.engine("", workflow.AutoApprove).Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/k"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "already has migration "+fixedID)
}

func TestCleanupDeletesRetiredSourceWithFinalSnapshot(t *testing.T) {
	e := newEnv(t)
	e.createGroups()
	e.createKey("alias/orders")
	piKey := e.createKey("alias/pi")
	e.createInstance(fullSettingsSource("orders", piKey)) // deletion protection on
	eng := e.engine(fixedID, workflow.AutoApprove)
	_, err := eng.Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "orders", KmsKey: "alias/orders"})
	require.NoError(t, err)

	refuse := e.engine("", workflow.RefuseApprover)
	_, err = refuse.Cleanup(e.ctx(), fixedID)
	require.Error(t, err, "cleanup needs an explicit approval")
	names := workflow.NamesFor(fixedID, "orders")
	assert.Contains(t, e.instanceIDs(), names.Retired)

	rep, err := eng.Cleanup(e.ctx(), fixedID)
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusCleanedUp, rep.Status)
	assert.Equal(t, []string{"orders"}, e.instanceIDs())
	assert.ElementsMatch(t, []string{names.EncryptedSnapshot, names.FinalSnapshot}, e.snapshotIDs())
	assert.True(t, e.describe("orders").Settings.StorageEncrypted)

	_, err = eng.Rollback(e.ctx(), fixedID)
	require.Error(t, err, "no rollback after cleanup")
}

func TestJournalLostIsRebuiltFromTags(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/k")
	src := e.createInstance(simpleSource("ledger"))
	resumeRebuiltAfterRestore(t, e, fixedID, workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/k"})
	assert.Equal(t, src.Endpoint, e.describe("ledger").Endpoint)
	assert.ElementsMatch(t, []string{"ledger", workflow.NamesFor(fixedID, "ledger").Retired}, e.instanceIDs())
}

// An instance migrated once keeps that migration's tags (role target, its id) and its kept
// snapshots; the journal of a later migration of the same name (here a rekey) stopped after
// its restore is still rebuilt, for the later id: the finished migration's end state (its
// instance at the source's name, no retired source left) is not a migration to resume
// (review T9; rebuild used to refuse "resources of several migrations").
func TestJournalLostIsRebuiltAfterAFinishedMigrationOfTheName(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/k")
	newKey := e.createKey("alias/k2")
	e.createInstance(simpleSource("ledger"))
	first := e.engine(fixedID, workflow.AutoApprove)
	_, err := first.Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/k"})
	require.NoError(t, err)
	_, err = first.Cleanup(e.ctx(), fixedID)
	require.NoError(t, err)
	require.Equal(t, fixedID, e.describe("ledger").Tags[model.TagMigrationID], "the finished migration's tags stay")

	const laterID = "4e5f6a7b"
	resumeRebuiltAfterRestore(t, e, laterID, workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: newKey})
	assert.Equal(t, newKey, e.describe("ledger").Settings.KmsKeyID)
	assert.ElementsMatch(t, []string{"ledger", workflow.NamesFor(laterID, "ledger").Retired}, e.instanceIDs())

	// Its journal lost again after its cutover, before its cleanup: the first migration's
	// instance is now the later one's retired source, and the later one is still rebuilt.
	require.NoError(t, os.Remove(filepath.Join(e.store.Dir(), laterID+".json")))
	got, err := e.engine(laterID, workflow.AutoApprove).Rebuild(e.ctx(), workflow.KindInstance, region, "ledger")
	require.NoError(t, err)
	assert.Equal(t, laterID, got)
}

// A journal lost after the cutover and rebuilt from tags records the cutover (the new instance
// stands at the source's name): its rollback asks to stop writes and deletes the encrypted
// instance, which took the application's writes since, with its final snapshot, tagged as the
// migration's (review V15: the rebuilt journal marked nothing of the cutover, and the rollback
// deleted the encrypted instance with no snapshot at all).
func TestJournalLostAfterTheCutoverRollsBackWithTheFinalSnapshot(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/k")
	src := e.createInstance(simpleSource("ledger"))
	eng := e.engine(fixedID, workflow.AutoApprove)
	ctx := e.cancelAt(eng, func(ev workflow.Event) bool {
		return ev.Type == workflow.EventStepDone && ev.Step == workflow.StepUnfreeze
	})
	_, err := eng.Migrate(ctx, workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/k"})
	require.ErrorIs(t, err, workflow.ErrStopped)
	encrypted := e.describe("ledger")
	require.True(t, encrypted.Settings.StorageEncrypted, "the cutover is made: the encrypted instance has the name")
	require.NoError(t, os.Remove(filepath.Join(e.store.Dir(), fixedID+".json")))

	got, err := eng.Rebuild(e.ctx(), workflow.KindInstance, region, "ledger")
	require.NoError(t, err)
	require.Equal(t, fixedID, got)
	var asked approvals
	rep, err := e.engine(fixedID, asked.approver()).Rollback(e.ctx(), fixedID)
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusRolledBack, rep.Status)

	final := workflow.NamesFor(fixedID, "ledger").RollbackSnapshot
	a := asked.of("rollback")
	assert.True(t, a.Downtime)
	assert.Contains(t, strings.Join(a.Instructions, "\n"), "Stop writes to ledger first")
	assert.Contains(t, strings.Join(a.Details, "\n"), final)
	assert.Equal(t, []string{final}, e.snapshotIDs(), "the encrypted instance's final snapshot, nothing else")
	snap, err := e.client.For(region).DescribeSnapshot(context.Background(), final)
	require.NoError(t, err)
	assert.Equal(t, encrypted.ResourceID, snap.SourceResource)
	assert.Equal(t, fixedID, snap.Tags[model.TagMigrationID])
	assert.Equal(t, workflow.RoleRollbackSnapshot, snap.Tags[model.TagRole])
	assert.Equal(t, []string{"ledger"}, e.instanceIDs())
	assert.Equal(t, src.ResourceID, e.describe("ledger").ResourceID, "the unencrypted source is back at its name")
}

// resumeRebuiltAfterRestore runs req as migration id, stops it after its restore, deletes its
// journal, rebuilds it from the tags (id expected) and resumes it to the end.
func resumeRebuiltAfterRestore(t *testing.T, e *env, id string, req workflow.MigrateRequest) {
	t.Helper()
	eng := e.engine(id, workflow.AutoApprove)
	ctx := e.cancelAt(eng, func(ev workflow.Event) bool {
		return ev.Type == workflow.EventStepDone && ev.Step == workflow.StepRestore
	})
	_, err := eng.Migrate(ctx, req)
	require.ErrorIs(t, err, workflow.ErrStopped)
	require.NoError(t, os.Remove(filepath.Join(e.store.Dir(), id+".json")))

	got, err := eng.Rebuild(e.ctx(), req.Kind, region, req.Source)
	require.NoError(t, err)
	require.Equal(t, id, got)
	rep, err := eng.Resume(e.ctx(), got)
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusCompleted, rep.Status)
}

func TestParityDifferenceStopsBeforeCutover(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/k")
	e.createInstance(simpleSource("ledger"))
	eng := e.engine(fixedID, workflow.AutoApprove)
	// Change the new instance behind the tool's back once it exists, so parity differs.
	var once bool
	prev := eng.Observer
	eng.Observer = workflow.ObserverFunc(func(ev workflow.Event) {
		prev.Notify(ev)
		if ev.Type == workflow.EventStepDone && ev.Step == workflow.StepModify && !once {
			once = true
			names := workflow.NamesFor(fixedID, "ledger")
			_, err := e.client.For(region).ModifyInstance(context.Background(), names.Target,
				model.InstanceSettings{AutoMinorVersionUpgrade: false}, []model.Setting{"AutoMinorVersionUpgrade"})
			require.NoError(t, err)
			e.h.Advance(10 * time.Minute)
		}
	})
	rep, err := eng.Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/k"})
	require.Error(t, err)
	assert.True(t, errors.Is(err, workflow.ErrStopped))
	assert.Contains(t, err.Error(), "parity check found 1 difference", "the stop says why")
	assert.Contains(t, workflow.NextOf(err), "rdsencrypt rollback "+fixedID)
	require.Len(t, rep.Parity.Differences, 1)
	assert.Equal(t, "AutoMinorVersionUpgrade", rep.Parity.Differences[0].Setting)
	assert.Equal(t, "ledger", e.describe("ledger").ID)
	assert.Equal(t, workflow.StepPending, stepStatus(rep, workflow.StepRenameSource), "cutover did not start")
}

// Settings that change neither what applications write nor how they connect reach the
// encrypted instance after writes resume, outside the write downtime; parity does not stop
// on them, and verify compares them with every other setting afterwards.
func TestSettingsAfterCutover(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/k")
	in := simpleSource("ledger")
	const window = "tue:03:00-tue:03:30"
	in.PreferredMaintenanceWindow, in.DeletionProtection, in.EnablePerformanceInsights = aws.String(window), aws.Bool(true), aws.Bool(true)
	e.createInstance(in)
	eng := e.engine(fixedID, workflow.AutoApprove)
	var atUnfreeze *model.Instance
	prev := eng.Observer
	eng.Observer = workflow.ObserverFunc(func(ev workflow.Event) {
		prev.Notify(ev)
		if ev.Type == workflow.EventStepDone && ev.Step == workflow.StepUnfreeze {
			atUnfreeze = e.describe("ledger")
		}
	})
	rep, err := eng.Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/k"})
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusCompleted, rep.Status)
	require.NotNil(t, atUnfreeze)
	require.True(t, atUnfreeze.Settings.StorageEncrypted, "at unfreeze the name is the encrypted instance's")
	assert.NotEqual(t, window, atUnfreeze.Settings.PreferredMaintenanceWindow, "the window waits until writes resume")
	assert.False(t, atUnfreeze.Settings.DeletionProtection, "deletion protection waits until writes resume")
	assert.False(t, atUnfreeze.Settings.PerformanceInsightsEnabled, "Performance Insights waits until writes resume")
	final := e.describe("ledger")
	assert.Equal(t, window, final.Settings.PreferredMaintenanceWindow)
	assert.True(t, final.Settings.DeletionProtection)
	assert.True(t, final.Settings.PerformanceInsightsEnabled)
	assert.Empty(t, rep.Parity.Differences, "parity did not stop on settings applied after cutover")
	assert.Equal(t, workflow.StepDone, stepStatus(rep, workflow.StepModifyLate))
}

func stepStatus(rep *workflow.Report, name string) string {
	for _, s := range rep.Steps {
		if s.Name == name {
			return s.Status
		}
	}
	return ""
}

func TestMigrateLongIdentifierDerivesShorterNames(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/k")
	long := "orders-" + strings.Repeat("x", 56) // 63 characters, AWS's limit
	src := e.createInstance(simpleSource(long))
	eng := e.engine(fixedID, workflow.AutoApprove)
	plan, err := eng.Plan(e.ctx(), workflow.MigrateRequest{Region: region, Source: long, KmsKey: "alias/k"})
	require.NoError(t, err)
	assert.Contains(t, joinWarnings(plan.Warnings), "is long: temporary names are shortened")
	rep, err := eng.Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: long, KmsKey: "alias/k"})
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusCompleted, rep.Status)
	names := workflow.NamesFor(fixedID, long)
	assert.LessOrEqual(t, len(names.Retired), 63)
	assert.ElementsMatch(t, []string{long, names.Retired}, e.instanceIDs())
	assert.Equal(t, src.Endpoint, e.describe(long).Endpoint)
}

func joinWarnings(w []string) string { return strings.Join(w, "\n") }

// TestHalfDoneRollbackOrCleanupOnlyGoesOn: a rollback interrupted half-way can only be
// finished by rollback, and a cleanup interrupted half-way only by cleanup.
func TestHalfDoneRollbackOrCleanupOnlyGoesOn(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/k")
	e.createInstance(simpleSource("ledger"))
	eng := e.engine(fixedID, workflow.AutoApprove)
	_, err := eng.Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/k"})
	require.NoError(t, err)

	cl := e.engine("", workflow.AutoApprove)
	_, err = cl.Cleanup(e.cancelAt(cl, func(ev workflow.Event) bool { return ev.Type == workflow.EventStepProgress }), fixedID)
	require.Error(t, err)
	_, err = e.engine("", workflow.AutoApprove).Rollback(e.ctx(), fixedID)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is being cleaned up")
	assert.Contains(t, workflow.NextOf(err), "rdsencrypt cleanup "+fixedID)
	_, err = e.engine("", workflow.AutoApprove).Resume(e.ctx(), fixedID)
	require.Error(t, err)
	rep, err := e.engine("", workflow.AutoApprove).Cleanup(e.ctx(), fixedID)
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusCleanedUp, rep.Status)

	e.createInstance(simpleSource("ledger2"))
	const second = "1b2c3d4e"
	_, err = e.engine(second, workflow.AutoApprove).Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "ledger2", KmsKey: "alias/k"})
	require.NoError(t, err)
	rb := e.engine("", workflow.AutoApprove)
	_, err = rb.Rollback(e.cancelAt(rb, func(ev workflow.Event) bool { return ev.Type == workflow.EventStepProgress }), second)
	require.Error(t, err)
	_, err = e.engine("", workflow.AutoApprove).Resume(e.ctx(), second)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is being rolled back")
	_, err = e.engine("", workflow.AutoApprove).Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "ledger2", KmsKey: "alias/k"})
	require.Error(t, err, "a source whose rollback is half done cannot start a new migration")
	assert.Contains(t, err.Error(), "already has migration "+second)
}

// TestMigrateTwice re-keys an instance that an earlier migration encrypted: the earlier
// migration's tags do not confuse the second.
func TestMigrateTwice(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/first")
	second := e.createKey("alias/second")
	e.createInstance(simpleSource("ledger"))
	_, err := e.engine(fixedID, workflow.AutoApprove).Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/first"})
	require.NoError(t, err)
	_, err = e.engine(fixedID, workflow.AutoApprove).Cleanup(e.ctx(), fixedID)
	require.NoError(t, err)

	const id2 = "1b2c3d4e"
	rep, err := e.engine(id2, workflow.AutoApprove).Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/second"})
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusCompleted, rep.Status)
	got := e.describe("ledger")
	assert.Equal(t, second, got.Settings.KmsKeyID)
	assert.Equal(t, id2, got.Tags[model.TagMigrationID])
	assert.Equal(t, "ledger", got.Tags["app"])
}

// TestParameterGroupChangeIsRebootedIn: when the modify step has to change the parameter
// group, AWS applies it only after a reboot, which the step performs and waits for.
func TestParameterGroupChangeIsRebootedIn(t *testing.T) {
	e := newEnv(t)
	e.createKey("alias/k")
	_, err := e.rds.CreateDBParameterGroup(context.Background(), &rds.CreateDBParameterGroupInput{DBParameterGroupName: aws.String("ledger-params"),
		DBParameterGroupFamily: aws.String("postgres16"), Description: aws.String("ledger")})
	require.NoError(t, err)
	in := simpleSource("ledger")
	in.DBParameterGroupName = aws.String("ledger-params")
	e.createInstance(in)
	eng := e.engine(fixedID, workflow.AutoApprove)
	prev := eng.Observer
	eng.Observer = workflow.ObserverFunc(func(ev workflow.Event) {
		prev.Notify(ev)
		if ev.Type == workflow.EventStepDone && ev.Step == workflow.StepRestore {
			// the restored instance ends up on another group, as a restore without the
			// parameter would
			_, err := e.rds.ModifyDBInstance(context.Background(), &rds.ModifyDBInstanceInput{
				DBInstanceIdentifier: aws.String(workflow.NamesFor(fixedID, "ledger").Target),
				DBParameterGroupName: aws.String("default.postgres16"), ApplyImmediately: aws.Bool(true)})
			require.NoError(t, err)
			e.h.Advance(time.Hour)
		}
	})
	before := e.h.Calls()["RebootDBInstance"]
	rep, err := eng.Migrate(e.ctx(), workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: "alias/k"})
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusCompleted, rep.Status)
	got := e.describe("ledger")
	assert.Equal(t, "ledger-params", got.Settings.DBParameterGroupName)
	assert.NotEqual(t, model.ParameterPendingReboot, got.ParameterApplyStatus)
	assert.Positive(t, e.h.Calls()["RebootDBInstance"]-before, "the modify step rebooted the new instance")
}
