package workflow

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// Preflight checks for sources AWS cannot restore, or rdsencrypt cannot move, and for the
// snapshot quota: each refuses before any side effect, saying what to do.

// checkInstanceKind refuses RDS Custom instances and members of Multi-AZ DB clusters.
//   - RDS Custom (engines custom-*): renaming does not apply the same way and a restore needs
//     the instance profile and the custom engine version (SDK v1.133.0 doc comments of
//     RestoreDBInstanceFromDBSnapshotInput.CustomIamInstanceProfile, "This setting is required
//     for RDS Custom"; CreateDBInstanceReadReplicaInput.DBParameterGroupName, "It isn't
//     supported ... for RDS Custom").
//   - A Multi-AZ DB cluster (a DB cluster of engine mysql or postgres) is restored with
//     RestoreDBClusterFromSnapshot and DBClusterInstanceClass, not instance by instance.
func checkInstanceKind(src *model.Instance, kmsKey string) error {
	engine := src.Settings.Engine
	if strings.HasPrefix(engine, "custom-") {
		return errorf(src.ID, "encrypt it by the RDS Custom procedure (snapshot, copy-db-snapshot --kms-key-id, restore-db-instance-from-db-snapshot with --custom-iam-instance-profile), see the RDS Custom user guide", nil,
			"DB instance %s is RDS Custom (%s), which rdsencrypt does not migrate: a restore needs its instance profile and custom engine version", src.ID, engine)
	}
	// Settings a migration does not carry, which parity could not see missing (issue 13 item
	// 10): a Kerberos domain membership needs the directory's IAM role and DNS settings, an
	// Oracle TDE credential its password, neither of which the tool may read.
	if src.Settings.Domain != "" {
		return errorf(src.ID, "remove the domain membership (modify-db-instance --disable-domain) before migrating and re-join the encrypted instance after cutover, or encrypt it by hand", nil,
			"DB instance %s is joined to Active Directory domain %s (Kerberos authentication), which rdsencrypt does not carry", src.ID, src.Settings.Domain)
	}
	if src.Settings.TdeCredentialArn != "" {
		return errorf(src.ID, "encrypt it by hand: restore-db-instance-from-db-snapshot needs --tde-credential-arn and --tde-credential-password", nil,
			"DB instance %s uses Oracle TDE credential %s, which rdsencrypt does not carry", src.ID, src.Settings.TdeCredentialArn)
	}
	if src.ClusterID != "" && !strings.HasPrefix(engine, "aurora") {
		return errorf(src.ID, "encrypt the cluster by hand: create-db-cluster-snapshot, copy-db-cluster-snapshot --kms-key-id "+kmsKey+", restore-db-cluster-from-snapshot --db-cluster-instance-class, then move the endpoints", nil,
			"DB instance %s is a member of Multi-AZ DB cluster %s (%s), which rdsencrypt does not migrate", src.ID, src.ClusterID, engine)
	}
	return nil
}

// checkEngineVersionOffered refuses a source whose exact engine version AWS no longer offers:
// its snapshot would have to be upgraded (ModifyDBSnapshot, SDK v1.133.0 doc comment) before
// a restore, which would change the version under the migration.
func checkEngineVersionOffered(ctx context.Context, api model.RDS, resource, engine, version, retry string) error {
	ok, err := api.EngineVersionOffered(ctx, engine, version)
	if err != nil {
		return errorf(resource, "check rds:DescribeDBEngineVersions permission, then retry: "+retry, err, "cannot check engine version %s %s", engine, version)
	}
	if ok {
		return nil
	}
	return errorf(resource, fmt.Sprintf("upgrade %s to an engine version AWS offers (aws rds describe-db-engine-versions --engine %s), in a maintenance window, then %s", resource, engine, retry), nil,
		"%s runs %s %s, which AWS no longer offers (DescribeDBEngineVersions): a snapshot of it cannot be restored without an upgrade", resource, engine, version)
}

