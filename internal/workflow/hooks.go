package workflow

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/redact"
)

// HookRunner runs the operator's freeze and unfreeze commands.
type HookRunner interface {
	Run(ctx context.Context, name, command string, env []string) error
}

// ShellHooks runs hooks with sh -c, passing the migration facts as RDSENCRYPT_* variables.
// A hook runs in a process group of its own: when the run is stopped (Ctrl-C, SIGTERM) the
// whole group gets SIGTERM, the children a shell started included, and the run does not wait
// for them beyond hookStopGrace.
type ShellHooks struct{}

// hookStopGrace is how long a stopped hook's group has to exit after SIGTERM before its pipes
// are closed and it is killed.
const hookStopGrace = 3 * time.Second

// Run runs command and returns an error naming the hook and the tail of its output on failure;
// stopped by ctx, it returns an error wrapping ctx.Err().
func (ShellHooks) Run(ctx context.Context, name, command string, env []string) error {
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	cmd.Env = append(cmd.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = hookStopGrace
	out, err := cmd.CombinedOutput()
	if cmd.Process != nil && ctx.Err() != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // whatever of the group ignored SIGTERM
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%s hook %q stopped: %w", name, redact.String(command), ctx.Err())
	}
	if err != nil {
		tail := strings.Join(strings.Fields(string(out)), " ")
		if len(tail) > 200 {
			tail = "..." + tail[len(tail)-200:]
		}
		return fmt.Errorf("%s hook %q failed: %w (output: %s)", name, redact.String(command), err, redact.String(tail))
	}
	return nil
}
