// Package postgres is the PostgreSQL engine of the replication strategy: logical replication
// (publication, logical slot, subscription) from the source to the restored encrypted
// instance. docs/replication.md describes each verb; every verb is idempotent.
package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rdsencrypt/rdsencrypt/internal/replication"
)

// ApplicationName marks the tool's own sessions, which Freeze does not end.
const ApplicationName = "rdsencrypt"

// Engine is the PostgreSQL replication engine.
type Engine struct {
	// StableFor is how long the source must assign no transaction id for Freeze to call it
	// stable (default 1 s).
	StableFor time.Duration
	// SessionWait bounds how long the verification inside the freeze waits for sessions its
	// change markers cannot account for to end (default 10 s); past it every table is compared.
	SessionWait time.Duration
	// MaxKeys bounds the changed keys the verification from keys holds in memory for one
	// database (default DefaultMaxKeys): past it the table holding the most is dropped to the
	// comparison in full (verify_keys.go, decoder.shed).
	MaxKeys int

	mu sync.Mutex
	// frozenAt is, per source (host:port), the server's clock once Freeze had made every
	// database read-only: sessions that started later cannot have written (review S2).
	frozenAt map[string]time.Time
	// read are the keys Advance consumed from the verify slots, per host:port/slot
	// (verify_keys.go).
	read map[string]*readKeys
}

// New returns the engine.
func New() replication.Engine { return &Engine{} }

var (
	_ replication.Engine        = (*Engine)(nil)
	_ replication.Reverser      = (*Engine)(nil)
	_ replication.FreezeChecker = (*Engine)(nil)
)

// Name is the engine family.
func (*Engine) Name() string { return "postgres" }

func connect(ctx context.Context, ep replication.Endpoint) (*pgx.Conn, error) {
	db := ep.Database
	if db == "" {
		db = "postgres"
	}
	sslmode := ep.TLS
	if sslmode == "" || sslmode == "require" {
		// PostgreSQL's "require" encrypts without checking whom it talks to; verify-full
		// checks the chain and the host name (PostgreSQL manual, "SSL Support", 34.19.1).
		sslmode = "verify-full"
	}
	u := url.URL{Scheme: "postgres", User: url.UserPassword(ep.User, ep.Password),
		Host: fmt.Sprintf("%s:%d", ep.Host, ep.Port), Path: "/" + db}
	q := url.Values{"sslmode": {sslmode}, "application_name": {ApplicationName}, "connect_timeout": {"10"}}
	u.RawQuery = q.Encode()
	cfg, err := pgx.ParseConfig(u.String())
	if err != nil {
		return nil, fmt.Errorf("connection settings for %s: %w", ep, redactErr(err, ep.Password))
	}
	if sslmode == "verify-full" && ep.RootCAs != nil {
		cfg.TLSConfig.RootCAs = ep.RootCAs
		for _, f := range cfg.Fallbacks {
			if f.TLSConfig != nil {
				f.TLSConfig.RootCAs = ep.RootCAs
			}
		}
	}
	// The tool's own sessions write on a frozen source (cleanup, unfreeze): Freeze's
	// read-only default is for the application's sessions.
	cfg.RuntimeParams["default_transaction_read_only"] = "off"
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s:%d as %s: %w", ep.Host, ep.Port, ep.User, redactErr(err, ep.Password))
	}
	return c, nil
}

// subscriberTLS is the TLS part of a subscription's connection string. The subscriber is a
// server connecting to the publisher, and verifies it as the tool does (verify-full) when the
// tool's own TLS mode is "require": against the CA bundle in the subscriber's own
// ssl_cert_file, which on RDS holds the RDS CA chain (AWS Knowledge Center, "root
// certificate file ... does not exist" with sslmode verify-full: point sslrootcert at
// ssl_cert_file), as on the data plane (docs/data-plane.md#tls).
func subscriberTLS(ctx context.Context, c *pgx.Conn, mode string) (string, error) {
	if mode == "prefer" || mode == "disable" {
		return "sslmode=" + mode, nil
	}
	var file string
	if err := c.QueryRow(ctx, "SHOW ssl_cert_file").Scan(&file); err != nil {
		return "", fmt.Errorf("read ssl_cert_file, the CA bundle the subscription verifies the source with: %w", err)
	}
	quoted := "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(file) + "'"
	return "sslmode=verify-full sslrootcert=" + quoted, nil
}

// redactErr keeps a password out of an error text.
func redactErr(err error, secret string) error {
	if err == nil || secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), secret, "********"))
}

func with(ctx context.Context, ep replication.Endpoint, f func(*pgx.Conn) error) error {
	c, err := connect(ctx, ep)
	if err != nil {
		return err
	}
	defer c.Close(context.WithoutCancel(ctx))
	return redactErr(f(c), ep.Password)
}

func ident(s ...string) string { return pgx.Identifier(s).Sanitize() }

func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func randomPassword() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// userTables lists the ordinary, permanent tables outside the system schemas, as
// schema-qualified, quoted names.
const userTablesSQL = `SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE c.relkind IN ('r', 'p') AND c.relpersistence = 'p' AND NOT c.relispartition
	AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
	ORDER BY 1, 2`

func userTables(ctx context.Context, c *pgx.Conn) ([]string, error) {
	rows, err := c.Query(ctx, userTablesSQL)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	var out []string
	for rows.Next() {
		var s, t string
		if err := rows.Scan(&s, &t); err != nil {
			return nil, err
		}
		out = append(out, ident(s, t))
	}
	return out, rows.Err()
}

