package awsclient

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/model"

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
// onlyOne is the one resource a lookup by identifier or resource id found. None is
// KindNotFound; more than one is an error, never the first of them: acting on a resource
// picked at random could touch one that is not ours.
func onlyOne[R any](op, resource, what string, found []R) (*R, error) {
	switch len(found) {
	case 0:
		return nil, notFound(op, resource, what)
	case 1:
		return &found[0], nil
	}
	return nil, tooMany(op, resource, what, len(found))
}

func tooMany(op, resource, what string, n int) error {
	return &model.Error{Op: op, Resource: resource,
		Message: fmt.Sprintf("%d resources answer to %s %s; expected one", n, what, resource)}
}

func notFound(op, resource, what string) error {
	return &model.Error{Failure: model.FailureNotFound, Op: op, Resource: resource, Message: what + " not found"}
}

// emptyAnswer is the error of a describe by identifier that AWS answered with success and no
// resource. AWS says a resource named this way does not exist with an error (DBInstanceNotFound,
// DBClusterNotFoundFault, DBSnapshotNotFound, DBClusterSnapshotNotFoundFault), never with an
// empty list, so an empty answer (a proxy, a truncated body) is not taken as "not found": the
// workflow would then create or skip things on a false premise.
func emptyAnswer(op, resource, what string) error {
	return &model.Error{Failure: model.FailureUnknown, Op: op, Resource: resource,
		Message: "AWS answered with success but no " + what + " and no error; not taken as \"not found\""}
}

// isCrossRegion reports whether sourceRegion names a region other than this client's.
func (c *regionClient) isCrossRegion(sourceRegion string) bool {
	return sourceRegion != "" && !strings.EqualFold(sourceRegion, c.region)
}
