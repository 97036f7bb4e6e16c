package tui

import (
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/stretchr/testify/assert"
)

// The end summary of a completed migration shows the report's warnings in its cleanup section
// (a PostgreSQL replication run's WAL kept for the retired source, review S7).
func TestSummaryShowsTheReportsWarnings(t *testing.T) {
	const line = "replication (PostgreSQL): after the cutover the new orders-db keeps WAL for the retired source"
	r := completedReport()
	r.Warnings = []string{line}
	done, _ := feed(testModel(nil), tea.WindowSizeMsg{Width: 200, Height: 60}, DoneMsg{Report: r})
	assert.Contains(t, flat(done.finalText()), "! "+line)
}
