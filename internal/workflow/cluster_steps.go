package workflow

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/internal/journal"
	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// --- snapshot ------------------------------------------------------------------------------

// ownedSnapshot describes a cluster snapshot and checks it is ours; nil when it does not exist.
func (r *run) ownedClusterSnapshot(ctx context.Context, id string) (*model.Snapshot, error) {
	snap, err := r.api.DescribeClusterSnapshot(ctx, id)
	if model.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !r.ownedBy(snap.Tags) {
		return nil, errorf(id, "delete or rename it, or roll back: rdsencrypt rollback "+r.st.ID, nil,
			"DB cluster snapshot %s exists but was not created by migration %s", id, r.st.ID)
	}
	return snap, nil
}

func observeClusterSnapshot(ctx context.Context, r *run) (bool, error) {
	snap, err := r.ownedClusterSnapshot(ctx, r.clusterNames().Snapshot)
	if err != nil || snap == nil {
		return false, err
	}
	return !model.IsSnapshotFailed(snap.Status), nil
}

func applyClusterSnapshot(ctx context.Context, r *run) error {
	id := r.clusterNames().Snapshot
	snap, err := r.ownedClusterSnapshot(ctx, id)
	if err != nil {
		return err
	}
	if snap != nil && model.IsSnapshotFailed(snap.Status) {
		r.log("deleting failed cluster snapshot %s before taking it again", id)
		if err := r.deleteClusterSnapshot(ctx, id); err != nil {
			return err
		}
		if err := r.waitClusterSnapshotGone(ctx, id); err != nil {
			return err
		}
	}
	_, err = r.api.CreateClusterSnapshot(ctx, r.st.Source, id, r.ourTags(RoleSnapshot))
	if model.IsAlreadyExists(err) {
		return nil // ours, from an interrupted attempt: observe checked the tags
	}
	return err
}

func waitClusterSnapshot(ctx context.Context, r *run) error {
	id := r.clusterNames().Snapshot
	snap, err := r.waitClusterSnapshotAvailable(ctx, id)
	if err != nil {
		return err
	}
	if res := r.resourceByName(id); res != nil {
		res.ResourceID = snap.ARN
	}
	return nil
}

// --- restore and modify ---------------------------------------------------------------------

// targetCluster returns the new cluster wherever it is named, checking it is ours.
func (r *run) targetCluster(ctx context.Context) (*model.Cluster, error) {
	res := r.resource(RoleTarget)
	if res != nil && res.ResourceID != "" {
		return r.api.DescribeClusterByResourceID(ctx, res.ResourceID)
	}
	cl, err := r.api.DescribeCluster(ctx, r.clusterNames().Target)
	if err != nil {
		return nil, err
	}
	if !r.ownedBy(cl.Tags) || cl.ResourceID == r.st.SourceRID {
		return nil, errorf(cl.ID, "rename or delete it, or roll back: rdsencrypt rollback "+r.st.ID, nil,
			"DB cluster %s exists but was not created by migration %s", cl.ID, r.st.ID)
	}
	if res != nil {
		res.ResourceID = cl.ResourceID
	}
	return cl, nil
}

// findTargetCluster is targetCluster with nil for a cluster that does not exist.
func (r *run) findTargetCluster(ctx context.Context) (*model.Cluster, error) {
	cl, err := r.targetCluster(ctx)
	if model.IsNotFound(err) {
		return nil, nil
	}
	return cl, err
}

func observeClusterRestore(ctx context.Context, r *run) (bool, error) {
	cl, err := r.findTargetCluster(ctx)
	if err != nil || cl == nil {
		return false, err
	}
	return !model.IsClusterFailed(cl.Status), nil
}

// clusterRestoreCarry lists the cluster settings passed to the restore call. Deletion
// protection is left to the modify step: a restore that fails must leave a cluster that can be
// deleted and restored again.
func clusterRestoreCarry(s model.ClusterSettings) []model.Setting {
	var out []model.Setting
	for _, route := range model.ClusterSettingRoutes {
		if route.Restore && route.Setting != "DeletionProtection" && clusterCarried(s, route.Setting) {
			out = append(out, route.Setting)
		}
	}
	return out
}

// clusterTargetTags are the source cluster's tags plus ours: restore applies only the tags it
// is given.
func (r *run) clusterTargetTags() model.Tags {
	tags := model.Tags{}
	maps.Copy(tags, r.cluster.src.Tags)
	maps.Copy(tags, r.ourTags(RoleTarget))
	return tags
}

