package workflow

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/internal/awsclient"
	"github.com/rdsencrypt/rdsencrypt/internal/journal"
	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/redact"
)

// allInstanceSteps are the steps an instance migration may have, replicas included.
var allInstanceSteps = slices.Concat(instanceSteps, replicaSteps, replicationSteps, positionSteps)

// preflightAgain re-checks, at the start of the run, that the source and key are still usable.
func preflightAgain(ctx context.Context, r *run) error {
	if r.src == nil || r.key == nil {
		return r.route.reload(ctx, r)
	}
	return nil
}

// --- freeze -------------------------------------------------------------------------------

func observeFreeze(ctx context.Context, r *run) (bool, error) {
	if r.st.Options.freezeMode() == FreezeEnforce {
		return observeEnforcedFreeze(r), nil
	}
	return !r.st.FreezeAt.IsZero(), nil
}

func freezeApproval(r *run, a *Approval) {
	if r.st.Options.freezeMode() == FreezeEnforce {
		groups, actions, rebooted := "none", enforceActions, "it is rebooted"
		var current []string
		switch {
		case r.st.Kind == KindCluster && r.cluster != nil:
			current, actions, rebooted = r.cluster.src.Settings.VpcSecurityGroupIDs, enforceClusterActions, "every member is rebooted"
		case r.src != nil:
			current = r.src.Settings.VpcSecurityGroupIDs
		}
		if len(current) > 0 {
			groups = strings.Join(current, ", ")
		}
		a.Details = append(a.Details, "AWS calls: "+strings.Join(actions, ", "),
			fmt.Sprintf("Changes the source %s: its security groups (%s) are replaced by the ingress-free group %s, and %s (open sessions end). The retired source keeps that group after cutover, until cleanup; rollback puts back exactly %s.",
				r.st.Source, groups, r.names.FreezeGroup, rebooted, groups))
	} else if h := r.st.Options.FreezeHook; h != "" {
		a.Details = append(a.Details, "rdsencrypt runs the freeze hook: "+redact.String(h))
	} else {
		a.Instructions = append(a.Instructions,
			fmt.Sprintf("Stop every application write to %s now (read-only mode, or stop the writers).", r.st.Source),
			"Approve only once writes have stopped: writes made after the snapshot are lost.")
	}
	a.Details = append(a.Details, "Write downtime starts now and lasts until the cutover ends.")
}

// replFreezeApproval is the replication-freeze step's approval: what the SQL freeze does (no
// security group changes; FreezeSQL).
func replFreezeApproval(r *run, a *Approval) {
	if h := r.st.Options.FreezeHook; h != "" {
		a.Details = append(a.Details, "rdsencrypt runs the freeze hook first: "+redact.String(h))
	}
	a.Details = append(a.Details,
		fmt.Sprintf("Freezes writes to %s in the database: new writes are refused, application sessions are ended, and the position must stay stable (MySQL, MariaDB: read_only in its DB parameter group). Its security groups are not changed.", r.st.Source),
		"Write downtime starts now and lasts until the cutover ends.")
}

func applyFreeze(ctx context.Context, r *run) error {
	if r.st.Options.freezeMode() == FreezeEnforce {
		enforce := enforceFreeze
		if r.st.Kind == KindCluster {
			enforce = enforceClusterFreeze // enforce_cluster.go
		}
		if err := enforce(ctx, r); err != nil {
			return err
		}
		r.log("writes frozen since %s (AWS time)", r.st.FreezeAt.Format("15:04:05"))
		return nil
	}
	if h := r.st.Options.FreezeHook; h != "" {
		if err := r.hooks().Run(ctx, "freeze", h, r.hookEnv()); err != nil {
			if ctx.Err() != nil {
				return err // stopped: the step stays resumable and runs the hook again
			}
			return errorf(r.st.Source, "fix the hook and run rdsencrypt resume "+r.st.ID+", or rdsencrypt rollback "+r.st.ID, err,
				"freeze hook failed; nothing was changed in AWS")
		}
	}
	r.st.FreezeAt = r.awsNow()
	r.log("writes frozen at %s (AWS time)", r.st.FreezeAt.Format("15:04:05"))
	return nil
}

