package mysql

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Changes is what a stretch of one server's binary log changed, read with SHOW BINLOG EVENTS
// (docs/replication-mysql.md#verification-ahead-of-the-freeze): for each table, the last event
// that touched it, and the last event that may have changed any table.
type Changes struct {
	ServerID int64
	// OwnOnly: only the events this server wrote itself count (the target: the stream's events
	// carry the server_id of the server they came from; a client of the target writes the
	// target's own).
	OwnOnly bool
	From    Position // the first event read
	Through Position // where reading stopped: the next event to read
	// Touched is the last event naming each table, by the names a Table_map or a Query event
	// gives it: `db`.`table`.
	Touched map[string]Position
	// All is the last event that may have changed any table (one not understood, DDL that
	// names none, a write in statement format that may fire triggers); zero if none.
	All Position
	// Events counts the events read.
	Events int
}

// Since says whether table certainly did not change at or after p in the stretch read.
func (ch *Changes) Since(table string, p Position) bool {
	if p.Before(ch.From) {
		return false // not read from there
	}
	at, touched := ch.Touched[strings.ToLower(table)]
	if touched && !at.Before(p) {
		return false
	}
	return ch.All.IsZero() || ch.All.Before(p)
}

func (ch *Changes) touch(table string, at Position) {
	if prev, ok := ch.Touched[table]; !ok || prev.Before(at) {
		ch.Touched[table] = at
	}
}

// ErrLogGone: a binary log file between the two positions is no longer on the server (purged
// by its retention), so what changed there cannot be known.
var ErrLogGone = errors.New("binary log file no longer on the server")

// eventBatch is how many events one SHOW BINLOG EVENTS reads.
var eventBatch = 5000

// ReadChanges reads the server's binary log from ch.Through to its current end into ch. A
// file purged meanwhile is ErrLogGone. SHOW BINLOG EVENTS needs BINLOG MONITOR on MariaDB
// 10.5.2 and later (REPLICATION SLAVE before, and on MySQL): RDS's master user has both.
func (c *Conn) ReadChanges(ctx context.Context, ch *Changes) error {
	end, err := c.MasterStatus(ctx)
	if err != nil {
		return err
	}
	files, err := c.binaryLogs(ctx)
	if err != nil {
		return err
	}
	i := slices.Index(files, ch.Through.File)
	if i < 0 || end.Before(ch.Through) {
		return c.errorf("%w: %s (reading the tables changed since %s)", ErrLogGone, ch.Through.File, ch.From)
	}
	for ch.Through.Before(end) {
		n, stop, err := c.readEvents(ctx, ch, end)
		if err != nil {
			return err
		}
		if stop {
			break
		}
		if n < eventBatch { // the end of this file
			if i++; i >= len(files) || ch.Through.File == end.File {
				break
			}
			ch.Through = Position{File: files[i], Pos: 4} // a file's first event
		}
	}
	if ch.Through.Before(end) {
		ch.Through = end
	}
	return nil
}

// readEvents reads one batch of events from ch.Through, up to end; n events read, stop when
// end was reached.
func (c *Conn) readEvents(ctx context.Context, ch *Changes, end Position) (n int, stop bool, err error) {
	q := fmt.Sprintf("SHOW BINLOG EVENTS IN '%s' FROM %d LIMIT %d", strings.ReplaceAll(ch.Through.File, "'", "''"), ch.Through.Pos, eventBatch)
	rows, err := c.db.QueryContext(ctx, q)
	if err != nil {
		return 0, false, c.errorf("SHOW BINLOG EVENTS IN %s FROM %d: %w", ch.Through.File, ch.Through.Pos, err)
	}
	defer rows.Close()
	for rows.Next() {
		var ev event
		// Log_name, Pos, Event_type, Server_id, End_log_pos, Info
		if err := rows.Scan(&ev.file, &ev.pos, &ev.kind, &ev.server, &ev.end, &ev.info); err != nil {
			return n, false, c.errorf("SHOW BINLOG EVENTS: %w", err)
		}
		n++
		ch.Events++
		at := Position{File: ev.file, Pos: ev.pos}
		if !at.Before(end) {
			return n, true, rows.Err()
		}
		if !ch.OwnOnly || ev.server == ch.ServerID {
			ch.note(ev, at)
		}
		ch.Through = Position{File: ev.file, Pos: ev.end}
	}
	return n, false, rows.Err()
}

