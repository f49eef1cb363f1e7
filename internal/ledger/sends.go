package ledger

// Exactly once, as far as the protocol allows. Each (wave, person) has one
// row, which moves only along these edges:
//
//	from      call                                to
//	(none)    Plan                                pending
//	pending   MarkSending                         sending
//	pending   MarkSkipped                         skipped
//	pending   MarkFailed (message not rendered)   failed
//	sending   MarkSent                            sent
//	sending   MarkRetry                           pending
//	sending   MarkFailed                          failed
//	sending   RecoverInterrupted                  unknown
//	unknown   MarkSending with RetryUnknown       sending
//
// The row goes to `sending`, committed, before the message is handed to the
// server, and to `sent` after the server accepted it. A crash in between
// leaves `sending`: we cannot know whether the server got the message, so
// the next run reports it as `unknown` and does not send it again unless
// the user asks. Every move is one UPDATE guarded by the state it leaves
// (WHERE status = 'pending'), and RowsAffected tells whether it happened:
// two processes, or two goroutines, can never both claim a row, because
// SQLite runs the two UPDATEs one after the other and the second finds the
// row no longer pending.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Status is the state of one send row.
type Status string

// The states of a send row; see the table at the top of sends.go.
const (
	StatusPending Status = "pending" // planned, not yet tried, or to be tried again
	StatusSending Status = "sending" // claimed: being handed to the server now
	StatusSent    Status = "sent"    // the server accepted it
	StatusFailed  Status = "failed"  // the server refused it for good
	StatusUnknown Status = "unknown" // a run stopped between claiming and hearing back
	StatusSkipped Status = "skipped" // not sent on purpose (e.g. registered a passkey since)
)

// Key names one send row: one person in one wave.
type Key struct {
	Wave, PersonID string
}

// String is "wave/person", for messages.
func (k Key) String() string { return k.Wave + "/" + k.PersonID }

// Recipient is a person to plan into a wave, with the details the
// workbook shows.
type Recipient struct {
	Key
	UPN, Mail, Audience, Locale string
}

// Claim is what MarkSending records before a message goes to the server.
type Claim struct {
	Run       int64     // the run making the attempt
	MessageID string    // the deterministic Message-ID the message carries
	Sender    string    // the mailbox it is sent from (for the 24-hour cap)
	At        time.Time // when the attempt starts; zero means the ledger's clock
	// RetryUnknown also claims a row left `unknown` by a crashed run:
	// the user has accepted that its person may get the message twice.
	RetryUnknown bool
}

