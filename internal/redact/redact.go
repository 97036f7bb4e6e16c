// Package redact removes secrets from text before it is written anywhere: the journal, the
// audit trail, a log line or an error message.
package redact

import (
	"regexp"
	"strings"
)

// Mark replaces whatever String removes.
const Mark = "[REDACTED]"

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

// String removes from s anything that looks like a secret, so that it can be written to
// the journal, the audit trail or a log: query strings of presigned URLs, passwords in
// URLs and in key=value or JSON form (MasterUserPassword, ...), AWS access key ids, and
// base64 runs shaped like a secret access key (40 characters) or a session token
// (100+). It errs on the side of removing too much. String(String(s)) == String(s).
func String(s string) string {
	if s == "" {
		return s
	}
	s = urlQueryRE.ReplaceAllStringFunc(s, func(m string) string {
		q := strings.ToLower(m[strings.IndexByte(m, '?'):])
		if strings.Contains(q, "x-amz-") || strings.Contains(q, "signature") ||
			strings.Contains(q, "awsaccesskeyid") || strings.Contains(q, "token") ||
			strings.Contains(q, "password") || strings.Contains(q, "secret") {
			return m[:strings.IndexByte(m, '?')+1] + Mark
		}
		return m
	})
	s = urlUserinfoRE.ReplaceAllString(s, "${1}"+Mark+"@")
	s = replaceSecretValues(s)
	s = accessKeyIDRE.ReplaceAllString(s, Mark)
	s = base64RunRE.ReplaceAllStringFunc(s, func(m string) string {
		if isSecretLooking(strings.TrimRight(m, "=")) {
			return Mark
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

// replaceSecretValues replaces the values secretKVRE finds, except the name in a Secrets
// Manager ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME): an ARN names a secret, it
// is not one, and the reports must show which secret applications read.
func replaceSecretValues(s string) string {
	var b strings.Builder
	last := 0
	for _, m := range secretKVRE.FindAllStringSubmatchIndex(s, -1) {
		start, key := m[0], strings.ToLower(s[m[2]:m[3]])
		if key == "secret" && start > 0 && s[start-1] == ':' && strings.Contains(s[:start], ":secretsmanager:") {
			continue
		}
		b.WriteString(s[last:m[4]])
		b.WriteString(s[m[4]:m[5]])
		b.WriteString(Mark)
		last = m[1]
	}
	b.WriteString(s[last:])
	return b.String()
}
