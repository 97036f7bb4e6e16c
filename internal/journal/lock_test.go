package journal

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The cross-process tests re-run this test binary as a child that executes
// TestLockHelperProcess with these variables set.
const (
	lockHelperEnv = "RDSENCRYPT_LOCK_HELPER" // "hold" or "try"
	lockDirEnv    = "RDSENCRYPT_LOCK_DIR"
	lockIDEnv     = "RDSENCRYPT_LOCK_ID"
)

// Exit codes of the "try" helper.
const (
	helperGotLock = 10
	helperLocked  = 11
	helperFailed  = 12
)

// TestLockHelperProcess is not a test: it is the child process of the cross-process lock
// tests. "hold" takes the lock, prints "locked <pid>" and waits until stdin closes or it is
// killed; "try" tries once and exits with helperGotLock or helperLocked, printing the error.
func TestLockHelperProcess(t *testing.T) {
	mode := os.Getenv(lockHelperEnv)
	if mode == "" {
		t.Skip("helper process for the cross-process lock tests")
	}
	s, err := Open(os.Getenv(lockDirEnv))
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(helperFailed)
	}
	release, err := s.Lock(os.Getenv(lockIDEnv))
	switch {
	case errors.Is(err, ErrLocked):
		fmt.Println(err)
		os.Exit(helperLocked)
	case err != nil:
		fmt.Println("lock:", err)
		os.Exit(helperFailed)
	}
	if mode == "try" {
		release()
		os.Exit(helperGotLock)
	}
	fmt.Printf("locked %d\n", os.Getpid())
	io.Copy(io.Discard, os.Stdin) // hold until the parent closes stdin or kills us
	if err := release(); err != nil {
		fmt.Println("release:", err)
		os.Exit(helperFailed)
	}
	os.Exit(0)
}

func helperCmd(t *testing.T, mode, dir, id string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), lockHelperEnv+"="+mode, lockDirEnv+"="+dir, lockIDEnv+"="+id)
	return cmd
}

// startHolder starts a child that holds the lock of id; it returns once the lock is held.
func startHolder(t *testing.T, dir, id string) (cmd *exec.Cmd, stdin io.WriteCloser) {
	t.Helper()
	cmd = helperCmd(t, "hold", dir, id)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err, "holder output %q", line)
	require.Equal(t, fmt.Sprintf("locked %d\n", cmd.Process.Pid), line)
	return cmd, stdin
}

// tryInChild tries the lock of id from another process.
func tryInChild(t *testing.T, dir, id string) (exitCode int, output string) {
	t.Helper()
	out, err := helperCmd(t, "try", dir, id).CombinedOutput()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "child output: %s", out)
	return ee.ExitCode(), string(out)
}

func TestLockInProcess(t *testing.T) {
	s := newTestStore(t)
	release, err := s.Lock("a1b2c3d4")
	require.NoError(t, err)

	// flock locks belong to the open file, so a second Lock in the same process fails too.
	_, err = s.Lock("a1b2c3d4")
	require.ErrorIs(t, err, ErrLocked)
	var le *LockedError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, os.Getpid(), le.PID)
	host, _ := os.Hostname()
	assert.Equal(t, host, le.Host)
	assert.Contains(t, err.Error(), "PID "+strconv.Itoa(os.Getpid()))

	// Another migration is not affected.
	r2, err := s.Lock("e5f6a7b8")
	require.NoError(t, err)
	require.NoError(t, r2())

	require.NoError(t, release())
	require.NoError(t, release(), "release is idempotent")
	data, err := os.ReadFile(s.LockPath("a1b2c3d4"))
	require.NoError(t, err)
	assert.Empty(t, data, "a released lock names no holder")

	release, err = s.Lock("a1b2c3d4")
	require.NoError(t, err)
	require.NoError(t, release())
	_, err = os.Stat(s.LockPath("a1b2c3d4"))
	assert.NoError(t, err, "the lock file stays: removing it would break flock's exclusion")
}

func TestLockAcrossProcesses(t *testing.T) {
	s := newTestStore(t)
	const id = "a1b2c3d4"

	t.Run("a child is refused while the parent holds the lock", func(t *testing.T) {
		release, err := s.Lock(id)
		require.NoError(t, err)
		code, out := tryInChild(t, s.Dir(), id)
		assert.Equal(t, helperLocked, code, out)
		assert.Contains(t, out, fmt.Sprintf("PID %d", os.Getpid()))
		require.NoError(t, release())

		code, out = tryInChild(t, s.Dir(), id)
		assert.Equal(t, helperGotLock, code, out)
	})

	t.Run("the parent is refused while a child holds the lock", func(t *testing.T) {
		cmd, stdin := startHolder(t, s.Dir(), id)
		_, err := s.Lock(id)
		require.ErrorIs(t, err, ErrLocked)
		var le *LockedError
		require.ErrorAs(t, err, &le)
		assert.Equal(t, cmd.Process.Pid, le.PID)
		assert.Contains(t, err.Error(), fmt.Sprintf("PID %d", cmd.Process.Pid))

		// A clean exit releases it.
		require.NoError(t, stdin.Close())
		require.NoError(t, cmd.Wait())
		release, err := s.Lock(id)
		require.NoError(t, err)
		require.NoError(t, release())
	})

	t.Run("kill -9 of the holder leaves no stale lock", func(t *testing.T) {
		cmd, _ := startHolder(t, s.Dir(), id)
		code, out := tryInChild(t, s.Dir(), id)
		require.Equal(t, helperLocked, code, out)
		assert.Contains(t, out, fmt.Sprintf("PID %d", cmd.Process.Pid))

		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		err := cmd.Wait()
		require.Error(t, err)
		assert.True(t, strings.Contains(err.Error(), "killed"), err.Error())

		// The lock file still names the dead holder, but the kernel dropped its lock.
		data, err := os.ReadFile(s.LockPath(id))
		require.NoError(t, err)
		assert.Contains(t, string(data), strconv.Itoa(cmd.Process.Pid))

		deadline := time.Now().Add(5 * time.Second)
		for {
			release, err := s.Lock(id)
			if err == nil {
				require.NoError(t, release())
				break
			}
			require.ErrorIs(t, err, ErrLocked)
			require.True(t, time.Now().Before(deadline), "lock still held after the holder was killed")
			time.Sleep(10 * time.Millisecond)
		}
		code, out = tryInChild(t, s.Dir(), id)
		assert.Equal(t, helperGotLock, code, out)
	})
}
