package workflow

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// Resource roles, as journaled and as tagged (rdsencrypt:role).
const (
	RoleSnapshot          = "snapshot"           // unencrypted snapshot of the source
	RoleEncryptedSnapshot = "encrypted-snapshot" // the encrypted copy
	// The pre-copy (RunOptions.Precopy): a snapshot and its encrypted copy made while writes
	// continue, so that the snapshot and copy inside the freeze are incremental.
	RolePreSnapshot          = "pre-snapshot"
	RolePreEncryptedSnapshot = "pre-encrypted-snapshot"
	RoleTarget               = "target"            // the new encrypted resource
	RoleRetiredSource        = "retired-source"    // the source after cutover (renamed, not created)
	RoleFinalSnapshot        = "final-snapshot"    // taken when cleanup deletes the retired source
	RoleRollbackSnapshot     = "rollback-snapshot" // taken when rollback deletes a target that took writes
	RoleFreezeGroup          = "freeze-group"      // the ingress-free security group of an enforced freeze
	RoleParameterGroup       = "parameter-group"   // the new instance's copy of the source's DB parameter group
)

// Resource types (Resource.Type, journaled as "kind").
const (
	TypeDBInstance        = "db-instance"
	TypeDBSnapshot        = "db-snapshot"
	TypeDBCluster         = "db-cluster"
	TypeDBClusterSnapshot = "db-cluster-snapshot"
	TypeDBClusterEndpoint = "db-cluster-endpoint"
	TypeSecurityGroup     = "security-group"
	TypeDBParameterGroup  = "db-parameter-group"
)

const (
	maxInstanceID = 63  // DB instance and cluster identifiers
	maxSnapshotID = 255 // DB snapshot identifiers
	maxGroupName  = 255 // EC2 security group names (CreateSecurityGroup)
	// DB parameter group names (CopyDBParameterGroup TargetDBParameterGroupIdentifier)
	maxParameterGroupName = 255
)

var migrationIDPattern = regexp.MustCompile(`^[a-z0-9]{8}$`)

// NewMigrationID returns a fresh random migration id: 8 lower-case hex digits.
func NewMigrationID() (string, error) {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate migration id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// ValidMigrationID reports whether id has the form NewMigrationID produces.
func ValidMigrationID(id string) bool { return migrationIDPattern.MatchString(id) }

// Names are the deterministic identifiers one migration uses; a re-run derives the same ones.
type Names struct {
	Snapshot          string
	EncryptedSnapshot string
	// PreSnapshot and PreEncryptedSnapshot are the pre-copy's (RunOptions.Precopy).
	PreSnapshot          string
	PreEncryptedSnapshot string
	Target               string // temporary identifier of the new resource until cutover
	Retired              string // identifier the source is renamed to at cutover
	FinalSnapshot        string
	RollbackSnapshot     string
	FreezeGroup          string // the ingress-free security group of an enforced freeze
	// PositionReplica is the temporary read replica an RDS for MySQL source's replication
	// strategy reads its start position from (replication_position.go).
	PositionReplica string
}

// NamesFor derives the names of a migration from its id and the source identifier. Names
// that would pass AWS's length limits are shortened by truncating the source part, never
// by failing.
func NamesFor(migrationID, source string) Names {
	return Names{
		Snapshot:             withPrefix("rdsencrypt-"+migrationID+"-", source, "-unencrypted", maxSnapshotID),
		EncryptedSnapshot:    withPrefix("rdsencrypt-"+migrationID+"-", source, "-encrypted", maxSnapshotID),
		PreSnapshot:          withPrefix("rdsencrypt-"+migrationID+"-", source, "-precopy-unencrypted", maxSnapshotID),
		PreEncryptedSnapshot: withPrefix("rdsencrypt-"+migrationID+"-", source, "-precopy-encrypted", maxSnapshotID),
		Target:               withSuffix(source, "-enc-"+migrationID, maxInstanceID),
		Retired:              withSuffix(source, "-old-"+migrationID, maxInstanceID),
		FinalSnapshot:        withPrefix("rdsencrypt-"+migrationID+"-", source, "-final", maxSnapshotID),
		RollbackSnapshot:     withPrefix("rdsencrypt-"+migrationID+"-", source, "-rolled-back", maxSnapshotID),
		FreezeGroup:          withPrefix("rdsencrypt-"+migrationID+"-", source, "-freeze", maxGroupName),
		PositionReplica:      withSuffix(source, "-pos-"+migrationID, maxInstanceID),
	}
}

// retiredName matches the identifier a migration gives the source at cutover (Names.Retired).
var retiredName = regexp.MustCompile(`-old-[a-z0-9]{8}$`)

// IsRetiredName reports whether id looks like the name a migration gives its source at
// cutover.
func IsRetiredName(id string) bool { return retiredName.MatchString(id) }

func withSuffix(base, suffix string, limit int) string {
	return fitIdentifier(base, limit-len(suffix)) + suffix
}

func withPrefix(prefix, base, suffix string, limit int) string {
	return prefix + fitIdentifier(base, limit-len(prefix)-len(suffix)) + suffix
}

// fitIdentifier truncates s to n characters so that it can be followed by "-...": it never
// ends in a hyphen (which would make "--").
func fitIdentifier(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.TrimRight(s, "-")
}
