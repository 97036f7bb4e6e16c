package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// The kill -9 tests of this file run the built binary against a simulator, kill it with
// SIGKILL the moment the simulator has served a chosen mutating call (watched through its call
// counts: the process had no chance to journal the outcome), then resume or roll back with a
// new process and judge the account: converged (exactly the end state of an uninterrupted run),
// orphaned (the right end state plus resources left over) or damaged (the source lost, renamed
// away, or the migration unable to finish).

// route is one kind of migration the campaign drives.
type route struct {
	name    string
	fixture string
	args    []string // migrate flags naming the source
}

var (
	instanceRoute = route{"instance", `{"Regions": {"us-east-1": {
		"Keys": [{"Description": "cli test key", "Aliases": ["alias/cli"]}],
		"Instances": [{"DBInstanceIdentifier": "ledger", "DBInstanceClass": "db.t3.medium", "Engine": "postgres",
			"EngineVersion": "16.6", "MasterUsername": "postgres", "MasterUserPassword": "cli-Passw0rd-x",
			"AllocatedStorage": 20, "BackupRetentionPeriod": 7}]}}}`, []string{"--db", "ledger"}}
	replicaRoute = route{"replica", `{"Regions": {"us-east-1": {
		"Keys": [{"Description": "cli test key", "Aliases": ["alias/cli"]}],
		"Instances": [{"DBInstanceIdentifier": "ledger", "DBInstanceClass": "db.t3.medium", "Engine": "postgres",
			"EngineVersion": "16.6", "MasterUsername": "postgres", "MasterUserPassword": "cli-Passw0rd-x",
			"AllocatedStorage": 20, "BackupRetentionPeriod": 7,
			"ReadReplicas": [{"DBInstanceIdentifier": "ledger-r1", "DBInstanceClass": "db.t3.medium"}]}]}}}`, []string{"--db", "ledger"}}
	clusterRoute = route{"cluster", `{"Regions": {"us-east-1": {
		"Keys": [{"Description": "cli test key", "Aliases": ["alias/cli"]}],
		"Clusters": [{"DBClusterIdentifier": "shop", "Engine": "aurora-mysql", "MasterUsername": "admin",
			"MasterUserPassword": "cli-Passw0rd-x", "DeletionProtection": true,
			"Members": [{"DBInstanceIdentifier": "shop-1", "DBInstanceClass": "db.r6g.large", "PromotionTier": 0},
				{"DBInstanceIdentifier": "shop-2", "DBInstanceClass": "db.r6g.large", "PromotionTier": 1}],
			"CustomEndpoints": [{"DBClusterEndpointIdentifier": "shop-any", "EndpointType": "ANY"}]}]}}}`, []string{"--cluster", "shop"}}
)

// mutating reports whether an API action changes anything.
func mutating(action string) bool {
	for _, p := range []string{"Describe", "List", "Get", "Download"} {
		if strings.HasPrefix(action, p) {
			return false
		}
	}
	return true
}

func countMutating(calls map[string]int) int {
	n := 0
	for a, c := range calls {
		if mutating(a) {
			n += c
		}
	}
	return n
}

// killAt starts the binary with args and kills it with SIGKILL once the simulator has served
// the nth call of action counted from now (action "" counts every mutating call), plus extra.
// It returns false when the process ended before that call.
func killAt(t *testing.T, c *cli, bin, action string, nth int, extra time.Duration, args ...string) bool {
	return killAfter(t, c, bin, nil, action, nth, extra, args...)
}

// killAfter is killAt counting only the calls made once from holds (nil: every call). The
// simulator holds the answer of each call counted (rdssim HoldCalls): the process waits for
// it, so its journal is as it was when it made the call while from is read, and the kill
// lands right after the nth call, before its answer (with extra, at a moment after the
// answer), however loaded the machine is.
func killAfter(t *testing.T, c *cli, bin string, from func() bool, action string, nth int, extra time.Duration, args ...string) bool {
	t.Helper()
	held, stop := c.h.Sim.HoldCalls(func(a string) bool {
		if action == "" {
			return mutating(a)
		}
		return a == action
	})
	defer stop()
	cmd := exec.Command(bin, c.args(args...)...)
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	deadline := time.NewTimer(120 * time.Second)
	defer deadline.Stop()
	for seen := 0; ; {
		select {
		case <-done:
			return false
		case <-deadline.C:
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-done
			t.Fatalf("%s %d never called", action, nth)
		case h := <-held:
			if from == nil || from() {
				seen++
			}
			if seen < nth {
				h.Release()
				continue
			}
			if extra > 0 {
				h.Release()
				time.Sleep(extra) // a random moment after the call, not a synchronisation
			}
			_ = cmd.Process.Signal(syscall.SIGKILL)
			stop() // the answers held go; the caller is gone
			<-done
			return true
		}
	}
}

