// Package replication is the database side of the replication strategy (docs/replication.md):
// what a migration asks of a source and a target database so that writes keep flowing while
// the encrypted copy is made, and stop only for the cutover. It declares the engine-neutral
// interface and its types; the engines implement it in their own packages (postgres:
// logical replication; mysql: binlog replication), which are the only importers of SQL drivers.
// The workflow speaks to an Engine and never to a driver.
//
// Conventions every engine follows:
//   - Every verb is idempotent: called again after an interruption (kill -9 anywhere), it
//     observes what exists and completes it; "already exists" of our own object is success.
//   - Objects the tool creates are named by Names (derived from the migration id), so a verb
//     finds them again without a journal entry, and cleanup/scan recognise them by the prefix
//     Prefix.
//   - No password is returned, logged or put into an error: the replication user's password
//     is made by the engine, used at once, and reset by the next verb that needs it.
//   - Positions are opaque strings the engine alone interprets (a PostgreSQL LSN, a MariaDB
//     GTID or binlog file:position); the workflow journals them and shows them.
//   - Errors are one line, naming the database object; the workflow adds the resource and the
//     next command.
package replication

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"
)

// Prefix starts the name of every database object the tool creates (slots, publications,
// subscriptions, users); scan reports leftovers by it.
const Prefix = "rdsencrypt_"

// Endpoint is where and as whom the tool reaches a database: the instance's endpoint and its
// master user. Password is held in memory only.
type Endpoint struct {
	Host     string
	Port     int32
	Database string // PostgreSQL: the database to connect to (the instance's DBName, else "postgres"); MySQL: unused
	User     string
	Password string
	// TLS: "require" (default): TLS, the server's certificate verified against RootCAs and
	// its name against Host (PostgreSQL sslmode verify-full); "prefer" and "disable" only
	// when the operator asks (--db-tls), neither verifies anything.
	TLS string
	// Databases (PostgreSQL) are the databases replicated, each with its own publication,
	// slot and subscription named by Names.In; the workflow journals the list when the
	// migration starts (DatabaseLister) and passes it on both endpoints. Empty: Database alone,
	// with Names as they are (a journal from before the list existed).
	Databases []string
	// Token: Password is an IAM database authentication token, which RDS accepts over TLS
	// only; MySQL sends it with the cleartext authentication plugin.
	Token bool
	// RootCAs are the authorities a server's certificate must chain to (--db-ca-bundle: RDS's
	// global-bundle.pem); nil: the system's roots.
	RootCAs *x509.CertPool
}

// String names the endpoint without its password.
func (e Endpoint) String() string { return e.User + "@" + e.Host }

// In is ep connected to database db.
func (e Endpoint) In(db string) Endpoint {
	e.Database = db
	return e
}

// DatabaseLister is implemented by an engine whose replication is per database (PostgreSQL):
// Databases lists, on src, every database the migration must replicate.
type DatabaseLister interface {
	Databases(ctx context.Context, src Endpoint) ([]string, error)
}

// Names are the names of the objects of one migration, the same on every call.
type Names struct {
	Slot         string // PostgreSQL logical slot on the source (and the reverse slot on the target)
	Publication  string // PostgreSQL publication
	Subscription string // PostgreSQL subscription on the target (reverse: on the old source)
	User         string // the replication user the tool creates with least privilege
	// reversed marks the names of the reverse stream (Reverse), so that In puts the
	// database's hash before the "_rev" suffix.
	reversed bool
}

// NamesFor derives the names from a migration id: lower case, [a-z0-9_], under 63 bytes
// (PostgreSQL's identifier limit; MySQL's user names allow 32 and the id part fits).
func NamesFor(migrationID string) Names {
	id := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '_'
	}, migrationID)
	if len(id) > 20 {
		id = id[len(id)-20:]
	}
	return Names{
		Slot:         Prefix + id,
		Publication:  Prefix + id,
		Subscription: Prefix + id,
		User:         Prefix + id,
	}
}

// In are the names of the objects of database db. PostgreSQL's publications and
// subscriptions are per database but its slot names are cluster-wide, so every name carries
// an 8-hex-digit FNV-1a hash of the database's name (any name, any bytes, a fixed length:
// the slot name stays within [a-z0-9_] and 63 bytes with its "_rev" and "_frozen" suffixes).
// In and Reverse commute: n.Reverse().In(db) == n.In(db).Reverse().
func (n Names) In(db string) Names {
	if n.reversed {
		return n.forward().In(db).Reverse()
	}
	h := fnv.New32a()
	h.Write([]byte(db))
	sfx := fmt.Sprintf("_%08x", h.Sum32())
	return Names{Slot: n.Slot + sfx, Publication: n.Publication + sfx, Subscription: n.Subscription + sfx, User: n.User}
}