func strings1(ctx context.Context, c *pgx.Conn, q string, args ...any) ([]string, error) {
	rows, err := c.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// databasesSQL lists the databases a migration replicates: every one that takes
// connections, but the templates (template0 refuses connections, template1 and any other
// template is a pattern for CREATE DATABASE) and rdsadmin, RDS's own database, which the
// master user may not connect to.
const databasesSQL = `SELECT datname::text FROM pg_database WHERE datallowconn AND NOT datistemplate AND datname <> 'rdsadmin' ORDER BY 1`

// Databases lists the databases of src that a migration replicates, each with its own
// publication, slot and subscription (docs/replication.md#every-database).
func (*Engine) Databases(ctx context.Context, src replication.Endpoint) ([]string, error) {
	var dbs []string
	err := with(ctx, src, func(c *pgx.Conn) error {
		var err error
		dbs, err = listDatabases(ctx, c)
		return err
	})
	return dbs, err
}

func listDatabases(ctx context.Context, c *pgx.Conn) ([]string, error) {
	dbs, err := strings1(ctx, c, databasesSQL)
	if err != nil {
		return nil, fmt.Errorf("list the databases: %w", err)
	}
	seen := map[string]string{}
	for _, d := range dbs {
		slot := replication.Names{}.In(d).Slot
		if other, ok := seen[slot]; ok {
			return nil, fmt.Errorf("databases %s and %s have the same hash in the names of their replication objects: rename one, or use --strategy snapshot", other, d)
		}
		seen[slot] = d
	}
	return dbs, nil
}

// stream is one database's share of a migration: the database and its objects' names.
type stream struct {
	db    string
	names replication.Names
}

// streams are the databases of ep (Endpoint.Databases; without a list, the connected one
// with n as it is) and their objects' names.
func streams(ep replication.Endpoint, n replication.Names) []stream {
	if len(ep.Databases) == 0 {
		db := ep.Database
		if db == "" {
			db = "postgres"
		}
		return []stream{{db: db, names: n}}
	}
	out := make([]stream, 0, len(ep.Databases))
	for _, d := range ep.Databases {
		out = append(out, stream{db: d, names: n.In(d)})
	}
	return out
}

// each runs f connected to each database of ep in turn; an error names the database.
func each(ctx context.Context, ep replication.Endpoint, n replication.Names, f func(c *pgx.Conn, s stream) error) error {
	for _, s := range streams(ep, n) {
		if err := with(ctx, ep.In(s.db), func(c *pgx.Conn) error { return f(c, s) }); err != nil {
			return fmt.Errorf("database %s: %w", s.db, err)
		}
	}
	return nil
}

// Preconditions checks the source: logical WAL, enough slots, senders and apply workers for
// every database, and in each database the tables UPDATE and DELETE could not be replicated
// for, tables the user cannot publish, unlogged tables, large objects, sequences.
func (*Engine) Preconditions(ctx context.Context, src replication.Endpoint) ([]replication.Finding, error) {
	var out []replication.Finding
	var dbs, closed []string
	err := with(ctx, src, func(c *pgx.Conn) error {
		var err error
		if dbs, err = listDatabases(ctx, c); err != nil {
			return err
		}
		var walLevel string
		var version int
		var freeSlots, freeSenders, workers int
		if err := c.QueryRow(ctx, `SELECT current_setting('wal_level'), current_setting('server_version_num')::int,
			current_setting('max_replication_slots')::int - (SELECT count(*) FROM pg_replication_slots),
			current_setting('max_wal_senders')::int - (SELECT count(*) FROM pg_stat_replication),
			current_setting('max_logical_replication_workers')::int`).Scan(&walLevel, &version, &freeSlots, &freeSenders, &workers); err != nil {
			return fmt.Errorf("read settings: %w", err)
		}
		if f := versionFinding(version); f != nil {
			out = append(out, *f)
		}
		if walLevel != "logical" {
			out = append(out, replication.Finding{Severity: replication.Blocker, What: "rds.logical_replication is off (wal_level is " + walLevel + ")",
				Do:        "set rds.logical_replication=1 in a custom DB parameter group copied from the instance's, attach it and reboot (its own downtime), or use --strategy snapshot",
				Parameter: "rds.logical_replication", Value: "1"})
		}
		// Per database two slots (the stream's, and the one Freeze creates for CheckFrozen)
		// and one WAL sender; the new instance, restored with the same settings, holds the
		// verification's slot (verify_keys.go) and later the reverse stream's.
		if freeSlots < 2*len(dbs) || freeSenders < len(dbs) {
			out = append(out, replication.Finding{Severity: replication.Blocker, Objects: dbs,
				What: fmt.Sprintf("%d free replication slot(s) (%d needed: 2 per database) and %d free WAL sender(s) (%d needed: 1 per database)",
					max(freeSlots, 0), 2*len(dbs), max(freeSenders, 0), len(dbs)),
				Do: "raise max_replication_slots and max_wal_senders in the parameter group, or drop an unused slot"})
		}
		// The new instance is restored with the source's parameter group: one apply worker
		// per subscription, that is per database.
		if workers < len(dbs) {
			out = append(out, replication.Finding{Severity: replication.Blocker, Objects: dbs,
				What: fmt.Sprintf("max_logical_replication_workers is %d: the new instance needs %d, one subscription per database", workers, len(dbs)),
				Do:   "raise max_logical_replication_workers (and max_worker_processes) in the parameter group, or use --strategy snapshot"})
		}
		closed, err = strings1(ctx, c, `SELECT datname::text FROM pg_database WHERE datallowconn AND NOT datistemplate AND datname <> 'rdsadmin'
			AND NOT has_database_privilege(datname, 'CONNECT') ORDER BY 1`)
		if err != nil {
			return fmt.Errorf("list the databases the user cannot connect to: %w", err)
		}
		if len(closed) > 0 {
			var grants []string
			for _, d := range closed {
				grants = append(grants, "GRANT CONNECT ON DATABASE "+ident(d)+" TO "+ident(src.User)+";")
			}
			out = append(out, replication.Finding{Severity: replication.Blocker, Objects: closed,
				What: fmt.Sprintf("%d database(s) %s may not connect to: they cannot be replicated, checked or frozen", len(closed), src.User),
				Do:   "run as their owner: " + strings.Join(grants, " ") + " then plan again; or use --strategy snapshot"})
		}
		refused, dbOwners, err := notOwnedBy(ctx, c, unfreezableSQL)
		if err != nil {
			return fmt.Errorf("list databases the user cannot make read-only: %w", err)
		}
		if len(refused) > 0 {
			out = append(out, replication.Finding{Severity: replication.Blocker, Objects: refused,
				What: fmt.Sprintf("%d database(s) owned by a role %s is not a member of: the freeze cannot make them read-only, so they would stay writable", len(refused), src.User),
				Do:   grantDo(dbOwners, src.User)})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var noKey, notOwned, owners, unlogged, withLargeObjects []string
	var largeObjects, sequences int64
	all := src // the databases the user may connect to
	all.Databases = slices.DeleteFunc(slices.Clone(dbs), func(d string) bool { return slices.Contains(closed, d) })
	err = each(ctx, all, replication.Names{}, func(c *pgx.Conn, s stream) error {
		keyless, err := strings1(ctx, c, `SELECT format('%I.%I.%I', current_database(), n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE c.relkind IN ('r', 'p') AND c.relpersistence = 'p' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
			AND (c.relreplident = 'n' OR (c.relreplident = 'd' AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary))) ORDER BY 1`)
		if err != nil {
			return fmt.Errorf("list tables without a replica identity: %w", err)
		}
		noKey = append(noKey, keyless...)
		// Publishing a table needs ownership of it and the freeze needs ownership of every
		// database (ALTER DATABASE); RDS's master is no superuser, so both need membership of
		// the owner's role (docs/replication.md#ownership).
		tables, tableOwners, err := notOwnedBy(ctx, c, `SELECT format('%I.%I.%I', current_database(), n.nspname, c.relname), pg_get_userbyid(c.relowner)::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE c.relkind IN ('r', 'p') AND c.relpersistence = 'p' AND NOT c.relispartition
			AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
			AND NOT pg_has_role(c.relowner, 'USAGE') ORDER BY 1`)
		if err != nil {
			return fmt.Errorf("list tables the user cannot publish: %w", err)
		}
		notOwned = append(notOwned, tables...)
		for _, o := range tableOwners {
			if !slices.Contains(owners, o) {
				owners = append(owners, o)
			}
		}
		u, err := strings1(ctx, c, `SELECT format('%I.%I.%I', current_database(), n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE c.relkind = 'r' AND c.relpersistence = 'u' ORDER BY 1`)
		if err != nil {
			return fmt.Errorf("list unlogged tables: %w", err)
		}
		unlogged = append(unlogged, u...)
		var lo, seqs int64
		if err := c.QueryRow(ctx, `SELECT (SELECT count(*) FROM pg_largeobject_metadata), (SELECT count(*) FROM pg_sequences)`).Scan(&lo, &seqs); err != nil {
			return fmt.Errorf("count large objects and sequences: %w", err)
		}
		if lo > 0 {
			withLargeObjects = append(withLargeObjects, fmt.Sprintf("%s (%d)", s.db, lo))
		}
		largeObjects += lo
		sequences += seqs
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(noKey) > 0 {
		out = append(out, replication.Finding{Severity: replication.Warning, Objects: noKey,
			What: fmt.Sprintf("%d table(s) without a primary key or replica identity: once published, UPDATE and DELETE on them fail on the source and are not replicated (INSERT is)", len(noKey)),
			Do:   "add a primary key, or approve ALTER TABLE ... REPLICA IDENTITY FULL, or use --strategy snapshot if the application updates them"})
	}
	if len(notOwned) > 0 {
		out = append(out, replication.Finding{Severity: replication.Blocker, Objects: notOwned,
			What: fmt.Sprintf("%d table(s) owned by a role %s is not a member of: they cannot be added to the publication (must be owner of table)", len(notOwned), src.User),
			Do:   grantDo(owners, src.User)})
	}
	if len(unlogged) > 0 {
		out = append(out, replication.Finding{Severity: replication.Warning, Objects: unlogged,
			What: "unlogged tables are neither in the snapshot nor replicated", Do: "make them logged (ALTER TABLE ... SET LOGGED) if their rows matter"})
	}
	if largeObjects > 0 {
		out = append(out, replication.Finding{Severity: replication.Warning, Objects: withLargeObjects,
			What: fmt.Sprintf("%d large object(s): large objects are not replicated; those written after the snapshot are lost", largeObjects),
			Do:   "stop writing large objects during the migration, or use --strategy snapshot"})
	}
	if sequences > 0 {
		out = append(out, replication.Finding{Severity: replication.Warning, What: fmt.Sprintf("%d sequence(s): sequences are not replicated; the cutover sets them on the new instance while writes are frozen", sequences),
			Do: "nothing: informational"})
	}
	out = append(out, replication.Finding{Severity: replication.Warning, Objects: dbs,
		What: fmt.Sprintf("every database is replicated (%d), each with its own publication, slot and subscription; DDL (CREATE/ALTER/DROP) is not: a table changed or created after the snapshot breaks replication or is missing, and a database created or dropped stops the cutover", len(dbs)),
		Do:   "make no schema change and create or drop no database until the cutover"})
	return out, nil
}

// PrepareSource creates the replication user (LOGIN, REPLICATION, CONNECT on the replicated
// databases: nothing else; the subscription copies no data so it needs no SELECT) and, in
// every database, the publication
// of every user table and the logical slot (a logical slot belongs to one database). A slot
// is created last in its database: it is the position its stream starts from, and it exists
// before the snapshot, so every change after it is kept for the subscriber. It returns the
// last slot's position.
func (*Engine) PrepareSource(ctx context.Context, src replication.Endpoint, n replication.Names) (string, error) {
	if err := with(ctx, src, func(c *pgx.Conn) error { return ensureUser(ctx, c, n.User) }); err != nil {
		return "", err
	}
	var pos string
	err := each(ctx, src, n, func(c *pgx.Conn, s stream) error {
		// The subscriber connects to every database as the user: a database may have
		// revoked CONNECT from PUBLIC.
		if _, err := c.Exec(ctx, "GRANT CONNECT ON DATABASE "+ident(s.db)+" TO "+ident(n.User)); err != nil {
			return fmt.Errorf("let %s connect: %w", n.User, err)
		}
		if err := ensurePublication(ctx, c, s.names.Publication, ""); err != nil {
			return err
		}
		var err error
		pos, err = ensureSlot(ctx, c, s.names.Slot)
		return err
	})
	return pos, err
}

func ensureUser(ctx context.Context, c *pgx.Conn, user string) error {
	var exists, super, rdsReplication bool
	if err := c.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1),
		(SELECT rolsuper FROM pg_roles WHERE rolname = current_user),
		EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rds_replication')`, user).Scan(&exists, &super, &rdsReplication); err != nil {
		return fmt.Errorf("look up role %s: %w", user, err)
	}
	if !exists {
		pw, err := randomPassword() // reset by Attach, which is the only user of it
		if err != nil {
			return err
		}
		if _, err := c.Exec(ctx, "CREATE ROLE "+ident(user)+" LOGIN PASSWORD "+literal(pw)); err != nil && !isCode(err, "42710") {
			return fmt.Errorf("create role %s: %w", user, redactErr(err, pw))
		}
	}
	// RDS gives logical-replication rights through rds_replication; vanilla PostgreSQL needs
	// the REPLICATION attribute, which only a superuser may give.
	if rdsReplication {
		if _, err := c.Exec(ctx, "GRANT rds_replication TO "+ident(user)); err != nil {
			return fmt.Errorf("grant rds_replication to %s: %w", user, err)
		}
	}
	if super {
		if _, err := c.Exec(ctx, "ALTER ROLE "+ident(user)+" REPLICATION"); err != nil {
			return fmt.Errorf("give %s REPLICATION: %w", user, err)
		}
	}
	return nil
}

// ensurePublication creates publication pub of every user table, with options ("" or " WITH (...)").
func ensurePublication(ctx context.Context, c *pgx.Conn, pub, options string) error {
	var exists bool
	if err := c.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1)`, pub).Scan(&exists); err != nil {
		return fmt.Errorf("look up publication %s: %w", pub, err)
	}
	if exists {
		return nil
	}
	// FOR TABLE with every user table, not FOR ALL TABLES, which needs a superuser.
	tables, err := userTables(ctx, c)
	if err != nil {
		return err
	}
	q := "CREATE PUBLICATION " + ident(pub)
	if len(tables) > 0 {
		q += " FOR TABLE " + strings.Join(tables, ", ")
	}
	q += options
	if _, err := c.Exec(ctx, q); err != nil && !isCode(err, "42710") {
		return fmt.Errorf("create publication %s: %w", pub, err)
	}
	return nil
}

func ensureSlot(ctx context.Context, c *pgx.Conn, slot string) (string, error) {
	var pos string
	err := c.QueryRow(ctx, `SELECT coalesce(confirmed_flush_lsn, restart_lsn)::text FROM pg_replication_slots WHERE slot_name = $1`, slot).Scan(&pos)
	if err == nil {
		return pos, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("look up slot %s: %w", slot, err)
	}
	if err := c.QueryRow(ctx, `SELECT lsn::text FROM pg_create_logical_replication_slot($1, 'pgoutput')`, slot).Scan(&pos); err != nil {
		return "", fmt.Errorf("create logical slot %s: %w", slot, err)
	}
	return pos, nil
}

func isCode(err error, code string) bool {
	var pe interface{ SQLState() string }
	return errors.As(err, &pe) && pe.SQLState() == code
}

// RecoveryLog: the PostgreSQL error log (error/postgresql.log.YYYY-MM-DD-HH).
func (*Engine) RecoveryLog() string { return "postgresql.log" }

var redoDone = regexp.MustCompile(`redo done at ([0-9A-Fa-f]+)/([0-9A-Fa-f]+)`)

// StartPosition reads "redo done at X" (the start of the last WAL record the restored
// instance replayed; the first such line, written by the restore's recovery) and returns X+1:
// the sender skips a transaction whose commit record starts before the requested start, so
// X+1 skips every transaction in the snapshot (X included) and none after it (a WAL record
// is at least 24 bytes). docs/replication.md.
func (*Engine) StartPosition(logText string) (string, bool, error) {
	m := redoDone.FindStringSubmatch(logText)
	if m == nil {
		return "", false, nil
	}
	lsn, err := parseLSN(m[1] + "/" + m[2])
	if err != nil {
		return "", false, err
	}
	return formatLSN(lsn + 1), true, nil
}

func parseLSN(s string) (uint64, error) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok {
		return 0, fmt.Errorf("LSN %q is not of the form X/Y", s)
	}
	h, err := strconv.ParseUint(hi, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("LSN %q: %w", s, err)
	}
	l, err := strconv.ParseUint(lo, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("LSN %q: %w", s, err)
	}
	return h<<32 | l, nil
}

func formatLSN(v uint64) string { return fmt.Sprintf("%X/%X", v>>32, v&0xffffffff) }

// Attach creates, in every database of dst, the subscription to the same database of src,
// without copying data and without a slot of its own, advances its origin to start (the
// restored instance's recovery end: the same for every database, the WAL is the instance's)
// and enables it. The replication user's password is reset on src first: it is kept only in
// the subscriptions.
func (*Engine) Attach(ctx context.Context, src, dst replication.Endpoint, n replication.Names, start string) error {
	if _, err := parseLSN(start); err != nil {
		return err
	}
	pw, err := randomPassword()
	if err != nil {
		return err
	}
	if err := with(ctx, src, func(c *pgx.Conn) error {
		for _, s := range streams(src, n) {
			var walStatus string
			err := c.QueryRow(ctx, `SELECT coalesce(wal_status, '') FROM pg_replication_slots WHERE slot_name = $1`, s.names.Slot).Scan(&walStatus)
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("replication slot %s of database %s is gone from the source: %w", s.names.Slot, s.db, replication.ErrStreamLost)
			}
			if err != nil {
				return err
			}
			if _, err := slotWAL(walStatus, s.names.Slot, s.db); err != nil {
				return err
			}
		}
		if _, err := c.Exec(ctx, "ALTER ROLE "+ident(n.User)+" PASSWORD "+literal(pw)); err != nil {
			return fmt.Errorf("set the password of %s: %w", n.User, redactErr(err, pw))
		}
		return nil
	}); err != nil {
		return err
	}
	return each(ctx, dst, n, func(c *pgx.Conn, s stream) error {
		n := s.names
		ssl, err := subscriberTLS(ctx, c, src.TLS)
		if err != nil {
			return err
		}
		conninfo := fmt.Sprintf("host=%s port=%d user=%s password=%s dbname=%s %s application_name=%s",
			src.Host, src.Port, n.User, pw, conninfoValue(s.db), ssl, n.Subscription)
		// The restore may carry copies of the source's slots (RDS does; pg_basebackup does
		// not): a copy would keep WAL on the new instance forever.
		if _, err := c.Exec(ctx, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active`, n.Slot); err != nil {
			return fmt.Errorf("drop the restored copy of slot %s: %w", n.Slot, err)
		}
		var enabled bool
		var origin string
		err = c.QueryRow(ctx, `SELECT s.subenabled, coalesce(o.remote_lsn, '0/0')::text FROM pg_subscription s
			LEFT JOIN pg_replication_origin_status o ON o.external_id = 'pg_' || s.oid
			WHERE s.subname = $1 AND s.subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())`, n.Subscription).Scan(&enabled, &origin)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			// connect (the default) so the publication's tables are recorded as ready: with
			// copy_data=false they start applying at once. streaming = off (PostgreSQL 14+;
			// the default up to 17, 18 defaults to parallel): a source transaction is applied
			// only once it committed, which the check for skipped transactions relies on
			// (docs/replication.md#postgresql-a-transaction-the-subscription-skipped).
			streaming, err := streamingOff(ctx, c)
			if err != nil {
				return err
			}
			if _, err := c.Exec(ctx, "CREATE SUBSCRIPTION "+ident(n.Subscription)+" CONNECTION "+literal(conninfo)+
				" PUBLICATION "+ident(n.Publication)+" WITH (create_slot = false, slot_name = "+literal(n.Slot)+
				", copy_data = false, enabled = false"+streaming+")"); err != nil {
				return fmt.Errorf("create subscription %s: %w", n.Subscription, redactErr(err, pw))
			}
			origin = "0/0"
		case err != nil:
			return fmt.Errorf("look up subscription %s: %w", n.Subscription, err)
		default:
			if _, err := c.Exec(ctx, "ALTER SUBSCRIPTION "+ident(n.Subscription)+" CONNECTION "+literal(conninfo)); err != nil {
				return fmt.Errorf("update subscription %s: %w", n.Subscription, redactErr(err, pw))
			}
		}
		if enabled {
			return nil
		}
		if origin == "0/0" {
			if _, err := c.Exec(ctx, `SELECT pg_replication_origin_advance('pg_' || oid, $2::pg_lsn) FROM pg_subscription WHERE subname = $1`,
				n.Subscription, start); err != nil {
				return fmt.Errorf("advance the origin of %s to %s: %w", n.Subscription, start, err)
			}
		}
		if _, err := c.Exec(ctx, "ALTER SUBSCRIPTION "+ident(n.Subscription)+" ENABLE"); err != nil {
			return fmt.Errorf("enable subscription %s: %w", n.Subscription, err)
		}
		return nil
	})
}

