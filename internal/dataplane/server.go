package dataplane

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server is one running (or stopped) database server.
type Server struct {
	m      *Manager
	engine string
	dir    string // <root>/server-<engine>-N: data/, run/, log/, conf files
	port   int    // private listener on 127.0.0.1
	id     int    // MariaDB server_id
	admin  string // MariaDB rdsadmin password (PostgreSQL's rdsadmin uses the local socket)

	mu        sync.Mutex
	cmd       *exec.Cmd
	exited    chan struct{}
	settings  map[string]string
	binlog    bool
	destroyed bool
	// tlsHosts are the addresses the server's certificate names besides 127.0.0.1
	// (ServeAs); serial is the certificate's serial number (tls.go).
	tlsHosts []string
	serial   *big.Int
}

// Engine returns Postgres or MariaDB.
func (s *Server) Engine() string { return s.engine }

// Addr returns the server's private listener (host:port on 127.0.0.1).
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

func (s *Server) dataDir() string { return filepath.Join(s.dir, "data") }
func (s *Server) runDir() string  { return filepath.Join(s.dir, "run") }
func (s *Server) logDir() string  { return filepath.Join(s.dir, "log") }

// newServer allocates the directory, port and ids of a server.
func (m *Manager) newServer(engine string) (*Server, error) {
	if err := Check(engine); err != nil {
		return nil, err
	}
	dir, err := m.newDir("server", engine)
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.seq++
	s := &Server{m: m, engine: engine, dir: dir, port: port, id: m.seq, admin: randomSecret()}
	m.servers[s] = true
	m.mu.Unlock()
	for _, d := range []string{s.runDir(), s.logDir()} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return nil, err
		}
	}
	if err := s.writeCert(); err != nil { // mariadb-install-db reads the configuration already
		return nil, err
	}
	return s, chownTree(dir, engine)
}

// Create initialises a new server in RDS's shape and starts it.
func (m *Manager) Create(ctx context.Context, spec Spec) (*Server, error) {
	s, err := m.newServer(spec.Engine)
	if err != nil {
		return nil, err
	}
	if err := s.create(ctx, spec); err != nil {
		s.Destroy()
		return nil, err
	}
	return s, nil
}

func (s *Server) create(ctx context.Context, spec Spec) error {
	s.settings, s.binlog = spec.Settings, spec.Binlog
	if s.engine == Postgres {
		return s.pgCreate(ctx, spec)
	}
	return s.mariaCreate(ctx, spec)
}

// Restore starts a new server from a backup; the server runs crash recovery as it starts.
func (m *Manager) Restore(ctx context.Context, b *Backup, spec Spec) (*Server, error) {
	s, err := m.newServer(b.engine)
	if err != nil {
		return nil, err
	}
	s.admin = b.admin
	s.settings, s.binlog = spec.Settings, spec.Binlog
	if err := copyTree(b.dir, s.dataDir()); err != nil {
		s.Destroy()
		return nil, err
	}
	if err := chownTree(s.dir, s.engine); err != nil {
		s.Destroy()
		return nil, err
	}
	if s.engine == MariaDB {
		if err := s.mariaRecover(ctx); err != nil {
			s.Destroy()
			return nil, err
		}
	}
	if err := s.Start(ctx); err != nil {
		s.Destroy()
		return nil, err
	}
	return s, nil
}

// Replica creates a server that replicates from src (PostgreSQL streaming standby, MariaDB
// binlog replica).
func (m *Manager) Replica(ctx context.Context, src *Server, spec Spec) (*Server, error) {
	b, err := src.Backup(ctx)
	if err != nil {
		return nil, err
	}
	defer b.Remove()
	s, err := m.newServer(src.engine)
	if err != nil {
		return nil, err
	}
	s.admin = b.admin
	s.settings, s.binlog = spec.Settings, spec.Binlog
	if err := copyTree(b.dir, s.dataDir()); err != nil {
		s.Destroy()
		return nil, err
	}
	if err := chownTree(s.dir, s.engine); err != nil {
		s.Destroy()
		return nil, err
	}
	if s.engine == Postgres {
		err = s.pgFollow(ctx, src)
	} else {
		err = s.mariaFollow(ctx, src, b)
	}
	if err != nil {
		s.Destroy()
		return nil, err
	}
	return s, nil
}

// Promote turns a replica into a standalone writable server.
func (s *Server) Promote(ctx context.Context) error {
	if s.engine == Postgres {
		return s.pgPromote(ctx)
	}
	return s.mariaPromote(ctx)
}

// Start starts the server with its current settings and waits until it accepts connections.
func (s *Server) Start(ctx context.Context) error { return s.start(ctx, 3) }

