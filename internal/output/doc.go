// Package output is how rdsencrypt shows things to people: plans, reports, the status
// table, scans and batches as text tables, the batch report as Markdown, JSON, one plain
// line per event for runs without a terminal, and the line prompts. The full-screen
// bubbletea UI is its subpackage tui.
//
// It renders what the workflow and fleet packages return and makes no AWS call; cmd/
// chooses which form to use.
package output
