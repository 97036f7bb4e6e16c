package workflow

import (
	"fmt"
	"slices"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/replication"
)

// Replica step kinds; each runs once per replica, named "<kind>:<region>/<id>".
const (
	StepReplicaCreate  = "replica-create"
	StepReplicaModify  = "replica-modify"
	StepReplicaRoles   = "replica-add-roles"
	StepReplicaParity  = "replica-parity"
	StepReplicaRetire  = "replica-retire"
	StepReplicaPromote = "replica-promote"
)

// replicaSteps is the replica route: the steps an instance migration runs for each read
// replica of the source, preparation (replicaPrepare) then swap (replicaSwap). Where they go
// in the instance route depends on the replica order (instanceStepOrder), and so does their
// write downtime: before cutover they run while writes are frozen. The behaviours are in
// replica_steps.go, their rollback in replica_undo.go.
var replicaSteps = slices.Concat(replicaPrepare, replicaSwap)

// replicaPrepare creates and checks the replacement of a replica.
var replicaPrepare = []step{
	{
		name: StepReplicaCreate, actions: []string{"CreateDBInstanceReadReplica"}, mutating: true,
		describeSubject: func(p *Plan, subject string) string {
			return fmt.Sprintf("create an encrypted read replica replacing %s, from the new primary (or its new parent)", subject)
		},
		permissions: []string{"rds:AddTagsToResource", "kms:CreateGrant", "rds:DeleteDBInstance"}, // a failed one is created again
		estimate:    estimate{base: 10 * time.Minute, perGB: 6 * time.Second},
		undo:        "rollback deletes the new replica, children before their parents",
		observe:     observeReplicaCreated, apply: applyReplicaCreate, wait: waitReplicaSettled,
	},
	{
		name: StepReplicaModify, actions: []string{"ModifyDBInstance", "RebootDBInstance"}, mutating: true,
		describeSubject: func(p *Plan, subject string) string {
			return fmt.Sprintf("apply the settings of %s that replica creation cannot carry", subject)
		},
		estimate: estimate{base: 5 * time.Minute},
		undo:     "nothing of its own: it changes only the new replica, which rollback deletes",
		observe:  observeReplicaModified, apply: applyReplicaModify, wait: waitReplicaModified,
	},
	{
		// Planned only for a replica with IAM role associations (rolesPlanned): replica
		// creation takes none (attachments.go).
		name: StepReplicaRoles, actions: []string{"AddRoleToDBInstance"}, mutating: true,
		describeSubject: func(p *Plan, subject string) string {
			return fmt.Sprintf("associate %s's IAM roles with its replacement (replica creation does not carry them)", subject)
		},
		permissions: []string{"iam:PassRole"},
		estimate:    estimate{base: time.Minute},
		undo:        "nothing of its own: the associations belong to the new replica, which rollback deletes",
		observe:     observeReplicaRoles, apply: applyReplicaRoles, wait: waitReplicaSettled,
	},
	{
		name: StepReplicaParity, actions: []string{"DescribeDBInstances"},
		describeSubject: func(p *Plan, subject string) string {
			return fmt.Sprintf("compare every setting of the new replica with %s", subject)
		},
		estimate: estimate{base: 5 * time.Second},
		undo:     "nothing to undo: it only reads and journals the accepted differences",
		apply:    checkReplicaParity,
	},
}

// replicaSwap moves a replica's name and endpoint to its replacement.
var replicaSwap = []step{
	{
		name: StepReplicaRetire, actions: []string{"ModifyDBInstance"}, mutating: true,
		describeSubject: func(p *Plan, subject string) string {
			first := ""
			if p.Strategy == StrategyReplication && replication.Family(p.Engine) == "mysql" {
				first = "once the new replica has caught up with its parent (binary log position), "
			}
			return fmt.Sprintf("%srename the old replica %s to its retired name (its endpoint stops answering; the name is free after about 30 s)", first, subject)
		},
		// The new replica's rename starts as soon as the name is free (waitReplicaRetired).
		estimate: estimate{base: 30 * time.Second},
		undo:     "rollback renames the old replica back to its name and waits until its endpoint answers",
		observe:  observeReplicaRetired, apply: applyReplicaRetire, wait: waitReplicaRetired,
	},
	{
		name: StepReplicaPromote, actions: []string{"ModifyDBInstance"}, mutating: true,
		describeSubject: func(p *Plan, subject string) string {
			return fmt.Sprintf("rename the new replica to %s and wait for its original endpoint to answer", subject)
		},
		estimate: estimate{base: 10 * time.Minute},
		undo:     "rollback first renames the new replica back to its temporary name, which frees the old replica's name",
		// One operation with the retire: the replica's name does not answer between the two,
		// so the second rename does not wait for another approval.
		observe: observeReplicaPromoted, apply: applyReplicaPromote, wait: waitReplicaPromoted, approvedWith: StepReplicaRetire,
	},
}
