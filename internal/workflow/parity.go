package workflow

import (
	"slices"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
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

// encryptionProblem says how a new resource's storage encryption differs from the journal's
// key (wantKey an ARN, key the described key when known), or "" when it is encrypted with it.
// Encryption is the point of the migration: parity checks it before cutover, and no approval
// accepts a difference in it.
func encryptionProblem(encrypted bool, keyID, wantKey string, key *model.Key) string {
	switch {
	case !encrypted:
		return "storage is not encrypted"
	case strings.EqualFold(keyID, wantKey) || (key != nil && sameKey(keyID, key)):
		return ""
	}
	return "storage is encrypted with " + keyID + ", not " + wantKey
}

// refuseUnencrypted is the error of a parity check that found a new resource not encrypted
// with the migration's key: the cutover does not start, whatever the approver says.
func (r *run) refuseUnencrypted(newID, resource, problem string) error {
	const setting = "StorageEncrypted/KmsKeyId"
	r.st.Differences = slices.DeleteFunc(r.st.Differences, func(d Difference) bool { return d.Resource == resource && d.Setting == setting })
	r.st.Differences = append(r.st.Differences, Difference{Resource: resource, Setting: setting,
		Source: "encrypted with " + r.st.KmsKeyARN + " (wanted)", Target: problem})
	return errorf(newID, "inspect it, then rdsencrypt rollback "+r.st.ID, nil,
		"parity check: %s of %s: %s; its cutover not started", newID, resource, problem)
}
