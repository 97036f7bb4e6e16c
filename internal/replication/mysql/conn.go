// Package mysql is the MySQL/MariaDB engine of the replication strategy: binary log
// replication from the unencrypted source instance to the encrypted target restored from its
// snapshot, through the mysql.rds_* procedures RDS gives a master user without SUPER.
//
// It speaks SQL only (go-sql-driver/mysql); the AWS calls around it (snapshot, restore, the
// parameter group that freezes writes, reading the restored instance's log) belong to the
// workflow. docs/replication-mysql.md describes the choices: the start position, TLS, the
// replication user, the freeze and what is verified. engine.go implements replication.Engine
// with the pieces.
package mysql

import (
	"context"
	"crypto/tls"
	"database/sql"
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	driver "github.com/go-sql-driver/mysql"
)

// TLS modes of a connection to the database.
const (
	// TLSVerify requires TLS and verifies the server's certificate (system roots, or the
	// Endpoint's RootCAs: the RDS CA bundle).
	TLSVerify = "verify"
	// TLSPreferred uses TLS when the server offers it, without verification, and plaintext
	// when it does not (the simulator's data plane has no TLS).
	TLSPreferred = "preferred"
	// TLSOff never uses TLS.
	TLSOff = "off"
)

// Endpoint says how to reach one instance's database as its master user.
type Endpoint struct {
	Host     string
	Port     int
	User     string
	Password string
	// TLS is one of TLSVerify (the default when empty), TLSPreferred, TLSOff.
	TLS string
	// TLSConfig, when set with TLSVerify, holds the roots (RDS CA bundle) and server name.
	TLSConfig *tls.Config
	// Cleartext: Password is an IAM authentication token, which RDS takes through the
	// cleartext authentication plugin (RDS user guide, "Connecting to your DB instance using
	// IAM authentication from the command line": --enable-cleartext-plugin); TLSVerify only.
	Cleartext bool
}

// Addr is host:port.
func (e Endpoint) Addr() string { return net.JoinHostPort(e.Host, strconv.Itoa(e.Port)) }

// Conn is a connection pool to one instance as its master user.
type Conn struct {
	db   *sql.DB
	addr string
	// statusByProcedure: SHOW REPLICA STATUS was refused here, mysql.rds_replica_status
	// answers instead (ReplicaStatus).
	statusByProcedure atomic.Bool
}

// Open connects to the endpoint and checks that the server answers.
func Open(ctx context.Context, ep Endpoint) (*Conn, error) {
	cfg := driver.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = ep.User, ep.Password, "tcp", ep.Addr()
	cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout = 10*time.Second, 5*time.Minute, time.Minute
	cfg.ParseTime = true
	// CREATE USER ... IDENTIFIED BY takes no placeholder in a prepared statement: the driver
	// quotes arguments into the text instead.
	cfg.InterpolateParams = true
	if ep.Cleartext && ep.TLS != "" && ep.TLS != TLSVerify {
		return nil, fmt.Errorf("database %s: an IAM authentication token is sent only over verified TLS", ep.Addr())
	}
	cfg.AllowCleartextPasswords = ep.Cleartext
	switch ep.TLS {
	case "", TLSVerify:
		t := &tls.Config{ServerName: ep.Host, MinVersion: tls.VersionTLS12}
		if ep.TLSConfig != nil {
			t = ep.TLSConfig.Clone()
		}
		cfg.TLS = t
	case TLSPreferred:
		cfg.TLSConfig = "preferred"
	case TLSOff:
		cfg.TLSConfig = "false"
	default:
		return nil, fmt.Errorf("database %s: unknown TLS mode %q (verify, preferred or off)", ep.Addr(), ep.TLS)
	}
	connector, err := driver.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", ep.Addr(), err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(4)
	db.SetConnMaxIdleTime(time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("database %s: %w", ep.Addr(), err)
	}
	return &Conn{db: db, addr: ep.Addr()}, nil
}

// Close closes the pool.
func (c *Conn) Close() error { return c.db.Close() }

// Addr is the endpoint this connection reaches.
func (c *Conn) Addr() string { return c.addr }

func (c *Conn) errorf(format string, args ...any) error {
	return fmt.Errorf("database %s: "+format, append([]any{c.addr}, args...)...)
}

func (c *Conn) exec(ctx context.Context, stmt string, args ...any) error {
	if _, err := c.db.ExecContext(ctx, stmt, args...); err != nil {
		return c.errorf("%s: %w", firstWords(stmt), err)
	}
	return nil
}

// call runs a stored procedure that may answer with a result set (the rds_* procedures do).
func (c *Conn) call(ctx context.Context, stmt string, args ...any) error {
	rows, err := c.db.QueryContext(ctx, stmt, args...)
	if err != nil {
		return c.errorf("%s: %w", firstWords(stmt), err)
	}
	for rows.NextResultSet() {
		for rows.Next() {
		}
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return c.errorf("%s: %w", firstWords(stmt), err)
	}
	return rows.Close()
}

// firstWords keeps an error free of arguments (a password is never in the statement text, but
// a statement is named by its start only).
func firstWords(stmt string) string {
	if len(stmt) > 48 {
		return stmt[:48] + "..."
	}
	return stmt
}

// rowMap reads the first row of a query into a map by column name (SHOW SLAVE STATUS and
// SHOW MASTER STATUS have more columns in newer servers); nil when there is no row.
func (c *Conn) rowMap(ctx context.Context, q string) (map[string]string, error) {
	rows, err := c.db.QueryContext(ctx, q)
	if err != nil {
		return nil, c.errorf("%s: %w", q, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	if !rows.Next() {
		return nil, rows.Err()
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, c.errorf("%s: %w", q, err)
	}
	m := make(map[string]string, len(cols))
	for i, col := range cols {
		m[col] = vals[i].String
	}
	return m, rows.Err()
}