// streamingOff is the subscription option that turns off the streaming of transactions in
// progress on c's server (PostgreSQL 14+), "" before 14, which has no such option.
func streamingOff(ctx context.Context, c *pgx.Conn) (string, error) {
	version, err := serverVersion(ctx, c)
	if err != nil || version < 140000 {
		return "", err
	}
	return ", streaming = off", nil
}

// serverVersion is c's server_version_num.
func serverVersion(ctx context.Context, c *pgx.Conn) (int, error) {
	var version int
	if err := c.QueryRow(ctx, `SELECT current_setting('server_version_num')::int`).Scan(&version); err != nil {
		return 0, fmt.Errorf("read the server version: %w", err)
	}
	return version, nil
}

// conninfoValue quotes a value of a libpq connection string (a database name may hold
// spaces or quotes): single quotes, with backslash and single quote escaped.
func conninfoValue(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// Lag compares the source's WAL position with what the subscribers confirmed on the slots,
// one per database: the least advanced slot is the lag (Bytes its distance, Applied its
// position), and one slot without a subscriber makes the stream broken.
func (*Engine) Lag(ctx context.Context, src, dst replication.Endpoint, n replication.Names) (replication.Lag, error) {
	var l replication.Lag
	err := with(ctx, src, func(c *pgx.Conn) error {
		var least uint64
		for i, s := range streams(src, n) {
			var confirmed *string
			var active bool
			var bytes int64
			var walStatus string
			err := c.QueryRow(ctx, `SELECT pg_current_wal_lsn()::text, confirmed_flush_lsn::text, active,
				coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn), 0)::bigint, coalesce(wal_status, '')
				FROM pg_replication_slots WHERE slot_name = $1`, s.names.Slot).Scan(&l.Source, &confirmed, &active, &bytes, &walStatus)
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("replication slot %s of database %s is gone from the source: %w", s.names.Slot, s.db, replication.ErrStreamLost)
			}
			if err != nil {
				return fmt.Errorf("read slot %s: %w", s.names.Slot, err)
			}
			warning, err := slotWAL(walStatus, s.names.Slot, s.db)
			if err != nil {
				return err
			}
			if l.Warning == "" {
				l.Warning = warning
			}
			l.Bytes = max(l.Bytes, bytes)
			if !active && l.Broken == "" {
				l.Broken = "no subscriber is connected to slot " + s.names.Slot + " of database " + s.db
			}
			if confirmed == nil {
				l.Applied, least = "", 0
				continue
			}
			at, err := parseLSN(*confirmed)
			if err != nil {
				return err
			}
			if i == 0 || (least != 0 && at < least) {
				l.Applied, least = *confirmed, at
			}
		}
		l.Caught = l.Bytes == 0 && l.Applied != ""
		return nil
	})
	return l, err
}

