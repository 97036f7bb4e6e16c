package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/model"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/awsclient"
	"github.com/rdsencrypt/rdsencrypt/internal/rdssim"
	"github.com/rdsencrypt/rdsencrypt/internal/rdssim/simtest"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// cli runs the command line in-process against a simulator, as an operator would with
// credentials in the environment.
type cli struct {
	t     *testing.T
	h     *simtest.Harness
	state string
}

func newCLI(t *testing.T, speed float64) *cli {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLECLI")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "cli-test-secret")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	return &cli{t: t, h: simtest.Start(t, rdssim.Options{Speed: speed}), state: t.TempDir()}
}

func (c *cli) args(extra ...string) []string {
	return append([]string{"--endpoint-url", c.h.URL, "--region", "us-east-1", "--state-dir", c.state, "--poll-interval", "2ms"}, extra...)
}

// run runs rdsencrypt with no terminal and returns stdout, stderr and the exit code.
func (c *cli) run(args ...string) (string, string, int) {
	c.t.Helper()
	var out, errOut bytes.Buffer
	code := Main(c.args(args...), Streams{In: strings.NewReader(""), Out: &out, Err: &errOut})
	return out.String(), errOut.String(), code
}

// source loads a fleet of one unencrypted instance and a key with alias/cli, made available,
// and returns the key's ARN.
// With more ids, it loads that many such instances.
func (c *cli) source(id string, more ...string) string {
	c.t.Helper()
	var insts []string
	for _, id := range append([]string{id}, more...) {
		insts = append(insts, fmt.Sprintf(`{"DBInstanceIdentifier": %q, "DBInstanceClass": "db.t3.medium", "Engine": "postgres",
			"EngineVersion": "16.6", "MasterUsername": "postgres", "MasterUserPassword": "cli-Passw0rd-x",
			"AllocatedStorage": 20, "BackupRetentionPeriod": 7}`, id))
	}
	fleet := `{"Regions": {"us-east-1": {
		"Keys": [{"Description": "cli test key", "Aliases": ["alias/cli"]}],
		"Instances": [` + strings.Join(insts, ",") + `]}}}`
	require.NoError(c.t, c.h.Sim.LoadFixture(strings.NewReader(fleet)))
	key, err := c.aws().DescribeKey(context.Background(), "alias/cli")
	require.NoError(c.t, err)
	return key.ARN
}

// aws is a client of the simulator for the test's own checks.
func (c *cli) aws() model.RDS {
	return awsclient.NewForSimulator(awsclient.Config{Region: "us-east-1", EndpointURL: c.h.URL}).For("us-east-1")
}

// instanceIDs lists the simulator's DB instances, and whether each is encrypted.
func (c *cli) instanceIDs() ([]string, map[string]bool) {
	c.t.Helper()
	insts, err := c.aws().ListInstances(context.Background())
	require.NoError(c.t, err)
	var ids []string
	encrypted := map[string]bool{}
	for _, i := range insts {
		ids = append(ids, i.ID)
		encrypted[i.ID] = i.Settings.StorageEncrypted
	}
	return ids, encrypted
}

func TestUsageErrorsExitTwo(t *testing.T) {
	c := newCLI(t, 1000)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"migrate", "--kms-key", "alias/cli"}, "--db or --cluster is required"},
		{[]string{"migrate", "--db", "x"}, "--kms-key is required"},
		{[]string{"migrate", "--db", "x", "--kms-key", "k", "--replicas", "sometimes"}, "--replicas must be"},
		{[]string{"plan", "--db", "x", "--kms-key", "k", "--output", "yaml"}, "--output must be text or json"},
		{[]string{"rollback", "not-an-id"}, "is not a migration id"},
		{[]string{"migrate", "--bogus"}, "unknown flag"},
		{[]string{"migrate", "--db", strings.Repeat("a", 10000), "--kms-key", "alias/cli"}, "is not an RDS identifier (at most 63 characters, not 10000)"},
		{[]string{"migrate", "--db", "../x", "--kms-key", "alias/cli"}, `--db "../x" is not an RDS identifier`},
		{[]string{"plan", "--db", "ledger\nx", "--kms-key", "alias/cli"}, "is not an RDS identifier (one line of"},
		{[]string{"migrate", "--cluster", "a;b", "--kms-key", "alias/cli"}, `--cluster "a;b" is not an RDS identifier`},
		{[]string{"resume", "--source", "x--y"}, `--source "x--y" is not an RDS identifier`},
	} {
		_, stderr, code := c.run(tc.args...)
		assert.Equal(t, exitUsage, code, "%v", tc.args)
		assert.Contains(t, stderr, tc.want, "%v", tc.args)
		assert.Equal(t, 1, strings.Count(strings.TrimSpace(stderr), "\n")+1, "one line: %q", stderr)
		assert.Less(t, len(stderr), 300, "short: %q", stderr)
	}
}

