package ledger

// Temporary Access Passes. A row of taps says that nudge created a pass
// for a person: who, when, the pass's validity, Graph's id of the method
// and the run that made it. It never holds the pass itself, nor anything
// derived from it: the pass exists only in the printed letter.
//
// A row is written right after Graph created the pass, before the letter
// is printed, so a pass that exists is never forgotten; printed_at is set
// once the site's PDF is complete. A person with a row is not given
// another pass unless the caller asks to reissue; a row without
// printed_at is a pass whose letter was never printed.

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

const migrationTAPs = `
CREATE TABLE taps (
	id          INTEGER PRIMARY KEY,
	person_id   TEXT    NOT NULL,
	upn         TEXT    NOT NULL,
	method_id   TEXT    NOT NULL,          -- Graph's id of the method, not the pass
	issued_at   TEXT    NOT NULL,
	valid_from  TEXT    NOT NULL,
	valid_until TEXT    NOT NULL,
	usable_once INTEGER NOT NULL CHECK (usable_once IN (0, 1)),
	run_id      INTEGER NOT NULL REFERENCES runs (id),
	printed_at  TEXT
) STRICT;
CREATE INDEX taps_person ON taps (person_id, id);
`

// TAPIssue records that a Temporary Access Pass was created.
type TAPIssue struct {
	ID         int64
	PersonID   string
	UPN        string
	MethodID   string
	Issued     time.Time
	Start, End time.Time
	UsableOnce bool
	RunID      int64
	// Printed is when the letter's PDF was written; zero if it never was.
	Printed time.Time
}

// RecordTAP records an issued pass and returns its row id.
func (l *Ledger) RecordTAP(ctx context.Context, t TAPIssue) (int64, error) {
	if t.PersonID == "" || t.Start.IsZero() || t.End.IsZero() || t.RunID == 0 {
		return 0, fmt.Errorf("ledger: record pass for %q: person, validity and run are required", t.PersonID)
	}
	if t.Issued.IsZero() {
		t.Issued = l.now()
	}
	res, err := l.w.ExecContext(ctx, `
		INSERT INTO taps (person_id, upn, method_id, issued_at, valid_from, valid_until, usable_once, run_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		t.PersonID, t.UPN, t.MethodID, ts(t.Issued), ts(t.Start), ts(t.End), t.UsableOnce, t.RunID)
	if err != nil {
		return 0, fmt.Errorf("ledger: record pass for %s: %w", t.UPN, err)
	}
	return res.LastInsertId()
}

// MarkTAPsPrinted records that the letters of rows ids were printed at at.
func (l *Ledger) MarkTAPsPrinted(ctx context.Context, ids []int64, at time.Time) error {
	tx, err := l.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("ledger: mark passes printed: %w", err)
	}
	defer tx.Rollback()
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `UPDATE taps SET printed_at = ? WHERE id = ?`, ts(at), id); err != nil {
			return fmt.Errorf("ledger: mark passes printed: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("ledger: mark passes printed: %w", err)
	}
	return nil
}

// TAPs returns, by person id, the latest pass issued to each person.
func (l *Ledger) TAPs(ctx context.Context) (map[string]TAPIssue, error) {
	rows, err := l.r.QueryContext(ctx, `
		SELECT id, person_id, upn, method_id, issued_at, valid_from, valid_until, usable_once, run_id, printed_at
		FROM taps ORDER BY person_id, id`)
	if err != nil {
		return nil, fmt.Errorf("ledger: passes: %w", err)
	}
	defer rows.Close()
	out := map[string]TAPIssue{}
	for rows.Next() {
		var t TAPIssue
		var issued, from, until, printed sql.NullString
		if err := rows.Scan(&t.ID, &t.PersonID, &t.UPN, &t.MethodID, &issued, &from, &until, &t.UsableOnce, &t.RunID, &printed); err != nil {
			return nil, fmt.Errorf("ledger: passes: %w", err)
		}
		for _, f := range []struct {
			s   sql.NullString
			dst *time.Time
		}{{issued, &t.Issued}, {from, &t.Start}, {until, &t.End}, {printed, &t.Printed}} {
			if *f.dst, err = parseTS(f.s); err != nil {
				return nil, fmt.Errorf("ledger: passes: %w", err)
			}
		}
		out[t.PersonID] = t // rows come in id order: the last one wins
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger: passes: %w", err)
	}
	return out, nil
}
