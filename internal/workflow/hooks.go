package workflow

import (
	"context"
	"fmt"
	"os/exec"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/internal/redact"
)

// HookRunner runs the operator's freeze and unfreeze commands.
type HookRunner interface {
	Run(ctx context.Context, name, command string, env []string) error
}

// ShellHooks runs hooks with sh -c, passing the migration facts as RDSENCRYPT_* variables.
type ShellHooks struct{}

// Run runs command and returns an error naming the hook and the tail of its output on failure.
func (ShellHooks) Run(ctx context.Context, name, command string, env []string) error {
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	cmd.Env = append(cmd.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		tail := strings.Join(strings.Fields(string(out)), " ")
		if len(tail) > 200 {
			tail = "..." + tail[len(tail)-200:]
		}
		return fmt.Errorf("%s hook %q failed: %w (output: %s)", name, redact.String(command), err, redact.String(tail))
	}
	return nil
}
