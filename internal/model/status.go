package model

import (
	"slices"
	"strings"
)

// RDS status strings (docs/aws-behaviour.md#statuses). Compare statuses with these, never with literals.
const (
	StatusAvailable    = "available"
	StatusCreating     = "creating"
	StatusBackingUp    = "backing-up"
	StatusModifying    = "modifying"
	StatusRenaming     = "renaming"
	StatusRebooting    = "rebooting"
	StatusDeleting     = "deleting"
	StatusStorageOptim = "storage-optimization"

	SnapshotAvailable = "available"
	SnapshotCreating  = "creating"
	SnapshotCopying   = "copying"
	SnapshotPending   = "pending"
	SnapshotDeleting  = "deleting"
	SnapshotFailed    = "failed"
)

// instanceFailureStatuses end an operation: waiting longer will not make the instance available.
var instanceFailureStatuses = map[string]bool{
	"failed":                              true,
	"incompatible-restore":                true,
	"incompatible-parameters":             true,
	"incompatible-network":                true,
	"incompatible-option-group":           true,
	"incompatible-create":                 true,
	"restore-error":                       true,
	"inaccessible-encryption-credentials": true,
	"insufficient-capacity":               true,
	"storage-full":                        true,
	"stopped":                             true,
}

// IsInstanceFailed reports whether an instance status is one an operation cannot recover from.
func IsInstanceFailed(status string) bool { return instanceFailureStatuses[status] }

// IsSnapshotFailed reports whether a snapshot status is a failure.
func IsSnapshotFailed(status string) bool { return status == SnapshotFailed }

// clusterFailureStatuses end a cluster operation.
var clusterFailureStatuses = map[string]bool{
	"failed":                              true,
	"inaccessible-encryption-credentials": true,
	"incompatible-restore":                true,
	"incompatible-parameters":             true,
	"stopped":                             true,
}

// IsClusterFailed reports whether a cluster status is one an operation cannot recover from.
func IsClusterFailed(status string) bool { return clusterFailureStatuses[status] }

// Instance status names used by waits and callers (aliases of the shared names above where
// they coincide, so either spelling compares equal).
const (
	InstanceAvailable                 = StatusAvailable
	InstanceCreating                  = StatusCreating
	InstanceBackingUp                 = StatusBackingUp
	InstanceModifying                 = StatusModifying
	InstanceRenaming                  = StatusRenaming
	InstanceRebooting                 = StatusRebooting
	InstanceDeleting                  = StatusDeleting
	InstanceStorageOptimization       = StatusStorageOptim
	InstanceConfiguringMonitoring     = "configuring-enhanced-monitoring"
	InstanceConfiguringLogExports     = "configuring-log-exports"
	InstanceConfiguringIAMAuth        = "configuring-iam-database-auth"
	InstanceStopped                   = "stopped"
	InstanceFailed                    = "failed"
	InstanceRestoreError              = "restore-error"
	InstanceIncompatibleRestore       = "incompatible-restore"
	InstanceIncompatibleParameters    = "incompatible-parameters"
	InstanceInaccessibleEncryptionKey = "inaccessible-encryption-credentials"
	InstanceInsufficientCapacity      = "insufficient-capacity"
	InstanceStorageFull               = "storage-full"

	ClusterAvailable                 = StatusAvailable
	ClusterCreating                  = StatusCreating
	ClusterBackingUp                 = StatusBackingUp
	ClusterModifying                 = StatusModifying
	ClusterRenaming                  = StatusRenaming
	ClusterDeleting                  = StatusDeleting
	ClusterFailed                    = "failed"
	ClusterInaccessibleEncryptionKey = "inaccessible-encryption-credentials"

	EndpointAvailable = "available"
	EndpointCreating  = "creating"
	EndpointDeleting  = "deleting"
)

// IsInstanceAvailable reports whether the instance can be snapshotted, modified or used.
func IsInstanceAvailable(i *Instance) bool { return i != nil && i.Status == InstanceAvailable }

// IsClusterAvailable reports whether the cluster is available.
func IsClusterAvailable(c *Cluster) bool { return c != nil && c.Status == ClusterAvailable }

// IsSnapshotAvailable reports whether a snapshot (instance or cluster) is complete.
func IsSnapshotAvailable(s *Snapshot) bool { return s != nil && s.Status == SnapshotAvailable }

// InstanceAvailableAs is the end of a rename: the instance answers to id and is available
// with no rename still pending (docs/aws-behaviour.md#renames: right after the call the old id
// may still report available).
func InstanceAvailableAs(id string) func(*Instance) bool {
	id = NormalizeID(id)
	return func(i *Instance) bool {
		return IsInstanceAvailable(i) && i.ID == id && !slices.Contains(i.PendingModifications, "DBInstanceIdentifier")
	}
}

// ClusterAvailableAs is the end of a cluster rename.
func ClusterAvailableAs(id string) func(*Cluster) bool {
	id = NormalizeID(id)
	return func(c *Cluster) bool { return IsClusterAvailable(c) && c.ID == id }
}

// ParameterPendingReboot is the ParameterApplyStatus of a parameter group that applies only
// after a reboot.
const ParameterPendingReboot = "pending-reboot"

// normalizeID lower-cases an RDS identifier as AWS stores it; ARNs are left alone.
func NormalizeID(id string) string {
	id = strings.TrimSpace(id)
	if strings.HasPrefix(id, "arn:") {
		return id
	}
	return strings.ToLower(id)
}
