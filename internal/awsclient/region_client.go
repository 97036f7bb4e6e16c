package awsclient

import (
	"context"
	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/rds"
)

// regionClient implements RDS for one region with the SDK's rds and kms clients.
type regionClient struct {
	region string
	rds    *rds.Client
	kms    *kms.Client
	clock  *serverClock
	// lookups coalesces the lookups of concurrent callers; nil unless Config.CoalesceWindow.
	lookups *lookups
}

var _ model.RDS = (*regionClient)(nil)

func (c *regionClient) Region() string { return c.region }

func (c *regionClient) ServerTime() time.Time { return c.clock.now() }

// begin normalizes the identifier a call is about and labels the context with it for the
// call recorder.
func begin(ctx context.Context, id string) (context.Context, string) {
	id = model.NormalizeID(id)
	return withTarget(ctx, id), id
}

// notFound is the error for a Describe that matched nothing without AWS saying NotFound
// (filters return an empty list).
func notFound(op, resource, what string) error {
	return &model.Error{Failure: model.FailureNotFound, Op: op, Resource: resource, Message: what + " not found"}
}

// isCrossRegion reports whether sourceRegion names a region other than this client's.
func (c *regionClient) isCrossRegion(sourceRegion string) bool {
	return sourceRegion != "" && !strings.EqualFold(sourceRegion, c.region)
}
