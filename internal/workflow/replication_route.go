package workflow

import (
	"fmt"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/replication"
)

// Strategies of an instance migration (RunOptions.Strategy; docs/replication.md).
const (
	StrategySnapshot    = "snapshot"    // writes frozen from before the snapshot to the end of cutover
	StrategyReplication = "replication" // writes flow until the cutover; the encrypted copy catches up by replication
	StrategyAuto        = "auto"        // replication where the engine supports it and the database is reachable
)

// Step names of the replication strategy, in order (see replicationOrder).
const (
	StepReplPrepare   = "replication-prepare-source"
	StepReplAttach    = "replication-attach"
	StepReplCatchUp   = "replication-catch-up"
	StepReplAhead     = "replication-verify-ahead"
	StepReplFreeze    = "replication-freeze"
	StepReplDrain     = "replication-drain"
	StepReplVerify    = "replication-verify"
	StepReplSequences = "replication-sync-sequences"
	StepReplDetach    = "replication-detach"
	StepReplCleanup   = "replication-cleanup-target"
)

// catchUpBytes is how close the target must be (PostgreSQL: WAL bytes) before the freeze,
// so that the drain inside the freeze is short; catchUpSeconds the same for an engine that
// measures lag in time.
const (
	catchUpBytes   = 1 << 20
	catchUpSeconds = 5
)

