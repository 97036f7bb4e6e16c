package workflow

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// MySQL and MariaDB under the replication strategy freeze writes with read_only set through
// the source's DB parameter group: RDS gives the master user no SUPER, so no SQL statement of
// the tool can make the server refuse writes (and FLUSH TABLES WITH READ LOCK is refused on
// RDS). read_only is dynamic, so ApplyMethod immediate applies it at once to the running
// servers of every instance using the group (docs/replication-mysql.md#lag-freeze-drain-verification).
// The restored target has a copy of the source's group (replication_group_copy.go): the freeze
// sets read_only in both, so the target is read_only too until the unfreeze (its replication
// thread still applies); the unfreeze lifts it in the copy only, and the retired source stays
// read_only. A journal from before the copy has the target share the source's group, and the
// unfreeze lifts read_only on both.

const readOnlyParameter = "read_only"

// mysqlRenamedProcedures says why the replication strategy refuses an RDS for MySQL source of
// version 8.4 or later ("" otherwise): RDS for MySQL 8.4 has only the _source names of the
// replication procedures the engine calls under their _master names (mysql.rds_set_external_master
// became rds_set_external_source, rds_reset_external_master rds_reset_external_source: RDS user
// guide, "Configuring, starting, and stopping binary log (binlog) replication"), and MySQL 8.4
// removed SHOW MASTER STATUS, which the engine reads (docs/replication-mysql.md#mysql-84). The
// target is restored from the source's snapshot, so it runs the same version.
func mysqlRenamedProcedures(src *model.Instance) string {
	if src.Settings.Engine != "mysql" {
		return ""
	}
	major, minor, ok := majorMinor(src.Settings.EngineVersion)
	if !ok || major < 8 || major == 8 && minor < 4 {
		return ""
	}
	return fmt.Sprintf("%s runs MySQL %s: RDS for MySQL 8.4 and later renamed the replication procedures this rdsencrypt calls (mysql.rds_set_external_master, rds_reset_external_master) and MySQL 8.4 removed SHOW MASTER STATUS, "+
		"so the replication strategy supports MySQL 8.0 only; --strategy snapshot migrates it", src.ID, src.Settings.EngineVersion)
}

// majorMinor reads the first two numbers of an engine version ("8.4.3": 8, 4).
func majorMinor(version string) (int, int, bool) {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return 0, 0, false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	return major, minor, err1 == nil && err2 == nil
}

// usesGroupFreeze reports whether this run's engine freezes through the parameter group.
func usesGroupFreeze(st *State) bool {
	return st.Options.Strategy == StrategyReplication && st.Replication != nil && st.Replication.Engine == "mysql"
}

// mysqlGroupProblem says why the source's parameter group cannot carry the freeze ("" when it
// can): AWS refuses to modify a default group, and a group other instances use would freeze
// them too. The source's own read replicas (replicas, same region) may share it: RDS creates a
// read replica with its source's group (CreateDBInstanceReadReplica: "All other attributes
// (including DB security groups and DB parameter groups) are inherited from the source"), and
// a replica is read-only already (read_only {TrueIfReplica}), so the freeze changes nothing
// for it, unless the group sets read_only=0 (writable replicas).
func mysqlGroupProblem(ctx context.Context, api model.RDS, src *model.Instance, replicas []string) (string, error) {
	group := src.Settings.DBParameterGroupName
	if group == "" || strings.HasPrefix(group, "default.") {
		return fmt.Sprintf("%s uses the default DB parameter group %q, which cannot be modified, and the freeze sets read_only in it: "+
			"give it a custom copy (aws rds copy-db-parameter-group, then modify-db-instance --db-parameter-group-name and a reboot) before the migration", src.ID, group), nil
	}
	insts, err := api.ListInstances(ctx)
	if err != nil {
		return "", err
	}
	var others, replicasOn []string
	for _, i := range insts {
		switch {
		case i.ID == src.ID || i.Settings.DBParameterGroupName != group:
		case slices.Contains(replicas, i.ID):
			replicasOn = append(replicasOn, i.ID)
		default:
			others = append(others, i.ID)
		}
	}
	if len(others) > 0 {
		return fmt.Sprintf("the DB parameter group %s of %s is also used by %s, which the freeze (read_only in the group) would freeze too: "+
			"give %s a group of its own before the migration", group, src.ID, strings.Join(others, ", "), src.ID), nil
	}
	if len(replicasOn) > 0 {
		ro, err := api.Parameter(ctx, group, readOnlyParameter)
		if err != nil {
			return "", err
		}
		if ro.Value == "0" || strings.EqualFold(ro.Value, "off") {
			return fmt.Sprintf("the DB parameter group %s sets read_only=0 and %s's read replicas %s use it: the freeze (read_only=1 in the group) would make them refuse writes until cleanup; "+
				"give them a group of their own, or reset read_only to its default {TrueIfReplica}, before the migration", group, src.ID, strings.Join(replicasOn, ", ")), nil
		}
	}
	return "", nil
}

