package workflow

import (
	"context"
	"errors"

	"github.com/rdsencrypt/rdsencrypt/internal/awsclient"
	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// The workflow says only what to wait for; awsclient's find/status/wait layer does the
// polling, the pending and target statuses, and the progress reports.

// waitInstance waits until the instance with this resource id (stable across renames) is
// available and done says so.
func (r *run) waitInstance(ctx context.Context, resourceID string, done func(*model.Instance) bool) (*model.Instance, error) {
	return r.waitInstanceIn(ctx, r.api, resourceID, done)
}

// waitInstanceIn is waitInstance in the region of api.
func (r *run) waitInstanceIn(ctx context.Context, api model.RDS, resourceID string, done func(*model.Instance) bool) (*model.Instance, error) {
	return until(ctx, r, awsclient.InstanceAvailable(api, resourceID, done))
}

func (r *run) waitInstanceGone(ctx context.Context, resourceID string) error {
	return r.waitInstanceGoneIn(ctx, r.api, resourceID)
}

func (r *run) waitInstanceGoneIn(ctx context.Context, api model.RDS, resourceID string) error {
	_, err := until(ctx, r, awsclient.InstanceDeleted(api, resourceID))
	return err
}

func (r *run) waitSnapshotAvailable(ctx context.Context, id string) (*model.Snapshot, error) {
	return until(ctx, r, awsclient.SnapshotAvailable(r.api, id))
}

func (r *run) waitSnapshotGone(ctx context.Context, id string) error {
	_, err := until(ctx, r, awsclient.SnapshotDeleted(r.api, id))
	return err
}

// waitCluster waits until the cluster with this resource id is available and done says so.
func (r *run) waitCluster(ctx context.Context, resourceID string, done func(*model.Cluster) bool) (*model.Cluster, error) {
	return until(ctx, r, awsclient.ClusterAvailable(r.api, resourceID, done))
}

func (r *run) waitClusterGone(ctx context.Context, resourceID string) error {
	_, err := until(ctx, r, awsclient.ClusterDeleted(r.api, resourceID))
	return err
}

func (r *run) waitClusterSnapshotAvailable(ctx context.Context, id string) (*model.Snapshot, error) {
	return until(ctx, r, awsclient.ClusterSnapshotAvailable(r.api, id))
}

func (r *run) waitClusterSnapshotGone(ctx context.Context, id string) error {
	_, err := until(ctx, r, awsclient.ClusterSnapshotDeleted(r.api, id))
	return err
}

// until runs a wait, reporting each change as step progress, and turns a status the wait
// cannot pass into an error that says what to run next.
func until[T any](ctx context.Context, r *run, w awsclient.Wait[T]) (T, error) {
	v, err := w.Until(ctx, r.watch())
	var se *awsclient.StatusError
	if errors.As(err, &se) && se.Status != awsclient.StatusGone {
		return v, errorf(se.ID, "rdsencrypt resume "+r.st.ID+" (it replaces what failed) or rdsencrypt rollback "+r.st.ID, err,
			"%s %s is %s", se.What, se.ID, se.Status)
	}
	return v, err
}

// watch is how this run's waits poll and report.
func (r *run) watch() awsclient.Watch {
	return awsclient.Watch{Poll: r.e.Poll, OnChange: func(o awsclient.Observed) {
		r.notify(Event{Kind: EventStepProgress, Resource: o.ID, Status: o.Status, Percent: o.Percent})
	}}
}