// SnapshotNeed is what a planned migration takes of its region's manual snapshot quota
// (DescribeAccountAttributes: ManualSnapshots for DB snapshots, ManualClusterSnapshots for DB
// cluster snapshots, two separate quotas; 100 each by default).
type SnapshotNeed struct {
	// Cluster: DB cluster snapshots (an Aurora cluster's route), else DB snapshots.
	Cluster bool
	// Steps are the planned steps that create a manual snapshot (CreateDBSnapshot,
	// CopyDBSnapshot, or their cluster counterparts), in order: each keeps its snapshot until
	// cleanup or rollback deletes it (docs/precopy.md). Read replicas and the temporary
	// replica of the replication strategy add none: AWS takes no final snapshot of a replica.
	Steps []string
}

// Peak is how many manual snapshots the migration holds at its peak: its steps' snapshots,
// and the final snapshot that cleanup takes of the retired source (or a rollback after the
// cutover of the new instance or cluster) before it deletes them.
func (n SnapshotNeed) Peak() int { return len(n.Steps) + 1 }

// SnapshotsNeeded counts, from the plan's steps, the manual snapshots its migration holds.
func SnapshotsNeeded(p *Plan) SnapshotNeed {
	n := SnapshotNeed{Cluster: p.Kind == KindCluster}
	for _, s := range p.Steps {
		if slices.ContainsFunc(s.Actions, createsManualSnapshot) {
			n.Steps = append(n.Steps, s.Name)
		}
	}
	return n
}

// createsManualSnapshot: the AWS calls that make a manual snapshot.
func createsManualSnapshot(action string) bool {
	switch action {
	case "CreateDBSnapshot", "CopyDBSnapshot", "CreateDBClusterSnapshot", "CopyDBClusterSnapshot":
		return true
	}
	return false
}

// SnapshotKind names the snapshots of a quota, and the quota as Service Quotas lists it.
func SnapshotKind(cluster bool) (kind, quota string) {
	if cluster {
		return "DB cluster snapshots", "Manual DB cluster snapshots"
	}
	return "DB snapshots", "Manual DB instance snapshots"
}

// checkSnapshotQuota refuses a migration whose snapshots, at their peak (SnapshotsNeeded),
// would not fit in what the region's manual snapshot quota has left: AWS would refuse one of
// them with SnapshotQuotaExceeded, the encrypted copy inside the write freeze at worst.
// retry is the plan command to run again.
func checkSnapshotQuota(ctx context.Context, api model.RDS, p *Plan, retry string) error {
	need := SnapshotsNeeded(p)
	used, max, err := api.SnapshotQuota(ctx, need.Cluster)
	if err != nil {
		return errorf(p.Source, "check rds:DescribeAccountAttributes permission, then retry: "+retry, err, "cannot read the manual snapshot quota of %s", api.Region())
	}
	if used+need.Peak() <= max {
		return nil
	}
	kind, quota := SnapshotKind(need.Cluster)
	next := fmt.Sprintf("delete manual %s you no longer need, or raise the quota (Service Quotas: Amazon RDS, %q), then %s", kind, quota, retry)
	if pre := need.without(StepPreSnapshot, StepPreCopy); pre.Peak() < need.Peak() && used+pre.Peak() <= max {
		next += fmt.Sprintf("; or without the pre-copy, which needs %d: %s --precopy=false", pre.Peak(), retry)
	}
	return errorf(p.Source, next, nil, "the migration of %s needs %d manual %s and %s has %d of its %d in use (its steps %s keep one each until cleanup, whose final snapshot is one more)",
		p.Source, need.Peak(), kind, api.Region(), used, max, strings.Join(need.Steps, ", "))
}

// without is the need with the given steps left out.
func (n SnapshotNeed) without(steps ...string) SnapshotNeed {
	out := SnapshotNeed{Cluster: n.Cluster}
	for _, s := range n.Steps {
		if !slices.Contains(steps, s) {
			out.Steps = append(out.Steps, s)
		}
	}
	return out
}