// minVersion is the oldest PostgreSQL (server_version_num) the engine runs on: 13. Logical
// replication exists from 10, but the engine reads pg_replication_slots.wal_status (Lag,
// Leftovers), ends the freeze on pg_snapshot_xmax(pg_current_snapshot()), and bounds the
// reverse slots with max_slot_wal_keep_size: all three came with PostgreSQL 13 (release notes;
// pg_current_snapshot replaced txid_current_snapshot, commit 4c04be9). On 10 to 12 the run
// would fail in its catch-up (column wal_status does not exist) and the cutover could not
// write the bound (RDS's postgres10-12 groups have no max_slot_wal_keep_size), so the plan
// refuses the strategy there instead.
const minVersion = 130000

// versionFinding is the blocker for a server older than minVersion, nil otherwise.
func versionFinding(version int) *replication.Finding {
	if version >= minVersion {
		return nil
	}
	what := fmt.Sprintf("PostgreSQL %d has no logical replication: the replication strategy needs 13 or later", version/10000)
	if version >= 100000 {
		what = fmt.Sprintf("PostgreSQL %d: the replication strategy needs 13 or later (it reads wal_status and pg_current_snapshot and bounds its slots' WAL with max_slot_wal_keep_size, all from 13)", version/10000)
	}
	return &replication.Finding{Severity: replication.Blocker, What: what, Do: "upgrade the engine to 13 or later, or use --strategy snapshot"}
}

