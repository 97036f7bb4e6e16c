package dataplane

import (
	"context"
	"errors"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Writer is an application stand-in for demos: it inserts one row at a time into a PostgreSQL
// table through an instance's endpoint, on a new connection per row (so it follows the
// endpoint through a cutover), and pauses while a pause file exists (what a freeze hook
// creates and an unfreeze hook removes). It counts the rows whose commit succeeded.
type Writer struct {
	dsn, pauseFile string

	mu        sync.Mutex
	committed int64
	failed    int64
	stop      context.CancelFunc
	done      chan struct{}
}

// WriterTable is the table a Writer creates and fills.
const WriterTable = "demo_writes"

// StartWriter creates the table (if needed) and starts writing every interval.
func StartWriter(ctx context.Context, dsn, pauseFile string, interval time.Duration) (*Writer, error) {
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	_, err = c.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+WriterTable+" (id bigserial PRIMARY KEY, written_at timestamptz NOT NULL DEFAULT now())")
	c.Close(ctx)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithCancel(context.Background())
	w := &Writer{dsn: dsn, pauseFile: pauseFile, stop: cancel, done: make(chan struct{})}
	go w.loop(wctx, interval)
	return w, nil
}

func (w *Writer) loop(ctx context.Context, interval time.Duration) {
	defer close(w.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := os.Stat(w.pauseFile); err == nil {
			continue // writes are frozen
		}
		err := w.insert(ctx)
		w.mu.Lock()
		if err == nil {
			w.committed++
		} else if !errors.Is(err, context.Canceled) {
			w.failed++
		}
		w.mu.Unlock()
	}
}

func (w *Writer) insert(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := pgx.Connect(cctx, w.dsn)
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	_, err = c.Exec(cctx, "INSERT INTO "+WriterTable+" DEFAULT VALUES")
	return err
}

// Stop stops writing and returns the rows committed and the attempts that failed (the
// endpoint refused or dropped them).
func (w *Writer) Stop() (committed, failed int64) {
	w.stop()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.committed, w.failed
}

// CountRows counts the Writer's rows on the instance behind dsn.
func CountRows(ctx context.Context, dsn string) (int64, error) {
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, err
	}
	defer c.Close(context.Background())
	var n int64
	err = c.QueryRow(ctx, "SELECT count(*) FROM "+WriterTable).Scan(&n)
	return n, err
}