func (r *run) hooks() HookRunner {
	if r.e.Hooks != nil {
		return r.e.Hooks
	}
	return ShellHooks{}
}

func (r *run) hookEnv() []string {
	return []string{"RDSENCRYPT_MIGRATION_ID=" + r.st.ID, "RDSENCRYPT_SOURCE=" + r.st.Source,
		"RDSENCRYPT_REGION=" + r.st.Region, "RDSENCRYPT_ENDPOINT=" + r.st.SourceAddr}
}

func unfreezeApproval(r *run, a *Approval) {
	if h := r.st.Options.UnfreezeHook; h != "" {
		a.Details = append(a.Details, "rdsencrypt runs the unfreeze hook: "+redact.String(h))
	} else {
		a.Instructions = append(a.Instructions,
			fmt.Sprintf("Let applications write again: %s now answers at its original endpoint, encrypted.", r.st.Source))
	}
}

func applyUnfreeze(ctx context.Context, r *run) error {
	// dns.go: the instance's endpoint, or the cluster's writer endpoint, must resolve to the
	// new resource before writes resume.
	if err := r.awaitEndpointDNS(ctx); err != nil {
		return err
	}
	if usesGroupFreeze(r.st) && r.phase == "" {
		if err := r.thawAndCheck(ctx); err != nil { // replication_mysql.go
			return err
		}
	}
	if h := r.st.Options.UnfreezeHook; h != "" {
		if err := r.hooks().Run(ctx, "unfreeze", h, r.hookEnv()); err != nil {
			if ctx.Err() != nil {
				return err
			}
			return errorf(r.st.Source, "unfreeze writes by hand, then rdsencrypt resume "+r.st.ID, err, "unfreeze hook failed")
		}
	}
	r.st.UnfreezeAt = r.awsNow()
	r.log("writes may resume on %s", r.st.Source)
	if r.phase == "" {
		if err := r.attachReverse(ctx, "rdsencrypt resume "+r.st.ID); err != nil { // replication_reverse.go
			return err
		}
	}
	if r.st.Options.freezeMode() == FreezeEnforce && r.phase == "" {
		r.log("the retired source %s keeps the ingress-free security group %s until cleanup: no client with a cached address can write to it", r.names.Retired, r.names.FreezeGroup)
	}
	return nil
}

// --- snapshots ----------------------------------------------------------------------------

// observeSnapshot reports whether a snapshot of ours exists (in any state but failed).
func observeSnapshot(name func(Names) string) func(context.Context, *run) (bool, error) {
	return func(ctx context.Context, r *run) (bool, error) {
		id := name(r.names)
		snap, err := r.api.DescribeSnapshot(ctx, id)
		if model.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if !r.ownedBy(snap.Tags) {
			return false, errorf(id, "delete or rename it, or roll back: rdsencrypt rollback "+r.st.ID, nil,
				"DB snapshot %s exists but was not created by migration %s", id, r.st.ID)
		}
		return snap.Status != model.SnapshotFailed, nil
	}
}

// replaceFailedSnapshot deletes a failed snapshot of ours so that the step can take it again.
func replaceFailedSnapshot(ctx context.Context, r *run, id string) error {
	snap, err := r.api.DescribeSnapshot(ctx, id)
	if model.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if snap.Status != model.SnapshotFailed || !r.ownedBy(snap.Tags) {
		return nil
	}
	r.log("deleting failed snapshot %s before taking it again", id)
	if err := r.deleteSnapshot(ctx, id); err != nil {
		return err
	}
	return r.waitSnapshotGone(ctx, id)
}