func TestMutatingCommandWithoutTerminalOrYesIsRefused(t *testing.T) {
	c := newCLI(t, 20000)
	c.source("ledger")
	before := c.h.Calls()
	_, stderr, code := c.run("migrate", "--db", "ledger", "--kms-key", "alias/cli")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "no terminal to ask: run it on a terminal, or add --yes")
	for action, n := range c.h.Calls() {
		if n != before[action] {
			assert.False(t, mutating(action), "mutating call %s", action)
		}
	}
}

func TestUnknownDBFailsWithNextCommand(t *testing.T) {
	c := newCLI(t, 20000)
	c.source("ledger")
	_, stderr, code := c.run("migrate", "--db", "nope", "--kms-key", "alias/cli", "--yes", "--freeze", "none")
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, stderr, `DB instance "nope" not found in us-east-1`)
	assert.Contains(t, stderr, "next: ")
	assert.Equal(t, 1, strings.Count(strings.TrimSpace(stderr), "\n")+1, "one line: %q", stderr)
}

func TestPlanAndMigrateJSON(t *testing.T) {
	c := newCLI(t, 20000)
	key := c.source("ledger")

	out, _, code := c.run("plan", "--db", "ledger", "--kms-key", "alias/cli", "--output", "json")
	require.Equal(t, exitOK, code)
	var plan workflow.Plan
	require.NoError(t, json.Unmarshal([]byte(out), &plan))
	assert.Equal(t, "ledger", plan.Source)
	assert.Equal(t, key, plan.KmsKeyARN)
	assert.Positive(t, plan.EstimatedDowntime)

	out, stderr, code := c.run("migrate", "--db", "ledger", "--kms-key", "alias/cli", "--yes", "--freeze", "none", "--output", "json")
	require.Equal(t, exitOK, code, stderr)
	var rep map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	for _, field := range []string{"migration_id", "source", "status", "kms_key_arn", "steps", "api_calls", "downtime_seconds", "parity"} {
		assert.Contains(t, rep, field)
	}
	assert.Equal(t, "completed", rep["status"])
	assert.Equal(t, key, rep["kms_key_arn"])
	steps := rep["steps"].([]any)
	require.NotEmpty(t, steps)
	for _, s := range steps {
		step := s.(map[string]any)
		for _, field := range []string{"name", "status", "started_at", "finished_at", "api_calls"} {
			assert.Contains(t, step, field)
		}
	}
	assert.Equal(t, []any{}, rep["parity"].(map[string]any)["differences"])

	out, _, code = c.run("status", "--output", "json")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, `"status": "completed"`)
}

// TestKillNineThenResume builds the binary, kills it with SIGKILL in the middle of the
// encrypted copy, and resumes with a second process: the migration completes as an
// uninterrupted one would.
func TestKillNineThenResume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	c := newCLI(t, 300)
	c.source("ledger")
	bin := filepath.Join(t.TempDir(), "rdsencrypt")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())

	cmd := exec.Command(bin, c.args("migrate", "--db", "ledger", "--kms-key", "alias/cli", "--yes", "--freeze", "none")...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	store, err := workflow.OpenStore(c.state)
	require.NoError(t, err)
	id := waitForStep(t, store, workflow.StepCopy, workflow.StepRunning)
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	st, err := store.Load(id)
	require.NoError(t, err, "the journal survives a kill -9")
	assert.Equal(t, workflow.StatusRunning, st.Status, "a killed process could not write its outcome")

	resume := exec.Command(bin, c.args("resume", id, "--yes")...)
	out, err := resume.CombinedOutput()
	require.NoError(t, err, "resume: %s", out)
	st, err = store.Load(id)
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusCompleted, st.Status)
	names := workflow.NamesFor(id, "ledger")
	ids, encrypted := c.instanceIDs()
	assert.True(t, encrypted["ledger"])
	assert.ElementsMatch(t, []string{"ledger", names.Retired}, ids, "nothing orphaned by the kill")
}

