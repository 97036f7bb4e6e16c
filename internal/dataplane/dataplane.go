// Package dataplane runs real database servers behind simulated RDS instances: PostgreSQL 15
// for the postgres engine and MariaDB 10.11 for mysql and mariadb (Debian's packages). It
// creates servers in RDS's shape (master user, rds_superuser, no SUPER), takes consistent
// backups, restores them with crash recovery, builds replicas, applies settings, serves the
// servers' log files, and forwards connections from an instance's endpoint address to its
// server (proxy.go).
//
// Every server runs as a child of the simulator with Pdeathsig, so a killed simulator takes its
// servers with it, and keeps its files under the manager's one temporary root, which Close
// removes. See docs/data-plane.md.
package dataplane

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Engines served by the data plane.
const (
	Postgres = "postgres"
	MariaDB  = "mariadb"
)

// EngineOf maps an RDS engine name to the server that stands in for it ("" when none does).
func EngineOf(rdsEngine string) string {
	switch rdsEngine {
	case "postgres":
		return Postgres
	case "mysql", "mariadb":
		return MariaDB
	}
	return ""
}

// Spec describes a server to create.
type Spec struct {
	Engine         string // Postgres or MariaDB
	MasterUser     string
	MasterPassword string
	DBName         string
	// Settings are the instance's parameter group values by RDS parameter name; the engine
	// files translate them (rds.logical_replication -> wal_level=logical, ...).
	Settings map[string]string
	// Binlog turns MariaDB's binary log on (RDS: on when automated backups are on).
	Binlog bool
}

// Manager owns every server and backup under one temporary root.
type Manager struct {
	root string

	mu      sync.Mutex
	servers map[*Server]bool
	closed  bool
	seq     int

	spawn chan spawnReq
	ca    *authority // signs the servers' certificates (tls.go)
}

// rootPrefix names the temporary roots; ownerFile in a root holds the pid of its simulator.
const (
	rootPrefix = "rdssim-data-"
	ownerFile  = "owner.pid"
)

// NewManager creates the temporary root. It fails when the root cannot be made. Roots left by
// simulators that were killed (whose servers died with them) are removed first.
func NewManager() (*Manager, error) {
	removeOrphanRoots()
	root, err := os.MkdirTemp("", rootPrefix)
	if err != nil {
		return nil, fmt.Errorf("data plane: %w", err)
	}
	if err := os.WriteFile(filepath.Join(root, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		return nil, fmt.Errorf("data plane: %w", err)
	}
	// The server users (postgres, mysql) traverse the root to reach their directories.
	if err := os.Chmod(root, 0o711); err != nil {
		return nil, fmt.Errorf("data plane: %w", err)
	}
	ca, err := processAuthority()
	if err != nil {
		return nil, fmt.Errorf("data plane: certificate authority: %w", err)
	}
	m := &Manager{root: root, servers: map[*Server]bool{}, spawn: make(chan spawnReq), ca: ca}
	if err := os.WriteFile(filepath.Join(root, CAFile), ca.pem, 0o644); err != nil {
		return nil, fmt.Errorf("data plane: %w", err)
	}
	go m.spawner()
	return m, nil
}

// removeOrphanRoots removes the roots whose simulator process is gone.
func removeOrphanRoots() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), rootPrefix+"*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(string(b))
		if err != nil || pid <= 0 {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			_ = os.RemoveAll(dir)
		}
	}
}

// Root returns the temporary directory that holds every server and backup.
func (m *Manager) Root() string { return m.root }

// Close stops every server and removes the root.
func (m *Manager) Close() error {
	m.mu.Lock()
	m.closed = true
	list := make([]*Server, 0, len(m.servers))
	for s := range m.servers {
		list = append(list, s)
	}
	m.mu.Unlock()
	for _, s := range list {
		s.Destroy()
	}
	return os.RemoveAll(m.root)
}

// Reset stops every server and empties the root, keeping the manager usable.
func (m *Manager) Reset() {
	m.mu.Lock()
	list := make([]*Server, 0, len(m.servers))
	for s := range m.servers {
		list = append(list, s)
	}
	m.mu.Unlock()
	for _, s := range list {
		s.Destroy()
	}
	entries, _ := os.ReadDir(m.root)
	for _, e := range entries {
		if e.Name() != ownerFile && e.Name() != CAFile {
			_ = os.RemoveAll(filepath.Join(m.root, e.Name()))
		}
	}
}

// newDir makes a fresh directory under the root, owned by the engine's user.
func (m *Manager) newDir(kind, engine string) (string, error) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return "", errors.New("data plane: closed")
	}
	m.seq++
	name := fmt.Sprintf("%s-%s-%d", kind, engine, m.seq)
	m.mu.Unlock()
	dir := filepath.Join(m.root, name)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", err
	}
	return dir, chownTree(dir, engine)
}