const reverseSuffix = "_rev"

// Reverse are the names of the reverse stream (new -> old after cutover); the names of a
// reverse stream are their own Reverse.
func (n Names) Reverse() Names {
	if n.reversed {
		return n
	}
	return Names{Slot: n.Slot + reverseSuffix, Publication: n.Publication + reverseSuffix, Subscription: n.Subscription + reverseSuffix,
		User: n.User, reversed: true}
}

// forward undoes Reverse.
func (n Names) forward() Names {
	return Names{Slot: strings.TrimSuffix(n.Slot, reverseSuffix), Publication: strings.TrimSuffix(n.Publication, reverseSuffix),
		Subscription: strings.TrimSuffix(n.Subscription, reverseSuffix), User: n.User}
}

// Severity of a finding.
const (
	Blocker = "blocker" // replication cannot run until it is fixed
	Warning = "warning" // replication runs; the operator should know
)

// Finding is one precondition result: what is wrong and what to do about it.
type Finding struct {
	Severity string
	What     string // e.g. "rds.logical_replication is off"
	Do       string // e.g. "set it to 1 in a custom parameter group and reboot"
	// Objects the finding is about (tables without a primary key...).
	Objects []string
	// Parameter and Value: the DB parameter group setting that lifts a blocker
	// (rds.logical_replication=1), when that is its fix; the workflow may then plan the
	// change to the source's parameter group instead of stopping (docs/replication.md).
	Parameter, Value string
}

// Lag is how far the target is behind the source.
type Lag struct {
	Source  string // the source's current position
	Applied string // the target's applied position
	Bytes   int64  // PostgreSQL: WAL bytes between them; -1 when the engine measures in time
	Seconds float64
	Caught  bool // the target has applied everything the source had when Lag was read
	// Broken says why the stream is not running ("" when it runs): no subscriber on the
	// slot, the replica's SQL thread stopped with an error...
	Broken string
	// Warning is what the operator should know while the stream runs ("" when nothing):
	// a PostgreSQL slot whose WAL is about to be removed (wal_status unreserved)...
	Warning string
}

// TableCheck is one table compared on both sides.
type TableCheck struct {
	Table          string `json:"table"`
	SourceRows     int64  `json:"source_rows"`
	TargetRows     int64  `json:"target_rows"`
	SourceChecksum string `json:"source_checksum"`
	TargetChecksum string `json:"target_checksum"`
	// Marker is the source's change marker read before the table was verified ahead of the
	// freeze (AheadVerifier); "" when it was not. Engine-specific, opaque to the workflow.
	Marker string `json:"marker,omitempty"`
	// TargetMarker is the target's change marker read before the target's sums ahead of the
	// freeze; a table carried from ahead needs both markers unmoved.
	TargetMarker string `json:"target_marker,omitempty"`
	// Ahead: inside the freeze, the table's markers had not moved, so the comparison made
	// ahead of the freeze stands and the table was not read again.
	Ahead bool `json:"ahead,omitempty"`
	// KeysCompared is, inside the freeze, how many keys changed since the verification ahead
	// had their rows compared one by one (PostgreSQL: keys decoded from a slot); the other
	// rows stand from ahead.
	KeysCompared int64 `json:"keys_compared,omitempty"`
}

// Equal says both sides have the same rows.
func (t TableCheck) Equal() bool {
	return t.SourceRows == t.TargetRows && t.SourceChecksum == t.TargetChecksum
}

// Verification is the comparison of every replicated table.
type Verification struct {
	Tables []TableCheck
	// Warning is what the operator should know about how the tables were compared ("" when
	// nothing), e.g. why tables verified ahead of the freeze were compared again inside it.
	Warning string
	// Note says, for the run's log, what finding the changed tables took ("" when nothing).
	Note string
}

// Differences lists the tables that differ.
func (v Verification) Differences() []TableCheck {
	var out []TableCheck
	for _, t := range v.Tables {
		if !t.Equal() {
			out = append(out, t)
		}
	}
	return out
}

// Rows is the number of source rows verified.
func (v Verification) Rows() int64 {
	var n int64
	for _, t := range v.Tables {
		n += t.SourceRows
	}
	return n
}