// waitForStep polls the only journal in store until the named step has the given status.
func waitForStep(t *testing.T, store *workflow.Store, step, status string) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		states, _, err := store.List()
		require.NoError(t, err)
		for _, st := range states {
			for _, s := range st.Steps {
				if s.Name == step && s.Status == status {
					return st.ID
				}
			}
		}
		time.Sleep(2 * time.Millisecond) // polling a file another process writes
	}
	t.Fatalf("step %s never reached %s", step, status)
	return ""
}

// TestKillNineRightAfterEachMutatingCall kills the built binary with SIGKILL the moment the
// simulator has served each mutating call of a migration (the process had no chance to
// journal the outcome), then resumes with a new process: every run ends migrated, with
// nothing orphaned.
func TestKillNineRightAfterEachMutatingCall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "rdsencrypt")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())

	for _, tc := range []struct {
		action string
		nth    int // the nth call of the action in the migration
	}{
		{"CreateDBSnapshot", 1},
		{"CopyDBSnapshot", 1},
		{"RestoreDBInstanceFromDBSnapshot", 1},
		{"ModifyDBInstance", 1}, // the source's rename (modify finds nothing to change)
		{"ModifyDBInstance", 2}, // the new instance's rename
	} {
		t.Run(fmt.Sprintf("%s-%d", tc.action, tc.nth), func(t *testing.T) {
			c := newCLI(t, 1500)
			c.source("ledger")
			base := c.h.Calls()[tc.action]
			cmd := exec.Command(bin, c.args("migrate", "--db", "ledger", "--kms-key", "alias/cli", "--yes", "--freeze", "none")...)
			require.NoError(t, cmd.Start())
			deadline := time.Now().Add(60 * time.Second)
			for c.h.Calls()[tc.action] < base+tc.nth {
				require.True(t, time.Now().Before(deadline), "%s never called", tc.action)
				time.Sleep(200 * time.Microsecond) // watching another process's calls
			}
			require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
			_ = cmd.Wait()

			store, err := workflow.OpenStore(c.state)
			require.NoError(t, err)
			states, _, err := store.List()
			require.NoError(t, err)
			require.Len(t, states, 1)
			id := states[0].ID
			out, err := exec.Command(bin, c.args("resume", id, "--yes")...).CombinedOutput()
			require.NoError(t, err, "resume: %s", out)
			st, err := store.Load(id)
			require.NoError(t, err)
			assert.Equal(t, workflow.StatusCompleted, st.Status)
			ids, _ := c.instanceIDs()
			assert.ElementsMatch(t, []string{"ledger", workflow.NamesFor(id, "ledger").Retired}, ids, "nothing orphaned")
			snaps, err := c.aws().ListSnapshots(context.Background())
			require.NoError(t, err)
			n := workflow.NamesFor(id, "ledger")
			var snapIDs []string
			for _, s := range snaps {
				snapIDs = append(snapIDs, s.ID)
			}
			assert.ElementsMatch(t, []string{n.PreSnapshot, n.PreEncryptedSnapshot, n.Snapshot, n.EncryptedSnapshot}, snapIDs,
				"the pre-copy's and the final unencrypted and encrypted snapshots, once each")
		})
	}
}

// TestDemoWithoutATerminalRunsUnattended: the demo touches only its own simulator, so with
// no terminal it runs as with --yes and exits 0.
func TestDemoWithoutATerminalRunsUnattended(t *testing.T) {
	var out, errOut bytes.Buffer
	code := Main([]string{"demo", "--speed", "20000", "--state-dir", t.TempDir()}, Streams{In: strings.NewReader(""), Out: &out, Err: &errOut})
	require.Equal(t, exitOK, code, errOut.String())
	assert.Contains(t, errOut.String(), "runs unattended")
	assert.Contains(t, out.String(), "cleaned-up")
	// The DNS line says why the simulator's names cannot be checked, and asks nothing the
	// demo's user could act on.
	all := out.String() + errOut.String()
	assert.Contains(t, all, "a name of the demo's simulator, which no DNS serves")
	assert.NotContains(t, all, "check from the applications' network")
}

