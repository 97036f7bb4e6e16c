package mysql

import (
	"context"

	"github.com/rdsencrypt/rdsencrypt/internal/replication"
)

var _ replication.ReadReplicas = (*Engine)(nil)

// LogsReplicatedEvents reports whether the server writes the events its replication threads
// apply to its own binary log (log_slave_updates; MySQL 8.0.26 and later also call it
// log_replica_updates): only then do its own replicas receive them. MariaDB's default is
// OFF; MySQL 8.0's is ON; RDS runs cascading read replicas of both, which need it on every
// replica that is itself a source (docs/replication.md#read-replicas).
func (c *Conn) LogsReplicatedEvents(ctx context.Context) (bool, error) {
	var on bool
	err := c.db.QueryRowContext(ctx, "SELECT @@GLOBAL.log_slave_updates").Scan(&on)
	if err != nil {
		if err2 := c.db.QueryRowContext(ctx, "SELECT @@GLOBAL.log_replica_updates").Scan(&on); err2 == nil {
			return on, nil
		}
		return false, c.errorf("reading log_slave_updates: %w", err)
	}
	return on, nil
}

// Cascades: a read replica of ep receives the stream's events only when ep logs them (the
// new instance, a binlog replica of the source; the retired source, a replica of the new
// instance after the cutover, for the old read replicas that follow it).
func (e *Engine) Cascades(ctx context.Context, ep replication.Endpoint) (string, error) {
	var why string
	err := e.with(ctx, ep, func(c *Conn) error {
		on, err := c.LogsReplicatedEvents(ctx)
		if !on && err == nil {
			why = "log_slave_updates is OFF there: read replicas of it would not receive the writes it applies as a replica (the replication stream)"
		}
		return err
	})
	return why, err
}

// ReplicaLag compares primary's binary log end with what replica, an RDS read replica of it
// (replicating through RDS's own user, not the migration's), has applied.
func (e *Engine) ReplicaLag(ctx context.Context, primary, replica replication.Endpoint) (replication.Lag, error) {
	p, err := e.open(ctx, primary)
	if err != nil {
		return replication.Lag{}, err
	}
	defer p.Close()
	r, err := e.open(ctx, replica)
	if err != nil {
		return replication.Lag{}, err
	}
	defer r.Close()
	l, st, err := LagOf(ctx, p, r)
	if err != nil {
		return replication.Lag{}, err
	}
	if !st.Configured {
		return toLag(l), r.errorf("%w", replication.ErrNotReplicating)
	}
	return toLag(l), r.brokenErr(st)
}
