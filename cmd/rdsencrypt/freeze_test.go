package main

import (
	"testing"

	"github.com/stretchr/testify/assert"

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
	// plan takes the choice too
	_, stderr, code = c.run("plan", "--db", "ledger", "--kms-key", "alias/cli", "--freeze", "none")
	assert.Equal(t, exitOK, code, stderr)
}
