package workflow

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/journal"
	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/redact"
	"github.com/rdsencrypt/rdsencrypt/internal/replication"

	"github.com/rdsencrypt/rdsencrypt/internal/awsclient"
)

// Engine runs migrations: it owns no flags and no terminal. It takes AWS clients, a journal
// store, an approver and an observer.
type Engine struct {
	// Clients returns the AWS client of a region.
	Clients func(region string) (model.RDS, error)
	// Networks returns the EC2 and CloudWatch client of a region, for the enforced write
	// freeze (enforce.go); nil: the freeze cannot be enforced.
	Networks func(region string) (model.Network, error)
	// Where is the endpoint and profile Clients talk to; new journals record it.
	Where    Where
	Store    *Store
	Approver Approver
	Observer Observer
	Hooks    HookRunner
	Poll     awsclient.PollOptions
	// Resolver resolves endpoint names after cutover (dns.go); nil: the system's.
	Resolver Resolver
	Logger   *slog.Logger
	// Now is the local clock (step timestamps); AWS time comes from the clients.
	Now func() time.Time
	// NewID makes migration ids (default NewMigrationID); tests fix it to know the names.
	NewID func() (string, error)
	// Replication are the database engines of the replication strategy, by family
	// (replication.Family); nil: the strategy is not offered.
	Replication map[string]replication.Engine
	// Credentials gives the master password the replication strategy connects with.
	Credentials DBCredentials
	// DBTLS is how the replication strategy uses TLS to the databases: "require" (default:
	// TLS, the server's certificate and name verified), "prefer", "disable".
	DBTLS string
	// DBRootCAs are the CAs database servers' certificates must chain to (--db-ca-bundle);
	// nil: the system's roots.
	DBRootCAs *x509.CertPool
	// StreamGrace is how long the replication catch-up waits for a stream that stopped (the
	// source rebooting, no subscriber connected) to run again by itself before it stops the
	// run, resumable (replication_steps.go); 0: a minute.
	StreamGrace time.Duration
}

// MigrateRequest starts a migration of one DB instance or Aurora cluster.
type MigrateRequest struct {
	Kind   string // KindInstance (default) or KindCluster
	Region string
	Source string // DB instance or DB cluster identifier
	KmsKey string // key id, ARN, alias name or alias ARN, for the source's region
	// RegionKeys are keys for other regions (cross-region replicas), region -> key reference.
	RegionKeys map[string]string
	Options    RunOptions
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Engine) logger() *slog.Logger {
	if e.Logger != nil {
		return e.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Clock is the engine's local time (Now, or time.Now when Now is unset), for packages that
// drive engines, such as fleet.
func (e *Engine) Clock() time.Time { return e.now() }

// Log is the engine's logger (Logger, or one that discards when unset).
func (e *Engine) Log() *slog.Logger { return e.logger() }

func (e *Engine) notify(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = e.now()
	}
	if ev.Percent == 0 && ev.Type != EventStepProgress {
		ev.Percent = -1
	}
	if e.Observer != nil {
		e.Observer.Notify(ev)
	}
}

// run is one execution of a migration's steps by one process.
type run struct {
	// ledgered: a call ledger counts and records the calls made outside any step
	// (call_ledger.go), so the run's own observer leaves them to it.
	ledgered bool
	e        *Engine
	st       *State
	api      model.RDS
	names    Names
	key      *model.Key
	// src is the source as described at the start of this run; only its settings and tags
	// are used, which a migration never changes.
	src   *model.Instance
	route route
	mu    sync.Mutex
	step  int // index in st.Steps of the step running, -1 outside steps
	// subject is the replica, member or endpoint the running step is about, if any.
	subject string
	// cluster is the source of a cluster migration, as described at the start of this run.
	cluster *clusterRun
	// expect is the running step's expectation, for its waits (zero outside steps).
	expect expectation
	// db is the replication strategy's connection material per instance (replicationOf),
	// in memory only.
	db map[string]*dbRun
	// phase names the operation outside the steps (PhaseRollback, PhaseCleanup) for the
	// events it sends, so that no event is about an unnamed step.
	phase string
}

func (r *run) notify(ev Event) {
	ev.MigrationID = r.st.ID
	if ev.Step == "" && r.step >= 0 && r.step < len(r.st.Steps) {
		ev.Step = r.st.Steps[r.step].Name
	}
	if ev.Step == "" && r.step < 0 && ev.Type != EventFinished && ev.Type != EventPlan {
		ev.Step = r.phase
	}
	r.e.notify(ev)
}

func (r *run) log(format string, args ...any) {
	r.notify(Event{Type: EventLog, Message: fmt.Sprintf(format, args...)})
}

// save writes the journal; a failure to save is fatal to the run, since resuming would then
// rely on stale state.
func (r *run) save() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.st.UpdatedAt = r.e.now()
	if err := r.e.Store.Save(r.st); err != nil {
		return fmt.Errorf("save journal of migration %s: %w", r.st.ID, err)
	}
	return nil
}

