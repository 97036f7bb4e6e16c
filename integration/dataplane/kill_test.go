package dataplane_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/jackc/pgx/v5"

	"github.com/rdsencrypt/rdsencrypt/internal/dataplane"
	"github.com/rdsencrypt/rdsencrypt/internal/rdssim"
	"github.com/rdsencrypt/rdsencrypt/internal/replication"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// tool is the rdsencrypt binary, built for the test, pointed at the in-process simulator.
type tool struct {
	t     *testing.T
	ctx   context.Context
	bin   string
	url   string
	state string
	store *workflow.Store
	sim   *rdssim.Sim
}

// built is the binary, built once for the tests of a run (TestMain removes its directory):
// each build costs a link, 13-35 s on a loaded 2-core machine.
var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

func buildTool(t *testing.T, e *toolEnv) *tool {
	t.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "rdsencrypt-dataplane-"); built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "rdsencrypt")
		if out, err := exec.Command("go", "build", "-o", built.bin, "github.com/rdsencrypt/rdsencrypt/cmd/rdsencrypt").CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	bin := built.bin
	state := t.TempDir()
	ca, err := dataplane.CA()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(state, "ca.pem"), ca, 0o600); err != nil {
		t.Fatal(err)
	}
	store, err := workflow.OpenStore(state)
	if err != nil {
		t.Fatal(err)
	}
	return &tool{t: t, ctx: e.ctx, bin: bin, url: e.h.URL, state: state, store: store, sim: e.h.Sim}
}

