package workflow

import (
	"slices"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/awsclient"
)

// compareSettings lists the settings, among those the route table marks Compare, whose
// values differ between source and target. resource names the resource in the differences.
func compareSettings(table []awsclient.Route, resource string, source, target any) []Difference {
	var diffs []Difference
	for _, r := range table {
		if !r.Compare {
			continue
		}
		a, errA := awsclient.SettingValue(source, r.Setting)
		b, errB := awsclient.SettingValue(target, r.Setting)
		if errA != nil || errB != nil {
			continue
		}
		if !sameValue(a, b) {
			diffs = append(diffs, Difference{Resource: resource, Setting: string(r.Setting),
				Source: formatValue(a), Target: formatValue(b)})
		}
	}
	return diffs
}

// sameValue compares setting values: lists as sets, strings case-insensitively (AWS
// lower-cases names and may return ARNs in another case than given).
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case []string:
		y, _ := b.([]string)
		return slices.Equal(normalizedSet(x), normalizedSet(y))
	case string:
		y, _ := b.(string)
		return strings.EqualFold(x, y)
	}
	return a == b
}

func normalizedSet(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		out = append(out, strings.ToLower(s))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// settingsToModify lists the settings the target must be modified in to match the source.
func settingsToModify(table []awsclient.Route, source, target any) []awsclient.Setting {
	var out []awsclient.Setting
	for _, d := range compareSettings(table, "", source, target) {
		if r, ok := awsclient.RouteOf(table, awsclient.Setting(d.Setting)); ok && r.Modify {
			out = append(out, r.Setting)
		}
	}
	return out
}