// slotWAL reads a slot's pg_replication_slots.wal_status (PostgreSQL 13+, minVersion): "lost"
// means PostgreSQL invalidated the slot because the WAL it needs was removed
// (max_slot_wal_keep_size reached): the subscriber can never go on, so the stream is lost
// (replication.ErrStreamLost), not merely stopped. "unreserved" means that WAL is past
// max_slot_wal_keep_size and will be removed at the next checkpoint unless the subscriber
// catches up: a warning. "reserved" and "extended" are normal. (PostgreSQL manual,
// pg_replication_slots: "lost means that some required WAL files have been removed and this
// slot is no longer usable"; unreserved "can return to reserved or extended".)
func slotWAL(walStatus, slot, db string) (warning string, err error) {
	switch walStatus {
	case "lost":
		return "", fmt.Errorf("replication slot %s of database %s was invalidated by the source: WAL it needs was removed (max_slot_wal_keep_size): %w", slot, db, replication.ErrStreamLost)
	case "unreserved":
		return "slot " + slot + " of database " + db + " holds WAL past max_slot_wal_keep_size: it is lost at the next checkpoint unless the target catches up", nil
	}
	return "", nil
}

// Freeze makes every database the user may alter read-only for new sessions, ends the
// sessions of everyone but the tool, its replication user and the administrator, and waits
// until no transaction id is assigned for StableFor.
func (e *Engine) Freeze(ctx context.Context, src replication.Endpoint, n replication.Names) (replication.Frozen, error) {
	var f replication.Frozen
	stable := e.StableFor
	if stable <= 0 {
		stable = time.Second
	}
	err := with(ctx, src, func(c *pgx.Conn) error {
		// Never a subset: a database left writable takes writes the drain does not wait for.
		refused, owners, err := notOwnedBy(ctx, c, unfreezableSQL)
		if err != nil {
			return fmt.Errorf("list databases the user cannot make read-only: %w", err)
		}
		if len(refused) > 0 {
			return fmt.Errorf("cannot make database(s) %s read-only: %s is not a member of their owner %s (%s); nothing was frozen",
				strings.Join(refused, ", "), src.User, strings.Join(owners, ", "), grantDo(owners, src.User))
		}
		if err := sameDatabases(ctx, c, src); err != nil {
			return fmt.Errorf("%w; nothing was frozen", err)
		}
		dbs, err := alterableDatabases(ctx, c)
		if err != nil {
			return err
		}
		for _, d := range dbs {
			if _, err := c.Exec(ctx, "ALTER DATABASE "+ident(d)+" SET default_transaction_read_only = on"); err != nil {
				return fmt.Errorf("make database %s read-only: %w", d, err)
			}
		}
		f.FrozenDatabases = dbs
		var at time.Time
		if err := c.QueryRow(ctx, "SELECT clock_timestamp()").Scan(&at); err != nil {
			return fmt.Errorf("read the server's clock: %w", err)
		}
		e.mu.Lock()
		if e.frozenAt == nil {
			e.frozenAt = map[string]time.Time{}
		}
		e.frozenAt[hostPort(src)] = at
		e.mu.Unlock()
		// From PostgreSQL 14 pg_terminate_backend can wait until the session is gone: a
		// session flushes its statistics as it ends, and VerifyChanged reads them.
		version, err := serverVersion(ctx, c)
		if err != nil {
			return err
		}
		terminate := "pg_terminate_backend(a.pid)"
		if version >= 140000 {
			terminate = "pg_terminate_backend(a.pid, 10000)"
		}
		for attempt := 0; ; attempt++ {
			var ended int
			// Superusers' sessions only when the tool is one (RDS's only superuser is rdsadmin;
			// pg_signal_backend may not signal a superuser's session).
			if err := c.QueryRow(ctx, `SELECT count(*) FILTER (WHERE `+terminate+`) FROM pg_stat_activity a
				JOIN pg_roles r ON r.oid = a.usesysid
				WHERE a.pid <> pg_backend_pid() AND a.backend_type = 'client backend'
				AND a.usename NOT IN ('rdsadmin', $1) AND a.application_name <> $2
				AND (NOT r.rolsuper OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user))`, n.User, ApplicationName).Scan(&ended); err != nil {
				return fmt.Errorf("end application sessions: %w", err)
			}
			f.SessionsEnded += ended
			var before, after string
			if err := c.QueryRow(ctx, `SELECT pg_snapshot_xmax(pg_current_snapshot())::text`).Scan(&before); err != nil {
				return err
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(stable):
			}
			if err := c.QueryRow(ctx, `SELECT pg_snapshot_xmax(pg_current_snapshot())::text, pg_current_wal_lsn()::text`).Scan(&after, &f.Position); err != nil {
				return err
			}
			if before == after {
				return nil
			}
			if attempt >= 20 {
				return fmt.Errorf("writes continue on the source after its databases were made read-only (transaction ids %s to %s): a session overrides default_transaction_read_only", before, after)
			}
		}
	})
	if err != nil {
		return f, err
	}
	// A check slot per database starts here (a logical slot decodes its own database's
	// changes only): CheckFrozen reads what was written since.
	err = each(ctx, src, n, func(c *pgx.Conn, s stream) error {
		if err := dropSlot(ctx, c, checkSlot(s.names)); err != nil {
			return err
		}
		_, err := ensureSlot(ctx, c, checkSlot(s.names))
		return err
	})
	return f, err
}

