package workflow

import (
	"context"
	"fmt"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// Cutover renames the clusters and their members in two steps: the source cluster and all its
// members away to their retired names (in parallel: member renames each reboot the member),
// then the new cluster and all its members to the original names. Writer and reader endpoints
// follow the cluster's name, instance endpoints their member's; custom endpoints move after.

func clusterCutoverApproval(r *run, a *Approval) {
	n := r.clusterNames()
	a.Instructions = append(a.Instructions,
		fmt.Sprintf("Applications lose cluster %s (%s) and its member endpoints from now until the encrypted cluster answers there (about 10-20 minutes).", r.st.Source, r.st.SourceAddr),
		"This one approval runs the whole cutover: both renames, without asking in between.")
	a.Details = append(a.Details,
		fmt.Sprintf("1. rename cluster %s -> %s and its %d member(s) to their retired names", r.st.Source, n.Retired, len(r.journal().Members)),
		fmt.Sprintf("2. rename cluster %s -> %s and the new members to the original member names", n.Target, r.st.Source))
	if len(r.journal().Endpoints) > 0 {
		a.Details = append(a.Details, fmt.Sprintf("3. move %d custom endpoint(s) to the new cluster (each is down about a minute)", len(r.journal().Endpoints)))
	}
	if r.cluster != nil && r.cluster.src.Settings.IAMDatabaseAuthenticationEnabled {
		newRID := ""
		if res := r.resource(RoleTarget); res != nil {
			newRID = res.ResourceID
		}
		a.Details = append(a.Details, iamAuthDetails(r.st.SourceARN, r.st.SourceRID, newRID)...)
	}
	a.Details = append(a.Details, masterSecretDetails(r)...)
}

// renameClusterTo renames a settled cluster unless it already has the name.
func (r *run) renameClusterTo(ctx context.Context, cl *model.Cluster, from, to string) error {
	if cl.ID == to {
		return nil
	}
	if cl.ID != from {
		return errorf(cl.ID, "rdsencrypt status "+r.st.ID, nil, "cluster %s is named %s, neither %s nor %s", cl.ResourceID, cl.ID, from, to)
	}
	cl, err := r.waitCluster(ctx, cl.ResourceID, model.IsClusterAvailable)
	if err != nil || cl.ID == to { // a rename asked before an interruption may show late
		return err
	}
	r.log("renaming cluster %s to %s", cl.ID, to)
	return r.renameCluster(ctx, cl.ResourceID, cl.ID, to)
}

// renameMemberTo renames a member unless it has, or is about to get, the name.
func (r *run) renameMemberTo(ctx context.Context, inst *model.Instance, from, to string) error {
	if inst.ID == to || inst.PendingRename == to {
		return nil
	}
	if inst.ID != from {
		return errorf(inst.ID, "rdsencrypt status "+r.st.ID, nil, "DB instance %s is named %s, neither %s nor %s", inst.ResourceID, inst.ID, from, to)
	}
	inst, err := r.waitInstance(ctx, inst.ResourceID, settled)
	if err != nil || inst.ID == to {
		return err
	}
	r.log("renaming member %s to %s", inst.ID, to)
	return r.renameInstance(ctx, r.api, inst.ResourceID, inst.ID, to)
}

// memberAt waits until the instance answers to id, settled (and at addr, when given).
func (r *run) memberAt(ctx context.Context, resourceID, id, addr string) error {
	_, err := r.waitInstance(ctx, resourceID, func(i *model.Instance) bool {
		return i.ID == id && settled(i) && (addr == "" || strings.EqualFold(i.Endpoint, addr))
	})
	return err
}

// --- retire the source ---------------------------------------------------------------------

func observeClusterRetired(ctx context.Context, r *run) (bool, error) {
	n := r.clusterNames()
	src, err := r.api.DescribeClusterByResourceID(ctx, r.st.SourceRID)
	if err != nil || src.ID != n.Retired {
		return false, err
	}
	for _, m := range r.journal().Members {
		inst, err := r.api.DescribeInstanceByResourceID(ctx, m.ResourceID)
		if err != nil || inst.ID != n.MemberRetired(m.ID) {
			return false, err
		}
	}
	return true, nil
}

func applyClusterRetire(ctx context.Context, r *run) error {
	n := r.clusterNames()
	src, _, err := r.checkClusterSwap(ctx)
	if err != nil {
		return err
	}
	if err := r.renameClusterTo(ctx, src, r.st.Source, n.Retired); err != nil {
		return err
	}
	for _, m := range r.journal().Members {
		inst, err := r.api.DescribeInstanceByResourceID(ctx, m.ResourceID)
		if err != nil {
			return err
		}
		if err := r.renameMemberTo(ctx, inst, m.ID, n.MemberRetired(m.ID)); err != nil {
			return err
		}
	}
	return nil
}

func waitClusterRetired(ctx context.Context, r *run) error {
	n := r.clusterNames()
	if _, err := r.waitCluster(ctx, r.st.SourceRID, model.ClusterAvailableAs(n.Retired)); err != nil {
		return err
	}
	for _, m := range r.journal().Members {
		if err := r.memberAt(ctx, m.ResourceID, n.MemberRetired(m.ID), ""); err != nil {
			return err
		}
	}
	return nil
}

// --- promote the new cluster ----------------------------------------------------------------

func observeClusterPromoted(ctx context.Context, r *run) (bool, error) {
	cl, err := r.targetCluster(ctx)
	if err != nil || cl.ID != r.st.Source {
		return false, err
	}
	for _, m := range r.journal().Members {
		inst, err := r.newMember(ctx, m.ID)
		if err != nil || inst == nil || inst.ID != m.ID {
			return false, err
		}
	}
	return true, nil
}

func applyClusterPromote(ctx context.Context, r *run) error {
	n := r.clusterNames()
	cl, err := r.targetCluster(ctx)
	if err != nil {
		return err
	}
	if cl.ID != r.st.Source { // not yet renamed: re-check both sides first
		src, target, err := r.checkClusterSwap(ctx)
		if err != nil {
			return err
		}
		if src.ID != n.Retired {
			return r.swapRefused(src.ID, "the source cluster still answers to "+src.ID, []string{"it is not at its retired name " + n.Retired})
		}
		cl = target
		r.noteTargetAddresses(ctx, cl.Endpoint) // dns.go: where the writer endpoint's name must point after the rename
		if err := r.noteReaderAddresses(ctx, cl); err != nil {
			return err
		}
		if err := r.save(); err != nil {
			return err
		}
	}
	if err := r.renameClusterTo(ctx, cl, n.Target, r.st.Source); err != nil {
		return err
	}
	for _, m := range r.journal().Members {
		inst, err := r.newMember(ctx, m.ID)
		if err != nil {
			return err
		}
		if inst == nil {
			return errorf(m.ID, "rdsencrypt rollback "+r.st.ID, nil, "the new member replacing %s disappeared", m.ID)
		}
		if err := r.renameMemberTo(ctx, inst, n.MemberTarget(m.ID), m.ID); err != nil {
			return err
		}
	}
	return nil
}

func waitClusterPromoted(ctx context.Context, r *run) error {
	cl, err := r.targetCluster(ctx)
	if err != nil {
		return err
	}
	if _, err := r.waitCluster(ctx, cl.ResourceID, func(c *model.Cluster) bool {
		return model.ClusterAvailableAs(r.st.Source)(c) && strings.EqualFold(c.Endpoint, r.st.SourceAddr) &&
			strings.EqualFold(c.ReaderEndpoint, r.journal().ReaderAddr)
	}); err != nil {
		return err
	}
	for _, m := range r.journal().Members {
		inst, err := r.newMember(ctx, m.ID)
		if err != nil {
			return err
		}
		if inst == nil {
			return errorf(m.ID, "rdsencrypt rollback "+r.st.ID, nil, "the new member replacing %s disappeared", m.ID)
		}
		if err := r.memberAt(ctx, inst.ResourceID, m.ID, m.Address); err != nil {
			return err
		}
	}
	if r.st.CutoverDoneAt.IsZero() {
		r.st.CutoverDoneAt = r.awsNow()
	}
	r.log("cutover done: cluster %s answers at %s and %s, encrypted", r.st.Source, r.st.SourceAddr, r.journal().ReaderAddr)
	return nil
}
