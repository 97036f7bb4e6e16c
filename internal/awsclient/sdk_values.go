package awsclient

import (
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Small conversions between SDK pointers and our zero-means-unset values.

func str(p *string) string { return aws.ToString(p) }

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// optPositive is for numbers where 0 is not a valid value (storage, IOPS, port...).
func optPositive(n int32) *int32 {
	if n <= 0 {
		return nil
	}
	return aws.Int32(n)
}

func optFloat(f float64) *float64 {
	if f <= 0 {
		return nil
	}
	return aws.Float64(f)
}

// optList returns nil for an empty list so that no bare "Key=" (empty list) is sent.
func optList(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	return slices.Clone(l)
}

func timeOf(p *time.Time) time.Time {
	if p == nil {
		return time.Time{}
	}
	return p.UTC()
}

// without returns the items of a that are not in b, in a's order.
func without(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}
