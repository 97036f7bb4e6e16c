package integration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/rdsencrypt/rdsencrypt/internal/dataplane"
)

// This file is the load of the write-downtime proofs (issue 17): sysbench writing through the
// instance's endpoint for the whole migration, restarted whenever it exits (sysbench 1.0.20
// crashes when its connection is cut), and a client that logs every transaction it saw commit,
// for the accounting sysbench cannot give. Both pause while a pause file exists: what the
// snapshot strategy's freeze hook creates and its unfreeze hook removes.

// mariaAt opens a pool to host:port/db as user.
func mariaAt(addr, user, password, db string) *sql.DB {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = user, password, "tcp", addr, db
	cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout = 5*time.Second, 10*time.Second, 10*time.Second
	d, _ := sql.Open("mysql", cfg.FormatDSN())
	d.SetMaxOpenConns(1)
	d.SetConnMaxLifetime(time.Minute)
	return d
}

// sysbenchRate is sysbench's transaction rate (per second, all threads).
const sysbenchRate = 100

// sysbenchLoad runs sysbench oltp_write_only against addr until stop.
type sysbenchLoad struct {
	args      []string
	pauseFile string
	mu        sync.Mutex
	cmd       *exec.Cmd
	starts    int
	stopped   bool
	done      chan struct{}
	lastOut   []byte
}

func sysbenchArgs(addr, user, password, db string, tables, size int) []string {
	host, port, _ := splitHostPort(addr)
	return []string{"oltp_write_only", "--db-driver=mysql", "--mysql-host=" + host, "--mysql-port=" + port,
		"--mysql-user=" + user, "--mysql-password=" + password, "--mysql-db=" + db,
		"--tables=" + strconv.Itoa(tables), "--table-size=" + strconv.Itoa(size)}
}

func splitHostPort(addr string) (string, string, error) {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			return addr[:i], addr[i+1:], nil
		}
	}
	return addr, "", errors.New("no port")
}

func sysbenchPrepare(args []string) error {
	out, err := exec.Command("sysbench", append(slices.Clone(args), "--threads=2", "prepare")...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("sysbench prepare: %w\n%s", err, out)
	}
	return nil
}

func startSysbench(args []string, pauseFile string) *sysbenchLoad {
	l := &sysbenchLoad{args: append(slices.Clone(args), "--threads=2", "--time=0", "--events=0", "--report-interval=10",
		// A steady rate a replica on this shared 2-core machine keeps up with.
		"--rate="+strconv.Itoa(sysbenchRate),
		"--mysql-ignore-errors=all", "--db-ps-mode=disable", "run"), pauseFile: pauseFile, done: make(chan struct{})}
	go l.loop()
	return l
}

func (l *sysbenchLoad) loop() {
	defer close(l.done)
	for {
		l.mu.Lock()
		if l.stopped {
			l.mu.Unlock()
			return
		}
		if _, err := os.Stat(l.pauseFile); err == nil {
			l.mu.Unlock()
			time.Sleep(20 * time.Millisecond)
			continue
		}
		cmd := exec.Command("sysbench", l.args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		out := &tailBuffer{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			l.mu.Unlock()
			time.Sleep(100 * time.Millisecond)
			continue
		}
		l.cmd = cmd
		l.starts++
		l.mu.Unlock()
		exited := make(chan struct{})
		go func() {
			// A pause stops sysbench until the pause file goes.
			for {
				select {
				case <-exited:
					return
				case <-time.After(20 * time.Millisecond):
				}
				if _, err := os.Stat(l.pauseFile); err == nil {
					_ = cmd.Process.Signal(syscall.SIGKILL)
					return
				}
			}
		}()
		_ = cmd.Wait()
		close(exited)
		l.mu.Lock()
		l.lastOut = out.b
		l.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
}

func (l *sysbenchLoad) stop() (starts int) {
	l.mu.Lock()
	l.stopped = true
	if l.cmd != nil && l.cmd.Process != nil {
		_ = l.cmd.Process.Signal(syscall.SIGKILL)
	}
	l.mu.Unlock()
	<-l.done
	return l.starts
}

type tailBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > 8192 {
		t.b = t.b[len(t.b)-8192:]
	}
	return len(p), nil
}

// ledger is the client that logs every committed transaction: each inserts one row
// (txn = its own sequence number) into shop.ledger in its own transaction. A commit whose
// answer is lost is "unknown" (neither counted committed nor retried with the same number).
type ledger struct {
	db        *sql.DB
	pauseFile string
	mu        sync.Mutex
	committed []dataplane.Commit // Key: the transaction's txn
	unknown   int
	failed    int
	stopCh    chan struct{}
	done      chan struct{}
}

const ledgerTable = "CREATE TABLE IF NOT EXISTS ledger (row_id BIGINT AUTO_INCREMENT PRIMARY KEY, txn BIGINT NOT NULL, at DATETIME(6) NOT NULL, KEY (txn)) ENGINE=InnoDB"

func startLedger(db *sql.DB, pauseFile string) *ledger {
	l := &ledger{db: db, pauseFile: pauseFile, stopCh: make(chan struct{}), done: make(chan struct{})}
	go l.loop()
	return l
}

func (l *ledger) loop() {
	defer close(l.done)
	var txn int64
	for {
		select {
		case <-l.stopCh:
			return
		default:
		}
		if _, err := os.Stat(l.pauseFile); err == nil {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		txn++
		err := l.one(txn)
		now := time.Now()
		l.mu.Lock()
		switch {
		case err == nil:
			l.committed = append(l.committed, dataplane.Commit{Key: strconv.FormatInt(txn, 10), At: now})
		case errors.Is(err, errCommitUnknown):
			l.unknown++
		default:
			l.failed++
		}
		l.mu.Unlock()
		if err != nil {
			time.Sleep(10 * time.Millisecond)
		} else {
			time.Sleep(2 * time.Millisecond)
		}
	}
}

var errCommitUnknown = errors.New("commit outcome unknown")

func (l *ledger) one(txn int64) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO ledger (txn, at) VALUES (?, NOW(6))", txn); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		var me *mysql.MySQLError
		if errors.As(err, &me) {
			return err // the server answered: not committed
		}
		return fmt.Errorf("%w: %v", errCommitUnknown, err)
	}
	return nil
}

func (l *ledger) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.committed)
}

func (l *ledger) stop() []dataplane.Commit {
	close(l.stopCh)
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.committed)
}

// account audits the commits the client saw against the ledger rows of the final instance.
func account(ctx context.Context, db *sql.DB, cs []dataplane.Commit) (dataplane.Audit, error) {
	rows, err := db.QueryContext(ctx, "SELECT txn, COUNT(*) FROM ledger GROUP BY txn")
	if err != nil {
		return dataplane.Audit{}, err
	}
	defer rows.Close()
	have := map[string]int{}
	for rows.Next() {
		var txn string
		var n int
		if err := rows.Scan(&txn, &n); err != nil {
			return dataplane.Audit{}, err
		}
		have[txn] = n
	}
	return dataplane.AuditCommits(cs, have), rows.Err()
}
