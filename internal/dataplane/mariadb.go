package dataplane

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// mariaConf is a MariaDB server's option file: small memory, a local listener, the error log
// on stderr (captured in the server's log file), and the instance's parameter group values.
func (s *Server) mariaConf(settings map[string]string, binlog bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, `[mariadbd]
datadir=%s
socket=%s/mysqld.sock
pid-file=%s/mysqld.pid
tmpdir=%s
port=%d
bind-address=127.0.0.1
skip-name-resolve
server_id=%d
innodb_buffer_pool_size=16M
innodb_log_file_size=48M
innodb_log_buffer_size=4M
key_buffer_size=1M
performance_schema=OFF
max_connections=40
sync_binlog=0
log_slave_updates=ON
ssl_cert=%s
ssl_key=%s
ssl_ca=%s
`, s.dataDir(), s.runDir(), s.runDir(), s.runDir(), s.port, s.id, s.certFile(), s.keyFile(), s.caFile())
	if binlog {
		// RDS: binary logging is on when automated backups are on.
		fmt.Fprintf(&b, "log_bin=mysql-bin-changelog\nbinlog_format=%s\n", mariaBinlogFormat(settings))
	}
	conf := mariaSettings(settings)
	names := make([]string, 0, len(conf))
	for k := range conf {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if k == "binlog_format" {
			continue
		}
		fmt.Fprintf(&b, "%s=%s\n", k, conf[k])
	}
	fmt.Fprintf(&b, "[client]\nsocket=%s/mysqld.sock\nuser=rdsadmin\npassword=%s\n", s.runDir(), s.admin)
	return b.String()
}

func mariaBinlogFormat(settings map[string]string) string {
	if v := strings.ToUpper(settings["binlog_format"]); v == "ROW" || v == "MIXED" || v == "STATEMENT" {
		return v
	}
	return "MIXED" // RDS for MariaDB's default
}

// mariaSettings translates parameter group values into MariaDB variables.
func mariaSettings(settings map[string]string) map[string]string {
	out := map[string]string{}
	if _, ok := settings["binlog_format"]; ok {
		out["binlog_format"] = mariaBinlogFormat(settings)
	}
	for _, name := range []string{"read_only", "log_bin_trust_function_creators"} {
		if v, ok := settings[name]; ok {
			out[name] = boolWord(v, "ON", "OFF")
		}
	}
	return out
}

func (s *Server) confPath() string { return filepath.Join(s.dir, "my.cnf") }

func (s *Server) mariaWriteConf(settings map[string]string, binlog bool) error {
	if err := os.WriteFile(s.confPath(), []byte(s.mariaConf(settings, binlog)), 0o600); err != nil {
		return err
	}
	return chownTree(s.confPath(), MariaDB)
}

func (s *Server) mariaCommand(settings map[string]string, binlog bool) (*exec.Cmd, error) {
	if err := s.mariaWriteConf(settings, binlog); err != nil {
		return nil, err
	}
	return command(MariaDB, "/usr/sbin/mariadbd", "--defaults-file="+s.confPath())
}

