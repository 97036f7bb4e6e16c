package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/rdssim"
	"github.com/rdsencrypt/rdsencrypt/internal/rdssim/simtest"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// readmeCommands are the command lines of the README's sh blocks, comments and
// continuation-only lines removed, in order.
func readmeCommands(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	var out []string
	inSh := false
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(line, "```sh"):
			inSh = true
			continue
		case strings.HasPrefix(line, "```"):
			inSh = false
			continue
		}
		if !inSh {
			continue
		}
		if i := strings.Index(line, " #"); i >= 0 {
			line = line[:i]
		}
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out
}

// readmeNotRun are the README lines this test does not run, with the reason; any other line
// must be run, so a new example cannot go untested.
var readmeNotRun = map[string]string{
	"go test -race -shuffle=on -timeout 20m ./...":                                              "the whole suite, this test included",
	"apt-get update && apt-get install -y postgresql-15 mariadb-server mariadb-backup sysbench": "installs system packages",
	"go run ./cmd/rdssim --data-plane --example-fleet=false":                                    "needs those packages; the data-plane tests run it",
}

// TestReadmeCommandsRun runs every command of the README against the example fleet: the
// Use examples each on a fresh simulator (with the migration an id stands for made first),
// the simulator section against the standalone simulator it starts. Each must exit 0.
func TestReadmeCommandsRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binaries")
	}
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	var standalone string // address of the standalone simulator, once started
	ran := 0
	for _, line := range readmeCommands(t) {
		if why, ok := readmeNotRun[line]; ok {
			t.Logf("not run: %s (%s)", line, why)
			continue
		}
		ran++
		fields := strings.Fields(line)
		switch {
		case line == "go run ./cmd/rdsencrypt demo":
			_, stderr, code := runAt(false, "", "demo", "--speed", "20000")
			assert.Equal(t, exitOK, code, "%s: %s", line, stderr)
		case line == "go install ./cmd/rdsencrypt":
			out, err := exec.Command("go", "build", "-o", filepath.Join(t.TempDir(), "rdsencrypt"), ".").CombinedOutput()
			assert.NoError(t, err, "%s: %s", line, out)
		case strings.HasPrefix(line, "go run ./cmd/rdssim "):
			standalone = startStandalone(t, fields[3:])
		case fields[0] == "export":
			for _, kv := range fields[1:] {
				k, v, _ := strings.Cut(kv, "=")
				t.Setenv(k, v)
			}
		case fields[0] == "aws":
			if _, err := exec.LookPath("aws"); err != nil {
				t.Logf("not run: %s (no AWS CLI here)", line)
				continue
			}
			require.NotEmpty(t, standalone, "the simulator runs before %s", line)
			cmd := exec.Command("aws", strings.Fields(strings.ReplaceAll(strings.Join(fields[1:], " "), "127.0.0.1:4566", standalone))...)
			for _, kv := range os.Environ() {
				if !strings.HasSuffix(kv, "=") { // the AWS CLI reads an empty AWS_PROFILE as a profile name
					cmd.Env = append(cmd.Env, kv)
				}
			}
			out, err := cmd.CombinedOutput()
			assert.NoError(t, err, "%s: %s", line, out)
		case fields[0] == "rdsencrypt" && strings.Contains(line, "127.0.0.1:4566"):
			require.NotEmpty(t, standalone, "the simulator runs before %s", line)
			t.Setenv("AWS_ACCESS_KEY_ID", os.Getenv("AWS_ACCESS_KEY_ID")) // set by the README's export
			args := strings.Fields(strings.ReplaceAll(strings.Join(fields[1:], " "), "127.0.0.1:4566", standalone))
			_, stderr, code := runAt(false, "", append(args, "--state-dir", t.TempDir())...)
			assert.Equal(t, exitOK, code, "%s: %s", line, stderr)
		case fields[0] == "rdsencrypt":
			runReadmeUse(t, line, fields[1:])
		default:
			t.Errorf("README line %q: the README test does not know how to run it", line)
		}
	}
	assert.GreaterOrEqual(t, ran, 20)
}

var migrationIDPlaceholder = regexp.MustCompile(`\b0a1b2c3d\b`)

// runReadmeUse runs one example of the Use section on a fresh simulator with the example
// fleet, as an operator on a terminal who approves every step; an example about an existing
// migration gets one first.
func runReadmeUse(t *testing.T, line string, args []string) {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDREADME")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "readme-secret")
	h := simtest.Start(t, rdssim.Options{Speed: 50000})
	require.NoError(t, h.Sim.LoadFixture(bytes.NewReader(rdssim.ExampleFleet)))
	state := t.TempDir()
	global := []string{"--endpoint-url", h.URL, "--region", "us-east-1", "--state-dir", state, "--poll-interval", "2ms"}
	migrate := append(append([]string{}, global...), "migrate", "--no-tui", "--db", "billing-pg", "--kms-key", "alias/rdsencrypt")

	var redirect string
	if i := slicesIndex(args, ">"); i >= 0 {
		redirect, args = args[i+1], args[:i]
	}
	switch {
	case args[0] == "cleanup":
		_, stderr, code := runAt(false, "", append(migrate, "--yes", "--freeze", "none")...)
		require.Equal(t, exitOK, code, stderr)
	case args[0] == "resume" || args[0] == "rollback":
		// approve the freeze, the snapshot and the encrypted copy, then quit: the tags of the
		// encrypted copy let --source rebuild a lost journal
		_, stderr, code := runAt(true, "y\ny\ny\nq\n", migrate...)
		require.Equal(t, exitStopped, code, stderr)
		if slicesIndex(args, "--source") >= 0 { // the journal is lost
			journals, _ := filepath.Glob(filepath.Join(state, "*.json"))
			require.Len(t, journals, 1)
			require.NoError(t, os.Remove(journals[0]))
		}
	}
	if migrationIDPlaceholder.MatchString(line) {
		store, err := workflow.OpenStore(state)
		require.NoError(t, err)
		states, _, err := store.List()
		require.NoError(t, err)
		require.Len(t, states, 1)
		for i := range args {
			args[i] = migrationIDPlaceholder.ReplaceAllString(args[i], states[0].ID)
		}
	}
	switch args[0] {
	case "migrate", "resume", "rollback", "cleanup":
		args = append([]string{args[0], "--no-tui"}, args[1:]...) // line prompts on the test's terminal
	}
	out, stderr, code := runAt(true, strings.Repeat("y\n", 200), append(global, args...)...)
	assert.Equal(t, exitOK, code, "%s: %s", line, stderr)
	if redirect != "" {
		assert.NotEmpty(t, out, "%s writes what it redirects", line)
	}
}

func slicesIndex(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// startStandalone builds cmd/rdssim, starts it with args on a free port, and returns its
// address; it stops with the test.
func startStandalone(t *testing.T, args []string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "rdssim")
	out, err := exec.Command("go", "build", "-o", bin, "../rdssim").CombinedOutput()
	require.NoError(t, err, "%s", out)
	for i, a := range args {
		if a == "--addr" && i+1 < len(args) {
			args[i+1] = "127.0.0.1:0"
		}
	}
	cmd := exec.Command(bin, args...)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := regexp.MustCompile(`addr=(127\.0\.0\.1:\d+)`)
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if m := addr.FindStringSubmatch(sc.Text()); m != nil {
			go func() { // keep draining so that the simulator never blocks on its log
				for sc.Scan() {
				}
			}()
			return m[1]
		}
	}
	t.Fatalf("rdssim %v never said where it listens", args)
	return ""
}
