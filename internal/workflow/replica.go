package workflow

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// Replica orders: when the new replicas are created relative to the primary's cutover.
const (
	// ReplicasAfterCutover: cut the primary over first, then recreate and swap each replica.
	// Write downtime is shorter; old replicas serve frozen (stale) data until their swap.
	ReplicasAfterCutover = "after-cutover"
	// ReplicasBeforeCutover: create every replica of the new primary while writes are
	// frozen, then swap all. No stale reads; write downtime includes replica creation.
	ReplicasBeforeCutover = "before-cutover"
)

// ReplicaState is the journal record of one read replica of the source: the old replica and
// its encrypted replacement.
type ReplicaState struct {
	ID         string `json:"id"`
	Region     string `json:"region"`
	Parent     string `json:"parent,omitempty"` // subject of the parent replica; empty: the primary
	ResourceID string `json:"resource_id"`      // of the old replica
	Endpoint   string `json:"endpoint"`         // of the old replica, to be kept
	TargetRID  string `json:"target_resource_id,omitempty"`
	// PromotedAt is the AWS time the new replica answered at the old endpoint.
	PromotedAt time.Time `json:"promoted_at,omitzero"`
	// TargetAddrs are the addresses the new replica's temporary name resolved to before its
	// rename; DNS says whether the old endpoint name followed (dns.go).
	TargetAddrs []string `json:"target_addresses,omitempty"`
	DNS         string   `json:"dns,omitempty"`
}

// Subject is how steps and events name the replica: region/identifier.
func (rs ReplicaState) Subject() string { return subjectOf(rs.Region, rs.ID) }

func subjectOf(region, id string) string { return region + "/" + id }

// replicaNode is a discovered replica with its place in the tree.
type replicaNode struct {
	inst   *model.Instance
	parent string // subject of the parent replica; "" for the primary
}

// replicaStatesOf is the journal's record of the replica tree nodes, before any is recreated.
func replicaStatesOf(nodes []replicaNode) []ReplicaState {
	var out []ReplicaState
	for _, n := range nodes {
		out = append(out, ReplicaState{ID: n.inst.ID, Region: n.inst.Region, Parent: n.parent,
			ResourceID: n.inst.ResourceID, Endpoint: n.inst.Endpoint})
	}
	return out
}

// crossRegionReplicas names the replicas that read from the primary (in region) from another
// Region: each keeps a physical replication slot on the primary (PostgreSQL).
func crossRegionReplicas(region string, replicas []ReplicaState) []string {
	var out []string
	for _, rs := range replicas {
		if rs.Parent == "" && rs.Region != region {
			out = append(out, rs.ID+" ("+rs.Region+")")
		}
	}
	return out
}

// discoverReplicas walks the replica tree of src breadth first, so every parent comes before
// its children: same-region replicas are listed by identifier, cross-region ones by ARN, and
// cascading replicas (MySQL, MariaDB) under their parent replica.
func (e *Engine) discoverReplicas(ctx context.Context, src *model.Instance) ([]replicaNode, error) {
	type pending struct {
		ref, fromRegion, parent string
	}
	var queue []pending
	for _, ref := range src.Replicas {
		queue = append(queue, pending{ref, src.Region, ""})
	}
	var out []replicaNode
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		region, id := p.fromRegion, p.ref
		if strings.HasPrefix(p.ref, "arn:") {
			region, id = model.ARNRegion(p.ref), model.ARNLastPart(p.ref)
		}
		api, err := e.Clients(region)
		if err != nil {
			return nil, err
		}
		inst, err := api.DescribeInstance(ctx, id)
		if err != nil {
			return nil, errorf(id, "check access to "+region+", then retry", err, "cannot describe read replica %s in %s", id, region)
		}
		out = append(out, replicaNode{inst: inst, parent: p.parent})
		for _, ref := range inst.Replicas {
			queue = append(queue, pending{ref, region, subjectOf(region, inst.ID)})
		}
	}
	return out, nil
}

// resolveRegionKeys finds a usable key for every region a replica lives in: the primary's key
// for its own region, the given references elsewhere. A region without a key fails the plan,
// naming it.
func (e *Engine) resolveRegionKeys(ctx context.Context, primary *model.Key, region string, refs map[string]string, reps []replicaNode) (map[string]*model.Key, error) {
	keys := map[string]*model.Key{region: primary}
	for _, n := range reps {
		r := n.inst.Region
		if keys[r] != nil {
			continue
		}
		ref, ok := refs[r]
		if !ok {
			return nil, errorf(n.inst.ID, fmt.Sprintf("add a key of that region: --kms-key %s=<key>,%s=<key>", region, r), nil,
				"read replica %s is in %s, and no KMS key was given for %s", n.inst.ID, r, r)
		}
		api, err := e.Clients(r)
		if err != nil {
			return nil, err
		}
		key, err := describeUsableKey(ctx, api, ref, r)
		if err != nil {
			return nil, err
		}
		keys[r] = key
	}
	return keys, nil
}

// replicaOf returns the journal record of the replica a step is about.
func (r *run) replicaOf(subject string) (*ReplicaState, error) {
	for i := range r.st.Replicas {
		if r.st.Replicas[i].Subject() == subject {
			return &r.st.Replicas[i], nil
		}
	}
	return nil, fmt.Errorf("migration %s: no replica %s in the journal", r.st.ID, subject)
}

// regionAPI returns the client of a region.
func (r *run) regionAPI(region string) (model.RDS, error) {
	if region == r.st.Region {
		return r.api, nil
	}
	return r.e.Clients(region)
}

// replicaReports gives each replica's swap and stale-read window.
func replicaReports(st *State) []ReplicaReport {
	var out []ReplicaReport
	for _, rs := range st.Replicas {
		rr := ReplicaReport{Replica: rs.Subject(), Swapped: !rs.PromotedAt.IsZero(), DNS: rs.DNS}
		rr.Followed = st.Replication != nil && st.Replication.ReverseAttached && rs.PromotedAt.After(st.UnfreezeAt)
		if rr.Swapped && !rr.Followed && !st.UnfreezeAt.IsZero() && rs.PromotedAt.After(st.UnfreezeAt) {
			rr.StaleReadSeconds = nonNegativeSeconds(rs.PromotedAt.Sub(st.UnfreezeAt))
		}
		out = append(out, rr)
	}
	return out
}

// replicaBySubject returns the replica a subject names, or nil.
func replicaBySubject(replicas []replicaNode, subject string) *model.Instance {
	for _, n := range replicas {
		if subjectOf(n.inst.Region, n.inst.ID) == subject {
			return n.inst
		}
	}
	return nil
}
