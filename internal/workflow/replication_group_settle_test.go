package workflow

import (
	"context"
	"encoding/json"
	"maps"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/awsclient"
	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// settleAWS is AWS on a virtual clock for the copy's settle time: every read of the copy
// (the wait's poll) moves the clock by a poll's worth; the calls that use the copy record
// when they came.
type settleAWS struct {
	model.RDS
	now      *time.Time
	poll     time.Duration
	src      *model.Instance
	groups   map[string]map[string]string // group -> parameter -> value
	copyTags *model.Tags
	restored *time.Time // when RestoreInstance was called (AWS clock), zero before
}

func (a settleAWS) ServerTime() time.Time { return *a.now }

func (a settleAWS) CopyParameterGroup(_ context.Context, source, target, _ string, tags model.Tags) (*model.ParameterGroup, error) {
	a.groups[target] = maps.Clone(a.groups[source])
	*a.copyTags = tags
	return &model.ParameterGroup{Name: target, Tags: tags}, nil
}

func (a settleAWS) ParameterGroup(_ context.Context, name string) (*model.ParameterGroup, error) {
	*a.now = a.now.Add(a.poll)
	if _, ok := a.groups[name]; !ok {
		return nil, nil
	}
	return &model.ParameterGroup{Name: name, Tags: *a.copyTags}, nil
}

func (a settleAWS) Parameters(_ context.Context, group string) (map[string]string, error) {
	return a.groups[group], nil
}

func (a settleAWS) DescribeInstance(_ context.Context, id string) (*model.Instance, error) {
	return nil, &model.Error{Failure: model.FailureNotFound, Op: "DescribeDBInstances", Resource: id}
}

func (a settleAWS) DescribeInstanceByResourceID(context.Context, string) (*model.Instance, error) {
	return a.src, nil
}

func (a settleAWS) RestoreInstance(_ context.Context, in model.RestoreInstanceInput) (*model.Instance, error) {
	*a.restored = *a.now
	return &model.Instance{ID: in.ID, ResourceID: "db-TARGET", Settings: in.Settings}, nil
}

// settleRun is a MariaDB replication migration of orders (group orders-params) at its copy
// step, journaled in a store, on settleAWS starting at start.
func settleRun(t *testing.T, start time.Time) (*run, settleAWS) {
	t.Helper()
	src := sampleSource()
	src.Settings.Engine, src.Settings.DBParameterGroupName, src.ResourceID = "mariadb", "orders-params", "db-SOURCE"
	st := newState(buildInstancePlan(instancePlanInput{id: "0a1b2c3d", src: src, key: sampleKey, strategy: StrategyReplication}), MigrateRequest{})
	st.SourceRID = src.ResourceID
	store, err := OpenStore(t.TempDir())
	require.NoError(t, err)
	now := start
	aws := settleAWS{now: &now, poll: 30 * time.Second, src: src, copyTags: &model.Tags{}, restored: &time.Time{},
		groups: map[string]map[string]string{"orders-params": {"max_connections": "500", "binlog_format": "ROW", "read_only": "{TrueIfReplica}"}}}
	e := &Engine{Store: store, Poll: awsclient.PollOptions{Min: time.Millisecond, Max: time.Millisecond}}
	r := &run{e: e, st: st, api: aws, names: NamesFor(st.ID, st.Source), step: -1}
	r.src = src
	r.useGroupCopy()
	return r, aws
}

// Review S13: the new instance is restored with the copy no sooner than 5 minutes (AWS
// clock) after the copy was made, and the copy carries the group it copies in a tag. On the
// old code the restore came at once after the copy.
func TestRestoreComesFiveMinutesAfterTheCopy(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 12, 6, 20, 0, 0, 0, time.UTC)
	r, aws := settleRun(t, start)
	require.NoError(t, applyGroupCopy(ctx, r))
	copied := r.resource(RoleParameterGroup).CreatedAt
	assert.Equal(t, start, copied, "the copy's time is journaled on AWS's clock")
	assert.Equal(t, "orders-params", (*aws.copyTags)[TagOriginalParameterGroup])
	assert.Equal(t, r.ourTags(RoleParameterGroup)[model.TagMigrationID], (*aws.copyTags)[model.TagMigrationID])

	require.NoError(t, applyRestore(ctx, r))
	require.False(t, aws.restored.IsZero(), "no restore")
	assert.GreaterOrEqual(t, aws.restored.Sub(copied), groupSettle, "the restore came %s after the copy", aws.restored.Sub(copied))
}

