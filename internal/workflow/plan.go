package workflow

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/replication"
)

// Migration modes.
const (
	ModeEncrypt = "encrypt"
	ModeRekey   = "rekey"
	ModeNone    = "none"
)

// BuildInstancePlan computes the plan of an instance migration from the described source and
// key. It is pure: the caller does the reads.
func BuildInstancePlan(migrationID string, src *model.Instance, key *model.Key) *Plan {
	return buildInstancePlan(instancePlanInput{id: migrationID, src: src, key: key})
}

// instancePlanInput is what an instance plan is computed from, all described beforehand.
type instancePlanInput struct {
	id       string
	src      *model.Instance
	key      *model.Key
	replicas []replicaNode
	keys     map[string]*model.Key // region -> key, for the replicas
	order    string                // ReplicasAfterCutover or ReplicasBeforeCutover
	// unusedKeys are the regions --kms-key named a key for where no replica lives.
	unusedKeys map[string]string
	precopy    bool     // RunOptions.Precopy
	writeRate  *float64 // the source's GiB written per hour (CloudWatch), nil when unknown
	freeze     FreezeMode
	freezeNote string
	// strategy is StrategySnapshot or StrategyReplication (auto resolved), and why.
	strategy, strategyReason string
	// findings are the replication preconditions found on the source.
	findings []replication.Finding
	// sourceChange: the replication strategy changes the source's DB parameter group first
	// (replication_source_group.go).
	sourceChange bool
	// subscriptions are the event subscriptions that list the source (attachments.go).
	subscriptions []string
}

// instanceStepPlanned says whether the plan of an instance has step name (of kind, about
// subject): a step with nothing to do for this source is left out.
func instanceStepPlanned(p *Plan, in instancePlanInput, name, kind, subject, groupCopy string) bool {
	switch {
	case !rolesPlanned(kind, in.src, replicaBySubject(in.replicas, subject)):
		return false // nothing to associate
	case name == StepReplCopyGroup && (groupCopy == "" || p.SourceChange != nil):
		return false // only the MySQL/MariaDB freeze sets read_only in a parameter group
	case name == StepReplSourceGroup && p.SourceChange == nil:
		return false // rds.logical_replication is on already (replication_source_group.go)
	case (name == StepReplPosReplica || name == StepReplPosStop || name == StepReplPosDelete) && p.resourceName(RolePositionReplica) == "":
		return false // RDS for MySQL only (replication_position.go)
	}
	return managesPassword(kind, p.MasterUserSecret)
}