// onlyMigration is the id of the only journal in the CLI's state directory.
func onlyMigration(t *testing.T, c *cli) *workflow.State {
	t.Helper()
	store, err := workflow.OpenStore(c.state)
	require.NoError(t, err)
	states, _, err := store.List()
	require.NoError(t, err)
	require.Len(t, states, 1)
	return states[0]
}

// verdict judges the account after a migration of rt ended with status (completed or
// rolled-back): "converged", "orphaned: ..." or "damaged: ...".
func verdict(t *testing.T, c *cli, rt route, st *workflow.State) string {
	t.Helper()
	ctx := context.Background()
	api := c.aws()
	insts, err := api.ListInstances(ctx)
	require.NoError(t, err)
	var ids []string
	encrypted := map[string]bool{}
	for _, i := range insts {
		ids = append(ids, i.ID)
		encrypted[i.ID] = i.Settings.StorageEncrypted
	}
	snaps, err := api.ListSnapshots(ctx)
	require.NoError(t, err)
	var snapIDs []string
	for _, s := range snaps {
		snapIDs = append(snapIDs, s.ID)
	}
	clusters, err := api.ListClusters(ctx)
	require.NoError(t, err)
	var clusterIDs []string
	clusterEncrypted := map[string]bool{}
	for _, cl := range clusters {
		clusterIDs = append(clusterIDs, cl.ID)
		clusterEncrypted[cl.ID] = cl.Settings.StorageEncrypted
	}
	csnaps, err := api.ListClusterSnapshots(ctx)
	require.NoError(t, err)
	var csnapIDs []string
	for _, s := range csnaps {
		csnapIDs = append(csnapIDs, s.ID)
	}
	cutoverBegan := false
	for _, s := range st.Steps {
		if s.Name == workflow.StepRenameTarget && s.Status != workflow.StepPending {
			cutoverBegan = true
		}
	}
	var wantInst, wantSnap, wantClusters, wantCSnap []string
	var mustBeEncrypted []string
	n := workflow.NamesFor(st.ID, "ledger")
	cn := workflow.ClusterNamesFor(st.ID, "shop")
	switch {
	case rt.name != "cluster" && st.Status == workflow.StatusCompleted:
		wantInst, wantSnap, mustBeEncrypted = []string{"ledger", n.Retired}, []string{n.Snapshot, n.EncryptedSnapshot}, []string{"ledger"}
		if slices.ContainsFunc(st.Steps, func(s workflow.StepState) bool { return s.Name == workflow.StepPreSnapshot }) {
			wantSnap = append(wantSnap, n.PreSnapshot, n.PreEncryptedSnapshot) // kept until cleanup, like the snapshot
		}
		if rt.name == "replica" {
			wantInst = append(wantInst, "ledger-r1", workflow.NamesFor(st.ID, "ledger-r1").Retired)
			mustBeEncrypted = append(mustBeEncrypted, "ledger-r1")
		}
	case rt.name != "cluster":
		wantInst = []string{"ledger"}
		if rt.name == "replica" {
			wantInst = append(wantInst, "ledger-r1")
		}
		if cutoverBegan {
			wantSnap = []string{n.RollbackSnapshot}
		}
	case st.Status == workflow.StatusCompleted:
		wantClusters, wantCSnap = []string{"shop", cn.Retired}, []string{cn.Snapshot}
		wantInst = []string{"shop-1", "shop-2", cn.MemberRetired("shop-1"), cn.MemberRetired("shop-2")}
	default:
		wantClusters, wantInst = []string{"shop"}, []string{"shop-1", "shop-2"}
		if cutoverBegan {
			wantCSnap = []string{cn.RollbackSnapshot}
		}
	}
	for _, id := range wantInst {
		if !slices.Contains(ids, id) {
			return "damaged: DB instance " + id + " missing"
		}
	}
	for _, id := range wantClusters {
		if !slices.Contains(clusterIDs, id) {
			return "damaged: DB cluster " + id + " missing"
		}
	}
	for _, id := range mustBeEncrypted {
		if !encrypted[id] {
			return "damaged: " + id + " not encrypted"
		}
	}
	if rt.name == "cluster" && st.Status == workflow.StatusCompleted && !clusterEncrypted["shop"] {
		return "damaged: cluster shop not encrypted"
	}
	if rt.name == "cluster" && st.Status == workflow.StatusRolledBack && clusterEncrypted["shop"] {
		return "damaged: cluster shop is not the source"
	}
	var extra []string
	for _, pair := range []struct {
		what      string
		got, want []string
	}{{"instance", ids, wantInst}, {"snapshot", snapIDs, wantSnap}, {"cluster", clusterIDs, wantClusters}, {"cluster snapshot", csnapIDs, wantCSnap}} {
		for _, id := range pair.got {
			if !slices.Contains(pair.want, id) {
				extra = append(extra, pair.what+" "+id)
			}
		}
	}
	if len(extra) > 0 {
		return "orphaned: " + strings.Join(extra, ", ")
	}
	return "converged"
}

