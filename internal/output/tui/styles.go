package tui

import (
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/lipgloss"
)

// styles are built on the renderer of the UI's output, so NO_COLOR, a dumb terminal or a
// pipe turn color off. Only the 16 basic colors are used: they read on dark and light
// backgrounds without asking the terminal which one it has.
type styles struct {
	title    lipgloss.Style
	heading  lipgloss.Style
	dim      lipgloss.Style
	ok       lipgloss.Style
	warn     lipgloss.Style
	bad      lipgloss.Style
	active   lipgloss.Style
	notice   lipgloss.Style // downtime notices: bold, never only a color
	command  lipgloss.Style
	tableHdr lipgloss.Style
	cell     lipgloss.Style
}

func newStyles(r *lipgloss.Renderer) styles {
	return styles{
		title:    r.NewStyle().Bold(true),
		heading:  r.NewStyle().Bold(true).Underline(true),
		dim:      r.NewStyle().Faint(true),
		ok:       r.NewStyle().Foreground(lipgloss.Color("2")),
		warn:     r.NewStyle().Foreground(lipgloss.Color("3")),
		bad:      r.NewStyle().Foreground(lipgloss.Color("1")).Bold(true),
		active:   r.NewStyle().Foreground(lipgloss.Color("6")),
		notice:   r.NewStyle().Foreground(lipgloss.Color("3")).Bold(true),
		command:  r.NewStyle().Foreground(lipgloss.Color("6")).Bold(true),
		tableHdr: r.NewStyle().Bold(true).PaddingRight(2),
		cell:     r.NewStyle().PaddingRight(2),
	}
}

func newHelp(r *lipgloss.Renderer) help.Model {
	h := help.New()
	key := r.NewStyle().Bold(true)
	desc := r.NewStyle().Faint(true)
	sep := r.NewStyle().Faint(true)
	h.Styles = help.Styles{
		ShortKey: key, ShortDesc: desc, ShortSeparator: sep, Ellipsis: sep,
		FullKey: key, FullDesc: desc, FullSeparator: sep,
	}
	return h
}
