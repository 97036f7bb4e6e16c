package dataplane_test

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/rdsencrypt/rdsencrypt/internal/dataplane"
)

// BenchmarkDataPlane1GiB measures, once, the real time and memory to create a PostgreSQL
// instance, load about 1 GiB with pgbench (scale RDSSIM_BENCH_SCALE, default 70), snapshot it
// and restore the snapshot, and the memory of ten idle instances (five PostgreSQL, five
// MariaDB). Run: go test ./integration/dataplane -run '^$' -bench DataPlane -benchtime 1x
func BenchmarkDataPlane1GiB(b *testing.B) {
	scale := 70
	if v, err := strconv.Atoi(os.Getenv("RDSSIM_BENCH_SCALE")); err == nil && v > 0 {
		scale = v
	}
	for n := 0; n < b.N; n++ {
		benchOnce(b, scale)
	}
}

func benchOnce(b *testing.B, scale int) {
	dataplane.RequireEngine(b, dataplane.Postgres, dataplane.MariaDB)
	e := start(b)
	lap := func(what string, start time.Time) {
		b.Logf("%-40s %8.1fs   servers' memory (PSS) %6.0f MiB", what, time.Since(start).Seconds(), pssMiB())
	}
	t0 := time.Now()
	inst := e.create("bench", "postgres", func(in *rds.CreateDBInstanceInput) { in.BackupRetentionPeriod = aws.Int32(0) })
	lap("create (to available)", t0)
	t0 = time.Now()
	host, port, _ := strings.Cut(endpoint(inst), ":")
	load := exec.Command("/usr/lib/postgresql/15/bin/pgbench", "-i", "-q", "-s", strconv.Itoa(scale), "-h", host, "-p", port, "-U", master, "shop")
	load.Env = append(os.Environ(), "PGPASSWORD="+password)
	if out, err := load.CombinedOutput(); err != nil {
		b.Fatalf("pgbench -i: %v\n%s", err, out)
	}
	var size string
	if err := e.mustPG(endpoint(inst)).QueryRow(e.ctx, "SELECT pg_size_pretty(pg_database_size('shop'))").Scan(&size); err != nil {
		b.Fatal(err)
	}
	lap(fmt.Sprintf("pgbench -i -s %d (database %s)", scale, size), t0)
	t0 = time.Now()
	if _, err := e.rds.CreateDBSnapshot(e.ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("bench"),
		DBSnapshotIdentifier: aws.String("bench-snap")}); err != nil {
		b.Fatal(err)
	}
	e.advance(time.Hour)
	lap("CreateDBSnapshot (data captured)", t0)
	t0 = time.Now()
	if _, err := e.rds.RestoreDBInstanceFromDBSnapshot(e.ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{
		DBInstanceIdentifier: aws.String("bench-restored"), DBSnapshotIdentifier: aws.String("bench-snap"),
		BackupRetentionPeriod: aws.Int32(0)}); err != nil {
		b.Fatal(err)
	}
	e.advance(3 * time.Hour)
	e.requireStatus("bench-restored", "available")
	lap("restore (to available)", t0)
	b.Logf("data root size %s", du(e.h.Sim.DataRoot()))
	t0 = time.Now()
	for k := 0; k < 5; k++ {
		for _, engine := range []string{"postgres", "mariadb"} {
			id := fmt.Sprintf("idle-%s-%d", engine, k)
			if _, err := e.rds.CreateDBInstance(e.ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String(id), Engine: aws.String(engine),
				DBInstanceClass: aws.String("db.t3.micro"), AllocatedStorage: aws.Int32(20), MasterUsername: aws.String(master),
				MasterUserPassword: aws.String(password), DBName: aws.String("shop")}); err != nil {
				b.Fatal(err)
			}
		}
	}
	e.advance(time.Hour)
	lap("ten more instances (12 servers in all)", t0)
}

// pssMiB sums the proportional set size of every process below this one (the servers).
func pssMiB() float64 {
	var kb int64
	for _, pid := range dataplane.Descendants(os.Getpid()) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "Pss:" {
				n, _ := strconv.ParseInt(f[1], 10, 64)
				kb += n
			}
		}
	}
	return float64(kb) / 1024
}

func du(dir string) string {
	out, err := exec.Command("du", "-sh", dir).Output()
	if err != nil {
		return "?"
	}
	return strings.Fields(string(out))[0]
}
