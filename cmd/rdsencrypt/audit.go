package main

import "github.com/rdsencrypt/rdsencrypt/internal/workflow"

// attachAudit adds the audit trail's summary to a report about to be printed, so that
// every report, text or JSON, says where the evidence is and includes the approvals.
func (a *app) attachAudit(rep *workflow.Report) {
	if rep == nil || rep.MigrationID == "" || rep.Audit != nil || a.stateGoes {
		return
	}
	store, err := a.store()
	if err != nil {
		return // the report still prints; the store error surfaces elsewhere
	}
	if sum := store.AuditSummary(rep.MigrationID); sum.Records > 0 || sum.Error != "" {
		rep.Audit = sum
	}
}
