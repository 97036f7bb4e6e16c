package main

import (
	"regexp"
	"strings"
)

var regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d{1,2}$`)

// parseKmsKeys reads --kms-key: one key for the source's region ("alias/rds-key", a key id or
// an ARN), or per-region keys for replicas in other regions
// ("us-east-1=arn:aws:kms:...,eu-west-1=alias/rds-key"), or both ("alias/k,eu-west-1=alias/k").
// It returns the key of the source's region and the keys of the other regions.
func parseKmsKeys(value, sourceRegion string) (string, map[string]string, error) {
	var primary string
	others := map[string]string{}
	for _, part := range strings.Split(value, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			return "", nil, usagef("--kms-key %q: empty entry", value)
		}
		region, key, hasRegion := strings.Cut(part, "=")
		if !hasRegion {
			region, key = sourceRegion, part
		}
		region, key = strings.TrimSpace(region), strings.TrimSpace(key)
		if !regionPattern.MatchString(region) {
			return "", nil, usagef("--kms-key %q: %q is not an AWS region", value, region)
		}
		if key == "" || strings.ContainsAny(key, " =") {
			return "", nil, usagef("--kms-key %q: bad key %q for %s", value, key, region)
		}
		if arnRegion := kmsARNRegion(key); arnRegion != "" && arnRegion != region {
			return "", nil, usagef("--kms-key: key %s is in %s, given for %s", key, arnRegion, region)
		}
		if region == sourceRegion {
			if primary != "" && primary != key {
				return "", nil, usagef("--kms-key %q: two keys for %s", value, region)
			}
			primary = key
			continue
		}
		if prev, ok := others[region]; ok && prev != key {
			return "", nil, usagef("--kms-key %q: two keys for %s", value, region)
		}
		others[region] = key
	}
	if primary == "" {
		return "", nil, usagef("--kms-key %q names no key for the source's region %s", value, sourceRegion)
	}
	return primary, others, nil
}

// kmsARNRegion is the region of a KMS key or alias ARN, "" for other references.
func kmsARNRegion(ref string) string {
	if !strings.HasPrefix(ref, "arn:") {
		return ""
	}
	parts := strings.SplitN(ref, ":", 5)
	if len(parts) < 5 {
		return ""
	}
	return parts[3]
}
