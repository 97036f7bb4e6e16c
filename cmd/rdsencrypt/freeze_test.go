package main

import (
	"context"
	"fmt"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/awsclient"
	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// --yes alone says nothing about who stops writes: it is refused (exit 2) before any AWS
// call, with the sentence --freeze none acknowledges, in migrate and in batch alike. Before
// the freeze choice existed, both ran and trusted that writes had stopped.
func TestYesWithoutAFreezeChoiceIsRefused(t *testing.T) {
	c := newCLI(t, 20000)
	c.source("ledger")
	_, stderr, code := c.run("migrate", "--db", "ledger", "--kms-key", "alias/cli", "--yes")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "--freeze none to acknowledge that "+workflow.LostWritesSentence)
	assert.Contains(t, stderr, "--freeze enforce")
	ids, _ := c.instanceIDs()
	assert.ElementsMatch(t, []string{"ledger"}, ids, "nothing created")
	// --strategy replication freezes in the database, but a cluster migrates by snapshot:
	// it does not stand in for the freeze choice there.
	_, stderr, code = c.run("migrate", "--cluster", "ledger-aurora", "--kms-key", "alias/cli", "--yes", "--strategy", "replication")
	assert.Equal(t, exitUsage, code, stderr)
	assert.Contains(t, stderr, workflow.LostWritesSentence)

	f := newFleetCLI(t, 1)
	before := f.h.Calls()
	code, _, errOut := f.run(false, "", "batch", "--region", "us-east-1", "--kms-key", "alias/fleet", "--yes")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, workflow.LostWritesSentence)
	assert.Empty(t, mutatingCalls(before, f.h.Calls()))

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--freeze", "hook"}, "--freeze hook needs --freeze-hook CMD"},
		{[]string{"--freeze", "enforce", "--freeze-hook", "true"}, "--freeze enforce would not run it"},
		{[]string{"--freeze", "sometimes"}, `--freeze must be enforce, hook or none, not "sometimes"`},
	} {
		_, stderr, code := c.run(append([]string{"migrate", "--db", "ledger", "--kms-key", "alias/cli", "--yes"}, tc.args...)...)
		assert.Equal(t, exitUsage, code, tc.args)
		assert.Contains(t, stderr, tc.want)
	}
	// plan takes the choice too, hook included (plan runs no hook)
	for _, mode := range []string{"none", "hook", "enforce"} {
		out, stderr, code := c.run("plan", "--db", "ledger", "--kms-key", "alias/cli", "--freeze", mode, "-o", "json")
		assert.Equal(t, exitOK, code, stderr)
		assert.Contains(t, out, `"freeze": "`+mode+`"`)
	}
}

// The enforced freeze survives kill -9 right after each of its mutating calls: the resumed run
// finds its group again (by tag when the kill came before the journal had it), never makes a
// second one, and the new instance gets the source's own groups; a rollback instead puts them
// back and deletes the group.
func TestKillNineDuringTheEnforcedFreeze(t *testing.T) {
	bin := buildBinary(t)
	for _, tc := range []struct {
		action   string
		nth      int
		rollback bool
	}{
		{"CreateSecurityGroup", 1, false},
		{"ModifyDBInstance", 1, false}, // the source's groups replaced
		{"RebootDBInstance", 1, false},
		{"CreateSecurityGroup", 1, true},
		{"ModifyDBInstance", 1, true},
		{"RebootDBInstance", 1, true},
	} {
		then := map[bool]string{false: "resume", true: "rollback"}[tc.rollback]
		t.Run(fmt.Sprintf("%s-%d-%s", tc.action, tc.nth, then), func(t *testing.T) {
			c := newCLI(t, 1500)
			c.source("ledger")
			original := c.describe("ledger").Settings.VpcSecurityGroupIDs
			require.NotEmpty(t, original)
			require.True(t, killAt(t, c, bin, tc.action, tc.nth, 0,
				"migrate", "--db", "ledger", "--kms-key", "alias/cli", "--yes", "--freeze", "enforce"), "killed")
			killed := onlyMigration(t, c)
			id := killed.ID
			if killed.Freeze != nil {
				t.Logf("killed with the freeze group journaled: %t", killed.Freeze.GroupID != "")
			}
			out, err := exec.Command(bin, c.args(then, id, "--yes")...).CombinedOutput()
			require.NoError(t, err, "%s: %s", then, out)
			net := awsclient.NewForSimulator(awsclient.Config{Region: "us-east-1", EndpointURL: c.h.URL}).Network("us-east-1")
			groups, err := net.FindSecurityGroups(context.Background(), model.TagMigrationID, id)
			require.NoError(t, err)
			assert.Equal(t, 1, c.h.Calls()["CreateSecurityGroup"], "one freeze group, never two")
			if tc.rollback {
				assert.Equal(t, original, c.describe("ledger").Settings.VpcSecurityGroupIDs, "the original groups, exactly")
				assert.False(t, c.describe("ledger").Settings.StorageEncrypted)
				assert.Empty(t, groups, "rollback deletes the freeze group")
				return
			}
			require.Len(t, groups, 1)
			assert.Equal(t, original, c.describe("ledger").Settings.VpcSecurityGroupIDs, "the new instance has the source's groups")
			assert.True(t, c.describe("ledger").Settings.StorageEncrypted)
			assert.Equal(t, []string{groups[0].ID}, c.describe(workflow.NamesFor(id, "ledger").Retired).Settings.VpcSecurityGroupIDs)
		})
	}
}

func (c *cli) describe(id string) *model.Instance {
	c.t.Helper()
	inst, err := c.aws().DescribeInstance(context.Background(), id)
	require.NoError(c.t, err)
	return inst
}
