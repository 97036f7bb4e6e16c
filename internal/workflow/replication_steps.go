package workflow

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/replication"
)

// ReplicationState is the journal of the replication strategy: positions and figures, never
// a password.
type ReplicationState struct {
	Engine string `json:"engine"` // replication.Family
	// Databases (PostgreSQL) are the databases replicated, each with its own publication,
	// slot and subscription, listed before any of them exists; every replication verb works
	// on this list, and the freeze stops when the instance's databases differ from it.
	// Empty in a journal from before the list: the connected database alone.
	Databases []string `json:"databases,omitempty"`
	// PreparedAt is the source's position when the slot was made (before the snapshot).
	PreparedAt string `json:"prepared_at,omitempty"`
	// StartPosition is where the stream starts on the target: its recovery end.
	StartPosition string `json:"start_position,omitempty"`
	// FrozenPosition is the source's position once writes were frozen and stable.
	FrozenPosition string `json:"frozen_position,omitempty"`
	// ReadOnlyDatabases were read-only by their own setting before the freeze
	// (replication.ReadOnlyLister): Unfreeze leaves them so. Read and journaled before the
	// first Freeze, so a Freeze resumed after a kill does not take its own work for theirs.
	ReadOnlyDatabases []string `json:"read_only_databases,omitempty"`
	SessionsEnded     int      `json:"sessions_ended,omitempty"`
	// LagAtFreezeBytes / LagAtFreezeSeconds: the lag when the freeze began.
	LagAtFreezeBytes   int64   `json:"lag_at_freeze_bytes,omitempty"`
	LagAtFreezeSeconds float64 `json:"lag_at_freeze_seconds,omitempty"`
	// DrainFigures are the forward cutover's drain, verification and sequences.
	DrainFigures
	// VerifiedAhead are the tables verified while writes continued, with their change markers
	// (replication.AheadVerifier); the freeze compares again only those whose marker moved.
	VerifiedAhead []replication.TableCheck `json:"verified_ahead,omitempty"`
	// ReadOnlyGroup is the DB parameter group whose read_only froze a MySQL/MariaDB source
	// (replication_mysql.go), ReadOnlyBefore the value it had before and ReadOnlyBeforeSource
	// where that value came from (DescribeDBParameters' Source: "user" is the operator's).
	ReadOnlyGroup        string `json:"read_only_group,omitempty"`
	ReadOnlyBefore       string `json:"read_only_before,omitempty"`
	ReadOnlyBeforeSource string `json:"read_only_before_source,omitempty"`
	// ReverseStart is where the reverse stream (new -> retired source) starts, read inside the
	// freeze; ReverseAttached once it runs; ReverseDrained once a rollback drained it.
	ReverseStart    string `json:"reverse_start,omitempty"`
	ReverseAttached bool   `json:"reverse_attached,omitempty"`
	ReverseDrained  bool   `json:"reverse_drained,omitempty"`
	// ReverseWALBoundMB is the max_slot_wal_keep_size set for the reverse slots in the new
	// instance's copy of the group at the cutover (PostgreSQL; 0: not set).
	ReverseWALBoundMB int64 `json:"reverse_wal_bound_mb,omitempty"`
	// ReverseWALBoundBefore is the copy's max_slot_wal_keep_size before the bound, read and
	// journaled before it is written ("-1" when the group set none): cleanup puts back a
	// bound the operator had (review T14).
	ReverseWALBoundBefore string `json:"reverse_wal_bound_before,omitempty"`
	// ReverseWALBoundBeforeSource is where that value came from ("user": the operator's).
	ReverseWALBoundBeforeSource string `json:"reverse_wal_bound_before_source,omitempty"`
	// RebuiltFromTags: the journal was rebuilt from tags (rebuild.go), which hold none of the
	// above: it serves the rollback alone.
	RebuiltFromTags bool `json:"rebuilt_from_tags,omitempty"`
	// ReverseDrain are the figures of a rollback after cutover: the reverse stream drained
	// into the retired source, both verified, the sequences set (replication_reverse.go).
	ReverseDrain *DrainFigures `json:"reverse_drain,omitempty"`
}

