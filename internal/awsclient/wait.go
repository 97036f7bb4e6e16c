package awsclient

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// A Wait polls one resource until it reaches a Target status, in the manner of the
// Terraform AWS provider's find/status/wait: the find function says NotFound, the status
// function turns that into StatusGone, and the wait declares which statuses keep it going
// (Pending) and which end it (Target). Any other status ends it with a *StatusError: waiting
// longer cannot reach the target from there.
type Wait[T any] struct {
	What    string        // "DB instance", "DB snapshot", ...
	ID      string        // the identifier the wait is given (a resource id for instances and clusters)
	Status  StatusFunc[T] // reads the resource
	Pending []string      // statuses that keep the wait going
	Target  []string      // statuses that end it
	// Ready, if set, must also hold in a Target status (a new name, nothing pending); until it
	// does, the wait goes on. It sees the zero value when the target is StatusGone.
	Ready   func(T) bool
	observe func(T) Observed
}

// Watch is the caller's side of a wait: how often to look, whom to tell, when to give up.
type Watch struct {
	Poll PollOptions
	// OnChange, if set, sees the resource first and at every change of identifier, status or
	// progress.
	OnChange func(Observed)
	// Clock reads AWS time (the adapter's ServerTime); nil means local time. Waits are
	// measured on it, so that they agree with the estimates and with the simulator.
	Clock func() time.Time
	// Expect is how long the operation should take from the start of the wait (the step's
	// estimate); zero when unknown. Past it, OnStill is told at growing intervals, and past GiveUpAfter(Expect)
	// the wait ends with a *StuckError.
	Expect time.Duration
	// OnStill, if set, hears that the wait goes on longer than expected.
	OnStill func(Still)
	// Pace, with an Expect, polls sparsely until near the expected end and closely around
	// it, instead of backing off from Poll.Min (see expectedEnd). It suits the wait of a
	// step's long operation, not a wait expected to end at once.
	Pace bool
}

// Still is a wait that goes on longer than expected.
type Still struct {
	What   string
	ID     string // identifier now
	Target []string
	Status string // status now
	Waited time.Duration
}

func (s Still) String() string {
	return fmt.Sprintf("still waiting for %s %s to be %s (now %s, %d min)", s.What, s.ID, strings.Join(s.Target, " or "),
		s.Status, int(s.Waited.Minutes()))
}

// StuckError ends a wait that went on past GiveUpAfter of its expectation.
type StuckError struct {
	Still
	Expect time.Duration
}

func (e *StuckError) Error() string {
	expect := "no estimate"
	if e.Expect > 0 {
		expect = fmt.Sprintf("expected about %d min", int(e.Expect.Round(time.Minute).Minutes()))
	}
	return fmt.Sprintf("%s %s is still %s after %d min of waiting for %s (%s)", e.What, e.ID, e.Status,
		int(e.Waited.Minutes()), strings.Join(e.Target, " or "), expect)
}

// DefaultGiveUp is how long a wait without an expectation goes on.
const DefaultGiveUp = 24 * time.Hour

// GiveUpAfter is how long a wait expected to take expect goes on before it gives up: four
// times the expectation, and at least an hour more than it. Estimates are rough; a wait
// that gives up leaves the migration resumable.
func GiveUpAfter(expect time.Duration) time.Duration {
	if expect <= 0 {
		return DefaultGiveUp
	}
	return max(4*expect, expect+time.Hour)
}

// firstStill is when a wait first reports it is still waiting.
func firstStill(expect time.Duration) time.Duration {
	if expect <= 0 {
		return 10 * time.Minute
	}
	return expect
}

// StatusError says a resource reached a status from which waiting longer cannot reach the
// wait's target.
type StatusError struct {
	What       string // "DB instance", "DB snapshot", ...
	ID         string // identifier now (the resource id when it is gone)
	ResourceID string
	Status     string
	Target     []string
}

