package fleet

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/workflow"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/redact"
)

// A batch encrypts many databases unattended: it selects the unencrypted instances and
// clusters of some regions, plans each, then runs the migrations concurrently. Each
// migration is an ordinary one, with its own journal and lock, so any one can later be
// resumed, rolled back or inspected alone; one failing never stops the others. The API
// budget is shared through the awsclient.Client's Limiter, which every engine uses.

// Cutover policies of a batch.
const (
	CutoverAuto   = "auto"   // run every step, cutover included (a maintenance window)
	CutoverManual = "manual" // prepare everything, stop before each cutover; finish with resume
)

// Outcomes of one migration of a batch.
const (
	OutcomeCompleted       = "completed"
	OutcomeFailed          = "failed"
	OutcomeSkipped         = "skipped"
	OutcomeStopped         = "stopped"          // stopped between steps: parity to review, or interrupted
	OutcomeAwaitingCutover = "awaiting-cutover" // manual cutover: prepared, stopped before the cutover
)

// BatchRequest says what a batch migrates and how.
type BatchRequest struct {
	Regions []string
	// KmsKey is the key of every region without its own in RegionKeys.
	KmsKey     string
	RegionKeys map[string]string
	Selection  Selection
	// Concurrency is how many migrations run at once (default 4).
	Concurrency int
	Cutover     string // CutoverAuto or CutoverManual
	Options     workflow.RunOptions
	// Acknowledge lists what the operator acknowledged for the whole batch (workflow.AckIAMAuth);
	// a migration that needs another is refused at its preflight, before any side effect.
	Acknowledge []string
}

func (r BatchRequest) keyFor(region string) string {
	if k := r.RegionKeys[region]; k != "" {
		return k
	}
	return r.KmsKey
}

func (r BatchRequest) concurrency() int {
	if r.Concurrency > 0 {
		return r.Concurrency
	}
	return 4
}

// BatchItem is one selected database: planned, or skipped with the reason.
type BatchItem struct {
	Kind   string `json:"kind"`
	Region string `json:"region"`
	Source string `json:"source"`
	// Plan is the migration's plan; nil when skipped.
	Plan *workflow.Plan `json:"plan,omitempty"`
	// Skip is why the database is left out; empty when it will be migrated.
	Skip string `json:"skip,omitempty"`
	// Next is what to do about a skipped database, if anything.
	Next string `json:"next,omitempty"`
	// PlanFailed says the database is left out because its plan failed (a key that cannot
	// be described, a missing permission): a failure of the batch, not a choice.
	PlanFailed bool `json:"plan_failed,omitempty"`
}

// BatchPlan is what a batch will do, computed with read-only calls.
type BatchPlan struct {
	Request BatchRequest `json:"-"`
	Items   []BatchItem  `json:"items"`
	// AlreadyEncrypted counts selected databases that are encrypted already.
	AlreadyEncrypted int `json:"already_encrypted"`
	// NotSelected counts databases left out by --include and --exclude.
	NotSelected int `json:"not_selected"`
	// Errors are regions that could not be listed.
	Errors []string `json:"errors,omitempty"`
	// Warnings are things to settle before the batch runs, such as AWS quotas it would hit.
	Warnings []string `json:"warnings,omitempty"`
}

// PlanFailures are the items whose plan failed.
func (p *BatchPlan) PlanFailures() []BatchItem {
	var out []BatchItem
	for _, it := range p.Items {
		if it.PlanFailed {
			out = append(out, it)
		}
	}
	return out
}

// Planned returns how many items will be migrated.
func (p *BatchPlan) Planned() int {
	n := 0
	for _, it := range p.Items {
		if it.Skip == "" {
			n++
		}
	}
	return n
}