// command is the binary with args, as an operator runs it: the master password from the
// environment, TLS verified against the data plane's CA, output to files.
func (tl *tool) command(name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(tl.ctx, tl.bin, append([]string{"--endpoint-url", tl.url, "--region", region, "--state-dir", tl.state,
		"--poll-interval", "20ms", "--db-tls", "require", "--db-ca-bundle", filepath.Join(tl.state, "ca.pem"), "--output", "json"}, args...)...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDEXAMPLEDATA", "AWS_SECRET_ACCESS_KEY=data-plane-secret",
		"AWS_PROFILE=", "AWS_CONFIG_FILE="+filepath.Join(tl.state, "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(tl.state, "none"),
		workflow.EnvDBPassword+"="+password)
	for i, f := range []*io.Writer{&cmd.Stdout, &cmd.Stderr} {
		fh, err := os.Create(filepath.Join(tl.state, name+[]string{".out", ".err"}[i]))
		if err != nil {
			tl.t.Fatal(err)
		}
		tl.t.Cleanup(func() { fh.Close() })
		*f = fh
	}
	return cmd
}

// run runs the binary to its end and returns its exit code.
func (tl *tool) run(name string, args ...string) int {
	tl.t.Helper()
	cmd := tl.command(name, args...)
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	if err != nil {
		tl.t.Fatal(err)
	}
	return 0
}

// output is what run name printed: its standard output, then its standard error.
func (tl *tool) output(name string) string {
	out, _ := os.ReadFile(filepath.Join(tl.state, name+".out"))
	errOut, _ := os.ReadFile(filepath.Join(tl.state, name+".err"))
	return string(out) + string(errOut)
}

// scanned is the part of `rdsencrypt scan --output json` about rdsencrypt's objects.
type scanned struct {
	Resources []struct {
		ID          string `json:"id"`
		Replication *struct {
			Checked    bool   `json:"checked"`
			NotChecked string `json:"not_checked"`
			Objects    []struct {
				Object, Migration, Fix string
			} `json:"objects"`
		} `json:"replication_objects"`
	} `json:"resources"`
}

// scan runs `rdsencrypt scan` (env overrides the command's environment) and returns its
// JSON report and its table.
func (tl *tool) scan(name string, env ...string) (scanned, string) {
	tl.t.Helper()
	var rep scanned
	for _, format := range []string{"json", "text"} {
		cmd := tl.command(name+"-"+format, "scan", "--output", format)
		cmd.Env = append(cmd.Env, env...)
		if err := cmd.Run(); err != nil {
			tl.t.Fatalf("scan: %v\n%s", err, tl.output(name+"-"+format))
		}
	}
	b, err := os.ReadFile(filepath.Join(tl.state, name+"-json.out"))
	if err != nil {
		tl.t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		tl.t.Fatalf("scan's JSON: %v\n%s", err, b)
	}
	return rep, tl.output(name + "-text")
}

// leftoversOn lists what scan reported on instance id: the objects, each "object -> fix",
// or "not checked: why".
func (s scanned) leftoversOn(id string) []string {
	var out []string
	for _, r := range s.Resources {
		if r.ID != id || r.Replication == nil {
			continue
		}
		if !r.Replication.Checked {
			return []string{"not checked: " + r.Replication.NotChecked}
		}
		for _, o := range r.Replication.Objects {
			out = append(out, o.Object+" -> "+o.Fix)
		}
	}
	return out
}

// journal is the migration's journal as the running process last wrote it, nil before it
// writes one.
func (tl *tool) journal() *workflow.State {
	states, _, err := tl.store.List()
	if err != nil || len(states) == 0 {
		return nil
	}
	return states[0]
}

func stepStatus(st *workflow.State, step string) string {
	if st == nil {
		return ""
	}
	for _, s := range st.Steps {
		if s.Name == step {
			return s.Status
		}
	}
	return ""
}

// killWhen starts the binary and sends it SIGKILL the moment its journal satisfies at (polled
// as the process writes it: no sleep decides the instant). on, when set, runs at each poll
// its condition holds, while the process runs. It fails the test when the process ends
// first, and returns the journal as the killed process left it.
func (tl *tool) killWhen(name string, at func(*workflow.State) bool, onWhen func(*workflow.State) bool, on func(), args ...string) *workflow.State {
	tl.t.Helper()
	cmd := tl.command(name, args...)
	if err := cmd.Start(); err != nil {
		tl.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tl.t.Cleanup(func() { _ = cmd.Process.Kill() })
	deadline := time.Now().Add(5 * time.Minute)
	for {
		select {
		case err := <-done:
			tl.t.Fatalf("%s ended (%v) before the kill point:\n%s", name, err, tl.output(name))
		default:
		}
		st := tl.journal()
		if on != nil && onWhen(st) {
			on()
		}
		if at(st) {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				tl.t.Fatal(err)
			}
			<-done
			return tl.journal()
		}
		if time.Now().After(deadline) {
			tl.t.Fatalf("%s: the kill point did not come within 5 minutes:\n%s", name, tl.output(name))
		}
		time.Sleep(time.Millisecond) // polling a file another process writes
	}
}

// killAtCall starts the binary and sends it SIGKILL at its first call of action made while its
// journal satisfies at: the simulator serves that call and holds its answer (rdssim
// HoldCalls), so the process, which makes its calls one at a time, is killed right after the
// call, before it knows the outcome, with the journal read while it waits. Unlike killWhen's
// poll, which a loaded machine can delay past the point, the kill cannot land late. Nothing
// else may call the simulator meanwhile. It fails the test when the process ends first, and
// returns the journal as the killed process left it.
func (tl *tool) killAtCall(name, action string, at func(*workflow.State) bool, args ...string) *workflow.State {
	tl.t.Helper()
	held, stop := tl.sim.HoldCalls(func(a string) bool { return a == action && at(tl.journal()) })
	defer stop()
	cmd := tl.command(name, args...)
	if err := cmd.Start(); err != nil {
		tl.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tl.t.Cleanup(func() { _ = cmd.Process.Kill() })
	deadline := time.NewTimer(5 * time.Minute)
	defer deadline.Stop()
	select {
	case err := <-done:
		tl.t.Fatalf("%s ended (%v) before its %s call:\n%s", name, err, action, tl.output(name))
	case <-deadline.C:
		tl.t.Fatalf("%s: no %s call at the kill point within 5 minutes:\n%s", name, action, tl.output(name))
	case <-held:
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			tl.t.Fatal(err)
		}
		<-done
	}
	return tl.journal()
}

// TestKill9DuringCatchUpAndCutover runs `rdsencrypt migrate --strategy replication` as a
// process while pgbench writes through the instance's endpoint, kills it with SIGKILL during
// the catch-up, resumes it with a new process, kills that one between the rename of the
// source and the rename of the new instance (the instance's name is held by neither), and
// resumes again. The migration completes and every transaction pgbench saw commit is on the
// final instance exactly once.
func TestKill9DuringCatchUpAndCutover(t *testing.T) {
	e := startTool(t, 300)
	host, port, keyARN := e.pgbenchSource("orders")
	tl := buildTool(t, e)
	w := startPgbench(t, host, port, 2)
	e.eventually("pgbench commits", func() bool { return len(w.Commits()) > 20 })

	// A burst of WAL (every account row updated) while the new instance is restored, so the
	// catch-up has more than its 1 MiB threshold to apply. Once the new instance is restored, a
	// transaction on it holds pgbench_history in SHARE mode, which every pgbench transaction
	// inserts into: the stream cannot apply the next one, the lag stays above the threshold and
	// the catch-up runs until the kill, however slowly this machine runs (reads still pass, so
	// nothing the tool does before the catch-up waits for the lock). Released after the kill.
	src := e.mustPG(fmt.Sprintf("%s:%d", host, port))
	var hold pgx.Tx
	restoring := func(st *workflow.State) bool {
		s := stepStatus(st, workflow.StepRestore)
		return (s == workflow.StepRunning && hold == nil) || s == workflow.StepDone
	}
	stage := 0
	onRestore := func() {
		if stage == 0 {
			e.exec(src, "UPDATE pgbench_accounts SET filler = md5(aid::text)")
			stage = 1
		}
		if stage == 1 && stepStatus(tl.journal(), workflow.StepRestore) == workflow.StepDone {
			hold = e.holdTable(e.waitAvailable(targetOf(tl.journal())), "pgbench_history")
			stage = 2
		}
	}
	catchingUp := func(st *workflow.State) bool { return stepStatus(st, workflow.StepReplCatchUp) == workflow.StepRunning }
	st := tl.killWhen("migrate", catchingUp, func(st *workflow.State) bool { return stage < 2 && restoring(st) }, onRestore,
		"migrate", "--db", "orders", "--kms-key", keyARN, "--strategy", "replication", "--yes")
	t.Logf("the catch-up was held by a lock on the new instance: %v", hold != nil)
	if hold != nil {
		if err := hold.Rollback(e.ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := stepStatus(st, workflow.StepReplCatchUp); got != workflow.StepRunning {
		t.Fatalf("killed with the catch-up %q, want it running", got)
	}
	id := st.ID
	killed := len(w.Commits())

	// scan reports the slot the killed run left on the source, with the command that removes
	// it; without a password it says it did not look, and still succeeds.
	slot := replication.NamesFor(id).In("shop").Slot // the stream of the database pgbench writes to
	rep, table := tl.scan("scan1")
	want := "slot " + slot + " -> rdsencrypt rollback " + id
	if got := rep.leftoversOn("orders"); !slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, want) }) {
		t.Fatalf("scan's objects on orders %q, want %q", got, want)
	}
	if !strings.Contains(table, "slot "+slot) || !strings.Contains(table, "fix: rdsencrypt rollback "+id) {
		t.Fatalf("scan's table does not name the slot and its fix:\n%s", table)
	}
	rep, table = tl.scan("scan2", workflow.EnvDBPassword+"=")
	if got := rep.leftoversOn("orders"); len(got) != 1 || !strings.HasPrefix(got[0], "not checked: no credentials") {
		t.Fatalf("scan without a password: %q", got)
	}
	if !strings.Contains(table, "not checked on "+region+" orders: no credentials") {
		t.Fatalf("scan's table without a password:\n%s", table)
	}
	e.eventually("pgbench commits while no rdsencrypt runs", func() bool { return len(w.Commits()) > killed+10 })

	// The riskiest instant of the cutover: the source renamed away, the new instance not yet
	// at the name, writes frozen.
	promoting := func(st *workflow.State) bool {
		return stepStatus(st, workflow.StepRenameSource) == workflow.StepDone && stepStatus(st, workflow.StepRenameTarget) == workflow.StepRunning
	}
	st = tl.killWhen("resume1", promoting, nil, nil, "resume", id, "--yes")
	if st.Status != workflow.StatusRunning || stepStatus(st, workflow.StepRenameTarget) != workflow.StepRunning {
		t.Fatalf("killed in status %s with %s %q", st.Status, workflow.StepRenameTarget, stepStatus(st, workflow.StepRenameTarget))
	}

	if code := tl.run("resume2", "resume", id, "--yes"); code != 0 {
		t.Fatalf("resume after the kill in the cutover exited %d:\n%s", code, tl.output("resume2"))
	}
	if st := tl.journal(); st.Status != workflow.StatusCompleted {
		t.Fatalf("after resume the migration is %s: %s", st.Status, st.LastError)
	}
	final := e.waitAvailable("orders")
	if !aws.ToBool(final.StorageEncrypted) {
		t.Fatal("orders is not encrypted after the migration")
	}
	cs := e.auditFinal(w, "orders", "kill -9 in catch-up and cutover")
	// Until cleanup the reverse stream (new -> retired source) keeps its objects: scan names
	// them with the cleanup that removes them, and nothing else.
	rep, _ = tl.scan("scan3")
	for _, r := range rep.Resources {
		if r.Replication == nil || !r.Replication.Checked {
			t.Errorf("after the migration scan did not look into %s", r.ID)
		}
		for _, got := range rep.leftoversOn(r.ID) {
			if !strings.HasSuffix(got, " -> rdsencrypt cleanup "+id) {
				t.Errorf("after the migration scan finds on %s: %q", r.ID, got)
			}
		}
	}
	gap, _ := dataplane.LongestGap(cs)
	t.Logf("longest gap between pgbench commits %.1f s (local clock, two kills included)", gap.Seconds())
}

// targetOf is the new instance's name in a journal.
func targetOf(st *workflow.State) string {
	for _, r := range st.Resources {
		if r.Role == workflow.RoleTarget {
			return r.Name
		}
	}
	return ""
}

// holdTable opens a transaction on inst that holds table in SHARE mode (reads pass, writes
// wait) until the caller ends it.
func (e *toolEnv) holdTable(inst types.DBInstance, table string) pgx.Tx {
	e.t.Helper()
	tx, err := e.mustPG(endpoint(inst)).Begin(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	e.exec(tx.Conn(), "LOCK TABLE "+table+" IN SHARE MODE")
	return tx
}