// replicationSteps are the steps the replication strategy adds to the instance route. The
// instance route's own steps run between them (replicationOrder); their behaviours are in
// replication_steps.go.
var replicationSteps = []step{
	{
		// Planned only when the source's rds.logical_replication is off (PostgreSQL):
		// replication_source_group.go.
		name: StepReplSourceGroup, mutating: true,
		actions: []string{"DescribeDBParameterGroups", "CopyDBParameterGroup", "DescribeDBParameters", "ModifyDBParameterGroup", "ModifyDBInstance", "RebootDBInstance"},
		// the copy's tags are given on create and read back before it is adopted; a default
		// group is copied as a new group of its family (CopyParameterGroup); its users are
		// listed before rollback deletes it
		permissions: []string{"rds:AddTagsToResource", "rds:ListTagsForResource", "rds:CreateDBParameterGroup", "rds:DescribeDBInstances", "rds:DeleteDBParameterGroup"},
		describe:    describeSourceGroup,
		estimate:    estimate{base: groupSettle + enforceModifyEstimate + sourceRebootEstimate},
		undo:        "rollback puts the source's own DB parameter group back (modify and reboot) and deletes the copy when its tags and the journal say it is ours; after a cutover the new instance keeps the copy",
		apply:       applySourceGroup, approval: sourceGroupApproval,
	},
	{
		name: StepReplPrepare, mutating: true,
		local: "connects to the source database as the master user",
		describe: func(p *Plan, n Names) string {
			return fmt.Sprintf("create on %s the replication user and, in every database (PostgreSQL), a publication and slot (before the snapshot, so the stream starts where the snapshot ends)", p.Source)
		},
		estimate: estimate{base: 10 * time.Second},
		undo:     "rollback and cleanup drop the replication user, publications and slots from the source",
		apply:    applyReplPrepare,
	},
	{
		name: StepReplCopyGroup, actions: []string{"CopyDBParameterGroup", "DescribeDBParameterGroups"},
		permissions: []string{"rds:AddTagsToResource", "rds:ListTagsForResource"}, mutating: true,
		// Planned by buildInstancePlan when the source change does not make the copy
		// (replication_group_copy.go).
		describe: func(p *Plan, n Names) string {
			if replication.Family(p.Engine) == "postgres" {
				return fmt.Sprintf("copy %s's DB parameter group to %s, tagged, for the new instance: the bound on the WAL its replication slots keep (max_slot_wal_keep_size: every slot on it until cleanup, the reverse ones included) is set in the copy at the cutover, not in %s's group; "+
					"the restore uses it no sooner than %s after the copy (AWS asks for it) and once it holds every value of the source's group", p.Source, p.resourceName(RoleParameterGroup), p.Source, groupSettle)
			}
			return fmt.Sprintf("copy %s's DB parameter group to %s, tagged, for the new instance: the unfreeze lifts read_only in the copy only, so the retired source stays read-only; "+
				"the restore uses it no sooner than %s after the copy (AWS asks for it) and once it holds every value of the source's group", p.Source, p.resourceName(RoleParameterGroup), groupSettle)
		},
		estimate: estimate{base: 5 * time.Second},
		undo:     "rollback deletes the copy once the new instance is gone; after a completed migration the new instance keeps it",
		observe:  observeGroupCopy, apply: applyGroupCopy,
	},
	{
		name: StepReplAttach, actions: []string{"DescribeDBLogFiles", "DownloadDBLogFilePortion"}, mutating: true,
		describe: func(p *Plan, n Names) string {
			if replica := p.resourceName(RolePositionReplica); replica != "" {
				return fmt.Sprintf("start replication from %s to %s at the position %s stopped at", p.Source, n.Target, replica)
			}
			return fmt.Sprintf("read where %s's recovery ended from its log and start replication from %s to it there", n.Target, p.Source)
		},
		estimate: estimate{base: 30 * time.Second},
		undo:     "rollback deletes the new instance, and the subscription with it; the source's slot is dropped",
		apply:    applyReplAttach,
	},
	{
		name:  StepReplCatchUp,
		local: "reads the replication lag from the databases",
		describe: func(p *Plan, n Names) string {
			return fmt.Sprintf("wait until %s has caught up with the writes made to %s since the snapshot (lag shown live)", n.Target, p.Source)
		},
		estimate: estimate{base: time.Minute, perGB: 3 * time.Second},
		undo:     "nothing to undo: it only reads",
		wait:     waitReplCatchUp,
	},
	{
		name:  StepReplAhead,
		local: "compares row counts and checksums of every table on both databases while writes continue",
		describe: func(p *Plan, n Names) string {
			if replication.Family(p.Engine) == "postgres" {
				return fmt.Sprintf("verify every table of %s against %s while writes continue, noting the keys written since: inside the freeze only those keys' rows are compared again (a table without a key, or whose shape changed, in full)", n.Target, p.Source)
			}
			return fmt.Sprintf("verify every table of %s against %s while writes continue, noting each table's change marker: inside the freeze only the tables written since are compared again", n.Target, p.Source)
		},
		estimate: estimate{base: 10 * time.Second, perGB: 2 * time.Second},
		undo:     "nothing to undo: it only reads",
		apply:    applyReplAhead,
	},
	{
		name: StepReplFreeze, mutating: true, downtime: true,
		// MySQL and MariaDB: read_only through the source's DB parameter group (replication_mysql.go).
		actions: []string{"DescribeDBParameters", "ModifyDBParameterGroup"},
		// the unfreeze and rollback put read_only back, with a reset when it was the engine
		// default (replication_mysql.go thawGroup); no step of its own declares that call
		permissions: []string{"rds:ResetDBParameterGroup"},
		describe: func(p *Plan, n Names) string {
			return "catch up again (the lag built while writes flowed during the verification ahead), then freeze writes to " + p.Source + " in the database (MySQL, MariaDB: read_only in its DB parameter group): new writes refused, application sessions ended, position stable (write downtime starts here)"
		},
		estimate: estimate{base: 10 * time.Second},
		undo:     "rollback lets the source accept writes again",
		observe:  observeReplFreeze, apply: applyReplFreeze, approval: replFreezeApproval,
	},
	{
		name: StepReplDrain, downtime: true,
		local: "waits until the target has applied every write up to the frozen position",
		describe: func(p *Plan, n Names) string {
			return fmt.Sprintf("drain: wait until %s has applied the last write of %s", n.Target, p.Source)
		},
		estimate: estimate{base: 15 * time.Second},
		undo:     "nothing to undo: it only reads",
		apply:    applyReplDrain,
	},
	{
		name: StepReplVerify, downtime: true,
		local: "compares row counts and checksums of the tables written since they were verified ahead (of every table for an engine without change markers)",
		describe: func(p *Plan, n Names) string {
			return fmt.Sprintf("compare row counts and checksums of the tables of %s written since the verification ahead, and of those it could not verify, with %s; a difference stops before the cutover", p.Source, n.Target)
		},
		estimate: estimate{base: 10 * time.Second},
		undo:     "nothing to undo: it only reads",
		apply:    applyReplVerify,
	},
	{
		name: StepReplSequences, mutating: true, downtime: true,
		local: "sets the target's sequences from the source's",
		describe: func(p *Plan, n Names) string {
			return fmt.Sprintf("set every sequence of %s to its value on %s (sequences are not replicated)", n.Target, p.Source)
		},
		estimate: estimate{base: 5 * time.Second},
		undo:     "nothing of its own: it changes only the new instance, which rollback deletes",
		apply:    applyReplSequences,
	},
	{
		name: StepReplDetach, mutating: true, downtime: true,
		local: "stops replication: drops the subscription on the target and the slot, publication and user on the source",
		describe: func(p *Plan, n Names) string {
			return fmt.Sprintf("stop replication from %s to %s and remove its objects from %s", p.Source, n.Target, p.Source)
		},
		estimate: estimate{base: 5 * time.Second},
		undo:     "nothing to undo: rollback would drop them too",
		apply:    applyReplDetach,
	},
	{
		name: StepReplCleanup, mutating: true,
		local: "drops the copies of the replication objects the restore carried to the new instance",
		describe: func(p *Plan, n Names) string {
			return fmt.Sprintf("remove the publication and replication user the snapshot carried to the encrypted %s", p.Source)
		},
		estimate: estimate{base: 5 * time.Second},
		undo:     "nothing to undo: they are the tool's own objects",
		apply:    applyReplCleanupTarget,
	},
}

