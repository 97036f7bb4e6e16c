package workflow

import (
	"context"
	"fmt"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// Step names of an instance migration, in order.
const (
	StepPreflight    = "preflight"
	StepPreSnapshot  = "precopy-snapshot"
	StepPreCopy      = "precopy-encrypted-copy"
	StepFreeze       = "freeze-writes"
	StepSnapshot     = "snapshot"
	StepCopy         = "encrypted-copy"
	StepRestore      = "restore"
	StepModify       = "modify"
	StepAddRoles     = "add-roles"
	StepParity       = "parity-check"
	StepRenameSource = "cutover-retire-source"
	StepRenameTarget = "cutover-promote-target"
	StepUnfreeze     = "unfreeze-writes"
	StepModifyLate   = "modify-after-cutover"
	StepVerify       = "verify"
)

// instanceSteps is the instance route: the steps of an instance migration, in order. Read
// replicas add the replica route's steps around the cutover (instanceStepOrder). The
// behaviours are in instance_steps.go; docs/steps.md says how to add a step.
var instanceSteps = []step{
	{
		name: StepPreflight, actions: []string{"DescribeDBInstances", "kms:DescribeKey", "DescribeOrderableDBInstanceOptions", "DescribeDBEngineVersions", "DescribeAccountAttributes",
			"DescribeDBProxies", "DescribeDBProxyTargets", "DescribeIntegrations", "DescribeBlueGreenDeployments", "DescribeEventSubscriptions"},
		describe: func(p *Plan, n Names) string {
			return fmt.Sprintf("check that %s is available, the key is usable and every name is free", p.Source)
		},
		permissions: []string{"rds:DescribeDBSnapshots"}, // the names it will create are free
		estimate:    estimate{base: 10 * time.Second},
		undo:        "nothing to undo: it only reads",
		apply:       preflightAgain,
	},
	{
		// The pre-copy (RunOptions.Precopy): the full snapshot and the full encrypted copy,
		// while the source keeps serving writes. The snapshot and the copy inside the freeze
		// are then incremental: a snapshot holds what changed since the previous one, and a
		// copy with the same key is incremental while this earlier copy of the same source
		// exists (RDS user guide, "Copying a DB snapshot"; docs/precopy.md).
		name: StepPreSnapshot, actions: []string{"CreateDBSnapshot"}, mutating: true,
		describe: func(p *Plan, n Names) string {
			return fmt.Sprintf("snapshot %s as %s while it keeps serving writes (pre-copy)", p.Source, n.PreSnapshot)
		},
		permissions: []string{"rds:DescribeDBSnapshots", "rds:AddTagsToResource", "rds:DeleteDBSnapshot"},
		estimate:    estimate{base: time.Minute, perGB: 6 * time.Second},
		undo:        "rollback and cleanup delete the pre-copy snapshot",
		observe:     observeSnapshot(func(n Names) string { return n.PreSnapshot }), apply: applyPreSnapshot,
		wait: waitSnapshot(func(n Names) string { return n.PreSnapshot }),
	},
	{
		name: StepPreCopy, actions: []string{"CopyDBSnapshot"}, mutating: true,
		describe: func(p *Plan, n Names) string {
			return fmt.Sprintf("copy %s to %s encrypted with %s while writes continue (pre-copy; kept until the final copy is done)", n.PreSnapshot, n.PreEncryptedSnapshot, p.KmsKeyARN)
		},
		permissions: []string{"rds:DescribeDBSnapshots", "rds:AddTagsToResource", "rds:DeleteDBSnapshot", "kms:CreateGrant"},
		estimate:    estimate{base: 3 * time.Minute, perGB: 12 * time.Second},
		undo:        "rollback and cleanup delete the pre-copy's encrypted copy",
		observe:     observeSnapshot(func(n Names) string { return n.PreEncryptedSnapshot }), apply: applyPreCopy,
		wait: waitSnapshot(func(n Names) string { return n.PreEncryptedSnapshot }),
	},
	{
		// The AWS calls depend on the freeze mode (freeze.go): only enforce makes any
		// (enforce.go); iam-policy allows them as permissions.
		name: StepFreeze, mutating: true, downtime: true, skippable: true,
		local:       "with --freeze enforce closes the source to clients (enforceActions); else runs the freeze hook, or asks the operator to stop writes",
		describe:    freezeStepText,
		permissions: enforcePermissions,
		estimate:    estimate{base: 30 * time.Second},
		undo:        "rollback puts the source's original security groups back (enforce) and lets writes resume (the unfreeze hook, or the operator) when they were frozen and not yet let resume",
		observe:     observeFreeze, apply: applyFreeze, approval: freezeApproval,
	},
	{
		name: StepSnapshot, actions: []string{"CreateDBSnapshot"}, mutating: true, downtime: true,
		describe: func(p *Plan, n Names) string {
			if replica := p.resourceName(RolePositionReplica); replica != "" {
				return fmt.Sprintf("snapshot the temporary replica %s, stopped at the start position, as %s (replication, MySQL: its data is %s's up to that position)", replica, n.Snapshot, p.Source)
			}
			return fmt.Sprintf("snapshot %s as %s", p.Source, n.Snapshot)
		},
		permissions: []string{"rds:DescribeDBSnapshots", "rds:AddTagsToResource", "rds:DeleteDBSnapshot"}, // a failed one is taken again
		estimate:    estimate{base: time.Minute, perGB: 6 * time.Second},
		undo:        "rollback deletes the unencrypted snapshot (tagged and journaled as ours)",
		observe:     observeSnapshot(func(n Names) string { return n.Snapshot }), apply: applySnapshot,
		wait: waitMigrationSnapshot,
	},
	{
		name: StepCopy, actions: []string{"CopyDBSnapshot"}, mutating: true, downtime: true,
		describe: func(p *Plan, n Names) string {
			return fmt.Sprintf("copy %s to %s encrypted with %s", n.Snapshot, n.EncryptedSnapshot, p.KmsKeyARN)
		},
		permissions: []string{"rds:DescribeDBSnapshots", "rds:AddTagsToResource", "rds:DeleteDBSnapshot", "kms:CreateGrant"},
		estimate:    estimate{base: 3 * time.Minute, perGB: 12 * time.Second},
		undo:        "rollback deletes the encrypted copy",
		observe:     observeSnapshot(func(n Names) string { return n.EncryptedSnapshot }), apply: applyCopy,
		wait: waitSnapshot(func(n Names) string { return n.EncryptedSnapshot }),
	},
	{
		name: StepRestore, actions: []string{"RestoreDBInstanceFromDBSnapshot"}, mutating: true, downtime: true,
		describe: func(p *Plan, n Names) string {
			return fmt.Sprintf("restore %s from %s with every restorable setting", n.Target, n.EncryptedSnapshot)
		},
		permissions: []string{"rds:AddTagsToResource", "kms:CreateGrant", "rds:DeleteDBInstance"}, // a failed one is restored again
		// Available before its volume is loaded (lazy loading): the time does not grow with
		// the size; first reads of each block are slow instead (plan warns). The initial
		// backup comes on top when backups are on (estimateModel).
		estimate: estimate{base: 8 * time.Minute},
		undo:     "rollback deletes the new instance, with a final snapshot once cutover has begun (it may have taken writes)",
		observe:  observeRestore, apply: applyRestore, wait: waitTargetSettled,
	},
	{
		// Only the settings that matter before applications return (model.Route
		// AfterCutover false): the rest waits for modify-after-cutover, outside the freeze
		// (docs/precopy.md#settings-after-cutover).
		name: StepModify, actions: []string{"ModifyDBInstance", "RebootDBInstance"}, mutating: true, downtime: true,
		describe: func(p *Plan, n Names) string {
			return fmt.Sprintf("apply to %s the settings restore cannot carry that matter before applications return", n.Target)
		},
		estimate: estimate{base: 3 * time.Minute}, // stepEstimate: 0 when no such setting needs it
		undo:     "nothing of its own: it changes only the new instance, which rollback deletes",
		observe:  observeModify, apply: applyModify, wait: waitTargetSettled,
	},
	{
		// Planned only for a source with IAM role associations (buildInstancePlan): a
		// restore takes none (attachments.go).
		name: StepAddRoles, actions: []string{"AddRoleToDBInstance"}, mutating: true, downtime: true,
		describe:    rolesDescription,
		permissions: []string{"iam:PassRole", "rds:DescribeDBInstances"},
		estimate:    estimate{base: time.Minute},
		undo:        "nothing of its own: the associations belong to the new instance, which rollback deletes",
		observe:     observeRoles, apply: applyRoles, wait: waitTargetSettled,
	},
	{
		name: StepParity, actions: []string{"DescribeDBInstances"}, downtime: true,
		describe: func(p *Plan, n Names) string {
			return fmt.Sprintf("compare every setting of %s with %s", n.Target, p.Source)
		},
		estimate: estimate{base: 5 * time.Second},
		undo:     "nothing to undo: it only reads and journals the accepted differences",
		apply:    checkParity,
	},
	{
		name: StepRenameSource, actions: []string{"ModifyDBInstance"}, mutating: true, downtime: true,
		describe: func(p *Plan, n Names) string {
			return fmt.Sprintf("rename %s to %s (its endpoint stops answering; the name is free after about 30 s)", p.Source, n.Retired)
		},
		// The next step starts as soon as the old identifier is free, not when the renamed
		// source is available again (~10 min later): USER_RenameInstance.
		estimate: estimate{base: 30 * time.Second},
		undo:     "rollback renames the source back to its name and waits until its endpoint answers",
		observe:  observeRetired, apply: applyRetire, wait: waitRetired, approval: cutoverApproval,
	},
	{
		name: StepRenameTarget, actions: []string{"ModifyDBInstance"}, mutating: true, downtime: true,
		describe: func(p *Plan, n Names) string {
			return fmt.Sprintf("rename %s to %s and wait for the original endpoint to answer", n.Target, p.Source)
		},
		estimate: estimate{base: 10 * time.Minute},
		undo:     "rollback first renames the new instance back to its temporary name, which frees the source's name",
		observe:  observePromoted, apply: applyPromote, wait: waitPromoted, approvedWith: StepRenameSource,
	},
	{
		name: StepUnfreeze, mutating: true,
		local: "runs the unfreeze hook, or tells the operator writes may resume",
		describe: func(p *Plan, n Names) string {
			return "let applications write again, to the encrypted " + p.Source + " (write downtime ends)"
		},
		estimate: estimate{base: 5 * time.Second},
		undo:     "nothing to undo: writes must be allowed after a rollback too",
		apply:    applyUnfreeze, approval: unfreezeApproval,
	},
	{
		// After writes resume: the settings that change neither what applications write
		// nor how they connect (windows, monitoring, Performance Insights, the storage
		// autoscaling ceiling, deletion protection...). None of them reboots the instance;
		// verify then compares every setting again.
		name: StepModifyLate, actions: []string{"ModifyDBInstance"}, mutating: true,
		describe: func(p *Plan, n Names) string {
			return fmt.Sprintf("apply to the encrypted %s the settings that do not affect writes (maintenance and backup windows, monitoring, Performance Insights, storage autoscaling ceiling, deletion protection), without a reboot", p.Source)
		},
		estimate: estimate{base: 3 * time.Minute}, // stepEstimate: less when none of them takes the instance through modifying
		undo:     "nothing of its own: it changes only the encrypted instance; a later rollback renames it back and deletes it with a final snapshot",
		observe:  observeModifyLate, apply: applyModifyLate, wait: waitTargetSettled,
	},
	{
		name: StepVerify, actions: []string{"DescribeDBInstances"},
		// The event subscriptions of the source are read, and put back should one have
		// lost the name (attachments.go).
		permissions: []string{"rds:DescribeEventSubscriptions", "rds:AddSourceIdentifierToSubscription", "rds:RemoveSourceIdentifierFromSubscription"},
		describe: func(p *Plan, n Names) string {
			return fmt.Sprintf("verify %s is encrypted with the key, at the original endpoint, with every setting and tag", p.Source)
		},
		estimate: estimate{base: 10 * time.Second},
		undo:     "nothing to undo: it only reads",
		apply:    verifyTarget,
	},
	// Only for a source whose master password is managed in Secrets Manager (master_secret.go).
	managedInstanceStep,
}

// instanceRoute migrates a DB instance and its read replicas.
type instanceRoute struct{}

func (instanceRoute) steps() []step { return allInstanceSteps }

func (instanceRoute) plan(ctx context.Context, e *Engine, api model.RDS, req MigrateRequest) (*Plan, error) {
	in, err := e.prepareInstance(ctx, api, req)
	if err != nil {
		return nil, err
	}
	p := buildInstancePlan(in)
	if err := checkSnapshotQuota(ctx, api, p, planCommand(KindInstance, in.src.ID, req.KmsKey)); err != nil { // preflight_rules.go
		return nil, err
	}
	return p, nil
}

func (instanceRoute) start(ctx context.Context, e *Engine, api model.RDS, req MigrateRequest) (*Report, error) {
	return e.migrateInstance(ctx, api, req)
}

func (instanceRoute) rebuild(ctx context.Context, e *Engine, api model.RDS, region, source string) (string, error) {
	return e.rebuildInstance(ctx, api, region, source)
}

func (instanceRoute) reload(ctx context.Context, r *run) error  { return reloadInstance(ctx, r) }
func (instanceRoute) undo(ctx context.Context, r *run) error    { return undoInstance(ctx, r) }
func (instanceRoute) cleanup(ctx context.Context, r *run) error { return cleanupInstance(ctx, r) }
func (instanceRoute) cleanupSummary(r *run) Approval            { return instanceCleanupSummary(r) }

// undoAndCleanupActions: renames back and deletion protection turned off (ModifyDBInstance),
// deletions, and the final snapshots of deletions (authorized as CreateDBSnapshot), tagged
// as the migration's.
func (instanceRoute) undoAndCleanupActions() []string {
	return []string{"rds:DescribeDBInstances", "rds:DescribeDBSnapshots", "rds:ModifyDBInstance", "rds:DeleteDBInstance",
		"rds:CreateDBSnapshot", "rds:AddTagsToResource", "rds:DeleteDBSnapshot", "ec2:DescribeSecurityGroups", "ec2:DeleteSecurityGroup",
		// the parameter group copy of a MySQL/MariaDB replication run (replication_group_copy.go)
		"rds:DescribeDBParameterGroups", "rds:ListTagsForResource", "rds:DeleteDBParameterGroup"}
}