type event struct {
	file, kind, info string
	pos, end, server int64
}

// note records what one event changed. Row events follow the Table_map of every table they
// write (a trigger's rows included), so the Table_maps name every table a row event touched.
func (ch *Changes) note(ev event, at Position) {
	switch kind := ev.kind; {
	case kind == "Table_map":
		names, ok := tableMapNames(ev.info)
		if !ok {
			ch.All = at
		}
		for _, name := range names {
			ch.touch(name, at)
		}
	case kind == "Query" || kind == "Query_compressed":
		names, all := queryTables(ev.info)
		if all {
			ch.All = at
		}
		for _, name := range names {
			ch.touch(name, at)
		}
	case quietEvents[kind], strings.Contains(kind, "_rows"):
		// no change of its own: transaction and file bookkeeping, a statement's context, or
		// rows whose Table_map came first
	default:
		ch.All = at // an event this reading does not know (LOAD DATA's, Incident...)
	}
}

// quietEvents change no table by themselves (MariaDB's and MySQL's names in SHOW BINLOG
// EVENTS). MySQL's Transaction_payload (binlog_transaction_compression) is not one: what it
// holds is not read here, so it counts as every table changed.
var quietEvents = map[string]bool{
	"Format_desc": true, "Rotate": true, "Stop": true, "Xid": true, "Gtid": true, "Gtid_list": true,
	"Binlog_checkpoint": true, "Annotate_rows": true, "Start_encryption": true, "Intvar": true, "Rand": true,
	"User var": true, "Previous_gtids": true, "Anonymous_Gtid": true, "Rows_query": true, "XA_prepare": true,
	"Xa_prepare": true, "Heartbeat": true, "Transaction_context": true, "View_change": true,
}

// tableMapNames reads a Table_map event's Info, "table_id: 108 (db.tbl)". The names are not
// quoted there: a name with a dot in it gives every reading of it.
func tableMapNames(info string) ([]string, bool) {
	open := strings.Index(info, "(")
	if !strings.HasPrefix(info, "table_id:") || open < 0 || !strings.HasSuffix(info, ")") {
		return nil, false
	}
	full := info[open+1 : len(info)-1]
	var out []string
	for i := 0; i < len(full); i++ {
		if full[i] == '.' {
			out = append(out, tableKey(full[:i], full[i+1:]))
		}
	}
	return out, len(out) > 0
}

// scanCache keeps, per server, what was read of its binary log, so that the reading inside
// the freeze continues where the one ahead of it stopped.
type scanCache struct {
	mu   sync.Mutex
	byID map[string]*Changes
}

func (s *scanCache) get(key string) *Changes {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch := s.byID[key]; ch != nil {
		cp := *ch
		cp.Touched = make(map[string]Position, len(ch.Touched))
		for k, v := range ch.Touched {
			cp.Touched[k] = v
		}
		return &cp
	}
	return nil
}

func (s *scanCache) put(key string, ch *Changes) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byID == nil {
		s.byID = map[string]*Changes{}
	}
	s.byID[key] = ch
}

// binaryLogs are the server's binary log files, oldest first.
func (c *Conn) binaryLogs(ctx context.Context) ([]string, error) {
	rows, err := c.db.QueryContext(ctx, "SHOW BINARY LOGS")
	if err != nil {
		return nil, c.errorf("SHOW BINARY LOGS: %w", err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		var name string
		dest := []any{&name}
		for len(dest) < len(cols) {
			dest = append(dest, new(any))
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		out = append(out, name)
	}
	return out, rows.Err()
}
