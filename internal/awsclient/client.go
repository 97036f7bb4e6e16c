package awsclient

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// Client holds the AWS configuration and hands out region-scoped RDS implementations.
type Client struct {
	aws   aws.Config
	cfg   Config
	clock *serverClock

	mu      sync.Mutex
	regions map[string]*regionClient
}

// New loads the default AWS configuration (environment, shared config and credentials
// files, SSO, instance roles...) for cfg.Profile and cfg.Region.
func New(ctx context.Context, cfg Config) (*Client, error) {
	var opts []func(*config.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(cfg.Profile))
	}
	if cfg.HTTPClient != nil {
		opts = append(opts, config.WithHTTPClient(cfg.HTTPClient))
	}
	// The SDK's own log lines (such as its IMDS fallback warning) would reach the terminal
	// around the one-line errors; --debug has the wire log instead.
	opts = append(opts, config.WithLogger(logging.Nop{}))
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration (profile %q): %w", cfg.Profile, err)
	}
	return NewFromAWSConfig(awsCfg, cfg), nil
}

// NewFromAWSConfig builds a Client from a ready aws.Config, e.g. one with static
// credentials pointed at the simulator. cfg.Region, when set, overrides awsCfg.Region;
// the retry, logging, recording and limiting settings of cfg always apply.
func NewFromAWSConfig(awsCfg aws.Config, cfg Config) *Client {
	awsCfg = awsCfg.Copy()
	if cfg.Region != "" {
		awsCfg.Region = cfg.Region
	}
	awsCfg.HTTPClient = cfg.httpClient()
	awsCfg.Retryer = func() aws.Retryer { return newRetryer(cfg) }
	awsCfg.RetryMaxAttempts = 0
	return &Client{aws: awsCfg, cfg: cfg, clock: &serverClock{}, regions: map[string]*regionClient{}}
}

// Region is the default region: the one New resolved.
func (c *Client) Region() string { return c.aws.Region }

// Default is the RDS implementation for the default region.
func (c *Client) Default() model.RDS { return c.For(c.aws.Region) }

// For returns the RDS implementation for a region ("" means the default region).
// Implementations are cached, so calling For repeatedly is cheap.
func (c *Client) For(region string) model.RDS {
	region = strings.ToLower(strings.TrimSpace(region))
	if region == "" {
		region = c.aws.Region
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if rc, ok := c.regions[region]; ok {
		return rc
	}
	rc := c.newRegionClient(region)
	c.regions[region] = rc
	return rc
}

// ServerTime is AWS's time according to the latest response seen in any region.
func (c *Client) ServerTime() time.Time { return c.clock.now() }

func (c *Client) newRegionClient(region string) *regionClient {
	apiOptions := c.middlewares(region)
	rdsClient := rds.NewFromConfig(c.aws, func(o *rds.Options) {
		o.Region = region
		o.APIOptions = append(o.APIOptions, apiOptions...)
		if c.cfg.EndpointURL != "" {
			o.BaseEndpoint = aws.String(c.cfg.EndpointURL)
		}
	})
	kmsClient := kms.NewFromConfig(c.aws, func(o *kms.Options) {
		o.Region = region
		o.APIOptions = append(o.APIOptions, apiOptions...)
		if c.cfg.EndpointURL != "" {
			o.BaseEndpoint = aws.String(c.cfg.EndpointURL)
		}
	})
	rc := &regionClient{region: region, rds: rdsClient, kms: kmsClient, clock: c.clock}
	rc.lookups = newLookups(rc, c.cfg)
	return rc
}

// middlewares are added to every RDS and KMS call of a region.
func (c *Client) middlewares(region string) []func(*middleware.Stack) error {
	logger := c.cfg.logger()
	fns := []func(*middleware.Stack) error{
		addCallRecorder(region, c.clock, logger, c.cfg.OnCall),
	}
	if c.cfg.Limiter != nil {
		fns = append(fns, addLimiter(c.cfg.Limiter))
	}
	fns = append(fns, addWireLogger(logger), GuardRequestBody)
	return fns
}