// replicationOrder is the instance route under the replication strategy: the snapshot,
// copy, restore, modify and parity run while writes continue (no pre-copy: nothing in the
// freeze is a snapshot), replication catches the target up, and the freeze covers only the
// drain, the verification, the sequences and the rename pair.
//
// Read replicas (PostgreSQL): the replica route's preparation (replicaPrepare) runs for each
// replica right after the stream is attached, while writes continue: each new replica is a
// physical replica of the target, which receives the stream, so it follows every write and
// its build time is outside the freeze; the catch-up then waits for the lag those builds let
// grow. The swaps (replicaSwap) run after the unfreeze (ReplicasAfterCutover, the default:
// the write downtime is the primary's rename pair only, and each old replica keeps serving
// reads, fed by the reverse stream through the retired source, until its own swap), or inside
// the freeze right after the primary's pair (ReplicasBeforeCutover: no read of the old tree
// once writes resume, but each swap is write downtime). docs/replication.md#read-replicas.
func replicationOrder(replicas []replicaNode, order string) []plannedStep {
	before := order == ReplicasBeforeCutover
	var out []plannedStep
	add := func(name string, downtime bool) { out = append(out, plannedStep{name, downtime}) }
	addReplicas := func(steps []step, downtime bool) {
		for _, n := range replicas {
			for _, s := range steps {
				add(stepName(s.name, subjectOf(n.inst.Region, n.inst.ID)), downtime)
			}
		}
	}
	for _, s := range instanceSteps {
		switch s.name {
		case StepPreSnapshot, StepPreCopy, StepFreeze:
			continue
		case StepSnapshot:
			add(StepReplSourceGroup, false) // planned only when needed (buildInstancePlan)
			add(StepReplPrepare, false)
			// MySQL and MariaDB only. The restore waits until groupSettle after it
			// (settleCopyBeforeRestore); the snapshot and its copy between are estimated at
			// 4 min + 18 s/GiB, over 5 min from RDS's smallest storage (20 GiB), so the wait
			// adds nothing to the estimate.
			add(StepReplCopyGroup, false)
			// RDS for MySQL only: the start position from a temporary read replica, whose
			// snapshot the migration takes (replication_position.go).
			add(StepReplPosReplica, false)
			add(StepReplPosStop, false)
			add(s.name, false)
		case StepRestore:
			add(s.name, false)
			add(StepReplPosDelete, false) // MySQL only
		case StepCopy, StepModify, StepAddRoles: // add-roles: planned only for a source with IAM roles
			add(s.name, false)
		case StepParity:
			add(s.name, false)
			for _, r := range replicationSteps {
				if r.name != StepReplSourceGroup && r.name != StepReplPrepare && r.name != StepReplCopyGroup && r.name != StepReplCleanup {
					add(r.name, r.downtime)
				}
				if r.name == StepReplAttach {
					addReplicas(replicaPrepare, false)
				}
			}
		case StepRenameTarget:
			add(s.name, s.downtime)
			if before {
				addReplicas(replicaSwap, true)
			}
		case StepUnfreeze:
			add(s.name, s.downtime)
			if !before {
				addReplicas(replicaSwap, false)
			}
		case StepVerify:
			add(s.name, false)
			add(StepReplCleanup, false)
		default:
			add(s.name, s.downtime)
		}
	}
	return out
}
