package workflow

import (
	"fmt"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// creation names the call that creates a new instance, for AWS's rules on which settings it
// accepts: RestoreDBInstanceFromDBSnapshot, or CreateDBInstanceReadReplica in the source's
// region or another.
type creation struct {
	replica     bool
	crossRegion bool
}

var (
	byRestore         = creation{}
	bySameRegionCopy  = creation{replica: true}
	byCrossRegionCopy = creation{replica: true, crossRegion: true}
)

// replicaCreation is how a replica of a parent in parentRegion is created in region.
func replicaCreation(parentRegion, region string) creation {
	if parentRegion != "" && parentRegion != region {
		return byCrossRegionCopy
	}
	return bySameRegionCopy
}

// acceptedAtCreation applies AWS's rules on settings that the creating call refuses although
// the route table lists them for it; a setting refused here reaches the new instance by the
// modify step instead (or comes with the snapshot or source):
//
//   - gp3 storage below its engine's size threshold (400 GiB for Db2, MariaDB, MySQL and
//     PostgreSQL, 200 GiB for Oracle; none for SQL Server) takes no explicit Iops or
//     StorageThroughput, even at the baseline values Describe reports (RDS User Guide,
//     "Amazon RDS DB instance storage", gp3 storage; AWS answers InvalidParameterCombination
//     "You can't specify IOPS or storage throughput for engine postgres and a storage size
//     less than 400."). The snapshot's or source's baseline applies.
//   - SQL Server: AllocatedStorage "isn't valid for RDS for SQL Server" on restore and replica
//     creation (SDK v1.133.0 doc comments of RestoreDBInstanceFromDBSnapshotInput and
//     CreateDBInstanceReadReplicaInput). AWS's CloudFormation handler leaves every storage
//     attribute out there and modifies afterwards (aws-cloudformation-resource-providers-rds
//     #436): the stricter reading is followed and StorageType, Iops and StorageThroughput are
//     left out too.
//   - CreateDBInstanceReadReplica accepts DBParameterGroupName only for cross-region MySQL
//     replicas, Oracle and Db2 (and Multi-AZ DB cluster replicas, which this tool does not
//     create); "It isn't supported for MySQL DB instances for same Region read replicas or for
//     RDS Custom" (SDK v1.133.0 doc comment of CreateDBInstanceReadReplicaInput
//     .DBParameterGroupName). MariaDB is not named: the stricter reading leaves it out too.
//     Elsewhere the replica starts with its source's group (same region) or the region's
//     default (cross region), and the replica-modify step sets the group and reboots, as
//     the Terraform AWS provider does.
func acceptedAtCreation(s model.InstanceSettings, name model.Setting, how creation) bool {
	return refusedAtCreation(s, name, how) == ""
}

// refusedAtCreation says why AWS refuses the setting at creation ("" when it accepts it).
func refusedAtCreation(s model.InstanceSettings, name model.Setting, how creation) string {
	call := "restore"
	if how.replica {
		call = "replica creation"
	}
	switch name {
	case "AllocatedStorage", "StorageType", "Iops", "StorageThroughput":
		if isSQLServer(s.Engine) {
			return "SQL Server takes no storage parameter at " + call + ": the snapshot's storage applies, a difference is modified afterwards"
		}
	}
	switch name {
	case "Iops", "StorageThroughput":
		if gp3BelowThreshold(s) {
			return fmt.Sprintf("gp3 below %d GiB takes no explicit IOPS or throughput: the baseline applies", gp3Threshold(s.Engine))
		}
	case "DBParameterGroupName":
		if how.replica && !replicaParameterGroupAccepted(s.Engine, how.crossRegion) {
			return "replica creation takes no parameter group for this engine and region: set by a modify and a reboot"
		}
	}
	return ""
}

func isSQLServer(engine string) bool { return strings.HasPrefix(engine, "sqlserver") }

// gp3Threshold is the allocated storage (GiB) from which gp3 IOPS and throughput may be
// chosen; 0: no threshold.
func gp3Threshold(engine string) int32 {
	switch {
	case isSQLServer(engine):
		return 0
	case strings.HasPrefix(engine, "oracle"):
		return 200
	}
	return 400
}

// gp3BelowThreshold reports whether s is gp3 storage whose IOPS and throughput are fixed.
func gp3BelowThreshold(s model.InstanceSettings) bool {
	t := gp3Threshold(s.Engine)
	return s.StorageType == "gp3" && t > 0 && s.AllocatedStorage < t
}

func replicaParameterGroupAccepted(engine string, crossRegion bool) bool {
	switch {
	case strings.HasPrefix(engine, "custom-"):
		return false
	case strings.HasPrefix(engine, "oracle"), strings.HasPrefix(engine, "db2"):
		return true
	case engine == "mysql":
		return crossRegion
	}
	return false
}