func applyClusterRestore(ctx context.Context, r *run) error {
	if err := r.replaceFailedTargetCluster(ctx); err != nil {
		return err
	}
	s, n := r.cluster.src.Settings, r.clusterNames()
	cl, err := r.api.RestoreCluster(ctx, model.RestoreClusterInput{ID: n.Target,
		SnapshotID: n.Snapshot, KmsKeyID: r.st.KmsKeyARN, Settings: s, Carry: clusterRestoreCarry(s),
		Tags: r.clusterTargetTags()})
	if model.IsAlreadyExists(err) {
		_, err = r.targetCluster(ctx) // checks it is ours
		return err
	}
	if model.FailureOf(err) == model.FailureKeyNotAccessible {
		return errorf(r.st.KmsKeyARN, keyAccessNext(r.st.ID), err,
			"KMS key %s is not accessible", r.st.KmsKeyARN)
	}
	if err != nil {
		return err
	}
	if res := r.resource(RoleTarget); res != nil {
		res.ResourceID = cl.ResourceID
	}
	return r.save()
}

// replaceFailedTargetCluster deletes a new cluster that a failed restore left behind.
func (r *run) replaceFailedTargetCluster(ctx context.Context) error {
	cl, err := r.findTargetCluster(ctx)
	if err != nil || cl == nil || !model.IsClusterFailed(cl.Status) {
		return err
	}
	r.log("deleting cluster %s, left %s by a failed restore, before restoring again", cl.ID, cl.Status)
	if err := r.deleteOwnedCluster(ctx, cl, ""); err != nil {
		return err
	}
	if res := r.resource(RoleTarget); res != nil {
		res.ResourceID = ""
	}
	return r.save()
}

func waitClusterRestored(ctx context.Context, r *run) error {
	cl, err := r.targetCluster(ctx)
	if err != nil {
		return err
	}
	_, err = r.waitCluster(ctx, cl.ResourceID, model.IsClusterAvailable)
	return r.keyLostDuring(ctx, "the encrypted cluster "+cl.ID, err)
}

// clusterSettingsToModify lists the settings step (modify or modify-after-cutover) applies
// that differ on the new cluster (model.Route AfterCutover, as for an instance).
func clusterSettingsToModify(r *run, step string, cl *model.Cluster) []model.Setting {
	return r.modifyPart(step, model.ClusterSettingRoutes, settingsToModify(model.ClusterSettingRoutes, r.cluster.src.Settings, cl.Settings))
}

// observeClusterModify, applyClusterModify and waitClusterModified are the behaviours of the
// cluster's modify step (StepModify) and of its modify-after-cutover step (StepModifyLate),
// for the settings that wait until writes resume.
func observeClusterModify(step string) func(context.Context, *run) (bool, error) {
	return func(ctx context.Context, r *run) (bool, error) {
		cl, err := r.targetCluster(ctx)
		if err != nil {
			return false, err
		}
		return len(clusterSettingsToModify(r, step, cl)) == 0, nil
	}
}

func applyClusterModify(step string) func(context.Context, *run) error {
	return func(ctx context.Context, r *run) error {
		cl, err := r.targetCluster(ctx)
		if err != nil {
			return err
		}
		if cl, err = r.waitCluster(ctx, cl.ResourceID, model.IsClusterAvailable); err != nil {
			return err
		}
		fields := clusterSettingsToModify(r, step, cl)
		if len(fields) == 0 {
			return nil
		}
		r.log("modifying cluster %s (%s): %s", cl.ID, step, joinSettings(fields))
		return r.modifyCluster(ctx, cl.ID, r.cluster.src.Settings, fields)
	}
}

func waitClusterModified(step string) func(context.Context, *run) error {
	return func(ctx context.Context, r *run) error {
		cl, err := r.targetCluster(ctx)
		if err != nil {
			return err
		}
		_, err = r.waitCluster(ctx, cl.ResourceID, func(c *model.Cluster) bool {
			return model.IsClusterAvailable(c) && len(clusterSettingsToModify(r, step, c)) == 0
		})
		return err
	}
}

