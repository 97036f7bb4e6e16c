package workflow

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
)

// routeTables are every registered route's table, by kind, and the replica route's, which
// the instance route includes.
func routeTables() map[string][]step {
	out := map[string][]step{"replica": replicaSteps}
	for kind, rt := range routes {
		out[kind] = rt.steps()
	}
	return out
}

// Every step of every route says how long it takes, which AWS calls it makes (or why it
// makes none), what rollback does about it, what it does, and has a behaviour.
func TestEveryStepIsDeclaredCompletely(t *testing.T) {
	for route, steps := range routeTables() {
		assert.NotEmpty(t, steps, route)
		var seen []string
		for _, s := range steps {
			where := route + "/" + s.name
			assert.NotEmpty(t, s.name, where)
			assert.False(t, slices.Contains(seen, s.name), "%s: declared twice", where)
			seen = append(seen, s.name)
			assert.Positive(t, s.estimate.at(100), "%s: no estimate", where)
			assert.True(t, len(s.actions) > 0 || s.local != "", "%s: no AWS call and no reason why", where)
			assert.False(t, len(s.actions) > 0 && s.local != "", "%s: makes AWS calls yet says it makes none", where)
			assert.NotEmpty(t, s.undo, "%s: says nothing of rollback", where)
			assert.True(t, (s.describe == nil) != (s.describeSubject == nil), "%s: needs exactly one description", where)
			assert.True(t, s.apply != nil || s.wait != nil, "%s: no behaviour", where)
			assert.False(t, s.skippable && !s.mutating, "%s: only a step that asks for approval can be skipped", where)
		}
	}
}

// A step is inside write downtime exactly when it runs between freeze (included) and
// unfreeze: what the tables declare and what the plans compose agree with it.
func TestDowntimeIsBetweenFreezeAndUnfreeze(t *testing.T) {
	check := func(name string, steps []plannedStep) {
		frozen := false
		for _, s := range steps {
			kind, _ := splitStep(s.name)
			switch kind {
			case StepFreeze, StepReplFreeze:
				frozen = true
			case StepUnfreeze:
				frozen = false
			}
			assert.Equal(t, frozen, s.downtime, "%s: %s", name, s.name)
		}
	}
	reps := []replicaNode{{inst: sampleSource()}, {inst: sampleSource(), parent: "us-east-1/orders"}}
	reps[0].inst.ID, reps[1].inst.ID = "orders-ro", "orders-ro-2"
	for _, order := range []string{ReplicasAfterCutover, ReplicasBeforeCutover} {
		check("instance "+order, instanceStepOrder(reps, order, true))
		check("replication "+order, replicationOrder(reps, order))
	}
	var cluster []plannedStep
	for _, s := range clusterSteps {
		cluster = append(cluster, plannedStep{s.name, s.downtime})
	}
	check("cluster", cluster)
}

// journaledSteps are the step names that journals written by earlier versions contain, by
// kind. Steps may be added, but none of these may be renamed or removed: resume looks each
// journaled name up in its route's table ("unknown step in journal" otherwise).
var journaledSteps = map[string][]string{
	KindInstance: {"preflight", "freeze-writes", "snapshot", "encrypted-copy", "restore", "modify", "parity-check",
		"cutover-retire-source", "cutover-promote-target", "unfreeze-writes", "verify",
		"replica-create", "replica-modify", "replica-parity", "replica-retire", "replica-promote"},
	KindCluster: {"preflight", "freeze-writes", "snapshot", "restore", "modify", "member", "endpoint", "parity-check",
		"cutover-retire-source", "cutover-promote-target", "cutover-endpoint", "unfreeze-writes", "verify"},
}

func TestJournaledStepNamesStayInTheirRoutes(t *testing.T) {
	for kind, names := range journaledSteps {
		rt, err := routeOf(kind)
		if !assert.NoError(t, err) {
			continue
		}
		for _, name := range names {
			_, ok := stepByName(rt.steps(), name)
			assert.True(t, ok, "%s journals name step %q: its route must keep it", kind, name)
		}
	}
	rt, err := routeOf("")
	assert.NoError(t, err, "journals written before kinds existed are instance migrations")
	assert.Equal(t, routes[KindInstance], rt)
}