// A journal that cannot be read is shown by status (text and JSON) as corrupt with the command
// that rebuilds it, and blocks new migrations of its source, by what can still be read of it
// and by the tags in AWS; resume --source never overwrites a readable (completed) journal.
func TestCorruptJournalIsShownAndBlocksItsSource(t *testing.T) {
	c := newCLI(t, 20000)
	c.source("ledger")
	_, stderr, code := c.run("migrate", "--db", "ledger", "--kms-key", "alias/cli", "--yes", "--freeze", "none")
	require.Equal(t, 0, code, stderr)
	files, err := filepath.Glob(filepath.Join(c.state, "*.json"))
	require.NoError(t, err)
	require.Len(t, files, 1)
	path := files[0]
	id := strings.TrimSuffix(filepath.Base(path), ".json")
	completed, err := os.ReadFile(path)
	require.NoError(t, err)

	// resume --source: the completed journal stays as it was.
	_, stderr, code = c.run("resume", "--source", "ledger", "--yes")
	assert.Equal(t, exitFailed, code, stderr)
	assert.Contains(t, stderr, "already has a journal, status completed")
	now, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(completed), string(now), "the completed journal is not overwritten")

	for _, tc := range []struct {
		name    string
		corrupt []byte
		next    string
	}{
		{"edited: its source is still readable", []byte(strings.Replace(string(completed), `"completed"`, `"running"`, 1)),
			"rdsencrypt resume --source ledger --region us-east-1"},
		{"truncated: only the tags tell", completed[:10], "rdsencrypt resume --source <source identifier>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(path, tc.corrupt, 0o600))
			out, _, code := c.run("status", "--output", "json")
			assert.Equal(t, exitFailed, code)
			var reports []workflow.Report
			require.NoError(t, json.Unmarshal([]byte(out), &reports), out)
			require.Len(t, reports, 1)
			assert.Equal(t, id, reports[0].MigrationID)
			assert.Equal(t, workflow.StatusCorrupt, reports[0].Status)
			assert.Equal(t, tc.next, reports[0].Next)

			out, stderr, code := c.run("status")
			assert.Equal(t, exitFailed, code)
			assert.Contains(t, out, id)
			assert.Contains(t, out, "corrupt")
			// the printed command also carries this run's global flags (pasteable)
			assert.Contains(t, stderr, strings.TrimPrefix(tc.next, "rdsencrypt "))

			before := c.h.Calls()
			_, stderr, code = c.run("migrate", "--db", "ledger", "--kms-key", "alias/cli", "--yes", "--freeze", "none")
			assert.Equal(t, exitFailed, code)
			assert.Contains(t, stderr, id, "names the migration whose journal is corrupt")
			for action, n := range c.h.Calls() {
				if n != before[action] {
					assert.False(t, mutating(action), "mutating call %s", action)
				}
			}
		})
	}
}

// withAskFlags adds flags to args when its command is one that asks for approval (only those
// take --yes and --no-tui).
func withAskFlags(args []string, flags ...string) []string {
	if len(args) == 0 {
		return args
	}
	switch args[0] {
	case "migrate", "resume", "rollback", "cleanup", "batch", "demo":
		return append(append([]string{args[0]}, flags...), args[1:]...)
	}
	return args
}

// buildBinary builds rdsencrypt for tests that signal or kill the process.
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "rdsencrypt")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())
	return bin
}

// waitForFile polls until another process has written path, and returns its content.
func waitForFile(t *testing.T, path string) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil && strings.HasSuffix(string(b), "\n") {
			return strings.TrimSpace(string(b))
		}
		time.Sleep(2 * time.Millisecond) // polling a file another process writes
	}
	t.Fatalf("%s never written", path)
	return ""
}

// assertProcessEnds waits until the process pid is gone (or a zombie: dead, not yet reaped).
func assertProcessEnds(t *testing.T, pid string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		stat, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil {
			return
		}
		if f := strings.Fields(string(stat)); len(f) > 2 && f[2] == "Z" {
			return
		}
		time.Sleep(5 * time.Millisecond) // polling another process's state
	}
	t.Errorf("process %s of the hook's group outlived the stop", pid)
}