// A run killed between the copy and the restore waits, when resumed, for what is left of
// the 5 minutes from the journaled time; a copy whose time the journal lacks (killed right
// after the call) counts from the resume.
func TestResumeBetweenCopyAndRestoreStillWaits(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 12, 6, 20, 0, 0, 0, time.UTC)
	r, aws := settleRun(t, start)
	require.NoError(t, applyGroupCopy(ctx, r))
	saved, err := r.e.Store.Load(r.st.ID)
	require.NoError(t, err)
	require.Equal(t, start, saved.Resources[len(saved.Resources)-1].CreatedAt, "the journal on disk holds the copy's time")

	// Resumed two minutes later: the restore still comes 5 minutes after the copy.
	*aws.now = start.Add(2 * time.Minute)
	resumed := &run{e: r.e, st: saved, api: aws, names: r.names, step: -1, src: r.src}
	require.NoError(t, applyRestore(ctx, resumed))
	assert.GreaterOrEqual(t, aws.restored.Sub(start), groupSettle)
	assert.Less(t, aws.restored.Sub(start), groupSettle+time.Minute, "the resumed run waited from the journaled time, not from the resume")

	// Killed before the time was journaled: counted from the resume.
	r2, aws2 := settleRun(t, start)
	require.NoError(t, applyGroupCopy(ctx, r2))
	r2.resource(RoleParameterGroup).CreatedAt = time.Time{}
	resumedAt := start.Add(time.Hour)
	*aws2.now = resumedAt
	require.NoError(t, applyRestore(ctx, r2))
	assert.GreaterOrEqual(t, aws2.restored.Sub(resumedAt), groupSettle)
}

// A copy that differs from its original after the wait (AWS had not finished it, or someone
// changed either group) stops before the restore with one line naming both groups and the
// parameter; the source change's copy may differ in rds.logical_replication only.
func TestCopyDifferingFromItsOriginalStops(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 12, 6, 20, 0, 0, 0, time.UTC)
	r, aws := settleRun(t, start)
	require.NoError(t, applyGroupCopy(ctx, r))
	copyName := r.groupCopy()
	aws.groups[copyName]["max_connections"] = "100"

	err := applyRestore(ctx, r)
	require.Error(t, err)
	assert.True(t, aws.restored.IsZero(), "the new instance was restored with a copy that differs")
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Contains(t, e.Problem, copyName)
	assert.Contains(t, e.Problem, "orders-params")
	assert.Contains(t, e.Problem, `max_connections: "100" in the copy, "500" in orders-params`)
	assert.Equal(t, "aws rds modify-db-parameter-group --db-parameter-group-name "+copyName+
		` --parameters '[{"ParameterName":"max_connections","ParameterValue":"500","ApplyMethod":"pending-reboot"}]'`+
		", then rdsencrypt resume "+r.st.ID+"; or rdsencrypt rollback "+r.st.ID, e.Next)
	assert.NotContains(t, e.Error(), "\n")

	aws.groups[copyName]["max_connections"] = "500"
	aws.groups[copyName][logicalReplication] = "1"
	require.Error(t, r.settleGroupCopy(ctx, "orders-params", "putting it on orders"), "a parameter the migration did not set")
	require.NoError(t, r.settleGroupCopy(ctx, "orders-params", "putting it on orders", logicalReplication))
}

// The commands that make a copy match its original run as printed in a POSIX shell, for
// values with commas, spaces, quotes and $ (review T11): each --parameters word, as the
// shell passes it to the AWS CLI, is JSON naming every differing parameter with its value.
func TestMatchCommandsRunAsPrinted(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no POSIX shell here")
	}
	diffs := []parameterDifference{
		{name: "shared_preload_libraries", want: "pg_stat_statements,pg_cron"},
		{name: "search_path", want: `"$user", public`},
		{name: "application_name", want: "it's"},
		{name: "work_mem"}, // the original leaves it at its default: reset
	}
	cmds := matchCommands("orders-params-rdsencrypt-x", diffs)
	type param struct{ ParameterName, ParameterValue, ApplyMethod string }
	got := map[string]param{}
	for _, cmd := range strings.Split(cmds, " && ") {
		// The shell prints each word the AWS CLI would get, one per line (JSON has no newline).
		out, err := exec.Command(sh, "-c", "printf '%s\\n' "+strings.TrimPrefix(cmd, "aws ")).Output()
		require.NoError(t, err, cmd)
		words := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		require.Equal(t, "--parameters", words[len(words)-2], cmd)
		var ps []param
		require.NoError(t, json.Unmarshal([]byte(words[len(words)-1]), &ps), cmd)
		for _, p := range ps {
			assert.Equal(t, "pending-reboot", p.ApplyMethod)
			got[words[1]+" "+p.ParameterName] = p
		}
	}
	assert.Equal(t, map[string]param{
		"modify-db-parameter-group shared_preload_libraries": {"shared_preload_libraries", "pg_stat_statements,pg_cron", "pending-reboot"},
		"modify-db-parameter-group search_path":              {"search_path", `"$user", public`, "pending-reboot"},
		"modify-db-parameter-group application_name":         {"application_name", "it's", "pending-reboot"},
		"reset-db-parameter-group work_mem":                  {"work_mem", "", "pending-reboot"},
	}, got)
}
