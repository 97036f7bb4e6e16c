package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/rdssim"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// runAt runs rdsencrypt with exactly args (no flags added), on a terminal or not, with stdin.
func runAt(terminal bool, stdin string, args ...string) (string, string, int) {
	var out, errOut bytes.Buffer
	code := Main(args, Streams{In: strings.NewReader(stdin), Out: &out, Err: &errOut, Terminal: terminal})
	return out.String(), errOut.String(), code
}

var nextCommand = regexp.MustCompile(`rdsencrypt (--[a-z-]+ \S+ )*resume [0-9a-f]{8}`)

// pausedMigration starts a migration on a line-prompt terminal, approves its first steps and
// quits at the encrypted copy: a paused migration with side effects. It returns the id and
// the resume command the tool printed.
func pausedMigration(t *testing.T, c *cli) (string, string) {
	t.Helper()
	_, stderr, code := runAt(true, "y\ny\nq\n", c.args("migrate", "--no-tui", "--db", "ledger", "--kms-key", "alias/cli")...)
	require.Equal(t, exitStopped, code, stderr)
	printed := nextCommand.FindString(stderr)
	require.NotEmpty(t, printed, "a resume command in %q", stderr)
	id := printed[len(printed)-8:]
	return id, printed
}

// Item 1: the journal records where the migration runs, and the printed resume command runs
// as printed: without it the resume went to the default endpoint (real AWS) and region.
func TestPrintedResumeRunsAsPrintedAgainstTheJournalsEndpoint(t *testing.T) {
	c := newCLI(t, 20000)
	c.source("ledger", "ledger2")
	id, printed := pausedMigration(t, c)
	assert.Contains(t, printed, "--endpoint-url "+c.h.URL, "the printed command keeps the endpoint")
	assert.Contains(t, printed, "--state-dir "+c.state)

	st, err := workflow.OpenStore(c.state)
	require.NoError(t, err)
	j, err := st.Load(id)
	require.NoError(t, err)
	assert.Equal(t, workflow.Where{EndpointURL: c.h.URL}, j.Where)
	raw, err := os.ReadFile(st.JournalPath(id))
	require.NoError(t, err)
	assert.NotContains(t, string(raw), "cli-test-secret", "never credentials")

	// Only the state directory: the region and endpoint come from the journal.
	out, stderr, code := runAt(false, "", "--state-dir", c.state, "--poll-interval", "2ms", "resume", id, "--yes")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, out, "completed")

	// The printed command itself, pasted.
	_, stderr, code = runAt(true, "y\ny\nq\n", c.args("migrate", "--no-tui", "--db", "ledger2", "--kms-key", "alias/cli")...)
	require.Equal(t, exitStopped, code)
	args := strings.Fields(nextCommand.FindString(stderr))[1:]
	out, stderr, code = runAt(false, "", append(args, "--yes", "--poll-interval", "2ms")...)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, out, "completed")
}

// Item 3: q at the first approval, before any change, leaves nothing and exits 0; a new
// migration of the same database is not blocked.
func TestQuitBeforeFirstChangeLeavesNothing(t *testing.T) {
	c := newCLI(t, 20000)
	c.source("ledger")
	before := c.h.Calls()
	out, stderr, code := runAt(true, "q\n", c.args("migrate", "--no-tui", "--db", "ledger", "--kms-key", "alias/cli")...)
	assert.Equal(t, exitOK, code, stderr)
	assert.Contains(t, out, "not started")
	assert.Empty(t, mutatingCalls(before, c.h.Calls()))
	journals, _ := filepath.Glob(filepath.Join(c.state, "*.json"))
	assert.Empty(t, journals, "no journal kept")
	out, _, code = c.run("status")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, "no migrations")

	_, stderr, code = c.run("migrate", "--yes", "--freeze", "none", "--db", "ledger", "--kms-key", "alias/cli")
	assert.Equal(t, exitOK, code, stderr)
}

