package workflow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/replication"
)

// The source change of the replication strategy (docs/replication.md#logical-replication-off-on-the-source).
// PostgreSQL publishes only with wal_level=logical, which RDS sets from the static parameter
// rds.logical_replication. When it is off, the plan proposes to change the source itself, with
// its own approval, its own downtime line and undone by rollback:
//
//  1. the copy's name (the new instance's group copy, replication_group_copy.go) and the
//     source's group are journaled at the start (newState), before any call;
//  2. the source's DB parameter group is copied (CopyDBParameterGroup), tagged as the
//     migration's, or a copy found under the journaled name is adopted when its tags say so;
//  3. rds.logical_replication=1 in the copy, ApplyMethod pending-reboot (a static parameter);
//  4. 5 minutes after the copy (AWS clock, journaled), as AWS asks, the copy is compared with
//     the source's group value by value (settleGroupCopy); then ModifyDBInstance puts the copy
//     on the source, and RebootDBInstance applies it: the reboot is the source's downtime;
//  5. the source is available with ParameterApplyStatus in-sync, the copy reads 1 and the
//     database reports wal_level=logical (the engine's preconditions).
//
// Each part observes AWS first, so a run killed between any two calls converges when resumed.
// The new instance is restored with the copy (useGroupCopy), as a MySQL/MariaDB one is: it
// keeps every parameter of the application's group, and logical decoding stays on where the
// restored logical slot copies need it. Rollback puts the original group back on the source
// (modify and reboot), then deletes the copy once the new instance is gone (deleteGroupCopy);
// after a cutover the copy stays with the new instance, and cleanup leaves it there.

// StepReplSourceGroup is the source change's step, planned only when it is needed.
const StepReplSourceGroup = "replication-source-parameter-group"

// AckSourceReboot is the acknowledgement an unattended run needs for the source change
// (--acknowledge-source-reboot): the source reboots before the snapshot.
const AckSourceReboot = "source-reboot"

// logicalReplication is the parameter the source change sets.
const logicalReplication = "rds.logical_replication"

// sourceRebootEstimate is the source change's own downtime, the reboot (estimateModel).
const sourceRebootEstimate = enforceRebootEstimate

// SourceChange is a change the plan makes to the source itself.
type SourceChange struct {
	Instance string `json:"instance"`
	// ParameterGroup is the source's DB parameter group, Copy the tagged copy that replaces it
	// with Parameters set, and with which the new instance is restored.
	ParameterGroup string            `json:"parameter_group"`
	Copy           string            `json:"copy"`
	Parameters     map[string]string `json:"parameters"`
	Tags           model.Tags        `json:"tags"`
	// Downtime is the source's reboot: it refuses connections meanwhile. It comes before the
	// snapshot and is not part of the write downtime estimate.
	Downtime Duration `json:"downtime_seconds"`
}

// SourceGroupState journals the source change; the copy is the journal's RoleParameterGroup
// resource.
type SourceGroupState struct {
	Original string `json:"original"` // the source's DB parameter group before the change
	// Modified: ModifyDBInstance put (or was about to put) the copy on the source.
	Modified bool `json:"modified,omitempty"`
	// RebootedAt is the source's reboot (AWS clock).
	RebootedAt time.Time `json:"rebooted_at,omitzero"`
}

// migrationTags are the tags of what a migration creates (ourTags for a run).
func migrationTags(id, source, role string) model.Tags {
	return model.Tags{model.TagMigrationID: id, model.TagSource: source, model.TagRole: role}
}

// plannedSourceChange is the plan's source change for src under the migration id, to the
// copy groupCopy.
func plannedSourceChange(id string, src *model.Instance, groupCopy string) *SourceChange {
	return &SourceChange{Instance: src.ID, ParameterGroup: src.Settings.DBParameterGroupName, Copy: groupCopy,
		Parameters: map[string]string{logicalReplication: "1"}, Tags: groupCopyTags(migrationTags(planID(id), src.ID, RoleParameterGroup), src.Settings.DBParameterGroupName),
		Downtime: Duration(sourceRebootEstimate)}
}

// sourceChangeWarning is the plan's line for the source change.
func sourceChangeWarning(c *SourceChange) string {
	return fmt.Sprintf("source change (approved on its own; rollback undoes it): %s has %s off; its DB parameter group %s is copied to %s with %s=1 and, %s later (AWS asks for it) and once the copy holds every other value of %s, the copy is put on %s, "+
		"which then reboots: about %s of downtime before the snapshot, not counted in the write downtime; the new instance keeps the copy; an unattended run (--yes) needs --acknowledge-%s",
		c.Instance, logicalReplication, c.ParameterGroup, c.Copy, logicalReplication, groupSettle, c.ParameterGroup, c.Instance, time.Duration(c.Downtime), AckSourceReboot)
}

