package rdssim

import "strings"

// Storage rules of the instance-creating calls (CreateDBInstance,
// RestoreDBInstanceFromDBSnapshot, CreateDBInstanceReadReplica) and of ModifyDBInstance.
//
// gp3 (RDS User Guide, "Amazon RDS DB instance storage", gp3 storage): below a size threshold
// the volume has a fixed baseline of 3,000 IOPS and 125 MiB/s; from the threshold on it is
// striped, with a baseline of 12,000 IOPS and 500 MiB/s that may be raised. The threshold is
// 400 GiB for Db2, MariaDB, MySQL and PostgreSQL and 200 GiB for Oracle; SQL Server has none
// (its baseline is 3,000 / 125 at any size). Below the threshold AWS refuses explicit Iops or
// StorageThroughput, even at the baseline values Describe reports, with
// InvalidParameterCombination "You can't specify IOPS or storage throughput for engine postgres
// and a storage size less than 400." (the message quoted in cloudtools/troposphere#2141 and
// #2153, cloud-gov/terraform-provision#1556). The user guide does not say whether ModifyDBInstance
// follows the same rule: the stricter reading is taken and it does.
//
// SQL Server (SDK v1.133.0 doc comments of RestoreDBInstanceFromDBSnapshotInput and
// CreateDBInstanceReadReplicaInput.AllocatedStorage: "This setting isn't valid for RDS for SQL
// Server"). AWS's CloudFormation handler (aws-cloudformation-resource-providers-rds#436) says
// SQL Server restores reject the whole set of storage attributes and sets them with a modify
// afterwards; the stricter reading is taken: AllocatedStorage, StorageType, Iops and
// StorageThroughput are all refused there. AWS's exact message is not documented; the
// simulator's wording names the parameter.

// defaultLifecycleSupport is AWS's default EngineLifecycleSupport for RDS instances: enrolled
// in RDS Extended Support (SDK v1.133.0 doc comments of CreateDBInstanceInput and
// RestoreDBInstanceFromDBSnapshotInput).
const defaultLifecycleSupport = "open-source-rds-extended-support"

// gp3Threshold is the allocated storage (GiB) from which gp3 IOPS and throughput may be
// chosen; 0 means the engine has no threshold.
func gp3Threshold(engine string) int32 {
	switch {
	case strings.HasPrefix(engine, "sqlserver"):
		return 0
	case strings.HasPrefix(engine, "oracle"):
		return 200
	}
	return 400
}

// gp3Baseline returns the IOPS and throughput of a gp3 volume left at its baseline.
func gp3Baseline(engine string, allocated int32) (iops, throughput int32) {
	if t := gp3Threshold(engine); t > 0 && allocated >= t {
		return 12000, 500
	}
	return 3000, 125
}

// errGP3BelowThreshold is AWS's answer to explicit IOPS or throughput on a small gp3 volume.
func errGP3BelowThreshold(engine string, threshold int32) *apiError {
	return errCombination("You can't specify IOPS or storage throughput for engine %s and a storage size less than %d.", engine, threshold)
}

// checkGP3Params refuses explicit Iops or StorageThroughput for a gp3 volume below its
// engine's threshold. c is the configuration the call would produce.
func checkGP3Params(p *params, c *instanceConfig) *apiError {
	if c.StorageType != "gp3" || engines[c.Engine] == nil || engines[c.Engine].Aurora {
		return nil
	}
	t := gp3Threshold(c.Engine)
	if t > 0 && c.AllocatedStorage < t && (p.has("Iops") || p.has("StorageThroughput")) {
		return errGP3BelowThreshold(c.Engine, t)
	}
	return nil
}

// checkSQLServerStorageParams refuses storage parameters on a SQL Server restore or replica
// creation (action names the call in the message).
func checkSQLServerStorageParams(p *params, engine, action string) *apiError {
	if !strings.HasPrefix(engine, "sqlserver") {
		return nil
	}
	for _, name := range []string{"AllocatedStorage", "StorageType", "Iops", "StorageThroughput"} {
		if p.has(name) {
			return errCombination("%s isn't valid for %s with engine %s: the storage of the snapshot or source applies; change it with ModifyDBInstance afterwards.", name, action, engine)
		}
	}
	return nil
}

// fillGP3Baseline sets the IOPS and throughput a gp3 volume reports when none were chosen,
// and puts a small volume back to its fixed baseline.
func fillGP3Baseline(c *instanceConfig) {
	if c.StorageType != "gp3" {
		return
	}
	iops, tp := gp3Baseline(c.Engine, c.AllocatedStorage)
	if t := gp3Threshold(c.Engine); t > 0 && c.AllocatedStorage < t {
		c.Iops, c.StorageThroughput = iops, tp
		return
	}
	if c.Iops == 0 {
		c.Iops = iops
	}
	if c.StorageThroughput == 0 {
		c.StorageThroughput = tp
	}
}

// replicaParameterGroupAllowed says whether CreateDBInstanceReadReplica accepts
// DBParameterGroupName (SDK v1.133.0 doc comment of CreateDBInstanceReadReplicaInput
// .DBParameterGroupName: "only supported for MySQL DB instances for cross-Region read
// replicas, for Multi-AZ DB cluster read replica instances, for Db2 DB instances, and for
// Oracle DB instances. It isn't supported for MySQL DB instances for same Region read replicas
// or for RDS Custom."). MariaDB is not named: the stricter reading refuses it too. AWS's answer
// otherwise: InvalidParameterCombination "A parameter group can't be specified during Read
// Replica creation for the following DB engine: postgres".
func replicaParameterGroupAllowed(engine string, crossRegion bool) bool {
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

func errReplicaParameterGroup(engine string) *apiError {
	return errCombination("A parameter group can't be specified during Read Replica creation for the following DB engine: %s", engine)
}
