package mysql

import (
	"context"
	"strings"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/replication"
)

// The start position of an RDS for MySQL migration comes from a temporary read replica of the
// source stopped at a known point, the RDS user guide's way ("Exporting data from a MySQL DB
// instance by using replication": create a read replica, CALL mysql.rds_stop_replication on it,
// read Relay_Source_Log_File and Exec_Source_Log_Pos from SHOW REPLICA STATUS, then snapshot the
// replica). MySQL 8.0 and later no longer log the position at crash recovery, which the MariaDB
// route reads instead (docs/replication-mysql.md#start-position).

var _ replication.ReplicaPositioner = (*Engine)(nil)

// StopReplica waits until replica, an RDS read replica of src, has applied everything src had
// logged when called, stops its replication (mysql.rds_stop_replication) and returns the
// position of src's binary log its data ends at. A replica already stopped (a run resumed
// after the stop) is not started again: its position is returned.
func (e *Engine) StopReplica(ctx context.Context, src, replica replication.Endpoint) (string, error) {
	var out Position
	err := e.with(ctx, replica, func(r *Conn) error {
		st, err := r.ReplicaStatus(ctx)
		if err != nil {
			return err
		}
		if !st.Configured {
			return r.errorf("%w", replication.ErrNotReplicating)
		}
		if err := r.brokenErr(st); err != nil {
			return err
		}
		if st.SQLRunning {
			// The applier's order is checked while the replica still runs: refused after the
			// stop, a fixed setting and a resume would take the position of a replica stopped
			// under the old one (review V2); refused here, nothing is stopped yet.
			if err := r.orderedApply(ctx); err != nil {
				return err
			}
			var end Position
			if err := e.with(ctx, src, func(s *Conn) (err error) { end, err = s.MasterStatus(ctx); return err }); err != nil {
				return err
			}
			if _, _, err := r.WaitApplied(ctx, end, replication.Poll, e.Reconnect); err != nil {
				return err
			}
			if err := r.Stop(ctx); err != nil {
				return err
			}
		}
		out, err = r.stoppedPosition(ctx, replication.Poll)
		return err
	})
	return out.String(), err
}

// StoppedAt returns the position of its source's binary log that replica's data ends at, while
// its replication stays stopped; an error when it runs again (RDS starts a stopped replica's
// replication again when the instance restarts) or has no source.
func (e *Engine) StoppedAt(ctx context.Context, replica replication.Endpoint) (string, error) {
	var out Position
	err := e.with(ctx, replica, func(r *Conn) (err error) {
		out, err = r.stoppedPosition(ctx, 0)
		return err
	})
	return out.String(), err
}

// stoppedPosition reads the applied position of a replica whose SQL thread has stopped. STOP
// REPLICA returns once its threads stop, but SHOW REPLICA STATUS does not wait for a STOP
// running concurrently (MySQL reference manual, "SHOW REPLICA STATUS Statement"): the status is
// read until the SQL thread shows stopped and the position reads the same twice, interval
// apart (0: once, no wait).
func (c *Conn) stoppedPosition(ctx context.Context, interval time.Duration) (Position, error) {
	if err := c.orderedApply(ctx); err != nil {
		return Position{}, err
	}
	var last Position
	for {
		st, err := c.ReplicaStatus(ctx)
		if err != nil {
			return Position{}, err
		}
		switch {
		case !st.Configured:
			return Position{}, c.errorf("%w", replication.ErrNotReplicating)
		case st.LastSQLError != "":
			return Position{}, c.errorf("replication stopped with an error, its position is not a transaction boundary: %s", st.LastSQLError)
		case st.Executed.IsZero() || st.Executed.Pos == 0:
			return Position{}, c.errorf("no applied position in the replica status")
		case st.SQLRunning && interval == 0:
			return Position{}, c.errorf("%w (it was stopped at a known position): its data no longer ends there", replication.ErrReplicaRunning)
		case !st.SQLRunning && (interval == 0 || st.Executed == last):
			return st.Executed, nil
		}
		last = st.Executed
		select {
		case <-ctx.Done():
			return Position{}, c.errorf("waiting for replication to stop: %w", ctx.Err())
		case <-time.After(interval):
		}
	}
}

// orderedApply refuses a MySQL replica whose parallel applier may leave gaps: with more than
// one worker and replica_preserve_commit_order OFF, transactions after Exec_Source_Log_Pos may
// already be applied when it stops (MySQL reference manual, "Replication and Transaction
// Inconsistencies"), and replication started there would apply them twice. MySQL 8.0.27 and
// later default to replica_preserve_commit_order ON. MariaDB's parallel replication commits in
// the source's order (MariaDB manual, "Parallel Replication").
func (c *Conn) orderedApply(ctx context.Context) error {
	var version string
	if err := c.db.QueryRowContext(ctx, "SELECT @@version").Scan(&version); err != nil {
		return c.errorf("SELECT @@version: %w", err)
	}
	if strings.Contains(version, "MariaDB") {
		return nil
	}
	var workers, preserve int
	err := c.db.QueryRowContext(ctx, "SELECT @@GLOBAL.replica_parallel_workers, @@GLOBAL.replica_preserve_commit_order").Scan(&workers, &preserve)
	if err != nil { // before 8.0.26: the slave_ names
		err = c.db.QueryRowContext(ctx, "SELECT @@GLOBAL.slave_parallel_workers, @@GLOBAL.slave_preserve_commit_order").Scan(&workers, &preserve)
	}
	if err != nil {
		return c.errorf("reading the replica's parallel applier settings: %w", err)
	}
	if gapsPossible(workers, preserve == 1) {
		return c.errorf("replica_parallel_workers is %d with replica_preserve_commit_order OFF: its applied position may have gaps; set replica_preserve_commit_order=1 in the source's DB parameter group (the temporary replica uses it)", workers)
	}
	return nil
}

// gapsPossible reports a parallel applier that may commit out of the source's order.
func gapsPossible(workers int, preserveOrder bool) bool { return workers > 1 && !preserveOrder }