// applySnapshot snapshots the source, or the stopped temporary replica of an RDS for MySQL
// source under the replication strategy (replication_position.go).
func applySnapshot(ctx context.Context, r *run) error {
	of, err := r.positionSnapshotSource(ctx)
	if err != nil {
		return err
	}
	return takeSnapshotOf(ctx, r, of, r.names.Snapshot, RoleSnapshot)
}

// waitMigrationSnapshot waits until the migration's snapshot is available; of a temporary
// replica, it then checks the replica stayed stopped at the start position meanwhile
// (replication_position.go).
func waitMigrationSnapshot(ctx context.Context, r *run) error {
	if err := waitSnapshot(func(n Names) string { return n.Snapshot })(ctx, r); err != nil {
		return err
	}
	return r.checkSnapshotPosition(ctx)
}

// applyPreSnapshot takes the pre-copy's snapshot while writes continue.
func applyPreSnapshot(ctx context.Context, r *run) error {
	if r.st.PrecopyAt.IsZero() {
		r.st.PrecopyAt = r.awsNow()
		if err := r.save(); err != nil {
			return err
		}
	}
	return takeSnapshot(ctx, r, r.names.PreSnapshot, RolePreSnapshot)
}

func takeSnapshot(ctx context.Context, r *run, id, role string) error {
	return takeSnapshotOf(ctx, r, r.st.Source, id, role)
}

// takeSnapshotOf snapshots the instance named of as id.
func takeSnapshotOf(ctx context.Context, r *run, of, id, role string) error {
	if err := replaceFailedSnapshot(ctx, r, id); err != nil {
		return err
	}
	_, err := r.api.CreateSnapshot(ctx, of, id, r.ourTags(role))
	if model.IsAlreadyExists(err) {
		return nil // ours, from an interrupted attempt: observe checked the tags
	}
	return err
}

// applyCopy copies the final snapshot with the key. After a pre-copy it is incremental:
// the pre-copy's encrypted copy, same source and key, still exists.
func applyCopy(ctx context.Context, r *run) error {
	return copySnapshot(ctx, r, r.names.Snapshot, r.names.EncryptedSnapshot, RoleEncryptedSnapshot)
}

// applyPreCopy makes the pre-copy's full encrypted copy while writes continue.
func applyPreCopy(ctx context.Context, r *run) error {
	return copySnapshot(ctx, r, r.names.PreSnapshot, r.names.PreEncryptedSnapshot, RolePreEncryptedSnapshot)
}

func copySnapshot(ctx context.Context, r *run, from, to, role string) error {
	if err := replaceFailedSnapshot(ctx, r, to); err != nil {
		return err
	}
	_, err := r.api.CopySnapshot(ctx, model.CopySnapshotInput{SourceID: from,
		TargetID: to, KmsKeyID: r.st.KmsKeyARN, Tags: r.ourTags(role)})
	if model.IsAlreadyExists(err) {
		return nil
	}
	if model.FailureOf(err) == model.FailureKeyNotAccessible {
		return errorf(r.st.KmsKeyARN, keyAccessNext(r.st.ID), err,
			"KMS key %s is not accessible", r.st.KmsKeyARN)
	}
	return err
}

func waitSnapshot(name func(Names) string) func(context.Context, *run) error {
	return func(ctx context.Context, r *run) error {
		id := name(r.names)
		snap, err := r.waitSnapshotAvailable(ctx, id)
		if err != nil {
			if id == r.names.EncryptedSnapshot {
				return r.keyLostDuring(ctx, "the encrypted copy "+id, err)
			}
			return err
		}
		if res := r.resourceByName(id); res != nil {
			res.ResourceID = snap.ARN
		}
		return nil
	}
}

// --- restore and modify ---------------------------------------------------------------------