// finish runs resume (or rollback) with new processes until the migration ends, at most
// three times, and returns the final journal, or nil when it cannot end.
func finish(t *testing.T, c *cli, bin, id string, rollback bool) (*workflow.State, string) {
	t.Helper()
	verb := "resume"
	if rollback {
		verb = "rollback"
	}
	var out []byte
	var err error
	for range 3 {
		out, err = exec.Command(bin, c.args(verb, id, "--yes")...).CombinedOutput()
		if err == nil {
			return onlyMigration(t, c), ""
		}
	}
	return nil, strings.TrimSpace(string(out))
}

// TestKillNineDuringClusterCutoverAndRollback extends the kill -9 test to the cluster route:
// the binary is killed right after each rename of the cutover, then resumed; and right after
// each mutating call of a rollback after cutover, then rolled back again.
func TestKillNineDuringClusterCutoverAndRollback(t *testing.T) {
	bin := buildBinary(t)
	migrate := append([]string{"migrate"}, append(clusterRoute.args, "--kms-key", "alias/cli", "--yes", "--freeze", "none")...)
	for _, tc := range []struct {
		action string
		nth    int
	}{
		{"ModifyDBCluster", 1}, // the source cluster renamed away
		{"ModifyDBInstance", 1},
		{"ModifyDBInstance", 2},
		{"ModifyDBCluster", 2}, // the new cluster renamed to the original name
		{"ModifyDBInstance", 3},
		{"DeleteDBClusterEndpoint", 1},
		{"CreateDBClusterEndpoint", 1},
	} {
		t.Run(fmt.Sprintf("cutover-%s-%d", tc.action, tc.nth), func(t *testing.T) {
			c := newCLI(t, 3000)
			require.NoError(t, c.h.Sim.LoadFixture(strings.NewReader(clusterRoute.fixture)))
			store, err := workflow.OpenStore(c.state)
			require.NoError(t, err)
			// Count from the end of the parity check: the calls before are not the cutover's.
			parityDone := func() bool {
				states, _, err := store.List()
				if err != nil || len(states) != 1 {
					return false
				}
				for _, s := range states[0].Steps {
					if s.Name == workflow.StepParity && s.Status == workflow.StepDone {
						return true
					}
				}
				return false
			}
			require.True(t, killAfter(t, c, bin, parityDone, tc.action, tc.nth, 0, migrate...), "killed during the cutover")
			id := onlyMigration(t, c).ID
			st, out := finish(t, c, bin, id, false)
			require.NotNil(t, st, out)
			assert.Equal(t, workflow.StatusCompleted, st.Status)
			assert.Equal(t, "converged", verdict(t, c, clusterRoute, st))
		})
	}
	for _, tc := range []struct {
		action string
		nth    int
	}{
		{"DeleteDBClusterEndpoint", 1},
		{"ModifyDBCluster", 1}, // the new cluster renamed back to its temporary name
		{"ModifyDBInstance", 1},
		{"ModifyDBCluster", 2}, // the source back at its name
		{"ModifyDBInstance", 3},
		{"CreateDBClusterEndpoint", 1},
		{"DeleteDBInstance", 1},
		{"ModifyDBCluster", 3}, // deletion protection off on the new cluster
		{"DeleteDBCluster", 1},
		{"DeleteDBClusterSnapshot", 1},
	} {
		t.Run(fmt.Sprintf("rollback-%s-%d", tc.action, tc.nth), func(t *testing.T) {
			c := newCLI(t, 3000)
			require.NoError(t, c.h.Sim.LoadFixture(strings.NewReader(clusterRoute.fixture)))
			_, stderr, code := c.run(migrate...)
			require.Equal(t, 0, code, stderr)
			id := onlyMigration(t, c).ID
			if !killAt(t, c, bin, tc.action, tc.nth, 0, "rollback", id, "--yes") {
				t.Skipf("the rollback made no %d %s call", tc.nth, tc.action)
			}
			st, out := finish(t, c, bin, id, true)
			require.NotNil(t, st, out)
			assert.Equal(t, workflow.StatusRolledBack, st.Status)
			assert.Equal(t, "converged", verdict(t, c, clusterRoute, st))
		})
	}
}

