package awsclient

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// newRetryer is the SDK standard retryer with more attempts than the SDK default of 3 and
// without the client-side retry quota: during a throttling storm the quota would run dry
// and turn every later throttle into an immediate failure, which a long migration must not
// suffer. Backoff is exponential with jitter, capped at cfg.MaxBackoff.
func newRetryer(cfg Config) aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = cfg.maxAttempts()
		o.MaxBackoff = cfg.maxBackoff()
		o.RateLimiter = ratelimit.None
	})
}
