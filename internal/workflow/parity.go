package workflow

import (
	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"slices"
	"strings"
)

// compareSettings lists the settings, among those the route table marks Compare, whose
// values differ between source and target. resource names the resource in the differences.
func compareSettings(table []model.Route, resource string, source, target any) []Difference {
	var diffs []Difference
	for _, r := range table {
		if !r.Compare {
			continue
		}
		a, errA := model.SettingValue(source, r.Setting)
		b, errB := model.SettingValue(target, r.Setting)
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
func settingsToModify(table []model.Route, source, target any) []model.Setting {
	var out []model.Setting
	for _, d := range compareSettings(table, "", source, target) {
		if r, ok := model.RouteOf(table, model.Setting(d.Setting)); ok && r.Modify {
			out = append(out, r.Setting)
		}
	}
	return out
}
