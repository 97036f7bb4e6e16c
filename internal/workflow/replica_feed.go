package workflow

import (
	"context"
	"errors"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/replication"
)

// Read replicas under the replication strategy for MySQL and MariaDB (docs/replication.md#read-replicas):
// the new instance is a binlog replica of the source, and its own read replicas receive the
// stream's writes only through its binary log. Before its first replica is built the run checks
// that it logs them (replication.ReadReplicas.Cascades), and before a replica's rename pair it
// waits until the new replica has caught up with its parent, so that the name's readers do
// not move to a replica further behind than the one they leave.

// replicaFeed returns the engine's ReadReplicas and the new instance when this run builds
// binlog replicas of an instance that takes the stream; nil for the snapshot strategy and for
// PostgreSQL, whose physical standbys apply every change their primary applies.
func (r *run) replicaFeed(ctx context.Context) (replication.ReadReplicas, *model.Instance, error) {
	if r.st.Options.Strategy != StrategyReplication {
		return nil, nil, nil
	}
	t, err := r.target(ctx)
	if err != nil {
		return nil, nil, err
	}
	rr, _ := r.e.Replication[replication.Family(t.Settings.Engine)].(replication.ReadReplicas)
	if rr == nil {
		return nil, nil, nil
	}
	return rr, t, nil
}

// checkCascades stops the creation of the new instance's first replica when the new instance
// does not log the writes it applies from the stream: its replicas would miss them.
func (r *run) checkCascades(ctx context.Context, rc *replicaCtx) error {
	rr, t, err := r.replicaFeed(ctx)
	if rr == nil || err != nil {
		return err
	}
	ep, err := r.endpointOf(ctx, t)
	if err != nil {
		return err
	}
	why, err := rr.Cascades(ctx, ep)
	if err == nil && why != "" {
		return errorf(t.ID, "rdsencrypt rollback "+r.st.ID+", then rdsencrypt migrate --strategy snapshot", nil,
			"cannot recreate read replica %s from %s: %s", rc.rs.Subject(), t.ID, why)
	}
	if err != nil {
		return r.dbError(err, r.resumeOrRollback(), "cannot read the replication settings of %s", t.ID)
	}
	return nil
}

// waitReplicaCaughtUp waits until the new replica has applied what its parent (the new
// instance, or the new replica of its parent) has logged, within catchUpBytes. A replication
// that stopped is waited for up to Engine.StreamGrace, then stops the step, resumable.
func (r *run) waitReplicaCaughtUp(ctx context.Context, rc *replicaCtx) error {
	rr, t, err := r.replicaFeed(ctx)
	if rr == nil || err != nil {
		return err
	}
	inst, err := r.newReplica(ctx, rc)
	if err != nil {
		return err
	}
	parent, err := r.replicaParentInstance(ctx, rc)
	if err != nil {
		return err
	}
	pep, err := r.endpointLike(ctx, t, parent)
	if err != nil {
		return err
	}
	rep, err := r.endpointLike(ctx, t, inst)
	if err != nil {
		return err
	}
	var stoppedSince time.Time
	for {
		lag, err := rr.ReplicaLag(ctx, pep, rep)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			if stoppedSince.IsZero() {
				stoppedSince = r.e.now()
				r.log("read replica %s does not follow %s: %v; waiting up to %s for it to run again", inst.ID, parent.ID, err, r.e.streamGrace())
			}
			if r.e.now().Sub(stoppedSince) >= r.e.streamGrace() {
				next := r.resumeOrRollback()
				if errors.Is(err, replication.ErrStreamLost) {
					next = "rdsencrypt rollback " + r.st.ID + " (the replica cannot catch up without a gap)"
				}
				return r.dbError(err, next, "read replica %s stopped following %s and did not run again within %s", inst.ID, parent.ID, r.e.streamGrace())
			}
			r.notify(Event{Type: EventStepProgress, Resource: inst.ID, Status: "replication stopped", Percent: -1, Message: err.Error()})
		default:
			stoppedSince = time.Time{}
			r.notify(Event{Type: EventStepProgress, Resource: inst.ID, Status: "catching up with " + parent.ID, Percent: -1, Message: lagText(lag)})
			if caughtUp(lag) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// endpointLike reaches inst, a read replica in t's tree, with t's login: the replicas carry
// their primary's users and passwords (a password given to t later, by
// manage-master-password, reaches them by replication), and have no secret of their own.
func (r *run) endpointLike(ctx context.Context, t, inst *model.Instance) (replication.Endpoint, error) {
	db, err := r.replicationOf(ctx, t)
	if err != nil {
		return replication.Endpoint{}, err
	}
	if db.login.IsToken() { // a token is for one endpoint
		return r.endpointOf(ctx, inst)
	}
	return r.replEndpoint(inst, db.login), nil
}

// caughtUp is how close a replica must be before the cutover's next move: everything applied,
// or within catchUpBytes (catchUpSeconds for an engine that measures lag in time).
func caughtUp(lag replication.Lag) bool {
	return lag.Caught || (lag.Bytes >= 0 && lag.Bytes <= catchUpBytes) || (lag.Bytes < 0 && lag.Seconds <= catchUpSeconds)
}

// streamGrace is how long a wait on a replication stream rides out a stream that stopped.
func (e *Engine) streamGrace() time.Duration {
	if e.StreamGrace > 0 {
		return e.StreamGrace
	}
	return time.Minute
}