func buildInstancePlan(in instancePlanInput) *Plan {
	src, key := in.src, in.key
	p := &Plan{
		MigrationID:        in.id,
		Kind:               KindInstance,
		Region:             src.Region,
		Source:             src.ID,
		Engine:             src.Settings.Engine,
		KmsKeyARN:          key.ARN,
		AllocatedStorage:   src.Settings.AllocatedStorage,
		Mode:               modeFor(src.Settings.StorageEncrypted, src.Settings.KmsKeyID, key),
		ReplicaOrder:       in.order,
		Precopy:            in.precopy,
		Freeze:             in.freeze,
		FreezeNote:         in.freezeNote,
		MasterUserSecret:   masterSecretOf(src.MasterUserSecretARN, src.MasterUserSecretKmsKeyID),
		EventSubscriptions: in.subscriptions,
	}
	if p.Freeze == "" {
		p.Freeze = FreezeNone
	}
	if len(in.replicas) > 0 && p.ReplicaOrder == "" {
		p.ReplicaOrder = ReplicasAfterCutover
	}
	for region, k := range in.keys {
		if region != src.Region {
			if p.RegionKeys == nil {
				p.RegionKeys = map[string]string{}
			}
			p.RegionKeys[region] = k.ARN
		}
	}
	names := NamesFor(planID(in.id), src.ID)
	p.Settings = plannedInstanceSettings(src)
	p.WriteGiBPerHour = in.writeRate
	modifies := modifyParts(src, p.Settings)
	p.Resources = []PlannedResource{
		{Role: RoleSnapshot, Type: TypeDBSnapshot, Region: src.Region, Name: names.Snapshot},
		{Role: RoleEncryptedSnapshot, Type: TypeDBSnapshot, Region: src.Region, Name: names.EncryptedSnapshot},
		{Role: RoleTarget, Type: TypeDBInstance, Region: src.Region, Name: names.Target},
		{Role: RoleRetiredSource, Type: TypeDBInstance, Region: src.Region, Name: names.Retired},
	}
	if in.precopy {
		p.Resources = append(p.Resources,
			PlannedResource{Role: RolePreSnapshot, Type: TypeDBSnapshot, Region: src.Region, Name: names.PreSnapshot},
			PlannedResource{Role: RolePreEncryptedSnapshot, Type: TypeDBSnapshot, Region: src.Region, Name: names.PreEncryptedSnapshot})
	}
	group, groupCopy := src.Settings.DBParameterGroupName, ""
	if in.strategy == StrategyReplication && replication.Family(src.Settings.Engine) != "" {
		// the new instance's copy of the source's parameter group, named by its step
		// (replication_group_copy.go): MySQL/MariaDB's read_only and PostgreSQL's bound on
		// the reverse slots' WAL (replication_reverse.go) are set in it, never in the
		// operator's group; PostgreSQL's source change puts it on the source first
		// (replication_source_group.go)
		groupCopy = ParameterGroupCopyName(group, planID(in.id))
		p.Resources = append(p.Resources, PlannedResource{Role: RoleParameterGroup, Type: TypeDBParameterGroup, Region: src.Region, Name: groupCopy})
	}
	if in.strategy == StrategyReplication && startsFromReplica(src.Settings.Engine) {
		p.Resources = append(p.Resources, PlannedResource{Role: RolePositionReplica, Type: TypeDBInstance, Region: src.Region, Name: names.PositionReplica})
	}
	if in.sourceChange {
		p.SourceChange = plannedSourceChange(in.id, src, groupCopy)
	}
	p.Strategy, p.StrategyReason = in.strategy, in.strategyReason // the steps' descriptions read it
	for _, precopy := range []bool{true, false} {
		var total, downtime time.Duration
		m := estimateModel{src: src, precopy: precopy, freeze: p.Freeze, modifies: modifies}
		m.changedGiB = m.precopyChanges(in.writeRate)
		order := instanceStepOrder(in.replicas, p.ReplicaOrder, precopy)
		if in.strategy == StrategyReplication {
			if precopy {
				continue
			}
			order = replicationOrder(in.replicas, p.ReplicaOrder)
		}
		for _, ps := range order {
			kind, subject := splitStep(ps.name)
			if !instanceStepPlanned(p, in, ps.name, kind, subject, groupCopy) {
				continue
			}
			info, _ := stepByName(allInstanceSteps, kind)
			est := m.of(info)
			if subject != "" {
				est = info.estimate.at(src.Settings.AllocatedStorage)
			}
			if precopy == in.precopy {
				actions := info.actions
				if kind == StepFreeze {
					actions = freezeActions(p.Freeze, KindInstance)
				}
				p.Steps = append(p.Steps, PlannedStep{
					Name: ps.name, Description: info.text(p, names, subject), Actions: actions,
					Mutating: info.mutating, Downtime: ps.downtime, Estimate: Duration(est), ApprovedWith: info.approvedWith,
				})
			}
			total += est
			if ps.downtime {
				downtime += est
			}
		}
		p.Strategies = append(p.Strategies, StrategyEstimate{Precopy: precopy, EstimatedTotal: Duration(total), EstimatedDowntime: Duration(downtime)})
		if precopy == in.precopy {
			p.EstimatedTotal, p.EstimatedDowntime = Duration(total), Duration(downtime)
		}
	}
	if in.strategy == StrategyReplication {
		// The replication strategy freezes in the database (replication-freeze), not with
		// the freeze-writes step: no freeze group.
		p.Warnings = append(replicationWarnings(in.findings), instanceWarnings(src, names)...)
		if replication.Family(src.Settings.Engine) == "postgres" {
			p.Warnings = append(p.Warnings, reverseWALWarning(planID(in.id), src.ID, names.Retired, groupCopy, reverseWALBoundMB(src.Settings.AllocatedStorage), crossRegionReplicas(src.Region, replicaStatesOf(in.replicas))))
		}
		if startsFromReplica(src.Settings.Engine) {
			p.Warnings = append(p.Warnings, positionReplicaNote(src, names))
		}
		if c := p.SourceChange; c != nil {
			p.Warnings = append(p.Warnings, sourceChangeWarning(c))
		} else if groupCopy != "" {
			p.Warnings = append(p.Warnings, groupCopyNote(src.Settings.Engine, src.ID, names.Retired, group, groupCopy))
		}
	} else {
		if p.Freeze == FreezeEnforce {
			p.Resources = append(p.Resources, PlannedResource{Role: RoleFreezeGroup, Type: TypeSecurityGroup, Region: src.Region, Name: names.FreezeGroup})
		}
		p.Warnings = append(strategyWarnings(p), instanceWarnings(src, names)...)
		p.Warnings = append(p.Warnings, freezeWarning(p, src.Settings.VpcSecurityGroupIDs, names))
	}
	p.Warnings = append(p.Warnings, attachmentWarnings(in.subscriptions, src.ID)...)
	for _, n := range in.replicas {
		rn := NamesFor(planID(in.id), n.inst.ID)
		p.Resources = append(p.Resources,
			PlannedResource{Role: RoleReplicaTarget, Type: TypeDBInstance, Region: n.inst.Region, Name: rn.Target},
			PlannedResource{Role: RoleReplicaRetired, Type: TypeDBInstance, Region: n.inst.Region, Name: rn.Retired})
		parentRegion := src.Region
		if n.parent != "" {
			parentRegion, _, _ = strings.Cut(n.parent, "/")
		}
		p.Settings = append(p.Settings, plannedReplicaSettings(n.inst, parentRegion)...)
	}
	p.Renames = plannedRenames(p.Steps, src, names, planID(in.id))
	p.Warnings = append(p.Warnings, replicaWarnings(in.replicas, p.ReplicaOrder, in.strategy, p.Steps)...)
	if src.Settings.IAMDatabaseAuthenticationEnabled {
		p.Warnings = append(p.Warnings, iamAuthWarning("instance", src.ARN, src.ResourceID))
		p.Acknowledgements = []string{AckIAMAuth}
	}
	for _, n := range in.replicas {
		if n.inst.Settings.IAMDatabaseAuthenticationEnabled {
			p.Warnings = append(p.Warnings, iamAuthWarning("read replica "+n.inst.ID, n.inst.ARN, n.inst.ResourceID))
			p.Acknowledgements = []string{AckIAMAuth}
		}
	}
	if p.SourceChange != nil {
		p.Acknowledgements = append(p.Acknowledgements, AckSourceReboot)
	}
	p.Warnings = append(p.Warnings, unusedKeyWarnings(src.ID, in.unusedKeys)...)
	return p
}

