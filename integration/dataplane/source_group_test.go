package dataplane_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/rdsencrypt/rdsencrypt/internal/dataplane"
	"github.com/rdsencrypt/rdsencrypt/internal/iampolicy"
	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/output"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// appGroup creates the application's own DB parameter group: logical replication off (the
// default) and one parameter of the application's, which every copy must keep.
func (e *env) appGroup(name string) {
	e.t.Helper()
	e.paramGroup(name, "the application's parameters", "log_min_duration_statement", "250", types.ApplyMethodImmediate)
}

// parameters reads a DB parameter group's values by name.
func (e *env) parameters(group string) map[string]string {
	e.t.Helper()
	out := map[string]string{}
	pages := rds.NewDescribeDBParametersPaginator(e.rds, &rds.DescribeDBParametersInput{DBParameterGroupName: aws.String(group)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(e.ctx)
		if err != nil {
			e.t.Fatalf("parameters of %s: %v", group, err)
		}
		for _, p := range page.Parameters {
			out[aws.ToString(p.ParameterName)] = aws.ToString(p.ParameterValue)
		}
	}
	return out
}

// groupExists reports whether a DB parameter group exists.
func (e *env) groupExists(name string) bool {
	e.t.Helper()
	_, err := e.rds.DescribeDBParameterGroups(e.ctx, &rds.DescribeDBParameterGroupsInput{DBParameterGroupName: aws.String(name)})
	var nf *types.DBParameterGroupNotFoundFault
	if errors.As(err, &nf) {
		return false
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return true
}

// walLevel is what the instance's real server runs with.
func (e *toolEnv) walLevel(id string) string {
	e.t.Helper()
	c := e.mustPG(endpoint(e.waitAvailable(id)))
	var level string
	if err := c.QueryRow(e.ctx, "SHOW wal_level").Scan(&level); err != nil {
		e.t.Fatal(err)
	}
	return level
}

// requireGroup checks the instance's DB parameter group, applied (in-sync).
func (e *toolEnv) requireGroup(id, group string) {
	e.t.Helper()
	inst := e.waitAvailable(id)
	if len(inst.DBParameterGroups) != 1 || aws.ToString(inst.DBParameterGroups[0].DBParameterGroupName) != group ||
		aws.ToString(inst.DBParameterGroups[0].ParameterApplyStatus) != "in-sync" {
		e.t.Fatalf("%s's DB parameter groups are %s, want %s in-sync", id, groupsOf(inst), group)
	}
}

// requireSourceBack checks that after (a rollback) put ledger back on the application's group,
// applied (logical decoding off again), and deleted the copy.
func (e *toolEnv) requireSourceBack(after, copyName string) {
	e.t.Helper()
	e.requireGroup("ledger", "app")
	if got := e.walLevel("ledger"); got != "replica" {
		e.t.Fatalf("after %s the source runs wal_level %s", after, got)
	}
	if e.groupExists(copyName) {
		e.t.Fatalf("%s left the copy %s", after, copyName)
	}
}

// stepWindow is when a step ran (local clock), from its events.
func (e *toolEnv) stepWindow(step string) (from, to time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range e.events {
		switch {
		case ev.Step != step:
		case ev.Type == workflow.EventStepStarted && from.IsZero():
			from = ev.Time
		case ev.Type == workflow.EventStepDone:
			to = ev.Time
		}
	}
	return from, to
}

// gapDuring is the longest gap between two commits that overlaps [from, to].
func gapDuring(cs []dataplane.Commit, from, to time.Time) time.Duration {
	var gap time.Duration
	for i := 1; i < len(cs); i++ {
		if cs[i].At.After(from) && cs[i-1].At.Before(to) {
			gap = max(gap, cs[i].At.Sub(cs[i-1].At))
		}
	}
	return gap
}

func groupsOf(inst types.DBInstance) string {
	var out []string
	for _, g := range inst.DBParameterGroups {
		out = append(out, aws.ToString(g.DBParameterGroupName)+" "+aws.ToString(g.ParameterApplyStatus))
	}
	return strings.Join(out, ", ")
}

// TestSourceChangeForLogicalReplication: a PostgreSQL source with rds.logical_replication
// off, migrated under the printed IAM policy. The plan proposes the source change with its downtime line; --yes without
// --acknowledge-source-reboot is refused before anything changes; a run killed right after
// each AWS call of the change converges when resumed (one copy, one reboot, the real server
// then runs wal_level=logical); rollback puts the application's group back (wal_level replica
// again) and deletes the copy, also once the new instance was restored with the copy.
func TestSourceChangeForLogicalReplication(t *testing.T) {
	e := startTool(t, 600)
	e.appGroup("app")
	e.createPostgres("ledger", "app")
	e.requireGroup("ledger", "app")
	if got := e.walLevel("ledger"); got != "replica" {
		t.Fatalf("the source runs wal_level %s before the change", got)
	}
	c := e.mustPG(endpoint(e.waitAvailable("ledger")))
	e.exec(c, "CREATE TABLE entries (id bigserial PRIMARY KEY, note text)")
	e.exec(c, "INSERT INTO entries (note) SELECT 'n' || g FROM generate_series(1, 500) g")
	key, err := e.h.KMS(region).CreateKey(e.ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	// Everything below runs under the policy rdsencrypt iam-policy prints.
	policy, err := iampolicy.New(iampolicy.Options{Region: region}).JSON()
	if err != nil {
		t.Fatal(err)
	}
	e.h.EnforcePolicy(policy)
	req := workflow.MigrateRequest{Region: region, Source: "ledger", KmsKey: aws.ToString(key.KeyMetadata.Arn),
		Options: workflow.RunOptions{Strategy: workflow.StrategyReplication}}

	// The plan: the change, its step, its downtime line and the acknowledgement --yes needs.
	plan, err := e.engine("plan0001").Plan(e.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	sc := plan.SourceChange
	if sc == nil || sc.ParameterGroup != "app" || sc.Copy != "app-rdsencrypt-xxxxxxxx" || sc.Parameters["rds.logical_replication"] != "1" ||
		sc.Tags[model.TagRole] != workflow.RoleParameterGroup || sc.Downtime <= 0 {
		t.Fatalf("the plan's source change is %+v", sc)
	}
	if !slices.Contains(plan.Acknowledgements, workflow.AckSourceReboot) {
		t.Fatalf("the plan needs acknowledgements %v", plan.Acknowledgements)
	}
	if i := slices.IndexFunc(plan.Steps, func(s workflow.PlannedStep) bool { return s.Name == workflow.StepReplSourceGroup }); i < 0 ||
		plan.Steps[i+1].Name != workflow.StepReplPrepare || plan.Steps[i].Downtime || !plan.Steps[i].Mutating {
		t.Fatalf("the plan's steps: %+v", plan.Steps)
	}
	var text bytes.Buffer
	output.PrintPlan(&text, plan)
	if !strings.Contains(text.String(), "Source downtime: 1m0s for the reboot of ledger") || !strings.Contains(text.String(), "rds.logical_replication=1") {
		t.Fatalf("the printed plan does not show the source change:\n%s", text.String())
	}

	// --yes without --acknowledge-source-reboot: refused, nothing changed.
	unattended := e.engine("yes00001")
	unattended.Approver = workflow.AutoApproveAcknowledging()
	if _, err := unattended.Migrate(e.ctx, req); err == nil || !strings.Contains(err.Error(), "--acknowledge-source-reboot") {
		t.Fatalf("an unattended run without the acknowledgement: %v", err)
	}
	if e.groupExists(workflow.ParameterGroupCopyName("app", "yes00001")) {
		t.Fatal("the refused run copied the parameter group")
	}
	e.requireGroup("ledger", "app")

	// Killed right after each call of the change: resume converges; then rollback.
	for i, action := range []string{"CopyDBParameterGroup", "ModifyDBParameterGroup", "ModifyDBInstance", "RebootDBInstance"} {
		id := fmt.Sprintf("kill%04d", i)
		copyName := workflow.ParameterGroupCopyName("app", id)
		var reboots int
		var copied, modified time.Time // AWS times of the copy and of the modify onto it
		var mu sync.Mutex
		count := func(ev workflow.Event) {
			if ev.Type != workflow.EventAPICall || ev.Call.Error != "" || ev.Step != workflow.StepReplSourceGroup {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			switch ev.Call.Action {
			case "RebootDBInstance":
				reboots++
			case "CopyDBParameterGroup":
				copied = ev.Call.AWSTime
			case "ModifyDBInstance":
				modified = ev.Call.AWSTime
			}
		}
		ctx, kill := context.WithCancel(e.ctx)
		eng := e.engine(id)
		eng.Approver = workflow.AutoApproveAcknowledging(workflow.AckSourceReboot)
		eng.Observer = workflow.ObserverFunc(func(ev workflow.Event) {
			count(ev)
			if ev.Type == workflow.EventAPICall && ev.Step == workflow.StepReplSourceGroup && ev.Call.Action == action && ev.Call.Error == "" {
				kill() // as kill -9 right after the call: nothing after it runs
			}
		})
		if _, err := eng.Migrate(ctx, req); !errors.Is(err, workflow.ErrStopped) {
			t.Fatalf("killed after %s: %v", action, err)
		}
		kill()
		resumed := e.engine(id)
		resumed.Observer = workflow.ObserverFunc(count)
		resumed.Approver = workflow.ApproverFunc(func(_ context.Context, a workflow.Approval) (workflow.Decision, error) {
			if a.Step == workflow.StepReplPrepare {
				return workflow.Quit, nil // the change is done: stop before the replication objects
			}
			return workflow.Approve, nil
		})
		if _, err := resumed.Resume(e.ctx, id); !errors.Is(err, workflow.ErrStopped) {
			t.Fatalf("resumed after %s: %v", action, err)
		}
		e.requireGroup("ledger", copyName)
		if got := e.walLevel("ledger"); got != "logical" {
			t.Fatalf("after %s and resume the source runs wal_level %s", action, got)
		}
		params := e.parameters(copyName)
		if params["rds.logical_replication"] != "1" || params["log_min_duration_statement"] != "250" {
			t.Fatalf("the copy %s holds rds.logical_replication=%s log_min_duration_statement=%s", copyName, params["rds.logical_replication"], params["log_min_duration_statement"])
		}
		if reboots != 1 {
			t.Errorf("killed after %s: the source was rebooted %d times, want 1", action, reboots)
		}
		// Review S13: the source is put on the copy no sooner than AWS's 5 minutes after it
		// was made, also by a run resumed in between.
		if copied.IsZero() || modified.Sub(copied) < 5*time.Minute {
			t.Errorf("killed after %s: the copy at %s, the modify onto it at %s (AWS clock): want 5 minutes between", action, copied, modified)
		}
		if _, err := e.engine(id).Rollback(e.ctx, id); err != nil {
			t.Fatalf("rollback after %s: %v", action, err)
		}
		e.requireSourceBack("the rollback after "+action, copyName)
	}

	// Review S19: the journal lost right after the source change (nothing else tagged yet) is
	// rebuilt from tags (resume --source): the copy names the group it copies in its tags, so
	// the rollback puts the application's group back on the source and deletes the copy.
	const lostID = "lost0001"
	lostCopy := workflow.ParameterGroupCopyName("app", lostID)
	lost := e.engine(lostID)
	lost.Approver = workflow.ApproverFunc(func(_ context.Context, a workflow.Approval) (workflow.Decision, error) {
		if a.Step == workflow.StepReplPrepare {
			return workflow.Quit, nil
		}
		return workflow.Approve, nil
	})
	if _, err := lost.Migrate(e.ctx, req); !errors.Is(err, workflow.ErrStopped) {
		t.Fatalf("migrate up to the replication objects: %v", err)
	}
	e.requireGroup("ledger", lostCopy)
	if err := os.Remove(e.store.JournalPath(lostID)); err != nil {
		t.Fatal(err)
	}
	rebuilt, err := e.engine(lostID).Rebuild(e.ctx, workflow.KindInstance, region, "ledger")
	if err != nil || rebuilt != lostID {
		t.Fatalf("rebuild from tags: %q, %v", rebuilt, err)
	}
	if st, err := e.store.Load(lostID); err != nil || st.SourceGroup == nil || st.SourceGroup.Original != "app" || !st.SourceGroup.Modified {
		t.Fatalf("the rebuilt journal's source change: %+v (%v)", st, err)
	}
	if rep, err := e.engine(lostID).Rollback(e.ctx, lostID); err != nil || rep.Status != workflow.StatusRolledBack {
		t.Fatalf("rollback of the rebuilt journal: %v (%+v)", err, rep)
	}
	e.requireSourceBack("the rollback of the rebuilt journal", lostCopy)

	// The route with the change up to the freeze, then rollback: the new instance carries the
	// copy, so the copy goes only once the new instance is gone.
	eng := e.engine("full0001")
	eng.Approver = workflow.ApproverFunc(func(_ context.Context, a workflow.Approval) (workflow.Decision, error) {
		if a.Step == workflow.StepReplFreeze {
			e.requireGroup("ledger-enc-full0001", workflow.ParameterGroupCopyName("app", "full0001"))
			if got := e.walLevel("ledger-enc-full0001"); got != "logical" {
				t.Errorf("the new instance runs wal_level %s", got)
			}
			return workflow.Rollback, nil
		}
		return workflow.Approve, nil
	})
	rep, err := eng.Migrate(e.ctx, req)
	if err != nil || rep.Status != workflow.StatusRolledBack {
		t.Fatalf("migrate then rollback at the freeze: %v (%+v)", err, rep)
	}
	e.requireSourceBack("the rollback at the freeze", workflow.ParameterGroupCopyName("app", "full0001"))
	if _, err := e.rds.DescribeDBInstances(e.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("ledger-enc-full0001")}); err == nil {
		t.Fatal("rollback left the new instance")
	}
}