// logicalOffFinding returns the engine's finding that the source change lifts, if any.
func logicalOffFinding(fs []replication.Finding) (int, bool) {
	for i, f := range fs {
		if f.Severity == replication.Blocker && f.Parameter == logicalReplication && f.Value == "1" {
			return i, true
		}
	}
	return -1, false
}

// planSourceChange decides, from the source's findings, whether the plan changes its
// parameter group: only when the group does not have rds.logical_replication=1 yet (a group
// that has it but waits for a reboot is a blocker: reboot the instance). The finding it lifts
// is removed from what is returned.
func planSourceChange(ctx context.Context, api model.RDS, src *model.Instance, fs []replication.Finding) ([]replication.Finding, bool, error) {
	i, ok := logicalOffFinding(fs)
	if !ok {
		return fs, false, nil
	}
	group := src.Settings.DBParameterGroupName
	p, err := api.Parameter(ctx, group, logicalReplication)
	if err != nil {
		return nil, false, err
	}
	if p.Value == "1" {
		fs[i].Do = fmt.Sprintf("the DB parameter group %s already has %s=1 (ParameterApplyStatus %s): reboot %s to apply it (its own downtime), then plan again",
			group, logicalReplication, src.ParameterApplyStatus, src.ID)
		return fs, false, nil
	}
	return append(fs[:i:i], fs[i+1:]...), true, nil
}

func describeSourceGroup(p *Plan, n Names) string {
	if c := p.SourceChange; c != nil {
		return fmt.Sprintf("copy the DB parameter group %s of %s to %s with %s=1, wait %s (AWS asks for it) and compare the copy with %s value by value, put the copy on %s and reboot it (about %s of downtime, before the snapshot; rollback puts %s back)",
			c.ParameterGroup, p.Source, c.Copy, logicalReplication, groupSettle, c.ParameterGroup, p.Source, time.Duration(c.Downtime), c.ParameterGroup)
	}
	return fmt.Sprintf("copy the DB parameter group of %s to %s with %s=1, wait %s (AWS asks for it) and compare the copy with the original, put the copy on %s and reboot it",
		p.Source, p.resourceName(RoleParameterGroup), logicalReplication, groupSettle, p.Source)
}

func sourceGroupApproval(r *run, a *Approval) {
	sg := r.st.SourceGroup
	if sg == nil {
		return
	}
	a.Downtime = true
	a.Details = append(a.Details,
		fmt.Sprintf("Changes the source %s: its DB parameter group %s is replaced by the copy %s, tagged as this migration's, with %s=1, %s after the copy (AWS asks for it) and only when the copy holds every other value of %s.",
			r.st.Source, sg.Original, r.groupCopy(), logicalReplication, groupSettle, sg.Original),
		fmt.Sprintf("%s reboots to apply it: it refuses connections for about %s (its own downtime, before the snapshot; the write freeze comes later).", r.st.Source, sourceRebootEstimate),
		fmt.Sprintf("The new instance is restored with the copy. Rollback puts %s back on %s (another reboot) and deletes the copy.", sg.Original, r.st.Source))
	a.Instructions = append(a.Instructions, fmt.Sprintf("Applications lose their connections to %s during the reboot and must reconnect.", r.st.Source))
}