func (r *run) target(ctx context.Context) (*model.Instance, error) {
	if res := r.resource(RoleTarget); res != nil && res.ResourceID != "" {
		return r.api.DescribeInstanceByResourceID(ctx, res.ResourceID)
	}
	inst, err := r.api.DescribeInstance(ctx, r.names.Target)
	if err != nil {
		return nil, err
	}
	if !r.ownedBy(inst.Tags) {
		return nil, errorf(inst.ID, "rename or delete it, or roll back: rdsencrypt rollback "+r.st.ID, nil,
			"DB instance %s exists but was not created by migration %s", inst.ID, r.st.ID)
	}
	r.recordTarget(inst)
	return inst, nil
}

func (r *run) recordTarget(inst *model.Instance) {
	if res := r.resource(RoleTarget); res != nil && res.ResourceID == "" {
		res.ResourceID = inst.ResourceID
	}
}

func observeRestore(ctx context.Context, r *run) (bool, error) {
	inst, err := r.target(ctx)
	if model.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return !model.IsInstanceFailed(inst.Status), nil
}

// restoreCarry lists the settings passed to the restore call. Deletion protection is left to
// the modify step, as for clusters: a restore that fails must leave an instance the migration
// can delete and restore again, or roll back (AWS refuses to delete a protected instance, and
// a failed one cannot be modified).
func restoreCarry(s model.InstanceSettings) []model.Setting {
	return carriedBy(s, func(r model.Route) bool { return r.Restore }, byRestore)
}

// carriedBy lists the settings a creating call is given: those it accepts that are set
// (carried), never deletion protection (restoreCarry says why).
func carriedBy(s model.InstanceSettings, accepts func(model.Route) bool, how creation) []model.Setting {
	var out []model.Setting
	for _, route := range model.InstanceSettingRoutes {
		if accepts(route) && route.Setting != "DeletionProtection" && carried(s, route.Setting, how) {
			out = append(out, route.Setting)
		}
	}
	return out
}

func applyRestore(ctx context.Context, r *run) error {
	if err := r.replaceFailedTarget(ctx); err != nil {
		return err
	}
	if err := r.settleCopyBeforeRestore(ctx); err != nil { // replication_group_copy.go
		return err
	}
	inst, err := r.api.RestoreInstance(ctx, model.RestoreInstanceInput{ID: r.names.Target,
		SnapshotID: r.names.EncryptedSnapshot, Settings: r.src.Settings, Carry: restoreCarry(r.src.Settings),
		Tags: r.targetTags()})
	if model.IsAlreadyExists(err) {
		_, err = r.target(ctx) // checks it is ours
		return err
	}
	if err != nil {
		return err
	}
	r.recordTarget(inst)
	return r.save()
}

// replaceFailedTarget deletes a target of ours that a failed restore left behind.
func (r *run) replaceFailedTarget(ctx context.Context) error {
	inst, err := r.target(ctx)
	if model.IsNotFound(err) {
		return nil
	}
	if err != nil || !model.IsInstanceFailed(inst.Status) {
		return err
	}
	// target found it by the resource id the journal recorded; the tags must agree before a
	// delete without a final snapshot (a failed restore holds no data of its own).
	if !r.ownedBy(inst.Tags) {
		return errorf(inst.ID, "delete it yourself if it is not needed, or roll back: rdsencrypt rollback "+r.st.ID, nil,
			"DB instance %s (left %s by a failed restore) does not carry migration %s's tags: not deleting it", inst.ID, inst.Status, r.st.ID)
	}
	r.log("deleting %s, left %s by a failed restore, before restoring again", inst.ID, inst.Status)
	if err := r.deleteInstance(ctx, r.api, inst.ResourceID, inst.ID, ""); err != nil {
		return err
	}
	if err := r.waitInstanceGone(ctx, inst.ResourceID); err != nil {
		return err
	}
	if res := r.resource(RoleTarget); res != nil {
		res.ResourceID = ""
	}
	return r.save()
}

