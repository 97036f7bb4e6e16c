package workflow

import (
	"context"
	"fmt"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/internal/awsclient"
	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// replicaCtx gathers what a replica step works with.
type replicaCtx struct {
	rs    *ReplicaState
	api   model.RDS
	names Names
	old   *model.Instance // the old replica, wherever a rename left it
}

func (r *run) replica(ctx context.Context) (*replicaCtx, error) {
	rs, err := r.replicaOf(r.subject)
	if err != nil {
		return nil, err
	}
	api, err := r.regionAPI(rs.Region)
	if err != nil {
		return nil, err
	}
	old, err := api.DescribeInstanceByResourceID(ctx, rs.ResourceID)
	if err != nil {
		return nil, errorf(rs.ID, "rdsencrypt status "+r.st.ID, err, "cannot find read replica %s (resource %s) in %s", rs.ID, rs.ResourceID, rs.Region)
	}
	return &replicaCtx{rs: rs, api: api, names: NamesFor(r.st.ID, rs.ID), old: old}, nil
}

// replicaAndNew returns the replica a step is about and its replacement.
func (r *run) replicaAndNew(ctx context.Context) (*replicaCtx, *model.Instance, error) {
	rc, err := r.replica(ctx)
	if err != nil {
		return nil, nil, err
	}
	inst, err := r.newReplica(ctx, rc)
	return rc, inst, err
}

// newReplica returns the replacement replica, or a KindNotFound error.
func (r *run) newReplica(ctx context.Context, rc *replicaCtx) (*model.Instance, error) {
	if rc.rs.TargetRID != "" {
		return rc.api.DescribeInstanceByResourceID(ctx, rc.rs.TargetRID)
	}
	inst, err := rc.api.DescribeInstance(ctx, rc.names.Target)
	if err != nil {
		return nil, err
	}
	if !r.ownedBy(inst.Tags) {
		return nil, errorf(inst.ID, "rename or delete it, or roll back: rdsencrypt rollback "+r.st.ID, nil,
			"DB instance %s exists in %s but was not created by migration %s", inst.ID, rc.rs.Region, r.st.ID)
	}
	rc.rs.TargetRID = inst.ResourceID
	return inst, nil
}

func observeReplicaCreated(ctx context.Context, r *run) (bool, error) {
	_, inst, err := r.replicaAndNew(ctx)
	if model.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return !model.IsInstanceFailed(inst.Status), nil
}

// replicaParentInstance is the new instance the replacement replicates from: the new
// primary, or the replacement of the parent replica.
func (r *run) replicaParentInstance(ctx context.Context, rc *replicaCtx) (*model.Instance, error) {
	if rc.rs.Parent == "" {
		return r.target(ctx)
	}
	prs, err := r.replicaOf(rc.rs.Parent)
	if err != nil {
		return nil, err
	}
	api, err := r.regionAPI(prs.Region)
	if err != nil {
		return nil, err
	}
	if prs.TargetRID == "" {
		return nil, fmt.Errorf("replacement of %s not created before its child %s", prs.Subject(), rc.rs.Subject())
	}
	return api.DescribeInstanceByResourceID(ctx, prs.TargetRID)
}

// replicaParent is replicaParentInstance as an identifier, or an ARN across regions.
func (r *run) replicaParent(ctx context.Context, rc *replicaCtx) (ref, region string, err error) {
	parent, err := r.replicaParentInstance(ctx, rc)
	if err != nil {
		return "", "", err
	}
	if parent.Region != rc.rs.Region {
		return parent.ARN, parent.Region, nil
	}
	return parent.ID, parent.Region, nil
}

// replicaCarry lists the settings passed to replica creation. Deletion protection waits for
// the replica's modify step, once it is healthy (see restoreCarry).
func replicaCarry(s model.InstanceSettings, how creation) []model.Setting {
	return carriedBy(s, func(r model.Route) bool { return r.Replica }, how)
}

func applyReplicaCreate(ctx context.Context, r *run) error {
	rc, err := r.replica(ctx)
	if err != nil {
		return err
	}
	if inst, err := r.newReplica(ctx, rc); err == nil && model.IsInstanceFailed(inst.Status) {
		r.log("deleting %s, left %s, before creating it again", inst.ID, inst.Status)
		if err := r.deleteOwnedInstanceIn(ctx, rc.api, inst.ResourceID, ""); err != nil {
			return err
		}
		rc.rs.TargetRID = ""
	} else if err != nil && !model.IsNotFound(err) {
		return err
	}
	parentRef, parentRegion, err := r.replicaParent(ctx, rc)
	if err != nil {
		return err
	}
	if err := r.settleParent(ctx, rc); err != nil {
		return err
	}
	if rc.rs.Parent == "" {
		if err := r.checkCascades(ctx, rc); err != nil {
			return err
		}
	}
	in := model.ReadReplicaInput{ID: rc.names.Target, Source: parentRef, Settings: rc.old.Settings,
		Carry: replicaCarry(rc.old.Settings, replicaCreation(parentRegion, rc.rs.Region)), Tags: r.replicaTags(rc.old)}
	if parentRegion != rc.rs.Region {
		in.SourceRegion, in.KmsKeyID = parentRegion, r.st.RegionKeys[rc.rs.Region]
	}
	inst, err := rc.api.CreateReadReplica(ctx, in)
	if model.IsAlreadyExists(err) {
		_, err = r.newReplica(ctx, rc)
		return err
	}
	if err != nil {
		return err
	}
	rc.rs.TargetRID = inst.ResourceID
	return r.save()
}

// settleParent waits until the replacement's parent is available: a replica's source is
// busy for a while after each replica is created from it.
func (r *run) settleParent(ctx context.Context, rc *replicaCtx) error {
	if rc.rs.Parent == "" {
		res := r.resource(RoleTarget)
		_, err := r.waitInstance(ctx, res.ResourceID, settled)
		return err
	}
	prs, err := r.replicaOf(rc.rs.Parent)
	if err != nil {
		return err
	}
	api, err := r.regionAPI(prs.Region)
	if err != nil {
		return err
	}
	_, err = r.waitInstanceIn(ctx, api, prs.TargetRID, settled)
	return err
}

// replicaTags are the old replica's tags plus ours.
func (r *run) replicaTags(old *model.Instance) model.Tags {
	return withOurTags(old.Tags, r.ourTags(RoleReplicaTarget))
}

func waitReplicaSettled(ctx context.Context, r *run) error {
	rc, inst, err := r.replicaAndNew(ctx)
	if err != nil {
		return err
	}
	_, err = r.waitInstanceIn(ctx, rc.api, inst.ResourceID, settled)
	return err
}

func observeReplicaModified(ctx context.Context, r *run) (bool, error) {
	rc, inst, err := r.replicaAndNew(ctx)
	if err != nil {
		return false, err
	}
	return len(settingsToModify(model.InstanceSettingRoutes, rc.old.Settings, inst.Settings)) == 0 &&
		inst.ParameterApplyStatus != model.ParameterPendingReboot, nil
}

// applyReplicaModify applies the settings replica creation could not carry and, when the
// parameter group waits for a reboot (a group AWS refuses at replica creation, set here, or a
// modify interrupted before its reboot), reboots the new replica.
func applyReplicaModify(ctx context.Context, r *run) error {
	rc, inst, err := r.replicaAndNew(ctx)
	if err != nil {
		return err
	}
	if fields := settingsToModify(model.InstanceSettingRoutes, rc.old.Settings, inst.Settings); len(fields) > 0 {
		if _, err := r.waitInstanceIn(ctx, rc.api, inst.ResourceID, settled); err != nil {
			return err
		}
		r.log("modifying %s: %s", inst.ID, joinSettings(fields))
		if err := r.modifyInstance(ctx, rc.api, inst.ID, rc.old.Settings, fields); err != nil {
			return err
		}
	}
	inst, err = r.waitInstanceIn(ctx, rc.api, inst.ResourceID, settled)
	if err != nil {
		return err
	}
	if inst.ParameterApplyStatus == model.ParameterPendingReboot {
		r.log("rebooting %s so that parameter group %s applies", inst.ID, inst.Settings.DBParameterGroupName)
		if _, err := rc.api.RebootInstance(ctx, inst.ID); err != nil && !model.IsInvalidState(err) {
			return err
		}
	}
	return nil
}

func waitReplicaModified(ctx context.Context, r *run) error {
	rc, inst, err := r.replicaAndNew(ctx)
	if err != nil {
		return err
	}
	quiet := quietFor(settledPolls)
	_, err = r.waitInstanceIn(ctx, rc.api, inst.ResourceID, func(i *model.Instance) bool {
		idle := settled(i) && len(i.PendingModifications) == 0 && i.ParameterApplyStatus != model.ParameterPendingReboot
		gaveUp := quiet(idle)
		return idle && (len(settingsToModify(model.InstanceSettingRoutes, rc.old.Settings, i.Settings)) == 0 || gaveUp)
	})
	return err
}

func checkReplicaParity(ctx context.Context, r *run) error {
	rc, inst, err := r.replicaAndNew(ctx)
	if err != nil {
		return err
	}
	wantKey, key := r.st.KmsKeyARN, r.key
	if k := r.st.RegionKeys[rc.rs.Region]; k != "" && rc.rs.Region != r.st.Region {
		wantKey, key = k, nil
	}
	if p := encryptionProblem(inst.Settings.StorageEncrypted, inst.Settings.KmsKeyID, wantKey, key); p != "" {
		return r.refuseUnencrypted(inst.ID, rc.rs.Subject(), p)
	}
	diffs := compareSettings(model.InstanceSettingRoutes, rc.rs.Subject(), rc.old.Settings, inst.Settings)
	return r.reviewDifferences(ctx, diffs, StepReplicaParity, inst.ID, rc.rs.Subject())
}

func observeReplicaRetired(ctx context.Context, r *run) (bool, error) {
	rc, err := r.replica(ctx)
	if err != nil {
		return false, err
	}
	return rc.old.ID == rc.names.Retired, nil
}

func applyReplicaRetire(ctx context.Context, r *run) error {
	rc, err := r.replica(ctx)
	if err != nil {
		return err
	}
	if rc.old.ID == rc.names.Retired || rc.old.PendingRename == rc.names.Retired {
		return nil
	}
	if err := r.waitReplicaCaughtUp(ctx, rc); err != nil {
		return err
	}
	if _, err := r.waitInstanceIn(ctx, rc.api, rc.rs.ResourceID, settled); err != nil {
		return err
	}
	return r.renameInstance(ctx, rc.api, rc.rs.ResourceID, rc.rs.ID, rc.names.Retired)
}

// waitReplicaRetired waits until the old replica answers to its retired name, so that its
// name is free for the new replica, as waitRetired does for the primary: the new replica's
// rename starts then, not once the renamed replica is available again (minutes later).
func waitReplicaRetired(ctx context.Context, r *run) error {
	rc, err := r.replica(ctx)
	if err != nil {
		return err
	}
	_, err = until(ctx, r, awsclient.InstanceRenamed(rc.api, rc.rs.ResourceID, rc.names.Retired))
	return err
}

func observeReplicaPromoted(ctx context.Context, r *run) (bool, error) {
	rc, inst, err := r.replicaAndNew(ctx)
	if err != nil {
		return false, err
	}
	return inst.ID == rc.rs.ID, nil
}

func applyReplicaPromote(ctx context.Context, r *run) error {
	rc, inst, err := r.replicaAndNew(ctx)
	if err != nil {
		return err
	}
	if inst.ID == rc.rs.ID || inst.PendingRename == rc.rs.ID {
		return nil
	}
	if _, err := r.waitInstanceIn(ctx, rc.api, inst.ResourceID, settled); err != nil {
		return err
	}
	if len(rc.rs.TargetAddrs) == 0 { // dns.go: where the old endpoint's name must point after the rename
		rc.rs.TargetAddrs = r.addressesOf(ctx, inst.Endpoint)
		if err := r.save(); err != nil {
			return err
		}
	}
	return r.renameInstance(ctx, rc.api, inst.ResourceID, inst.ID, rc.rs.ID)
}

func waitReplicaPromoted(ctx context.Context, r *run) error {
	rc, err := r.replica(ctx)
	if err != nil {
		return err
	}
	_, err = r.waitInstanceIn(ctx, rc.api, rc.rs.TargetRID, func(i *model.Instance) bool {
		return i.ID == rc.rs.ID && settled(i) && strings.EqualFold(i.Endpoint, rc.rs.Endpoint)
	})
	if err != nil {
		return err
	}
	if rc.rs.PromotedAt.IsZero() {
		rc.rs.PromotedAt = r.awsNow()
	}
	r.log("replica %s answers at %s, encrypted", rc.rs.Subject(), rc.rs.Endpoint)
	// Before the migration goes on (to letting writes resume, when replicas are swapped
	// before cutover), the name must resolve to the new replica (dns.go).
	rc.rs.DNS, err = r.awaitDNS(ctx, rc.rs.Endpoint, rc.rs.TargetAddrs, "the new replica")
	return err
}

// verifyReplicas checks every replacement replica: encrypted with its region's key, at the
// old name and endpoint, replicating from the right parent, with the old replica's settings
// and tags.
func verifyReplicas(ctx context.Context, r *run) []string {
	var problems []string
	for i := range r.st.Replicas {
		rs := &r.st.Replicas[i]
		r.subject = rs.Subject()
		rc, err := r.replica(ctx)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		inst, err := r.newReplica(ctx, rc)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		wantKey := r.st.KmsKeyARN
		if k := r.st.RegionKeys[rs.Region]; k != "" {
			wantKey = k
		}
		if !inst.Settings.StorageEncrypted || !strings.EqualFold(inst.Settings.KmsKeyID, wantKey) {
			problems = append(problems, fmt.Sprintf("replica %s is not encrypted with %s", rs.Subject(), wantKey))
		}
		if inst.ID != rs.ID || !strings.EqualFold(inst.Endpoint, rs.Endpoint) {
			problems = append(problems, fmt.Sprintf("replica %s answers as %s at %s", rs.Subject(), inst.ID, inst.Endpoint))
		}
		wantParent := r.st.Source
		if rs.Parent != "" {
			wantParent = rs.Parent[strings.Index(rs.Parent, "/")+1:]
		}
		if model.ARNLastPart(inst.ReplicaSource) != wantParent {
			problems = append(problems, fmt.Sprintf("replica %s replicates from %s, not %s", rs.Subject(), inst.ReplicaSource, wantParent))
		}
		for _, d := range compareSettings(model.InstanceSettingRoutes, rs.Subject(), rc.old.Settings, inst.Settings) {
			if !accepted(r.st.Differences, d) {
				problems = append(problems, fmt.Sprintf("replica %s: %s is %q, old replica has %q", rs.Subject(), d.Setting, d.Target, d.Source))
			}
		}
		problems = append(problems, missingTags(rc.old.Tags, inst.Tags, "replica "+rs.Subject())...)
	}
	r.subject = ""
	return problems
}

func accepted(list []Difference, d Difference) bool {
	for _, a := range list {
		if a.Resource == d.Resource && a.Setting == d.Setting {
			return true
		}
	}
	return false
}