// DrainFigures are a cutover's figures inside its freeze: the drain's time, the tables and
// rows verified, and the sequences set.
type DrainFigures struct {
	// DrainSeconds is the drain's time on the local clock.
	DrainSeconds   float64 `json:"drain_seconds,omitempty"`
	TablesVerified int     `json:"tables_verified,omitempty"`
	RowsVerified   int64   `json:"rows_verified,omitempty"`
	// TablesAhead are the tables whose comparison ahead of the freeze stood at the freeze (not
	// read again), TablesInFreeze those compared inside it, in VerifySeconds (local clock).
	TablesAhead    int `json:"tables_ahead,omitempty"`
	TablesInFreeze int `json:"tables_in_freeze,omitempty"`
	// TablesByKeys are those of TablesAhead whose rows changed since were compared one by one
	// inside the freeze, KeysCompared the keys of those rows (PostgreSQL: keys decoded from a
	// slot, docs/replication.md#verification-ahead-of-the-freeze).
	TablesByKeys    int     `json:"tables_by_keys,omitempty"`
	KeysCompared    int64   `json:"keys_compared,omitempty"`
	VerifySeconds   float64 `json:"verify_seconds,omitempty"`
	SequencesSynced int     `json:"sequences_synced,omitempty"`
}

// verified records a verification that took since began.
func (f *DrainFigures) verified(v replication.Verification, took time.Duration) {
	f.TablesVerified, f.RowsVerified = len(v.Tables), v.Rows()
	f.TablesAhead, f.TablesInFreeze = v.Ahead(), len(v.Tables)-v.Ahead()
	f.TablesByKeys, f.KeysCompared = 0, 0
	for _, t := range v.Tables {
		if t.KeysCompared > 0 {
			f.TablesByKeys++
			f.KeysCompared += t.KeysCompared
		}
	}
	f.VerifySeconds = took.Seconds()
}

// verifiedText is the log's account of a verification.
func (f *DrainFigures) verifiedText() string {
	byKeys := ""
	if f.TablesByKeys > 0 {
		byKeys = fmt.Sprintf(", %d of them by their %d changed keys inside it", f.TablesByKeys, f.KeysCompared)
	}
	return fmt.Sprintf("verified %d tables, %d rows: equal on both (%d stood from the verification ahead of the freeze%s, %d compared in full inside it in %.1f s)",
		f.TablesVerified, f.RowsVerified, f.TablesAhead, byKeys, f.TablesInFreeze, f.VerifySeconds)
}

// dbRun is the replication strategy's in-memory material for one instance of a run.
type dbRun struct {
	eng   replication.Engine
	login DBLogin
}

// replicationOf returns the engine and the in-memory login of inst, resolved once per
// instance and run (again when an expiring login nears its end, or when a token was built for
// the endpoint the instance had before a rename: review S4). Each instance has its own
// password (docs/replication.md#credentials): the source and, after cutover, the retired
// source keep theirs; the new instance has its own once step manage-master-password gave it a
// secret. Until then it was restored from the source's snapshot and has the source's master
// password, so it logs in as the source does.
func (r *run) replicationOf(ctx context.Context, inst *model.Instance) (*dbRun, error) {
	key := inst.ResourceID + "|" + inst.MasterUserSecretARN
	if db := r.db[key]; db != nil && db.login.usableAt(inst.Endpoint) {
		return db, nil
	}
	family := replication.Family(inst.Settings.Engine)
	eng := r.e.Replication[family]
	if eng == nil {
		return nil, errorf(r.st.Source, "rdsencrypt rollback "+r.st.ID, nil,
			"this rdsencrypt has no replication engine for %s", inst.Settings.Engine)
	}
	if r.e.Credentials == nil {
		return nil, errorf(r.st.Source, "rdsencrypt resume "+r.st.ID, nil, "no way to obtain the master password of %s", inst.ID)
	}
	owner := inst
	if inst.MasterUserSecretARN == "" && r.st.SourceRID != "" && inst.ResourceID != r.st.SourceRID {
		src, err := r.source(ctx)
		if err != nil {
			return nil, err
		}
		if src.ResourceID == r.st.SourceRID { // a fake or a changed API could answer another
			owner = src
		}
	}
	var login DBLogin
	if owner != inst {
		db, err := r.replicationOf(ctx, owner)
		if err != nil {
			return nil, err
		}
		login = db.login
	}
	if owner == inst || login.IsToken() { // a token is for one endpoint: inst gets its own
		var err error
		if login, err = r.e.Credentials.Login(ctx, inst); err != nil {
			return nil, errorf(inst.ID, "pass --db-secret ARN or set "+EnvDBPassword+", then rdsencrypt resume "+r.st.ID, err,
				"cannot obtain the master password of %s", inst.ID)
		}
	}
	if r.db == nil {
		r.db = map[string]*dbRun{}
	}
	r.db[key] = &dbRun{eng: eng, login: login}
	return r.db[key], nil
}