// waitTargetSettled waits until the target is available with no pending modification.
func waitTargetSettled(ctx context.Context, r *run) error {
	inst, err := r.target(ctx)
	if err != nil {
		return err
	}
	quiet := quietFor(settledPolls)
	_, err = r.waitInstance(ctx, inst.ResourceID, func(i *model.Instance) bool {
		idle := i.Status == model.StatusAvailable && len(i.PendingModifications) == 0 && !rebootPendingNow(r, i)
		gaveUp := quiet(idle)
		return idle && (len(settingsToModifyNow(r, i)) == 0 || gaveUp)
	})
	return err
}

// settledPolls is how many polls in a row a resource must look idle, with settings AWS
// reports differently from what was asked, before a wait gives up on them: the parity check
// then lists the difference instead of the wait spinning forever.
const settledPolls = 5

// quietFor counts consecutive idle observations: it returns true once n were seen in a row.
func quietFor(n int) func(idle bool) bool {
	seen := 0
	return func(idle bool) bool {
		if !idle {
			seen = 0
			return false
		}
		seen++
		return seen >= n
	}
}

// rebootPendingNow says whether the modify step still owes a reboot; a restore's parameter
// group state is the modify step's business.
func rebootPendingNow(r *run, target *model.Instance) bool {
	return r.st.Steps[r.step].Name != StepRestore && target.ParameterApplyStatus == model.ParameterPendingReboot
}

// settingsToModifyNow lists the settings the running step still has to modify; restore-only
// leftovers are the parity check's business.
func settingsToModifyNow(r *run, target *model.Instance) []model.Setting {
	return r.settingsToModifyIn(r.st.Steps[r.step].Name, target)
}

// settingsToModifyIn lists the settings step modifies that differ on target: the modify step
// takes those that matter before applications return, modify-after-cutover the rest
// (model.Route AfterCutover). A journal from before modify-after-cutover existed has the
// modify step apply them all, in the freeze, as it was approved.
func (r *run) settingsToModifyIn(step string, target *model.Instance) []model.Setting {
	return r.modifyPart(step, model.InstanceSettingRoutes, settingsToModify(model.InstanceSettingRoutes, r.src.Settings, target.Settings))
}

// modifyPart is the part of the settings to modify (all, from table) that step applies, an
// instance's or a cluster's.
func (r *run) modifyPart(step string, table []model.Route, all []model.Setting) []model.Setting {
	late := r.hasStep(StepModifyLate)
	switch {
	case step == StepModify && !late:
		return all
	case step != StepModify && (step != StepModifyLate || !late):
		return nil
	}
	return slices.DeleteFunc(all, func(s model.Setting) bool {
		route, _ := model.RouteOf(table, s)
		return route.AfterCutover != (step == StepModifyLate)
	})
}

// afterCutover says whether a setting of an instance waits for modify-after-cutover.
func afterCutover(s model.Setting) bool {
	route, _ := model.RouteOf(model.InstanceSettingRoutes, s)
	return route.AfterCutover
}

// hasStep says whether the journal's route has the named step.
func (r *run) hasStep(name string) bool {
	return slices.ContainsFunc(r.st.Steps, func(s StepState) bool { return s.Name == name })
}

func observeModify(ctx context.Context, r *run) (bool, error) {
	inst, err := r.target(ctx)
	if err != nil {
		return false, err
	}
	return len(r.settingsToModifyIn(StepModify, inst)) == 0 &&
		inst.ParameterApplyStatus != model.ParameterPendingReboot, nil
}

func observeModifyLate(ctx context.Context, r *run) (bool, error) {
	inst, err := r.target(ctx)
	if err != nil {
		return false, err
	}
	return len(r.settingsToModifyIn(StepModifyLate, inst)) == 0, nil
}

