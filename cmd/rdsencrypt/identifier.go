package main

import (
	"regexp"
	"strconv"
	"strings"
)

// rdsIdentifier is the form of a DB instance and DB cluster identifier (CreateDBInstance
// DBInstanceIdentifier and CreateDBCluster DBClusterIdentifier constraints, RDS API
// reference): 1 to 63 letters, digits or hyphens, starting with a letter, not ending with a
// hyphen, without two consecutive hyphens. AWS stores it lower case; any case is accepted.
var rdsIdentifier = regexp.MustCompile(`^[A-Za-z]([A-Za-z0-9]|-[A-Za-z0-9]){0,62}$`)

// checkIdentifier refuses, as a usage error in one short line, a flag value that cannot name
// a DB instance or cluster, before it reaches AWS (or a file name, or a log).
func checkIdentifier(flag, v string) error {
	if len(v) <= 63 && rdsIdentifier.MatchString(v) {
		return nil
	}
	shown := v
	if len(shown) > 40 {
		shown = shown[:40] + "..."
	}
	what := "letters, digits and single hyphens, starting with a letter"
	if len(v) > 63 {
		what = "at most 63 characters, not " + strconv.Itoa(len(v))
	} else if strings.ContainsAny(v, "\n\r\t") {
		what = "one line of " + what
	}
	return usagef("%s %q is not an RDS identifier (%s)", flag, shown, what)
}
