// Package dataplane_test holds the conformance tests of the simulator's data plane: real
// PostgreSQL and MariaDB servers behind simulated instances, driven with the real
// aws-sdk-go-v2 RDS client over HTTP and reached with real database clients (pgx,
// go-sql-driver/mysql) at the instances' endpoints.
package dataplane_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"github.com/rdsencrypt/rdsencrypt/internal/dataplane"
	"github.com/rdsencrypt/rdsencrypt/internal/rdssim"
	"github.com/rdsencrypt/rdsencrypt/internal/rdssim/simtest"
)

const (
	region   = "us-east-1"
	master   = "app_admin"
	password = "s3cret-password"
)

type env struct {
	t   testing.TB
	h   *simtest.Harness
	rds *rds.Client
	ctx context.Context
}

// dataPlaneCAs are the CAs the data plane's servers' certificates chain to: what a client
// gets from --db-ca-bundle (docs/data-plane.md#tls).
func dataPlaneCAs() *x509.CertPool {
	pool, err := dataplane.CertPool()
	if err != nil {
		panic(err)
	}
	return pool
}

// otherCAs are CAs that signed no data-plane server.
func otherCAs(t testing.TB) *x509.CertPool {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "another CA"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}

// start runs an in-process simulator with a data plane on a manual virtual clock.
func start(t testing.TB, engines ...string) *env {
	t.Helper()
	dataplane.RequireEngine(t, engines...)
	h := simtest.Start(t, rdssim.Options{DataPlane: true, ManualClock: true})
	if h.Sim == nil {
		t.Skip("the data-plane tests drive the in-process simulator (RDSSIM_ENDPOINT is set)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	return &env{t: t, h: h, rds: h.RDS(region), ctx: ctx}
}

// advance moves the virtual clock; state changes that wait for real server work return once
// it is done.
func (e *env) advance(d time.Duration) { e.h.Advance(d) }

func (e *env) describe(id string) types.DBInstance {
	e.t.Helper()
	out, err := e.rds.DescribeDBInstances(e.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
	if err != nil {
		e.t.Fatalf("describe %s: %v", id, err)
	}
	return out.DBInstances[0]
}

func (e *env) status(id string) string { return aws.ToString(e.describe(id).DBInstanceStatus) }

func (e *env) requireStatus(id, want string) types.DBInstance {
	e.t.Helper()
	inst := e.describe(id)
	if got := aws.ToString(inst.DBInstanceStatus); got != want {
		e.t.Fatalf("%s is %q, want %q", id, got, want)
	}
	return inst
}

// create creates an instance and advances the clock until it is available.
func (e *env) create(id, engine string, opts ...func(*rds.CreateDBInstanceInput)) types.DBInstance {
	e.t.Helper()
	in := &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String(id), Engine: aws.String(engine),
		DBInstanceClass: aws.String("db.t3.micro"), AllocatedStorage: aws.Int32(20), MasterUsername: aws.String(master),
		MasterUserPassword: aws.String(password), DBName: aws.String("shop")}
	for _, o := range opts {
		o(in)
	}
	if _, err := e.rds.CreateDBInstance(e.ctx, in); err != nil {
		e.t.Fatalf("create %s: %v", id, err)
	}
	e.advance(15 * time.Minute)
	return e.requireStatus(id, "available")
}

// relay opens a dataplane.Proxy on host (a free port) to target and returns it with its port;
// the test closes it at its end.
func relay(t *testing.T, host, target string) (*dataplane.Proxy, int) {
	t.Helper()
	p := dataplane.NewProxy(net.JoinHostPort(host, "0"))
	if err := p.Open(target); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	_, port, err := net.SplitHostPort(p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return p, n
}

// endpoint returns host:port of an instance's endpoint.
func endpoint(inst types.DBInstance) string {
	return net.JoinHostPort(aws.ToString(inst.Endpoint.Address), strconv.Itoa(int(aws.ToInt32(inst.Endpoint.Port))))
}

func (e *env) pg(addr string) (*pgx.Conn, error) { return e.pgIn(addr, "shop") }

func (e *env) pgIn(addr, db string) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(e.ctx, 20*time.Second)
	defer cancel()
	return pgx.Connect(ctx, fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=disable&connect_timeout=10", master, password, addr, db))
}

func (e *env) mustPG(addr string) *pgx.Conn { return e.mustPGIn(addr, "shop") }

func (e *env) mustPGIn(addr, db string) *pgx.Conn {
	e.t.Helper()
	c, err := e.pgIn(addr, db)
	if err != nil {
		e.t.Fatalf("connect to %s: %v", addr, err)
	}
	e.t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func (e *env) exec(c *pgx.Conn, q string, args ...any) {
	e.t.Helper()
	if _, err := c.Exec(e.ctx, q, args...); err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
}

func (e *env) rows(c *pgx.Conn, q string) string {
	e.t.Helper()
	var s *string
	if err := c.QueryRow(e.ctx, q).Scan(&s); err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	if s == nil {
		return ""
	}
	return *s
}

func (e *env) maria(addr, db string) *sql.DB {
	e.t.Helper()
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = master, password, "tcp", addr, db
	cfg.Timeout = 10 * time.Second
	d, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		e.t.Fatal(err)
	}
	d.SetMaxOpenConns(1)
	e.t.Cleanup(func() { d.Close() })
	return d
}

// refused reports whether nothing answers on addr (connection refused).
func refused(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err == nil {
		c.Close()
		return false
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

// eventually polls cond for real time: replication is real work that takes real time. It
// fails the test when cond does not hold within the limit.
func (e *env) eventually(what string, cond func() bool) {
	e.t.Helper()
	e.within(what, 60*time.Second, cond)
}

// within is eventually with its own limit.
func (e *env) within(what string, limit time.Duration, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("%s: not within %s", what, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (e *env) readLog(id, name string, lines int32) string {
	e.t.Helper()
	var b strings.Builder
	marker := aws.String("0")
	for {
		out, err := e.rds.DownloadDBLogFilePortion(e.ctx, &rds.DownloadDBLogFilePortionInput{DBInstanceIdentifier: aws.String(id),
			LogFileName: aws.String(name), Marker: marker, NumberOfLines: aws.Int32(lines)})
		if err != nil {
			e.t.Fatalf("download %s of %s: %v", name, id, err)
		}
		b.WriteString(aws.ToString(out.LogFileData))
		if !aws.ToBool(out.AdditionalDataPending) {
			return b.String()
		}
		marker = out.Marker
	}
}

// createKey creates a customer managed KMS key and returns its ARN.
func (e *env) createKey() string {
	e.t.Helper()
	key, err := e.h.KMS(region).CreateKey(e.ctx, &kms.CreateKeyInput{})
	if err != nil {
		e.t.Fatal(err)
	}
	return aws.ToString(key.KeyMetadata.Arn)
}
