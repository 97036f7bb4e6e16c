package dataplane

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

func pgBin(name string) string { return "/usr/lib/postgresql/15/bin/" + name }

// pgBaseConf is the configuration every PostgreSQL server starts with: small memory, local
// listeners only, logs on stderr (captured in the server's log file). rds.conf, written at
// every start, holds the instance's parameter group values.
const pgBaseConf = `
shared_buffers = 16MB
max_connections = 40
max_wal_size = 256MB
min_wal_size = 32MB
fsync = off
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
hot_standby = on
password_encryption = scram-sha-256
log_line_prefix = '%m [%p] %q%u@%d '
log_checkpoints = on
logging_collector = off
include_if_exists = 'rds.conf'
`

// pgHBA lets the simulator's rdsadmin in through the local socket only; every other user
// authenticates with a password over TCP, as on RDS.
const pgHBA = `local all rdsadmin trust
local replication rdsadmin trust
host all rdsadmin all reject
host replication rdsadmin all reject
host all all 127.0.0.0/8 scram-sha-256
host replication all 127.0.0.0/8 scram-sha-256
`

func (s *Server) pgCreate(ctx context.Context, spec Spec) error {
	pwfile := filepath.Join(s.dir, "init.pw")
	if err := os.WriteFile(pwfile, []byte(randomSecret()+"\n"), 0o600); err != nil {
		return err
	}
	if err := chownTree(pwfile, Postgres); err != nil {
		return err
	}
	defer os.Remove(pwfile)
	if out, err := s.m.run(ctx, Postgres, pgBin("initdb"), "-D", s.dataDir(), "-U", "rdsadmin", "--pwfile", pwfile,
		"-E", "UTF8", "--locale", "C", "--no-sync", "--auth-local", "trust", "--auth-host", "scram-sha-256"); err != nil {
		return fmt.Errorf("data plane: initdb: %w\n%s", err, out)
	}
	if err := s.pgWriteBase(); err != nil {
		return err
	}
	if err := s.Start(ctx); err != nil {
		return err
	}
	return s.pgAdmin(ctx, "postgres", func(c *pgx.Conn) error {
		master := pgx.Identifier{spec.MasterUser}.Sanitize()
		stmts := []string{
			// RDS's roles: rds_superuser (the master user's role), rds_replication.
			`CREATE ROLE rds_superuser NOLOGIN`,
			`CREATE ROLE rds_replication NOLOGIN`,
			`GRANT pg_monitor, pg_signal_backend, pg_checkpoint, pg_read_all_settings, rds_replication TO rds_superuser WITH ADMIN OPTION`,
			// The master user: CREATEDB and CREATEROLE as on RDS, and REPLICATION, which RDS
			// gives rds_superuser members through rds_replication (PostgreSQL does not inherit
			// role attributes, so it is set on the user). SUPERUSER is the one difference from
			// RDS: RDS lets rds_superuser create subscriptions, vanilla PostgreSQL 15 only
			// superusers, and a tool cannot use a simulator hook (docs/data-plane.md).
			fmt.Sprintf(`CREATE ROLE %s SUPERUSER LOGIN CREATEDB CREATEROLE REPLICATION PASSWORD %s IN ROLE rds_superuser`,
				master, quoteLiteral(spec.MasterPassword)),
		}
		if spec.DBName != "" {
			stmts = append(stmts, fmt.Sprintf(`CREATE DATABASE %s OWNER %s`, pgx.Identifier{spec.DBName}.Sanitize(), master))
		}
		for _, q := range stmts {
			if _, err := c.Exec(ctx, q); err != nil {
				return fmt.Errorf("%s: %w", strings.SplitN(q, " PASSWORD", 2)[0], err)
			}
		}
		return nil
	})
}

