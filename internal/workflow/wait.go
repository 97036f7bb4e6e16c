package workflow

import (
	"context"
	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"strconv"

	"github.com/rdsencrypt/rdsencrypt/internal/awsclient"
)

// waitInstance polls an instance by its resource id (stable across renames) until done says
// so, reporting each status change as progress. A failure status ends the wait with an error.
func (r *run) waitInstance(ctx context.Context, resourceID string, done func(*model.Instance) bool) (*model.Instance, error) {
	return r.waitInstanceIn(ctx, r.api, resourceID, done)
}

// waitInstanceIn is waitInstance in the region of api.
func (r *run) waitInstanceIn(ctx context.Context, api model.RDS, resourceID string, done func(*model.Instance) bool) (*model.Instance, error) {
	var last string
	return awsclient.Poll(ctx, r.e.Poll,
		func(ctx context.Context) (*model.Instance, error) {
			return api.DescribeInstanceByResourceID(ctx, resourceID)
		},
		func(i *model.Instance) (bool, error) {
			if model.IsInstanceFailed(i.Status) {
				return false, errorf(i.ID, "rdsencrypt resume "+r.st.ID+" (it replaces what failed) or rdsencrypt rollback "+r.st.ID, nil,
					"DB instance %s is %s", i.ID, i.Status)
			}
			return done(i), nil
		},
		func(i *model.Instance) {
			if key := i.ID + "/" + i.Status; key != last {
				last = key
				pct, err := strconv.Atoi(i.PercentProgress)
				if err != nil {
					pct = -1
				}
				r.notify(Event{Kind: EventStepProgress, Resource: i.ID, Status: i.Status, Percent: pct})
			}
		})
}

func (r *run) waitSnapshotAvailable(ctx context.Context, id string) (*model.Snapshot, error) {
	return r.waitSnapshotAvailableBy(ctx, id, "DB snapshot", r.api.DescribeSnapshot)
}

func (r *run) waitSnapshotGone(ctx context.Context, id string) error {
	return r.waitSnapshotGoneBy(ctx, id, r.api.DescribeSnapshot)
}

// waitSnapshotAvailableBy polls a DB or cluster snapshot (kind names which in the error)
// through describe until it is available, reporting its progress.
func (r *run) waitSnapshotAvailableBy(ctx context.Context, id, kind string,
	describe func(context.Context, string) (*model.Snapshot, error),
) (*model.Snapshot, error) {
	return awsclient.Poll(ctx, r.e.Poll,
		func(ctx context.Context) (*model.Snapshot, error) { return describe(ctx, id) },
		func(s *model.Snapshot) (bool, error) {
			if model.IsSnapshotFailed(s.Status) {
				return false, errorf(id, "rdsencrypt resume "+r.st.ID+" (it takes the snapshot again) or rdsencrypt rollback "+r.st.ID, nil,
					"%s %s ended %s", kind, id, s.Status)
			}
			return s.Status == model.SnapshotAvailable, nil
		},
		func(s *model.Snapshot) {
			r.notify(Event{Kind: EventStepProgress, Resource: id, Status: s.Status, Percent: int(s.PercentProgress)})
		})
}

// waitSnapshotGoneBy polls a DB or cluster snapshot through describe until it is not found.
func (r *run) waitSnapshotGoneBy(ctx context.Context, id string, describe func(context.Context, string) (*model.Snapshot, error)) error {
	_, err := awsclient.Poll(ctx, r.e.Poll,
		func(ctx context.Context) (bool, error) {
			_, err := describe(ctx, id)
			if model.IsNotFound(err) {
				return true, nil
			}
			return false, err
		},
		func(gone bool) (bool, error) { return gone, nil },
		nil)
	return err
}

func (r *run) waitInstanceGone(ctx context.Context, resourceID string) error {
	return r.waitInstanceGoneIn(ctx, r.api, resourceID)
}

func (r *run) waitInstanceGoneIn(ctx context.Context, api model.RDS, resourceID string) error {
	_, err := awsclient.Poll(ctx, r.e.Poll,
		func(ctx context.Context) (*model.Instance, error) {
			i, err := api.DescribeInstanceByResourceID(ctx, resourceID)
			if model.IsNotFound(err) {
				return nil, nil
			}
			return i, err
		},
		func(i *model.Instance) (bool, error) { return i == nil, nil },
		func(i *model.Instance) {
			if i != nil {
				r.notify(Event{Kind: EventStepProgress, Resource: i.ID, Status: i.Status, Percent: -1})
			}
		})
	return err
}
