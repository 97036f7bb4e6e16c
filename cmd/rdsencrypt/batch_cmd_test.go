package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/rdssim"
	"github.com/rdsencrypt/rdsencrypt/internal/rdssim/simtest"
)

// fleetCLI is the command line pointed at a simulator with a few unencrypted instances.
type fleetCLI struct {
	t     *testing.T
	h     *simtest.Harness
	state string
}

func newFleetCLI(t *testing.T, instances int) *fleetCLI {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDSIMULATOR")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "simulator-secret")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	h := simtest.Start(t, rdssim.Options{Speed: 100000})
	var insts []string
	for i := range instances {
		insts = append(insts, fmt.Sprintf(`{"DBInstanceIdentifier": "app-%d", "DBInstanceClass": "db.t3.medium", "Engine": "postgres",
			"EngineVersion": "16.6", "MasterUsername": "postgres", "MasterUserPassword": "never-logged-s3cret",
			"AllocatedStorage": 20, "BackupRetentionPeriod": 7}`, i))
	}
	fleet := `{"Regions": {"us-east-1": {"Keys": [{"Description": "fleet key", "Aliases": ["alias/fleet"]}],
		"Instances": [` + strings.Join(insts, ",") + `]}}}`
	require.NoError(t, h.Sim.LoadFixture(strings.NewReader(fleet)))
	return &fleetCLI{t: t, h: h, state: t.TempDir()}
}

// run runs rdsencrypt with args against the simulator and returns the exit code and outputs.
func (c *fleetCLI) run(terminal bool, stdin string, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	all := append([]string{"--endpoint-url", c.h.URL, "--state-dir", c.state, "--poll-interval", "2ms"}, withAskFlags(args, "--no-tui")...)
	code := Main(all, Streams{In: strings.NewReader(stdin), Out: &out, Err: &errOut, Terminal: terminal})
	return code, out.String(), errOut.String()
}

func mutatingCalls(before, after map[string]int) []string {
	var out []string
	for action, n := range after {
		if n != before[action] && mutating(action) {
			out = append(out, action)
		}
	}
	return out
}

func TestBatchCommandRefusesWithoutYesOrTerminal(t *testing.T) {
	c := newFleetCLI(t, 2)
	before := c.h.Calls()
	code, out, errOut := c.run(false, "", "batch", "--region", "us-east-1", "--kms-key", "alias/fleet")
	assert.Equal(t, exitCode(errNeedsApproval), code, "refused like every mutating command")
	assert.Empty(t, out)
	assert.Contains(t, errOut, "Batch plan: 2 to migrate in us-east-1, cutover auto")
	assert.Contains(t, errOut, "add --yes")
	assert.Empty(t, mutatingCalls(before, c.h.Calls()))

	code, _, errOut = c.run(true, "no\n", "batch", "--region", "us-east-1", "--kms-key", "alias/fleet")
	assert.Equal(t, exitStopped, code, "declined at the one confirmation")
	assert.Contains(t, errOut, "Migrate these 2 databases (cutover auto)?")
	assert.Empty(t, mutatingCalls(before, c.h.Calls()))
}

func TestBatchCommandDryRun(t *testing.T) {
	c := newFleetCLI(t, 2)
	before := c.h.Calls()
	code, out, _ := c.run(false, "", "batch", "--region", "us-east-1", "--kms-key", "alias/fleet", "--exclude", "app-1", "--dry-run")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, "Batch plan: 1 to migrate")
	assert.Contains(t, out, "app-0")
	assert.NotContains(t, out, "app-1")
	assert.Contains(t, out, "1 left out by --include/--exclude")
	assert.Empty(t, mutatingCalls(before, c.h.Calls()))

	code, out, _ = c.run(false, "", "batch", "--kms-key", "alias/fleet", "--region", "us-east-1", "--dry-run", "-o", "json")
	assert.Equal(t, exitOK, code)
	var plan struct {
		Items []struct{ Source, Skip string }
	}
	require.NoError(t, json.Unmarshal([]byte(out), &plan), out)
	assert.Len(t, plan.Items, 2)
}