// Item 9: a journal that says running while no process holds the lock is interrupted.
func TestStatusSaysInterruptedWhenTheProcessIsGone(t *testing.T) {
	c := newCLI(t, 20000)
	c.source("ledger")
	id, _ := pausedMigration(t, c)
	store, err := workflow.OpenStore(c.state)
	require.NoError(t, err)
	st, err := store.Load(id)
	require.NoError(t, err)
	st.Status = workflow.StatusRunning // as a process killed with -9 leaves it
	require.NoError(t, store.Save(st))

	out, _, code := c.run("status")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "interrupted")
	assert.Contains(t, out, "continue with rdsencrypt --state-dir "+c.state)
	assert.Contains(t, out, "resume "+id)
	out, _, _ = c.run("status", id, "-o", "json")
	assert.Contains(t, out, `"status": "interrupted"`)

	// while a process holds the lock it is running
	release, err := store.Lock(id)
	require.NoError(t, err)
	defer func() { _ = release() }()
	out, _, _ = c.run("status")
	assert.NotContains(t, out, "interrupted")
	assert.Contains(t, out, "running")
}

// Item 16 and 18: usage errors exit 2 in one line; "no terminal" does not hide a missing
// journal; resume without an id never picks one.
func TestUsageErrorsAndOrder(t *testing.T) {
	c := newCLI(t, 20000)
	c.source("ledger")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"plan", "--db", "a", "--cluster", "b", "--kms-key", "k"}, "[cluster db] were all set"},
		{[]string{"rollback"}, "needs a migration id"},
		{[]string{"cleanup"}, "needs a migration id"},
		{[]string{"rollback", "0a1b2c3d", "0a1b2c3e"}, "takes one migration id"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"status", "--yes"}, "unknown flag: --yes"},
		{[]string{"scan", "-o", "yaml"}, "--output must be text or json"},
	} {
		_, stderr, code := c.run(tc.args...)
		assert.Equal(t, exitUsage, code, "%v: %s", tc.args, stderr)
		assert.Contains(t, stderr, tc.want, "%v", tc.args)
		assert.Equal(t, 1, strings.Count(strings.TrimSpace(stderr), "\n")+1, "one line: %q", stderr)
	}
	// no journal: that is the error, not the missing terminal
	_, stderr, code := c.run("rollback", "0a1b2c3d")
	assert.Equal(t, exitFailed, code, stderr)
	assert.NotContains(t, stderr, "no terminal")

	id, _ := pausedMigration(t, c)
	before := c.h.Calls()
	_, stderr, code = c.run("resume", "--yes")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "needs a migration id: one of "+id)
	assert.Empty(t, mutatingCalls(before, c.h.Calls()), "it ran nothing")

	// a rolled-back migration says so without a terminal
	_, stderr, code = c.run("rollback", id, "--yes")
	require.Equal(t, exitOK, code, stderr)
	_, stderr, code = c.run("rollback", id)
	assert.Equal(t, exitOK, code, stderr)
	assert.NotContains(t, stderr, "no terminal")
}

// Item 18: --version, Examples on every command, --yes and --no-tui only where asking
// happens, one name for text output.
func TestCommandLineHabits(t *testing.T) {
	out, _, code := runAt(false, "", "--version")
	assert.Equal(t, exitOK, code)
	assert.Regexp(t, `^rdsencrypt \S+`, out)

	a := &app{}
	root := a.rootCommand()
	asks := map[string]bool{"migrate": true, "resume": true, "rollback": true, "cleanup": true, "batch": true, "demo": true}
	for _, cmd := range root.Commands() {
		assert.NotEmpty(t, cmd.Example, "rdsencrypt %s --help has examples", cmd.Name())
		for _, flag := range []string{"yes", "no-tui"} {
			assert.Equal(t, asks[cmd.Name()], cmd.Flags().Lookup(flag) != nil, "%s --%s", cmd.Name(), flag)
		}
	}
	c := newCLI(t, 20000)
	c.source("ledger")
	out, stderr, code := c.run("scan", "-o", "text")
	assert.Equal(t, exitOK, code, stderr)
	assert.Contains(t, out, "ledger")
}

// Item 19: shell completion of migration ids, identifiers and fixed values.
func TestShellCompletion(t *testing.T) {
	c := newCLI(t, 20000)
	c.source("ledger")
	id, _ := pausedMigration(t, c)

	out, _, code := c.run("__complete", "resume", "")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, id+"\tinstance ledger (paused)")
	out, _, _ = c.run("__complete", "cleanup", "")
	assert.NotContains(t, out, id, "a paused migration cannot be cleaned up")
	out, _, _ = c.run("__complete", "migrate", "--replicas", "")
	assert.Contains(t, out, "after-cutover\nbefore-cutover\n")
	out, _, _ = c.run("__complete", "batch", "--cutover", "")
	assert.Contains(t, out, "auto\nmanual\n")
	out, _, _ = c.run("__complete", "plan", "--output", "")
	assert.Contains(t, out, "text\njson\n")
	out, _, _ = c.run("__complete", "plan", "--db", "")
	assert.Contains(t, out, "ledger\tpostgres")
	// without --region and --endpoint-url: the latest journal's
	out, _, _ = runAt(false, "", "--state-dir", c.state, "__complete", "migrate", "--db", "")
	assert.Contains(t, out, "ledger\tpostgres")
}