func (e *StatusError) Error() string {
	id := e.ID
	if e.ResourceID != "" && e.ResourceID != e.ID {
		id = fmt.Sprintf("%s (%s)", e.ID, e.ResourceID)
	}
	if e.Status == StatusGone {
		return fmt.Sprintf("%s %s no longer exists", e.What, id)
	}
	return fmt.Sprintf("%s %s is %s, which does not lead to %s", e.What, id, e.Status, strings.Join(e.Target, " or "))
}

// Unwrap makes a resource that vanished during a wait KindNotFound.
func (e *StatusError) Unwrap() error {
	if e.Status == StatusGone {
		return &model.Error{Failure: model.FailureNotFound, Op: "wait", Resource: e.ID, Message: e.What + " not found"}
	}
	return nil
}

// Until polls until the resource reaches a target status where Ready holds, and returns it
// as last seen. A status outside Pending and Target ends the wait with a *StatusError; an
// error reading it, or the end of ctx, ends it with that error.
func (w Wait[T]) Until(ctx context.Context, watch Watch) (T, error) {
	var zero T
	clock := watch.Clock
	if clock == nil {
		clock = time.Now
	}
	// The wait starts at its first answer: AWS's clock is read fresh from it.
	var since time.Time
	var told bool // OnStill heard at least once
	limit := GiveUpAfter(watch.Expect)
	nextStill, stillStep := firstStill(watch.Expect), max(firstStill(watch.Expect)/2, time.Minute)
	p := poller[T]{
		fetch: func(ctx context.Context) (T, error) {
			v, status, err := w.Status(ctx)
			if err != nil {
				return zero, err
			}
			return w.checked(v, status)
		},
		check: func(v T) (bool, error) {
			if w.reached(v) {
				return true, nil
			}
			if since.IsZero() {
				since = clock()
			}
			waited := clock().Sub(since)
			if waited < nextStill {
				return false, nil
			}
			o := w.observed(v)
			still := Still{What: w.What, ID: o.ID, Target: w.Target, Status: o.Status, Waited: waited}
			// A wait gives up only after it said it is still waiting, and one more poll: a
			// clock that jumped past the limit between two polls (a suspended laptop, a
			// stalled process) gets one more look at the resource before the wait ends.
			if waited >= limit && told {
				return false, &StuckError{Still: still, Expect: watch.Expect}
			}
			if watch.OnStill != nil {
				watch.OnStill(still)
			}
			told = true
			for nextStill <= waited {
				nextStill, stillStep = nextStill+stillStep, 2*stillStep
			}
			nextStill = min(nextStill, limit)
			return false, nil
		},
		pace:  backoff(watch.Poll.normalized()),
		sleep: sleep,
	}
	var toward *expectedEnd
	if watch.Pace && watch.Expect > 0 {
		toward = newExpectedEnd(watch.Poll.normalized(), clock, watch.Expect)
		p.pace = toward.next
	}
	p.onChange = func(v T) {
		o := w.observed(v)
		if toward != nil {
			toward.observe(o)
		}
		if watch.OnChange != nil {
			watch.OnChange(o)
		}
	}
	return p.run(ctx)
}

// checked returns v, or a *StatusError when its status is neither pending nor a target.
func (w Wait[T]) checked(v T, status string) (T, error) {
	if slices.Contains(w.Pending, status) || slices.Contains(w.Target, status) {
		return v, nil
	}
	e := &StatusError{What: w.What, ID: w.ID, Status: status, Target: w.Target}
	if status != StatusGone {
		e.ID = w.observed(v).ID
		if e.ID != w.ID {
			e.ResourceID = w.ID
		}
	}
	return v, e
}

func (w Wait[T]) reached(v T) bool {
	if !slices.Contains(w.Target, w.observed(v).Status) {
		return false
	}
	return w.Ready == nil || w.Ready(v)
}

// observed reports v; a zero v (the resource is gone) is StatusGone.
func (w Wait[T]) observed(v T) Observed {
	if isZero(v) {
		return Observed{ID: w.ID, Status: StatusGone, Percent: -1}
	}
	return w.observe(v)
}

func isZero[T any](v T) bool {
	var zero T
	return any(v) == any(zero)
}

