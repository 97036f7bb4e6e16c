package workflow

import (
	"context"
	"fmt"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// Preflight checks for sources AWS cannot restore, or rdsencrypt cannot move, and for the
// snapshot quota: each refuses before any side effect, saying what to do.

// snapshotsPerMigration is how many manual snapshots a migration has at its peak: the
// snapshot, its encrypted copy, and the final snapshot of cleanup (or of a rollback after
// cutover) taken before the unencrypted snapshot is deleted.
const snapshotsPerMigration = 3

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

// checkSnapshotQuota refuses a migration that would exceed the region's manual snapshot quota
// (DescribeAccountAttributes ManualSnapshots, or ManualClusterSnapshots; 100 by default),
// counting the snapshots it will create.
func checkSnapshotQuota(ctx context.Context, api model.RDS, resource string, cluster bool, retry string) error {
	used, max, err := api.SnapshotQuota(ctx, cluster)
	if err != nil {
		return errorf(resource, "check rds:DescribeAccountAttributes permission, then retry: "+retry, err, "cannot read the manual snapshot quota of %s", api.Region())
	}
	if used+snapshotsPerMigration <= max {
		return nil
	}
	kind, quota := "DB snapshots", "Manual DB instance snapshots"
	if cluster {
		kind, quota = "DB cluster snapshots", "Manual DB cluster snapshots"
	}
	return errorf(resource, fmt.Sprintf("delete manual %s you no longer need, or raise the quota (Service Quotas: Amazon RDS, %q), then %s", kind, quota, retry), nil,
		"the migration of %s needs %d manual %s and %s has %d of its %d in use", resource, snapshotsPerMigration, kind, api.Region(), used, max)
}