// unusedKeyWarnings says which keys given for other regions serve nothing: a mistyped
// region would otherwise pass silently.
func unusedKeyWarnings(source string, unused map[string]string) []string {
	var out []string
	for _, region := range slices.Sorted(maps.Keys(unused)) {
		out = append(out, fmt.Sprintf("--kms-key gives %s for %s, but %s has no read replica there: that key is not used",
			unused[region], region, source))
	}
	return out
}

// unusedRegionKeys are the entries of refs for regions other than the source's where no
// replica lives.
func unusedRegionKeys(sourceRegion string, refs map[string]string, reps []replicaNode) map[string]string {
	unused := map[string]string{}
	for region, ref := range refs {
		if region == sourceRegion || slices.ContainsFunc(reps, func(n replicaNode) bool { return n.inst.Region == region }) {
			continue
		}
		unused[region] = ref
	}
	return unused
}

// planID stands in for the migration id in names shown by a plan made before one exists.
func planID(id string) string {
	if id == "" {
		return "xxxxxxxx"
	}
	return id
}

func modeFor(encrypted bool, currentKey string, key *model.Key) string {
	switch {
	case !encrypted:
		return ModeEncrypt
	case sameKey(currentKey, key):
		return ModeNone
	}
	return ModeRekey
}

// sameKey reports whether a key reference from a described resource (usually an ARN) is key.
func sameKey(ref string, key *model.Key) bool {
	return ref != "" && (strings.EqualFold(ref, key.ARN) || strings.EqualFold(ref, key.ID))
}

