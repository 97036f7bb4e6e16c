package awsclient

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// Config says how to reach AWS. The zero value uses the default credential chain and the
// region of the shared config.
type Config struct {
	Region  string
	Profile string // shared config profile (--profile); empty means the default chain
	// EndpointURL replaces the RDS and KMS endpoints, e.g. the simulator's URL.
	EndpointURL string
	// HTTPClient replaces the default one, whose requests time out after AttemptTimeout.
	HTTPClient *http.Client
	// AttemptTimeout bounds one attempt of a call, from connecting to the end of the answer
	// (default 30s): an endpoint that accepts the connection and never answers costs
	// MaxAttempts of it, then the call fails. It applies when HTTPClient is nil.
	AttemptTimeout time.Duration
	// MaxAttempts is the number of attempts per call, retries included (default 10).
	MaxAttempts int
	// MaxBackoff caps the delay between two attempts (default 20s).
	MaxBackoff time.Duration
	// Logger receives a debug line per call; at debug level it also gets the wire traffic.
	Logger *slog.Logger
	// OnCall, when set, is told about every API call once it has finished.
	OnCall func(CallRecord)
	// Limiter, when set, is waited on before every attempt of every call, so that several
	// migrations running in one process share one API budget.
	Limiter Limiter
	// CoalesceWindow, when positive, merges the lookups that waits poll with (instances and
	// clusters by resource id, DB and cluster snapshots by identifier) made in one region
	// within this window, and while the call waits on the Limiter, into one Describe call
	// filtered on all their identifiers. Zero makes one call per lookup.
	CoalesceWindow time.Duration
}

// Limiter is a client-side rate limiter, e.g. *rate.Limiter from golang.org/x/time/rate.
type Limiter interface {
	Wait(ctx context.Context) error
}

// DefaultCoalesceWindow is the CoalesceWindow of a batch: small against the seconds between
// two polls, long enough to gather the polls of a fleet.
const DefaultCoalesceWindow = 100 * time.Millisecond

// Defaults for Config fields left zero.
const (
	DefaultMaxAttempts    = 10
	DefaultMaxBackoff     = 20 * time.Second
	DefaultAttemptTimeout = 30 * time.Second
)

func (c Config) attemptTimeout() time.Duration {
	if c.AttemptTimeout > 0 {
		return c.AttemptTimeout
	}
	return DefaultAttemptTimeout
}

// httpClient is cfg.HTTPClient, or the SDK's default transport with a timeout per attempt.
func (c Config) httpClient() aws.HTTPClient {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return &http.Client{Transport: timedTransport{next: awshttp.NewBuildableClient().GetTransport(), timeout: c.attemptTimeout()}}
}

func (c Config) maxAttempts() int {
	if c.MaxAttempts > 0 {
		return c.MaxAttempts
	}
	return DefaultMaxAttempts
}

func (c Config) maxBackoff() time.Duration {
	if c.MaxBackoff > 0 {
		return c.MaxBackoff
	}
	return DefaultMaxBackoff
}

func (c Config) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.New(slog.DiscardHandler)
}
