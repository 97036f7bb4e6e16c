package workflow

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// ClusterJournal is what a cluster migration must remember beyond the shared State: the
// source's members and custom endpoints as they were at the start. A custom endpoint is
// deleted at cutover, so its definition must survive in the journal for a rollback to
// recreate it.
type ClusterJournal struct {
	ReaderAddr string `json:"reader_endpoint"`
	// ReaderTargetAddrs are the addresses of the new cluster's reader endpoint and members
	// before their rename; the reader endpoint's name must then resolve to one of them (dns.go).
	ReaderTargetAddrs []string                `json:"reader_target_addresses,omitempty"`
	Members           []ClusterMemberRecord   `json:"members"` // the writer first
	Endpoints         []ClusterEndpointRecord `json:"custom_endpoints,omitempty"`
}

// ClusterMemberRecord is one member of the source cluster.
type ClusterMemberRecord struct {
	ID            string `json:"id"`
	ResourceID    string `json:"resource_id"`
	Writer        bool   `json:"writer,omitempty"`
	PromotionTier int32  `json:"promotion_tier"`
	Address       string `json:"endpoint"`
}

// ClusterEndpointRecord is one custom endpoint of the source cluster.
type ClusterEndpointRecord struct {
	ID       string   `json:"id"`
	Type     string   `json:"type"` // READER or ANY
	Static   []string `json:"static_members,omitempty"`
	Excluded []string `json:"excluded_members,omitempty"`
	Address  string   `json:"endpoint"`
	// Tags are the endpoint's own tags, recreated with it.
	Tags model.Tags `json:"tags,omitempty"`
}

// clusterRun is what a run of a cluster migration described at its start: only settings
// and tags are used, which the migration never changes.
type clusterRun struct {
	src     *model.Cluster
	members map[string]*model.Instance // source members by original identifier
}

// clusterNames returns the names of the run's cluster migration and makes them the run's
// names, so that shared code and step descriptions use them.
func (r *run) clusterNames() ClusterNames {
	n := ClusterNamesFor(r.st.ID, r.st.Source)
	r.names = n.names()
	return n
}

func (r *run) journal() *ClusterJournal {
	if r.st.Cluster == nil {
		r.st.Cluster = &ClusterJournal{}
	}
	return r.st.Cluster
}

func (r *run) memberRecord(id string) (*ClusterMemberRecord, error) {
	for i := range r.journal().Members {
		if r.st.Cluster.Members[i].ID == id {
			return &r.st.Cluster.Members[i], nil
		}
	}
	return nil, fmt.Errorf("migration %s: member %s is not in the journal", r.st.ID, id)
}

func (r *run) endpointRecord(id string) (*ClusterEndpointRecord, error) {
	for i := range r.journal().Endpoints {
		if r.st.Cluster.Endpoints[i].ID == id {
			return &r.st.Cluster.Endpoints[i], nil
		}
	}
	return nil, fmt.Errorf("migration %s: custom endpoint %s is not in the journal", r.st.ID, id)
}

// newClusterJournal records the source's members (writer first, then readers by promotion
// tier) and custom endpoints.
func newClusterJournal(src *model.Cluster, members map[string]*model.Instance, eps []model.ClusterEndpoint) *ClusterJournal {
	j := &ClusterJournal{ReaderAddr: src.ReaderEndpoint}
	for _, m := range orderedMembers(src.Members) {
		inst := members[m.InstanceID]
		j.Members = append(j.Members, ClusterMemberRecord{ID: m.InstanceID, ResourceID: inst.ResourceID,
			Writer: m.IsWriter, PromotionTier: m.PromotionTier, Address: inst.Endpoint})
	}
	for _, ep := range eps {
		j.Endpoints = append(j.Endpoints, ClusterEndpointRecord{ID: ep.ID, Type: ep.Type,
			Static: ep.StaticMembers, Excluded: ep.ExcludedMembers, Address: ep.Address, Tags: ep.Tags})
	}
	return j
}

// orderedMembers puts the writer first, then readers by promotion tier and identifier: the
// first instance created in a cluster becomes its writer (docs/aws-behaviour.md#aurora-clusters).
func orderedMembers(ms []model.ClusterMember) []model.ClusterMember {
	out := append([]model.ClusterMember(nil), ms...)
	less := func(a, b model.ClusterMember) bool {
		if a.IsWriter != b.IsWriter {
			return a.IsWriter
		}
		if a.PromotionTier != b.PromotionTier {
			return a.PromotionTier < b.PromotionTier
		}
		return a.InstanceID < b.InstanceID
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && less(out[j], out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// reloadCluster describes the source cluster and its members (wherever a rename left them)
// and the key for a resumed run.
func reloadCluster(ctx context.Context, r *run) error {
	ctx = r.withCalls(ctx)
	r.clusterNames()
	src, err := r.api.DescribeClusterByResourceID(ctx, r.st.SourceRID)
	if err != nil {
		return errorf(r.st.Source, "check the account and region, then rdsencrypt status "+r.st.ID, err,
			"cannot find the source DB cluster %s (resource %s)", r.st.Source, r.st.SourceRID)
	}
	cr := &clusterRun{src: src, members: map[string]*model.Instance{}}
	for _, m := range r.journal().Members {
		inst, err := r.api.DescribeInstanceByResourceID(ctx, m.ResourceID)
		if err != nil {
			return errorf(m.ID, "rdsencrypt status "+r.st.ID, err, "cannot find member %s of the source cluster (resource %s)", m.ID, m.ResourceID)
		}
		cr.members[m.ID] = inst
	}
	key, err := r.reloadKey(ctx)
	if err != nil {
		return err
	}
	if fs := r.st.Freeze; fs != nil {
		// An enforced freeze put its own group on the source cluster and so on its members:
		// the new cluster, its members, parity and verify use the groups from before.
		cr.src.Settings.VpcSecurityGroupIDs = slices.Clone(fs.OriginalGroups)
		for _, m := range cr.members {
			m.Settings.VpcSecurityGroupIDs = slices.Clone(fs.OriginalGroups)
		}
	}
	r.cluster, r.key = cr, key
	return nil
}

// ensureCluster loads the source description if this run has none yet.
func (r *run) ensureCluster(ctx context.Context) error {
	if r.cluster != nil && r.key != nil {
		r.clusterNames()
		return nil
	}
	return reloadCluster(ctx, r)
}

// memberSubjects are the original identifiers of the source's members, writer first.
func (j *ClusterJournal) memberSubjects() []string {
	out := make([]string, len(j.Members))
	for i, m := range j.Members {
		out[i] = m.ID
	}
	return out
}

// memberRole is the role (and tag) of the new member replacing member.
func memberRole(member string) string { return RoleMember + ":" + member }

// sourceMemberOfRole returns the original member a member role names.
func sourceMemberOfRole(role string) (string, bool) {
	return strings.CutPrefix(role, RoleMember+":")
}
