package journal

import (
	"fmt"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/internal/redact"
)

// AuditSummary is how a report includes the audit trail: where the whole trail is, how many
// records of each kind it holds, and every approval in full (who, when, what), since those
// are few and are what an auditor asks for first. API calls and state changes stay in the
// trail file, one JSON object per line, rather than bloating every report.
type AuditSummary struct {
	Path    string         `json:"path"`
	Records int            `json:"records"`
	ByType  map[string]int `json:"by_kind"`
	// Approvals are the operator decisions, in order.
	Approvals []AuditRecord `json:"approvals"`
	// Error says why the trail could not be read completely (the counts cover what was read).
	Error string `json:"error,omitempty"`
}

// AuditSummary summarizes the audit trail of migration id for its report.
func (s *Store) AuditSummary(id string) *AuditSummary {
	sum := &AuditSummary{Path: s.AuditPath(id), ByType: map[string]int{}, Approvals: []AuditRecord{}}
	recs, err := s.ReadAudit(id)
	if err != nil {
		sum.Error = redact.String(err.Error())
	}
	for _, r := range recs {
		sum.Records++
		sum.ByType[r.Type]++
		if r.Type == AuditApproval {
			sum.Approvals = append(sum.Approvals, r)
		}
	}
	return sum
}

// String is the one-line form of the summary for text reports.
func (a *AuditSummary) String() string {
	var parts []string
	for _, k := range []string{AuditAPICall, AuditApproval, AuditStateChange} {
		parts = append(parts, fmt.Sprintf("%d %s", a.ByType[k], k))
	}
	s := fmt.Sprintf("%s (%s)", a.Path, strings.Join(parts, ", "))
	if a.Error != "" {
		s += "; " + a.Error
	}
	return s
}
