package workflow

import (
	"fmt"
	"strings"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// clusterStepOrder lists the journal step names of a cluster migration: members writer first.
func clusterStepOrder(j *ClusterJournal) []string {
	var out []string
	for _, s := range clusterSteps {
		switch s.name {
		case StepMember:
			for _, m := range j.Members {
				out = append(out, stepName(StepMember, m.ID))
			}
		case StepTempEndpoint, StepCutoverEndpoint:
			for _, ep := range j.Endpoints {
				out = append(out, stepName(s.name, ep.ID))
			}
		default:
			out = append(out, s.name)
		}
	}
	return out
}

// clusterResources are the resources a cluster migration creates or renames.
func clusterResources(region string, n ClusterNames, j *ClusterJournal) []PlannedResource {
	out := []PlannedResource{
		{Role: RoleSnapshot, Type: TypeDBClusterSnapshot, Region: region, Name: n.Snapshot},
		{Role: RoleTarget, Type: TypeDBCluster, Region: region, Name: n.Target},
		{Role: RoleRetiredSource, Type: TypeDBCluster, Region: region, Name: n.Retired},
	}
	for _, m := range j.Members {
		out = append(out,
			PlannedResource{Role: memberRole(m.ID), Type: TypeDBInstance, Region: region, Name: n.MemberTarget(m.ID)},
			PlannedResource{Role: RoleRetiredMember + ":" + m.ID, Type: TypeDBInstance, Region: region, Name: n.MemberRetired(m.ID)})
	}
	for _, ep := range j.Endpoints {
		out = append(out, PlannedResource{Role: RoleTempEndpoint + ":" + ep.ID, Type: TypeDBClusterEndpoint, Region: region, Name: n.TempEndpoint(ep.ID)})
	}
	return out
}

// clusterPlanInput is what a cluster plan is computed from, all described beforehand.
type clusterPlanInput struct {
	id      string
	src     *model.Cluster
	members map[string]*model.Instance
	journal *ClusterJournal
	key     *model.Key
	// freeze is how writes stop (chooseClusterFreeze); note says why it is not enforced.
	freeze     FreezeMode
	freezeNote string
	// subscriptions are the event subscriptions that list the cluster (attachments.go).
	subscriptions []string
}

// buildClusterPlan computes the plan of a cluster migration. It is pure.
func buildClusterPlan(in clusterPlanInput) *Plan {
	src := in.src
	p := &Plan{MigrationID: in.id, Kind: KindCluster, Region: src.Region, Source: src.ID,
		Engine: src.Settings.Engine + " " + src.Settings.EngineVersion, KmsKeyARN: in.key.ARN,
		Mode: modeFor(src.Settings.StorageEncrypted, src.Settings.KmsKeyID, in.key), Freeze: in.freeze, FreezeNote: in.freezeNote,
		MasterUserSecret: masterSecretOf(src.MasterUserSecretARN, src.MasterUserSecretKmsKeyID)}
	if p.Freeze == "" {
		p.Freeze = FreezeNone
	}
	n := ClusterNamesFor(planID(in.id), src.ID)
	var total, downtime time.Duration
	for _, name := range clusterStepOrder(in.journal) {
		kind, subject := splitStep(name)
		if !managesPassword(kind, p.MasterUserSecret) || kind == StepModifyLate && !clusterLateSettings(src.Settings) {
			continue
		}
		info, _ := stepByName(clusterSteps, kind)
		est := info.estimate.at(0) // Aurora storage grows on demand: no per-GiB part
		actions := info.actions
		if kind == StepFreeze {
			actions = freezeActions(p.Freeze, KindCluster)
			if p.Freeze == FreezeEnforce {
				est = enforceEstimate
			}
		}
		p.Steps = append(p.Steps, PlannedStep{Name: name, Description: info.text(p, n.names(), subject),
			Actions: actions, Mutating: info.mutating, Downtime: info.downtime, Estimate: Duration(est), ApprovedWith: info.approvedWith})
		total += est
		if info.downtime {
			downtime += est
		}
	}
	p.EstimatedTotal, p.EstimatedDowntime = Duration(total), Duration(downtime)
	p.Resources = clusterResources(src.Region, n, in.journal)
	p.Settings = plannedClusterSettings(src, in.members, in.journal)
	p.Warnings = append(clusterWarnings(src, n, in.journal), attachmentWarnings(in.subscriptions, src.ID)...)
	p.EventSubscriptions = in.subscriptions
	if p.MasterUserSecret != nil {
		p.Warnings = append(p.Warnings, masterSecretWarning("cluster", src.ID, p.MasterUserSecret))
	}
	p.Warnings = append(p.Warnings, freezeWarning(p, src.Settings.VpcSecurityGroupIDs, n.names()))
	if p.Freeze == FreezeEnforce {
		p.Resources = append(p.Resources, PlannedResource{Role: RoleFreezeGroup, Type: TypeSecurityGroup, Region: src.Region, Name: n.FreezeGroup})
	}
	if src.Settings.IAMDatabaseAuthenticationEnabled {
		p.Warnings = append(p.Warnings, iamAuthWarning("cluster", src.ARN, src.ResourceID))
		p.Acknowledgements = []string{AckIAMAuth}
	}
	return p
}

func plannedClusterSettings(src *model.Cluster, members map[string]*model.Instance, j *ClusterJournal) []PlannedSetting {
	var out []PlannedSetting
	for _, r := range model.ClusterSettingRoutes {
		v, _ := model.SettingValue(src.Settings, r.Setting)
		ps := PlannedSetting{Resource: src.ID, Name: string(r.Setting), Value: formatValue(v), Note: r.Note}
		switch {
		case r.Restore && r.Setting != "DeletionProtection" && clusterCarried(src.Settings, r.Setting):
			ps.Via = "restore"
		case r.Modify:
			ps.Via = "modify"
		case r.Compare:
			ps.Via = "snapshot"
		default:
			ps.Via = "not-carried"
		}
		out = append(out, ps)
	}
	for _, m := range j.Members {
		inst := members[m.ID]
		out = append(out, PlannedSetting{Resource: m.ID, Name: "PromotionTier", Value: fmt.Sprint(m.PromotionTier), Via: "create"})
		for _, s := range memberSettings {
			v, _ := model.SettingValue(inst.Settings, s)
			out = append(out, PlannedSetting{Resource: m.ID, Name: string(s), Value: formatValue(v), Via: "create"})
		}
	}
	return out
}

func clusterWarnings(src *model.Cluster, n ClusterNames, j *ClusterJournal) []string {
	s := src.Settings
	w := []string{"member creation happens while writes are frozen: keep them stopped until cutover ends"}
	if len(j.Members) == 0 {
		w = append(w, fmt.Sprintf("cluster %s has no DB instances: the new cluster gets none either", src.ID))
	}
	if s.DeletionProtection {
		w = append(w, "deletion protection is on: the new cluster gets it too; cleanup turns it off on the retired cluster before deleting it (with a final snapshot)")
	}
	if s.BacktrackWindow > 0 {
		w = append(w, "backtracking is kept, but the new cluster can only backtrack to points after its restore")
	}
	if len(s.AssociatedRoles) > 0 {
		w = append(w, fmt.Sprintf("IAM roles (%s) are passed to the restore; features that need more than the association (e.g. S3 import) should be checked after cutover", strings.Join(s.AssociatedRoles, ", ")))
	}
	for _, ep := range j.Endpoints {
		w = append(w, fmt.Sprintf("custom endpoint %s does not answer at cutover between the deletion of the old one and the creation of the new one (a minute or two)", ep.ID))
	}
	if n.Target != src.ID+"-enc-"+n.id || n.Retired != src.ID+"-old-"+n.id {
		w = append(w, fmt.Sprintf("identifier %s is long: temporary names are shortened to %s and %s", src.ID, n.Target, n.Retired))
	}
	w = append(w, "automated backups of the source cluster are not copied: the new cluster's backups start at its restore; keep the retired cluster (or its final snapshot) for point-in-time restores before cutover")
	return w
}

// clusterCarried reports whether a cluster setting is passed explicitly to the restore.
func clusterCarried(s model.ClusterSettings, name model.Setting) bool {
	v, err := model.SettingValue(s, name)
	if err != nil {
		return false
	}
	switch x := v.(type) {
	case int64:
		return x > 0 // BacktrackWindow 0 is off, which is what a restore gives
	case float64:
		return x > 0
	case int32:
		return x > 0
	}
	return !isZero(v)
}