func (s *Server) start(ctx context.Context, retries int) error {
	s.mu.Lock()
	if s.destroyed {
		s.mu.Unlock()
		return errors.New("data plane: server removed")
	}
	if s.cmd != nil {
		s.mu.Unlock()
		return nil
	}
	settings, binlog := s.settings, s.binlog
	s.mu.Unlock()
	var cmd *exec.Cmd
	var err error
	if s.engine == Postgres {
		cmd, err = s.pgCommand(settings)
	} else {
		cmd, err = s.mariaCommand(settings, binlog)
	}
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
		return fmt.Errorf("data plane: starting %s: %w", s.engine, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()
	if err := waitReady(ctx, exited, s.ping); err != nil {
		s.Stop()
		if s.portTaken() && retries > 0 {
			// Another process took the free port between the check and the server's bind.
			if port, perr := freePort(); perr == nil {
				s.port = port
				return s.start(ctx, retries-1)
			}
		}
		return fmt.Errorf("data plane: %s on %s: %w (log: %s)", s.engine, s.Addr(), err, s.logDir())
	}
	return nil
}

// portTaken reports whether the server's last start failed to bind its port.
func (s *Server) portTaken() bool {
	logs, _ := s.Logs()
	for _, l := range logs {
		if b, ok := s.ReadLog(l.Name); ok {
			tail := b[max(0, len(b)-4096):]
			if strings.Contains(string(tail), "ddress already in use") {
				return true
			}
		}
	}
	return false
}

// Stop stops the server (fast shutdown: sessions are dropped) and waits for it to exit.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	// PostgreSQL: SIGINT is a fast shutdown; MariaDB: SIGTERM is a normal shutdown that
	// disconnects clients.
	sig := syscall.SIGTERM
	if s.engine == Postgres {
		sig = syscall.SIGINT
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-exited:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
}

// Running reports whether the server process is up.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return false
	}
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// Restart stops the server and starts it with new settings (a reboot: static settings and the
// binary log apply, every session is dropped).
func (s *Server) Restart(ctx context.Context, settings map[string]string, binlog bool) error {
	s.Stop()
	s.mu.Lock()
	s.settings, s.binlog = settings, binlog
	s.mu.Unlock()
	return s.Start(ctx)
}

// Destroy stops the server and removes its files.
func (s *Server) Destroy() {
	s.Stop()
	s.mu.Lock()
	s.destroyed = true
	s.mu.Unlock()
	_ = os.RemoveAll(s.dir)
	s.m.mu.Lock()
	delete(s.m.servers, s)
	s.m.mu.Unlock()
}

// ApplyDynamic applies dynamic settings to the running server (a parameter group change with
// ApplyMethod immediate) and keeps them for later starts.
func (s *Server) ApplyDynamic(ctx context.Context, settings map[string]string) error {
	s.mu.Lock()
	merged := map[string]string{}
	for k, v := range s.settings {
		merged[k] = v
	}
	for k, v := range settings {
		merged[k] = v
	}
	s.settings = merged
	s.mu.Unlock()
	if s.engine == Postgres {
		return s.pgApply(ctx, settings)
	}
	return s.mariaApply(ctx, settings)
}

// AdminExec runs one statement as the server's administrator (rdsadmin) in database db.
func (s *Server) AdminExec(ctx context.Context, db, stmt string) error {
	if s.engine == Postgres {
		if db == "" {
			db = "postgres"
		}
		return s.pgAdmin(ctx, db, func(c *pgx.Conn) error {
			_, err := c.Exec(ctx, stmt)
			return err
		})
	}
	return s.mariaAdmin(ctx, func(d *sql.DB) error {
		if db != "" {
			if _, err := d.ExecContext(ctx, "USE "+mariaIdent(db)); err != nil {
				return err
			}
		}
		_, err := d.ExecContext(ctx, stmt)
		return err
	})
}

func (s *Server) ping(ctx context.Context) error {
	if s.engine == Postgres {
		return s.pgPing(ctx)
	}
	return s.mariaPing(ctx)
}

// ---- backups -------------------------------------------------------------------------------

// Backup is a consistent copy of a server's data (PostgreSQL: a base backup with its WAL;
// MariaDB: a mariabackup copy with its redo log). A server started from it runs crash recovery.
type Backup struct {
	engine string
	dir    string
	admin  string
	// Binlog holds MariaDB's binary log coordinates of the copy ("file\tpos\tgtid").
	Binlog string
}

// Backup takes a consistent copy of the running server. It returns once the copy is complete:
// every transaction committed before the call is in it.
func (s *Server) Backup(ctx context.Context) (*Backup, error) {
	dir, err := s.m.newDir("backup", s.engine)
	if err != nil {
		return nil, err
	}
	b := &Backup{engine: s.engine, dir: dir, admin: s.admin}
	if s.engine == Postgres {
		err = s.pgBackup(ctx, b)
	} else {
		err = s.mariaBackup(ctx, b)
	}
	if err != nil {
		b.Remove()
		return nil, err
	}
	return b, nil
}

// Copy copies a backup (CopyDBSnapshot).
func (b *Backup) Copy(m *Manager) (*Backup, error) {
	dir, err := m.newDir("backup", b.engine)
	if err != nil {
		return nil, err
	}
	_ = os.Remove(dir)
	if err := copyTree(b.dir, dir); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	c := *b
	c.dir = dir
	return &c, nil
}

// Remove deletes a backup's files.
func (b *Backup) Remove() { _ = os.RemoveAll(b.dir) }

// copyTree copies a directory tree with cp -a (ownership and modes kept).
func copyTree(src, dst string) error {
	out, err := exec.Command("cp", "-a", src, dst).CombinedOutput()
	if err != nil {
		return fmt.Errorf("data plane: copying %s: %w: %s", src, err, lastLine(out))
	}
	return nil
}
