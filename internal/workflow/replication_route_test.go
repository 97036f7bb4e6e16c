package workflow

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The replication strategy's freeze covers only the drain, the verification, the sequences,
// the detach and the renames: everything from its freeze to the unfreeze, nothing before.
func TestReplicationOrderFreezesOnlyForTheCutover(t *testing.T) {
	order := replicationOrder()
	var names []string
	freeze, unfreeze := -1, -1
	for i, ps := range order {
		names = append(names, ps.name)
		_, ok := stepByName(allInstanceSteps, ps.name)
		require.True(t, ok, "step %s is in the instance route's table (journals name it)", ps.name)
		switch ps.name {
		case StepReplFreeze:
			freeze = i
		case StepUnfreeze:
			unfreeze = i
		}
	}
	require.True(t, freeze > 0 && unfreeze > freeze)
	for i, ps := range order {
		assert.Equal(t, i >= freeze && i < unfreeze, ps.downtime, "step %s", ps.name)
	}
	assert.Equal(t, []string{StepPreflight, StepReplSourceGroup, StepReplPrepare, StepReplCopyGroup, StepSnapshot, StepCopy, StepRestore, StepModify, StepAddRoles, StepParity,
		StepReplAttach, StepReplCatchUp, StepReplAhead, StepReplFreeze, StepReplDrain, StepReplVerify, StepReplSequences, StepReplDetach,
		StepRenameSource, StepRenameTarget, StepUnfreeze, StepModifyLate, StepVerify, StepReplCleanup,
		StepManagePassword}, names) // planned only when needed: the source's parameter group (PostgreSQL, rds.logical_replication off), copy-parameter-group (MySQL/MariaDB), add-roles (IAM roles), the last one (a managed password)
	assert.NotContains(t, names, StepFreeze, "the SQL freeze replaces the operator's freeze")
}

func TestRunDowntimeFollowsTheStrategy(t *testing.T) {
	snap, _ := stepByName(allInstanceSteps, StepSnapshot)
	r := &run{st: &State{Options: RunOptions{Strategy: StrategyReplication}}}
	assert.False(t, r.downtime(snap))
	r.st.Options.Strategy = StrategySnapshot
	assert.True(t, r.downtime(snap))
}