// TestRandomKillNineCampaign is the random crash campaign: RDSENCRYPT_CAMPAIGN=N runs N
// migrations over the instance, replica and cluster routes in turn, each killed with SIGKILL
// at a random moment (after a random number of mutating calls, plus a random delay of up to
// 30 ms), then resumed or, every other run, rolled back, and reports the counts. Seed with
// RDSENCRYPT_CAMPAIGN_SEED. It is not run by default (minutes of work).
//
//	RDSENCRYPT_CAMPAIGN=45 go test ./cmd/rdsencrypt -run TestRandomKillNineCampaign -v -timeout 60m
func TestRandomKillNineCampaign(t *testing.T) {
	runs, _ := strconv.Atoi(os.Getenv("RDSENCRYPT_CAMPAIGN"))
	if runs <= 0 {
		t.Skip("set RDSENCRYPT_CAMPAIGN=N to run N random kill -9 runs")
	}
	seed, _ := strconv.ParseUint(os.Getenv("RDSENCRYPT_CAMPAIGN_SEED"), 10, 64)
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	bin := buildBinary(t)
	routes := []route{instanceRoute, replicaRoute, clusterRoute}
	// The mutating calls of an uninterrupted migration of each route bound the kill point.
	total := map[string]int{}
	for _, rt := range routes {
		c := newCLI(t, 3000)
		require.NoError(t, c.h.Sim.LoadFixture(strings.NewReader(rt.fixture)))
		before := countMutating(c.h.Calls())
		_, stderr, code := c.run(append(append([]string{"migrate"}, rt.args...), "--kms-key", "alias/cli", "--yes", "--freeze", "none")...)
		require.Equal(t, 0, code, stderr)
		total[rt.name] = countMutating(c.h.Calls()) - before
		t.Logf("%s: %d mutating calls uninterrupted", rt.name, total[rt.name])
	}
	counts := map[string]int{}
	for i := range runs {
		rt := routes[i%len(routes)]
		rollback := (i/len(routes))%2 == 1
		k := 1 + rng.IntN(total[rt.name])
		extra := time.Duration(rng.IntN(30_000)) * time.Microsecond
		c := newCLI(t, 3000)
		require.NoError(t, c.h.Sim.LoadFixture(strings.NewReader(rt.fixture)))
		killed := killAt(t, c, bin, "", k, extra, append(append([]string{"migrate"}, rt.args...), "--kms-key", "alias/cli", "--yes", "--freeze", "none")...)
		id := onlyMigration(t, c).ID
		st, out := finish(t, c, bin, id, rollback)
		v := "damaged: could not end: " + out
		if st != nil {
			v = verdict(t, c, rt, st)
		}
		kind := strings.SplitN(v, ":", 2)[0]
		counts[kind]++
		then := "resume"
		if rollback {
			then = "rollback"
		}
		t.Logf("run %2d %-8s kill after mutating call %3d/%d +%v (killed %v), %s: %s", i+1, rt.name, k, total[rt.name], extra.Round(time.Millisecond), killed, then, v)
	}
	t.Logf("campaign of %d runs (seed %d): converged %d, orphaned %d, damaged %d", runs, seed, counts["converged"], counts["orphaned"], counts["damaged"])
	assert.Zero(t, counts["damaged"], "damaged runs")
	assert.Zero(t, counts["orphaned"], "orphaned runs")
}