func plannedInstanceSettings(src *model.Instance) []PlannedSetting {
	return plannedSettings(src, src.ID, "restore", "snapshot", byRestore, func(r model.Route) bool { return r.Restore })
}

// plannedSettings says, for each setting of inst, how it reaches the new resource: by the
// creating call (named created, when it accepts the setting), a later modify, inheritance
// from elsewhere (named inherited), or not at all.
func plannedSettings(inst *model.Instance, resource, created, inherited string, how creation, accepts func(model.Route) bool) []PlannedSetting {
	var out []PlannedSetting
	for _, r := range model.InstanceSettingRoutes {
		v, _ := model.SettingValue(inst.Settings, r.Setting)
		ps := PlannedSetting{Resource: resource, Name: string(r.Setting), Value: formatValue(v), Note: r.Note}
		if why := refusedAtCreation(inst.Settings, r.Setting, how); why != "" && accepts(r) && ps.Note == "" {
			ps.Note = why
		}
		switch {
		case accepts(r) && r.Setting != "DeletionProtection" && carried(inst.Settings, r.Setting, how): // see restoreCarry
			ps.Via = created
		case r.Modify:
			ps.Via = "modify"
		case r.Setting == "AssociatedRoles" && created == "restore":
			ps.Via = StepAddRoles // attachments.go
		case r.Setting == "AssociatedRoles":
			ps.Via = StepReplicaRoles
		case r.Compare:
			ps.Via = inherited
		default:
			ps.Via = "not-carried"
		}
		out = append(out, ps)
	}
	return out
}

func instanceWarnings(src *model.Instance, names Names) []string {
	var w []string
	s := src.Settings
	if s.BackupRetentionPeriod == 0 {
		w = append(w, "automated backups are off on the source: the new instance keeps them off, and no read replica can be created from it")
	}
	if s.DeletionProtection {
		w = append(w, "deletion protection is on: the new instance gets it too, once healthy (modify step); cleanup turns it off on the retired source before deleting it (with a final snapshot)")
	}
	if len(src.PendingModifications) > 0 {
		w = append(w, fmt.Sprintf("pending modifications on the source (%s) are not in the snapshot and will not reach the new instance", strings.Join(src.PendingModifications, ", ")))
	}
	if ms := masterSecretOf(src.MasterUserSecretARN, ""); ms != nil {
		w = append(w, masterSecretWarning("instance", src.ID, ms))
	}
	if len(s.AssociatedRoles) > 0 {
		w = append(w, fmt.Sprintf("IAM role associations (%s) are not carried by a snapshot: the add-roles step associates them with the new instance (AddRoleToDBInstance, which needs iam:PassRole on each role)", strings.Join(s.AssociatedRoles, ", ")))
	}
	if len(src.ID)+len("-old-xxxxxxxx") > maxInstanceID {
		w = append(w, fmt.Sprintf("identifier %s is long: temporary names are shortened to %s and %s", src.ID, names.Target, names.Retired))
	}
	return w
}