// Item 20 and the demo part of item 1: the demo removes its temporary state directory, and
// a stopped demo prints no resume command that cannot work once its simulator is gone.
func TestDemoLeavesNothingAndPrintsNoDeadCommand(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	_, stderr, code := runAt(false, "", "demo", "--speed", "20000")
	require.Equal(t, exitOK, code, stderr)
	left, _ := filepath.Glob(filepath.Join(tmp, "rdsencrypt-demo-*"))
	assert.Empty(t, left)

	out, stderr, code := runAt(true, "y\ny\nq\n", "demo", "--no-tui", "--speed", "20000")
	require.Equal(t, exitStopped, code, stderr)
	assert.NotRegexp(t, `rdsencrypt (--\S+ \S+ )*(resume|rollback) [0-9a-f]{8}`, out+stderr)
	assert.Contains(t, stderr, "run the demo again")
	left, _ = filepath.Glob(filepath.Join(tmp, "rdsencrypt-demo-*"))
	assert.Empty(t, left)
}

// Item 8: a batch in which databases could not be planned fails, naming each reason; so
// does its dry run. Before, it exited 0 with "nothing to migrate, skipped: 2".
func TestBatchPlanFailuresAreFailures(t *testing.T) {
	c := newFleetCLI(t, 2)
	before := c.h.Calls()
	code, out, errOut := c.run(false, "", "batch", "--region", "us-east-1", "--kms-key", "alias/nope", "--yes", "--freeze", "none")
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, out, "0 completed, 2 failed")
	assert.Contains(t, errOut, "2 of 2 migrations failed (us-east-1/app-0, us-east-1/app-1)")
	assert.Empty(t, mutatingCalls(before, c.h.Calls()))

	code, out, errOut = c.run(false, "", "batch", "--region", "us-east-1", "--kms-key", "alias/nope", "--dry-run")
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, out, "cannot be planned")
	assert.Contains(t, errOut, "2 of 2 databases could not be planned: us-east-1/app-0: cannot be planned: ")
	assert.Contains(t, errOut, "alias/nope")
}

// Item 17: batch takes --kms-key as migrate does (KEY,REGION=KEY), and a key for a region
// where it serves nothing is warned about, by batch and by plan.
func TestKmsKeySyntaxIsOneAndUnusedKeysAreWarned(t *testing.T) {
	c := newFleetCLI(t, 1)
	code, out, errOut := c.run(false, "", "batch", "--region", "us-east-1", "--kms-key", "alias/fleet,eu-west-1=alias/nope", "--dry-run")
	assert.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "1 to migrate")
	assert.Contains(t, errOut, "warning: --kms-key gives alias/nope for eu-west-1, where this batch neither migrates a database nor recreates a read replica")

	code, out, errOut = c.run(false, "", "--region", "us-east-1", "plan", "--db", "app-0", "--kms-key", "alias/fleet,eu-west-1=alias/nope")
	assert.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "--kms-key gives alias/nope for eu-west-1, but app-0 has no read replica there: that key is not used")
}

// Item 7: a scan that cannot read a region prints no inventory (a script reading stdout would
// take it for a clean fleet); a key it cannot describe is a finding about its database.
func TestScanThatCannotReadPrintsNoInventory(t *testing.T) {
	c := newCLI(t, 20000)
	c.source("ledger")
	out, stderr, code := runAt(false, "", "--endpoint-url", c.h.URL, "--state-dir", c.state, "--poll-interval", "2ms",
		"scan", "--region", "us-east-1")
	require.Equal(t, exitOK, code, "the simulator serves every region: %s", stderr)
	assert.Contains(t, out, "ledger")

	// us-east-1 cannot be listed (no permission): nothing is reported, not a clean fleet
	c.h.Faults(rdssim.FaultRequest{FailCalls: []rdssim.CallFailure{{Action: "DescribeDBInstances", Nth: 1, Code: "AccessDenied", Status: 403}}})
	out, stderr, code = c.run("scan")
	assert.Equal(t, exitFailed, code)
	assert.Empty(t, out, "no inventory")
	assert.Contains(t, stderr, "scan could not read us-east-1, so it reports nothing")

	// nothing answers at the endpoint
	out, stderr, code = runAt(false, "", "--endpoint-url", "http://127.0.0.1:1", "--region", "us-east-1", "scan")
	assert.Equal(t, exitFailed, code)
	assert.Empty(t, out, "no inventory")
	assert.Contains(t, stderr, "nothing answers at --endpoint-url")
}

