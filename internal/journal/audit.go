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
	"strings"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/redact"
)

// The audit trail of a migration is <dir>/<id>.audit.jsonl: one JSON object per line,
// appended and never rewritten. It records every AWS call, every operator decision and
// every state change, so that what the tool did can be shown afterwards.

// Types of audit records.
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
	Type      string    `json:"kind"` // api-call | approval | state-change
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
	switch rec.Type {
	case AuditAPICall, AuditApproval, AuditStateChange:
	default:
		return fmt.Errorf("append audit %s: unknown record type %q", id, rec.Type)
	}
	if rec.Time.IsZero() {
		rec.Time = time.Now().UTC()
	}
	if rec.Type == AuditApproval && rec.User == "" {
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
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("append audit: %w", err)
	}
	if tornTail(f) {
		// a write cut short (a full disk) left a line without its end: start a new one, so
		// that only the torn line is lost, not this record too
		line = append([]byte{'\n'}, line...)
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

// tornTail says whether the file does not end with a newline: its last write was cut short.
func tornTail(f *os.File) bool {
	info, err := f.Stat()
	if err != nil || info.Size() == 0 {
		return false
	}
	last := make([]byte, 1)
	if _, err := f.ReadAt(last, info.Size()-1); err != nil {
		return false
	}
	return last[0] != '\n'
}

// SkippedLinesError says that lines of an audit trail could not be read and were skipped
// (a write torn by a full disk or a crash): every other record was read. It is a warning.
type SkippedLinesError struct {
	Path  string
	Lines []int
}

func (e *SkippedLinesError) Error() string {
	return fmt.Sprintf("warning: skipped %d unreadable line(s) of %s (line %s), as a write cut short by a full disk or a crash leaves them",
		len(e.Lines), e.Path, strings.Trim(strings.Join(strings.Fields(fmt.Sprint(e.Lines)), ", "), "[]"))
}

// ReadAudit returns the audit trail of migration id in the order it was written; a
// migration without one gives no records and no error. A line that does not parse (torn by
// a full disk or a crash) is skipped, as a log reader would: the other records are returned
// with a *SkippedLinesError naming the skipped lines.
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
	var skipped []int
	r := bufio.NewReader(f)
	for n := 1; ; n++ {
		line, err := r.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			var rec AuditRecord
			if uerr := json.Unmarshal(line, &rec); uerr != nil {
				skipped = append(skipped, n)
			} else {
				recs = append(recs, rec)
			}
		}
		if err == io.EOF {
			if len(skipped) > 0 {
				return recs, &SkippedLinesError{Path: path, Lines: skipped}
			}
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
