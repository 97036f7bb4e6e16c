package dataplane

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
)

// tlsConfig verifies a server against ca (the manager's, or another) under the name host.
func tlsConfig(t *testing.T, ca []byte, host string) *tls.Config {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		t.Fatal("no certificate in the CA")
	}
	return &tls.Config{RootCAs: pool, ServerName: host, MinVersion: tls.VersionTLS12}
}

// otherCA is a certificate authority that signed none of m's servers.
func otherCA(t *testing.T) []byte {
	a, err := newAuthority()
	if err != nil {
		t.Fatal(err)
	}
	return a.pem
}

// connectTLS opens one verified session to s as user, the server named host.
func connectTLS(ctx context.Context, t *testing.T, s *Server, cfg *tls.Config, user, pass string) error {
	t.Helper()
	if s.Engine() == Postgres {
		pc, err := pgx.ParseConfig(fmt.Sprintf("postgres://%s:%s@%s/postgres?sslmode=verify-full", user, pass, s.Addr()))
		if err != nil {
			t.Fatal(err)
		}
		pc.TLSConfig = cfg
		pc.Fallbacks = nil
		c, err := pgx.ConnectConfig(ctx, pc)
		if err != nil {
			return err
		}
		defer c.Close(context.Background())
		var ssl bool
		if err := c.QueryRow(ctx, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl); err != nil || !ssl {
			t.Fatalf("session over TLS: %v %v", ssl, err)
		}
		return nil
	}
	mc := mysql.NewConfig()
	mc.User, mc.Passwd, mc.Net, mc.Addr, mc.TLS = user, pass, "tcp", s.Addr(), cfg
	conn, err := mysql.NewConnector(mc)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	var name, cipher string
	if err := db.QueryRowContext(ctx, "SHOW SESSION STATUS LIKE 'Ssl_cipher'").Scan(&name, &cipher); err != nil {
		return err
	}
	if cipher == "" {
		t.Fatal("MariaDB session without TLS")
	}
	return nil
}

// checkServerTLS: the server offers TLS with a certificate from the manager's CA for
// 127.0.0.1; a client with another CA is refused; after ServeAs a new address (a rename), the
// running server presents a certificate for it.
func checkServerTLS(ctx context.Context, t *testing.T, m *Manager, s *Server, user, pass string) {
	t.Helper()
	if err := connectTLS(ctx, t, s, tlsConfig(t, m.ca.pem, "127.0.0.1"), user, pass); err != nil {
		t.Fatalf("verified TLS session: %v", err)
	}
	err := connectTLS(ctx, t, s, tlsConfig(t, otherCA(t), "127.0.0.1"), user, pass)
	if err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
		t.Fatalf("a client trusting another CA connected: %v", err)
	}
	if err := connectTLS(ctx, t, s, tlsConfig(t, m.ca.pem, "127.33.44.55"), user, pass); err == nil {
		t.Fatal("the certificate names an address it was not given")
	}
	if err := s.ServeAs(ctx, "127.33.44.55"); err != nil {
		t.Fatal(err)
	}
	if err := connectTLS(ctx, t, s, tlsConfig(t, m.ca.pem, "127.33.44.55"), user, pass); err != nil {
		t.Fatalf("after ServeAs, the running server's certificate names the new address: %v", err)
	}
}