// carried reports whether a setting is passed explicitly to restore or replica creation. Unset
// values are left to AWS's default, settings that conflict with others are left out, and so
// are those AWS refuses for this call (create_rules.go).
func carried(s model.InstanceSettings, name model.Setting, how creation) bool {
	if !acceptedAtCreation(s, name, how) {
		return false
	}
	switch name {
	case "AvailabilityZone":
		return !s.MultiAZ && s.AvailabilityZone != ""
	case "Iops":
		return s.Iops > 0 && s.StorageType != "gp2" && s.StorageType != "standard"
	case "StorageThroughput":
		return s.StorageThroughput > 0 && s.StorageType == "gp3"
	}
	v, err := model.SettingValue(s, name)
	if err != nil {
		return false
	}
	return !isZero(v)
}

func formatValue(v any) string {
	switch x := v.(type) {
	case []string:
		return strings.Join(x, ",")
	case string:
		return x
	}
	return fmt.Sprint(v)
}

func isZero(v any) bool {
	switch x := v.(type) {
	case string:
		return x == ""
	case []string:
		return len(x) == 0
	case int32:
		return x == 0
	case int64:
		return x == 0
	case float64:
		return x == 0
	case bool:
		return false // an explicit false is a setting too
	}
	return v == nil
}

// estimateModel is what the estimates of an instance's own steps depend on besides the step
// itself: the plan estimates both strategies with it, and a run paces each wait by it
// (expectStep). The durations follow docs/aws-behaviour.md#durations, the model the
// simulator's DurationModel follows too.
type estimateModel struct {
	src      *model.Instance
	precopy  bool
	freeze   FreezeMode
	modifies map[string]modifyCost // modifyParts
	// changedGiB is what the source is expected to write between the pre-copy's snapshot
	// and the final one: the final snapshot and its copy hold that much.
	changedGiB float64
}

// precopyChanges estimates the GiB written between the pre-copy's snapshot and the freeze, at
// rate GiB per hour (nil: unknown, 0 is counted): the pre-copy's steps and the freeze, one
// after the other as migrate runs them (a --prepare run that waits for its window writes more).
func (m estimateModel) precopyChanges(rate *float64) float64 {
	if !m.precopy || rate == nil {
		return 0
	}
	var d time.Duration
	for _, s := range instanceSteps {
		if s.name == StepPreSnapshot || s.name == StepPreCopy || s.name == StepFreeze {
			d += m.of(s)
		}
	}
	return *rate * d.Hours()
}

// of is the estimate of one of the instance route's steps:
//   - a snapshot holds what changed since the instance's previous one: with automated
//     backups on there is always one (at most a day old), and with the pre-copy the final
//     snapshot follows the pre-copy's; the fixed part is counted then, plus the changes
//     since the pre-copy when the write rate is known;
//   - with the pre-copy the final copy is incremental (same key, the pre-copy's copy
//     exists): the fixed part and the changes;
//   - the restore includes the initial automated backup when backups are on;
//   - each modify step (in the freeze, after cutover) takes what its settings need
//     (modifyParts);
//   - the enforced freeze changes the security groups, reboots and reads a whole minute
//     of DatabaseConnections (enforceEstimate).
func (m estimateModel) of(s step) time.Duration {
	gib := m.src.Settings.AllocatedStorage
	backups := m.src.Settings.BackupRetentionPeriod > 0
	switch {
	case s.name == StepFreeze && m.freeze == FreezeEnforce:
		return enforceEstimate
	case (s.name == StepSnapshot || s.name == StepCopy) && m.precopy:
		return s.estimate.at(0) + time.Duration(m.changedGiB*float64(s.estimate.perGB))
	case (s.name == StepSnapshot || s.name == StepPreSnapshot) && backups:
		return s.estimate.at(0)
	case s.name == StepRestore && backups:
		return s.estimate.at(gib) + initialBackupEstimate
	case s.name == StepModify || s.name == StepModifyLate:
		switch m.modifies[s.name] {
		case modifyNothing:
			return 0
		case modifyAtOnce:
			return modifyAtOnceEstimate
		}
	}
	return s.estimate.at(gib)
}

