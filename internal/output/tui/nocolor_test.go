package tui

import (
	"bytes"
	"regexp"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
	"github.com/stretchr/testify/assert"
)

type fakeEnv map[string]string

func (e fakeEnv) Getenv(k string) string { return e[k] }
func (e fakeEnv) Environ() []string {
	var out []string
	for k, v := range e {
		out = append(out, k+"="+v)
	}
	return out
}

var colorCode = regexp.MustCompile(`\x1b\[[0-9;]*(3[0-9]|9[0-7]|38;)`)

// TestNoColor renders every screen on a color terminal with and without NO_COLOR: the
// styles must leave color to the renderer, which drops it when NO_COLOR is set.
func TestNoColor(t *testing.T) {
	for _, noColor := range []bool{false, true} {
		env := fakeEnv{"TERM": "xterm-256color", "COLORTERM": "truecolor"}
		if noColor {
			env["NO_COLOR"] = "1"
		}
		r := lipgloss.NewRenderer(&bytes.Buffer{}, termenv.WithTTY(true), termenv.WithEnvironment(env))
		colored := false
		for name, msgs := range screens() {
			m := newModel(testOptions(), modelConfig{renderer: r, now: t0})
			m, _ = feed(m, msgs...)
			view := m.View()
			if noColor {
				assert.False(t, colorCode.MatchString(view), "%s has color codes under NO_COLOR: %q", name, view)
			}
			colored = colored || colorCode.MatchString(view)
		}
		if !noColor {
			assert.True(t, colored, "the check finds color when color is allowed")
		}
	}
}
