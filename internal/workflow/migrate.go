package workflow

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/journal"
	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/redact"
	"github.com/rdsencrypt/rdsencrypt/internal/replication"
)

// Plan describes what migrating req.Source would do. It makes no mutating call.
func (e *Engine) Plan(ctx context.Context, req MigrateRequest) (*Plan, error) {
	rt, api, err := e.routeAndClient(req)
	if err != nil {
		return nil, err
	}
	return rt.plan(ctx, e, api, req)
}

// routeAndClient returns the route of a request's kind and the client of its region.
func (e *Engine) routeAndClient(req MigrateRequest) (route, model.RDS, error) {
	rt, err := routeOf(req.Kind)
	if err != nil {
		return nil, nil, err
	}
	api, err := e.Clients(req.Region)
	if err != nil {
		return nil, nil, err
	}
	return rt, api, nil
}

// prepareInstance does every read a plan of an instance migration needs: the source, the
// key, the replica tree and a key for each replica region.
func (e *Engine) prepareInstance(ctx context.Context, api model.RDS, req MigrateRequest) (instancePlanInput, error) {
	src, key, err := e.inspect(ctx, api, req)
	if err != nil {
		return instancePlanInput{}, err
	}
	subscriptions, err := checkAttachments(ctx, api, src.ID, src.ARN, false, src.ActivityStreamStatus, src.BackupReplications, src.ReplicaClusters,
		planCommand(KindInstance, src.ID, req.KmsKey)) // attachments.go
	if err != nil {
		return instancePlanInput{}, err
	}
	reps, err := e.discoverReplicas(ctx, src)
	if err != nil {
		return instancePlanInput{}, err
	}
	keys, err := e.resolveRegionKeys(ctx, key, src.Region, req.RegionKeys, reps)
	if err != nil {
		return instancePlanInput{}, err
	}
	for _, n := range reps {
		if n.inst.Status != model.StatusAvailable {
			return instancePlanInput{}, errorf(n.inst.ID, "wait until it is available, then retry", nil,
				"read replica %s in %s is %q, not available", n.inst.ID, n.inst.Region, n.inst.Status)
		}
	}
	freeze, freezeNote, err := e.chooseInstanceFreeze(req.Options, src)
	if err != nil {
		return instancePlanInput{}, err
	}
	order := req.Options.Replicas
	switch {
	case len(reps) == 0:
		order = ""
	case order == "":
		order = ReplicasAfterCutover
	}
	in := instancePlanInput{src: src, key: key, replicas: reps, keys: keys, order: order,
		unusedKeys: unusedRegionKeys(src.Region, req.RegionKeys, reps), precopy: req.Options.Precopy,
		freeze: freeze, freezeNote: freezeNote, writeRate: e.writeRate(ctx, api, src), subscriptions: subscriptions}
	if err := e.chooseStrategy(ctx, &in, req.Options.Strategy); err != nil {
		return instancePlanInput{}, err
	}
	if in.freeze, in.freezeNote, err = freezeForStrategy(src.ID, in.strategy, req.Options.Strategy, req.Options.Freeze, in.freeze, in.freezeNote); err != nil {
		return instancePlanInput{}, err
	}
	return in, nil
}

// writeRate is the source's write rate in GiB per hour, the mean of CloudWatch's AWS/RDS
// WriteThroughput (bytes per second) over the last hour, or nil when it cannot be read (no
// EC2/CloudWatch client, no permission, no datapoint): the plan then counts only the fixed
// part of the snapshot and copy inside the freeze, and says so.
func (e *Engine) writeRate(ctx context.Context, api model.RDS, src *model.Instance) *float64 {
	if e.Networks == nil {
		return nil
	}
	net, err := e.Networks(src.Region)
	if err != nil {
		return nil
	}
	now := api.ServerTime() // AWS's clock: the metric's minutes are AWS's
	if now.IsZero() {
		now = e.now()
	}
	points, err := net.InstanceMetric(ctx, src.ID, "WriteThroughput", now.Add(-time.Hour), now)
	if err != nil || len(points) == 0 {
		return nil
	}
	var sum float64
	for _, p := range points {
		sum += p.Value
	}
	rate := sum / float64(len(points)) * 3600 / (1 << 30)
	return &rate
}