// Statuses, from the RDS user guide ("Viewing Amazon RDS DB instance status", "Viewing the
// status of an Aurora DB cluster") and the API reference (DBClusterEndpoint.Status,
// DBSnapshot.Status, where DescribeDBClusterEndpoints lists available, creating, deleting,
// inactive and modifying).
var (
	// instanceMoving are the instance statuses that pass on their own towards available.
	instanceMoving = []string{"backing-up", "backtracking", "configuring-enhanced-monitoring",
		"configuring-iam-database-auth", "configuring-log-exports", "converting-to-vpc", "creating", "maintenance",
		"modifying", "moving-to-vpc", "rebooting", "renaming", "resetting-master-credentials", "starting",
		"storage-config-upgrade", "storage-initialization", "storage-optimization", "upgrading"}
	// instanceAny is every instance status: a deletion waits through whichever it meets.
	instanceAny = slices.Concat(instanceMoving, []string{"available", "delete-precheck", "deleting", "failed",
		"inaccessible-encryption-credentials", "inaccessible-encryption-credentials-recoverable", "incompatible-create",
		"incompatible-network", "incompatible-option-group", "incompatible-parameters", "incompatible-restore",
		"insufficient-capacity", "restore-error", "stopped", "stopping", "storage-full"})

	clusterMoving = []string{"backing-up", "backtracking", "creating", "failing-over", "maintenance", "migrating",
		"modifying", "preparing-data-migration", "promoting", "rebooting", "renaming", "resetting-master-credentials",
		"scaling-compute", "scaling-storage", "starting", "upgrading"}
	clusterAny = slices.Concat(clusterMoving, []string{"available", "deleting", "failed",
		"inaccessible-encryption-credentials", "incompatible-parameters", "incompatible-restore", "stopped", "stopping"})

	snapshotMoving = []string{model.SnapshotCreating, model.SnapshotPending, model.SnapshotCopying}
	snapshotAny    = slices.Concat(snapshotMoving, []string{model.SnapshotAvailable, model.SnapshotDeleting, model.SnapshotFailed})

	endpointMoving = []string{model.EndpointCreating, "modifying"}
	endpointAny    = slices.Concat(endpointMoving, []string{model.EndpointAvailable, model.EndpointDeleting, "inactive"})
)

// InstanceAvailable waits for the instance with this DbiResourceId to be available and ready
// (nil: available is enough).
func InstanceAvailable(api model.RDS, resourceID string, ready func(*model.Instance) bool) Wait[*model.Instance] {
	return Wait[*model.Instance]{What: "DB instance", ID: resourceID, Status: InstanceStatus(api, resourceID),
		Pending: instanceMoving, Target: []string{model.InstanceAvailable}, Ready: ready, observe: observeInstance}
}

// InstanceRenamed waits until the instance with this DbiResourceId answers to newID, in any
// status on the way to available: right after a rename takes effect the instance is still
// renaming and rebooting for minutes, but its old identifier is already free.
func InstanceRenamed(api model.RDS, resourceID, newID string) Wait[*model.Instance] {
	return Wait[*model.Instance]{What: "DB instance", ID: resourceID, Status: InstanceStatus(api, resourceID),
		Pending: instanceMoving, Target: append([]string{model.InstanceAvailable}, instanceMoving...),
		Ready: func(i *model.Instance) bool { return i != nil && i.ID == newID }, observe: observeInstance}
}

// InstanceDeleted waits until no instance has this DbiResourceId.
func InstanceDeleted(api model.RDS, resourceID string) Wait[*model.Instance] {
	return Wait[*model.Instance]{What: "DB instance", ID: resourceID, Status: InstanceStatus(api, resourceID),
		Pending: instanceAny, Target: []string{StatusGone}, observe: observeInstance}
}

