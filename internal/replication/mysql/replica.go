package mysql

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	driver "github.com/go-sql-driver/mysql"
)

// Source is what a replica needs to connect to its source's binary log.
type Source struct {
	Host     string
	Port     int
	User     string
	Password string
	// SSL asks the replica's connection to use TLS (rds_set_external_master's ssl_encryption).
	SSL bool
}

// Attach makes this instance a replica of src from position p and starts it
// (mysql.rds_set_external_master, then mysql.rds_start_replication): the procedures RDS gives
// the master user, who has no SUPER. Any earlier replication settings are reset first, so a
// resumed run can attach again.
func (c *Conn) Attach(ctx context.Context, src Source, p Position) error {
	if err := c.call(ctx, "CALL mysql.rds_reset_external_master"); err != nil {
		return err
	}
	ssl := 0
	if src.SSL {
		ssl = 1
	}
	if err := c.call(ctx, "CALL mysql.rds_set_external_master(?, ?, ?, ?, ?, ?, ?)",
		src.Host, src.Port, src.User, src.Password, p.File, p.Pos, ssl); err != nil {
		return err
	}
	return c.call(ctx, "CALL mysql.rds_start_replication")
}

// Start starts replication configured earlier (mysql.rds_start_replication).
func (c *Conn) Start(ctx context.Context) error {
	return c.call(ctx, "CALL mysql.rds_start_replication")
}

// Stop stops replication, keeping its settings and position (mysql.rds_stop_replication).
func (c *Conn) Stop(ctx context.Context) error {
	return c.call(ctx, "CALL mysql.rds_stop_replication")
}

// Detach stops replication and forgets its source (mysql.rds_stop_replication, then
// mysql.rds_reset_external_master). Nothing happens on a server that replicates from nothing.
func (c *Conn) Detach(ctx context.Context) error {
	st, err := c.ReplicaStatus(ctx)
	if err != nil {
		return err
	}
	if !st.Configured {
		return nil
	}
	if err := c.call(ctx, "CALL mysql.rds_stop_replication"); err != nil {
		return err
	}
	return c.call(ctx, "CALL mysql.rds_reset_external_master")
}

// ReplicaStatus is the replica's side of replication (SHOW SLAVE STATUS).
type ReplicaStatus struct {
	Configured bool // a source is set
	SourceHost string
	SourcePort int
	SourceUser string // the replication user on the source (Master_User)
	IORunning  bool   // Slave_IO_Running Yes: connected to the source
	// IOConnecting is Slave_IO_Running Connecting: the I/O thread runs but is not connected
	// to its source (connecting for the first time, or again after losing its connection,
	// perhaps waiting MASTER_CONNECT_RETRY after a failed attempt, Last_IO_Error set).
	IOConnecting bool
	SQLRunning   bool
	// Executed is the source's position up to which events are applied here
	// (Relay_Master_Log_File, Exec_Master_Log_Pos).
	Executed Position
	// Read is the source's position up to which events are received
	// (Master_Log_File, Read_Master_Log_Pos).
	Read Position
	// SecondsBehind is Seconds_Behind_Master; -1 when the server reports NULL (not running).
	SecondsBehind int
	LastIOError   string
	LastSQLError  string
	// LastIOErrno is Last_IO_Errno: 1236 (ER_MASTER_FATAL_ERROR_READING_BINLOG) when the
	// source no longer has the binary log the replica needs (purged).
	LastIOErrno int
}

// Running reports both replication threads running.
func (s ReplicaStatus) Running() bool { return s.IORunning && s.SQLRunning }

// Broken returns the error that stopped replication, "" when there is none: an SQL thread
// error, or an I/O thread that stopped with an error (the binary log it needs gone: Lost). An
// I/O thread that is still connecting to its source is not broken (its last error says why its
// last attempt failed): Lag and Drain wait it out up to a bound (reconnect.go).
func (s ReplicaStatus) Broken() string {
	if s.LastSQLError != "" {
		return "SQL thread: " + s.LastSQLError
	}
	if s.LastIOError != "" && !s.IORunning && (!s.IOConnecting || s.Lost()) {
		return "I/O thread: " + s.LastIOError
	}
	return ""
}

// Lost reports that the source no longer has the binary log the replica needs: the stream
// cannot go on without a gap (replication.ErrStreamLost).
func (s ReplicaStatus) Lost() bool { return s.LastIOErrno == errBinlogGone && !s.IORunning }

// ReplicaStatus reads SHOW REPLICA STATUS (MySQL 8.0.22 and later, MariaDB 10.5.1 and later;
// MySQL 8.4 knows no other), SHOW SLAVE STATUS on a server older than that, or CALL
// mysql.rds_replica_status where the master user may run neither (statusFrom reads the columns
// of any of them): RDS for MariaDB 10.5 and later do not grant the master user the privilege
// these statements need there (REPLICA MONITOR) and offer that procedure instead (RDS user
// guide, "mysql.rds_replica_status"). The statement is chosen by the server's refusal, not by
// its version: once refused, the connection calls the procedure from then on.
func (c *Conn) ReplicaStatus(ctx context.Context) (ReplicaStatus, error) {
	if c.statusByProcedure.Load() {
		return c.replicaStatusBy(ctx, rdsReplicaStatus)
	}
	m, err := c.rowMap(ctx, "SHOW REPLICA STATUS")
	if isServerError(err, errParse) {
		m, err = c.rowMap(ctx, "SHOW SLAVE STATUS")
	}
	if isServerError(err, errSpecificAccessDenied) {
		st, perr := c.replicaStatusBy(ctx, rdsReplicaStatus)
		if perr != nil {
			return ReplicaStatus{}, fmt.Errorf("%w; and %w", err, perr)
		}
		c.statusByProcedure.Store(true)
		return st, nil
	}
	if err != nil || m == nil {
		return ReplicaStatus{}, err
	}
	return statusFrom(m), nil
}