// Migrate runs a new migration of req.Source from preflight to verify.
func (e *Engine) Migrate(ctx context.Context, req MigrateRequest) (*Report, error) {
	rt, api, err := e.routeAndClient(req)
	if err != nil {
		return nil, err
	}
	// A source with an open migration is that migration's business, wherever the migration
	// left it (renamed, half rolled back): say so before looking it up.
	if existing, err := e.activeMigrationOf(api.Region(), strings.ToLower(req.Source)); err != nil {
		return nil, err
	} else if existing != "" {
		return nil, errorf(req.Source, "rdsencrypt status "+existing+", then resume, rollback or cleanup it", nil,
			"%s already has migration %s in progress", req.Source, existing)
	}
	return rt.start(withCallLedger(ctx), e, api, req)
}

// migrateInstance runs a new migration of a DB instance from preflight to verify.
func (e *Engine) migrateInstance(ctx context.Context, api model.RDS, req MigrateRequest) (*Report, error) {
	in, err := e.prepareInstance(ctx, api, req)
	if err != nil {
		return nil, err
	}
	src := in.src
	id, release, err := e.newMigrationID(src.Region, src.ID, "DB instance")
	if err != nil {
		return nil, err
	}
	defer release()
	if err := e.refuseOtherMigrations(ctx, api, KindInstance, src.ID, id); err != nil {
		return nil, err
	}
	in.id = id
	if err := checkNamesFree(ctx, api, NamesFor(in.id, src.ID)); err != nil {
		return nil, err
	}
	for _, n := range in.replicas {
		rapi, err := e.Clients(n.inst.Region)
		if err != nil {
			return nil, err
		}
		if err := checkNamesFree(ctx, rapi, NamesFor(in.id, n.inst.ID)); err != nil {
			return nil, err
		}
	}
	plan := buildInstancePlan(in)
	if err := checkSnapshotQuota(ctx, api, plan, planCommand(KindInstance, src.ID, req.KmsKey)); err != nil { // preflight_rules.go
		return nil, err
	}
	st := newState(plan, req)
	st.Where = e.Where
	st.SourceARN, st.SourceRID, st.SourceAddr = src.ARN, src.ResourceID, src.Endpoint
	st.Options.Replicas = plan.ReplicaOrder
	st.Options.Freeze = plan.Freeze
	st.Options.Strategy, st.Options.Precopy = in.strategy, in.precopy
	st.Replicas = replicaStatesOf(in.replicas)
	return e.start(ctx, plan, st, func(r *run) {
		r.src, r.key = src, in.key
		r.useGroupCopy() // replication_group_copy.go
	})
}

// newMigrationID refuses a second migration of a source that has one unfinished, and
// returns a fresh id. It holds the source's lock until release is called, which the caller
// does once the new journal exists (or the start failed): two processes starting a
// migration of one source at once cannot both pass the check.
func (e *Engine) newMigrationID(region, source, what string) (id string, release func(), err error) {
	unlock, err := e.Store.Lock(sourceLockID(region, source))
	if err != nil {
		return "", nil, errorf(source, "wait for the other rdsencrypt process, then: rdsencrypt status", err,
			"another process is starting a migration of %s %s", what, source)
	}
	release = func() { _ = unlock() }
	if existing, err := e.activeMigrationOf(region, source); err != nil {
		release()
		return "", nil, err
	} else if existing != "" {
		release()
		return "", nil, errorf(source, "rdsencrypt resume "+existing, nil,
			"%s %s already has migration %s in progress", what, source, existing)
	}
	newID := e.NewID
	if newID == nil {
		newID = NewMigrationID
	}
	if id, err = newID(); err != nil {
		release()
		return "", nil, err
	}
	return id, release, nil
}