// sameDatabases fails when the databases of the instance are no longer those the migration
// replicates (ep.Databases): DDL is not replicated, so a database created since has no
// stream and its writes would be lost, and one dropped would come back on the new instance.
func sameDatabases(ctx context.Context, c *pgx.Conn, ep replication.Endpoint) error {
	if len(ep.Databases) == 0 {
		return nil
	}
	now, err := listDatabases(ctx, c)
	if err != nil {
		return err
	}
	var created, dropped []string
	for _, d := range now {
		if !slices.Contains(ep.Databases, d) {
			created = append(created, d)
		}
	}
	for _, d := range ep.Databases {
		if !slices.Contains(now, d) {
			dropped = append(dropped, d)
		}
	}
	if len(created)+len(dropped) == 0 {
		return nil
	}
	var what []string
	if len(created) > 0 {
		what = append(what, "created "+strings.Join(created, ", "))
	}
	if len(dropped) > 0 {
		what = append(what, "dropped "+strings.Join(dropped, ", "))
	}
	return fmt.Errorf("%w (%s on %s): DDL is not replicated, so the new instance would miss their writes or bring a dropped one back",
		replication.ErrDatabasesChanged, strings.Join(what, "; "), ep.Host)
}

// unfreezableSQL lists the connectable databases the user cannot ALTER, with their owners.
const unfreezableSQL = `SELECT datname::text, pg_get_userbyid(datdba)::text FROM pg_database
	WHERE datallowconn AND NOT datistemplate AND datname <> 'rdsadmin'
	AND NOT pg_has_role(datdba, 'USAGE') AND NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) ORDER BY 1`

// notOwnedBy runs q (object, owner rows) and returns the objects and their distinct owners.
func notOwnedBy(ctx context.Context, c *pgx.Conn, q string) (objects, owners []string, err error) {
	rows, err := c.Query(ctx, q)
	if err != nil {
		return nil, nil, err
	}
	seen := map[string]bool{}
	for rows.Next() {
		var o, owner string
		if err := rows.Scan(&o, &owner); err != nil {
			return nil, nil, err
		}
		objects = append(objects, o)
		if !seen[owner] {
			seen[owner] = true
			owners = append(owners, owner)
		}
	}
	return objects, owners, rows.Err()
}

func grantDo(owners []string, user string) string {
	var q []string
	for _, o := range owners {
		q = append(q, "GRANT "+ident(o)+" TO "+ident(user)+";")
	}
	return "run as the owner or the master user: " + strings.Join(q, " ") + " (or change the owner), then plan again; or use --strategy snapshot"
}

func alterableDatabases(ctx context.Context, c *pgx.Conn) ([]string, error) {
	dbs, err := strings1(ctx, c, `SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate AND datname <> 'rdsadmin'
		AND (pg_has_role(datdba, 'USAGE') OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)) ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("list databases: %w", err)
	}
	return dbs, nil
}

// ReadOnlyDatabases lists the databases whose own setting (pg_db_role_setting for every role)
// already makes new sessions read-only: Freeze's ALTER DATABASE cannot be told apart from it
// afterwards, so the workflow journals this list before the freeze (review S9).
func (*Engine) ReadOnlyDatabases(ctx context.Context, ep replication.Endpoint) ([]string, error) {
	var dbs []string
	err := with(ctx, ep, func(c *pgx.Conn) (err error) {
		dbs, err = strings1(ctx, c, `SELECT d.datname FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
			WHERE s.setrole = 0 AND EXISTS (SELECT 1 FROM unnest(s.setconfig) AS cfg
				WHERE lower(cfg) IN ('default_transaction_read_only=on', 'default_transaction_read_only=true',
					'default_transaction_read_only=yes', 'default_transaction_read_only=1'))
			ORDER BY 1`)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list databases read-only by default on %s: %w", ep.Host, err)
	}
	return dbs, nil
}

// Unfreeze removes the read-only default Freeze set, except on the databases in keep (read-only
// before the freeze).
func (*Engine) Unfreeze(ctx context.Context, ep replication.Endpoint, keep []string) error {
	return with(ctx, ep, func(c *pgx.Conn) error {
		dbs, err := alterableDatabases(ctx, c)
		if err != nil {
			return err
		}
		for _, d := range dbs {
			if slices.Contains(keep, d) {
				continue
			}
			if _, err := c.Exec(ctx, "ALTER DATABASE "+ident(d)+" RESET default_transaction_read_only"); err != nil {
				return fmt.Errorf("let database %s accept writes: %w", d, err)
			}
		}
		return nil
	})
}

// Drain waits until the subscriber has confirmed the frozen position on the slot. The
// subscriber confirms at least every wal_receiver_status_interval (10 s by default). A slot
// without a subscriber while dst has no subscription for it wraps
// replication.ErrNotReplicating.
func (e *Engine) Drain(ctx context.Context, src, dst replication.Endpoint, n replication.Names, frozen string) (replication.Lag, error) {
	want, err := parseLSN(frozen)
	if err != nil {
		return replication.Lag{}, err
	}
	for {
		l, err := e.Lag(ctx, src, dst, n)
		if err != nil {
			return l, err
		}
		if l.Broken != "" {
			if err := subscribed(ctx, dst, n); err != nil {
				return l, err
			}
		}
		if l.Applied != "" {
			got, err := parseLSN(l.Applied)
			if err != nil {
				return l, err
			}
			if got >= want {
				l.Caught = true
				return l, nil
			}
		}
		select {
		case <-ctx.Done():
			return l, fmt.Errorf("drain to %s: the subscriber is at %s: %w", frozen, l.Applied, ctx.Err())
		case <-time.After(replication.Poll):
		}
	}
}

// subscribed wraps replication.ErrNotReplicating when a database of dst is known to have no
// subscription left (Detach ran, which comes after a completed drain), so that a drain run
// again after its detach does not wait for ever. dst not answering is no answer: the drain
// goes on waiting.
func subscribed(ctx context.Context, dst replication.Endpoint, n replication.Names) error {
	var gone string
	if each(ctx, dst, n, func(c *pgx.Conn, s stream) error {
		var exists bool
		if err := c.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_subscription WHERE subname = $1)`, s.names.Subscription).Scan(&exists); err != nil {
			return err
		}
		if !exists && gone == "" {
			gone = s.names.Subscription + " of database " + s.db
		}
		return nil
	}) == nil && gone != "" {
		return fmt.Errorf("subscription %s is gone from %s: %w", gone, dst.Host, replication.ErrNotReplicating)
	}
	return nil
}

// checksumSQL counts a table's rows and sums the first 60 bits of each row's md5: equal
// whatever the order, and a lost or duplicated row changes it.
func checksumSQL(table string) string { return sumSQL(table + " t") }

// sumSQL is checksumSQL over the rows of from, in which the table is t.
func sumSQL(from string) string {
	return "SELECT count(*), coalesce(sum(('x' || substr(md5(t::text), 1, 15))::bit(60)::bigint::numeric), 0)::text FROM " + from
}

// Verify compares row counts and checksums of every user table of every database of src
// and dst. With Endpoint.Databases a table is named database.schema.table.
func (e *Engine) Verify(ctx context.Context, src, dst replication.Endpoint) (replication.Verification, error) {
	return replication.ChangedVerify(ctx, tables{e: e}, src, dst, nil)
}

