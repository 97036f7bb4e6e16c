package awsclient

// RDS status strings (rds-behaviour.md §6). Compare statuses with these, never with literals.
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