// clusterLateSettings says whether a source has a setting a restore does not give and that
// waits for modify-after-cutover: a Database Insights mode other than standard.
func clusterLateSettings(s model.ClusterSettings) bool {
	return s.DatabaseInsightsMode != "" && s.DatabaseInsightsMode != "standard"
}

// --- parity -------------------------------------------------------------------------------

// clusterDifferences compares the new cluster and its members with the source.
func (r *run) clusterDifferences(ctx context.Context, cl *model.Cluster) ([]Difference, error) {
	diffs := compareSettings(model.ClusterSettingRoutes, r.st.Source, r.cluster.src.Settings, cl.Settings)
	for _, m := range r.journal().Members {
		inst, err := r.newMember(ctx, m.ID)
		if err != nil {
			return nil, err
		}
		if inst == nil {
			diffs = append(diffs, Difference{Resource: m.ID, Setting: "DBInstance", Source: m.ID, Target: "missing"})
			continue
		}
		diffs = append(diffs, memberDifferences(m, r.cluster.members[m.ID], inst, cl)...)
	}
	return diffs, nil
}

// memberDifferences compares a new member with the source member it replaces, including its
// promotion tier and whether it is the writer.
func memberDifferences(m ClusterMemberRecord, src, inst *model.Instance, cl *model.Cluster) []Difference {
	diffs := compareSettings(memberRoutes, m.ID, src.Settings, inst.Settings)
	i := slices.IndexFunc(cl.Members, func(x model.ClusterMember) bool { return x.InstanceID == inst.ID })
	if i < 0 {
		return append(diffs, Difference{Resource: m.ID, Setting: "DBClusterIdentifier", Source: "member", Target: "not a member"})
	}
	if tier := cl.Members[i].PromotionTier; tier != m.PromotionTier {
		diffs = append(diffs, Difference{Resource: m.ID, Setting: "PromotionTier", Source: fmt.Sprint(m.PromotionTier), Target: fmt.Sprint(tier)})
	}
	if w := cl.Members[i].IsWriter; w != m.Writer {
		diffs = append(diffs, Difference{Resource: m.ID, Setting: "IsClusterWriter", Source: fmt.Sprint(m.Writer), Target: fmt.Sprint(w)})
	}
	return diffs
}

func checkClusterParity(ctx context.Context, r *run) error {
	cl, err := r.targetCluster(ctx)
	if err != nil {
		return err
	}
	if p := encryptionProblem(cl.Settings.StorageEncrypted, cl.Settings.KmsKeyID, r.st.KmsKeyARN, r.key); p != "" {
		r.st.Differences = nil
		return r.refuseUnencrypted(cl.ID, r.st.Source, p)
	}
	diffs, err := r.clusterDifferences(ctx, cl)
	if err != nil {
		return err
	}
	if late := clusterSettingsToModify(r, StepModifyLate, cl); len(late) > 0 {
		// Applied after cutover, then compared by verify with every other setting.
		r.log("parity: cluster %s gets %s after cutover (modify-after-cutover)", cl.ID, joinSettings(late))
		diffs = slices.DeleteFunc(diffs, func(d Difference) bool {
			return d.Resource == r.st.Source && slices.Contains(late, model.Setting(d.Setting))
		})
	}
	r.st.Differences = diffs
	if len(diffs) == 0 {
		r.log("parity: cluster %s and its %d member(s) match %s in every compared setting", cl.ID, len(r.journal().Members), r.st.Source)
		return nil
	}
	lines := make([]string, len(diffs))
	for i, d := range diffs {
		lines[i] = fmt.Sprintf("%s %s: source %q, new %q", d.Resource, d.Setting, d.Source, d.Target)
	}
	d, err := r.approve(ctx, Approval{Step: StepParity, Differences: diffs, Details: lines,
		Summary: fmt.Sprintf("%d setting(s) of cluster %s or its members differ from %s; accept them and go on to cutover?", len(diffs), cl.ID, r.st.Source)})
	if err != nil {
		return err
	}
	switch d {
	case Approve:
		r.log("parity differences accepted by %s", journal.OSUser())
		return nil
	case Rollback:
		return errRollbackRequested
	}
	return &Error{Resource: cl.ID, Problem: fmt.Sprintf("parity check found %d difference(s) between cluster %s and %s (%s); cutover not started",
		len(diffs), r.st.Source, cl.ID, strings.Join(lines, "; ")),
		Next: fmt.Sprintf("review them, then rdsencrypt resume %s on a terminal to accept, or rdsencrypt rollback %s", r.st.ID, r.st.ID),
		Err:  ErrStopped}
}