// SyncSequences sets each sequence of every database of dst to its state on src.
func (*Engine) SyncSequences(ctx context.Context, src, dst replication.Endpoint) (int, error) {
	if len(src.Databases) == 0 {
		return syncSequences(ctx, src, dst)
	}
	total := 0
	for _, s := range streams(src, replication.Names{}) {
		n, err := syncSequences(ctx, src.In(s.db), dst.In(s.db))
		total += n
		if err != nil {
			return total, fmt.Errorf("database %s: %w", s.db, err)
		}
	}
	return total, nil
}

func syncSequences(ctx context.Context, src, dst replication.Endpoint) (int, error) {
	type seq struct {
		name   string
		last   *int64
		called bool
	}
	var seqs []seq
	if err := with(ctx, src, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT format('%I.%I', schemaname, sequencename) FROM pg_sequences ORDER BY 1`)
		if err != nil {
			return fmt.Errorf("list sequences: %w", err)
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, name := range names {
			s := seq{name: name}
			// The sequence relation itself holds last_value and is_called.
			var last int64
			if err := c.QueryRow(ctx, "SELECT last_value, is_called FROM "+name).Scan(&last, &s.called); err != nil {
				return fmt.Errorf("read sequence %s: %w", name, err)
			}
			s.last = &last
			seqs = append(seqs, s)
		}
		return nil
	}); err != nil {
		return 0, err
	}
	n := 0
	err := with(ctx, dst, func(c *pgx.Conn) error {
		for _, s := range seqs {
			if _, err := c.Exec(ctx, "SELECT setval($1::regclass, $2, $3)", s.name, *s.last, s.called); err != nil {
				return fmt.Errorf("set sequence %s: %w", s.name, err)
			}
			n++
		}
		return nil
	})
	return n, err
}

// checkSlot names the logical slot Freeze creates once writes stopped; CheckFrozen peeks it.
func checkSlot(n replication.Names) string { return n.Slot + "_frozen" }

// CheckFrozen fails when a published table was written on src since Freeze: the read-only
// default is advisory (SET default_transaction_read_only = off or BEGIN READ WRITE overrides
// it). It decodes, without consuming, the changes in the slot Freeze created, through the
// same pgoutput plugin and publication as the stream: only INSERT, UPDATE, DELETE and
// TRUNCATE of published tables count, so WAL that changes no row (checkpoints, autovacuum,
// hint bits, ANALYZE) does not. docs/replication.md#the-freeze-is-re-checked.
func (*Engine) CheckFrozen(ctx context.Context, src replication.Endpoint, n replication.Names) error {
	if err := with(ctx, src, func(c *pgx.Conn) error { return sameDatabases(ctx, c, src) }); err != nil {
		return err
	}
	return each(ctx, src, n, func(c *pgx.Conn, s stream) error {
		n := s.names
		var check, stream bool
		if err := c.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1),
			EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $2)`, checkSlot(n), n.Slot).Scan(&check, &stream); err != nil {
			return fmt.Errorf("look up slot %s: %w", checkSlot(n), err)
		}
		if !check {
			if !stream {
				return nil // Cleanup after an earlier successful check dropped both
			}
			return fmt.Errorf("slot %s, which records writes made after the freeze, is gone from the source: cannot prove nothing was written since", checkSlot(n))
		}
		var changes int64
		// pgoutput message types: 'I' insert, 'U' update, 'D' delete, 'T' truncate.
		if err := c.QueryRow(ctx, `SELECT count(*) FROM pg_logical_slot_peek_binary_changes($1, NULL, NULL,
			'proto_version', '1', 'publication_names', $2) WHERE get_byte(data, 0) IN (73, 85, 68, 84)`,
			checkSlot(n), n.Publication).Scan(&changes); err != nil {
			return fmt.Errorf("read the changes since the freeze from slot %s: %w", checkSlot(n), err)
		}
		if changes > 0 {
			return fmt.Errorf("%d row change(s) were written to %s after the freeze (a session overrode default_transaction_read_only): they may not be on the target", changes, src.Host)
		}
		return nil
	})
}

// Detach disables the subscription of every database, detaches it from the source's slot
// (which Cleanup of the source drops) and drops it, and drops the target's verify slot and
// publication (verify_keys.go): the new instance carries none after the cutover.
func (*Engine) Detach(ctx context.Context, dst replication.Endpoint, n replication.Names) error {
	return each(ctx, dst, n, func(c *pgx.Conn, s stream) error {
		if err := dropSubscription(ctx, c, s.names.Subscription); err != nil {
			return err
		}
		return dropVerifySlot(ctx, c, s.names)
	})
}

