package awsclient

import (
	"encoding/json"
	"net/url"
	"strings"
)

// redactedValue replaces secret values in logged request bodies.
const redactedValue = "[REDACTED]"

// secretParams are Query parameters whose values are secrets or bearer credentials. The
// SDK fills PreSignedUrl itself for cross-region CopyDBSnapshot, CopyDBClusterSnapshot,
// CreateDBInstanceReadReplica and CreateDBCluster: a SigV4 presigned URL carries the access
// key id and a signature anyone could replay until it expires. rdsencrypt sends no password,
// but a body that had one must not reach a log either.
var secretParams = []string{"presignedurl", "masteruserpassword", "newmasteruserpassword",
	"tdecredentialpassword", "sourcedbpassword", "password", "secretaccesskey", "sessiontoken"}

// redactFormBody returns a form-encoded request body with the values of secret parameters
// replaced, and with any other value that carries a SigV4 query signature replaced too.
// A body that is not a form (KMS JSON) is returned as is unless it mentions a signature,
// in which case it is withheld.
func redactFormBody(body string) string {
	if body == "" {
		return body
	}
	form, err := url.ParseQuery(body)
	if err != nil || strings.HasPrefix(strings.TrimSpace(body), "{") {
		if looksSigned(body) {
			return redactedValue
		}
		return body
	}
	changed := false
	for k, vs := range form {
		for i, v := range vs {
			if isSecretParam(k) || looksSigned(v) {
				vs[i], changed = redactedValue, true
			}
		}
	}
	if !changed {
		return body
	}
	return form.Encode()
}

func isSecretParam(key string) bool {
	k := strings.ToLower(key)
	if i := strings.LastIndexByte(k, '.'); i >= 0 {
		k = k[i+1:]
	}
	for _, s := range secretParams {
		if k == s {
			return true
		}
	}
	return false
}

func looksSigned(v string) bool {
	l := strings.ToLower(v)
	return strings.Contains(l, "x-amz-signature") || strings.Contains(l, "x-amz-credential") ||
		strings.Contains(l, "x-amz-security-token")
}

// secretFields are the JSON members of a Secrets Manager response that hold a secret's
// value (GetSecretValue, BatchGetSecretValue).
var secretFields = map[string]bool{"SecretString": true, "SecretBinary": true}

// redactResponseBody returns a response body with the values of secretFields replaced, at
// any depth. A body that mentions one but cannot be parsed (a truncated log excerpt) is
// withheld whole.
func redactResponseBody(body string) string {
	if !strings.Contains(body, "SecretString") && !strings.Contains(body, "SecretBinary") {
		return body
	}
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		return redactedValue
	}
	out, err := json.Marshal(redactSecretFields(v))
	if err != nil {
		return redactedValue
	}
	return string(out)
}

func redactSecretFields(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if secretFields[k] {
				x[k] = redactedValue
			} else {
				x[k] = redactSecretFields(e)
			}
		}
	case []any:
		for i, e := range x {
			x[i] = redactSecretFields(e)
		}
	}
	return v
}