// ClusterAvailable waits for the cluster with this DbClusterResourceId to be available and
// ready (nil: available is enough).
func ClusterAvailable(api model.RDS, resourceID string, ready func(*model.Cluster) bool) Wait[*model.Cluster] {
	return Wait[*model.Cluster]{What: "DB cluster", ID: resourceID, Status: ClusterStatus(api, resourceID),
		Pending: clusterMoving, Target: []string{model.ClusterAvailable}, Ready: ready, observe: observeCluster}
}

// ClusterDeleted waits until no cluster has this DbClusterResourceId.
func ClusterDeleted(api model.RDS, resourceID string) Wait[*model.Cluster] {
	return Wait[*model.Cluster]{What: "DB cluster", ID: resourceID, Status: ClusterStatus(api, resourceID),
		Pending: clusterAny, Target: []string{StatusGone}, observe: observeCluster}
}

// SnapshotAvailable waits for a DB snapshot to be available.
func SnapshotAvailable(api model.RDS, id string) Wait[*model.Snapshot] {
	return Wait[*model.Snapshot]{What: "DB snapshot", ID: id, Status: SnapshotStatus(api, id),
		Pending: snapshotMoving, Target: []string{model.SnapshotAvailable}, observe: observeSnapshot}
}

// SnapshotDeleted waits until the DB snapshot no longer exists.
func SnapshotDeleted(api model.RDS, id string) Wait[*model.Snapshot] {
	return Wait[*model.Snapshot]{What: "DB snapshot", ID: id, Status: SnapshotStatus(api, id),
		Pending: snapshotAny, Target: []string{StatusGone}, observe: observeSnapshot}
}

// ClusterSnapshotAvailable waits for a DB cluster snapshot to be available.
func ClusterSnapshotAvailable(api model.RDS, id string) Wait[*model.Snapshot] {
	return Wait[*model.Snapshot]{What: "DB cluster snapshot", ID: id, Status: ClusterSnapshotStatus(api, id),
		Pending: snapshotMoving, Target: []string{model.SnapshotAvailable}, observe: observeSnapshot}
}

// ClusterSnapshotDeleted waits until the DB cluster snapshot no longer exists.
func ClusterSnapshotDeleted(api model.RDS, id string) Wait[*model.Snapshot] {
	return Wait[*model.Snapshot]{What: "DB cluster snapshot", ID: id, Status: ClusterSnapshotStatus(api, id),
		Pending: snapshotAny, Target: []string{StatusGone}, observe: observeSnapshot}
}

// ClusterEndpointAvailable waits for a custom endpoint of the cluster with resource id
// clusterRID to be available and ready (nil: available is enough).
func ClusterEndpointAvailable(api model.RDS, clusterRID, id string, ready func(*model.ClusterEndpoint) bool) Wait[*model.ClusterEndpoint] {
	return Wait[*model.ClusterEndpoint]{What: "DB cluster endpoint", ID: model.NormalizeID(id), Status: ClusterEndpointStatus(api, clusterRID, id),
		Pending: endpointMoving, Target: []string{model.EndpointAvailable}, Ready: ready, observe: observeClusterEndpoint}
}

// ClusterEndpointSettled waits for a custom endpoint to be available, or gone if it is
// being deleted.
func ClusterEndpointSettled(api model.RDS, clusterRID, id string) Wait[*model.ClusterEndpoint] {
	return Wait[*model.ClusterEndpoint]{What: "DB cluster endpoint", ID: model.NormalizeID(id), Status: ClusterEndpointStatus(api, clusterRID, id),
		Pending: slices.Concat(endpointMoving, []string{model.EndpointDeleting}), Target: []string{model.EndpointAvailable, StatusGone},
		observe: observeClusterEndpoint}
}

// ClusterEndpointDeleted waits until the custom endpoint no longer exists.
func ClusterEndpointDeleted(api model.RDS, clusterRID, id string) Wait[*model.ClusterEndpoint] {
	return Wait[*model.ClusterEndpoint]{What: "DB cluster endpoint", ID: model.NormalizeID(id), Status: ClusterEndpointStatus(api, clusterRID, id),
		Pending: endpointAny, Target: []string{StatusGone}, observe: observeClusterEndpoint}
}