// ReadOnlyLister is implemented by an engine whose Freeze sets a per-database default that
// an owner may have set on purpose (PostgreSQL: default_transaction_read_only on an archive
// database). The workflow journals the list before the first Freeze and passes it to
// Unfreeze, which leaves those databases read-only.
type ReadOnlyLister interface {
	ReadOnlyDatabases(ctx context.Context, ep Endpoint) ([]string, error)
}

// Frozen is what a SQL-level freeze did.
type Frozen struct {
	Position        string // the source's position once stable
	SessionsEnded   int
	FrozenDatabases []string
}

// Engine is one database engine's replication. Source and target are Endpoints; the
// workflow resolves credentials (docs/replication.md#credentials) before calling.
type Engine interface {
	// Name is the engine family: "postgres" or "mysql".
	Name() string
	// Preconditions checks the source (read only) and lists what blocks or weakens replication.
	Preconditions(ctx context.Context, src Endpoint) ([]Finding, error)
	// PrepareSource creates on the source what must exist before the snapshot so that the
	// snapshot and the stream meet without a gap (PostgreSQL: the replication user, the
	// publication and the logical slot). It returns the source position it prepared at.
	PrepareSource(ctx context.Context, src Endpoint, n Names) (string, error)
	// RecoveryLog names the log file (a DescribeDBLogFiles FilenameContains filter) in which
	// a restored instance records where its recovery ended.
	RecoveryLog() string
	// StartPosition reads, from the restored target's log text (DownloadDBLogFilePortion),
	// the position the stream must start from so that every transaction is applied exactly
	// once. ok is false when the log does not hold it (yet).
	StartPosition(logText string) (pos string, ok bool, err error)
	// Attach starts replication from src to dst at start, dropping on dst any copy of the
	// source-side objects the restore carried. Once attached, the stream runs by itself.
	Attach(ctx context.Context, src, dst Endpoint, n Names, start string) error
	// Lag reads how far dst is behind src.
	Lag(ctx context.Context, src, dst Endpoint, n Names) (Lag, error)
	// Freeze stops writes on src at the SQL level: no new write accepted, application
	// sessions ended, position stable. It is verified before it returns.
	Freeze(ctx context.Context, src Endpoint, n Names) (Frozen, error)
	// Unfreeze undoes Freeze on ep (the old source after a rollback, or never after cutover:
	// the old source stays frozen once retired). keep are databases that were read-only
	// before the freeze (ReadOnlyLister): they stay so.
	Unfreeze(ctx context.Context, ep Endpoint, keep []string) error
	// Drain waits until dst has applied everything up to the frozen position.
	Drain(ctx context.Context, src, dst Endpoint, n Names, frozen string) (Lag, error)
	// Verify compares row counts and checksums of every replicated table; call it while
	// src is frozen and drained, the consistent point.
	Verify(ctx context.Context, src, dst Endpoint) (Verification, error)
	// SyncSequences sets every sequence of dst to its value on src; it returns how many.
	SyncSequences(ctx context.Context, src, dst Endpoint) (int, error)
	// Detach stops replication on dst and removes its subscription (or replica
	// configuration); src's objects stay until Cleanup.
	Detach(ctx context.Context, dst Endpoint, n Names) error
	// Cleanup removes every object of n from ep, on either side; missing objects are fine.
	Cleanup(ctx context.Context, ep Endpoint, n Names) error
	// Leftovers lists the tool's objects left on ep (by Prefix), for scan; a PostgreSQL
	// slot comes with its state (Leftover.Slot).
	Leftovers(ctx context.Context, ep Endpoint) ([]Leftover, error)
}

// ReplicaPositioner is implemented by engines whose start position can be read from a read
// replica of the source stopped at a known point (MySQL: its restored instances do not log
// where their data ends). The workflow snapshots the stopped replica instead of the source.
type ReplicaPositioner interface {
	// StopReplica waits until replica has applied what src had logged when called, stops its
	// replication and returns the source position its data ends at; on a replica already
	// stopped it returns that position.
	StopReplica(ctx context.Context, src, replica Endpoint) (string, error)
	// StoppedAt returns that position while replica's replication stays stopped, an error
	// wrapping ErrReplicaRunning when it runs (ErrNotReplicating when it has no source).
	StoppedAt(ctx context.Context, replica Endpoint) (string, error)
}

// FreezeChecker is implemented by engines whose freeze a session can override (PostgreSQL's
// read-only default): CheckFrozen fails when a replicated table was written on src since
// Freeze. The workflow calls it last before Detach, after Drain and Verify.
type FreezeChecker interface {
	CheckFrozen(ctx context.Context, src Endpoint, n Names) error
}

