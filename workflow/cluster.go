package workflow

import (
	"context"
	"errors"

	"github.com/rdsencrypt/rdsencrypt/awsclient"
)

var errClustersNotYet = errors.New("Aurora cluster migrations are not implemented yet")

// planCluster describes the migration of an Aurora cluster.
func (e *Engine) planCluster(ctx context.Context, api awsclient.RDS, req MigrateRequest) (*Plan, error) {
	return nil, errClustersNotYet
}

// migrateCluster runs a new migration of an Aurora cluster.
func (e *Engine) migrateCluster(ctx context.Context, api awsclient.RDS, req MigrateRequest) (*Report, error) {
	return nil, errClustersNotYet
}
