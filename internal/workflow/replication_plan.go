package workflow

import (
	"context"
	"fmt"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/replication"
)

// chooseStrategy resolves --strategy for an instance plan. replication (asked, or chosen by
// auto) needs: an engine this tool replicates, a password, the source's database reachable
// with no blocking precondition, and, for a source with read replicas (the route recreates the
// tree, replicationOrder), MySQL and MariaDB servers that pass replicated writes on to their
// replicas (log_slave_updates). auto falls back to snapshot, saying why; replication asked for explicitly
// fails with the reason.
func (e *Engine) chooseStrategy(ctx context.Context, in *instancePlanInput, asked string) error {
	switch asked {
	case "", StrategySnapshot:
		in.strategy, in.strategyReason = StrategySnapshot, "--strategy snapshot (the default): writes are frozen from before the snapshot to the end of the cutover"
		return nil
	case StrategyReplication, StrategyAuto:
	default:
		return errorf(in.src.ID, "use --strategy snapshot, replication or auto", nil, "unknown strategy %q", asked)
	}
	reason, findings, change, err := e.replicationUsable(ctx, in)
	if err == nil && reason == "" {
		in.strategy, in.findings, in.precopy, in.sourceChange = StrategyReplication, findings, false, change
		in.strategyReason = fmt.Sprintf("replication: the %s engine replicates and the tool reached the database; writes continue until the cutover", replication.Family(in.src.Settings.Engine))
		if asked == StrategyReplication {
			in.strategyReason = "--strategy replication: writes continue until the cutover"
		}
		return nil
	}
	if err != nil {
		reason = err.Error()
	}
	if asked == StrategyReplication {
		return errorf(in.src.ID, "fix it, or use --strategy snapshot", err, "the replication strategy cannot migrate %s: %s", in.src.ID, reason)
	}
	in.strategy, in.strategyReason = StrategySnapshot, "auto chose snapshot: "+reason
	return nil
}

// replicationUsable returns why replication cannot be used ("" when it can), the source's
// findings, and whether the source's parameter group must change first (PostgreSQL with
// rds.logical_replication off: replication_source_group.go).
func (e *Engine) replicationUsable(ctx context.Context, in *instancePlanInput) (string, []replication.Finding, bool, error) {
	family := replication.Family(in.src.Settings.Engine)
	switch {
	case family == "":
		return fmt.Sprintf("engine %s has no replication strategy (PostgreSQL, MySQL and MariaDB instances do; Aurora clusters use the snapshot route)", in.src.Settings.Engine), nil, false, nil
	case e.Replication[family] == nil:
		return "this rdsencrypt has no " + family + " replication engine", nil, false, nil
	case len(in.replicas) > 0 && family != "postgres" && !readReplicasOf(e.Replication[family]):
		// MySQL, MariaDB: the target is a binlog replica of the source; its own read replicas
		// receive the stream only through its binary log (docs/replication.md#read-replicas).
		return "the source has read replicas, which this rdsencrypt's " + family + " replication engine cannot recreate", nil, false, nil
	case mysqlRenamedProcedures(in.src) != "":
		return mysqlRenamedProcedures(in.src), nil, false, nil // replication_mysql.go
	case startsFromReplica(in.src.Settings.Engine) && in.src.MasterUserSecretARN != "":
		// The start position is read from a temporary read replica (replication_position.go),
		// and RDS refuses one of a MySQL instance whose master password Secrets Manager
		// manages (CreateDBInstanceReadReplica: "Creating read replicas for source instance
		// with engine mysql where ManageMasterUserPassword is enabled is not supported").
		return "the start position of an RDS for MySQL source is read from a temporary read replica, and RDS creates no read replica of a MySQL instance whose master password Secrets Manager manages", nil, false, nil
	case e.Credentials == nil:
		return "no way to obtain the master password", nil, false, nil
	case in.src.Endpoint == "":
		return "the source has no endpoint", nil, false, nil
	}
	api, err := e.Clients(in.src.Region)
	if err != nil {
		return "", nil, false, err
	}
	if family == "mysql" {
		var replicas []string
		for _, n := range in.replicas {
			if n.inst.Region == in.src.Region {
				replicas = append(replicas, n.inst.ID)
			}
		}
		problem, err := mysqlGroupProblem(ctx, api, in.src, replicas) // replication_mysql.go
		if err != nil {
			return "", nil, false, err
		}
		if problem != "" {
			return problem, nil, false, nil
		}
	}
	login, err := e.Credentials.Login(ctx, in.src)
	if err != nil {
		return "cannot obtain the master password: " + err.Error(), nil, false, nil
	}
	findings, err := e.Replication[family].Preconditions(ctx, e.dbEndpoint(in.src, login))
	if err == nil && len(in.replicas) > 0 {
		if rr, ok := e.Replication[family].(replication.ReadReplicas); ok {
			// The old replicas follow the retired source after the cutover, fed by the
			// reverse stream through its binary log; the new instance, restored with a copy
			// of the source's parameter group, passes the stream on to its replicas the same
			// way (checked again on it before its first replica is built).
			var why string
			if why, err = rr.Cascades(ctx, e.dbEndpoint(in.src, login)); err == nil && why != "" {
				return fmt.Sprintf("%s has read replicas and %s", in.src.ID, why), findings, false, nil
			}
		}
	}
	if err != nil {
		reason := "cannot reach the database: " + err.Error()
		if untrustedCertificate(err) {
			reason += "; pass the CA bundle its certificate chains to (RDS: global-bundle.pem) with " + FlagDBCABundle + " FILE"
		}
		return reason, nil, false, nil
	}
	findings, change, err := planSourceChange(ctx, api, in.src, findings)
	if err != nil {
		return "", nil, false, err
	}
	if b := blockers(findings); len(b) > 0 {
		return strings.Join(b, "; "), findings, false, nil
	}
	return "", findings, change, nil
}