func (s *Server) mariaCreate(ctx context.Context, spec Spec) error {
	if err := s.mariaWriteConf(spec.Settings, spec.Binlog); err != nil {
		return err
	}
	if out, err := s.m.run(ctx, MariaDB, "/usr/bin/mariadb-install-db", "--defaults-file="+s.confPath(),
		"--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve"); err != nil {
		return fmt.Errorf("data plane: mariadb-install-db: %w\n%s", err, out)
	}
	if err := s.Start(ctx); err != nil {
		return err
	}
	db, err := s.mariaOpen("root", "")
	if err != nil {
		return err
	}
	defer db.Close()
	q := func(stmt string, args ...any) error {
		if _, err := db.ExecContext(ctx, stmt, args...); err != nil {
			return fmt.Errorf("data plane: %s: %w", strings.SplitN(stmt, " IDENTIFIED", 2)[0], err)
		}
		return nil
	}
	stmts := []string{
		"SET sql_log_bin=0",
		"CREATE USER 'rdsadmin'@'localhost' IDENTIFIED BY '" + s.admin + "'",
		"GRANT ALL PRIVILEGES ON *.* TO 'rdsadmin'@'localhost' WITH GRANT OPTION",
		// RDS's replication user for read replicas.
		"CREATE USER 'rdsrepladmin'@'127.0.0.1' IDENTIFIED BY '" + s.admin + "'",
		"GRANT REPLICATION SLAVE ON *.* TO 'rdsrepladmin'@'127.0.0.1'",
		// The master user: RDS's privilege list for MariaDB (RDS user guide, "Master user
		// account privileges"), without SUPER, READ_ONLY ADMIN or other admin rights.
		"CREATE USER " + mariaUser(spec.MasterUser) + " IDENTIFIED BY " + quoteLiteral(spec.MasterPassword),
		"GRANT " + masterPrivileges + " ON *.* TO " + mariaUser(spec.MasterUser) + " WITH GRANT OPTION",
	}
	stmts = append(stmts, rdsProcedures...)
	if spec.DBName != "" {
		stmts = append(stmts, "CREATE DATABASE "+mariaIdent(spec.DBName))
	}
	for _, stmt := range stmts {
		if err := q(stmt); err != nil {
			return err
		}
	}
	// The install's own accounts (root, mysql) go last: this connection is root's.
	rows, err := db.QueryContext(ctx, "SELECT User, Host FROM mysql.global_priv WHERE User IN ('root', 'mysql', '')")
	if err != nil {
		return err
	}
	var drop []string
	for rows.Next() {
		var u, h string
		if err := rows.Scan(&u, &h); err != nil {
			rows.Close()
			return err
		}
		drop = append(drop, "DROP USER "+quoteLiteral(u)+"@"+quoteLiteral(h))
	}
	rows.Close()
	for _, stmt := range drop {
		if err := q(stmt); err != nil {
			return err
		}
	}
	return nil
}

// masterPrivileges is RDS for MariaDB's master user grant (RDS user guide, "Master user account
// privileges": MariaDB), REPLICATION CLIENT being BINLOG MONITOR in MariaDB 10.5 and later. It
// has no SLAVE MONITOR (REPLICA MONITOR): SHOW SLAVE STATUS is refused to the master user, who
// calls mysql.rds_replica_status instead (RDS user guide, "mysql.rds_replica_status").
const masterPrivileges = "SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, RELOAD, PROCESS, REFERENCES, INDEX, ALTER, " +
	"SHOW DATABASES, CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE, REPLICATION CLIENT, " +
	"CREATE VIEW, SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, CREATE USER, EVENT, TRIGGER, REPLICATION SLAVE"

func mariaUser(name string) string { return quoteLiteral(name) + "@'%'" }

func mariaIdent(name string) string { return "`" + strings.ReplaceAll(name, "`", "``") + "`" }

// mariaOpen opens a connection pool to the server's local socket.
func (s *Server) mariaOpen(user, password string) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = user, password, "unix", filepath.Join(s.runDir(), "mysqld.sock")
	cfg.MultiStatements = false
	cfg.InterpolateParams = true
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

func (s *Server) mariaAdmin(ctx context.Context, fn func(*sql.DB) error) error {
	db, err := s.mariaOpen("rdsadmin", s.admin)
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(db)
}

func (s *Server) mariaPing(ctx context.Context) error {
	// During the first start (before the accounts exist) root answers; afterwards rdsadmin.
	err := s.mariaAdmin(ctx, func(db *sql.DB) error { return db.PingContext(ctx) })
	if err == nil {
		return nil
	}
	db, err2 := s.mariaOpen("root", "")
	if err2 != nil {
		return err
	}
	defer db.Close()
	if db.PingContext(ctx) == nil {
		return nil
	}
	return err
}