func dropSubscription(ctx context.Context, c *pgx.Conn, sub string) error {
	var exists bool
	if err := c.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_subscription WHERE subname = $1)`, sub).Scan(&exists); err != nil {
		return fmt.Errorf("look up subscription %s: %w", sub, err)
	}
	if !exists {
		return nil
	}
	for _, q := range []string{
		"ALTER SUBSCRIPTION " + ident(sub) + " DISABLE",
		"ALTER SUBSCRIPTION " + ident(sub) + " SET (slot_name = NONE)",
		"DROP SUBSCRIPTION IF EXISTS " + ident(sub),
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// Cleanup removes the subscription, slot, publication (of the stream and of the reverse
// stream), the verify slot and publication of every database, then the user, from ep. A database gone from ep is skipped: a
// logical slot keeps its database from being dropped, so nothing of ours was left in it.
func (*Engine) Cleanup(ctx context.Context, ep replication.Endpoint, n replication.Names) error {
	for _, s := range streams(ep, n) {
		err := with(ctx, ep.In(s.db), func(c *pgx.Conn) error { return cleanupDatabase(ctx, c, s) })
		if isCode(err, "3D000") { // invalid_catalog_name: the database does not exist
			continue
		}
		if err != nil {
			return fmt.Errorf("database %s: %w", s.db, err)
		}
	}
	return with(ctx, ep, func(c *pgx.Conn) error {
		var exists bool
		if err := c.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, n.User).Scan(&exists); err != nil {
			return fmt.Errorf("look up role %s: %w", n.User, err)
		}
		if !exists {
			return nil
		}
		// A role with privileges cannot be dropped: PrepareSource's CONNECT grants go first.
		for _, s := range streams(ep, n) {
			if _, err := c.Exec(ctx, "REVOKE CONNECT ON DATABASE "+ident(s.db)+" FROM "+ident(n.User)); err != nil && !isCode(err, "3D000") {
				return fmt.Errorf("revoke %s's CONNECT on %s: %w", n.User, s.db, err)
			}
		}
		if _, err := c.Exec(ctx, "DROP ROLE IF EXISTS "+ident(n.User)); err != nil {
			return fmt.Errorf("drop role %s: %w", n.User, err)
		}
		return nil
	})
}

func cleanupDatabase(ctx context.Context, c *pgx.Conn, s stream) error {
	for _, names := range []replication.Names{s.names, s.names.Reverse()} {
		// The verify slot keeps WAL as long as it exists (verify_keys.go).
		if err := dropVerifySlot(ctx, c, names); err != nil {
			return err
		}
		if err := dropSubscription(ctx, c, names.Subscription); err != nil {
			return err
		}
		// An active slot is held by a WAL sender: end it first.
		if _, err := c.Exec(ctx, `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL`, names.Slot); err != nil {
			return fmt.Errorf("end the sender of slot %s: %w", names.Slot, err)
		}
		// The check slot after the stream's (CheckFrozen reads a missing pair as done)
		// and before the publication it decodes through.
		for _, slot := range []string{names.Slot, checkSlot(names)} {
			if err := dropSlot(ctx, c, slot); err != nil {
				return err
			}
		}
		if _, err := c.Exec(ctx, "DROP PUBLICATION IF EXISTS "+ident(names.Publication)); err != nil {
			return fmt.Errorf("drop publication %s: %w", names.Publication, err)
		}
	}
	return nil
}

// dropSlot drops a slot, waiting briefly for a just-ended sender to release it.
func dropSlot(ctx context.Context, c *pgx.Conn, slot string) error {
	for attempt := 0; ; attempt++ {
		_, err := c.Exec(ctx, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, slot)
		if err == nil || isCode(err, "42704") {
			return nil
		}
		if !isCode(err, "55006") || attempt >= 50 { // object_in_use: the sender has not exited yet
			return fmt.Errorf("drop slot %s: %w", slot, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(replication.Poll):
		}
	}
}

// Leftovers lists the tool's slots, subscriptions and roles on ep (cluster-wide catalogs),
// and its publications in every database (a publication belongs to one database).
func (*Engine) Leftovers(ctx context.Context, ep replication.Endpoint) ([]replication.Leftover, error) {
	like := strings.ReplaceAll(replication.Prefix, "_", `\_`) + "%"
	var out []replication.Leftover
	var dbs []string
	err := with(ctx, ep, func(c *pgx.Conn) error {
		var err error
		if dbs, err = listDatabases(ctx, c); err != nil {
			return err
		}
		others, err := strings1(ctx, c, `SELECT kind || ' ' || name || ' ' || db FROM (
			SELECT 'subscription' AS kind, subname::text AS name, d.datname::text AS db FROM pg_subscription s JOIN pg_database d ON d.oid = s.subdbid
			UNION ALL SELECT 'role', rolname::text, '' FROM pg_roles) o WHERE name LIKE $1 ORDER BY 1`, like)
		for _, o := range others {
			kind, rest, _ := strings.Cut(o, " ")
			name, db, _ := strings.Cut(rest, " ")
			out = append(out, replication.Leftover{Object: kind + " " + name, Drop: dropSQL(kind, name, db)})
		}
		if err != nil {
			return err
		}
		// The WAL a slot keeps: from its restart_lsn to the server's current position.
		rows, err := c.Query(ctx, `SELECT slot_name::text, active,
			COALESCE(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn), -1)::bigint, COALESCE(wal_status, '')
			FROM pg_replication_slots WHERE slot_name LIKE $1 ORDER BY 1`, like)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var name string
			var st replication.SlotState
			if err := rows.Scan(&name, &st.Active, &st.RetainedWAL, &st.WALStatus); err != nil {
				return err
			}
			out = append(out, replication.Leftover{Object: "slot " + name, Drop: dropSQL("slot", name, ""), Slot: &st})
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	all := ep
	all.Databases = dbs
	err = each(ctx, all, replication.Names{}, func(c *pgx.Conn, s stream) error {
		pubs, err := strings1(ctx, c, `SELECT pubname::text FROM pg_publication WHERE pubname LIKE $1 ORDER BY 1`, like)
		for _, p := range pubs {
			out = append(out, replication.Leftover{Object: "publication " + p, Drop: dropSQL("publication", p, s.db)})
		}
		return err
	})
	slices.SortFunc(out, func(a, b replication.Leftover) int { return strings.Compare(a.Object, b.Object) })
	return out, err
}

// dropSQL is the SQL that removes one of the tool's objects (kind as Leftovers names it; db:
// the database a subscription or publication belongs to), as scan prints it: it must run as
// printed in psql as the master user.
func dropSQL(kind, name, db string) string {
	switch kind {
	case "slot":
		// pg_drop_replication_slot refuses an active slot, and pg_terminate_backend only
		// signals its walsender (which may also come back: a subscription retries after
		// wal_retrieve_retry_interval): end the walsender and drop, again while the slot is
		// still in use (object_in_use), for up to 10 s. A DO block, so it runs on every
		// version (pg_terminate_backend's wait argument is PostgreSQL 14+).
		return fmt.Sprintf("DO $$BEGIN FOR i IN 1..100 LOOP "+
			"PERFORM pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = '%s' AND active_pid IS NOT NULL; "+
			"BEGIN PERFORM pg_drop_replication_slot('%s'); RETURN; EXCEPTION WHEN object_in_use THEN PERFORM pg_sleep(0.1); END; "+
			"END LOOP; PERFORM pg_drop_replication_slot('%s'); END$$", name, name, name)
	case "publication":
		return fmt.Sprintf("DROP PUBLICATION %s (connected to database %s)", name, db)
	case "subscription":
		return fmt.Sprintf("ALTER SUBSCRIPTION %s DISABLE; ALTER SUBSCRIPTION %s SET (slot_name = NONE); DROP SUBSCRIPTION %s (connected to database %s)", name, name, name, db)
	case "role":
		// The replication user holds CONNECT on every replicated database, which DROP ROLE
		// refuses to leave dangling: revoke those grants first, as Cleanup does.
		return fmt.Sprintf("DO $$DECLARE d text; BEGIN FOR d IN SELECT datname FROM pg_database, aclexplode(datacl) a WHERE a.grantee = '%s'::regrole LOOP "+
			"EXECUTE format('REVOKE CONNECT ON DATABASE %%I FROM %s', d); END LOOP; END$$; DROP ROLE %s", name, name, name)
	}
	return ""
}

// LogicalSlots lists the logical replication slots on ep (slots belong to the server, not to
// one database). PostgreSQL does not start with one while wal_level is below logical.
func (*Engine) LogicalSlots(ctx context.Context, ep replication.Endpoint) ([]string, error) {
	var out []string
	err := with(ctx, ep, func(c *pgx.Conn) error {
		var err error
		out, err = strings1(ctx, c, `SELECT slot_name::text FROM pg_replication_slots WHERE slot_type = 'logical' ORDER BY 1`)
		return err
	})
	return out, err
}

// PrepareReverse creates on the new primary, inside the freeze (it takes no write yet and is
// identical to the old source: drained, verified, its sequences set), the reverse stream's
// publication and logical slot in every database (PrepareSource with n.Reverse()), with the
// replication user the snapshot carried. The slots' consistent points are where the reverse
// stream starts: every write committed on the new primary after them is kept for the old
// source. It returns the last slot's position: no transaction commits on the frozen new
// primary between the first slot and the last, so each database's stream may start there.
// docs/replication.md#the-reverse-stream-postgresql.
func (e *Engine) PrepareReverse(ctx context.Context, newPrimary replication.Endpoint, n replication.Names) (string, error) {
	return e.PrepareSource(ctx, newPrimary, n.Reverse())
}

// AttachReverse subscribes every database of the old source to the same database of the new
// primary through its reverse slot, copying no data (Attach with n.Reverse()). The old source
// stays frozen: default_transaction_read_only refuses the application's writes, while the
// subscriptions' apply workers write through the executor's replication entry points, which
// that setting does not check.
func (e *Engine) AttachReverse(ctx context.Context, newPrimary, old replication.Endpoint, n replication.Names, start string) error {
	return e.Attach(ctx, newPrimary, old, n.Reverse(), start)
}