// newState is the journal of a migration about to start: its steps and resources from the plan.
func newState(plan *Plan, req MigrateRequest) *State {
	st := &State{Version: 1, ID: plan.MigrationID, Kind: plan.Kind, Region: plan.Region, Source: plan.Source,
		Mode: plan.Mode, KmsKeyARN: plan.KmsKeyARN, RegionKeys: plan.RegionKeys, Options: req.Options, Status: StatusRunning,
		Acknowledgements: plan.Acknowledgements, WriteGiBPerHour: plan.WriteGiBPerHour,
		EventSubscriptions: plan.EventSubscriptions}
	if c := plan.SourceChange; c != nil { // before any call; the copy is a planned resource (replication_source_group.go)
		st.SourceGroup = &SourceGroupState{Original: c.ParameterGroup}
	}
	if plan.MasterUserSecret != nil {
		s := *plan.MasterUserSecret
		st.MasterSecret = &s
	}
	for _, pr := range plan.Resources {
		st.Resources = append(st.Resources, Resource{Role: pr.Role, Type: pr.Type, Region: pr.Region, Name: pr.Name})
	}
	for _, s := range plan.Steps {
		st.Steps = append(st.Steps, StepState{Name: s.Name, Status: StepPending})
	}
	return st
}

// start announces the plan, journals the new migration under its lock and runs it; setup
// gives the run what the preflight described. A source that needs nothing ends here.
func (e *Engine) start(ctx context.Context, plan *Plan, st *State, setup func(*run)) (*Report, error) {
	e.notify(Event{Type: EventPlan, MigrationID: plan.MigrationID, Plan: plan})
	if plan.Mode == ModeNone {
		return &Report{MigrationID: plan.MigrationID, Source: plan.Source, Kind: plan.Kind, Region: plan.Region,
			Status: StatusNothingToDo, KmsKeyARN: plan.KmsKeyARN, Parity: Parity{Differences: []Difference{}}}, nil
	}
	if err := e.checkAcknowledged(plan.Source, plan.Acknowledgements); err != nil { // iam_auth.go
		return nil, err
	}
	st.CreatedAt = e.now()
	release, err := e.Store.Lock(st.ID)
	if err != nil {
		return nil, err
	}
	defer func() { _ = release() }()
	r, err := e.newRun(st)
	if err != nil {
		return nil, err
	}
	setup(r)
	r.audit(journal.AuditRecord{Type: journal.AuditStateChange, To: StatusRunning,
		Message: fmt.Sprintf("migrate %s %s in %s with %s", st.Kind, st.Source, st.Region, st.KmsKeyARN)})
	attachLedger(ctx, r) // the preflight reads made before the run existed
	if err := r.save(); err != nil {
		return nil, err
	}
	return r.execute(ctx)
}

// Resume continues a migration from its journal, observing AWS to see what is really done.
func (e *Engine) Resume(ctx context.Context, id string) (*Report, error) {
	st, release, err := e.lockAndLoad(id)
	if err != nil {
		return nil, err
	}
	defer func() { _ = release() }()
	switch {
	case st.Status == StatusRollingBack:
		return ReportOf(st), errorf(st.Source, "rdsencrypt rollback "+st.ID+" (it continues where it stopped)", nil,
			"migration %s is being rolled back: it cannot go forward again", st.ID)
	case st.Status == StatusCleaningUp:
		return ReportOf(st), errorf(st.Source, "rdsencrypt cleanup "+st.ID+" (it continues where it stopped)", nil,
			"migration %s is being cleaned up", st.ID)
	case !Resumable(st.Status):
		return ReportOf(st), nil // completed, rolled back, cleaned up: nothing left to run
	}
	if err := e.checkAcknowledged(st.Source, st.Acknowledgements); err != nil {
		return ReportOf(st), err
	}
	if rp := st.Replication; rp != nil && rp.RebuiltFromTags && !st.CutoverDoneAt.IsZero() {
		// After the cutover the rollback is not the plain undo it is before: the encrypted
		// instance has taken the application's writes since (rebuild.go, markRebuiltCutover).
		n := NamesFor(st.ID, st.Source)
		return ReportOf(st), errorf(st.Source, fmt.Sprintf("to undo the cutover: stop writes to %s, then rdsencrypt rollback %s; to keep the encrypted %s, delete by hand its retired source %s (with a final snapshot) and the replication objects whose names begin with %s (docs/replication.md, \"A lost journal after the cutover\")",
			st.Source, st.ID, st.Source, n.Retired, replication.NamesFor(st.ID).Slot), nil,
			"the journal of migration %s (replication strategy) was rebuilt from tags after the cutover: %s is the encrypted instance and has taken writes since; the stream's and the reverse stream's state are in no tag, so resume cannot finish it; a rollback deletes the encrypted instance with its final snapshot %s, which keeps those writes (PostgreSQL: it first finds the reverse stream by its slots and drains them into the retired source)",
			st.ID, st.Source, n.RollbackSnapshot)
	}
	if rp := st.Replication; rp != nil && rp.RebuiltFromTags {
		return ReportOf(st), errorf(st.Source, "rdsencrypt rollback "+st.ID+", then migrate again", nil,
			"the journal of migration %s (replication strategy) was rebuilt from tags, which hold neither the stream's position nor the freeze's state: it cannot go forward, only be rolled back (the replication objects are dropped from %s)", st.ID, st.Source)
	}
	r, err := e.newRun(st)
	if err != nil {
		return nil, err
	}
	ctx = withCallLedger(ctx)
	attachLedger(ctx, r)
	if err := r.route.reload(ctx, r); err != nil {
		return nil, err
	}
	r.announceJournal("", "")
	r.setStatus(StatusRunning)
	return r.execute(ctx)
}

