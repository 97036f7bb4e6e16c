package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/awsclient"
	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// The new instance's own DB parameter group (MySQL, MariaDB under the replication strategy;
// docs/replication-mysql.md#parameter-groups). The freeze sets read_only in the source's
// group; had the new instance that group too, the unfreeze would lift read_only on both, and
// the retired source would accept writes from any client still holding its address. So the
// new instance is restored with a tagged copy of the source's group: the freeze sets
// read_only in both, the unfreeze lifts it in the copy only, and the retired source stays
// read-only until cleanup deletes it or rollback puts it back at its name.

// StepReplCopyGroup copies the source's DB parameter group for the new instance.
const StepReplCopyGroup = "replication-copy-parameter-group"

// ParameterGroupCopyName is the name of migration id's copy of the DB parameter group group:
// "<group>-rdsencrypt-<id>", shortened to AWS's 255 characters. A name AWS takes is "1 to 255
// letters, numbers, or hyphens; first character must be a letter; can't end with a hyphen or
// contain two consecutive hyphens" (CreateDBParameterGroupInput.DBParameterGroupName), so the
// group's name is made into one first: the default groups' period ("default.postgres15")
// becomes a hyphen ("default-postgres15-rdsencrypt-<id>").
func ParameterGroupCopyName(group, id string) string {
	return withSuffix(parameterGroupBase(group), "-rdsencrypt-"+id, maxParameterGroupName)
}

