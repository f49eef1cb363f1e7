// Package ledger records, in SQLite, every message nudge sends and every
// passkey registration it sees: the source of truth for exactly-once
// delivery and for the tracking workbook.
//
// The file is output/<campaign>/nudge.db (the caller gives the path), so
// one ledger holds one campaign and rows are keyed by wave and person.
// It stores who was written to, when, through which mailbox and with
// which Message-ID, never message bodies or credentials.
//
// Timestamps are TEXT in UTC with a fixed nine-digit fraction
// ("2026-05-04T09:30:00.000000000Z"): readable in the sqlite3 shell, valid
// RFC 3339, and, because every value has the same width, ordered correctly
// by plain string comparison, which SentSince's range scan relies on.
package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

// Sentinel errors callers branch on. They are wrapped with the operation
// and the row, so test them with errors.Is.
var (
	// ErrBusy means another nudge process holds the run lock on the ledger.
	ErrBusy = errors.New("ledger: busy")
	// ErrNotPending means a row could not be claimed (MarkSending) or
	// skipped (MarkSkipped) because it is no longer pending: another run
	// or goroutine got there first, or it was already sent or failed.
	ErrNotPending = errors.New("not pending")
	// ErrNotSending means MarkSent, MarkRetry or MarkFailed was called on
	// a row that was not claimed with MarkSending (MarkFailed also takes a
	// pending row).
	ErrNotSending = errors.New("not sending")
	// ErrNotFound means the ledger has no row for the key.
	ErrNotFound = errors.New("not found")
)

// Options tune Open.
type Options struct {
	// Lock takes the run lock (path + ".lock") so that no second nudge can
	// send from this ledger at the same time. Commands that send (send,
	// run, schedule) set it; readers (status, track) leave it off.
	Lock bool
	// BusyTimeout is how long a statement waits for another connection's
	// write to finish before failing. Writes are short (one row, or one
	// Plan batch), so the default of 10s is only reached when something is
	// wrong.
	BusyTimeout time.Duration
	// Now is the clock for lock files and for the times the ledger stamps
	// itself (planned_at, recovery); default time.Now.
	Now func() time.Time
}

// Ledger is an open nudge.db. Its methods are safe for concurrent use.
type Ledger struct {
	path string
	now  func() time.Time
	// w has a single connection: writers in this process queue in Go
	// rather than in SQLite's sleeping busy handler, and a transaction
	// never waits on one of its own process's connections.
	w *sql.DB
	// r serves reads; WAL lets them run beside the writer, and a callback
	// of EachSend may write without deadlocking on w.
	r    *sql.DB
	hot  hotStatements // prepared on w
	lock *runLock      // nil without Options.Lock
}

// Open opens the ledger at path, creating the file if it is missing and
// bringing its schema up to date. With opts.Lock it first takes the run
// lock and fails with ErrBusy if another nudge holds it.
func Open(ctx context.Context, path string, opts Options) (_ *Ledger, err error) {
	if path == "" {
		return nil, errors.New("ledger: open: empty path")
	}
	l := &Ledger{path: path, now: opts.Now}
	if l.now == nil {
		l.now = time.Now
	}
	if opts.Lock {
		if l.lock, err = acquireLock(path, l.now()); err != nil {
			return nil, err
		}
	}
	defer func() {
		if err != nil {
			l.Close()
		}
	}()

	// SQLite would create the file with 0644; the ledger lists every
	// person's mail address, so make it private before SQLite sees it
	// (SQLite gives -wal and -shm the mode of the database file).
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("ledger: open: %w", err)
	}
	f.Close()

	timeout := opts.BusyTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	if l.w, err = sql.Open("sqlite", dsn(path, timeout, false)); err != nil {
		return nil, fmt.Errorf("ledger: open %s: %w", path, err)
	}
	l.w.SetMaxOpenConns(1)
	if err := migrate(ctx, l.w, path); err != nil {
		return nil, err
	}
	if err := l.hot.prepare(ctx, l.w); err != nil {
		return nil, err
	}
	if l.r, err = sql.Open("sqlite", dsn(path, timeout, true)); err != nil {
		return nil, fmt.Errorf("ledger: open %s: %w", path, err)
	}
	if err := l.r.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("ledger: open %s: %w", path, err)
	}
	return l, nil
}

// dsn builds the driver's connection string. The path goes in as a file:
// URI so that a '?' or '#' in a folder name cannot be read as parameters.
//
// Durability: WAL with synchronous=NORMAL means a commit is in the WAL
// file (the operating system's cache) when Exec returns, so it survives
// the nudge process crashing or being killed; that is what the exactly-once
// guard needs from a committed `sending` mark. Only the WAL is not fsynced
// at each commit, so a power loss or kernel crash can roll back the last
// few commits: a `sending` or `sent` mark made just before the power went
// can be lost, and such a person may get the message twice. FULL would
// close that gap at the price of an fsync per mark, two per message.
//
// _txlock=immediate makes every transaction take the write lock at BEGIN,
// so two processes never both read and then fail to upgrade (SQLITE_BUSY
// without waiting) in the middle of a transaction.
func dsn(path string, busy time.Duration, readOnly bool) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	p := filepath.ToSlash(abs)
	if p != "" && p[0] != '/' {
		p = "/" + p // Windows: file:///C:/...
	}
	q := url.Values{}
	q.Set("_busy_timeout", strconv.FormatInt(busy.Milliseconds(), 10))
	q.Set("_foreign_keys", "1")
	if readOnly {
		q.Set("_query_only", "1")
	} else {
		q.Set("_journal_mode", "WAL")
		q.Set("_synchronous", "NORMAL")
		q.Set("_txlock", "immediate")
		// 2 MiB, SQLite's usual: a Plan batch of a few thousand rows
		// dirties a few hundred KB, so it commits without spilling, and a
		// larger cache only grows the process with the ledger (8 MiB made
		// a 100,000-person send 6 MB bigger than a 10,000-person one).
		q.Add("_pragma", "cache_size(-2048)")
	}
	u := url.URL{Scheme: "file", Path: p, RawQuery: q.Encode()}
	return u.String()
}

// Path is the database file the ledger was opened from.
func (l *Ledger) Path() string { return l.path }

// Close closes the database and releases the run lock if it was taken.
func (l *Ledger) Close() error {
	errs := []error{l.hot.close()}
	if l.r != nil {
		errs = append(errs, l.r.Close())
	}
	if l.w != nil {
		errs = append(errs, l.w.Close())
	}
	// The lock goes last, once nothing of ours can still write.
	if l.lock != nil {
		errs = append(errs, l.lock.release())
		l.lock = nil
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("ledger: close %s: %w", l.path, err)
	}
	return nil
}

// timeLayout is fixed width so that TEXT comparison orders times; see the
// package comment.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// ts turns t into its stored form; the zero time is NULL.
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(timeLayout)
}

// parseTS reads a stored time; NULL is the zero time.
func parseTS(s sql.NullString) (time.Time, error) {
	if !s.Valid {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s.String)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad stored time %q: %w", s.String, err)
	}
	return t, nil
}

// nullIfZero stores 0 (no SMTP or HTTP code) as NULL.
func nullIfZero(n int) any {
	if n == 0 {
		return nil
	}
	return n
}