func (s *Server) mariaApply(ctx context.Context, settings map[string]string) error {
	s.mu.Lock()
	all, binlog := s.settings, s.binlog
	s.mu.Unlock()
	if err := s.mariaWriteConf(all, binlog); err != nil {
		return err
	}
	conf := mariaSettings(settings)
	return s.mariaAdmin(ctx, func(db *sql.DB) error {
		for k, v := range conf {
			if k == "binlog_format" && !binlog {
				continue
			}
			if _, err := db.ExecContext(ctx, "SET GLOBAL "+k+" = "+v); err != nil {
				return fmt.Errorf("data plane: SET GLOBAL %s: %w", k, err)
			}
		}
		return nil
	})
}

func (s *Server) mariaBackup(ctx context.Context, b *Backup) error {
	if out, err := s.m.run(ctx, MariaDB, "/usr/bin/mariabackup", "--defaults-file="+s.confPath(), "--backup",
		"--target-dir="+b.dir, "--user=rdsadmin", "--password="+s.admin); err != nil {
		return fmt.Errorf("data plane: mariabackup --backup: %w\n%s", err, lastLine(out))
	}
	if info, err := os.ReadFile(filepath.Join(b.dir, "xtrabackup_binlog_info")); err == nil {
		b.Binlog = strings.TrimSpace(string(info))
	}
	return nil
}

// mariaRecover runs crash recovery on a copied backup (mariabackup --prepare applies its redo
// log), writing the output, with the binlog position the copy ends at, to the server's log.
func (s *Server) mariaRecover(ctx context.Context) error {
	cmd, err := command(MariaDB, "/usr/bin/mariabackup", "--prepare", "--target-dir="+s.dataDir())
	if err != nil {
		return err
	}
	logf, err := os.OpenFile(filepath.Join(s.logDir(), s.logFileName(time.Now())), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := s.m.start(cmd); err != nil {
		return err
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("data plane: mariabackup --prepare: %w (log: %s)", err, s.logDir())
	}
	return chownTree(s.logDir(), MariaDB)
}

// mariaFollow starts a copy of src as its binlog replica, from the copy's binlog coordinates.
func (s *Server) mariaFollow(ctx context.Context, src *Server, b *Backup) error {
	f := strings.Fields(b.Binlog)
	if len(f) < 2 {
		return fmt.Errorf("data plane: the source's backup has no binlog coordinates (binary log off?)")
	}
	settings := map[string]string{}
	for k, v := range s.settings {
		settings[k] = v
	}
	settings["read_only"] = "1" // RDS: read_only is {TrueIfReplica}
	s.settings = settings
	if err := s.mariaRecover(ctx); err != nil {
		return err
	}
	if err := s.Start(ctx); err != nil {
		return err
	}
	return s.mariaAdmin(ctx, func(db *sql.DB) error {
		stmt := fmt.Sprintf("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d, MASTER_USER='rdsrepladmin', "+
			"MASTER_PASSWORD=%s, MASTER_LOG_FILE=%s, MASTER_LOG_POS=%s", src.port, quoteLiteral(src.admin), quoteLiteral(f[0]), f[1])
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("data plane: CHANGE MASTER: %w", err)
		}
		_, err := db.ExecContext(ctx, "START SLAVE")
		return err
	})
}

func (s *Server) mariaPromote(ctx context.Context) error {
	s.mu.Lock()
	settings := map[string]string{}
	for k, v := range s.settings {
		settings[k] = v
	}
	delete(settings, "read_only")
	s.settings = settings
	s.mu.Unlock()
	return s.mariaAdmin(ctx, func(db *sql.DB) error {
		for _, q := range []string{"STOP SLAVE", "RESET SLAVE ALL", "SET GLOBAL read_only = OFF"} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("data plane: %s: %w", q, err)
			}
		}
		return nil
	})
}