// endpointOf is inst's endpoint with inst's own login.
func (r *run) endpointOf(ctx context.Context, inst *model.Instance) (replication.Endpoint, error) {
	db, err := r.replicationOf(ctx, inst)
	if err != nil {
		return replication.Endpoint{}, err
	}
	return r.replEndpoint(inst, db.login), nil
}

// replEndpoint is dbEndpoint with the journaled databases of the migration: the endpoint
// every replication verb of this run is given, on either side.
func (r *run) replEndpoint(inst *model.Instance, login DBLogin) replication.Endpoint {
	ep := r.e.dbEndpoint(inst, login)
	if r.st.Replication != nil {
		ep.Databases = r.st.Replication.Databases
	}
	return ep
}

// dbEndpoint is how the tool reaches inst's database with login.
func (e *Engine) dbEndpoint(inst *model.Instance, login DBLogin) replication.Endpoint {
	db := inst.DBName
	if db == "" && replication.Family(inst.Settings.Engine) == "postgres" {
		db = "postgres"
	}
	mode := e.DBTLS
	if mode == "" {
		mode = "require"
	}
	return replication.Endpoint{Host: inst.Endpoint, Port: inst.Settings.Port, Database: db, User: login.User,
		Password: login.Password.Reveal(), TLS: mode, RootCAs: e.DBRootCAs, Token: login.IsToken()}
}

// replSource and replTarget describe the source and the target again and return their
// endpoints (the source's name holds the source until the cutover).
func (r *run) replSource(ctx context.Context) (*dbRun, replication.Endpoint, error) {
	src, err := r.source(ctx)
	if err != nil {
		return nil, replication.Endpoint{}, err
	}
	db, err := r.replicationOf(ctx, src)
	if err != nil {
		return nil, replication.Endpoint{}, err
	}
	return db, r.replEndpoint(src, db.login), nil
}

// replBoth is what most replication steps start with: the source's engine and endpoint, and
// the target's endpoint.
func (r *run) replBoth(ctx context.Context) (*dbRun, replication.Endpoint, replication.Endpoint, error) {
	db, src, err := r.replSource(ctx)
	if err != nil {
		return nil, replication.Endpoint{}, replication.Endpoint{}, err
	}
	dst, err := r.replTarget(ctx)
	if err != nil {
		return nil, replication.Endpoint{}, replication.Endpoint{}, err
	}
	return db, src, dst, nil
}

// resumeOrRollback is the next command of a replication step that stopped.
func (r *run) resumeOrRollback() string {
	return "rdsencrypt resume " + r.st.ID + ", or rdsencrypt rollback " + r.st.ID
}

func (r *run) replTarget(ctx context.Context) (replication.Endpoint, error) {
	t, err := r.target(ctx)
	if err != nil {
		return replication.Endpoint{}, err
	}
	return r.endpointOf(ctx, t)
}

func (r *run) replState() *ReplicationState {
	if r.st.Replication == nil {
		r.st.Replication = &ReplicationState{}
	}
	return r.st.Replication
}

// dbError names the database and the next command.
func (r *run) dbError(err error, next, format string, args ...any) error {
	if untrustedCertificate(err) {
		next = "pass the CA bundle the server's certificate chains to (RDS: global-bundle.pem) with " + FlagDBCABundle + " FILE, then " + next
	}
	return errorf(r.st.Source, next, err, format, args...)
}

// FlagDBCABundle is the flag that names the CA bundle database servers are verified with.
const FlagDBCABundle = "--db-ca-bundle"

