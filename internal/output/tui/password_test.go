package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// The prompt reads from a real pseudo-terminal with echo off: the password typed once the
// question shows comes back, the terminal shows the question but never the password, and the
// same instance is not asked twice in one process.
func TestPasswordPrompterReadsWithoutEcho(t *testing.T) {
	ptmx, tty, err := pty.Open()
	require.NoError(t, err)
	defer ptmx.Close()
	defer tty.Close()
	var shown screenBuffer
	go func() {
		buf := make([]byte, 256)
		for {
			n, err := ptmx.Read(buf)
			_, _ = shown.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	p := &PasswordPrompter{FD: int(tty.Fd()), Out: tty}
	inst := &model.Instance{ID: "shop", ResourceID: "db-SHOP", MasterUsername: "master"}
	type answer struct {
		pw  string
		err error
	}
	got := make(chan answer, 1)
	go func() {
		pw, err := p.Prompt(context.Background(), inst)
		got <- answer{pw, err}
	}()
	require.Eventually(t, func() bool { return strings.Contains(shown.String(), "Master password of shop (user master") },
		10*time.Second, 5*time.Millisecond, "the question shows")
	_, err = ptmx.Write([]byte("s3cret-typed\n"))
	require.NoError(t, err)
	a := <-got
	require.NoError(t, a.err)
	assert.Equal(t, "s3cret-typed", a.pw)
	pw, err := p.Prompt(context.Background(), inst)
	require.NoError(t, err)
	assert.Equal(t, "s3cret-typed", pw, "asked once per instance")
	_, err = tty.Write([]byte("end-of-test\n"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return strings.Contains(shown.String(), "end-of-test") }, 10*time.Second, 5*time.Millisecond)
	assert.Equal(t, 1, strings.Count(shown.String(), "Master password of"))
	assert.NotContains(t, shown.String(), "s3cret", "the terminal did not echo the password")
}