// applyModifyLate applies the settings that wait until writes resume. None of them needs a
// reboot (docs/precopy.md#settings-after-cutover), so the instance keeps serving.
func applyModifyLate(ctx context.Context, r *run) error {
	inst, err := r.target(ctx)
	if err != nil {
		return err
	}
	fields := r.settingsToModifyIn(StepModifyLate, inst)
	if len(fields) == 0 {
		return nil
	}
	r.log("modifying %s after cutover: %s", inst.ID, joinSettings(fields))
	return r.modifyInstance(ctx, r.api, inst.ID, r.src.Settings, fields)
}

// applyModify applies the settings restore could not carry and, when the parameter group
// waits for a reboot (a group changed by modify, or a modify interrupted before its
// reboot), reboots the target.
func applyModify(ctx context.Context, r *run) error {
	inst, err := r.target(ctx)
	if err != nil {
		return err
	}
	if fields := r.settingsToModifyIn(StepModify, inst); len(fields) > 0 {
		r.log("modifying %s: %s", inst.ID, joinSettings(fields))
		if err := r.modifyInstance(ctx, r.api, inst.ID, r.src.Settings, fields); err != nil {
			return err
		}
	}
	inst, err = r.waitInstance(ctx, inst.ResourceID, settled)
	if err != nil {
		return err
	}
	if inst.ParameterApplyStatus == model.ParameterPendingReboot {
		r.log("rebooting %s so that parameter group %s applies", inst.ID, inst.Settings.DBParameterGroupName)
		if _, err := r.api.RebootInstance(ctx, inst.ID); err != nil && !model.IsInvalidState(err) {
			return err
		}
	}
	return nil
}

func joinSettings(s []model.Setting) string {
	parts := make([]string, len(s))
	for i, x := range s {
		parts[i] = string(x)
	}
	return strings.Join(parts, ", ")
}

// --- parity -------------------------------------------------------------------------------

func checkParity(ctx context.Context, r *run) error {
	inst, err := r.target(ctx)
	if err != nil {
		return err
	}
	if p := encryptionProblem(inst.Settings.StorageEncrypted, inst.Settings.KmsKeyID, r.st.KmsKeyARN, r.key); p != "" {
		return r.refuseUnencrypted(inst.ID, r.st.Source, p)
	}
	diffs := compareSettings(model.InstanceSettingRoutes, r.st.Source, r.src.Settings, inst.Settings)
	groupDiffs, err := r.groupValueDifferences(ctx, inst) // replication_group_copy.go
	if err != nil {
		return err
	}
	diffs = append(diffs, groupDiffs...)
	if late := r.settingsToModifyIn(StepModifyLate, inst); len(late) > 0 {
		// Applied after cutover, then compared by verify with every other setting.
		r.log("parity: %s gets %s after cutover (modify-after-cutover)", inst.ID, joinSettings(late))
		diffs = slices.DeleteFunc(diffs, func(d Difference) bool { return slices.Contains(late, model.Setting(d.Setting)) })
	}
	return r.reviewDifferences(ctx, diffs, StepParity, inst.ID, r.st.Source)
}

// reviewDifferences records the parity differences of one resource and, when there are any,
// asks the operator to accept them; refused differences stop the migration before cutover.
func (r *run) reviewDifferences(ctx context.Context, diffs []Difference, step, newID, resource string) error {
	kept := r.st.Differences[:0]
	for _, d := range r.st.Differences {
		if d.Resource != resource {
			kept = append(kept, d)
		}
	}
	r.st.Differences = append(kept, diffs...)
	if len(diffs) == 0 {
		r.log("parity: %s matches %s in every compared setting", newID, resource)
		return nil
	}
	lines := make([]string, len(diffs))
	for i, d := range diffs {
		lines[i] = fmt.Sprintf("%s: source %q, new %q", d.Setting, d.Source, d.Target)
	}
	d, err := r.approve(ctx, Approval{Step: stepName(step, r.subject), Differences: diffs, Details: lines,
		Summary: fmt.Sprintf("%d setting(s) of %s differ from %s; accept them and go on?", len(diffs), newID, resource)})
	if err != nil {
		return err
	}
	switch d {
	case Approve:
		r.log("parity differences of %s accepted by %s", resource, journal.OSUser())
		return nil
	case Rollback:
		return errRollbackRequested
	}
	return &Error{Resource: newID, Problem: fmt.Sprintf("parity check found %d difference(s) between %s and %s (%s); its cutover not started",
		len(diffs), resource, newID, strings.Join(lines, "; ")),
		Next: fmt.Sprintf("review them, then rdsencrypt resume %s on a terminal to accept, or rdsencrypt rollback %s", r.st.ID, r.st.ID),
		Err:  ErrStopped}
}

