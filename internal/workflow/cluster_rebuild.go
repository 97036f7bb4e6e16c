package workflow

import (
	"context"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// rebuildCluster rebuilds the journal of the migration of the Aurora cluster source from the
// tags on the resources it created (the cluster snapshot, the new cluster, the new members,
// whose role tag names the member each replaces).
func (e *Engine) rebuildCluster(ctx context.Context, api model.RDS, region, source string) (string, error) {
	ids := map[string]bool{}
	snaps, err := api.ListClusterSnapshots(ctx)
	if err != nil {
		return "", err
	}
	for _, s := range snaps {
		if s.Tags[model.TagSource] == source && s.Tags[model.TagRole] == RoleSnapshot {
			ids[s.Tags[model.TagMigrationID]] = true
		}
	}
	clusters, err := api.ListClusters(ctx)
	if err != nil {
		return "", err
	}
	targets := map[string]*model.Cluster{} // by migration id
	targetIDs := map[string]string{}
	for i := range clusters {
		if clusters[i].Tags[model.TagSource] == source && clusters[i].Tags[model.TagRole] == RoleTarget {
			id := clusters[i].Tags[model.TagMigrationID]
			ids[id] = true
			targets[id], targetIDs[id] = &clusters[i], clusters[i].ID
		}
	}
	insts, err := api.ListInstances(ctx)
	if err != nil {
		return "", err
	}
	members := map[string]map[string]*model.Instance{} // new members by migration id, then original member id
	for i := range insts {
		if orig, ok := sourceMemberOfRole(insts[i].Tags[model.TagRole]); ok && insts[i].Tags[model.TagSource] == source {
			id := insts[i].Tags[model.TagMigrationID]
			ids[id] = true
			if members[id] == nil {
				members[id] = map[string]*model.Instance{}
			}
			members[id][orig] = &insts[i]
		}
	}
	if err := dropFinished(ctx, ids, targetIDs, source, func(id string) string { return ClusterNamesFor(id, source).Retired },
		existsBy(api.DescribeCluster)); err != nil {
		return "", err
	}
	id, err := onlyMigrationID(ids, source, region, "rdsencrypt migrate --cluster "+source)
	if err != nil {
		return "", err
	}
	target, newMembers := targets[id], members[id]
	n := ClusterNamesFor(id, source)
	var targetRID string
	if target != nil {
		targetRID = target.ResourceID
	}
	src, err := rebuiltSource(ctx, api.DescribeCluster, func(c *model.Cluster) string { return c.ResourceID },
		source, n.Retired, targetRID)
	if err != nil {
		return "", errorf(source, "rdsencrypt status", err, "cannot find the source cluster of migration %s", id)
	}
	if target == nil || target.Settings.KmsKeyID == "" {
		return "", errorf(source, "without a journal, delete the cluster snapshot "+n.Snapshot+" by hand and start again with rdsencrypt migrate --cluster "+source, nil,
			"cannot tell the KMS key of migration %s: the encrypted cluster does not exist yet", id)
	}
	j, err := rebuildClusterJournal(ctx, api, n, source, src, target, newMembers)
	if err != nil {
		return "", err
	}
	now := e.now()
	st := &State{Version: 1, ID: id, Kind: KindCluster, Region: region, Source: source, SourceARN: src.ARN,
		SourceRID: src.ResourceID, SourceAddr: renamedAddress(src.Endpoint, source), Mode: ModeEncrypt,
		KmsKeyARN: target.Settings.KmsKeyID, Status: StatusPaused, CreatedAt: now, Cluster: j,
		MasterSecret: masterSecretOf(src.MasterUserSecretARN, src.MasterUserSecretKmsKeyID)}
	if src.Settings.StorageEncrypted {
		st.Mode = ModeRekey
	}
	for _, pr := range clusterResources(region, n, j) {
		res := Resource{Role: pr.Role, Type: pr.Type, Region: pr.Region, Name: pr.Name}
		if pr.Role == RoleTarget {
			res.ResourceID = target.ResourceID
		}
		if orig, ok := sourceMemberOfRole(pr.Role); ok && newMembers[orig] != nil {
			res.ResourceID = newMembers[orig].ResourceID
		}
		st.Resources = append(st.Resources, res)
	}
	for _, name := range clusterStepOrder(j) {
		if !managesPassword(name, st.MasterSecret) {
			continue
		}
		status := StepPending
		if name == StepPreflight {
			status = StepDone
		}
		st.Steps = append(st.Steps, StepState{Name: name, Status: status})
	}
	// Resources exist, so writes were frozen when they were made; the freeze time is unknown.
	st.FreezeAt = now
	if err := e.rebuildFreeze(ctx, st, n.names(), true); err != nil {
		return "", err
	}
	markRebuiltCutover(st, target.ID == source)
	return e.saveRebuilt(st, "journal of cluster migration rebuilt from AWS tags")
}

// rebuildClusterJournal recovers the source's members and custom endpoints from the source
// cluster (under its original or retired name) and the new cluster.
func rebuildClusterJournal(ctx context.Context, api model.RDS, n ClusterNames, source string, src, target *model.Cluster,
	newMembers map[string]*model.Instance,
) (*ClusterJournal, error) {
	// original returns the original identifier of a name that may be a retired or new name.
	original := func(name string) string {
		for orig := range newMembers {
			if name == orig || name == n.MemberRetired(orig) || name == n.MemberTarget(orig) {
				return orig
			}
		}
		name, _ = strings.CutSuffix(name, "-old-"+n.id)
		name, _ = strings.CutSuffix(name, "-enc-"+n.id)
		return name
	}
	originals := func(names []string) []string {
		var out []string
		for _, x := range names {
			out = append(out, original(x))
		}
		return out
	}
	j := &ClusterJournal{ReaderAddr: renamedAddress(src.ReaderEndpoint, source)}
	for _, m := range orderedMembers(src.Members) {
		inst, err := api.DescribeInstance(ctx, m.InstanceID)
		if err != nil {
			return nil, errorf(m.InstanceID, "rdsencrypt status", err, "cannot describe member %s of the source cluster", m.InstanceID)
		}
		orig := original(m.InstanceID)
		j.Members = append(j.Members, ClusterMemberRecord{ID: orig, ResourceID: inst.ResourceID, Writer: m.IsWriter,
			PromotionTier: m.PromotionTier, Address: renamedAddress(inst.Endpoint, orig)})
	}
	seen := map[string]bool{}
	for _, cl := range []*model.Cluster{src, target} {
		eps, err := api.ListClusterEndpoints(ctx, cl.ID)
		if err != nil {
			return nil, err
		}
		for _, ep := range eps {
			orig := ep.ID
			if cl == target {
				orig, _ = strings.CutSuffix(ep.ID, "-enc-"+n.id)
			}
			if seen[orig] {
				continue
			}
			seen[orig] = true
			j.Endpoints = append(j.Endpoints, ClusterEndpointRecord{ID: orig, Type: ep.Type, Static: originals(ep.StaticMembers),
				Excluded: originals(ep.ExcludedMembers), Address: renamedAddress(ep.Address, orig), Tags: withOurTags(ep.Tags, nil)})
		}
	}
	return j, nil
}
