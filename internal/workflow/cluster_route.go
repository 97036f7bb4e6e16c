package workflow

import (
	"context"
	"fmt"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// Step kinds of a cluster migration besides the shared ones. member and both endpoint steps
// run once per member or custom endpoint, named "<kind>:<original id>".
const (
	StepMember          = "member"           // create the new member replacing one source member
	StepTempEndpoint    = "endpoint"         // create the new cluster's custom endpoint under a temporary name
	StepCutoverEndpoint = "cutover-endpoint" // move a custom endpoint's name to the new cluster
)

// clusterSteps is the cluster route: the steps of an Aurora cluster migration, in order
// (clusterStepOrder repeats member and endpoint steps per member and custom endpoint). The
// behaviours are in cluster_steps.go, cluster_members.go, cluster_endpoints.go and
// cluster_cutover.go, the rollback in cluster_rollback.go.
//
// Custom endpoints, whose identifiers are unique per region, are first created on the new
// cluster under a temporary name (which proves the quota and the member lists before
// cutover, and lets the operator try the new cluster through them); at cutover, after the
// clusters and members have swapped names, the temporary and the old endpoint are deleted
// and the endpoint is created under its original name on the new cluster, whose members
// then carry the original member names.
//
// Estimates are rough, like the instance route's: Aurora snapshots are storage-level and
// quick; a new member takes about as long as a new instance; renames reboot members.
var clusterSteps = []step{
	{
		name: StepPreflight, actions: []string{"DescribeDBClusters", "DescribeDBInstances", "DescribeDBClusterEndpoints", "kms:DescribeKey", "DescribeDBEngineVersions", "DescribeAccountAttributes",
			"DescribeDBProxies", "DescribeDBProxyTargets", "DescribeIntegrations", "DescribeBlueGreenDeployments", "DescribeEventSubscriptions"},
		describe: func(p *Plan, n Names) string {
			return fmt.Sprintf("check that cluster %s and its members are available, the key is usable and every name is free", p.Source)
		},
		// the endpoints' tags (ListTagsForResource), which the migration recreates them with;
		// the names it will create are free
		permissions: []string{"rds:ListTagsForResource", "rds:DescribeDBClusterSnapshots"},
		estimate:    estimate{base: 10 * time.Second},
		undo:        "nothing to undo: it only reads",
		apply:       func(ctx context.Context, r *run) error { return r.ensureCluster(ctx) },
	},
	{
		name: StepFreeze, mutating: true, downtime: true, skippable: true,
		local:       "with --freeze enforce closes the cluster to clients (enforceClusterActions); else runs the freeze hook, or asks the operator to stop writes",
		permissions: enforceClusterPermissions,
		describe: func(p *Plan, n Names) string {
			switch p.Freeze {
			case FreezeEnforce:
				return freezeStepText(p, n)
			case FreezeHook:
				return "run the freeze hook to stop application writes to cluster " + p.Source + " (write downtime starts here)"
			}
			return "stop application writes to cluster " + p.Source + " (write downtime starts here)"
		},
		estimate: estimate{base: 30 * time.Second},
		undo:     "rollback lets writes resume (the unfreeze hook, or the operator) when they were frozen and not yet let resume",
		observe:  observeFreeze, apply: applyFreeze, approval: freezeApproval,
	},
	{
		name: StepSnapshot, actions: []string{"CreateDBClusterSnapshot"}, mutating: true, downtime: true,
		describe: func(p *Plan, n Names) string {
			return fmt.Sprintf("snapshot cluster %s as %s", p.Source, n.Snapshot)
		},
		permissions: []string{"rds:DescribeDBClusterSnapshots", "rds:AddTagsToResource", "rds:DeleteDBClusterSnapshot"},
		estimate:    estimate{base: 3 * time.Minute},
		undo:        "rollback deletes the unencrypted cluster snapshot, last (the new cluster was restored from it)",
		observe:     observeClusterSnapshot, apply: applyClusterSnapshot, wait: waitClusterSnapshot,
	},
	{
		name: StepRestore, actions: []string{"RestoreDBClusterFromSnapshot"}, mutating: true, downtime: true,
		describe: func(p *Plan, n Names) string {
			return fmt.Sprintf("restore cluster %s from %s encrypted with %s, with every restorable setting", n.Target, n.Snapshot, p.KmsKeyARN)
		},
		// iam:PassRole: the source's IAM roles are passed (AssociatedRoles, attachments.go)
		permissions: []string{"rds:AddTagsToResource", "kms:CreateGrant", "rds:DeleteDBCluster", "iam:PassRole"},
		estimate:    estimate{base: 15 * time.Minute},
		undo:        "rollback deletes the new cluster once its members are gone, with a final cluster snapshot once cutover has begun (it may have taken writes)",
		observe:     observeClusterRestore, apply: applyClusterRestore, wait: waitClusterRestored,
	},
	{
		name: StepModify, actions: []string{"ModifyDBCluster"}, mutating: true, downtime: true,
		describe: func(p *Plan, n Names) string {
			return fmt.Sprintf("apply to cluster %s the settings restore cannot carry", n.Target)
		},
		estimate: estimate{base: 3 * time.Minute},
		undo:     "nothing of its own: it changes only the new cluster, which rollback deletes",
		observe:  observeClusterModify(StepModify), apply: applyClusterModify(StepModify), wait: waitClusterModified(StepModify),
	},
	{
		name: StepMember, actions: []string{"CreateDBInstance", "ModifyDBInstance"}, mutating: true, downtime: true,
		describeSubject: func(p *Plan, subject string) string {
			return fmt.Sprintf("create the new cluster's member replacing %s, with its class, tier, groups, zone, monitoring and insights", subject)
		},
		permissions: []string{"rds:AddTagsToResource", "rds:DeleteDBInstance"},
		estimate:    estimate{base: 12 * time.Minute},
		undo:        "rollback renames the new member back to its temporary name if it took the original one, then deletes it (a member has no storage of its own: no final snapshot)",
		observe:     observeMember, apply: applyMember, wait: waitMember, approval: memberApproval,
	},
	{
		name: StepTempEndpoint, actions: []string{"CreateDBClusterEndpoint"}, mutating: true, downtime: true,
		describeSubject: func(p *Plan, subject string) string {
			return fmt.Sprintf("create custom endpoint %s on the new cluster under a temporary name, members mapped to the new members", subject)
		},
		permissions: []string{"rds:AddTagsToResource"},
		estimate:    estimate{base: 2 * time.Minute},
		undo:        "rollback deletes every custom endpoint the migration made on the new cluster, first",
		observe:     observeTempEndpoint, apply: applyTempEndpoint, wait: waitTempEndpoint,
	},
	{
		name: StepParity, actions: []string{"DescribeDBClusters", "DescribeDBInstances"}, downtime: true,
		describe: func(p *Plan, n Names) string {
			return fmt.Sprintf("compare every setting of cluster %s and of each member with the source", n.Target)
		},
		estimate: estimate{base: 5 * time.Second},
		undo:     "nothing to undo: it only reads and journals the accepted differences",
		apply:    checkClusterParity,
	},
	{
		name: StepRenameSource, actions: []string{"ModifyDBCluster", "ModifyDBInstance"}, mutating: true, downtime: true,
		describe: func(p *Plan, n Names) string {
			return fmt.Sprintf("rename cluster %s to %s and its members to their retired names (its endpoints stop answering)", p.Source, n.Retired)
		},
		estimate: estimate{base: 10 * time.Minute},
		undo:     "rollback renames the source cluster and its members back and waits until their endpoints answer",
		observe:  observeClusterRetired, apply: applyClusterRetire, wait: waitClusterRetired, approval: clusterCutoverApproval,
	},
	{
		name: StepRenameTarget, actions: []string{"ModifyDBCluster", "ModifyDBInstance"}, mutating: true, downtime: true,
		describe: func(p *Plan, n Names) string {
			return fmt.Sprintf("rename cluster %s to %s and its members to the original member names; wait for the original endpoints", n.Target, p.Source)
		},
		estimate: estimate{base: 10 * time.Minute},
		undo:     "rollback renames the new cluster and its members back to their temporary names, which frees the original names",
		observe:  observeClusterPromoted, apply: applyClusterPromote, wait: waitClusterPromoted, approvedWith: StepRenameSource,
	},
	{
		name: StepCutoverEndpoint, actions: []string{"DeleteDBClusterEndpoint", "CreateDBClusterEndpoint"}, mutating: true, downtime: true,
		describeSubject: func(p *Plan, subject string) string {
			return fmt.Sprintf("delete custom endpoint %s of the retired cluster and its temporary copy, then create %s on the new cluster", subject, subject)
		},
		permissions: []string{"rds:AddTagsToResource"},
		estimate:    estimate{base: 2 * time.Minute},
		undo:        "rollback deletes the endpoint from the new cluster and, once the source is back at its names, recreates it on the source from the journal",
		observe:     observeEndpointMoved, apply: applyEndpointMove, wait: waitEndpointMoved,
	},
	{
		name: StepUnfreeze, mutating: true,
		local: "runs the unfreeze hook, or tells the operator writes may resume",
		describe: func(p *Plan, n Names) string {
			return "let applications write again, to the encrypted cluster " + p.Source + " (write downtime ends)"
		},
		estimate: estimate{base: 5 * time.Second},
		undo:     "nothing to undo: writes must be allowed after a rollback too",
		apply:    applyUnfreeze, approval: unfreezeApproval,
	},
	{
		// After writes resume, as for an instance: the settings that change neither what
		// applications write nor how they connect and that a restore does not take (Database
		// Insights mode). Planned only when the source has one (clusterLateSettings).
		name: StepModifyLate, actions: []string{"ModifyDBCluster"}, mutating: true,
		describe: func(p *Plan, n Names) string {
			return fmt.Sprintf("apply to the encrypted cluster %s the settings a restore does not take and that do not affect writes (Database Insights mode)", p.Source)
		},
		estimate: estimate{base: time.Minute},
		undo:     "nothing of its own: it changes only the encrypted cluster; a later rollback renames it back and deletes it with a final snapshot",
		observe:  observeClusterModify(StepModifyLate), apply: applyClusterModify(StepModifyLate), wait: waitClusterModified(StepModifyLate),
	},
	{
		name: StepVerify, actions: []string{"DescribeDBClusters", "DescribeDBInstances", "DescribeDBClusterEndpoints"},
		// The event subscriptions of the source are read, and put back should one have
		// lost the name (attachments.go).
		permissions: []string{"rds:DescribeEventSubscriptions", "rds:AddSourceIdentifierToSubscription", "rds:RemoveSourceIdentifierFromSubscription"},
		describe: func(p *Plan, n Names) string {
			return fmt.Sprintf("verify cluster %s is encrypted with the key, at its original endpoints, with every setting, member and tag", p.Source)
		},
		estimate: estimate{base: 10 * time.Second},
		undo:     "nothing to undo: it only reads",
		apply:    verifyCluster,
	},
	// Only for a source whose master password is managed in Secrets Manager (master_secret.go).
	managedClusterStep,
}

// clusterRoute migrates an Aurora DB cluster, its members and its custom endpoints.
type clusterRoute struct{}

func (clusterRoute) steps() []step { return clusterSteps }

func (clusterRoute) plan(ctx context.Context, e *Engine, api model.RDS, req MigrateRequest) (*Plan, error) {
	return e.planCluster(ctx, api, req)
}

func (clusterRoute) start(ctx context.Context, e *Engine, api model.RDS, req MigrateRequest) (*Report, error) {
	return e.migrateCluster(ctx, api, req)
}

func (clusterRoute) rebuild(ctx context.Context, e *Engine, api model.RDS, region, source string) (string, error) {
	return e.rebuildCluster(ctx, api, region, source)
}

func (clusterRoute) reload(ctx context.Context, r *run) error  { return reloadCluster(ctx, r) }
func (clusterRoute) undo(ctx context.Context, r *run) error    { return undoCluster(ctx, r) }
func (clusterRoute) cleanup(ctx context.Context, r *run) error { return cleanupCluster(ctx, r) }
func (clusterRoute) cleanupSummary(r *run) Approval            { return clusterCleanupSummary(r) }

// undoAndCleanupActions: renames back, deletion protection turned off, custom endpoints
// dropped from the new cluster and recreated on the source, deletions of members and
// clusters, final cluster snapshots (authorized as CreateDBClusterSnapshot), tagged as the
// migration's.
func (clusterRoute) undoAndCleanupActions() []string {
	return []string{"rds:DescribeDBClusters", "rds:DescribeDBInstances", "rds:DescribeDBClusterEndpoints",
		"rds:DescribeDBClusterSnapshots", "rds:ModifyDBCluster", "rds:ModifyDBInstance", "rds:CreateDBClusterEndpoint",
		"rds:DeleteDBClusterEndpoint", "rds:DeleteDBInstance", "rds:DeleteDBCluster", "rds:CreateDBClusterSnapshot",
		"rds:AddTagsToResource", "rds:DeleteDBClusterSnapshot", "ec2:DescribeSecurityGroups", "ec2:DeleteSecurityGroup"}
}