// --- cutover ------------------------------------------------------------------------------

func cutoverApproval(r *run, a *Approval) {
	a.Instructions = append(a.Instructions,
		fmt.Sprintf("Applications lose %s (%s) from now until the encrypted instance answers there (about 10-20 minutes).", r.st.Source, r.st.SourceAddr),
		"This one approval runs the whole cutover: both renames, without asking in between.")
	a.Details = append(a.Details,
		fmt.Sprintf("1. rename %s -> %s", r.st.Source, r.names.Retired),
		fmt.Sprintf("2. rename %s -> %s, then wait for %s", r.names.Target, r.st.Source, r.st.SourceAddr))
	a.Details = append(a.Details, replicaPairLines(r)...)
	if r.src != nil && r.src.Settings.IAMDatabaseAuthenticationEnabled {
		newRID := ""
		if res := r.resource(RoleTarget); res != nil {
			newRID = res.ResourceID
		}
		a.Details = append(a.Details, iamAuthDetails(r.st.SourceARN, r.st.SourceRID, newRID)...)
	}
	a.Details = append(a.Details, masterSecretDetails(r)...)
	if rp := r.st.Replication; rp != nil && rp.Engine == "postgres" {
		a.Details = append(a.Details, reverseWALWarning(r.st.ID, r.st.Source, r.names.Retired, r.groupCopy(), r.reverseWALBound(), crossRegionReplicas(r.st.Region, r.st.Replicas)))
	}
}

func (r *run) source(ctx context.Context) (*model.Instance, error) {
	return r.api.DescribeInstanceByResourceID(ctx, r.st.SourceRID)
}

func observeRetired(ctx context.Context, r *run) (bool, error) {
	src, err := r.source(ctx)
	if err != nil {
		return false, err
	}
	return src.ID == r.names.Retired, nil
}

func applyRetire(ctx context.Context, r *run) error {
	src, err := r.source(ctx)
	if err != nil {
		return err
	}
	if src.ID == r.names.Retired || src.PendingRename == r.names.Retired {
		return nil // asked before an interruption
	}
	if src, _, err = r.checkInstanceSwap(ctx); err != nil {
		return err
	}
	if src.ID != r.st.Source {
		return errorf(src.ID, "rdsencrypt status "+r.st.ID, nil,
			"source %s is now named %s, neither its original nor its retired name", r.st.Source, src.ID)
	}
	return r.renameInstance(ctx, r.api, r.st.SourceRID, r.st.Source, r.names.Retired)
}

// settled reports whether an instance is available with no rename pending.
func settled(i *model.Instance) bool {
	return i.Status == model.StatusAvailable && i.PendingRename == ""
}

// waitRetired waits until the rename has taken effect: the source answers to its retired
// name, so its original identifier is free for the new instance (about 30 s after the call).
// It does not wait for the renamed source to be available again (about 10 minutes, its
// reboot included): the new instance's rename runs meanwhile (USER_RenameInstance).
func waitRetired(ctx context.Context, r *run) error {
	_, err := until(ctx, r, awsclient.InstanceRenamed(r.api, r.st.SourceRID, r.names.Retired))
	return err
}