// readReplicasOf reports an engine that recreates read replicas under the replication strategy:
// PostgreSQL's are physical standbys of the new instance, which need nothing of the engine;
// binlog replicas (MySQL, MariaDB) need the engine's ReadReplicas.
func readReplicasOf(eng replication.Engine) bool {
	_, ok := eng.(replication.ReadReplicas)
	return ok
}

// groupCopyNote is the plan's line on the new instance's copy of the source's parameter group
// (replication_group_copy.go, docs/replication-mysql.md#parameter-groups).
func groupCopyNote(engine, source, retired, group, groupCopy string) string {
	if replication.Family(engine) == "postgres" {
		return fmt.Sprintf("replication (PostgreSQL): the new instance gets %s, a tagged copy of %s's DB parameter group %s, and keeps it after the migration (cleanup does not delete it; rollback does): "+
			"the bound on the WAL its replication slots keep (max_slot_wal_keep_size, every slot on it until cleanup, the reverse ones included) is set there, not in %s; a later change to %s does not reach the new instance, make it in %s too",
			groupCopy, source, group, group, group, groupCopy)
	}
	return fmt.Sprintf("replication (MySQL, MariaDB): the new instance gets %s, a tagged copy of %s's DB parameter group %s, and keeps it after the migration (cleanup does not delete it; rollback does). "+
		"The freeze sets read_only=1 in both groups; the unfreeze lifts it in the copy only, so the retired source %s stays read-only until cleanup deletes it (then %s gets its read_only back) or rollback renames it back",
		groupCopy, source, group, retired, group)
}

// replicationWarnings are the plan's lines for the replication strategy.
func replicationWarnings(findings []replication.Finding) []string {
	out := []string{"replication: writes continue during the snapshot, copy and restore; the freeze covers the drain, the verification, the sequences and the renames"}
	for _, f := range findings {
		line := "replication: " + f.What + " (" + f.Do + ")"
		if len(f.Objects) > 0 {
			line += ": " + strings.Join(f.Objects[:min(10, len(f.Objects))], ", ")
			if len(f.Objects) > 10 {
				line += fmt.Sprintf(" and %d more", len(f.Objects)-10)
			}
		}
		out = append(out, line)
	}
	return out
}

// downtime says whether a step runs inside the write freeze in this run: the replication
// strategy moves the snapshot, copy, restore, modify and parity out of it, and the replica
// swaps into it only when replicas are swapped before writes resume.
func (r *run) downtime(s step) bool {
	if r.st.Options.Strategy == StrategyReplication {
		for _, ps := range replicationOrder(r.journaledReplicas(), r.st.Options.Replicas) {
			if kind, _ := splitStep(ps.name); kind == s.name {
				return ps.downtime
			}
		}
	}
	return s.downtime
}

// journaledReplicas are the run's replicas as plan nodes (their names only).
func (r *run) journaledReplicas() []replicaNode {
	var out []replicaNode
	for _, rs := range r.st.Replicas {
		out = append(out, replicaNode{inst: &model.Instance{ID: rs.ID, Region: rs.Region}, parent: rs.Parent})
	}
	return out
}