func (s *Server) pgWriteBase() error {
	if err := os.WriteFile(filepath.Join(s.dataDir(), "pg_hba.conf"), []byte(pgHBA), 0o600); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(s.dataDir(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString(pgBaseConf)
	return err
}

// pgSettings translates parameter group values into PostgreSQL settings.
func pgSettings(settings map[string]string) map[string]string {
	out := map[string]string{}
	if settings["rds.logical_replication"] == "1" {
		// RDS: rds.logical_replication=1 sets wal_level=logical (RDS user guide,
		// "Setting up logical replication for your RDS for PostgreSQL DB instance").
		out["wal_level"] = "logical"
		out["max_replication_slots"] = "20"
		out["max_wal_senders"] = "20"
	}
	for _, name := range []string{"max_replication_slots", "max_wal_senders", "max_logical_replication_workers", "log_min_duration_statement", "max_slot_wal_keep_size"} {
		if v, ok := settings[name]; ok && isInt(v) {
			out[name] = v
		}
	}
	if v, ok := settings["default_transaction_read_only"]; ok {
		out["default_transaction_read_only"] = boolWord(v, "on", "off")
	}
	return out
}

func (s *Server) pgWriteSettings(settings map[string]string) error {
	conf := pgSettings(settings)
	names := make([]string, 0, len(conf))
	for k := range conf {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("# Written by the simulator from the instance's DB parameter group.\n")
	// TLS as on RDS: the server's certificate, signed by the data plane's CA (tls.go).
	fmt.Fprintf(&b, "ssl = on\nssl_cert_file = '%s'\nssl_key_file = '%s'\n", s.certFile(), s.keyFile())
	for _, k := range names {
		fmt.Fprintf(&b, "%s = '%s'\n", k, conf[k])
	}
	p := filepath.Join(s.dataDir(), "rds.conf")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		return err
	}
	return chownTree(p, Postgres)
}

func (s *Server) pgCommand(settings map[string]string) (*exec.Cmd, error) {
	if err := s.pgWriteSettings(settings); err != nil {
		return nil, err
	}
	return command(Postgres, pgBin("postgres"), "-D", s.dataDir(), "-p", strconv.Itoa(s.port),
		"-k", s.runDir(), "-c", "listen_addresses=127.0.0.1")
}

// pgAdmin runs fn on an rdsadmin connection through the local socket.
func (s *Server) pgAdmin(ctx context.Context, db string, fn func(*pgx.Conn) error) error {
	c, err := s.pgConnect(ctx, db)
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	return fn(c)
}

func (s *Server) pgConnect(ctx context.Context, db string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig("")
	if err != nil {
		return nil, err
	}
	cfg.Host, cfg.Port, cfg.User, cfg.Database = s.runDir(), uint16(s.port), "rdsadmin", db
	return pgx.ConnectConfig(ctx, cfg)
}

func (s *Server) pgPing(ctx context.Context) error {
	return s.pgAdmin(ctx, "postgres", func(c *pgx.Conn) error { return c.Ping(ctx) })
}

func (s *Server) pgApply(ctx context.Context, settings map[string]string) error {
	s.mu.Lock()
	all := s.settings
	s.mu.Unlock()
	if err := s.pgWriteSettings(all); err != nil {
		return err
	}
	return s.pgAdmin(ctx, "postgres", func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, "SELECT pg_reload_conf()")
		return err
	})
}

func (s *Server) pgBackup(ctx context.Context, b *Backup) error {
	out, err := s.m.run(ctx, Postgres, pgBin("pg_basebackup"), "-D", b.dir, "-X", "stream", "-c", "fast",
		"-h", s.runDir(), "-p", strconv.Itoa(s.port), "-U", "rdsadmin", "--no-sync", "--no-manifest")
	if err != nil {
		return fmt.Errorf("data plane: pg_basebackup: %w\n%s", err, out)
	}
	return nil
}

// pgFollow starts a copy of src as a streaming standby of src.
func (s *Server) pgFollow(ctx context.Context, src *Server) error {
	conninfo := fmt.Sprintf("host=%s port=%d user=rdsadmin application_name=replica%d", src.runDir(), src.port, s.id)
	auto := fmt.Sprintf("primary_conninfo = '%s'\n", conninfo)
	if err := os.WriteFile(filepath.Join(s.dataDir(), "postgresql.auto.conf"), []byte(auto), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(s.dataDir(), "standby.signal"), nil, 0o600); err != nil {
		return err
	}
	if err := chownTree(s.dataDir(), Postgres); err != nil {
		return err
	}
	return s.Start(ctx)
}

func (s *Server) pgPromote(ctx context.Context) error {
	return s.pgAdmin(ctx, "postgres", func(c *pgx.Conn) error {
		var ok bool
		if err := c.QueryRow(ctx, "SELECT pg_promote(true, 60)").Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("data plane: pg_promote did not finish")
		}
		return nil
	})
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func isInt(v string) bool {
	_, err := strconv.Atoi(v)
	return err == nil
}

// boolWord maps an RDS boolean parameter value (0/1, on/off, true/false) to the words an
// engine uses.
func boolWord(v, on, off string) string {
	switch strings.ToLower(v) {
	case "1", "on", "true":
		return on
	}
	return off
}
