package output

import (
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// The made-up run the plain-text tests print; the same as the full-screen UI's fixtures
// (internal/output/tui/fixtures_test.go).

// eventMsg and approvalMsg wrap a fixture as the full-screen UI's messages do, so that
// both packages' tests read alike.
type eventMsg struct{ Event workflow.Event }

type approvalMsg struct{ Approval workflow.Approval }

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

func planEvent() eventMsg {
	e := ev(workflow.EventPlan, "", 0)
	e.Plan = testPlan()
	return eventMsg{Event: e}
}

func call(action, target string, t time.Duration) eventMsg {
	e := ev(workflow.EventAPICall, "", t)
	e.Call = &workflow.APICall{Action: action, Region: "eu-west-1", Target: target, RequestID: "req-" + action[:6]}
	return eventMsg{Event: e}
}

func progressEvent(step, resource, status string, pct int, t time.Duration) eventMsg {
	e := ev(workflow.EventStepProgress, step, t)
	e.Resource, e.Status, e.Percent = resource, status, pct
	return eventMsg{Event: e}
}

func approvalFor(step string, reply chan workflow.Decision) approvalMsg {
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
	return approvalMsg{Approval: a}
}