// applySourceGroup makes the source change; every part observes AWS first.
func applySourceGroup(ctx context.Context, r *run) error {
	sg := r.st.SourceGroup
	if sg == nil {
		return errorf(r.st.Source, "rdsencrypt rollback "+r.st.ID, nil, "the journal of migration %s has no source change", r.st.ID)
	}
	next, groupCopy := r.resumeOrRollback(), r.groupCopy()
	src, err := r.source(ctx)
	if err != nil {
		return err
	}
	on := strings.EqualFold(src.Settings.DBParameterGroupName, groupCopy)
	if !on && !strings.EqualFold(src.Settings.DBParameterGroupName, sg.Original) {
		return errorf(src.ID, "rdsencrypt rollback "+r.st.ID+", then plan again", nil,
			"the DB parameter group of %s is now %s, neither %s (planned) nor the copy %s: it changed since the plan", src.ID, src.Settings.DBParameterGroupName, sg.Original, groupCopy)
	}
	// The copy: made now from the source's group, or adopted when its tags say it is ours
	// (replication_group_copy.go).
	if made, err := observeGroupCopy(ctx, r); err != nil {
		return err
	} else if !made {
		if on {
			return errorf(groupCopy, "rdsencrypt rollback "+r.st.ID, nil, "%s carries the DB parameter group %s, which does not exist", src.ID, groupCopy)
		}
		if err := applyGroupCopy(ctx, r); err != nil {
			return err
		}
	}
	p, err := r.api.Parameter(ctx, groupCopy, logicalReplication)
	if err != nil {
		return err
	}
	if p.Value != "1" {
		r.log("setting %s=1 in the DB parameter group %s (static: applied at the reboot)", logicalReplication, groupCopy)
		if err := r.api.SetParametersAtReboot(ctx, groupCopy, map[string]string{logicalReplication: "1"}); err != nil {
			return errorf(groupCopy, next, err, "cannot set %s=1 in the DB parameter group %s", logicalReplication, groupCopy)
		}
	}
	if !on {
		// AWS's 5 minutes between the copy and its first use, then the copy compared with the
		// original: the production source reboots onto it (replication_group_copy.go).
		if err := r.settleGroupCopy(ctx, sg.Original, "putting it on "+src.ID, logicalReplication); err != nil {
			return err
		}
		if src, err = r.settle(ctx, src); err != nil {
			return err
		}
		if !sg.Modified {
			sg.Modified = true // before the call: rollback then looks at the source's group
			if err := r.save(); err != nil {
				return err
			}
		}
		r.log("putting the DB parameter group %s on %s in place of %s", groupCopy, src.ID, sg.Original)
		if _, err := r.api.ModifyInstance(ctx, src.ID, model.InstanceSettings{DBParameterGroupName: groupCopy},
			[]model.Setting{"DBParameterGroupName"}); err != nil && !model.IsNothingToModify(err) {
			return err
		}
	}
	if err := r.applyGroupWithReboot(ctx, groupCopy, &sg.RebootedAt); err != nil {
		return err
	}
	// The parameter reads 1 and the database runs with logical decoding.
	if p, err = r.api.Parameter(ctx, groupCopy, logicalReplication); err != nil {
		return err
	} else if p.Value != "1" {
		return errorf(groupCopy, next, nil, "%s is %q in the DB parameter group %s after the reboot of %s", logicalReplication, p.Value, groupCopy, r.st.Source)
	}
	db, ep, err := r.replSource(ctx)
	if err != nil {
		return err
	}
	findings, err := db.eng.Preconditions(ctx, ep)
	if err != nil {
		return r.dbError(err, next, "cannot check %s's database after its reboot", r.st.Source)
	}
	if i, off := logicalOffFinding(findings); off {
		return r.dbError(nil, next, "%s still runs without logical decoding after the reboot: %s", r.st.Source, findings[i].What)
	}
	r.log("%s runs with %s=1 from the DB parameter group %s", r.st.Source, logicalReplication, groupCopy)
	return nil
}

// applyGroupWithReboot waits until the source carries group, reboots it when the group
// waits for a reboot (journaling when in *rebootedAt), and waits until it is in-sync.
func (r *run) applyGroupWithReboot(ctx context.Context, group string, rebootedAt *time.Time) error {
	carries := func(i *model.Instance) bool {
		return strings.EqualFold(i.Settings.DBParameterGroupName, group) && i.ParameterApplyStatus != "applying"
	}
	paced := r.paceBy(enforceModifyEstimate)
	src, err := r.waitInstance(ctx, r.st.SourceRID, carries)
	paced()
	if err != nil {
		return err
	}
	if src.ParameterApplyStatus == model.ParameterPendingReboot {
		r.log("rebooting %s to apply the DB parameter group %s", src.ID, group)
		if _, err := r.api.RebootInstance(ctx, src.ID); err != nil {
			return err
		}
		*rebootedAt = r.awsNow()
		if err := r.save(); err != nil {
			return err
		}
	}
	paced = r.paceBy(sourceRebootEstimate)
	_, err = r.waitInstance(ctx, r.st.SourceRID, func(i *model.Instance) bool {
		return carries(i) && i.ParameterApplyStatus != model.ParameterPendingReboot
	})
	paced()
	return err
}