// ---- processes -----------------------------------------------------------------------------

// spawnReq starts a command on the spawner's locked OS thread. Pdeathsig fires when the thread
// that started a child exits; the spawner's thread never exits, so the signal fires exactly
// when the simulator's process dies.
type spawnReq struct {
	cmd  *exec.Cmd
	done chan error
}

func (m *Manager) spawner() {
	runtime.LockOSThread() // never unlocked: the thread lives as long as the process
	for r := range m.spawn {
		r.done <- r.cmd.Start()
	}
}

// command builds a command that runs as the engine's user, dies with the simulator and
// stays in its process group.
func command(engine string, name string, args ...string) (*exec.Cmd, error) {
	cred, err := credential(engine)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
	cmd.Env = []string{"PATH=/usr/lib/postgresql/15/bin:/usr/sbin:/usr/bin:/bin", "LC_ALL=C", "TZ=UTC"}
	return cmd, nil
}

// start starts cmd through the spawner.
func (m *Manager) start(cmd *exec.Cmd) error {
	done := make(chan error, 1)
	m.spawn <- spawnReq{cmd: cmd, done: done}
	return <-done
}

// run runs a short command to completion and returns its combined output on failure.
func (m *Manager) run(ctx context.Context, engine, name string, args ...string) ([]byte, error) {
	cmd, err := command(engine, name, args...)
	if err != nil {
		return nil, err
	}
	return m.runCmd(ctx, cmd)
}

func (m *Manager) runCmd(ctx context.Context, cmd *exec.Cmd) ([]byte, error) {
	var out limitedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := m.start(cmd); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(cmd.Path), err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			return out.Bytes(), fmt.Errorf("%s: %w: %s", filepath.Base(cmd.Path), err, lastLine(out.Bytes()))
		}
		return out.Bytes(), nil
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-waited
		return out.Bytes(), fmt.Errorf("%s: %w", filepath.Base(cmd.Path), ctx.Err())
	}
}

// users maps engines to the unprivileged users their servers run as.
var users = map[string]string{Postgres: "postgres", MariaDB: "mysql"}

func credential(engine string) (*syscall.Credential, error) {
	u, err := user.Lookup(users[engine])
	if err != nil {
		return nil, fmt.Errorf("data plane: user %s not found (install %s)", users[engine], Package(engine))
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func chownTree(dir, engine string) error {
	cred, err := credential(engine)
	if err != nil {
		return err
	}
	return filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, int(cred.Uid), int(cred.Gid))
	})
}

// ---- binaries ------------------------------------------------------------------------------

// Package names the Debian packages that provide an engine's binaries.
func Package(engine string) string {
	if engine == Postgres {
		return "postgresql-15"
	}
	return "mariadb-server mariadb-backup"
}

// InstallCommand is the command that installs every package the data plane uses.
const InstallCommand = "apt-get update && apt-get install -y postgresql-15 mariadb-server mariadb-backup sysbench"

var binaries = map[string][]string{
	Postgres: {pgBin("initdb"), pgBin("postgres"), pgBin("pg_basebackup"), pgBin("pg_ctl")},
	MariaDB:  {"/usr/bin/mariadb-install-db", "/usr/sbin/mariadbd", "/usr/bin/mariabackup"},
}

// Check returns a one-line error naming the Debian package when an engine's binaries are
// missing.
func Check(engine string) error {
	for _, b := range binaries[engine] {
		if _, err := os.Stat(b); err != nil {
			return fmt.Errorf("data plane: %s not found: install the Debian package %s (apt-get install -y %s)",
				b, Package(engine), Package(engine))
		}
	}
	_, err := credential(engine)
	return err
}

// ---- helpers -------------------------------------------------------------------------------

// freePort returns a free TCP port on 127.0.0.1 for a server's private listener.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func randomSecret() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// limitedBuffer keeps the last 64 KiB of a command's output.
type limitedBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > 64<<10 {
		b.buf = b.buf[len(b.buf)-64<<10:]
	}
	return len(p), nil
}

func (b *limitedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]byte(nil), b.buf...)
}

func lastLine(b []byte) string {
	s := string(b)
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == ' ') {
		s = s[:len(s)-1]
	}
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '\n' {
			return s[i+1:]
		}
	}
	return s
}

// waitReady polls until connect succeeds, the process exits, or the timeout passes.
func waitReady(ctx context.Context, exited <-chan struct{}, connect func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	var last error
	for {
		cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
		last = connect(cctx)
		ccancel()
		if last == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("server exited during start: %w", last)
		case <-ctx.Done():
			return fmt.Errorf("server not ready: %w", last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