// untrustedCertificate reports whether err is a database server's certificate that did not
// verify: not signed by a trusted CA, or not for the endpoint's name.
func untrustedCertificate(err error) bool {
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var host x509.HostnameError
	var verify *tls.CertificateVerificationError
	return err != nil && (errors.As(err, &unknown) || errors.As(err, &invalid) || errors.As(err, &host) || errors.As(err, &verify))
}

func applyReplPrepare(ctx context.Context, r *run) error {
	db, src, err := r.replSource(ctx)
	if err != nil {
		return err
	}
	findings, err := db.eng.Preconditions(ctx, src)
	if err != nil {
		return r.dbError(err, "rdsencrypt resume "+r.st.ID, "cannot check %s's database", r.st.Source)
	}
	if b := blockers(findings); len(b) > 0 {
		return r.dbError(nil, "rdsencrypt rollback "+r.st.ID+" (then fix it, or migrate with --strategy snapshot)", "%s", strings.Join(b, "; "))
	}
	st := r.replState()
	if st.Engine == "" { // journaled before any object exists, so rollback looks for them
		if lister, ok := db.eng.(replication.DatabaseLister); ok {
			if st.Databases, err = lister.Databases(ctx, src); err != nil {
				return r.dbError(err, "rdsencrypt resume "+r.st.ID, "cannot list the databases of %s", r.st.Source)
			}
			src.Databases = st.Databases
		}
		st.Engine = db.eng.Name()
		if err := r.save(); err != nil {
			return err
		}
	}
	pos, err := db.eng.PrepareSource(ctx, src, replication.NamesFor(r.st.ID))
	if err != nil {
		return r.dbError(err, "rdsencrypt resume "+r.st.ID, "cannot prepare replication on %s", r.st.Source)
	}
	st.PreparedAt = pos
	if len(st.Databases) > 0 {
		r.log("replication prepared on %s at %s for database(s) %s", r.st.Source, pos, strings.Join(st.Databases, ", "))
	} else {
		r.log("replication prepared on %s at %s", r.st.Source, pos)
	}
	return nil
}

func blockers(fs []replication.Finding) []string {
	var out []string
	for _, f := range fs {
		if f.Severity == replication.Blocker {
			out = append(out, f.What+": "+f.Do)
		}
	}
	return out
}

func applyReplAttach(ctx context.Context, r *run) error {
	db, src, dst, err := r.replBoth(ctx)
	if err != nil {
		return err
	}
	st := r.replState()
	if st.StartPosition == "" {
		pos, err := r.recoveryEnd(ctx, db.eng)
		if err != nil {
			return err
		}
		st.StartPosition = pos
		if err := r.save(); err != nil { // journaled before the subscription exists
			return err
		}
	}
	if err := db.eng.Attach(ctx, src, dst, replication.NamesFor(r.st.ID), st.StartPosition); err != nil {
		return r.dbError(err, r.resumeOrRollback(), "cannot start replication to %s", r.names.Target)
	}
	r.log("replication from %s to %s started at %s", r.st.Source, r.names.Target, st.StartPosition)
	return nil
}

// recoveryEnd reads the target's logs, oldest first, for where its recovery ended.
func (r *run) recoveryEnd(ctx context.Context, eng replication.Engine) (string, error) {
	files, err := r.api.LogFiles(ctx, r.names.Target, eng.RecoveryLog())
	if err != nil {
		return "", err
	}
	for _, f := range files {
		text, err := r.api.ReadLogFile(ctx, r.names.Target, f)
		if err != nil {
			return "", err
		}
		pos, ok, err := eng.StartPosition(text)
		if err != nil {
			return "", r.dbError(err, "rdsencrypt rollback "+r.st.ID, "cannot read the recovery end from %s's log %s", r.names.Target, f)
		}
		if ok {
			return pos, nil
		}
	}
	return "", r.dbError(nil, "rdsencrypt rollback "+r.st.ID, "no log of %s says where its recovery ended (%d file(s) named *%s*)", r.names.Target, len(files), eng.RecoveryLog())
}