func TestBatchCommandRunsUnattended(t *testing.T) {
	c := newFleetCLI(t, 3)
	report := filepath.Join(t.TempDir(), "batch-report.markdown")
	code, out, errOut := c.run(false, "", "batch", "--region", "us-east-1", "--kms-key", "alias/fleet", "--yes", "--freeze", "enforce",
		"--concurrency", "3", "--report", report, "-o", "json")
	require.Equal(t, exitOK, code, errOut)
	var rep struct {
		Migrations []map[string]any `json:"migrations"`
		Summary    map[string]any   `json:"summary"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	require.Len(t, rep.Migrations, 3)
	assert.EqualValues(t, 3, rep.Summary["completed"])
	assert.EqualValues(t, 0, rep.Summary["failed"])
	assert.EqualValues(t, 0, rep.Summary["skipped"])
	for _, m := range rep.Migrations {
		assert.Equal(t, "completed", m["outcome"])
		assert.Equal(t, "completed", m["status"])
		assert.NotEmpty(t, m["migration_id"])
		assert.NotEmpty(t, m["steps"])
		assert.Positive(t, m["api_calls"])
		assert.Positive(t, m["downtime_seconds"])
	}
	assert.Contains(t, errOut, "us-east-1 instance app-0", "plain progress lines without a terminal")
	assert.Contains(t, errOut, "completed (")
	md, err := os.ReadFile(report)
	require.NoError(t, err)
	assert.Contains(t, string(md), "# rdsencrypt batch report")
	assert.Contains(t, string(md), "| 3 | 0 | 0 | 0 | 0 |")

	code, out, _ = c.run(false, "", "status")
	assert.Equal(t, exitOK, code)
	assert.Equal(t, 3, strings.Count(out, "completed"), "each migration has its own journal")
}

func TestBatchCommandUsageErrors(t *testing.T) {
	c := newFleetCLI(t, 0)
	for _, args := range [][]string{
		{"batch", "--region", "us-east-1"},
		{"batch", "--region", "us-east-1", "--kms-key", "alias/fleet", "--include", "env=prod"},
		{"batch", "--region", "us-east-1", "--kms-key", "alias/fleet", "--exclude", "db/*"},
		{"batch", "--region", "us-east-1", "--kms-key", "alias/fleet", "--cutover", "later"},
		{"batch", "--region", "us-east-1", "--kms-key", "alias/fleet", "--concurrency", "0"},
		{"batch", "--region", "us-east-1", "--kms-key", "eu-west-1=alias/x"},
		{"batch", "--region", "Virginia", "--kms-key", "alias/fleet"},
		{"scan", "--region", "us-east-1", "--output", "yaml"},
	} {
		code, _, errOut := c.run(false, "", args...)
		assert.Equal(t, exitUsage, code, "%v: %s", args, errOut)
	}
}

func TestScanCommand(t *testing.T) {
	c := newFleetCLI(t, 0)
	require.NoError(t, c.h.Sim.LoadFixture(bytes.NewReader(rdssim.ExampleFleet)))
	code, out, errOut := c.run(false, "", "scan", "--region", "us-east-1,us-west-2", "--kms-key", "alias/rdsencrypt")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "REGION")
	assert.Regexp(t, `us-east-1\s+cluster\s+shop-aurora\s+aurora-mysql`, out)
	assert.Contains(t, out, "fix: rdsencrypt migrate --region us-east-1 --db billing-pg --kms-key alias/rdsencrypt")
	assert.Contains(t, out, "fix: rdsencrypt migrate --region us-east-1 --cluster shop-aurora --kms-key alias/rdsencrypt")
	assert.Contains(t, out, "CRITICAL")
	assert.Contains(t, out, "Encrypt them all: rdsencrypt batch --region us-east-1 --region us-west-2 --kms-key KEY --dry-run")

	code, out, _ = c.run(false, "", "scan", "--region", "us-east-1", "-o", "json")
	require.Equal(t, exitOK, code)
	var rep struct {
		Resources []struct {
			ID       string `json:"id"`
			Findings []struct {
				Check, Severity, Fix string
			} `json:"findings"`
		} `json:"resources"`
		Summary struct{ Unencrypted int } `json:"summary"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	assert.Positive(t, rep.Summary.Unencrypted)
	assert.NotEmpty(t, rep.Resources)
}
