package workflow

import (
	"crypto/sha256"
	"encoding/hex"
)

// Roles of the resources of a cluster migration, besides the shared ones (snapshot, target,
// retired-source, final-snapshot). Per-member and per-endpoint roles carry the original
// identifier after a colon, in the journal and in the rdsencrypt:role tag, so that a journal
// rebuilt from tags knows which new member replaces which.
const (
	RoleMember        = "member"         // member:<source member id>, the new member
	RoleRetiredMember = "retired-member" // retired-member:<id>, a source member after cutover
	RoleTempEndpoint  = "temp-endpoint"  // temp-endpoint:<id>, the new cluster's endpoint before cutover
)

// maxClusterSnapshotID is the limit of DB cluster snapshot identifiers (docs/aws-behaviour.md#aurora-clusters),
// tighter than DB snapshots'.
const maxClusterSnapshotID = 63

// ClusterNames are the deterministic identifiers of one cluster migration.
type ClusterNames struct {
	Snapshot      string // unencrypted cluster snapshot of the source
	Target        string // new cluster until cutover
	Retired       string // source cluster after cutover
	FinalSnapshot string // taken when cleanup deletes the retired cluster
	// RollbackSnapshot is taken when a rollback deletes the new cluster after cutover began.
	RollbackSnapshot string
	FreezeGroup      string // the ingress-free security group of an enforced freeze
	id               string
}

// ClusterNamesFor derives the names of a cluster migration from its id and the source cluster
// identifier. Like NamesFor it shortens long names instead of failing.
func ClusterNamesFor(migrationID, cluster string) ClusterNames {
	prefix := "rdsencrypt-" + migrationID + "-"
	return ClusterNames{
		Snapshot:         withPrefix(prefix, cluster, "-unencrypted", maxClusterSnapshotID),
		Target:           withSuffix(cluster, "-enc-"+migrationID, maxInstanceID),
		Retired:          withSuffix(cluster, "-old-"+migrationID, maxInstanceID),
		FinalSnapshot:    withPrefix(prefix, cluster, "-final", maxClusterSnapshotID),
		RollbackSnapshot: withPrefix(prefix, cluster, "-rolled-back", maxClusterSnapshotID),
		FreezeGroup:      withPrefix(prefix, cluster, "-freeze", maxGroupName),
		id:               migrationID,
	}
}

// names maps the cluster names onto the engine's Names (no encrypted copy for clusters).
func (n ClusterNames) names() Names {
	return Names{Snapshot: n.Snapshot, Target: n.Target, Retired: n.Retired, FinalSnapshot: n.FinalSnapshot,
		RollbackSnapshot: n.RollbackSnapshot, FreezeGroup: n.FreezeGroup}
}

// MemberTarget is the temporary identifier of the new member that replaces member.
func (n ClusterNames) MemberTarget(member string) string { return uniqueSuffix(member, "-enc-"+n.id) }

// MemberRetired is the identifier member is renamed to at cutover.
func (n ClusterNames) MemberRetired(member string) string { return uniqueSuffix(member, "-old-"+n.id) }

// TempEndpoint is the identifier of the new cluster's copy of a custom endpoint until cutover,
// when the original identifier becomes free.
func (n ClusterNames) TempEndpoint(endpoint string) string {
	return uniqueSuffix(endpoint, "-enc-"+n.id)
}

// uniqueSuffix is withSuffix for names that must stay distinct from their siblings: members
// "orders-reader-1" and "orders-reader-2" must not shorten to the same name, so a shortened
// name carries a hash of the full one.
func uniqueSuffix(base, suffix string) string {
	if len(base)+len(suffix) <= maxInstanceID {
		return base + suffix
	}
	sum := sha256.Sum256([]byte(base))
	tag := "-" + hex.EncodeToString(sum[:])[:6]
	return fitIdentifier(base, maxInstanceID-len(suffix)-len(tag)) + tag + suffix
}
