package journal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/redact"
)

// The audit trail of a migration is <dir>/<id>.audit.jsonl: one JSON object per line,
// appended and never rewritten. It records every AWS call, every operator decision and
// every state change, so that what the tool did can be shown afterwards.

// Kinds of audit records.
const (
	AuditAPICall     = "api-call"
	AuditApproval    = "approval"
	AuditStateChange = "state-change"
)

const auditExt = ".audit.jsonl"

// AuditRecord is one line of the audit trail. Text fields are passed through redact.String
// before they are written.
type AuditRecord struct {
	Time      time.Time `json:"time"` // local clock; set by AppendAudit when zero
	Kind      string    `json:"kind"` // api-call | approval | state-change
	Action    string    `json:"action,omitempty"`
	Target    string    `json:"target,omitempty"`
	RequestID string    `json:"request_id,omitempty"`
	AWSTime   time.Time `json:"aws_time,omitzero"` // Date header of the AWS response
	Outcome   string    `json:"outcome,omitempty"`
	User      string    `json:"user,omitempty"` // OS user, for approvals; set by AppendAudit when empty
	Step      string    `json:"step,omitempty"`
	Decision  string    `json:"decision,omitempty"`
	From      string    `json:"from,omitempty"`
	To        string    `json:"to,omitempty"`
	Message   string    `json:"message,omitempty"`
}

// AuditPath is the path of the audit trail of migration id.
func (s *Store) AuditPath(id string) string { return filepath.Join(s.dir, id+auditExt) }

// AppendAudit appends rec to the audit trail of migration id with a single O_APPEND
// write, then fsyncs: a record is either wholly in the file or not at all, and
// concurrent appenders (goroutines or processes) never interleave.
func (s *Store) AppendAudit(id string, rec AuditRecord) error {
	if err := CheckID(id); err != nil {
		return fmt.Errorf("append audit: %w", err)
	}
	switch rec.Kind {
	case AuditAPICall, AuditApproval, AuditStateChange:
	default:
		return fmt.Errorf("append audit %s: unknown record kind %q", id, rec.Kind)
	}
	if rec.Time.IsZero() {
		rec.Time = time.Now().UTC()
	}
	if rec.Kind == AuditApproval && rec.User == "" {
		rec.User = OSUser()
	}
	for _, f := range []*string{&rec.Action, &rec.Target, &rec.RequestID, &rec.Outcome, &rec.User,
		&rec.Step, &rec.Decision, &rec.From, &rec.To, &rec.Message} {
		*f = redact.String(*f)
	}
	line, err := json.Marshal(&rec)
	if err != nil {
		return fmt.Errorf("append audit %s: %w", id, err)
	}
	line = append(line, '\n')

	path := s.AuditPath(id)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("append audit: %w", err)
	}
	if _, err := f.Write(line); err != nil {
		f.Close()
		return fmt.Errorf("append audit %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("append audit %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("append audit %s: %w", path, err)
	}
	return nil
}

// ReadAudit returns the audit trail of migration id in the order it was written; a
// migration without one gives no records and no error. A line that does not parse stops
// the read: the records before it are returned with an error naming the line.
func (s *Store) ReadAudit(id string) ([]AuditRecord, error) {
	if err := CheckID(id); err != nil {
		return nil, fmt.Errorf("read audit: %w", err)
	}
	path := s.AuditPath(id)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read audit: %w", err)
	}
	defer f.Close()

	var recs []AuditRecord
	r := bufio.NewReader(f)
	for n := 1; ; n++ {
		line, err := r.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			var rec AuditRecord
			if uerr := json.Unmarshal(line, &rec); uerr != nil {
				return recs, fmt.Errorf("read audit %s:%d: %w", path, n, uerr)
			}
			recs = append(recs, rec)
		}
		if err == io.EOF {
			return recs, nil
		}
		if err != nil {
			return recs, fmt.Errorf("read audit %s: %w", path, err)
		}
	}
}

// OSUser is the operating-system user running rdsencrypt, as approvals record it.
func OSUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return fmt.Sprintf("uid:%d", os.Getuid())
}