func TestScanKeyThatCannotBeDescribedIsAFinding(t *testing.T) {
	c := newCLI(t, 20000)
	c.source("ledger")
	_, stderr, code := c.run("migrate", "--yes", "--freeze", "none", "--db", "ledger", "--kms-key", "alias/cli")
	require.Equal(t, exitOK, code, stderr)
	key, err := c.aws().DescribeKey(t.Context(), "alias/cli")
	require.NoError(t, err)
	// the key cannot be described (deleted)
	c.h.Faults(rdssim.FaultRequest{FailCalls: []rdssim.CallFailure{{Action: "DescribeKey", Nth: 1, Code: "NotFoundException", Status: 400}}})
	out, stderr, code := c.run("scan")
	assert.Equal(t, exitOK, code, stderr)
	assert.Contains(t, out, "kms-key-readable")
	assert.Contains(t, out, "the KMS key "+key.ARN+" of DB instance ledger cannot be described")
}

// Item 10: an endpoint nothing answers at, an endpoint URL without a scheme and missing
// credentials each get one line naming the cause and the fix, at once (before: ten retries,
// 18 s, then blamed on credentials or region; the raw IMDS error and an SDK WARN line).
func TestConnectionAndCredentialFaultsAreNamed(t *testing.T) {
	c := newCLI(t, 20000)
	_, stderr, code := runAt(false, "", "--endpoint-url", "http://127.0.0.1:1", "--region", "us-east-1", "--state-dir", c.state,
		"plan", "--db", "x", "--kms-key", "k")
	assert.Equal(t, exitFailed, code)
	assert.Equal(t, "rdsencrypt: nothing answers at --endpoint-url http://127.0.0.1:1 (connection refused): start the simulator there (go run ./cmd/rdssim --addr 127.0.0.1:1) or correct the URL\n", stderr)

	_, stderr, code = runAt(false, "", "--endpoint-url", strings.TrimPrefix(c.h.URL, "http://"), "--region", "us-east-1", "scan")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "is not a URL with a scheme: write it as http://HOST:PORT")

	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	_, stderr, code = c.run("scan")
	assert.Equal(t, exitFailed, code)
	assert.Equal(t, 1, strings.Count(stderr, "\n"), "one line, no SDK WARN: %q", stderr)
	assert.Contains(t, stderr, "rdsencrypt: no AWS credentials found")
	assert.Contains(t, stderr, "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to, say, test")
}

// Item 14: one approval covers the cutover: the source is retired and the target promoted
// without a second question while the endpoint is dark; the audit trail says why.
func TestOneApprovalForTheCutover(t *testing.T) {
	c := newCLI(t, 20000)
	c.source("ledger")
	out, stderr, code := runAt(true, strings.Repeat("y\n", 30), c.args("migrate", "--no-tui", "--db", "ledger", "--kms-key", "alias/cli")...)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, out, "completed")
	assert.Equal(t, 1, strings.Count(stderr, "Approve step cutover-retire-source?"))
	assert.NotContains(t, stderr, "Approve step cutover-promote-target?")
	assert.Contains(t, stderr, "This one approval runs the whole cutover")
	store, err := workflow.OpenStore(c.state)
	require.NoError(t, err)
	states, _, err := store.List()
	require.NoError(t, err)
	recs, err := store.ReadAudit(states[0].ID)
	require.NoError(t, err)
	var covered bool
	for _, r := range recs {
		covered = covered || (r.Step == "cutover-promote-target" && strings.Contains(r.Message, "covered by the approval of cutover-retire-source"))
	}
	assert.True(t, covered, "the audit trail records the covered approval")
}