func observePromoted(ctx context.Context, r *run) (bool, error) {
	inst, err := r.target(ctx)
	if err != nil {
		return false, err
	}
	return inst.ID == r.st.Source, nil
}

func applyPromote(ctx context.Context, r *run) error {
	inst, err := r.target(ctx)
	if err != nil {
		return err
	}
	if inst.ID == r.st.Source || inst.PendingRename == r.st.Source {
		return nil // asked before an interruption
	}
	src, inst, err := r.checkInstanceSwap(ctx)
	if err != nil {
		return err
	}
	if src.ID != r.names.Retired {
		return r.swapRefused(src.ID, "the source still answers to "+src.ID, []string{"it is not at its retired name " + r.names.Retired})
	}
	r.noteTargetAddresses(ctx, inst.Endpoint) // dns.go: where the original name must point after the rename
	if err := r.save(); err != nil {
		return err
	}
	return r.renameInstance(ctx, r.api, inst.ResourceID, r.names.Target, r.st.Source)
}

func waitPromoted(ctx context.Context, r *run) error {
	res := r.resource(RoleTarget)
	_, err := r.waitInstance(ctx, res.ResourceID, func(i *model.Instance) bool {
		return i.ID == r.st.Source && settled(i) && strings.EqualFold(i.Endpoint, r.st.SourceAddr)
	})
	if err != nil {
		return err
	}
	if r.st.CutoverDoneAt.IsZero() {
		r.st.CutoverDoneAt = r.awsNow()
	}
	r.log("cutover done: %s answers at %s, encrypted", r.st.Source, r.st.SourceAddr)
	return nil
}

// --- verify -------------------------------------------------------------------------------

func verifyTarget(ctx context.Context, r *run) error {
	inst, err := r.target(ctx)
	if err != nil {
		return err
	}
	var problems []string
	if !inst.Settings.StorageEncrypted {
		problems = append(problems, "storage is not encrypted")
	} else if !sameKey(inst.Settings.KmsKeyID, r.key) {
		problems = append(problems, fmt.Sprintf("encrypted with %s, not %s", inst.Settings.KmsKeyID, r.st.KmsKeyARN))
	}
	if inst.ID != r.st.Source {
		problems = append(problems, fmt.Sprintf("named %s, not %s", inst.ID, r.st.Source))
	}
	if !strings.EqualFold(inst.Endpoint, r.st.SourceAddr) {
		problems = append(problems, fmt.Sprintf("endpoint %s, not %s", inst.Endpoint, r.st.SourceAddr))
	}
	groupDiffs, err := r.groupValueDifferences(ctx, inst) // replication_group_copy.go
	if err != nil {
		return err
	}
	for _, d := range append(compareSettings(model.InstanceSettingRoutes, r.st.Source, r.src.Settings, inst.Settings), groupDiffs...) {
		if !accepted(r.st.Differences, d) {
			problems = append(problems, fmt.Sprintf("%s is %q, source has %q", d.Setting, d.Target, d.Source))
		}
	}
	problems = append(problems, missingTags(r.src.Tags, inst.Tags, inst.ID)...)
	if err := keepSubscriptions(ctx, r, r.names.Retired); err != nil { // attachments.go
		return err
	}
	problems = append(problems, verifyReplicas(ctx, r)...)
	if len(problems) > 0 {
		return errorf(inst.ID, "inspect it, then rdsencrypt resume "+r.st.ID+" or rdsencrypt rollback "+r.st.ID, nil,
			"verification of %s failed: %s", inst.ID, strings.Join(problems, "; "))
	}
	r.log("verified: %s is encrypted with %s at %s", inst.ID, r.st.KmsKeyARN, inst.Endpoint)
	return nil
}

func (r *run) resourceByName(name string) *Resource {
	for i := range r.st.Resources {
		if r.st.Resources[i].Name == name {
			return &r.st.Resources[i]
		}
	}
	return nil
}