// BatchMigration is one migration of a batch: its report (flattened in JSON) plus how it
// ended within the batch.
type BatchMigration struct {
	workflow.Report
	Outcome string `json:"outcome"`
	// Reason explains a skip, a stop or a failure in one line.
	Reason     string     `json:"reason,omitempty"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	// ElapsedSeconds is the local time the migration took in this batch.
	ElapsedSeconds float64 `json:"elapsed_seconds"`
}

// BatchSummary counts the outcomes of a batch.
type BatchSummary struct {
	Completed       int     `json:"completed"`
	Failed          int     `json:"failed"`
	Skipped         int     `json:"skipped"`
	Stopped         int     `json:"stopped"`
	AwaitingCutover int     `json:"awaiting_cutover"`
	APICalls        int     `json:"api_calls"`
	ElapsedSeconds  float64 `json:"elapsed_seconds"`
}

// BatchReport is the outcome of a batch: `{"migrations": [...], "summary": {...}}`.
type BatchReport struct {
	Migrations []BatchMigration `json:"migrations"`
	Summary    BatchSummary     `json:"summary"`
}

// Event is a change of state of one migration of a batch, for progress displays.
type Event struct {
	Time   time.Time
	Index  int // position in BatchPlan.Items
	Kind   string
	Region string
	Source string
	// MigrationID is known once the migration has started.
	MigrationID string
	// State is running, or an outcome once the migration has ended.
	State string
	Step  string // the step running, or the step it ended at
	// Calls counts the AWS calls of the migration so far.
	Calls   int
	Message string
}

// Observer receives fleet events; it is called from every worker, so it must be safe
// for concurrent use and quick.
type Observer interface {
	FleetUpdate(Event)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(Event)

// FleetUpdate calls f(e).
func (f ObserverFunc) FleetUpdate(e Event) { f(e) }

// Batch selects, plans and runs the migrations of a fleet.
type Batch struct {
	// Base is copied for every migration; its Approver is replaced by the cutover policy and
	// its Observer, when set, still receives every event of every migration.
	Base  workflow.Engine
	Fleet Observer
	// IDFor, when set, fixes the migration id of an item (tests).
	IDFor func(BatchItem) string
}

// CutoverApprover is the approver of an unattended migration: it approves every step,
// except that parity differences always stop before cutover (as AutoApprove does), and that
// with the manual policy it stops before the first cutover step, leaving the migration
// paused and resumable.
func CutoverApprover(policy string) workflow.Approver {
	return workflow.ApproverFunc(func(_ context.Context, a workflow.Approval) (workflow.Decision, error) {
		if len(a.Differences) > 0 {
			return workflow.Quit, nil
		}
		if policy == CutoverManual && workflow.ManualCutoverStop(a) {
			return workflow.Quit, nil
		}
		return workflow.Approve, nil
	})
}

// acknowledging is a batch approver: it approves without asking, so it says which
// acknowledgements the operator gave (workflow.Acknowledger).
type acknowledging struct {
	workflow.Approver
	acks []string
}

func (a acknowledging) Acknowledges(what string) bool { return slices.Contains(a.acks, what) }

// Plan lists the regions, selects the unencrypted databases and plans each migration. It
// makes read-only calls only.
func (b *Batch) Plan(ctx context.Context, req BatchRequest) (*BatchPlan, error) {
	if req.Cutover != CutoverAuto && req.Cutover != CutoverManual {
		return nil, fmt.Errorf("cutover policy %q: use auto or manual", req.Cutover)
	}
	bp := &BatchPlan{Request: req, Items: []BatchItem{}}
	active, retired, err := b.journaled()
	if err != nil {
		return nil, err
	}
	existing := map[string]int{}
	for _, region := range req.Regions {
		f, err := listRegion(ctx, &b.Base, region)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			bp.Errors = append(bp.Errors, redact.String(err.Error()))
			continue
		}
		existing[region] = len(f.instances)
		for _, inst := range f.instances {
			if inst.ClusterID != "" {
				continue // migrated with its cluster
			}
			bp.consider(workflow.KindInstance, region, inst.ID, inst.Tags, inst.Settings.StorageEncrypted, inst.ReplicaSource, active, retired)
		}
		for _, c := range f.clusters {
			bp.consider(workflow.KindCluster, region, c.ID, c.Tags, c.Settings.StorageEncrypted, c.ReplicationSource, active, retired)
		}
	}
	slices.SortStableFunc(bp.Items, func(a, b BatchItem) int {
		return strings.Compare(a.Region+"\x00"+a.Kind+"\x00"+a.Source, b.Region+"\x00"+b.Kind+"\x00"+b.Source)
	})
	b.planItems(ctx, bp)
	for _, region := range req.Regions {
		if _, listed := existing[region]; listed {
			for _, cluster := range []bool{false, true} {
				b.fitSnapshotQuota(ctx, bp, region, cluster)
			}
			bp.Warnings = append(bp.Warnings, b.quotaWarnings(bp, region, existing[region])...)
		}
	}
	return bp, ctx.Err()
}

// defaultInstanceQuota is RDS's default DB instance quota per region (Service Quotas;
// accounts can have it raised). A batch keeps one extra instance per migrated instance until
// cleanup.
const defaultInstanceQuota = 40

// quotaWarnings compares the instances the planned migrations of a region will create with
// AWS's default quota, counting what the region already holds.
func (b *Batch) quotaWarnings(bp *BatchPlan, region string, instances int) []string {
	created := 0
	for _, it := range bp.Items {
		if it.Region != region || it.Plan == nil {
			continue
		}
		for _, r := range it.Plan.Resources {
			if r.Role != workflow.RoleRetiredSource && r.Type == workflow.TypeDBInstance {
				created++
			}
		}
	}
	if created > 0 && instances+created > defaultInstanceQuota {
		return []string{fmt.Sprintf("%s: the batch creates %d DB instances (kept until cleanup) next to %d existing; RDS's default quota is %d per region: "+
			"check yours (aws rds describe-account-attributes) and raise it, or run the batch in parts with cleanups between them",
			region, created, instances, defaultInstanceQuota)}
	}
	return nil
}

// fitSnapshotQuota refuses, at the plan, the migrations of a region whose manual snapshots
// (DB snapshots, or DB cluster snapshots) would not fit in its quota with those of the
// migrations planned before them. Each migration's own preflight counted only itself
// (workflow.SnapshotsNeeded); a batch's migrations keep their snapshots until each is cleaned
// up, so together they need the sum of their steps' snapshots, plus the final snapshot of
// one cleanup or rollback. A migration that does not fit is failed at the plan, before any
// side effect, instead of failing inside its write freeze; the others run.
func (b *Batch) fitSnapshotQuota(ctx context.Context, bp *BatchPlan, region string, cluster bool) {
	var items []*BatchItem
	for i := range bp.Items {
		it := &bp.Items[i]
		if it.Region == region && it.Plan != nil && it.Skip == "" && workflow.SnapshotsNeeded(it.Plan).Cluster == cluster {
			items = append(items, it)
		}
	}
	if len(items) == 0 {
		return
	}
	kind, quota := workflow.SnapshotKind(cluster)
	api, err := b.Base.Clients(region)
	var used, max int
	if err == nil {
		used, max, err = api.SnapshotQuota(ctx, cluster)
	}
	if err != nil {
		bp.Warnings = append(bp.Warnings, fmt.Sprintf("%s: cannot read the manual %s quota (%s): only each migration's own preflight checks it, not the batch's sum",
			region, kind, oneLineErr(err)))
		return
	}
	total, fitted := used+1, 0 // the final snapshot of one cleanup or rollback
	for _, it := range items {
		n := len(workflow.SnapshotsNeeded(it.Plan).Steps)
		if total+n <= max {
			total += n
			fitted++
			continue
		}
		flag := "--db"
		if cluster {
			flag = "--cluster"
		}
		it.Plan, it.PlanFailed = nil, true
		it.Skip = fmt.Sprintf("cannot be planned: the manual %s quota of %s is %d, %d in use: the %d migrations of the batch planned before it need %d until their cleanup (and one cleanup's final snapshot), this one %d more",
			kind, region, max, used, fitted, total-used, n)
		it.Next = fmt.Sprintf("delete manual %s you no longer need, or raise the quota (Service Quotas: Amazon RDS, %q), or clean up the batch's migrations once they are done (rdsencrypt status lists their ids for rdsencrypt cleanup), then rdsencrypt plan %s %s --kms-key %s",
			kind, quota, flag, it.Source, bp.Request.keyFor(region))
	}
}

// consider adds a listed database to the plan, as a candidate or with the reason to skip it.
func (bp *BatchPlan) consider(kind, region, id string, tags model.Tags, encrypted bool, replicaOf string,
	active map[string]string, retired map[string]string) {
	if !bp.Request.Selection.Selects(id, tags) {
		bp.NotSelected++
		return
	}
	if encrypted {
		bp.AlreadyEncrypted++
		return
	}
	it := BatchItem{Kind: kind, Region: region, Source: id}
	key := InstanceKey(region, id)
	switch {
	case retired[key] != "":
		it.Skip = "retired source of migration " + retired[key] + ", kept until cleanup"
		it.Next = "rdsencrypt cleanup " + retired[key]
	case tags[model.TagMigrationID] != "" || workflow.IsRetiredName(id):
		it.Skip = "created or renamed by an rdsencrypt migration"
	case active[key] != "":
		it.Skip = "migration " + active[key] + " of it is unfinished"
		it.Next = "rdsencrypt resume " + active[key]
	case replicaOf != "" && kind == workflow.KindInstance:
		_, primary := replicaSource(region, replicaOf)
		it.Skip = "read replica of " + primary + ": replicas are recreated encrypted with their primary"
	case replicaOf != "":
		it.Skip = "replica cluster of " + replicaOf + ": migrate the primary cluster"
	}
	bp.Items = append(bp.Items, it)
}

// journaled returns the sources with an unfinished migration and the retired sources of
// finished ones, by InstanceKey, with their migration id.
func (b *Batch) journaled() (active, retired map[string]string, err error) {
	active, retired = map[string]string{}, map[string]string{}
	if b.Base.Store == nil {
		return active, retired, nil
	}
	states, _, err := b.Base.Store.List()
	if err != nil {
		return nil, nil, err
	}
	for _, st := range states {
		if workflow.IsOpen(st.Status) {
			active[InstanceKey(st.Region, st.Source)] = st.ID
		}
		if st.Status != workflow.StatusCleanedUp && st.Status != workflow.StatusRolledBack {
			for _, r := range st.Resources {
				if r.Role == workflow.RoleRetiredSource {
					retired[InstanceKey(r.Region, r.Name)] = st.ID
				}
			}
		}
	}
	return active, retired, nil
}

// planItems plans every candidate, Concurrency at a time; a plan that fails skips its item
// with the reason (nothing has been changed).
func (b *Batch) planItems(ctx context.Context, bp *BatchPlan) {
	sem := make(chan struct{}, bp.Request.concurrency())
	var wg sync.WaitGroup
	for i := range bp.Items {
		it := &bp.Items[i]
		if it.Skip != "" {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			plan, err := b.Base.Plan(ctx, b.request(bp.Request, *it))
			switch {
			case err != nil:
				it.Skip, it.Next, it.PlanFailed = "cannot be planned: "+oneLineErr(err), workflow.NextOf(err), true
			case plan.Mode == workflow.ModeNone:
				it.Skip = "already encrypted with the key"
			default:
				it.Plan = plan
			}
		}()
	}
	wg.Wait()
}

func (b *Batch) request(req BatchRequest, it BatchItem) workflow.MigrateRequest {
	return workflow.MigrateRequest{Kind: it.Kind, Region: it.Region, Source: it.Source, KmsKey: req.keyFor(it.Region),
		RegionKeys: req.RegionKeys, Options: req.Options}
}

// Run runs the planned migrations, Concurrency at a time, and reports each. It returns when
// every migration has ended; cancelling ctx stops running migrations between steps (they
// stay resumable) and starts no new one.
func (b *Batch) Run(ctx context.Context, bp *BatchPlan) *BatchReport {
	started := b.Base.Clock()
	rep := &BatchReport{Migrations: make([]BatchMigration, len(bp.Items))}
	work := make(chan int)
	var wg sync.WaitGroup
	for range bp.Request.concurrency() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				rep.Migrations[i] = b.runOne(ctx, bp.Request, i, bp.Items[i])
			}
		}()
	}
	for i, it := range bp.Items {
		if it.Skip != "" {
			m, state := skipped(it, it.Skip, it.Next), OutcomeSkipped
			if it.PlanFailed {
				m.Outcome, m.Status, state = OutcomeFailed, OutcomeFailed, OutcomeFailed
			}
			rep.Migrations[i] = m
			b.fleet(Event{Index: i, Kind: it.Kind, Region: it.Region, Source: it.Source, State: state, Message: it.Skip})
			continue
		}
		if ctx.Err() != nil {
			rep.Migrations[i] = skipped(it, "the batch was stopped before this migration started", "")
			b.fleet(Event{Index: i, Kind: it.Kind, Region: it.Region, Source: it.Source, State: OutcomeSkipped, Message: "not started"})
			continue
		}
		select {
		case work <- i:
		case <-ctx.Done():
			rep.Migrations[i] = skipped(it, "the batch was stopped before this migration started", "")
			b.fleet(Event{Index: i, Kind: it.Kind, Region: it.Region, Source: it.Source, State: OutcomeSkipped, Message: "not started"})
		}
	}
	close(work)
	wg.Wait()
	rep.summarize(b.Base.Clock().Sub(started))
	return rep
}

func skipped(it BatchItem, reason, next string) BatchMigration {
	return BatchMigration{Report: workflow.Report{Source: it.Source, Kind: it.Kind, Region: it.Region, Status: OutcomeSkipped,
		Steps: []workflow.StepReport{}, Parity: workflow.Parity{Differences: []workflow.Difference{}}, Next: next}, Outcome: OutcomeSkipped, Reason: reason}
}

// runOne runs one migration, isolated: its failure, even a panic, is its own.
func (b *Batch) runOne(ctx context.Context, req BatchRequest, i int, it BatchItem) (m BatchMigration) {
	eng := b.Base // a copy: approver, observer and id are this migration's
	eng.Approver = acknowledging{CutoverApprover(req.Cutover), req.Acknowledge}
	tracker := &fleetTracker{b: b, base: b.Base.Observer, ev: Event{Index: i, Kind: it.Kind, Region: it.Region, Source: it.Source}}
	eng.Observer = tracker
	if b.IDFor != nil {
		if id := b.IDFor(it); id != "" {
			eng.NewID = func() (string, error) { return id, nil }
		}
	}
	start := b.Base.Clock()
	tracker.update(func(ev *Event) { ev.State = workflow.StatusRunning })
	defer func() {
		if p := recover(); p != nil {
			b.Base.Log().Error("migration panicked", "source", it.Source, "panic", p, "stack", string(debug.Stack()))
			m = BatchMigration{Report: workflow.Report{Source: it.Source, Kind: it.Kind, Region: it.Region, Status: workflow.StatusFailed,
				Steps: []workflow.StepReport{}, Parity: workflow.Parity{Differences: []workflow.Difference{}}, Error: fmt.Sprint("internal error: ", p)},
				Outcome: OutcomeFailed, Reason: fmt.Sprint("internal error: ", p)}
			if id := tracker.id(); id != "" {
				m.MigrationID, m.Next = id, "rdsencrypt status "+id+"; then rdsencrypt resume "+id+" or rdsencrypt rollback "+id
			}
		}
		end := b.Base.Clock()
		m.StartedAt, m.FinishedAt, m.ElapsedSeconds = &start, &end, end.Sub(start).Seconds()
		tracker.update(func(ev *Event) { ev.State, ev.Message, ev.Calls = m.Outcome, m.Reason, max(ev.Calls, m.APICalls) })
	}()
	r, err := eng.Migrate(ctx, b.request(req, it))
	return classify(it, req.Cutover, r, err, ctx.Err() != nil)
}

// classify turns what Migrate returned into the batch outcome of a migration.
func classify(it BatchItem, policy string, r *workflow.Report, err error, interrupted bool) BatchMigration {
	m := BatchMigration{}
	if r != nil {
		m.Report = *r
	} else {
		m.Report = workflow.Report{Source: it.Source, Kind: it.Kind, Region: it.Region, Status: workflow.StatusFailed,
			Steps: []workflow.StepReport{}, Parity: workflow.Parity{Differences: []workflow.Difference{}}}
	}
	if m.Steps == nil {
		m.Steps = []workflow.StepReport{}
	}
	pending := pendingOf(m.Steps)
	switch {
	case err == nil && (m.Status == workflow.StatusCompleted || m.Status == workflow.StatusNothingToDo):
		m.Outcome = OutcomeCompleted
	case err == nil:
		m.Outcome, m.Reason = OutcomeFailed, "ended with status "+m.Status
	case errors.Is(err, workflow.ErrStopped) && len(m.Parity.Differences) > 0:
		m.Outcome = OutcomeStopped
		m.Reason = fmt.Sprintf("stopped before %s: %d parity difference(s) to review", pending, len(m.Parity.Differences))
		m.Next = fmt.Sprintf("rdsencrypt status %s, then rdsencrypt resume %s to approve them, or rdsencrypt rollback %s", m.MigrationID, m.MigrationID, m.MigrationID)
	case errors.Is(err, workflow.ErrStopped) && policy == CutoverManual && !interrupted && workflow.IsManualStopStep(pending):
		m.Outcome = OutcomeAwaitingCutover
		m.Reason = "prepared; stopped before " + pending + " (manual cutover)"
		m.Next = "rdsencrypt resume " + m.MigrationID + "   (freezes writes if not yet frozen, then runs the cutover: the endpoint is down for minutes)"
	case errors.Is(err, workflow.ErrStopped) || interrupted:
		m.Outcome = OutcomeStopped
		m.Reason = "stopped before " + pending
		if m.MigrationID != "" {
			m.Next = "rdsencrypt resume " + m.MigrationID
		} else {
			m.Reason = "stopped before it started"
		}
	default:
		m.Outcome, m.Reason = OutcomeFailed, oneLineErr(err)
		if m.Error == "" {
			m.Error = m.Reason
		}
		if next := workflow.NextOf(err); next != "" {
			m.Next = next
		}
	}
	return m
}

func pendingOf(steps []workflow.StepReport) string {
	for _, s := range steps {
		if s.Status != workflow.StepDone && s.Status != workflow.StepSkipped {
			return s.Name
		}
	}
	return "the end"
}

func oneLineErr(err error) string {
	return strings.Join(strings.Fields(redact.String(err.Error())), " ")
}

func (rep *BatchReport) summarize(elapsed time.Duration) {
	s := BatchSummary{ElapsedSeconds: elapsed.Seconds()}
	for _, m := range rep.Migrations {
		s.APICalls += m.APICalls
		switch m.Outcome {
		case OutcomeCompleted:
			s.Completed++
		case OutcomeFailed:
			s.Failed++
		case OutcomeSkipped:
			s.Skipped++
		case OutcomeStopped:
			s.Stopped++
		case OutcomeAwaitingCutover:
			s.AwaitingCutover++
		}
	}
	rep.Summary = s
}

func (b *Batch) fleet(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = b.Base.Clock()
	}
	if b.Fleet != nil {
		b.Fleet.FleetUpdate(ev)
	}
}

// fleetTracker turns one migration's events into fleet events: one per step started,
// step failed and outcome, with the running count of calls.
type fleetTracker struct {
	b    *Batch
	base workflow.Observer
	mu   sync.Mutex
	ev   Event
}

func (t *fleetTracker) Notify(e workflow.Event) {
	if t.base != nil {
		t.base.Notify(e)
	}
	switch e.Type {
	case workflow.EventAPICall:
		t.mu.Lock()
		t.ev.Calls++
		if e.MigrationID != "" {
			t.ev.MigrationID = e.MigrationID
		}
		t.mu.Unlock()
	case workflow.EventStepStarted:
		t.update(func(ev *Event) { ev.MigrationID, ev.Step, ev.Message = e.MigrationID, e.Step, e.Message })
	case workflow.EventStepFailed:
		t.update(func(ev *Event) { ev.Step, ev.Message = e.Step, "step failed: "+e.Message })
	case workflow.EventPlan:
		t.mu.Lock()
		t.ev.MigrationID = e.MigrationID
		t.mu.Unlock()
	}
}

func (t *fleetTracker) update(change func(*Event)) {
	t.mu.Lock()
	change(&t.ev)
	ev := t.ev
	ev.Time = time.Time{} // stamped when sent
	t.ev.Message = ""
	t.mu.Unlock()
	t.b.fleet(ev)
}

func (t *fleetTracker) id() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.ev.MigrationID
}
