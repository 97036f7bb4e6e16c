package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// A source transaction that the subscription skipped (ALTER SUBSCRIPTION ... SKIP after an
// apply error, PostgreSQL 15+) writes nothing on the target, so the target's verify slot never
// decodes its keys. The subscription's error counts and pending skip, read on the target before
// the verification ahead takes its snapshots and again inside the freeze, say whether that may
// have happened since; if so the database's tables are compared in full
// (docs/replication.md#postgresql-a-transaction-the-subscription-skipped).

// skipGuardSQL reads, in the subscription's database on the target: the subscription's oid, its
// pending skip (subskiplsn, 0/0 when none), its apply and sync error counts and when they were
// reset (pg_stat_subscription_stats), when the server started and when its shared statistics
// were last reset (statistics are discarded after a crash, which resets them). PostgreSQL 15+.
const skipGuardSQL = `SELECT s.oid::text, s.subskiplsn::text, st.apply_error_count, st.sync_error_count,
	coalesce(st.stats_reset::text, ''), pg_postmaster_start_time()::text, coalesce((SELECT stats_reset::text FROM pg_stat_bgwriter), '')
	FROM pg_subscription s JOIN pg_stat_subscription_stats st ON st.subid = s.oid
	WHERE s.subname = $1 AND s.subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())`

// noSkipStats is the reading of a server older than PostgreSQL 15: it has neither
// pg_stat_subscription_stats nor subskiplsn, and nothing is compared.
const noSkipStats = "-"

// skipGuard is one reading of skipGuardSQL.
type skipGuard struct {
	sub, skipLSN            string
	applyErrors, syncErrors int64
	reset, started, crashed string
}

// String is the reading as the keys marker journals it: fields joined by ",", which none holds
// (an oid, an LSN, numbers, timestamps).
func (g skipGuard) String() string {
	return strings.Join([]string{g.sub, g.skipLSN, strconv.FormatInt(g.applyErrors, 10), strconv.FormatInt(g.syncErrors, 10),
		g.reset, g.started, g.crashed}, ",")
}

func parseSkipGuard(s string) (skipGuard, bool) {
	f := strings.Split(s, ",")
	if len(f) != 7 {
		return skipGuard{}, false
	}
	apply, err := strconv.ParseInt(f[2], 10, 64)
	sync, err2 := strconv.ParseInt(f[3], 10, 64)
	if err != nil || err2 != nil {
		return skipGuard{}, false
	}
	return skipGuard{sub: f[0], skipLSN: f[1], applyErrors: apply, syncErrors: sync, reset: f[4], started: f[5], crashed: f[6]}, true
}

// readSkipGuard reads skipGuardSQL for subscription sub on c (the target, connected to the
// subscription's database): the reading as journaled, noSkipStats before PostgreSQL 15, ""
// when the subscription is not there.
func readSkipGuard(ctx context.Context, c *pgx.Conn, sub string) (string, error) {
	version, err := serverVersion(ctx, c)
	if err != nil {
		return "", err
	}
	if version < 150000 {
		return noSkipStats, nil
	}
	var g skipGuard
	err = c.QueryRow(ctx, skipGuardSQL, sub).Scan(&g.sub, &g.skipLSN, &g.applyErrors, &g.syncErrors, &g.reset, &g.started, &g.crashed)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("read the error counts of subscription %s: %w", sub, err)
	}
	return g.String(), nil
}

// skipGuardWhy compares the reading before the verification ahead (was) with the one inside the
// freeze (now), for subscription sub on host, and says why a source transaction may have been
// skipped since ("" when none can have been, as far as PostgreSQL counts). The argument that
// this is enough is in docs/replication.md: a transaction the comparison ahead did not see
// committed after the source's snapshot, so after was was read, and PostgreSQL applies it only
// after it committed: an error on it is counted after was.
func skipGuardWhy(sub, host, was, now string) string {
	if was == noSkipStats && now == noSkipStats {
		return "" // PostgreSQL 13 and 14: nothing to read (the docs' blind spot)
	}
	a, ok := parseSkipGuard(was)
	if !ok {
		return "the error counts of subscription " + sub + " on " + host + " were not read ahead of the freeze"
	}
	b, ok := parseSkipGuard(now)
	switch {
	case !ok:
		return "subscription " + sub + " is gone from " + host
	case a.sub != b.sub:
		return "subscription " + sub + " on " + host + " was created again since the verification ahead"
	case a.skipLSN != "0/0" || b.skipLSN != "0/0":
		skip := b.skipLSN
		if skip == "0/0" {
			skip = a.skipLSN
		}
		return fmt.Sprintf("subscription %s on %s has a skip pending (ALTER SUBSCRIPTION ... SKIP (lsn = %s))", sub, host, skip)
	case a.reset != b.reset || a.started != b.started || a.crashed != b.crashed:
		return "the statistics of subscription " + sub + " on " + host + " were reset, or the server restarted, since the verification ahead: its apply errors since are not known"
	case a.applyErrors != b.applyErrors || a.syncErrors != b.syncErrors:
		return fmt.Sprintf("subscription %s on %s failed %d time(s) since the verification ahead, and a source transaction skipped after an error (ALTER SUBSCRIPTION ... SKIP) is not decoded by the verify slot",
			sub, host, b.applyErrors+b.syncErrors-a.applyErrors-a.syncErrors)
	}
	return ""
}
