package tui

import (
	"errors"
	"os"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

func TestMain(m *testing.M) {
	// Plain text goldens, whatever terminal runs the tests.
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

// t0 is the fixed start of every made-up run.
var t0 = time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func mins(n int) workflow.Duration { return workflow.Duration(time.Duration(n) * time.Minute) }

const testID = "m-7f3a9c21"

func testPlan() *workflow.Plan {
	steps := []workflow.PlannedStep{
		{Name: "preflight", Description: "check that orders-db is available, the key is usable and every name is free", Estimate: mins(1)},
		{Name: "freeze-writes", Description: "stop application writes to orders-db (write downtime starts here)", Mutating: true, Downtime: true, Estimate: mins(1)},
		{Name: "snapshot", Description: "snapshot orders-db as rdsenc-m-7f3a9c21-orders-db-snap", Mutating: true, Downtime: true, Estimate: mins(12), Actions: []string{"CreateDBSnapshot"}},
		{Name: "encrypted-copy", Description: "copy the snapshot encrypted with the key", Mutating: true, Downtime: true, Estimate: mins(20), Actions: []string{"CopyDBSnapshot"}},
		{Name: "restore", Description: "restore rdsenc-m-7f3a9c21-orders-db from the encrypted copy", Mutating: true, Downtime: true, Estimate: mins(15), Actions: []string{"RestoreDBInstanceFromDBSnapshot"}},
		{Name: "modify", Description: "apply the settings restore cannot carry", Mutating: true, Downtime: true, Estimate: mins(5), Actions: []string{"ModifyDBInstance"}},
		{Name: "parity-check", Description: "compare every setting of the new instance with orders-db", Downtime: true, Estimate: mins(1)},
		{Name: "cutover-retire-source", Description: "rename orders-db to rdsenc-m-7f3a9c21-orders-db-old", Mutating: true, Downtime: true, Estimate: mins(3)},
		{Name: "cutover-promote-target", Description: "rename the new instance to orders-db", Mutating: true, Downtime: true, Estimate: mins(4)},
		{Name: "unfreeze-writes", Description: "let applications write again", Mutating: true, Estimate: mins(1)},
		{Name: "verify", Description: "verify orders-db is encrypted at the original endpoint", Estimate: mins(1)},
	}
	return &workflow.Plan{
		MigrationID: testID, Kind: "instance", Region: "eu-west-1", Source: "orders-db", Engine: "postgres",
		Mode: "encrypt", KmsKeyARN: "arn:aws:kms:eu-west-1:111122223333:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
		AllocatedStorage: 200, Steps: steps,
		Settings: []workflow.PlannedSetting{
			{Resource: "orders-db", Name: "DBInstanceClass", Value: "db.r6g.large", Via: "restore"},
			{Resource: "orders-db", Name: "MultiAZ", Value: "true", Via: "restore"},
			{Resource: "orders-db", Name: "DBParameterGroupName", Value: "orders-pg15", Via: "restore"},
			{Resource: "orders-db", Name: "BackupRetentionPeriod", Value: "7", Via: "modify", Note: "restore always sets 1"},
			{Resource: "orders-db", Name: "PerformanceInsightsEnabled", Value: "true", Via: "modify"},
			{Resource: "orders-db", Name: "StorageEncrypted", Value: "false", Via: "not-carried", Note: "becomes true"},
		},
		Resources: []workflow.PlannedResource{
			{Role: "snapshot", Type: "db-snapshot", Region: "eu-west-1", Name: "rdsenc-m-7f3a9c21-orders-db-snap"},
			{Role: "encrypted-snapshot", Type: "db-snapshot", Region: "eu-west-1", Name: "rdsenc-m-7f3a9c21-orders-db-snap-enc"},
			{Role: "target", Type: "db-instance", Region: "eu-west-1", Name: "rdsenc-m-7f3a9c21-orders-db"},
			{Role: "retired-source", Type: "db-instance", Region: "eu-west-1", Name: "rdsenc-m-7f3a9c21-orders-db-old"},
		},
		Warnings: []string{
			"orders-db has read replicas (orders-ro-1): they stay attached to the retired source and are not encrypted by this migration",
		},
		EstimatedTotal:    mins(64),
		EstimatedDowntime: mins(61),
	}
}

func ev(typ workflow.EventType, step string, t time.Duration) workflow.Event {
	return workflow.Event{Time: at(t), MigrationID: testID, Type: typ, Step: step, Percent: -1}
}

func planEvent() EventMsg {
	e := ev(workflow.EventPlan, "", 0)
	e.Plan = testPlan()
	return EventMsg{Event: e}
}

func call(action, target string, t time.Duration) EventMsg {
	e := ev(workflow.EventAPICall, "", t)
	e.Call = &workflow.APICall{Action: action, Region: "eu-west-1", Target: target, RequestID: "req-" + action[:6]}
	return EventMsg{Event: e}
}

func progressEvent(step, resource, status string, pct int, t time.Duration) EventMsg {
	e := ev(workflow.EventStepProgress, step, t)
	e.Resource, e.Status, e.Percent = resource, status, pct
	return EventMsg{Event: e}
}

func msg(typ workflow.EventType, step string, t time.Duration) EventMsg {
	return EventMsg{Event: ev(typ, step, t)}
}

// upToCopy is a run from the plan to the encrypted copy at 45%.
func upToCopy() []tea.Msg {
	return []tea.Msg{
		planEvent(),
		msg(workflow.EventStepStarted, "preflight", 0),
		call("DescribeDBInstances", "orders-db", 2*time.Second),
		msg(workflow.EventStepDone, "preflight", 5*time.Second),
		msg(workflow.EventStepStarted, "freeze-writes", time.Minute),
		msg(workflow.EventStepDone, "freeze-writes", time.Minute+10*time.Second),
		msg(workflow.EventStepStarted, "snapshot", 2*time.Minute),
		call("CreateDBSnapshot", "orders-db", 2*time.Minute+time.Second),
		progressEvent("snapshot", "rdsenc-m-7f3a9c21-orders-db-snap", "creating", 0, 3*time.Minute),
		progressEvent("snapshot", "rdsenc-m-7f3a9c21-orders-db-snap", "available", 100, 11*time.Minute),
		msg(workflow.EventStepDone, "snapshot", 11*time.Minute),
		msg(workflow.EventStepStarted, "encrypted-copy", 12*time.Minute),
		call("CopyDBSnapshot", "rdsenc-m-7f3a9c21-orders-db-snap", 12*time.Minute+time.Second),
		progressEvent("encrypted-copy", "rdsenc-m-7f3a9c21-orders-db-snap-enc", "copying", 45, 20*time.Minute),
		TickMsg{Time: at(21*time.Minute + 30*time.Second)},
	}
}

func approvalFor(step string, reply chan workflow.Decision) ApprovalRequestMsg {
	a := workflow.Approval{MigrationID: testID, Step: step}
	switch step {
	case "freeze-writes":
		a.Summary = "Stop application writes to orders-db: write downtime starts here."
		a.Instructions = []string{
			"Stop every application that writes to orders-db (or put it in read-only mode).",
			"Wait until no transaction is open on orders-db, then approve.",
		}
		a.Details = []string{"No AWS call: this step records the time writes stopped."}
		a.Downtime, a.Skippable = true, true
	case "cutover-retire-source":
		a.Summary = "Rename orders-db to rdsenc-m-7f3a9c21-orders-db-old: its endpoint stops answering."
		a.Instructions = []string{"Keep application writes stopped: they resume after the new instance takes the name orders-db."}
		a.Details = []string{"ModifyDBInstance orders-db NewDBInstanceIdentifier=rdsenc-m-7f3a9c21-orders-db-old ApplyImmediately=true"}
		a.Downtime = true
		a.Differences = []workflow.Difference{{Resource: "orders-db", Setting: "CACertificateIdentifier", Source: "rds-ca-2019", Target: "rds-ca-rsa2048-g1"}}
	default:
		a.Summary = "Run " + step
	}
	return ApprovalRequestMsg{Approval: a, Reply: reply}
}

func completedReport() *workflow.Report {
	r := &workflow.Report{
		MigrationID: testID, Source: "orders-db", Kind: "instance", Region: "eu-west-1",
		Status: workflow.StatusCompleted, KmsKeyARN: testPlan().KmsKeyARN, APICalls: 57,
		DowntimeSeconds: 3540,
		Next:            "rdsencrypt cleanup " + testID,
	}
	start := t0
	for _, s := range testPlan().Steps {
		st := start
		fin := st.Add(time.Duration(s.Estimate))
		r.Steps = append(r.Steps, workflow.StepReport{Name: s.Name, Status: workflow.StepDone, StartedAt: &st, FinishedAt: &fin, APICalls: 3})
		start = fin
	}
	return r
}

var errCopy = errors.New("CopyDBSnapshot rdsenc-m-7f3a9c21-orders-db-snap: KMSKeyNotAccessibleFault: the key is disabled")

func testOptions() Options {
	return Options{
		ResumeCommand:   "rdsencrypt resume {id}",
		RollbackCommand: "rdsencrypt rollback {id}",
		CleanupCommand:  "rdsencrypt cleanup {id}",
	}
}

// testModel is a model with a fixed clock and no animation, as goldens need.
func testModel(cancel func()) Model {
	return newModel(testOptions(), modelConfig{cancel: cancel, now: t0})
}

// feed runs msgs through Update and returns the model and the commands it returned.
func feed(m Model, msgs ...tea.Msg) (Model, []tea.Cmd) {
	var cmds []tea.Cmd
	for _, msg := range msgs {
		nm, cmd := m.Update(msg)
		m = nm.(Model)
		if cmd != nil {
			cmds = append(cmds, cmd)
		}
	}
	return m, cmds
}
