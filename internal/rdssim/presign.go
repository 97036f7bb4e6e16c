package rdssim

import (
	"net/url"
	"strings"
)

// checkPresignedURL applies the PreSignedUrl rules of docs/aws-behaviour.md#presigned-urls for an action whose
// source lives in srcRegion: a same-region request must not carry one (OBSERVED
// InvalidParameterCombination); a cross-region one is optional (ignored by commercial AWS
// today), but when present it must be a presigned request for the same action, signed for the
// source region and naming this region as destination.
func checkPresignedURL(c *call, raw, srcRegion string) *apiError {
	if raw == "" {
		return nil
	}
	if srcRegion == c.r.name {
		return errCombination("Your request does not require the preSignedUrl parameter. Please remove the preSignedUrl parameter and try your request again.")
	}
	bad := errInvalidValue("PreSignedUrl could not be authenticated.")
	u, err := url.Parse(raw)
	if err != nil {
		return bad
	}
	q := u.Query()
	if a := q.Get("Action"); a != "" && a != c.action {
		return bad
	}
	if d := q.Get("DestinationRegion"); d != "" && d != c.r.name {
		return bad
	}
	if cred := q.Get("X-Amz-Credential"); cred != "" {
		parts := strings.Split(cred, "/")
		if len(parts) != 5 || parts[2] != srcRegion || parts[3] != "rds" {
			return bad
		}
	}
	return nil
}
