package dataplane

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// LogFile is one of a server's log files, named as RDS names it.
type LogFile struct {
	Name        string // e.g. error/postgresql.log.2024-05-01-10, error/mysql-error-running.log
	LastWritten time.Time
	Size        int64
}

// logFileName is the file a server start writes to: PostgreSQL's logs rotate hourly on RDS
// (error/postgresql.log.YYYY-MM-DD-HH); MariaDB's running error log is one file.
func (s *Server) logFileName(now time.Time) string {
	if s.engine == Postgres {
		return "postgresql.log." + now.UTC().Format("2006-01-02-15")
	}
	return "mysql-error-running.log"
}

// Logs lists the server's log files, oldest name first.
func (s *Server) Logs() ([]LogFile, error) {
	entries, err := os.ReadDir(s.logDir())
	if err != nil {
		return nil, err
	}
	var out []LogFile
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		out = append(out, LogFile{Name: "error/" + e.Name(), LastWritten: info.ModTime(), Size: info.Size()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ReadLog returns the content of a log file named as Logs names it; ok is false when there is
// no such file.
func (s *Server) ReadLog(name string) (data []byte, ok bool) {
	base, found := strings.CutPrefix(name, "error/")
	if !found || base == "" || strings.ContainsAny(base, "/\\") || base == "." || base == ".." {
		return nil, false
	}
	b, err := os.ReadFile(filepath.Join(s.logDir(), base))
	if err != nil {
		return nil, false
	}
	return b, true
}