// --- verify -------------------------------------------------------------------------------

func verifyCluster(ctx context.Context, r *run) error {
	cl, err := r.targetCluster(ctx)
	if err != nil {
		return err
	}
	var problems []string
	if !cl.Settings.StorageEncrypted {
		problems = append(problems, "storage is not encrypted")
	} else if !sameKey(cl.Settings.KmsKeyID, r.key) {
		problems = append(problems, fmt.Sprintf("encrypted with %s, not %s", cl.Settings.KmsKeyID, r.st.KmsKeyARN))
	}
	if cl.ID != r.st.Source {
		problems = append(problems, fmt.Sprintf("named %s, not %s", cl.ID, r.st.Source))
	}
	if !strings.EqualFold(cl.Endpoint, r.st.SourceAddr) {
		problems = append(problems, fmt.Sprintf("writer endpoint %s, not %s", cl.Endpoint, r.st.SourceAddr))
	}
	if !strings.EqualFold(cl.ReaderEndpoint, r.journal().ReaderAddr) {
		problems = append(problems, fmt.Sprintf("reader endpoint %s, not %s", cl.ReaderEndpoint, r.journal().ReaderAddr))
	}
	diffs, err := r.clusterDifferences(ctx, cl)
	if err != nil {
		return err
	}
	for _, d := range diffs {
		if !slices.ContainsFunc(r.st.Differences, func(a Difference) bool { return a.Resource == d.Resource && a.Setting == d.Setting }) {
			problems = append(problems, fmt.Sprintf("%s %s is %q, source has %q", d.Resource, d.Setting, d.Target, d.Source))
		}
	}
	problems = append(problems, missingTags(r.cluster.src.Tags, cl.Tags, "cluster")...)
	if err := keepSubscriptions(ctx, r, r.names.Retired); err != nil { // attachments.go
		return err
	}
	for _, m := range r.journal().Members {
		inst, err := r.newMember(ctx, m.ID)
		if err != nil {
			return err
		}
		if inst == nil {
			continue // reported by the differences
		}
		if inst.ID != m.ID || !strings.EqualFold(inst.Endpoint, m.Address) {
			problems = append(problems, fmt.Sprintf("member %s is %s at %s, not at %s", m.ID, inst.ID, inst.Endpoint, m.Address))
		}
		problems = append(problems, missingTags(r.cluster.members[m.ID].Tags, inst.Tags, "member "+m.ID)...)
	}
	for _, want := range r.journal().Endpoints {
		ep, err := r.findEndpoint(ctx, cl.ID, want.ID)
		if err != nil {
			return err
		}
		switch {
		case ep == nil:
			problems = append(problems, fmt.Sprintf("custom endpoint %s is missing", want.ID))
		case !strings.EqualFold(ep.Address, want.Address) || !sameValue(ep.StaticMembers, want.Static) ||
			!sameValue(ep.ExcludedMembers, want.Excluded) || !strings.EqualFold(ep.Type, want.Type):
			problems = append(problems, fmt.Sprintf("custom endpoint %s is %s %s static %v excluded %v, source had %s %s static %v excluded %v",
				want.ID, ep.Type, ep.Address, ep.StaticMembers, ep.ExcludedMembers, want.Type, want.Address, want.Static, want.Excluded))
		}
	}
	if len(problems) > 0 {
		return errorf(cl.ID, "inspect it, then rdsencrypt resume "+r.st.ID+" or rdsencrypt rollback "+r.st.ID, nil,
			"verification of cluster %s failed: %s", cl.ID, strings.Join(problems, "; "))
	}
	r.log("verified: cluster %s is encrypted with %s at %s, with %d member(s) and %d custom endpoint(s)",
		cl.ID, r.st.KmsKeyARN, cl.Endpoint, len(r.journal().Members), len(r.journal().Endpoints))
	return nil
}

// missingTags lists the source tags (other than a previous migration's) that got lost.
func missingTags(want, got model.Tags, what string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if strings.HasPrefix(k, "rdsencrypt:") {
			continue
		}
		if v, ok := got[k]; !ok || v != want[k] {
			out = append(out, fmt.Sprintf("%s tag %s missing or changed", what, k))
		}
	}
	return out
}
