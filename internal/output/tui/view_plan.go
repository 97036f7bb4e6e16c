package tui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/internal/output"
)

// planView is the plan: what will be done, what is carried, what to watch for, how long.
func (m Model) planView(w int) string {
	p := m.run.plan
	var head []string
	what := fmt.Sprintf("Plan: %s %s %s", p.Mode, p.Kind, p.Source)
	var facts []string
	if p.Engine != "" {
		facts = append(facts, p.Engine)
	}
	if p.AllocatedStorage > 0 {
		facts = append(facts, fmt.Sprintf("%d GiB", p.AllocatedStorage))
	}
	if p.Region != "" {
		facts = append(facts, p.Region)
	}
	if len(facts) > 0 {
		what += " (" + strings.Join(facts, ", ") + ")"
	}
	head = append(head, m.st.title.Render(wrap(what, w)))
	if p.KmsKeyARN != "" {
		head = append(head, indentWrap("KMS key: ", p.KmsKeyARN, w))
	}
	times := "Estimated time " + output.Dash(output.Estimate(p.EstimatedTotal))
	if p.EstimatedDowntime > 0 {
		times += " · " + m.st.notice.Render("estimated write downtime "+output.Estimate(p.EstimatedDowntime))
		if first, last := m.downtimeSpan(); first != "" {
			times += fmt.Sprintf(" (writes stop at %s and resume after %s)", first, last)
		}
	}
	head = append(head, wrap(times, w))

	rows := make([][]string, 0, len(p.Steps))
	for i, s := range p.Steps {
		asks := yesNo(s.Mutating)
		if s.ApprovedWith != "" {
			if n, _ := m.run.position(s.ApprovedWith); n > 0 {
				asks = "with " + strconv.Itoa(n)
			}
		}
		rows = append(rows, []string{strconv.Itoa(i + 1), s.Name, output.Dash(output.Estimate(s.Estimate)),
			asks, yesNo(s.Downtime), s.Description})
	}
	legend := m.st.dim.Render(wrap("ASKS: changes something, so it asks for approval first. DOWN: applications cannot write meanwhile.", w))
	steps := m.section("Steps", grid(m.st, w, []string{"#", "STEP", "EST", "ASKS", "DOWN", "WHAT IT DOES"}, rows)+"\n"+legend)

	var settings string
	if len(p.Settings) > 0 {
		multi := false
		for _, s := range p.Settings {
			multi = multi || s.Resource != p.Settings[0].Resource
		}
		var hdr []string
		var rows [][]string
		if multi {
			hdr = []string{"RESOURCE", "SETTING", "VALUE", "VIA", "NOTE"}
		} else {
			hdr = []string{"SETTING", "VALUE", "VIA", "NOTE"}
		}
		for _, s := range p.Settings {
			r := []string{s.Name, output.Dash(s.Value), s.Via, s.Note}
			if multi {
				r = append([]string{s.Resource}, r...)
			}
			rows = append(rows, r)
		}
		settings = m.section("Settings carried to the encrypted copy", grid(m.st, w, hdr, rows))
	}

	var resources string
	if len(p.Resources) > 0 {
		rows := make([][]string, 0, len(p.Resources))
		for _, r := range p.Resources {
			rows = append(rows, []string{r.Role, r.Type, r.Name, r.Region})
		}
		resources = m.section("Resources", grid(m.st, w, []string{"ROLE", "KIND", "NAME", "REGION"}, rows))
	}

	var warnings string
	if len(p.Warnings) > 0 {
		var ws []string
		for _, x := range p.Warnings {
			ws = append(ws, indentWrap(m.st.warn.Render("  ! "), x, w))
		}
		warnings = m.section("Warnings", strings.Join(ws, "\n"))
	}

	next := m.st.dim.Render(wrap("Nothing has been changed yet. Each step that changes something asks for approval first.", w))
	return joinBlocks(strings.Join(head, "\n"), warnings, steps, settings, resources, next)
}

// downtimeSpan names the first and last steps of the write downtime.
func (m Model) downtimeSpan() (string, string) {
	var first, last string
	for _, s := range m.run.plan.Steps {
		if s.Downtime {
			if first == "" {
				first = s.Name
			}
			last = s.Name
		}
	}
	return first, last
}
