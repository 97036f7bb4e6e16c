package output

import (
	"fmt"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// Duration renders d to the second, without zero tails: 1h5m, 4m10s, 12s.
func Duration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	d = d.Round(time.Second)
	h, m, s := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	switch {
	case h > 0 && m == 0 && s == 0:
		return fmt.Sprintf("%dh", h)
	case h > 0 && s == 0:
		return fmt.Sprintf("%dh%dm", h, m)
	case h > 0:
		return fmt.Sprintf("%dh%dm%ds", h, m, s)
	case m > 0 && s == 0:
		return fmt.Sprintf("%dm", m)
	case m > 0:
		return fmt.Sprintf("%dm%ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}

// Estimate renders a planned duration, or "" when there is none.
func Estimate(d workflow.Duration) string {
	if d <= 0 {
		return ""
	}
	return "~" + Duration(time.Duration(d))
}

// Dash shows "-" for an empty value (a table cell, an optional field).
func Dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
