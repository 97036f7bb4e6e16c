package workflow

import (
	"context"
	"errors"
	"fmt"
	"time"

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

// until runs a wait, reporting each change as step progress, and turns what ends it early
// into an error that says what to run next: a status the wait cannot pass fails the step; a
// wait far past the step's estimate stops the migration, resumable.
func until[T any](ctx context.Context, r *run, w awsclient.Wait[T]) (T, error) {
	v, err := w.Until(ctx, r.watch())
	var se *awsclient.StatusError
	if errors.As(err, &se) && se.Status != awsclient.StatusGone {
		return v, errorf(se.ID, "rdsencrypt resume "+r.st.ID+" (it replaces what failed) or rdsencrypt rollback "+r.st.ID, nil,
			"%s %s is %s", se.What, se.ID, se.Status)
	}
	var stuck *awsclient.StuckError
	if errors.As(err, &stuck) {
		return v, &Error{Resource: stuck.ID, Problem: stuck.Error(), Err: ErrStopped,
			Next: fmt.Sprintf("see why %s %s is %s (RDS console, events), then rdsencrypt resume %s (or rdsencrypt rollback %s)",
				stuck.What, stuck.ID, stuck.Status, r.st.ID, r.st.ID)}
	}
	return v, err
}

// expectation is how long the running step should take, and whether its waits pace
// themselves by it (those of its wait phase, which wait for the step's long operation).
type expectation struct {
	within time.Duration
	pace   bool
}

// expectStep sets the expectation of step s: for an instance's own steps, the plan's model
// (an incremental snapshot is expected in minutes, not at the size's full time), with the
// changes since the pre-copy counted from the journaled write rate and AWS times.
func (r *run) expectStep(s step) {
	var gib int32
	if r.src != nil {
		gib = r.src.Settings.AllocatedStorage
	}
	r.expect = expectation{within: s.estimate.at(gib)}
	if s.name == StepFreeze && r.st.Options.freezeMode() == FreezeEnforce {
		r.expect.within = enforceEstimate // enforce.go: modify, reboot, a minute of metrics
	}
	if r.st.Kind != KindInstance || r.subject != "" || r.src == nil {
		return
	}
	m := estimateModel{src: r.src, precopy: r.st.Options.Precopy, freeze: r.st.Options.freezeMode(),
		modifies: modifyParts(r.src, plannedInstanceSettings(r.src))}
	if rate := r.st.WriteGiBPerHour; rate != nil && !r.st.PrecopyAt.IsZero() && r.st.FreezeAt.After(r.st.PrecopyAt) {
		m.changedGiB = *rate * r.st.FreezeAt.Sub(r.st.PrecopyAt).Hours()
	}
	r.expect.within = m.of(s)
}

// paceBy makes the next waits of a step that waits for several operations in turn (inside
// its apply) expect one that takes d, and pace their polls by it; the returned function puts
// the step's own expectation back.
func (r *run) paceBy(d time.Duration) (restore func()) {
	prev := r.expect
	r.expect = expectation{within: d, pace: true}
	return func() { r.expect = prev }
}

// watch is how this run's waits poll and report. Each wait is measured from its own start on
// AWS's clock against the running step's estimate (none outside steps): a step that waits for
// several operations in turn gives each the whole estimate.
func (r *run) watch() awsclient.Watch {
	return awsclient.Watch{Poll: r.e.Poll, Clock: r.awsNow, Expect: r.expect.within, Pace: r.expect.pace,
		OnChange: func(o awsclient.Observed) {
			r.notify(Event{Type: EventStepProgress, Resource: o.ID, Status: o.Status, Percent: o.Percent})
		},
		OnStill: func(s awsclient.Still) { r.log("%s", s) },
	}
}