// Plan inserts a pending row for every recipient not yet in the ledger and
// returns the current status of every key in rs, so the caller sends to
// the pending ones and skips the rest. It is idempotent: a row already
// there keeps its status; if it is still pending, its address details are
// refreshed from rs so the workbook shows what the message will use.
//
// All of rs goes in one IMMEDIATE transaction with prepared statements.
// The rows the waves already have are read first, in one pass per wave,
// because a scheduler re-plans the whole wave at every `nudge run` and
// most recipients are then already there; nobody can change them in
// between, as the transaction holds the write lock.
func (l *Ledger) Plan(ctx context.Context, runID int64, rs []Recipient) (map[Key]Status, error) {
	for _, r := range rs {
		if r.Wave == "" || r.PersonID == "" {
			return nil, fmt.Errorf("ledger: plan: recipient %q: empty wave or person id", r.Key.String())
		}
	}
	tx, err := l.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("ledger: plan: %w", err)
	}
	defer tx.Rollback()

	type planned struct {
		status Status
		r      Recipient
	}
	// Read the rows rs already has, by key through the (wave, person_id)
	// index, a chunk of keys per query: reading the whole wave instead
	// would make planning in batches quadratic.
	have := make(map[Key]planned, len(rs))
	byWave := map[string][]string{}
	for _, r := range rs {
		byWave[r.Wave] = append(byWave[r.Wave], r.PersonID)
	}
	const chunk = 500
	for wave, ids := range byWave {
		for len(ids) > 0 {
			n := min(chunk, len(ids))
			args := make([]any, 0, n+1)
			args = append(args, wave)
			for _, id := range ids[:n] {
				args = append(args, id)
			}
			ids = ids[n:]
			rows, err := tx.QueryContext(ctx,
				`SELECT person_id, status, upn, mail, audience, locale FROM sends WHERE wave = ? AND person_id IN (?`+strings.Repeat(",?", n-1)+`)`, args...)
			if err != nil {
				return nil, fmt.Errorf("ledger: plan: %w", err)
			}
			for rows.Next() {
				p := planned{r: Recipient{Key: Key{Wave: wave}}}
				if err := rows.Scan(&p.r.PersonID, &p.status, &p.r.UPN, &p.r.Mail, &p.r.Audience, &p.r.Locale); err != nil {
					rows.Close()
					return nil, fmt.Errorf("ledger: plan: %w", err)
				}
				have[p.r.Key] = p
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, fmt.Errorf("ledger: plan: %w", err)
			}
		}
	}

	ins, err := tx.PrepareContext(ctx, `
		INSERT INTO sends (wave, person_id, upn, mail, audience, locale, status, planned_at, run_id)
		VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)`)
	if err != nil {
		return nil, fmt.Errorf("ledger: plan: %w", err)
	}
	defer ins.Close()
	upd, err := tx.PrepareContext(ctx, `
		UPDATE sends SET upn = ?, mail = ?, audience = ?, locale = ?
		WHERE wave = ? AND person_id = ? AND status = 'pending'`)
	if err != nil {
		return nil, fmt.Errorf("ledger: plan: %w", err)
	}
	defer upd.Close()

	plannedAt := ts(l.now())
	out := make(map[Key]Status, len(rs))
	for _, r := range rs {
		p, ok := have[r.Key]
		switch {
		case !ok:
			if _, err := ins.ExecContext(ctx, r.Wave, r.PersonID, r.UPN, r.Mail, r.Audience, r.Locale, plannedAt, runID); err != nil {
				return nil, fmt.Errorf("ledger: plan %q: %w", r.Key.String(), err)
			}
			p = planned{StatusPending, r}
		case p.status == StatusPending && p.r != r:
			if _, err := upd.ExecContext(ctx, r.UPN, r.Mail, r.Audience, r.Locale, r.Wave, r.PersonID); err != nil {
				return nil, fmt.Errorf("ledger: plan %q: %w", r.Key.String(), err)
			}
			p.r = r
		}
		have[r.Key] = p // a key twice in rs is planned once
		out[r.Key] = p.status
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("ledger: plan: %w", err)
	}
	return out, nil
}

