package ledger

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Send is one row of the ledger, as the workbook shows it.
type Send struct {
	Recipient
	Status         Status
	MessageID      string
	Sender         string
	Attempts       int
	PlannedAt      time.Time
	FirstAttemptAt time.Time
	LastAttemptAt  time.Time
	SentAt         time.Time
	LastError      string
	LastCode       int // SMTP or HTTP status of the last error; 0 if none
	SkippedAt      time.Time
	SkipReason     string
	RunID          int64 // the run that planned the row or last claimed it
	// Name and Department are the person's as the directory last showed
	// them (RecordPeople); empty when no read recorded them.
	Name, Department string
}

// Count is the number of rows of one wave and audience in one status.
type Count struct {
	Wave     string
	Audience string
	Status   Status
	N        int
}

// waveFilter is the WHERE clause for "one wave, or all when wave is
// empty". Two constant clauses rather than `? = ” OR wave = ?`, which
// would keep SQLite from using the (wave, person_id) index.
func waveFilter(wave string) (string, []any) {
	if wave == "" {
		return "1", nil
	}
	return "wave = ?", []any{wave}
}

// Summary counts rows per wave, audience and status, for one wave or, when
// wave is empty, for all, ordered by wave, audience and status.
func (l *Ledger) Summary(ctx context.Context, wave string) ([]Count, error) {
	where, args := waveFilter(wave)
	rows, err := l.r.QueryContext(ctx, `
		SELECT wave, audience, status, count(*) FROM sends WHERE `+where+`
		GROUP BY wave, audience, status ORDER BY wave, audience, status`, args...)
	if err != nil {
		return nil, fmt.Errorf("ledger: summary: %w", err)
	}
	defer rows.Close()
	var out []Count
	for rows.Next() {
		var c Count
		var s string
		if err := rows.Scan(&c.Wave, &c.Audience, &s, &c.N); err != nil {
			return nil, fmt.Errorf("ledger: summary: %w", err)
		}
		c.Status = Status(s)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger: summary: %w", err)
	}
	return out, nil
}

// Failures returns the rows of a wave (all waves when empty) that were not
// delivered, or not yet: failed, unknown, sending (in flight, or left so
// by a run that stopped: see RunState), and pending ones waiting for a
// retry after an error. Rows sent after a retry are not failures.
func (l *Ledger) Failures(ctx context.Context, wave string) ([]Send, error) {
	var out []Send
	err := l.eachSend(ctx, wave, `AND (status IN ('failed', 'unknown', 'sending')
		     OR (status = 'pending' AND (last_error IS NOT NULL OR last_code IS NOT NULL)))`,
		func(s Send) error {
			out = append(out, s)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("ledger: failures: %w", err)
	}
	return out, nil
}

// EachSend calls fn with every row of a wave (all waves when empty) in the
// order they were planned, streaming, so 100,000 rows never sit in memory
// at once. It stops at the first error from fn and returns it unchanged.
// fn may call the ledger's other methods.
func (l *Ledger) EachSend(ctx context.Context, wave string, fn func(Send) error) error {
	var fnErr error
	err := l.eachSend(ctx, wave, "", func(s Send) error {
		fnErr = fn(s)
		return fnErr
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("ledger: each send: %w", err)
	}
	return nil
}

// eachSend is the one query and scan behind EachSend and Failures; more
// is a constant SQL condition, never caller data.
func (l *Ledger) eachSend(ctx context.Context, wave, more string, fn func(Send) error) error {
	where, args := waveFilter(wave)
	rows, err := l.r.QueryContext(ctx, `
		SELECT wave, person_id, upn, mail, audience, locale, status,
		       message_id, sender, attempts, planned_at, first_attempt_at, last_attempt_at,
		       sent_at, last_error, last_code, skipped_at, skip_reason, run_id,
		       coalesce(people.name, ''), coalesce(people.department, '')
		FROM sends LEFT JOIN people USING (person_id)
		WHERE `+where+` `+more+` ORDER BY sends.id`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			s                                       Send
			status                                  string
			msgID, sender, lastErr, reason          sql.NullString
			code                                    sql.NullInt64
			planned, first, last, sentAt, skippedAt sql.NullString
		)
		if err := rows.Scan(&s.Wave, &s.PersonID, &s.UPN, &s.Mail, &s.Audience, &s.Locale, &status,
			&msgID, &sender, &s.Attempts, &planned, &first, &last,
			&sentAt, &lastErr, &code, &skippedAt, &reason, &s.RunID, &s.Name, &s.Department); err != nil {
			return err
		}
		s.Status = Status(status)
		s.MessageID, s.Sender, s.LastError, s.SkipReason = msgID.String, sender.String, lastErr.String, reason.String
		s.LastCode = int(code.Int64)
		for _, t := range []struct {
			dst *time.Time
			src sql.NullString
		}{{&s.PlannedAt, planned}, {&s.FirstAttemptAt, first}, {&s.LastAttemptAt, last}, {&s.SentAt, sentAt}, {&s.SkippedAt, skippedAt}} {
			if *t.dst, err = parseTS(t.src); err != nil {
				return fmt.Errorf("%q: %w", s.Key.String(), err)
			}
		}
		if err := fn(s); err != nil {
			return err
		}
	}
	return rows.Err()
}
