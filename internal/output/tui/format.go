package tui

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/lipgloss/table"
	"github.com/charmbracelet/x/ansi"
)

// wrap word-wraps s (which may hold styled text) to width, breaking long words too.
func wrap(s string, width int) string {
	if width <= 0 {
		return s
	}
	return ansi.Wrap(s, width, "")
}

// indentWrap wraps s to width with a hanging indent: the first line starts with first,
// the rest with as many spaces.
func indentWrap(first, s string, width int) string {
	pad := lipgloss.Width(first)
	body := wrap(s, max(10, width-pad))
	lines := strings.Split(body, "\n")
	for i := range lines {
		if i == 0 {
			lines[i] = first + lines[i]
		} else {
			lines[i] = strings.Repeat(" ", pad) + lines[i]
		}
	}
	return strings.Join(lines, "\n")
}

// bullets renders items as a hanging-indented list.
func bullets(items []string, width int) string {
	var b []string
	for _, it := range items {
		b = append(b, indentWrap("  • ", it, width))
	}
	return strings.Join(b, "\n")
}

// flow lays items out left to right, starting a new line when the next would not fit.
func flow(items []string, width int, sep string) string {
	var lines []string
	var cur string
	for _, it := range items {
		switch {
		case cur == "":
			cur = it
		case lipgloss.Width(cur)+lipgloss.Width(sep)+lipgloss.Width(it) <= width:
			cur += sep + it
		default:
			lines = append(lines, cur)
			cur = it
		}
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return strings.Join(lines, "\n")
}

// truncateLines cuts every line of s to width.
func truncateLines(s string, width int) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, width, "…")
	}
	return strings.Join(lines, "\n")
}

// grid renders a borderless table with a header rule, wrapping cells only when the natural
// width exceeds width.
func grid(st styles, width int, headers []string, rows [][]string) string {
	render := func(headers []string, rows [][]string) *table.Table {
		return table.New().
			Border(lipgloss.NormalBorder()).
			BorderTop(false).BorderBottom(false).BorderLeft(false).BorderRight(false).
			BorderColumn(false).BorderHeader(true).
			BorderStyle(st.dim).
			StyleFunc(func(row, _ int) lipgloss.Style {
				if row == table.HeaderRow {
					return st.tableHdr
				}
				return st.cell
			}).
			Headers(headers...).
			Rows(rows...)
	}
	out := render(headers, rows).String()
	if maxLineWidth(out) > width && len(headers) > 1 {
		// The last column is the free text (what a step does, a note): wrap it into the room
		// the other columns leave, so that no short column is squeezed to one character.
		last := len(headers) - 1
		bare := make([][]string, len(rows))
		for i, r := range rows {
			bare[i] = append(append([]string{}, r[:last]...), "")
		}
		room := width - maxLineWidth(render(append(append([]string{}, headers[:last]...), ""), bare).String())
		if room >= minFreeColumn {
			wrapped := make([][]string, len(rows))
			for i, r := range rows {
				wrapped[i] = append(append([]string{}, r[:last]...), wrap(r[last], room))
			}
			hdr := append(append([]string{}, headers[:last]...), ansi.Truncate(headers[last], room, ""))
			if fit := render(hdr, wrapped).String(); maxLineWidth(fit) <= width {
				return strings.TrimRight(fit, "\n")
			}
		}
		out = render(headers, rows).Width(width).String()
	}
	return strings.TrimRight(out, "\n")
}

// minFreeColumn is the narrowest the free-text column of a grid is wrapped to before every
// column is shrunk instead.
const minFreeColumn = 16

func maxLineWidth(s string) int {
	w := 0
	for _, l := range strings.Split(s, "\n") {
		w = max(w, lipgloss.Width(l))
	}
	return w
}

// yesNo renders a flag as a table cell.
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "-"
}
