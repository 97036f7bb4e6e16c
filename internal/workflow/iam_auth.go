package workflow

import (
	"context"
	"fmt"
	"strings"
)

// IAM database authentication. An rds-db:connect policy names the database by its resource
// id: arn:aws:rds-db:REGION:ACCOUNT:dbuser:DbiResourceId/USER, the cluster's
// DbClusterResourceId for Aurora (RDS User Guide, "Creating and using an IAM policy for IAM
// database access"). A restore always gets a new resource id, so every IAM-authenticated user
// loses access at unfreeze unless the policies are updated, while parity reports a match: the
// plan warns, the cutover approval names both ids and the ARN patterns, and an unattended run
// must be told explicitly that the operator takes care of it.

// AckIAMAuth is the acknowledgement an unattended run needs for a source with IAM database
// authentication on (--acknowledge-iam-auth).
const AckIAMAuth = "iam-auth"

// Acknowledger is an approver that approves without asking (--yes): it says which
// acknowledgements it was given. An approver that asks a person does not implement it: the
// person reads the approval.
type Acknowledger interface {
	Acknowledges(what string) bool
}

// autoApprover approves every step, except parity differences, which stop the migration
// before cutover for a person to review. all: it acknowledges everything (AutoApprove, for
// callers that made the checks themselves); else only acks.
type autoApprover struct {
	all  bool
	acks []string
}

func (a autoApprover) Approve(_ context.Context, ap Approval) (Decision, error) {
	if len(ap.Differences) > 0 {
		return Quit, nil
	}
	return Approve, nil
}

func (a autoApprover) Acknowledges(what string) bool {
	if a.all {
		return true
	}
	for _, x := range a.acks {
		if x == what {
			return true
		}
	}
	return false
}

// AutoApproveAcknowledging approves like AutoApprove but acknowledges only acks: the
// approver of --yes, which needs --acknowledge-iam-auth for AckIAMAuth.
func AutoApproveAcknowledging(acks ...string) Approver { return autoApprover{acks: acks} }

// iamAuthWarning is the plan's warning for a source with IAM database authentication on.
func iamAuthWarning(kind, arn, resourceID string) string {
	return fmt.Sprintf("IAM database authentication is on: rds-db:connect policies name the %s's resource id %s (%s); "+
		"the encrypted %s gets a new resource id at restore (the cutover approval shows it): update every such policy to %s before writes resume, "+
		"or IAM-authenticated users lose access while parity reports a match; an unattended run (--yes) needs --acknowledge-iam-auth",
		kind, resourceID, dbuserARN(arn, resourceID), kind, dbuserARN(arn, "<new resource id>"))
}

// iamAuthDetails are the cutover approval's lines for a source with IAM database
// authentication on.
func iamAuthDetails(arn, oldRID, newRID string) []string {
	if newRID == "" {
		newRID = "<new resource id>"
	}
	return []string{
		fmt.Sprintf("IAM database authentication: the resource id changes from %s to %s.", oldRID, newRID),
		fmt.Sprintf("Update every rds-db:connect policy from %s to %s before writes resume, or IAM-authenticated users lose access.",
			dbuserARN(arn, oldRID), dbuserARN(arn, newRID)),
	}
}

// dbuserARN is the rds-db:connect resource pattern of a database, for every user.
func dbuserARN(resourceARN, resourceID string) string {
	region, account := "REGION", "ACCOUNT"
	if p := strings.Split(resourceARN, ":"); len(p) >= 5 {
		region, account = p[3], p[4]
	}
	partition := "aws"
	if p := strings.Split(resourceARN, ":"); len(p) >= 2 && p[1] != "" {
		partition = p[1]
	}
	return fmt.Sprintf("arn:%s:rds-db:%s:%s:dbuser:%s/*", partition, region, account, resourceID)
}

// checkAcknowledged refuses, before any side effect, an unattended run that was not given an
// acknowledgement the plan needs.
func (e *Engine) checkAcknowledged(source string, needs []string) error {
	ack, ok := e.Approver.(Acknowledger)
	if !ok {
		return nil
	}
	for _, need := range needs {
		if ack.Acknowledges(need) {
			continue
		}
		if need == AckSourceReboot { // replication_source_group.go
			return errorf(source, "read the plan's source change (rdsencrypt plan), then run again with --yes --acknowledge-"+need+", or use --strategy snapshot", nil,
				"the replication strategy changes %s's DB parameter group and reboots it (rds.logical_replication is off): an unattended run needs --acknowledge-%s", source, need)
		}
		return errorf(source, "read the plan's IAM warning (rdsencrypt plan), plan the rds-db:connect policy update, then run again with --yes --acknowledge-"+need, nil,
			"%s has IAM database authentication on and its resource id changes: an unattended run needs --acknowledge-%s", source, need)
	}
	return nil
}
