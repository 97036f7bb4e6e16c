package dataplane_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rdsencrypt/rdsencrypt/internal/dataplane"
)

// pgbenchScript is a TPC-B-like transaction that also records a token naming it: round,
// client and the client's transaction number n (pgbench keeps a client's variables from one
// transaction to the next; n starts at 1 in each round). The ledger's id comes from a
// sequence, so a new instance whose sequence was not synced refuses inserts.
const pgbenchScript = `\set aid random(1, 100000 * :scale)
\set delta random(-5000, 5000)
\set n :n + 1
BEGIN;
UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;
INSERT INTO pgbench_history (tid, bid, aid, delta, mtime, filler) VALUES (1, 1, :aid, :delta, CURRENT_TIMESTAMP, :round || '-' || :client_id || '-' || :n);
INSERT INTO ledger (token) VALUES (:round || '-' || :client_id || '-' || :n);
END;
`

// pgbenchWriter runs pgbench against host:port in short rounds (-C: a new connection per
// transaction, so it reconnects by the endpoint address after every error; pgbench aborts
// a client on a connection or SQL error, and the next round starts a new one), logging
// every completed transaction with -l.
type pgbenchWriter struct {
	t       testing.TB
	dir     string
	host    string
	port    int
	db      string
	clients int
	stop    chan struct{}
	done    chan struct{}
	mu      sync.Mutex
	rounds  int
}

var pgbenchRounds atomic.Int64

func pgbenchBin() string { return "/usr/lib/postgresql/15/bin/pgbench" }

func pgbenchEnv() []string {
	return append(os.Environ(), "PGPASSWORD="+password, "PGCONNECT_TIMEOUT=2")
}

// pgbenchInit loads the pgbench tables (scale) and the ledger into the database shop.
func (e *env) pgbenchInit(host string, port, scale int) { e.pgbenchInitIn(host, port, scale, "shop") }

// pgbenchInitIn loads the pgbench tables (scale) and the ledger into database db.
func (e *env) pgbenchInitIn(host string, port, scale int, db string) {
	e.t.Helper()
	cmd := exec.CommandContext(e.ctx, pgbenchBin(), "-i", "-s", strconv.Itoa(scale), "-q", "-h", host, "-p", strconv.Itoa(port), "-U", master, db)
	cmd.Env = pgbenchEnv()
	if out, err := cmd.CombinedOutput(); err != nil {
		e.t.Fatalf("pgbench -i %s: %v\n%s", db, err, out)
	}
	c := e.mustPGIn(fmt.Sprintf("%s:%d", host, port), db)
	e.exec(c, "CREATE TABLE ledger (id bigserial PRIMARY KEY, token text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())")
}

func startPgbench(t testing.TB, host string, port, clients int) *pgbenchWriter {
	return startPgbenchScript(t, host, port, clients, pgbenchScript)
}

// startPgbenchScript is startPgbench with another script (it must log a token as
// pgbenchScript does, for the audit).
func startPgbenchScript(t testing.TB, host string, port, clients int, script string) *pgbenchWriter {
	return startPgbenchIn(t, host, port, clients, "shop", script)
}

// startPgbenchIn is startPgbenchScript writing to database db.
func startPgbenchIn(t testing.TB, host string, port, clients int, db, script string) *pgbenchWriter {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "script.sql"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	w := &pgbenchWriter{t: t, dir: dir, host: host, port: port, db: db, clients: clients, stop: make(chan struct{}), done: make(chan struct{})}
	go w.run()
	t.Cleanup(w.Stop)
	return w
}

func (w *pgbenchWriter) run() {
	defer close(w.done)
	for {
		round := int(pgbenchRounds.Add(1)) // unique across writers, so tokens are too
		select {
		case <-w.stop:
			return
		default:
		}
		w.mu.Lock()
		w.rounds = round
		w.mu.Unlock()
		cmd := exec.Command(pgbenchBin(), "-n", "-C", "-c", strconv.Itoa(w.clients), "-j", "1", "-T", "2",
			"-l", "--log-prefix", filepath.Join(w.dir, fmt.Sprintf("r%d", round)),
			"-D", "round="+strconv.Itoa(round), "-D", "n=0", "-D", "scale=1",
			"-f", filepath.Join(w.dir, "script.sql"), "-h", w.host, "-p", strconv.Itoa(w.port), "-U", master, w.db)
		cmd.Env = pgbenchEnv()
		out, err := cmd.CombinedOutput()
		if err != nil {
			// Expected while the database refuses writes or connections: note it and go on.
			_ = os.WriteFile(filepath.Join(w.dir, fmt.Sprintf("err%d.txt", round)), out, 0o644)
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// Stop ends the writer after its current round.
func (w *pgbenchWriter) Stop() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}

// Commits reads pgbench's logs: every line with a latency is a committed transaction
// (pgbench writes "failed" or "skipped" instead, and nothing for an aborted client's last
// transaction). Within a round a client's transactions run in order and it aborts at its
// first error, so its committed transactions are n = 1..k.
func (w *pgbenchWriter) Commits() []dataplane.Commit {
	w.t.Helper()
	files, err := filepath.Glob(filepath.Join(w.dir, "r*.*"))
	if err != nil {
		w.t.Fatal(err)
	}
	var out []dataplane.Commit
	for _, f := range files {
		round := strings.TrimPrefix(strings.SplitN(filepath.Base(f), ".", 2)[0], "r")
		fh, err := os.Open(f)
		if err != nil {
			w.t.Fatal(err)
		}
		perClient := map[string]int{}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) < 6 {
				continue
			}
			if _, err := strconv.ParseFloat(fs[2], 64); err != nil {
				continue // failed or skipped
			}
			sec, _ := strconv.ParseInt(fs[4], 10, 64)
			usec, _ := strconv.ParseInt(fs[5], 10, 64)
			perClient[fs[0]]++
			out = append(out, dataplane.Commit{Key: fmt.Sprintf("%s-%s-%d", round, fs[0], perClient[fs[0]]), At: time.Unix(sec, usec*1000)})
		}
		fh.Close()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

// auditPgbench audits cs against both tables pgbench writes a token to on c (auditTable).
func (e *env) auditPgbench(c *pgx.Conn, cs []dataplane.Commit, what string) {
	e.t.Helper()
	for _, table := range []string{"pgbench_history", "ledger"} {
		auditTable(e.ctx, e.t, c, table, cs, what)
	}
}

// auditTable audits cs against table on c, logs the figures under what, and fails the test on
// a lost or duplicated commit.
func auditTable(ctx context.Context, t testing.TB, c *pgx.Conn, table string, cs []dataplane.Commit, what string) dataplane.Audit {
	t.Helper()
	a := auditTokens(ctx, t, c, table, cs)
	t.Logf("%s, %s: %s", what, table, a)
	if err := a.Err(); err != nil {
		t.Errorf("%s, %s: %v", what, table, err)
	}
	return a
}

// auditTokens audits cs against the tokens in table on c.
func auditTokens(ctx context.Context, t testing.TB, c *pgx.Conn, table string, cs []dataplane.Commit) dataplane.Audit {
	t.Helper()
	column := "token"
	if table == "pgbench_history" {
		column = "filler"
	}
	rows, err := c.Query(ctx, fmt.Sprintf("SELECT trim(%s), count(*) FROM %s WHERE %s IS NOT NULL GROUP BY 1", column, table, column))
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]int{}
	for rows.Next() {
		var tok string
		var n int
		if err := rows.Scan(&tok, &n); err != nil {
			t.Fatal(err)
		}
		have[tok] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return dataplane.AuditCommits(cs, have)
}
