package model

import "strings"

// ARNRegion is the region field of an ARN (arn:partition:service:region:account:resource),
// or "" when s has fewer fields.
func ARNRegion(arn string) string {
	parts := strings.Split(arn, ":")
	if len(parts) < 4 {
		return ""
	}
	return parts[3]
}

// ARNLastPart is what follows the last colon of s: the identifier in a DB instance or DB
// cluster ARN (arn:aws:rds:region:account:db:ID); s itself when it has no colon.
func ARNLastPart(s string) string {
	if i := strings.LastIndex(s, ":"); i >= 0 {
		return s[i+1:]
	}
	return s
}