// initialBackupEstimate is the restored instance's first automated backup (status
// backing-up) when backups are on: it is not available, so not renamed, before it ends.
const initialBackupEstimate = 2 * time.Minute

// modifyCost is what a modify step is expected to cost.
type modifyCost int

const (
	modifyNothing modifyCost = iota // no setting of the step needs a modify
	modifyAtOnce                    // every one applies at once, the instance stays available
	modifySlow                      // one takes the instance through modifying or configuring-*
)

// modifyAtOnceEstimate is a modify whose settings all apply at once: the call and a look.
const modifyAtOnceEstimate = 10 * time.Second

// appliedAtOnce are the settings a ModifyDBInstance with ApplyImmediately changes without
// taking the instance through modifying: windows, the autoscaling ceiling, flags
// (docs/precopy.md#settings-after-cutover). The others (monitoring, Performance Insights,
// groups, storage, class...) take it through modifying or configuring-* for minutes.
var appliedAtOnce = []model.Setting{"PreferredMaintenanceWindow", "PreferredBackupWindow", "MaxAllocatedStorage",
	"DeletionProtection", "CopyTagsToSnapshot", "AutoMinorVersionUpgrade"}

// modifyParts says, for the modify step and modify-after-cutover, what the settings the plan
// sends by modify will cost. A setting left at what a restored instance has anyway (unset,
// zero, off) needs no modify.
func modifyParts(src *model.Instance, planned []PlannedSetting) map[string]modifyCost {
	out := map[string]modifyCost{}
	for _, ps := range planned {
		if ps.Via != "modify" || ps.Resource != src.ID {
			continue
		}
		v, err := model.SettingValue(src.Settings, model.Setting(ps.Name))
		if off, isBool := v.(bool); err != nil || isZero(v) || (isBool && !off) {
			continue
		}
		if (ps.Name == "Iops" || ps.Name == "StorageThroughput") && src.Settings.StorageType == "gp3" {
			continue // refused at restore below the size threshold, where gp3 has its baseline anyway
		}
		part, cost := StepModify, modifySlow
		if afterCutover(model.Setting(ps.Name)) {
			part = StepModifyLate
		}
		if slices.Contains(appliedAtOnce, model.Setting(ps.Name)) {
			cost = modifyAtOnce
		}
		out[part] = max(out[part], cost)
	}
	return out
}

// strategyWarnings compare the write downtime with and without the pre-copy, and say what the
// restore's lazy loading means after cutover.
func strategyWarnings(p *Plan) []string {
	var with, without StrategyEstimate
	for _, s := range p.Strategies {
		if s.Precopy {
			with = s
		} else {
			without = s
		}
	}
	shorter := "with the pre-copy (the default)"
	if without.EstimatedDowntime < with.EstimatedDowntime {
		shorter = "without the pre-copy (--precopy=false)"
	}
	changes := "plus 6 s per GiB written since it, for the incremental snapshot, and 12 s per GiB for the incremental copy: the write rate could not be read from CloudWatch"
	if p.WriteGiBPerHour != nil {
		changes = fmt.Sprintf("counting %.1f GiB/h written meanwhile, CloudWatch WriteThroughput of the last hour", *p.WriteGiBPerHour)
	}
	w := []string{fmt.Sprintf("write downtime: about %s with the pre-copy (%s), about %s without (--precopy=false); total %s and %s; shorter %s",
		roundMinutes(with.EstimatedDowntime), changes, roundMinutes(without.EstimatedDowntime),
		roundMinutes(with.EstimatedTotal), roundMinutes(without.EstimatedTotal), shorter)}
	w = append(w, fmt.Sprintf("after cutover %s is restored from a snapshot and loads its storage lazily: the first read of each block is slow until it is loaded; read the busy tables once (e.g. SELECT of every row) to warm it", p.Source))
	return w
}

func roundMinutes(d Duration) string {
	return time.Duration(d).Round(time.Minute).String()
}