func (r *run) audit(rec journal.AuditRecord) {
	if rec.Time.IsZero() {
		rec.Time = r.e.now()
	}
	if err := r.e.Store.AppendAudit(r.st.ID, rec); err != nil {
		r.e.logger().Warn("audit trail write failed", "migration", r.st.ID, "err", err)
	}
}

// onCall counts an AWS call against the running step and records it in the audit trail.
func (r *run) onCall(rec awsclient.CallRecord) {
	r.mu.Lock()
	outside := r.ledgered && r.step < 0
	r.mu.Unlock()
	if outside {
		return // counted and recorded by the ledger (onOutsideCall)
	}
	r.recordCall(rec, -1)
}

// recordCall counts a call against step (-1: the running one; -2: none, already counted
// elsewhere) and records it in the audit trail.
func (r *run) recordCall(rec awsclient.CallRecord, step int) {
	call := &APICall{Action: rec.Action, Region: rec.Region, Target: rec.Target,
		RequestID: rec.RequestID, AWSTime: rec.AWSTime}
	outcome := "ok"
	if rec.Err != nil {
		call.Error = redact.String(rec.Err.Error())
		call.NotFound = model.IsNotFound(rec.Err)
		outcome = call.Error
	}
	r.mu.Lock()
	if step == -1 {
		step = r.step
	}
	if step >= 0 && step < len(r.st.Steps) {
		r.st.Steps[step].APICalls++
	}
	r.mu.Unlock()
	r.audit(journal.AuditRecord{Type: journal.AuditAPICall, Action: rec.Action, Target: rec.Target,
		RequestID: rec.RequestID, AWSTime: rec.AWSTime, Outcome: outcome})
	r.notify(Event{Type: EventAPICall, Resource: rec.Target, Call: call})
}

func (r *run) setStatus(status string) {
	if r.st.Status == status {
		return
	}
	r.audit(journal.AuditRecord{Type: journal.AuditStateChange, From: r.st.Status, To: status})
	r.st.Status = status
}

func (r *run) withCalls(ctx context.Context) context.Context {
	return awsclient.WithCallObserver(ctx, r.onCall)
}

// approve asks the approver about a step and records the answer in the audit trail.
func (r *run) approve(ctx context.Context, a Approval) (Decision, error) {
	a.MigrationID = r.st.ID
	approver := r.e.Approver
	if approver == nil {
		approver = RefuseApprover
	}
	d, err := approver.Approve(ctx, a)
	if err != nil {
		return Quit, err
	}
	if d == Skip && !a.Skippable {
		d = Quit
	}
	r.audit(journal.AuditRecord{Type: journal.AuditApproval, Step: a.Step, Decision: d.String(), Message: a.Summary})
	return d, nil
}

