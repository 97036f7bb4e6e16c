package workflow

import (
	"slices"
	"strings"
)

// IAMActions lists, sorted and once each, the IAM actions ("rds:CreateDBSnapshot",
// "kms:DescribeKey") a migration of the kind needs: the calls and permissions of every step
// of its route, and those of its rollback and cleanup. `rdsencrypt iam-policy` allows these
// and nothing else (internal/iampolicy).
func IAMActions(kind string) ([]string, error) {
	rt, err := routeOf(kind)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range rt.steps() {
		out = append(out, s.iamActions()...)
	}
	out = append(out, rt.undoAndCleanupActions()...)
	slices.Sort(out)
	return slices.Compact(out), nil
}

// iamActions are the IAM actions of a step: its calls (RDS unless they name their service)
// and its permissions.
func (s step) iamActions() []string {
	var out []string
	for _, a := range s.actions {
		if !strings.Contains(a, ":") {
			a = "rds:" + a
		}
		out = append(out, a)
	}
	return append(out, s.permissions...)
}
