package workflow

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
	"regexp"
	"strings"
	"time"
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

// AuditRecord is one line of the audit trail. Text fields are passed through Redact
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
	if err := checkID(id); err != nil {
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
		rec.User = osUser()
	}
	for _, f := range []*string{&rec.Action, &rec.Target, &rec.RequestID, &rec.Outcome, &rec.User,
		&rec.Step, &rec.Decision, &rec.From, &rec.To, &rec.Message} {
		*f = Redact(*f)
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
	if err := checkID(id); err != nil {
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

func osUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return fmt.Sprintf("uid:%d", os.Getuid())
}

// RedactedMark replaces whatever Redact removes.
const RedactedMark = "[REDACTED]"

var (
	// A URL whose query string carries a signature or credentials (presigned URLs,
	// SigV2 and SigV4 query authentication): the whole query string goes.
	urlQueryRE = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://[^\s?#"'<>]*)\?([^\s"'<>]*)`)
	// user:password@ in a URL.
	urlUserinfoRE = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@"'<>]+:)([^\s@/"'<>]+)@`)
	// key=value, key: value, "key":"value" and URL-encoded key%3Dvalue for secret keys.
	secretKVRE = regexp.MustCompile(`(?i)(x-amz-signature|x-amz-credential|x-amz-security-token|` +
		`presignedurl|masteruserpassword|password|passwd|secret[_-]?access[_-]?key|` +
		`session[_-]?token|security[_-]?token|signature|credential|secret|token)` +
		`("?\s*(?:=|%3D|:)\s*"?)([^\s&"',;}]+)`)
	// Access key ids of long-term (AKIA) and temporary (ASIA) credentials.
	accessKeyIDRE = regexp.MustCompile(`\b(?:AKIA|ASIA)[A-Z0-9]{16}\b`)
	// Runs of base64 characters; see isSecretLooking.
	base64RunRE = regexp.MustCompile(`[A-Za-z0-9/+]+=*`)
)

// Redact removes from s anything that looks like a secret, so that it can be written to
// the journal, the audit trail or a log: query strings of presigned URLs, passwords in
// URLs and in key=value or JSON form (MasterUserPassword, ...), AWS access key ids, and
// base64 runs shaped like a secret access key (40 characters) or a session token
// (100+). It errs on the side of removing too much. Redact(Redact(s)) == Redact(s).
func Redact(s string) string {
	if s == "" {
		return s
	}
	s = urlQueryRE.ReplaceAllStringFunc(s, func(m string) string {
		q := strings.ToLower(m[strings.IndexByte(m, '?'):])
		if strings.Contains(q, "x-amz-") || strings.Contains(q, "signature") ||
			strings.Contains(q, "awsaccesskeyid") || strings.Contains(q, "token") ||
			strings.Contains(q, "password") || strings.Contains(q, "secret") {
			return m[:strings.IndexByte(m, '?')+1] + RedactedMark
		}
		return m
	})
	s = urlUserinfoRE.ReplaceAllString(s, "${1}"+RedactedMark+"@")
	s = secretKVRE.ReplaceAllString(s, "${1}${2}"+RedactedMark)
	s = accessKeyIDRE.ReplaceAllString(s, RedactedMark)
	s = base64RunRE.ReplaceAllStringFunc(s, func(m string) string {
		if isSecretLooking(strings.TrimRight(m, "=")) {
			return RedactedMark
		}
		return m
	})
	return s
}

// isSecretLooking: exactly 40 (secret access key) or at least 100 (session token)
// base64 characters mixing upper case, lower case and digits. Hex digests, identifiers
// and ARNs do not qualify (wrong length, or broken up by '-', ':' or '.').
func isSecretLooking(run string) bool {
	if n := len(run); n != 40 && n < 100 {
		return false
	}
	var upper, lower, digit bool
	for _, c := range run {
		switch {
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= '0' && c <= '9':
			digit = true
		}
	}
	return upper && lower && digit
}
