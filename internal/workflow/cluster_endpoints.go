package workflow

import (
	"context"
	"fmt"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// Custom endpoints. Their identifiers are unique per region and their addresses contain only
// the identifier, so the new cluster can answer at an endpoint's address only once the old
// endpoint is gone. Order:
//
//  1. before cutover (StepTempEndpoint), each endpoint is created on the new cluster under a
//     temporary name, with its members mapped to the new members: quota, type and member lists
//     are proven while nothing has changed for applications;
//  2. at cutover (StepCutoverEndpoint), after clusters and members have swapped names, the
//     temporary copy and the old endpoint are deleted, and the endpoint is created under its
//     original name on the new cluster, whose members now carry the original member names.
//     The endpoint does not answer between the deletion and the creation (about a minute);
//  3. a rollback deletes whatever endpoint the new cluster has and recreates each original
//     endpoint on the source cluster, from the definition kept in the journal.

// mapMembers maps original member identifiers to the current identifiers of their new members.
func (r *run) mapMembers(ctx context.Context, ids []string) ([]string, error) {
	var out []string
	for _, id := range ids {
		inst, err := r.newMember(ctx, id)
		if err != nil {
			return nil, err
		}
		if inst == nil {
			return nil, errorf(id, "rdsencrypt resume "+r.st.ID, nil, "the new member replacing %s does not exist", id)
		}
		out = append(out, inst.ID)
	}
	return out, nil
}

// createEndpointOn creates a copy of the endpoint rec named id on cluster cl, with its members
// mapped to the new members. "Already exists" on the same cluster is success.
func (r *run) createEndpointOn(ctx context.Context, cl *model.Cluster, id string, rec *ClusterEndpointRecord, role string) error {
	static, err := r.mapMembers(ctx, rec.Static)
	if err != nil {
		return err
	}
	excluded, err := r.mapMembers(ctx, rec.Excluded)
	if err != nil {
		return err
	}
	r.log("creating custom endpoint %s on cluster %s", id, cl.ID)
	_, err = r.api.CreateClusterEndpoint(ctx, model.ClusterEndpoint{ID: id, ClusterID: cl.ID, Type: rec.Type,
		StaticMembers: static, ExcludedMembers: excluded, Tags: withOurTags(rec.Tags, r.ourTags(role))})
	if model.IsAlreadyExists(err) {
		if ep, ferr := r.findEndpoint(ctx, cl.ID, id); ferr == nil && ep != nil {
			return nil // ours, from an interrupted attempt
		}
		return errorf(id, "delete it or rename the source's endpoint, or roll back: rdsencrypt rollback "+r.st.ID, err,
			"custom endpoint name %s is taken by another cluster", id)
	}
	return err
}

// deleteEndpointOf deletes custom endpoint id of the cluster with resource id clusterRID, if
// it exists, waiting for it to settle first; it does not wait for it to be gone.
func (r *run) deleteEndpointOf(ctx context.Context, clusterRID, id string) error {
	ep, err := r.waitEndpointSettled(ctx, clusterRID, id)
	if err != nil || ep == nil {
		return err
	}
	r.log("deleting custom endpoint %s of cluster %s", id, ep.ClusterID)
	return r.deleteEndpoint(ctx, clusterRID, id)
}

// --- before cutover -----------------------------------------------------------------------

func observeTempEndpoint(ctx context.Context, r *run) (bool, error) {
	cl, err := r.targetCluster(ctx)
	if err != nil {
		return false, err
	}
	ep, err := r.findEndpoint(ctx, cl.ID, r.clusterNames().TempEndpoint(r.subject))
	return ep != nil, err
}

func applyTempEndpoint(ctx context.Context, r *run) error {
	rec, err := r.endpointRecord(r.subject)
	if err != nil {
		return err
	}
	cl, err := r.targetCluster(ctx)
	if err != nil {
		return err
	}
	if cl, err = r.waitCluster(ctx, cl.ResourceID, model.IsClusterAvailable); err != nil {
		return err
	}
	return r.createEndpointOn(ctx, cl, r.clusterNames().TempEndpoint(rec.ID), rec, RoleTempEndpoint+":"+rec.ID)
}

func waitTempEndpoint(ctx context.Context, r *run) error {
	cl, err := r.targetCluster(ctx)
	if err != nil {
		return err
	}
	_, err = r.waitEndpointAvailable(ctx, cl.ResourceID, r.clusterNames().TempEndpoint(r.subject), nil)
	return err
}

// --- at cutover ---------------------------------------------------------------------------

func observeEndpointMoved(ctx context.Context, r *run) (bool, error) {
	cl, err := r.targetCluster(ctx)
	if err != nil {
		return false, err
	}
	ep, err := r.findEndpoint(ctx, cl.ID, r.subject)
	return ep != nil, err
}

func applyEndpointMove(ctx context.Context, r *run) error {
	rec, err := r.endpointRecord(r.subject)
	if err != nil {
		return err
	}
	cl, err := r.targetCluster(ctx)
	if err != nil {
		return err
	}
	if cl.ID != r.st.Source {
		return errorf(cl.ID, "rdsencrypt status "+r.st.ID, nil, "cluster %s is not yet named %s: the endpoint move must follow the cutover", cl.ID, r.st.Source)
	}
	temp := r.clusterNames().TempEndpoint(rec.ID)
	if err := r.deleteEndpointOf(ctx, cl.ResourceID, temp); err != nil {
		return err
	}
	if err := r.deleteEndpointOf(ctx, r.st.SourceRID, rec.ID); err != nil {
		return err
	}
	if err := r.waitEndpointGone(ctx, cl.ResourceID, temp); err != nil {
		return err
	}
	if err := r.waitEndpointGone(ctx, r.st.SourceRID, rec.ID); err != nil {
		return err
	}
	return r.createEndpointOn(ctx, cl, rec.ID, rec, RoleTarget)
}

func waitEndpointMoved(ctx context.Context, r *run) error {
	rec, err := r.endpointRecord(r.subject)
	if err != nil {
		return err
	}
	cl, err := r.targetCluster(ctx)
	if err != nil {
		return err
	}
	if _, err := r.waitEndpointAvailable(ctx, cl.ResourceID, rec.ID, func(ep *model.ClusterEndpoint) bool {
		return strings.EqualFold(ep.Address, rec.Address)
	}); err != nil {
		return err
	}
	r.st.CutoverDoneAt = r.awsNow()
	r.log("custom endpoint %s answers at %s, on the encrypted cluster", rec.ID, rec.Address)
	return nil
}

// --- rollback -----------------------------------------------------------------------------

// dropNewEndpoints deletes every custom endpoint of the new cluster that the migration made
// (the temporary copies and the moved ones) and waits until they are gone.
func (r *run) dropNewEndpoints(ctx context.Context, target *model.Cluster) error {
	n := r.clusterNames()
	var ids []string
	for _, rec := range r.journal().Endpoints {
		ids = append(ids, n.TempEndpoint(rec.ID), rec.ID)
	}
	for _, id := range ids {
		if err := r.deleteEndpointOf(ctx, target.ResourceID, id); err != nil {
			return err
		}
	}
	for _, id := range ids {
		if err := r.waitEndpointGone(ctx, target.ResourceID, id); err != nil {
			return err
		}
	}
	return nil
}

// restoreSourceEndpoints recreates on the source cluster (back at its name, with its members
// back at theirs) each custom endpoint that cutover deleted.
func (r *run) restoreSourceEndpoints(ctx context.Context) error {
	for i := range r.journal().Endpoints {
		rec := &r.st.Cluster.Endpoints[i]
		ep, err := r.waitEndpointSettled(ctx, r.st.SourceRID, rec.ID)
		if err != nil {
			return err
		}
		if ep == nil {
			r.log("recreating custom endpoint %s on cluster %s", rec.ID, r.st.Source)
			_, err := r.api.CreateClusterEndpoint(ctx, model.ClusterEndpoint{ID: rec.ID, ClusterID: r.st.Source, Type: rec.Type,
				StaticMembers: rec.Static, ExcludedMembers: rec.Excluded, Tags: rec.Tags})
			if err != nil && !model.IsAlreadyExists(err) {
				return fmt.Errorf("recreate custom endpoint %s of %s: %w", rec.ID, r.st.Source, err)
			}
		}
		if _, err := r.waitEndpointAvailable(ctx, r.st.SourceRID, rec.ID, nil); err != nil {
			return err
		}
	}
	return nil
}
