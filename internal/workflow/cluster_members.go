package workflow

import (
	"context"
	"fmt"
	"maps"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// memberSettings are the settings a member of an Aurora cluster has of its own
// (docs/aws-behaviour.md#aurora-clusters); everything else belongs to the cluster. The promotion tier and the
// writer role come from the cluster's member list.
var memberSettings = []model.Setting{
	"DBInstanceClass", "DBParameterGroupName", "AvailabilityZone", "PubliclyAccessible",
	"AutoMinorVersionUpgrade", "MonitoringInterval", "MonitoringRoleArn", "PerformanceInsightsEnabled",
	"PerformanceInsightsKMSKeyID", "PerformanceInsightsRetentionPeriod", "PreferredMaintenanceWindow",
	"CACertificateIdentifier",
}

// memberRoutes is the route table of member settings: all compared, and modified afterwards
// where ModifyDBInstance accepts them.
var memberRoutes = func() []model.Route {
	var out []model.Route
	for _, s := range memberSettings {
		r, _ := model.RouteOf(model.InstanceSettingRoutes, s)
		out = append(out, model.Route{Setting: s, Modify: r.Modify, Compare: true})
	}
	return out
}()

// newMember returns the new member replacing the source member id, wherever it is named, or
// nil when it does not exist. A member found by name must carry our tags.
func (r *run) newMember(ctx context.Context, id string) (*model.Instance, error) {
	res := r.resource(memberRole(id))
	if res != nil && res.ResourceID != "" {
		inst, err := r.api.DescribeInstanceByResourceID(ctx, res.ResourceID)
		if model.IsNotFound(err) {
			return nil, nil
		}
		return inst, err
	}
	name := r.clusterNames().MemberTarget(id)
	inst, err := r.api.DescribeInstance(ctx, name)
	if model.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !r.ownedBy(inst.Tags) || inst.Tags[model.TagRole] != memberRole(id) {
		return nil, errorf(inst.ID, "rename or delete it, or roll back: rdsencrypt rollback "+r.st.ID, nil,
			"DB instance %s exists but was not created by migration %s", inst.ID, r.st.ID)
	}
	if res != nil {
		res.ResourceID = inst.ResourceID
	}
	return inst, nil
}

func memberApproval(r *run, a *Approval) {
	n := r.clusterNames()
	a.Summary = fmt.Sprintf("create %s in cluster %s, replacing member %s with its settings", n.MemberTarget(r.subject), n.Target, r.subject)
}

func observeMember(ctx context.Context, r *run) (bool, error) {
	inst, err := r.newMember(ctx, r.subject)
	if err != nil || inst == nil {
		return false, err
	}
	return !model.IsInstanceFailed(inst.Status), nil
}

// memberInput is the CreateDBInstance of the new member: the source member's own settings.
func (r *run) memberInput(id, clusterID string) (model.ClusterInstanceInput, error) {
	rec, err := r.memberRecord(id)
	if err != nil {
		return model.ClusterInstanceInput{}, err
	}
	src := r.cluster.members[id]
	s := src.Settings
	tags := model.Tags{}
	maps.Copy(tags, src.Tags)
	maps.Copy(tags, r.ourTags(memberRole(id)))
	return model.ClusterInstanceInput{ID: r.clusterNames().MemberTarget(id), ClusterID: clusterID,
		Engine: r.cluster.src.Settings.Engine, DBInstanceClass: s.DBInstanceClass, PromotionTier: rec.PromotionTier,
		DBParameterGroupName: s.DBParameterGroupName, AvailabilityZone: s.AvailabilityZone,
		PubliclyAccessible: s.PubliclyAccessible, AutoMinorVersionUpgrade: s.AutoMinorVersionUpgrade,
		MonitoringInterval: s.MonitoringInterval, MonitoringRoleArn: s.MonitoringRoleArn,
		PerformanceInsightsEnabled: s.PerformanceInsightsEnabled, PerformanceInsightsKMSKeyID: s.PerformanceInsightsKMSKeyID,
		PerformanceInsightsRetentionPeriod: s.PerformanceInsightsRetentionPeriod,
		PreferredMaintenanceWindow:         s.PreferredMaintenanceWindow, CACertificateIdentifier: s.CACertificateIdentifier,
		Tags: tags}, nil
}

func applyMember(ctx context.Context, r *run) error {
	id := r.subject
	inst, err := r.newMember(ctx, id)
	if err != nil {
		return err
	}
	if inst != nil && model.IsInstanceFailed(inst.Status) {
		r.log("deleting %s, left %s by a failed creation, before creating it again", inst.ID, inst.Status)
		if err := r.deleteOwnedMember(ctx, inst.ResourceID); err != nil {
			return err
		}
		if res := r.resource(memberRole(id)); res != nil {
			res.ResourceID = ""
		}
		if err := r.save(); err != nil {
			return err
		}
	}
	cl, err := r.targetCluster(ctx)
	if err != nil {
		return err
	}
	if cl, err = r.waitCluster(ctx, cl.ResourceID, model.IsClusterAvailable); err != nil {
		return err
	}
	in, err := r.memberInput(id, cl.ID)
	if err != nil {
		return err
	}
	created, err := r.api.CreateClusterInstance(ctx, in)
	if model.IsAlreadyExists(err) {
		_, err = r.newMember(ctx, id) // checks it is ours
		return err
	}
	if err != nil {
		return err
	}
	if res := r.resource(memberRole(id)); res != nil {
		res.ResourceID = created.ResourceID
	}
	return r.save()
}

// waitMember waits until the new member is available, then applies what creation did not
// carry (at most twice: what still differs is the parity check's business).
func waitMember(ctx context.Context, r *run) error {
	inst, err := r.newMember(ctx, r.subject)
	if err != nil {
		return err
	}
	if inst == nil {
		return fmt.Errorf("new member replacing %s disappeared", r.subject)
	}
	src := r.cluster.members[r.subject]
	for range 2 {
		if inst, err = r.waitInstance(ctx, inst.ResourceID, settledNoPending); err != nil {
			return err
		}
		fields := settingsToModify(memberRoutes, src.Settings, inst.Settings)
		if len(fields) == 0 {
			return nil
		}
		r.log("modifying member %s: %s", inst.ID, joinSettings(fields))
		if err := r.modifyInstance(ctx, r.api, inst.ID, src.Settings, fields); err != nil {
			return err
		}
	}
	_, err = r.waitInstance(ctx, inst.ResourceID, settledNoPending)
	return err
}

// settledNoPending: available, no rename and no modification pending.
func settledNoPending(i *model.Instance) bool {
	return settled(i) && len(i.PendingModifications) == 0
}

// deleteOwnedMember deletes a member this migration created (no final snapshot: a member
// has no storage of its own). It refuses anything else.
func (r *run) deleteOwnedMember(ctx context.Context, resourceID string) error {
	inst, err := r.api.DescribeInstanceByResourceID(ctx, resourceID)
	if model.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, ok := sourceMemberOfRole(inst.Tags[model.TagRole]); !ok || !r.ownedBy(inst.Tags) || r.isSourceMember(resourceID) {
		return errorf(inst.ID, "delete it by hand if it is not needed", nil,
			"refusing to delete DB instance %s: it was not created by migration %s", inst.ID, r.st.ID)
	}
	if inst.Status != model.StatusDeleting {
		if !model.IsInstanceFailed(inst.Status) && !settled(inst) {
			if _, err = r.waitInstance(ctx, resourceID, settled); err != nil {
				return err
			}
		}
		r.log("deleting member %s", inst.ID)
		if err := r.deleteInstance(ctx, r.api, resourceID, inst.ID, ""); err != nil {
			return err
		}
	}
	return r.waitInstanceGone(ctx, resourceID)
}

func (r *run) isSourceMember(resourceID string) bool {
	for _, m := range r.journal().Members {
		if m.ResourceID == resourceID {
			return true
		}
	}
	return false
}