// undoSourceGroup, in a rollback once the source is back at its name and its replication
// objects are gone: the source's own group back, and a reboot to apply it. undoReplication
// calls it while the source is still frozen, so that the rollback cuts writes once.
// A logical slot left on the source would keep PostgreSQL from starting with wal_level below
// logical (the source down after the reboot), so any logical slot still there (someone else's:
// ours are dropped first) stops the rollback before the modify and the reboot.
func (r *run) undoSourceGroup(ctx context.Context) error {
	sg := r.st.SourceGroup
	if sg == nil || !sg.Modified {
		return nil
	}
	src, err := r.settledSource(ctx)
	if err != nil {
		return err
	}
	group, groupCopy := src.Settings.DBParameterGroupName, r.groupCopy()
	on := strings.EqualFold(group, groupCopy)
	switch {
	case !on && !strings.EqualFold(group, sg.Original):
		r.log("%s's DB parameter group (%s) was changed by someone else since the migration put %s on it: left as it is", src.ID, group, groupCopy)
		return nil
	}
	if on || src.ParameterApplyStatus == model.ParameterPendingReboot { // a reboot to come
		if err := r.refuseForeignSlots(ctx); err != nil {
			return err
		}
	}
	if on && sg.Original == "" {
		// A journal rebuilt from the tags of a copy made before TagOriginalParameterGroup.
		return errorf(src.ID, fmt.Sprintf("aws rds describe-db-parameter-groups --db-parameter-group-name %s (its description names the group it copies), "+
			"then aws rds modify-db-instance --db-instance-identifier %s --db-parameter-group-name <that group> --apply-immediately, "+
			"then aws rds reboot-db-instance --db-instance-identifier %s, then rdsencrypt rollback %s", groupCopy, src.ID, src.ID, r.st.ID), nil,
			"%s carries %s, migration %s's copy of its DB parameter group, and the journal (rebuilt from tags) does not say which group it copied: not put back",
			src.ID, groupCopy, r.st.ID)
	}
	if on {
		r.log("putting the DB parameter group %s back on %s (%s off again)", sg.Original, src.ID, logicalReplication)
		if _, err := r.api.ModifyInstance(ctx, src.ID, model.InstanceSettings{DBParameterGroupName: sg.Original},
			[]model.Setting{"DBParameterGroupName"}); err != nil && !model.IsNothingToModify(err) {
			return err
		}
	}
	var rebooted time.Time
	return r.applyGroupWithReboot(ctx, sg.Original, &rebooted)
}

// errForeignSlots is wrapped by refuseForeignSlots' refusal.
var errForeignSlots = errors.New("logical replication slots on the source")

// refuseForeignSlots fails, naming them, when the source holds logical replication slots.
func (r *run) refuseForeignSlots(ctx context.Context) error {
	db, ep, err := r.replSource(ctx)
	if err != nil {
		return err
	}
	lister, ok := db.eng.(replication.SlotLister)
	if !ok {
		return nil
	}
	slots, err := lister.LogicalSlots(ctx, ep)
	if err != nil {
		return r.dbError(err, "rdsencrypt rollback "+r.st.ID, "cannot list the logical replication slots of %s before putting %s back", r.st.Source, r.st.SourceGroup.Original)
	}
	if len(slots) == 0 {
		return nil
	}
	whose := "not of this migration"
	if ours := replication.NamesFor(r.st.ID).Slot; slices.ContainsFunc(slots, func(s string) bool { return strings.HasPrefix(s, ours) }) {
		// our own are dropped before, unless the journal was rebuilt from tags and lists none
		whose = "the journal does not list (" + ours + "* are this migration's)"
	}
	return errorf(r.st.Source, fmt.Sprintf("drop them on %s (SELECT pg_drop_replication_slot(name)), then rdsencrypt rollback %s", r.st.Source, r.st.ID), errForeignSlots,
		"%s holds logical replication slots %s (%s): with %s off again (%s) PostgreSQL would not start after the reboot, so %s was not rebooted",
		r.st.Source, whose, strings.Join(slots, ", "), logicalReplication, r.st.SourceGroup.Original, r.st.Source)
}

// sourceChangeView is the plan view's source change, from the journal.
func (r *run) sourceChangeView() *SourceChange {
	sg := r.st.SourceGroup
	if sg == nil {
		return nil
	}
	return &SourceChange{Instance: r.st.Source, ParameterGroup: sg.Original, Copy: r.groupCopy(),
		Parameters: map[string]string{logicalReplication: "1"}, Tags: groupCopyTags(r.ourTags(RoleParameterGroup), sg.Original),
		Downtime: Duration(sourceRebootEstimate)}
}