// Status returns the state of one row, or ErrNotFound.
func (l *Ledger) Status(ctx context.Context, k Key) (Status, error) {
	s, err := l.status(ctx, l.r, k)
	if err != nil {
		return "", fmt.Errorf("ledger: status %q: %w", k.String(), err)
	}
	return s, nil
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (l *Ledger) status(ctx context.Context, q queryer, k Key) (Status, error) {
	var s string
	err := q.QueryRowContext(ctx, `SELECT status FROM sends WHERE wave = ? AND person_id = ?`, k.Wave, k.PersonID).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return Status(s), err
}

// claimSQL is the exactly-once guard: only a pending row (or an unknown
// one, when ?7 says so) moves, and RowsAffected says whether it did.
const claimSQL = `
	UPDATE sends
	SET status = 'sending', message_id = ?1, sender = ?2, run_id = ?3, attempts = attempts + 1,
	    first_attempt_at = coalesce(first_attempt_at, ?4), last_attempt_at = ?4
	WHERE wave = ?5 AND person_id = ?6
	  AND (status = 'pending' OR (status = 'unknown' AND ?7))`

// MarkSending claims a row for one attempt: pending (or unknown, with
// c.RetryUnknown) becomes sending, with the Message-ID, the sender mailbox
// and the run, and the attempt is counted. The change is committed before
// MarkSending returns: this is the exactly-once guard, so hand the message
// to the server only after it succeeded. It fails with ErrNotPending when
// the row is in any other state (someone else claimed it, or it is done).
func (l *Ledger) MarkSending(ctx context.Context, k Key, c Claim) error {
	res, err := l.hot.claim.ExecContext(ctx,
		c.MessageID, c.Sender, c.Run, ts(l.orNow(c.At)), k.Wave, k.PersonID, c.RetryUnknown)
	return l.guarded(ctx, "sending", k, res, err, ErrNotPending)
}

// guarded turns the result of a guarded UPDATE into the error callers
// branch on: when no row moved, it looks the row up to say why.
func (l *Ledger) guarded(ctx context.Context, to string, k Key, res sql.Result, err error, notMoved error) error {
	if err != nil {
		return fmt.Errorf("ledger: mark %s %q: %w", to, k.String(), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("ledger: mark %s %q: %w", to, k.String(), err)
	}
	if n == 1 {
		return nil
	}
	return l.notMoved(ctx, to, k, notMoved)
}

func (l *Ledger) notMoved(ctx context.Context, to string, k Key, sentinel error) error {
	s, err := l.status(ctx, l.w, k)
	if err != nil {
		return fmt.Errorf("ledger: mark %s %q: %w", to, k.String(), err)
	}
	return fmt.Errorf("ledger: mark %s %q: %w (it is %s)", to, k.String(), sentinel, s)
}

// MarkSent records that the server accepted the message of a row claimed
// with MarkSending. For it and the other Mark methods, a zero time means
// the ledger's clock.
//
// A success is recorded in the row alone (sent_at, the run, the attempts
// counted), with no line in the attempts table, which keeps the story of
// what went wrong: one statement a message instead of a transaction of
// two, on the sending path of every message.
func (l *Ledger) MarkSent(ctx context.Context, k Key, at time.Time) error {
	res, err := l.hot.sent.ExecContext(ctx, ts(l.orNow(at)), k.Wave, k.PersonID)
	return l.guarded(ctx, "sent", k, res, err, ErrNotSending)
}

// Accepted is a message the server accepted, for MarkSentThenSending.
type Accepted struct {
	Key Key
	At  time.Time // zero means the ledger's clock
}

// MarkSentThenSending records the acceptances in sent (as MarkSent) and
// then claims k (as MarkSending), in one transaction: one commit for each
// message sent instead of two. The acceptances are committed even when k
// is not pending (the error then wraps ErrNotPending); when one of them
// cannot be recorded, nothing is, and k is not claimed.
func (l *Ledger) MarkSentThenSending(ctx context.Context, sent []Accepted, k Key, c Claim) error {
	if len(sent) == 0 {
		return l.MarkSending(ctx, k, c)
	}
	tx, err := l.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("ledger: mark sent: %w", err)
	}
	defer tx.Rollback()
	st := tx.StmtContext(ctx, l.hot.sent)
	for _, a := range sent {
		res, err := st.ExecContext(ctx, ts(l.orNow(a.At)), a.Key.Wave, a.Key.PersonID)
		if err == nil {
			var n int64
			if n, err = res.RowsAffected(); err == nil && n != 1 {
				// Give w's only connection back before notMoved queries
				// on it.
				tx.Rollback()
				return l.notMoved(ctx, "sent", a.Key, ErrNotSending)
			}
		}
		if err != nil {
			return fmt.Errorf("ledger: mark sent %q: %w", a.Key.String(), err)
		}
	}
	res, err := tx.StmtContext(ctx, l.hot.claim).ExecContext(ctx,
		c.MessageID, c.Sender, c.Run, ts(l.orNow(c.At)), k.Wave, k.PersonID, c.RetryUnknown)
	var moved int64
	if err == nil {
		moved, err = res.RowsAffected()
	}
	if err != nil {
		return fmt.Errorf("ledger: mark sending %q: %w", k.String(), err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("ledger: mark sent and sending %q: %w", k.String(), err)
	}
	if moved != 1 {
		// The acceptances are committed: whatever the lookup of why k
		// did not move finds, the error says ErrNotPending, which tells
		// the caller so.
		err := l.notMoved(ctx, "sending", k, ErrNotPending)
		if !errors.Is(err, ErrNotPending) {
			err = fmt.Errorf("ledger: mark sending %q: %w: %w", k.String(), ErrNotPending, err)
		}
		return err
	}
	return nil
}

// sentSQL moves a claimed row to sent; see MarkSent.
const sentSQL = `UPDATE sends SET status = 'sent', sent_at = ?1 WHERE wave = ?2 AND person_id = ?3 AND status = 'sending'`

// MarkRetry records a temporary failure (SMTP 4xx, a dropped connection,
// Graph 429/503) of a claimed row: it goes back to pending with the error
// and code, to be claimed again later. The attempt was already counted by
// MarkSending, so attempts is one more than before the claim.
func (l *Ledger) MarkRetry(ctx context.Context, k Key, at time.Time, errMsg string, code int) error {
	return l.finish(ctx, k, "pending", "retry", at, errMsg, code)
}

// MarkFailed records a permanent failure (SMTP 5xx, Graph 400/403) of a
// claimed row. code is the SMTP or HTTP status, 0 when there was none.
// A pending row can fail too, without a claim, when its message could not
// even be rendered (and so can an unknown one being retried): nothing went
// to a server, so attempts stays as it is.
func (l *Ledger) MarkFailed(ctx context.Context, k Key, at time.Time, errMsg string, code int) error {
	return l.finish(ctx, k, "failed", "failed", at, errMsg, code)
}

// MarkUnknown records that a claimed row's message may or may not have
// reached the server (the connection dropped before its reply): like a
// crash, it is not sent again unless the user asks.
func (l *Ledger) MarkUnknown(ctx context.Context, k Key, at time.Time, errMsg string, code int) error {
	return l.finish(ctx, k, "unknown", "interrupted", at, errMsg, code)
}

// finishSQL moves a claimed row on. The error and its code replace the
// last ones together, and only when there is one of them: a row sent
// after a retry keeps the error that delayed it, for the workbook.
const finishSQL = `
	UPDATE sends
	SET status = ?1,
	    last_error = CASE WHEN ?2 IS NULL AND ?3 IS NULL THEN last_error ELSE ?2 END,
	    last_code = CASE WHEN ?2 IS NULL AND ?3 IS NULL THEN last_code ELSE ?3 END
	WHERE wave = ?4 AND person_id = ?5 AND (status = 'sending' OR (status IN ('pending', 'unknown') AND ?6))
	RETURNING id, run_id`

const attemptSQL = `INSERT INTO attempts (send_id, run_id, at, outcome, error, code) VALUES (?, ?, ?, ?, ?, ?)`

// finish moves a sending row to status `to` and logs the attempt's
// outcome, in one transaction so the row and its history agree.
func (l *Ledger) finish(ctx context.Context, k Key, to, outcome string, at time.Time, errMsg string, code int) error {
	fail := func(err error) error { return fmt.Errorf("ledger: mark %s %q: %w", outcome, k.String(), err) }
	tx, err := l.w.BeginTx(ctx, nil)
	if err != nil {
		return fail(err)
	}
	defer tx.Rollback()

	at = l.orNow(at)
	var id, run int64
	err = tx.StmtContext(ctx, l.hot.finish).QueryRowContext(ctx,
		to, nullIfEmpty(errMsg), nullIfZero(code), k.Wave, k.PersonID, to == "failed").Scan(&id, &run)
	if errors.Is(err, sql.ErrNoRows) {
		// Give w's only connection back before notMoved queries on it.
		tx.Rollback()
		return l.notMoved(ctx, outcome, k, ErrNotSending)
	}
	if err != nil {
		return fail(err)
	}
	if _, err := tx.StmtContext(ctx, l.hot.attempt).ExecContext(ctx,
		id, run, ts(at), outcome, nullIfEmpty(errMsg), nullIfZero(code)); err != nil {
		return fail(err)
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	return nil
}

// MarkSkipped records that a pending row will not be sent, and why (for
// example, the person registered a passkey since the wave was planned).
func (l *Ledger) MarkSkipped(ctx context.Context, k Key, at time.Time, reason string) error {
	res, err := l.w.ExecContext(ctx, `
		UPDATE sends SET status = 'skipped', skipped_at = ?, skip_reason = ?
		WHERE wave = ? AND person_id = ? AND status = 'pending'`,
		ts(l.orNow(at)), reason, k.Wave, k.PersonID)
	return l.guarded(ctx, "skipped", k, res, err, ErrNotPending)
}

// interruptedError is the last_error of a row RecoverInterrupted found.
const interruptedError = "interrupted: nudge stopped after handing the message over and before hearing back; it may or may not have been delivered"

// RecoverInterrupted turns every row left `sending` by a run that crashed
// into `unknown` and returns how many there were. Call it at the start of
// each run. It needs the run lock (Options.Lock): without it, the rows
// could belong to another nudge that is sending right now.
func (l *Ledger) RecoverInterrupted(ctx context.Context) (int, error) {
	if l.lock == nil {
		return 0, errors.New("ledger: recover interrupted sends: the ledger was opened without the run lock")
	}
	tx, err := l.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("ledger: recover interrupted sends: %w", err)
	}
	defer tx.Rollback()
	at := ts(l.now())
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO attempts (send_id, run_id, at, outcome, error)
		SELECT id, run_id, ?, 'interrupted', ? FROM sends WHERE status = 'sending'`,
		at, interruptedError); err != nil {
		return 0, fmt.Errorf("ledger: recover interrupted sends: %w", err)
	}
	res, err := tx.ExecContext(ctx,
		`UPDATE sends SET status = 'unknown', last_error = ? WHERE status = 'sending'`, interruptedError)
	if err != nil {
		return 0, fmt.Errorf("ledger: recover interrupted sends: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("ledger: recover interrupted sends: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("ledger: recover interrupted sends: %w", err)
	}
	return int(n), nil
}

// SentSince returns when each message from the sender mailbox since t
// (inclusive) was handed to the server, oldest first; len is the count
// for a rolling 24-hour cap, and the oldest time tells a pacer when the
// window frees up. Rows still sending or left unknown count too, at their
// last attempt: the server may have taken them, and a cap must err on the
// side of fewer messages. Retried and failed attempts do not count.
// Calendar invitations (invites.go) count the same way.
func (l *Ledger) SentSince(ctx context.Context, sender string, t time.Time) ([]time.Time, error) {
	rows, err := l.r.QueryContext(ctx, `
		SELECT sent_at FROM sends WHERE sender = ?1 AND status = 'sent' AND sent_at >= ?2
		UNION ALL
		SELECT last_attempt_at FROM sends
		WHERE status IN ('sending', 'unknown') AND sender = ?1 AND last_attempt_at >= ?2
		UNION ALL
		SELECT sent_at FROM invites WHERE sender = ?1 AND status = 'sent' AND sent_at >= ?2
		UNION ALL
		SELECT started_at FROM invites WHERE sender = ?1 AND status = 'sending' AND started_at >= ?2
		ORDER BY 1`, sender, ts(t))
	if err != nil {
		return nil, fmt.Errorf("ledger: sent since: %w", err)
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var s sql.NullString
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("ledger: sent since: %w", err)
		}
		at, err := parseTS(s)
		if err != nil {
			return nil, fmt.Errorf("ledger: sent since: %w", err)
		}
		out = append(out, at)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger: sent since: %w", err)
	}
	return out, nil
}

// orNow fills in a time the caller left zero: a sent row without sent_at
// would escape SentSince and so the daily cap.
func (l *Ledger) orNow(t time.Time) time.Time {
	if t.IsZero() {
		return l.now()
	}
	return t
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