// RefuseApprover refuses every mutating step: the default without a terminal and without --yes.
var RefuseApprover Approver = ApproverFunc(func(_ context.Context, a Approval) (Decision, error) {
	return Quit, &Error{Resource: a.Step, Problem: fmt.Sprintf("step %s needs approval and there is no terminal to ask", a.Step),
		Next: fmt.Sprintf("run on a terminal, or add --yes: rdsencrypt resume %s --yes", a.MigrationID)}
})

// ReportOf builds the report of a migration from its journal.
func ReportOf(st *State) *Report {
	rep := &Report{MigrationID: st.ID, Source: st.Source, Kind: st.Kind, Region: st.Region, Where: st.Where,
		Status: st.Status, KmsKeyARN: st.KmsKeyARN, Error: st.LastError,
		Parity: Parity{Differences: st.Differences}}
	if rep.Parity.Differences == nil {
		rep.Parity.Differences = []Difference{}
	}
	for _, s := range st.Steps {
		rep.Steps = append(rep.Steps, StepReport{Name: s.Name, Status: s.Status,
			StartedAt: s.StartedAt, FinishedAt: s.FinishedAt, APICalls: s.APICalls})
		rep.APICalls += s.APICalls
	}
	rep.APICalls += st.OtherAPICalls
	if st.Kind != KindCluster {
		rep.Strategy = st.Options.Strategy
		if rep.Strategy == "" {
			rep.Strategy = StrategySnapshot
		}
		rep.Replication = st.Replication
	}
	rep.Replicas = replicaReports(st)
	rep.DNS = st.DNS
	if st.MasterSecret != nil {
		s := *st.MasterSecret
		rep.MasterUserSecret = &s
	}
	if !st.FreezeAt.IsZero() && !st.CutoverDoneAt.IsZero() {
		rep.DowntimeSeconds = nonNegativeSeconds(st.CutoverDoneAt.Sub(st.FreezeAt))
	}
	switch st.Status {
	case StatusPaused, StatusFailed, StatusRunning:
		rep.Next = fmt.Sprintf("rdsencrypt resume %s   (or: rdsencrypt rollback %s)", st.ID, st.ID)
	case StatusCompleted:
		rep.Next = fmt.Sprintf("rdsencrypt cleanup %s   (when the encrypted database has proven itself)", st.ID)
	}
	if KeepsReverseWAL(st) && st.Status == StatusCompleted {
		rep.Warnings = append(rep.Warnings, reverseWALWarning(st.ID, st.Source, NamesFor(st.ID, st.Source).Retired, st.groupCopy(), st.Replication.ReverseWALBoundMB, crossRegionReplicas(st.Region, st.Replicas)))
	}
	return rep
}

// lockAndLoad locks a migration and reads its journal.
func (e *Engine) lockAndLoad(id string) (*State, func() error, error) {
	release, err := e.Store.Lock(id)
	if err != nil {
		if errors.Is(err, journal.ErrLocked) {
			return nil, nil, &Error{Resource: id, Problem: fmt.Sprintf("migration %s is being driven by another process", id),
				Err: err, Next: "wait for it to finish, or check `rdsencrypt status " + id + "`"}
		}
		return nil, nil, err
	}
	st, err := e.Store.Load(id)
	if err != nil {
		_ = release()
		return nil, nil, err
	}
	return st, release, nil
}

func (e *Engine) newRun(st *State) (*run, error) {
	api, err := e.Clients(st.Region)
	if err != nil {
		return nil, err
	}
	rt, err := routeOf(st.Kind)
	if err != nil {
		return nil, err
	}
	return &run{e: e, st: st, api: api, route: rt, names: NamesFor(st.ID, st.Source), step: -1}, nil
}

// Status returns the journal of one migration.
func (e *Engine) Status(id string) (*Report, *State, error) {
	st, err := e.Store.Load(id)
	if err != nil {
		return nil, nil, err
	}
	return ReportOf(st), st, nil
}
