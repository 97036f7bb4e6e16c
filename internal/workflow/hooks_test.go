package workflow

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestShellHookFailureIsOneLineWithoutSecrets(t *testing.T) {
	err := ShellHooks{}.Run(context.Background(), "freeze",
		`echo "connecting with password=hunter2-secret"; echo second line; exit 3 # PGPASSWORD=hunter2-secret`, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "freeze hook")
	assert.Contains(t, err.Error(), "exit status 3")
	assert.NotContains(t, err.Error(), "hunter2-secret")
	assert.NotContains(t, err.Error(), "\n")
}

func TestShellHookGetsTheMigrationFacts(t *testing.T) {
	err := ShellHooks{}.Run(context.Background(), "freeze", `test "$RDSENCRYPT_SOURCE" = orders`, []string{"RDSENCRYPT_SOURCE=orders"})
	assert.NoError(t, err)
}