// reloadInstance describes the source instance (wherever a rename left it) and the key for
// a resumed run.
func reloadInstance(ctx context.Context, r *run) error {
	ctx = r.withCalls(ctx)
	src, err := r.api.DescribeInstanceByResourceID(ctx, r.st.SourceRID)
	if err != nil {
		return errorf(r.st.Source, "check the account and region, then rdsencrypt status "+r.st.ID, err,
			"cannot find the source DB instance %s (resource %s)", r.st.Source, r.st.SourceRID)
	}
	key, err := r.reloadKey(ctx)
	if err != nil {
		return err
	}
	if fs := r.st.Freeze; fs != nil {
		// An enforced freeze put its own group on the source: the new instance, parity and
		// verify use the groups it had before (freeze.go).
		src.Settings.VpcSecurityGroupIDs = slices.Clone(fs.OriginalGroups)
	}
	r.src, r.key = src, key
	r.useGroupCopy() // replication_group_copy.go
	return nil
}

func (r *run) reloadKey(ctx context.Context) (*model.Key, error) {
	if r.st.KmsKeyARN == "" { // rebuildInstance: only the source change or the temporary replica was made
		return nil, errorf(r.st.Source, "rdsencrypt rollback "+r.st.ID+", then plan again", nil,
			"the journal of migration %s was rebuilt from tags before any encrypted resource existed and does not know its KMS key: it can only be rolled back", r.st.ID)
	}
	key, err := r.api.DescribeKey(ctx, r.st.KmsKeyARN)
	if err != nil {
		return nil, errorf(r.st.KmsKeyARN, "rdsencrypt rollback "+r.st.ID, err, "cannot describe KMS key %s", r.st.KmsKeyARN)
	}
	return key, nil
}

// execute runs the steps not yet done, in order, and returns the report.
func (r *run) execute(ctx context.Context) (*Report, error) {
	err := r.runSteps(ctx)
	r.step = -1
	switch {
	case err == nil:
		r.setStatus(StatusCompleted)
		r.st.LastError = ""
	case errors.Is(err, errRollbackRequested):
		if saveErr := r.save(); saveErr != nil {
			return ReportOf(r.st), saveErr
		}
		return r.rollback(ctx)
	case errors.Is(err, ErrStopped) && ctx.Err() == nil && NextOf(err) == "" && r.untouched():
		// the operator quit before the first change: nothing to resume or roll back
		return r.discard()
	case errors.Is(err, ErrStopped) || ctx.Err() != nil:
		r.setStatus(StatusPaused)
		r.st.LastError = redact.String(err.Error())
	default:
		r.setStatus(StatusFailed)
		r.st.LastError = redact.String(err.Error())
	}
	saveErr := r.save()
	rep := ReportOf(r.st)
	r.notify(Event{Type: EventFinished, Report: rep, Err: err})
	if err == nil {
		return rep, saveErr
	}
	if errors.Is(err, ErrStopped) || ctx.Err() != nil {
		var stop *Error
		if errors.As(err, &stop) && stop.Next != "" {
			return rep, err // it says why it stopped and what to do (a parity difference, say)
		}
		return rep, &Error{Resource: r.st.Source, Problem: fmt.Sprintf("migration %s of %s stopped before %s", r.st.ID, r.st.Source, r.pendingStep()),
			Next: "rdsencrypt resume " + r.st.ID, Err: ErrStopped}
	}
	var we *Error
	if !errors.As(err, &we) || we.Next == "" {
		err = &Error{Resource: r.st.Source, Problem: fmt.Sprintf("migration %s of %s failed at %s", r.st.ID, r.st.Source, r.pendingStep()),
			Err: err, Next: fmt.Sprintf("rdsencrypt resume %s (after fixing the cause) or rdsencrypt rollback %s", r.st.ID, r.st.ID)}
	}
	return rep, err
}