// rdsReplicaStatus is RDS for MariaDB's procedure answering as SHOW REPLICA STATUS does, for a
// master user refused that statement (MariaDB 10.5 and later).
const rdsReplicaStatus = "CALL mysql.rds_replica_status"

func (c *Conn) replicaStatusBy(ctx context.Context, q string) (ReplicaStatus, error) {
	m, err := c.rowMap(ctx, q)
	if err != nil || m == nil {
		return ReplicaStatus{}, err
	}
	return statusFrom(m), nil
}

// isServerError reports a server error of that number.
func isServerError(err error, number uint16) bool {
	var me *driver.MySQLError
	return errors.As(err, &me) && me.Number == number
}

// errSpecificAccessDenied is ER_SPECIFIC_ACCESS_DENIED_ERROR ("Access denied; you need (at
// least one of) the ... privilege(s) for this operation").
const errSpecificAccessDenied = 1227

// errParse is ER_PARSE_ERROR: a server older than SHOW REPLICA STATUS.
const errParse = 1064

// statusFrom reads a replica status row under either set of column names: MySQL 8.0.22 and
// later answer SHOW REPLICA STATUS with Source/Replica names (Relay_Source_Log_File,
// Exec_Source_Log_Pos, Replica_SQL_Running, Seconds_Behind_Source; MySQL reference manual,
// "SHOW REPLICA STATUS Statement"), MariaDB (either statement) and MySQL's SHOW SLAVE STATUS
// with Master/Slave names (Relay_Master_Log_File, Exec_Master_Log_Pos, Slave_SQL_Running,
// Seconds_Behind_Master).
func statusFrom(m map[string]string) ReplicaStatus {
	col := func(source, master string) string {
		if v, ok := m[source]; ok {
			return v
		}
		return m[master]
	}
	st := ReplicaStatus{Configured: col("Source_Host", "Master_Host") != ""}
	st.SourceHost = col("Source_Host", "Master_Host")
	st.SourcePort, _ = strconv.Atoi(col("Source_Port", "Master_Port"))
	st.SourceUser = col("Source_User", "Master_User")
	io := col("Replica_IO_Running", "Slave_IO_Running")
	st.IORunning = strings.EqualFold(io, "Yes")
	st.IOConnecting = strings.EqualFold(io, "Connecting")
	st.SQLRunning = strings.EqualFold(col("Replica_SQL_Running", "Slave_SQL_Running"), "Yes")
	st.Executed.File = col("Relay_Source_Log_File", "Relay_Master_Log_File")
	st.Executed.Pos, _ = strconv.ParseInt(col("Exec_Source_Log_Pos", "Exec_Master_Log_Pos"), 10, 64)
	st.Read.File = col("Source_Log_File", "Master_Log_File")
	st.Read.Pos, _ = strconv.ParseInt(col("Read_Source_Log_Pos", "Read_Master_Log_Pos"), 10, 64)
	st.SecondsBehind = -1
	if v := col("Seconds_Behind_Source", "Seconds_Behind_Master"); v != "" {
		st.SecondsBehind, _ = strconv.Atoi(v)
	}
	st.LastIOError, st.LastSQLError = m["Last_IO_Error"], m["Last_SQL_Error"]
	st.LastIOErrno, _ = strconv.Atoi(m["Last_IO_Errno"])
	return st
}

// Lag is how far a replica is behind its source.
type Lag struct {
	Source   Position // the source's binary log end
	Executed Position // applied on the replica
	Bytes    int64    // binary log bytes between them
	Seconds  int      // Seconds_Behind_Master (-1: not running)
}

// CaughtUp reports the replica has applied everything the source had logged when asked.
func (l Lag) CaughtUp() bool { return !l.Executed.Before(l.Source) }

// LagOf measures replica against source: the source's end position, the replica's applied
// position, the bytes between, and the replica's own Seconds_Behind_Master.
func LagOf(ctx context.Context, source, replica *Conn) (Lag, ReplicaStatus, error) {
	end, err := source.MasterStatus(ctx)
	if err != nil {
		return Lag{}, ReplicaStatus{}, err
	}
	st, err := replica.ReplicaStatus(ctx)
	if err != nil {
		return Lag{}, st, err
	}
	l := Lag{Source: end, Executed: st.Executed, Seconds: st.SecondsBehind}
	if l.Executed.Before(end) {
		if l.Bytes, err = source.BytesBehind(ctx, st.Executed); err != nil {
			return l, st, err
		}
	}
	return l, st, nil
}
