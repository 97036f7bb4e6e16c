package dataplane

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
)

func newManager(t *testing.T, engine string) *Manager {
	t.Helper()
	RequireEngine(t, engine)
	m, err := NewManager()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func pgConn(t *testing.T, ctx context.Context, addr, user, pass, db string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(ctx, fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=disable", user, pass, addr, db))
	if err != nil {
		t.Fatalf("connect %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func mariaDB(t *testing.T, addr, user, pass, db string) *sql.DB {
	t.Helper()
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = user, pass, "tcp", addr, db
	d, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestPostgresCreateBackupRestore(t *testing.T) {
	m := newManager(t, Postgres)
	ctx := testCtx(t)
	s, err := m.Create(ctx, Spec{Engine: Postgres, MasterUser: "admin", MasterPassword: "s3cret-pw", DBName: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	checkServerTLS(ctx, t, m, s, "admin", "s3cret-pw")
	c := pgConn(t, ctx, s.Addr(), "admin", "s3cret-pw", "shop")
	var super bool
	var roles string
	if err := c.QueryRow(ctx, `SELECT rolsuper, (SELECT string_agg(b.rolname, ',') FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid WHERE m.member = r.oid)
		FROM pg_roles r WHERE rolname = current_user`).Scan(&super, &roles); err != nil {
		t.Fatal(err)
	}
	// Superuser only because vanilla PostgreSQL 15 reserves CREATE SUBSCRIPTION to superusers
	// where RDS lets rds_superuser (docs/data-plane.md).
	if !super || !strings.Contains(roles, "rds_superuser") {
		t.Fatalf("master user: superuser=%v roles=%q, want superuser and rds_superuser", super, roles)
	}
	if _, err := c.Exec(ctx, "CREATE TABLE t (v text); INSERT INTO t VALUES ('before')"); err != nil {
		t.Fatal(err)
	}
	b, err := s.Backup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, "INSERT INTO t VALUES ('after')"); err != nil {
		t.Fatal(err)
	}
	r, err := m.Restore(ctx, b, Spec{Engine: Postgres})
	if err != nil {
		t.Fatal(err)
	}
	rc := pgConn(t, ctx, r.Addr(), "admin", "s3cret-pw", "shop")
	var got string
	if err := rc.QueryRow(ctx, "SELECT string_agg(v, ',') FROM t").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != "before" {
		t.Fatalf("restored rows %q, want only the row written before the backup", got)
	}
	logs, err := r.Logs()
	if err != nil || len(logs) == 0 {
		t.Fatalf("logs %v %v", logs, err)
	}
	data, _ := r.ReadLog(logs[len(logs)-1].Name)
	if !strings.Contains(string(data), "redo done at") {
		t.Fatalf("restored server's log has no 'redo done at':\n%s", data)
	}
}

func TestMariaDBCreateBackupRestore(t *testing.T) {
	m := newManager(t, MariaDB)
	ctx := testCtx(t)
	s, err := m.Create(ctx, Spec{Engine: MariaDB, MasterUser: "admin", MasterPassword: "s3cret-pw", DBName: "shop", Binlog: true})
	if err != nil {
		t.Fatal(err)
	}
	checkServerTLS(ctx, t, m, s, "admin", "s3cret-pw")
	db := mariaDB(t, s.Addr(), "admin", "s3cret-pw", "shop")
	var grants []string
	rows, err := db.QueryContext(ctx, "SHOW GRANTS")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var g string
		_ = rows.Scan(&g)
		grants = append(grants, g)
	}
	if strings.Contains(strings.Join(grants, "\n"), "SUPER") || !strings.Contains(strings.Join(grants, "\n"), "EXECUTE") {
		t.Fatalf("master user grants: %v", grants)
	}
	for _, q := range []string{"CREATE TABLE t (v VARCHAR(20)) ENGINE=InnoDB", "INSERT INTO t VALUES ('before')"} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	b, err := s.Backup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO t VALUES ('after')"); err != nil {
		t.Fatal(err)
	}
	r, err := m.Restore(ctx, b, Spec{Engine: MariaDB, Binlog: true})
	if err != nil {
		t.Fatal(err)
	}
	rdb := mariaDB(t, r.Addr(), "admin", "s3cret-pw", "shop")
	var got string
	if err := rdb.QueryRowContext(ctx, "SELECT GROUP_CONCAT(v) FROM t").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != "before" {
		t.Fatalf("restored rows %q, want only the row written before the backup", got)
	}
	logs, _ := r.Logs()
	data, _ := r.ReadLog(logs[0].Name)
	file, pos, _ := strings.Cut(b.Binlog, "\t")
	pos, _, _ = strings.Cut(pos, "\t")
	want := regexp.MustCompile(`Last binlog file \S*` + regexp.QuoteMeta(file+", position "+pos) + `\b`)
	if !want.Match(data) {
		t.Fatalf("restored server's log lacks %s:\n%s", want, data)
	}
}

// TestMissingBinaryNamesPackage: a missing engine binary is one line naming the Debian package.
func TestMissingBinaryNamesPackage(t *testing.T) {
	saved := binaries[Postgres]
	t.Cleanup(func() { binaries[Postgres] = saved })
	binaries[Postgres] = []string{"/nonexistent/initdb"}
	err := Check(Postgres)
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "postgresql-15") {
		t.Fatalf("Check with initdb missing: %v", err)
	}
	m, merr := NewManager()
	if merr != nil {
		t.Fatal(merr)
	}
	defer m.Close()
	if _, err := m.Create(context.Background(), Spec{Engine: Postgres}); err == nil || !strings.Contains(err.Error(), "apt-get install -y postgresql-15") {
		t.Fatalf("Create with initdb missing: %v", err)
	}
}