var errRollbackRequested = errors.New("rollback requested by the operator")

func (r *run) pendingStep() string {
	for _, s := range r.st.Steps {
		if s.Status != StepDone && s.Status != StepSkipped {
			return s.Name
		}
	}
	return "the end"
}

func (r *run) runSteps(ctx context.Context) error {
	for i := range r.st.Steps {
		ss := &r.st.Steps[i]
		if ss.Status == StepDone || ss.Status == StepSkipped {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		kind, subject := splitStep(ss.Name)
		s, ok := stepByName(r.route.steps(), kind)
		if !ok {
			return fmt.Errorf("migration %s: unknown step %q in journal", r.st.ID, ss.Name)
		}
		r.step, r.subject = i, subject
		if err := r.runStep(ctx, s, ss); err != nil {
			return err
		}
	}
	return nil
}

// approvalCoveredBy names the earlier step whose approval covers s once it is done, or "":
// the first rename of its pair (approvedWith, about the same subject: a replica's pair is
// about one replica), and, for a replica's retire when replicas are swapped before writes
// resume, the cutover's first rename, whose approval lists every replica pair
// (replicaPairLines): no prompt per replica while writes are frozen.
func (r *run) approvalCoveredBy(s step) string {
	switch {
	case s.approvedWith != "":
		return stepName(s.approvedWith, r.subject)
	case s.name == StepReplicaRetire && r.st.Options.Replicas == ReplicasBeforeCutover:
		return StepRenameSource
	}
	return ""
}

// runStep runs one step by the contract of docs/steps.md: observe AWS, ask for approval
// unless the effect is there, journal the intent, apply, wait, journal the outcome.
func (r *run) runStep(ctx context.Context, s step, ss *StepState) error {
	ctx = r.withCalls(ctx)
	started := false
	if s.observe != nil {
		done, err := s.observe(ctx, r)
		if err != nil {
			return r.failStep(ss, err)
		}
		started = done
	}
	pair := r.approvalCoveredBy(s)
	covered := pair != "" && r.stepStatus(pair) == StepDone
	if covered && !started && ss.Status != StepRunning {
		r.audit(journal.AuditRecord{Type: journal.AuditApproval, Step: ss.Name, Decision: Approve.String(),
			Message: "covered by the approval of " + pair + ": one cutover"})
	}
	if !started && ss.Status != StepRunning && s.mutating && !covered {
		a := Approval{Step: ss.Name, Summary: s.text(r.planView(), r.names, r.subject),
			Details: actionLines(s), Downtime: r.downtime(s), Skippable: s.skippable, Precopy: r.st.Options.Precopy}
		if s.approval != nil {
			s.approval(r, &a)
		}
		d, err := r.approve(ctx, a)
		if err != nil {
			return err
		}
		switch d {
		case Skip:
			ss.Status = StepSkipped
			r.notify(Event{Type: EventStepSkipped})
			return r.save()
		case Rollback:
			return errRollbackRequested
		case Quit:
			return ErrStopped
		}
	}
	now := r.e.now()
	if ss.StartedAt == nil {
		ss.StartedAt = &now
	}
	ss.Status, ss.Error = StepRunning, ""
	if err := r.save(); err != nil { // intent before the side effect
		return err
	}
	r.notify(Event{Type: EventStepStarted, Message: s.text(r.planView(), r.names, r.subject)})
	r.expectStep(s)
	defer func() { r.expect = expectation{} }()
	if !started && s.apply != nil {
		if err := s.apply(ctx, r); err != nil {
			return r.failStep(ss, err)
		}
	}
	if s.wait != nil {
		r.expect.pace = true // the wait phase waits for the step's long operation
		if err := s.wait(ctx, r); err != nil {
			return r.failStep(ss, err)
		}
	}
	done := r.e.now()
	ss.Status, ss.FinishedAt = StepDone, &done
	r.notify(Event{Type: EventStepDone})
	return r.save() // outcome after
}

func (r *run) failStep(ss *StepState, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrStopped) {
		return err // stays running: resume observes AWS and continues
	}
	ss.Status, ss.Error = StepFailed, redact.String(err.Error())
	r.notify(Event{Type: EventStepFailed, Err: err, Message: err.Error()})
	return err
}