// freezeGroup sets read_only=1 in the source's parameter group and in the new instance's copy,
// journaling the source's group and the value it had first, before the engine checks the
// freeze.
func (r *run) freezeGroup(ctx context.Context) error {
	st := r.replState()
	if st.ReadOnlyGroup == "" {
		src, err := r.source(ctx)
		if err != nil {
			return err
		}
		before, err := r.api.Parameter(ctx, src.Settings.DBParameterGroupName, readOnlyParameter)
		if err != nil {
			return errorf(r.st.Source, "rdsencrypt resume "+r.st.ID+", or rdsencrypt rollback "+r.st.ID, err,
				"cannot read read_only of the parameter group %s", src.Settings.DBParameterGroupName)
		}
		st.ReadOnlyGroup, st.ReadOnlyBefore, st.ReadOnlyBeforeSource = src.Settings.DBParameterGroupName, before.Value, before.Source
		if err := r.save(); err != nil {
			return err
		}
	}
	// Every group is checked before any is written: a copy that is no longer this migration's
	// stops the freeze before the source's group makes production read-only (review T7).
	for _, group := range r.frozenGroups() {
		if err := r.recheckGroupCopy(ctx, group); err != nil {
			return err
		}
	}
	for _, group := range r.frozenGroups() {
		if err := r.api.SetParameters(ctx, group, map[string]string{readOnlyParameter: "1"}); err != nil {
			return errorf(r.st.Source, "rdsencrypt resume "+r.st.ID+", or rdsencrypt rollback "+r.st.ID, err,
				"cannot set read_only in the parameter group %s", group)
		}
		r.log("read_only=1 in the parameter group %s (applied at once to the instances that use it)", group)
	}
	return nil
}

// frozenGroups are the groups the freeze sets read_only in: the source's and the new
// instance's copy, when it has one.
func (r *run) frozenGroups() []string {
	groups := []string{r.st.Replication.ReadOnlyGroup}
	if c := r.groupCopy(); c != "" {
		groups = append(groups, c)
	}
	return groups
}

// newInstanceGroup is the group whose read_only the unfreeze lifts: the new instance's copy,
// or, in a journal from before the copy, the group it shares with the source.
func (r *run) newInstanceGroup() string {
	if c := r.groupCopy(); c != "" {
		return c
	}
	return r.replState().ReadOnlyGroup
}

// thawGroup puts read_only back in group: the source's group's earlier value when the group
// set one (0 or 1, the only values a group can hold), else the engine default
// ({TrueIfReplica}: 0 on an instance that is not a replica, 1 on a replica), put back with
// ResetDBParameterGroup, so that the group is as it was, not set to an explicit 0 a replica
// later made with it would inherit (review S12).
func (r *run) thawGroup(ctx context.Context, group string) error {
	st := r.st.Replication
	if st == nil || st.ReadOnlyGroup == "" {
		return nil
	}
	if err := r.recheckGroupCopy(ctx, group); err != nil {
		return err
	}
	if !st.readOnlyWasOperators() {
		if err := r.api.ResetParameters(ctx, group, []string{readOnlyParameter}); err != nil {
			return errorf(r.st.Source, "reset read_only to its engine default in the parameter group "+group+" by hand, then rdsencrypt resume "+r.st.ID, err,
				"cannot put read_only back to its engine default in the parameter group %s", group)
		}
		r.log("read_only back to its engine default (%s) in the parameter group %s", st.ReadOnlyBefore, group)
		return nil
	}
	value := st.ReadOnlyBefore
	if err := r.api.SetParameters(ctx, group, map[string]string{readOnlyParameter: value}); err != nil {
		return errorf(r.st.Source, "set read_only="+value+" in the parameter group "+group+" by hand, then rdsencrypt resume "+r.st.ID, err,
			"cannot put read_only back in the parameter group %s", group)
	}
	r.log("read_only=%s in the parameter group %s again", value, group)
	return nil
}

// thawAndCheck lifts the freeze in the new instance's group and checks, on the instance now
// at the source's name, that writes are accepted again. The retired source keeps read_only
// when the new instance has its own copy.
func (r *run) thawAndCheck(ctx context.Context) error {
	if err := r.thawGroup(ctx, r.newInstanceGroup()); err != nil {
		return err
	}
	if r.groupCopy() != "" {
		r.log("the retired source %s keeps read_only=1 in %s until cleanup deletes it or rollback renames it back", r.names.Retired, r.st.Replication.ReadOnlyGroup)
	}
	inst, err := r.api.DescribeInstance(ctx, r.st.Source)
	if err != nil {
		return err
	}
	db, err := r.replicationOf(ctx, inst)
	if err != nil {
		return err
	}
	if err := db.eng.Unfreeze(ctx, r.replEndpoint(inst, db.login), r.replState().ReadOnlyDatabases); err != nil {
		return r.dbError(err, "rdsencrypt resume "+r.st.ID, "%s does not accept writes yet", r.st.Source)
	}
	return nil
}