// A SIGTERM or SIGINT while the freeze hook runs ends the hook's whole process group (a
// child the shell started included), and the migration stops paused (exit 3) with the freeze
// step resumable; SIGTERM during a rollback also exits 3.
func TestSignalDuringFreezeHookAndRollbackStops(t *testing.T) {
	bin := buildBinary(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			c := newCLI(t, 20)
			c.source("ledger")
			dir := t.TempDir()
			child := filepath.Join(dir, "child")
			hook := "sleep 300 & echo $! > " + child + "; wait"
			cmd := exec.Command(bin, c.args("migrate", "--db", "ledger", "--kms-key", "alias/cli", "--yes", "--freeze-hook", hook)...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			require.NoError(t, cmd.Start())
			pid := waitForFile(t, child)
			require.NoError(t, cmd.Process.Signal(sig))
			err := cmd.Wait()
			var exit *exec.ExitError
			require.ErrorAs(t, err, &exit, stderr.String())
			assert.Equal(t, exitStopped, exit.ExitCode(), stderr.String())
			assertProcessEnds(t, pid)

			store, err := workflow.OpenStore(c.state)
			require.NoError(t, err)
			states, _, err := store.List()
			require.NoError(t, err)
			require.Len(t, states, 1)
			st := states[0]
			assert.Equal(t, workflow.StatusPaused, st.Status)
			for _, s := range st.Steps {
				if s.Name == workflow.StepFreeze {
					assert.NotEqual(t, workflow.StepFailed, s.Status, "the freeze step stays resumable")
				}
			}
			if sig != syscall.SIGTERM {
				return
			}
			// A rollback stopped by SIGTERM is stopped (3), not failed (1), and continues.
			rb := exec.Command(bin, c.args("rollback", st.ID, "--yes")...)
			var rbErr bytes.Buffer
			rb.Stderr = &rbErr
			require.NoError(t, rb.Start())
			waitForStatus(t, store, st.ID, workflow.StatusRollingBack)
			require.NoError(t, rb.Process.Signal(syscall.SIGTERM))
			err = rb.Wait()
			if err == nil {
				t.Skip("the rollback finished before the signal arrived")
			}
			require.ErrorAs(t, err, &exit, rbErr.String())
			assert.Equal(t, exitStopped, exit.ExitCode(), rbErr.String())
			out, err := exec.Command(bin, c.args("rollback", st.ID, "--yes")...).CombinedOutput()
			require.NoError(t, err, "%s", out)
		})
	}
}

// waitForStatus polls the journal of id until the migration has the given status.
func waitForStatus(t *testing.T, store *workflow.Store, id, status string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if st, err := store.Load(id); err == nil && st.Status == status {
			return
		}
		time.Sleep(2 * time.Millisecond) // polling a file another process writes
	}
	t.Fatalf("migration %s never reached %s", id, status)
}

// --yes on a source with IAM database authentication on is refused before any change unless
// --acknowledge-iam-auth is given: the flag reaches the engine's approver.
func TestAcknowledgeIAMAuthFlag(t *testing.T) {
	c := newCLI(t, 20000)
	fleet := `{"Regions": {"us-east-1": {
		"Keys": [{"Description": "cli test key", "Aliases": ["alias/cli"]}],
		"Instances": [{"DBInstanceIdentifier": "ledger", "DBInstanceClass": "db.t3.medium", "Engine": "postgres",
			"EngineVersion": "16.6", "MasterUsername": "postgres", "MasterUserPassword": "cli-Passw0rd-x",
			"AllocatedStorage": 20, "BackupRetentionPeriod": 7, "EnableIAMDatabaseAuthentication": true}]}}}`
	require.NoError(t, c.h.Sim.LoadFixture(strings.NewReader(fleet)))

	before := c.h.Calls()
	_, stderr, code := c.run("migrate", "--db", "ledger", "--kms-key", "alias/cli", "--yes", "--freeze", "none")
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, stderr, "ledger has IAM database authentication on and its resource id changes: an unattended run needs --acknowledge-iam-auth")
	assert.Contains(t, stderr, "--yes --acknowledge-iam-auth")
	assert.Empty(t, mutatingCalls(before, c.h.Calls()))

	_, stderr, code = c.run("migrate", "--db", "ledger", "--kms-key", "alias/cli", "--yes", "--freeze", "none", "--acknowledge-iam-auth")
	require.Equal(t, exitOK, code, stderr)
	_, encrypted := c.instanceIDs()
	assert.True(t, encrypted["ledger"])
}