func actionLines(s step) []string {
	if len(s.actions) == 0 {
		return nil
	}
	return []string{"AWS calls: " + strings.Join(s.actions, ", ")}
}

// planView is the minimal plan the step descriptions need.
func (r *run) planView() *Plan {
	p := &Plan{Source: r.st.Source, KmsKeyARN: r.st.KmsKeyARN, Region: r.st.Region, Freeze: r.st.Options.freezeMode(),
		SourceChange: r.sourceChangeView()}
	for _, res := range r.st.Resources {
		p.Resources = append(p.Resources, PlannedResource{Role: res.Role, Type: res.Type, Region: res.Region, Name: res.Name})
	}
	return p
}

// resourceName is the name of the planned resource of role ("" when none).
func (p *Plan) resourceName(role string) string {
	for _, res := range p.Resources {
		if res.Role == role {
			return res.Name
		}
	}
	return ""
}

// ourTags are the tags of every resource the migration creates.
func (r *run) ourTags(role string) model.Tags {
	return migrationTags(r.st.ID, r.st.Source, role)
}

// targetTags are the source's tags plus ours: restore applies only the tags it is given.
func (r *run) targetTags() model.Tags {
	return withOurTags(r.src.Tags, r.ourTags(RoleTarget))
}

// withOurTags is a resource's own tags, without those of an earlier migration, plus ours.
func withOurTags(own, ours model.Tags) model.Tags {
	tags := model.Tags{}
	for k, v := range own {
		if !strings.HasPrefix(k, "rdsencrypt:") {
			tags[k] = v
		}
	}
	maps.Copy(tags, ours)
	return tags
}

// ownedBy reports whether tags mark a resource as created by this migration.
func (r *run) ownedBy(tags model.Tags) bool {
	return tags[model.TagMigrationID] == r.st.ID
}

func (r *run) resource(role string) *Resource { return r.st.resource(role) }

// resource is the journal's resource of role, nil when it has none.
func (st *State) resource(role string) *Resource {
	for i := range st.Resources {
		if st.Resources[i].Role == role {
			return &st.Resources[i]
		}
	}
	return nil
}

func (r *run) awsNow() time.Time {
	if t := r.api.ServerTime(); !t.IsZero() {
		return t
	}
	return r.e.now()
}

// checkNamesFree makes sure no resource already uses a name the migration will create.
func checkNamesFree(ctx context.Context, api model.RDS, n Names) error {
	for _, id := range []string{n.Target, n.Retired} {
		if _, err := api.DescribeInstance(ctx, id); err == nil {
			return errorf(id, "rename or delete it, then retry", nil, "DB instance name %s, needed by the migration, is taken", id)
		} else if !model.IsNotFound(err) {
			return errorf(id, "fix the cause (credentials, permissions), then retry", err, "cannot check that DB instance name %s is free", id)
		}
	}
	for _, id := range []string{n.Snapshot, n.EncryptedSnapshot, n.FinalSnapshot, n.RollbackSnapshot} {
		if _, err := api.DescribeSnapshot(ctx, id); err == nil {
			return errorf(id, "rename or delete it, then retry", nil, "DB snapshot name %s, needed by the migration, is taken", id)
		} else if !model.IsNotFound(err) {
			return errorf(id, "fix the cause (credentials, permissions), then retry", err, "cannot check that DB snapshot name %s is free", id)
		}
	}
	return nil
}

// sourceLockID names the lock taken while a migration of a source is being started.
func sourceLockID(region, source string) string { return "source-" + region + "-" + source }