// SlotLister is implemented by engines whose source needs logical decoding kept on while a
// logical slot exists (PostgreSQL refuses to start with a logical slot and wal_level below
// logical): LogicalSlots lists every logical slot on ep, whoever made it.
type SlotLister interface {
	LogicalSlots(ctx context.Context, ep Endpoint) ([]string, error)
}

// ErrNotReplicating is wrapped by Lag and Drain when the target replicates from nothing (it
// was detached, or never attached).
var ErrNotReplicating = errors.New("no replication configured")

// ErrDatabasesChanged is wrapped by Freeze and CheckFrozen when a database was created or
// dropped on the source since the migration listed them (DDL is not replicated): the
// migration cannot finish without losing writes; it is rolled back and started again.
var ErrDatabasesChanged = errors.New("databases created or dropped since the migration began")

// ErrReplicaRunning is wrapped by ReplicaPositioner.StoppedAt when the replica's replication
// runs again: its data no longer ends at the position it was stopped at.
var ErrReplicaRunning = errors.New("replication runs again")

// ErrStreamLost is wrapped by Lag, Drain and Attach when the stream's position on the source
// is gone (PostgreSQL: the slot was dropped; MySQL/MariaDB: the binary log the replica needs
// was purged): replication cannot go on without a gap, so the migration can only be rolled
// back. Any other error of Lag (the source rebooting, a connection refused) may pass.
var ErrStreamLost = errors.New("the stream's position on the source is lost")

// Poll is the interval at which verbs that wait (Drain, Freeze's stability check) look again.
var Poll = 200 * time.Millisecond

// Family is the engine family of an RDS engine name, the key of the workflow's engines:
// "postgres" for postgres, "mysql" for mysql and mariadb, "" for the others (Aurora
// engines included: the replication route does not handle clusters, docs/replication.md).
func Family(rdsEngine string) string {
	switch rdsEngine {
	case "postgres":
		return "postgres"
	case "mysql", "mariadb":
		return "mysql"
	}
	return ""
}

// Reverser is implemented by an engine that can run replication in reverse after cutover
// (new -> old), so that a rollback after cutover loses no write.
type Reverser interface {
	// PrepareReverse creates on the new primary (still frozen, identical to the old source)
	// what the reverse stream starts from; call it before writes resume.
	PrepareReverse(ctx context.Context, newPrimary Endpoint, n Names) (string, error)
	// AttachReverse starts the reverse stream into the old source once it is reachable.
	AttachReverse(ctx context.Context, newPrimary, old Endpoint, n Names, start string) error
}

// ReadReplicas is implemented by an engine whose RDS read replicas receive only what their
// primary writes to its own log (MySQL, MariaDB: binary log replication). The replication
// strategy builds the new instance's read replicas while the stream feeds it, and the old
// replicas follow the retired source while the reverse stream feeds that
// (docs/replication.md#read-replicas).
type ReadReplicas interface {
	// Cascades returns why a read replica of ep would not receive the changes ep applies as a
	// replica itself ("" when it would).
	Cascades(ctx context.Context, ep Endpoint) (string, error)
	// ReplicaLag reads how far replica, an RDS read replica of primary, is behind it; a
	// replication that stopped is an error carrying the server's message.
	ReplicaLag(ctx context.Context, primary, replica Endpoint) (Lag, error)
}

// Leftover is one of the tool's objects on a database, as Leftovers finds it.
type Leftover struct {
	Object string // "slot rdsencrypt_...", "publication ...", "user ...", ...
	// Drop is the SQL that removes the object, to run as printed as the master user (where it
	// says so, connected to the database it names): scan prints it for an object no migration
	// here can remove.
	Drop string
	// Slot is a replication slot's state now; nil for any other object.
	Slot *SlotState
}

// String is the object's name, as Leftovers named it.
func (l Leftover) String() string { return l.Object }

// SlotState is what a replication slot costs its server now.
type SlotState struct {
	// Active says a walsender reads the slot now (a subscription is attached).
	Active bool `json:"active"`
	// RetainedWAL is the WAL the slot keeps on the server, in bytes:
	// pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn); -1 when the slot keeps none it
	// knows of (no restart_lsn: invalidated, or never reserved).
	RetainedWAL int64 `json:"retained_wal_bytes"`
	// WALStatus is pg_replication_slots.wal_status (PostgreSQL 13+): "reserved" or "extended"
	// (normal), "unreserved" (past max_slot_wal_keep_size: removed at the next checkpoint
	// unless its reader catches up), "lost" (invalidated: its reader can never go on).
	WALStatus string `json:"wal_status,omitempty"`
}