// parameterGroupBase turns a group's name into letters, digits and single hyphens starting
// with a letter: every other character becomes a hyphen.
func parameterGroupBase(group string) string {
	var b strings.Builder
	for _, c := range group {
		letter, digit := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z', c >= '0' && c <= '9'
		switch {
		case letter || digit:
			if b.Len() == 0 && digit {
				b.WriteString("pg-")
			}
			b.WriteRune(c)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	if b.Len() == 0 {
		return "pg"
	}
	return b.String()
}

// groupCopy is the journaled name of the new instance's parameter group copy ("" for a
// migration without one: another engine, the snapshot strategy, or a journal from before).
func (r *run) groupCopy() string { return r.st.groupCopy() }

func (st *State) groupCopy() string {
	if res := st.resource(RoleParameterGroup); res != nil {
		return res.Name
	}
	return ""
}

// useGroupCopy makes the copy the parameter group the new instance is restored with, modified
// to, and compared in: the source as the run sees it, with the copy's name for its group.
func (r *run) useGroupCopy() {
	if c := r.groupCopy(); c != "" && r.src != nil {
		src := *r.src
		src.Settings.DBParameterGroupName = c
		r.src = &src
	}
}

func observeGroupCopy(ctx context.Context, r *run) (bool, error) {
	pg, err := r.api.ParameterGroup(ctx, r.groupCopy())
	if err != nil || pg == nil {
		return false, err
	}
	return true, r.checkGroupCopy(pg)
}

// applyGroupCopy copies the source's group (read now, not from the plan) to the journaled
// name, tagged as the migration's and with the group it copies (TagOriginalParameterGroup),
// and journals when it was made (AWS clock: settleGroupCopy counts from it). A group already
// there under that name is adopted only when its tags say it is this migration's copy (a run
// stopped after the call).
func applyGroupCopy(ctx context.Context, r *run) error {
	src, err := r.source(ctx)
	if err != nil {
		return err
	}
	from, name := src.Settings.DBParameterGroupName, r.groupCopy()
	r.log("copying the DB parameter group %s of %s to %s for the new instance", from, src.ID, name)
	_, err = r.api.CopyParameterGroup(ctx, from, name,
		fmt.Sprintf("rdsencrypt %s: copy of %s for the encrypted %s", r.st.ID, from, r.st.Source), groupCopyTags(r.ourTags(RoleParameterGroup), from))
	if model.IsAlreadyExists(err) {
		pg, err := r.api.ParameterGroup(ctx, name)
		if err != nil || pg == nil {
			return err
		}
		return r.checkGroupCopy(pg)
	}
	if err != nil {
		return errorf(name, "rdsencrypt resume "+r.st.ID+", or rdsencrypt rollback "+r.st.ID, err,
			"cannot copy the DB parameter group %s to %s", from, name)
	}
	if res := r.resource(RoleParameterGroup); res != nil {
		res.CreatedAt = r.awsNow()
	}
	return r.save()
}

// TagOriginalParameterGroup on the copy names the DB parameter group it copies, so that a
// journal rebuilt from tags knows which group to put back on the source (rebuiltGroupCopy).
const TagOriginalParameterGroup = "rdsencrypt:original-parameter-group"

// groupCopyTags are the copy's tags: the migration's, and the group it copies.
func groupCopyTags(ours model.Tags, original string) model.Tags {
	tags := maps.Clone(ours)
	tags[TagOriginalParameterGroup] = original
	return tags
}

// groupSettle is how long AWS asks to wait between creating or copying a DB parameter group
// and an instance using it, reading the group meanwhile (docs/aws-behaviour.md#parameter-groups).
const groupSettle = 5 * time.Minute

// settleGroupCopy comes before the copy's first use (put on the source, or the new instance
// restored with it, as use says): it waits on AWS's clock until groupSettle has passed since
// the copy was made, reading the copy meanwhile (its tags must still say it is ours), then
// compares the copy with original value by value, but for the parameters the migration
// itself set in it (ignore), and stops on a difference. The time is journaled when the copy
// is made; a copy whose time the journal lacks (a run stopped right after the call, a journal
// from before) counts from now.
func (r *run) settleGroupCopy(ctx context.Context, original, use string, ignore ...string) error {
	res := r.resource(RoleParameterGroup)
	if res == nil {
		return nil
	}
	if res.CreatedAt.IsZero() {
		res.CreatedAt = r.awsNow()
		if err := r.save(); err != nil {
			return err
		}
	}
	ready := res.CreatedAt.Add(groupSettle)
	if now := r.awsNow(); now.Before(ready) {
		r.log("waiting %s, until %s (AWS time), before %s: AWS asks for %s between copying a DB parameter group and an instance using it",
			ready.Sub(now).Round(time.Second), ready.Format("15:04:05"), use, groupSettle)
		r.notify(Event{Type: EventStepProgress, Resource: res.Name, Status: "settling until " + ready.Format("15:04:05")})
	}
	_, err := awsclient.Poll(ctx, r.e.Poll, func(ctx context.Context) (*model.ParameterGroup, error) {
		return r.api.ParameterGroup(ctx, res.Name)
	}, func(pg *model.ParameterGroup) (bool, error) {
		if pg == nil {
			return false, errorf(res.Name, "rdsencrypt rollback "+r.st.ID, nil, "DB parameter group %s, migration %s's copy, no longer exists", res.Name, r.st.ID)
		}
		if err := r.checkGroupCopy(pg); err != nil {
			return false, err
		}
		return !r.awsNow().Before(ready), nil
	}, nil)
	if err != nil {
		return err
	}
	diffs, err := r.parameterDifferences(ctx, original, res.Name, ignore...)
	if err != nil {
		return err
	}
	if len(diffs) > 0 {
		d, names := diffs[0], make([]string, len(diffs))
		for i, d := range diffs {
			names[i] = d.name
		}
		return errorf(res.Name, fmt.Sprintf("%s, then rdsencrypt resume %s; or rdsencrypt rollback %s", matchCommands(res.Name, diffs), r.st.ID, r.st.ID), nil,
			"the DB parameter group %s differs from %s, which it copies, %s after the copy, in %s (%s: %q in the copy, %q in %s): not %s",
			res.Name, original, groupSettle, strings.Join(names, ", "), d.name, d.got, d.want, original, use)
	}
	r.log("the DB parameter group %s holds every value of %s", res.Name, original)
	return nil
}

// settleCopyBeforeRestore settles the copy before the new instance is restored with it, when
// that is its first use: not after the source change, which put it on the source first.
func (r *run) settleCopyBeforeRestore(ctx context.Context) error {
	if r.groupCopy() == "" || r.st.SourceGroup != nil {
		return nil
	}
	src, err := r.source(ctx)
	if err != nil {
		return err
	}
	return r.settleGroupCopy(ctx, src.Settings.DBParameterGroupName, "restoring "+r.names.Target+" with it")
}

// matchCommands are the AWS CLI commands that make group hold the wanted value of every
// difference: modify-db-parameter-group for a value, reset-db-parameter-group for a parameter
// the original leaves at its default; pending-reboot suits static and dynamic parameters
// alike. The parameters go in the CLI's JSON form, quoted for a POSIX shell, so that values
// with commas, spaces, quotes or $ (shared_preload_libraries, search_path) run as printed;
// AWS takes at most 20 parameters a call.
func matchCommands(group string, diffs []parameterDifference) string {
	type param struct {
		ParameterName  string
		ParameterValue *string `json:",omitempty"`
		ApplyMethod    string
	}
	var modify, reset []param
	for _, d := range diffs {
		if d.want == "" {
			reset = append(reset, param{ParameterName: d.name, ApplyMethod: "pending-reboot"})
		} else {
			modify = append(modify, param{ParameterName: d.name, ParameterValue: &d.want, ApplyMethod: "pending-reboot"})
		}
	}
	var cmds []string
	for _, c := range []struct {
		verb   string
		params []param
	}{{"modify-db-parameter-group", modify}, {"reset-db-parameter-group", reset}} {
		for chunk := range slices.Chunk(c.params, 20) {
			js, _ := json.Marshal(chunk) // strings and a pointer to one: cannot fail
			cmds = append(cmds, fmt.Sprintf("aws rds %s --db-parameter-group-name %s --parameters %s", c.verb, group, ShellQuote(string(js))))
		}
	}
	return strings.Join(cmds, " && ")
}

// parameterDifference is one parameter whose value differs between two DB parameter groups.
type parameterDifference struct{ name, want, got string }

// parameterDifferences compares, by value and by name, the parameters of group want with
// those of group got, but for the parameters ignored.
func (r *run) parameterDifferences(ctx context.Context, want, got string, ignore ...string) ([]parameterDifference, error) {
	wantValues, err := r.api.Parameters(ctx, want)
	if err != nil {
		return nil, err
	}
	gotValues, err := r.api.Parameters(ctx, got)
	if err != nil {
		return nil, err
	}
	var diffs []parameterDifference
	names := slices.Concat(slices.Collect(maps.Keys(wantValues)), slices.Collect(maps.Keys(gotValues)))
	slices.Sort(names)
	for _, name := range slices.Compact(names) {
		if !slices.Contains(ignore, name) && wantValues[name] != gotValues[name] {
			diffs = append(diffs, parameterDifference{name: name, want: wantValues[name], got: gotValues[name]})
		}
	}
	return diffs, nil
}

// checkGroupCopy refuses a group under the copy's name that is not tagged as this
// migration's copy: the journal's name alone never makes a group ours.
func (r *run) checkGroupCopy(pg *model.ParameterGroup) error {
	if pg.Tags[model.TagMigrationID] != r.st.ID || pg.Tags[model.TagRole] != RoleParameterGroup {
		return errorf(pg.Name, "delete or rename that DB parameter group if it is not needed, then rdsencrypt resume "+r.st.ID+"; or rdsencrypt rollback "+r.st.ID, nil,
			"DB parameter group %s exists but is not tagged as migration %s's copy: not using it", pg.Name, r.st.ID)
	}
	return nil
}

// recheckGroupCopy, before a parameter write to group, re-reads the tags when group is the
// migration's copy: a copy deleted by hand and made again by someone else under the same name
// is not ours to change (the journal's name alone never makes it ours).
func (r *run) recheckGroupCopy(ctx context.Context, group string) error {
	c := r.groupCopy()
	if c == "" || !strings.EqualFold(group, c) {
		return nil
	}
	pg, err := r.api.ParameterGroup(ctx, c)
	if err != nil {
		return err
	}
	if pg == nil {
		return errorf(c, "rdsencrypt rollback "+r.st.ID, nil, "DB parameter group %s, migration %s's copy, no longer exists", c, r.st.ID)
	}
	return r.checkGroupCopy(pg)
}

// setApartInCopy names the parameters the migration sets in the copy alone: read_only (the
// freeze and the unfreeze, replication_mysql.go) and max_slot_wal_keep_size (the bound on the
// reverse slots' WAL, replication_reverse.go).
var setApartInCopy = []string{readOnlyParameter, maxSlotWALKeepSize}

// groupValueDifferences compares, by value, the parameters of the source's group and of the
// new instance's copy, but for those the migration sets apart (setApartInCopy): the
// copy matches when it holds every value of the source's group (a copy AWS had not finished,
// or a change made to the source's group since, shows here).
func (r *run) groupValueDifferences(ctx context.Context, target *model.Instance) ([]Difference, error) {
	c := r.groupCopy()
	if c == "" || target.Settings.DBParameterGroupName != c {
		return nil, nil // the name comparison reports another group
	}
	src, err := r.source(ctx)
	if err != nil {
		return nil, err
	}
	group := src.Settings.DBParameterGroupName
	found, err := r.parameterDifferences(ctx, group, c, setApartInCopy...)
	if err != nil {
		return nil, err
	}
	var diffs []Difference
	for _, d := range found {
		diffs = append(diffs, Difference{Resource: r.st.Source, Setting: "DBParameterGroupName parameter " + d.name,
			Source: group + ": " + d.want, Target: c + ": " + d.got})
	}
	return diffs, nil
}

// deleteGroupCopy deletes the copy in a rollback, once the new instance is gone, after
// checking that both the journal and its tags say it is ours.
func (r *run) deleteGroupCopy(ctx context.Context) error {
	name := r.groupCopy()
	if name == "" {
		return nil
	}
	pg, err := r.api.ParameterGroup(ctx, name)
	if err != nil || pg == nil {
		return err
	}
	if err := r.checkGroupCopy(pg); err != nil {
		return err
	}
	r.log("deleting the DB parameter group %s, the new instance's copy", name)
	if err := r.api.DeleteParameterGroup(ctx, name); err != nil && !model.IsNotFound(err) {
		return errorf(name, "rdsencrypt rollback "+r.st.ID, err, "cannot delete the DB parameter group %s", name)
	}
	return nil
}