// waitReplCatchUp polls the lag until the target is close enough for the freeze, showing it
// as progress. A lost stream (its position gone from the source) stops the step at once,
// for a rollback; a stream that stopped or a source that does not answer (a reboot) is
// shown and waited for up to Engine.StreamGrace, then stops the step, resumable.
func waitReplCatchUp(ctx context.Context, r *run) error {
	db, src, dst, err := r.replBoth(ctx)
	if err != nil {
		return err
	}
	n := replication.NamesFor(r.st.ID)
	grace := r.e.streamGrace()
	var first int64 = -1
	var brokenSince time.Time
	for {
		lag, err := db.eng.Lag(ctx, src, dst, n)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, replication.ErrStreamLost):
			return r.dbError(err, "rdsencrypt rollback "+r.st.ID+" (the stream cannot go on without a gap)",
				"replication from %s to %s is lost (%s takes writes)", r.st.Source, r.names.Target, r.st.Source)
		case err != nil:
			lag = replication.Lag{Bytes: -1, Broken: err.Error()}
		}
		if lag.Broken != "" {
			if brokenSince.IsZero() {
				brokenSince = r.e.now()
				r.log("replication from %s to %s stopped: %s; waiting up to %s for it to run again", r.st.Source, r.names.Target, lag.Broken, grace)
			}
			if r.e.now().Sub(brokenSince) >= grace {
				return r.dbError(nil, r.resumeOrRollback(), "replication from %s to %s stopped during the catch-up and did not run again within %s: %s (%s takes writes)",
					r.st.Source, r.names.Target, grace, lag.Broken, r.st.Source)
			}
			r.notify(Event{Type: EventStepProgress, Resource: r.names.Target, Status: "replication stopped", Percent: -1, Message: lag.Broken})
		} else {
			if !brokenSince.IsZero() {
				r.log("replication from %s to %s runs again", r.st.Source, r.names.Target)
			}
			brokenSince = time.Time{}
			pct := -1
			if lag.Bytes >= 0 {
				if first < 0 || lag.Bytes > first {
					first = lag.Bytes
				}
				if first > 0 {
					pct = int(100 - 100*lag.Bytes/first)
				} else {
					pct = 100
				}
			}
			r.notify(Event{Type: EventStepProgress, Resource: r.names.Target, Status: "replicating", Percent: pct, Message: lagText(lag)})
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

func lagText(l replication.Lag) string {
	text := fmt.Sprintf("lag %.0f s (source at %s, applied %s)", l.Seconds, l.Source, l.Applied)
	if l.Bytes >= 0 {
		text = fmt.Sprintf("lag %d bytes (source at %s, applied %s)", l.Bytes, l.Source, l.Applied)
	}
	if l.Warning != "" {
		text += "; warning: " + l.Warning
	}
	return text
}

func observeReplFreeze(ctx context.Context, r *run) (bool, error) {
	return r.st.Replication != nil && r.st.Replication.FrozenPosition != "", nil
}

func applyReplFreeze(ctx context.Context, r *run) error {
	db, src, dst, err := r.replBoth(ctx)
	if err != nil {
		return err
	}
	if r.st.FreezeAt.IsZero() {
		// Catch up again before freezing: the lag that built up while writes flowed through the
		// verification ahead (minutes on a large database) and the wait for this approval
		// would otherwise be drained inside the freeze (docs/replication.md, the route's table).
		if err := waitReplCatchUp(ctx, r); err != nil {
			return err
		}
	}
	n := replication.NamesFor(r.st.ID)
	st := r.replState()
	if lag, err := db.eng.Lag(ctx, src, dst, n); err == nil {
		st.LagAtFreezeBytes, st.LagAtFreezeSeconds = lag.Bytes, lag.Seconds
	}
	if a, ok := db.eng.(replication.Advancer); ok && r.st.FreezeAt.IsZero() && len(st.VerifiedAhead) > 0 {
		// An optimisation only: what is not read now is read inside the freeze.
		began := r.e.now()
		if err := a.Advance(ctx, src, dst, st.VerifiedAhead); err != nil && ctx.Err() == nil {
			r.log("warning: reading what changed since the verification ahead: %v (the freeze's verification reads it)", err)
		} else if err == nil {
			r.log("read what changed since the verification ahead in %.1f s, before the freeze", r.e.now().Sub(began).Seconds())
		}
	}
	if h := r.st.Options.FreezeHook; h != "" {
		if err := r.hooks().Run(ctx, "freeze", h, r.hookEnv()); err != nil {
			if ctx.Err() != nil {
				return err
			}
			return errorf(r.st.Source, "fix the hook and run rdsencrypt resume "+r.st.ID+", or rdsencrypt rollback "+r.st.ID, err,
				"freeze hook failed; nothing was changed")
		}
	}
	if r.st.FreezeAt.IsZero() {
		if l, ok := db.eng.(replication.ReadOnlyLister); ok {
			if st.ReadOnlyDatabases, err = l.ReadOnlyDatabases(ctx, src); err != nil {
				return r.dbError(err, r.resumeOrRollback(), "cannot freeze writes on %s", r.st.Source)
			}
		}
		r.st.FreezeAt = r.awsNow()
		if err := r.save(); err != nil {
			return err
		}
	}
	if usesGroupFreeze(r.st) {
		if err := r.freezeGroup(ctx); err != nil {
			return err
		}
	}
	f, err := db.eng.Freeze(ctx, src, n)
	if errors.Is(err, replication.ErrDatabasesChanged) {
		return r.dbError(err, "rdsencrypt rollback "+r.st.ID+" (then migrate again)", "cannot freeze writes on %s", r.st.Source)
	}
	if err != nil {
		return r.dbError(err, r.resumeOrRollback(), "cannot freeze writes on %s", r.st.Source)
	}
	st.FrozenPosition, st.SessionsEnded = f.Position, f.SessionsEnded
	r.log("writes frozen on %s at %s (AWS time %s): %d session(s) ended, position %s", r.st.Source,
		strings.Join(f.FrozenDatabases, ", "), r.st.FreezeAt.Format("15:04:05"), f.SessionsEnded, f.Position)
	return nil
}

func applyReplDrain(ctx context.Context, r *run) error {
	db, src, dst, err := r.replBoth(ctx)
	if err != nil {
		return err
	}
	st := r.replState()
	began := r.e.now()
	lag, err := db.eng.Drain(ctx, src, dst, replication.NamesFor(r.st.ID), st.FrozenPosition)
	if err != nil {
		return r.dbError(err, r.resumeOrRollback(), "cannot drain replication to %s", r.names.Target)
	}
	st.DrainSeconds = r.e.now().Sub(began).Seconds()
	r.log("drained in %.1f s: %s", st.DrainSeconds, lagText(lag))
	return nil
}

// applyReplAhead verifies the tables while writes continue, for an engine with change
// markers; the tables that agree are journaled with their markers for applyReplVerify.
func applyReplAhead(ctx context.Context, r *run) error {
	db, src, dst, err := r.replBoth(ctx)
	if err != nil {
		return err
	}
	if _, ok := db.eng.(replication.AheadVerifier); !ok {
		r.log("the %s engine has no change markers: every table is verified inside the freeze", db.eng.Name())
		return nil
	}
	v, ahead, err := verifyAhead(ctx, db.eng, src, dst, replication.NamesFor(r.st.ID))
	if err != nil {
		return r.dbError(err, r.resumeOrRollback(), "cannot verify %s against %s ahead of the freeze", r.names.Target, r.st.Source)
	}
	if v.Warning != "" {
		r.log("warning: %s", v.Warning)
	}
	r.replState().VerifiedAhead = ahead
	r.log("verified %d of %d tables ahead of the freeze; the freeze compares the rest and those written since", len(ahead), len(v.Tables))
	return nil
}

func applyReplVerify(ctx context.Context, r *run) error {
	db, src, dst, err := r.replBoth(ctx)
	if err != nil {
		return err
	}
	st := r.replState()
	began := r.e.now()
	v, err := verifyChanged(ctx, db.eng, src, dst, st.VerifiedAhead)
	if err != nil {
		return r.dbError(err, r.resumeOrRollback(), "cannot verify %s against %s", r.names.Target, r.st.Source)
	}
	if v.Warning != "" {
		r.log("warning: %s", v.Warning)
	}
	if d := v.Differences(); len(d) > 0 {
		return r.dbError(nil, "rdsencrypt rollback "+r.st.ID, "%d of %d tables differ on %s, stopping before the cutover: %s",
			len(d), len(v.Tables), r.names.Target, tableList(d))
	}
	st.verified(v, r.e.now().Sub(began))
	r.log("%s", st.verifiedText())
	if v.Note != "" {
		r.log("%s", v.Note)
	}
	return nil
}

// verifyAhead verifies the tables of dst against src while src takes writes, for an engine
// with change markers; it returns those that agreed, with their markers, for verifyChanged.
func verifyAhead(ctx context.Context, eng replication.Engine, src, dst replication.Endpoint, n replication.Names) (replication.Verification, []replication.TableCheck, error) {
	av, ok := eng.(replication.AheadVerifier)
	if !ok {
		return replication.Verification{}, nil, nil
	}
	v, err := av.VerifyAhead(ctx, src, dst, n)
	if err != nil {
		return v, nil, err
	}
	var ahead []replication.TableCheck
	for _, t := range v.Tables {
		if t.Marker != "" {
			ahead = append(ahead, t)
		}
	}
	return v, ahead, nil
}

// verifyChanged verifies, src frozen and dst drained, the tables that changed since ahead
// (every table for an engine without change markers, or with nothing verified ahead).
func verifyChanged(ctx context.Context, eng replication.Engine, src, dst replication.Endpoint, ahead []replication.TableCheck) (replication.Verification, error) {
	if av, ok := eng.(replication.AheadVerifier); ok && len(ahead) > 0 {
		return av.VerifyChanged(ctx, src, dst, ahead)
	}
	return eng.Verify(ctx, src, dst)
}

// tableList names up to five differing tables with their row counts on both sides.
func tableList(d []replication.TableCheck) string {
	var list []string
	for _, t := range d[:min(5, len(d))] {
		list = append(list, fmt.Sprintf("%s (%d rows, %d on the other side)", t.Table, t.SourceRows, t.TargetRows))
	}
	return strings.Join(list, ", ")
}

func applyReplSequences(ctx context.Context, r *run) error {
	db, src, dst, err := r.replBoth(ctx)
	if err != nil {
		return err
	}
	n, err := db.eng.SyncSequences(ctx, src, dst)
	if err != nil {
		return r.dbError(err, r.resumeOrRollback(), "cannot set the sequences of %s", r.names.Target)
	}
	r.replState().SequencesSynced = n
	return nil
}

func applyReplDetach(ctx context.Context, r *run) error {
	db, src, dst, err := r.replBoth(ctx)
	if err != nil {
		return err
	}
	n := replication.NamesFor(r.st.ID)
	// Last look before the renames: the SQL freeze is advisory (docs/replication.md).
	if fc, ok := db.eng.(replication.FreezeChecker); ok {
		if err := fc.CheckFrozen(ctx, src, n); err != nil {
			return r.dbError(err, "rdsencrypt rollback "+r.st.ID+" (then stop the writer and migrate again)",
				"writes reached %s after the freeze, stopping before the cutover", r.st.Source)
		}
	}
	if err := db.eng.Detach(ctx, dst, n); err != nil {
		return r.dbError(err, "rdsencrypt resume "+r.st.ID, "cannot stop replication to %s", r.names.Target)
	}
	if err := db.eng.Cleanup(ctx, src, n); err != nil {
		return r.dbError(err, "rdsencrypt resume "+r.st.ID, "cannot remove the replication objects from %s", r.st.Source)
	}
	return r.prepareReverse(ctx, db, dst, n) // replication_reverse.go
}

// applyReplCleanupTarget removes from the new instance (now at the source's name) the copies
// of the publication and user that the snapshot carried.
func applyReplCleanupTarget(ctx context.Context, r *run) error {
	if r.st.Replication != nil && r.st.Replication.ReverseAttached {
		r.log("the replication user stays on %s for the reverse stream until cleanup", r.st.Source)
		return nil
	}
	t, err := r.target(ctx)
	if err != nil {
		return err
	}
	db, err := r.replicationOf(ctx, t)
	if err != nil {
		return err
	}
	if err := db.eng.Cleanup(ctx, r.replEndpoint(t, db.login), replication.NamesFor(r.st.ID)); err != nil {
		return r.dbError(err, "rdsencrypt resume "+r.st.ID, "cannot remove the replication objects from %s", t.ID)
	}
	return nil
}

// undoReplication, in a rollback once the source is back at its name: the source's
// replication objects dropped and, when the SQL freeze ran, writes allowed again.
func undoReplication(ctx context.Context, r *run) error {
	if r.st.Replication == nil {
		return nil
	}
	db, src, err := r.replSource(ctx)
	if err != nil {
		return err
	}
	if rp := r.st.Replication; rp.RebuiltFromTags && len(rp.Databases) == 0 {
		// The journal's list of databases is in no tag: every database the engine replicates
		// now (objects missing from one are fine to Cleanup).
		if lister, ok := db.eng.(replication.DatabaseLister); ok {
			dbs, err := lister.Databases(ctx, src)
			if err != nil {
				return r.dbError(err, "rdsencrypt rollback "+r.st.ID, "cannot list the databases of %s", r.st.Source)
			}
			rp.Databases, src.Databases = dbs, dbs
			if err := r.save(); err != nil {
				return err
			}
		}
	}
	if usesGroupFreeze(r.st) && r.st.Replication.ReadOnlyGroup != "" {
		if err := r.thawGroup(ctx, r.st.Replication.ReadOnlyGroup); err != nil { // the source's group
			return err
		}
	}
	if err := db.eng.Cleanup(ctx, src, replication.NamesFor(r.st.ID)); err != nil {
		return r.dbError(err, "rdsencrypt rollback "+r.st.ID, "cannot remove the replication objects from %s", r.st.Source)
	}
	// The source change is undone while the source is still frozen: one cut of writes, not
	// two. Refused for someone else's logical slot, the source gets its writes back first.
	undone := r.undoSourceGroup(ctx) // replication_source_group.go
	if undone != nil && !errors.Is(undone, errForeignSlots) {
		return undone
	}
	if r.st.Replication.RebuiltFromTags {
		// Whether the freeze ran, and which databases were read-only before it, is in no tag:
		// lifting it blindly could make an owner's read-only database writable.
		r.log("warning: the journal was rebuilt from tags: if %s still refuses writes (the migration stopped inside its freeze), lift the freeze by hand: "+
			"PostgreSQL: ALTER DATABASE <name> RESET default_transaction_read_only in each database the freeze made read-only; MySQL, MariaDB: read_only back in %s's DB parameter group",
			r.st.Source, r.st.Source)
	}
	if r.st.Replication.FrozenPosition != "" || !r.st.FreezeAt.IsZero() {
		if err := db.eng.Unfreeze(ctx, src, r.replState().ReadOnlyDatabases); err != nil {
			return r.dbError(err, "rdsencrypt rollback "+r.st.ID, "cannot let %s accept writes again", r.st.Source)
		}
		r.log("%s accepts writes again", r.st.Source)
	}
	return undone
}

// operatorsValue says whether a parameter value journaled before the tool changed it was the
// operator's, to be put back as such, rather than the family's default, to be reset: by its
// Source (DescribeDBParameters: "user" when the group sets it), journaled with it; a journal
// from before the Source was kept has only the value, and plain says whether that value is one
// the operator sets (review T14, S12: the old rule, by value alone, took a default that reads
// like a plain value for the operator's and wrote it into the group).
func operatorsValue(source string, plain bool) bool {
	if source != "" {
		return source == model.ParameterSourceUser
	}
	return plain
}

// readOnlyWasOperators says whether the freeze's group set read_only itself before the freeze.
func (rp *ReplicationState) readOnlyWasOperators() bool {
	return operatorsValue(rp.ReadOnlyBeforeSource, rp.ReadOnlyBefore == "0" || rp.ReadOnlyBefore == "1")
}

// walBoundWasOperators says whether the new instance's copy set max_slot_wal_keep_size itself
// before the cutover's bound.
func (rp *ReplicationState) walBoundWasOperators() bool {
	v := rp.ReverseWALBoundBefore
	return operatorsValue(rp.ReverseWALBoundBeforeSource, v != "" && v != "-1")
}
