package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// Adoption is the first time nudge saw a person with a passkey.
type Adoption struct {
	PersonID string
	Kind     string    // which method, e.g. "passkey", "fido2", "windowsHello"
	SeenAt   time.Time // when nudge first saw it
	// DataReadAt is when the directory data that showed it was read; the
	// workbook compares it with sent_at to tell conversion from chance.
	DataReadAt time.Time
	// Department is the person's as the directory last showed them
	// (RecordPeople), filled in by EachAdoption; RecordAdoption ignores it.
	Department string
}

// RecordAdoption records that a person has a passkey. Only the first
// sighting counts, so later calls for the same person change nothing and
// report first == false.
func (l *Ledger) RecordAdoption(ctx context.Context, a Adoption) (first bool, err error) {
	n, err := l.RecordAdoptions(ctx, []Adoption{a})
	return n == 1, err
}

// RecordAdoptions is RecordAdoption for many people in one transaction (a
// directory read sees thousands at once); it returns how many were seen for
// the first time.
func (l *Ledger) RecordAdoptions(ctx context.Context, as []Adoption) (firsts int, err error) {
	tx, err := l.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("ledger: record adoptions: %w", err)
	}
	defer tx.Rollback()
	ins, err := tx.PrepareContext(ctx, `
		INSERT INTO adoption (person_id, kind, first_seen_at, data_read_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (person_id) DO NOTHING`)
	if err != nil {
		return 0, fmt.Errorf("ledger: record adoptions: %w", err)
	}
	defer ins.Close()
	for _, a := range as {
		if a.PersonID == "" || a.SeenAt.IsZero() || a.DataReadAt.IsZero() {
			return 0, fmt.Errorf("ledger: record adoption %q: person id and both times are required", a.PersonID)
		}
		res, err := ins.ExecContext(ctx, a.PersonID, a.Kind, ts(a.SeenAt), ts(a.DataReadAt))
		if err != nil {
			return 0, fmt.Errorf("ledger: record adoption %q: %w", a.PersonID, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			firsts++
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("ledger: record adoptions: %w", err)
	}
	return firsts, nil
}

// EachAdoption calls fn with every adoption, earliest first. It stops at
// the first error from fn and returns it unchanged.
func (l *Ledger) EachAdoption(ctx context.Context, fn func(Adoption) error) error {
	rows, err := l.r.QueryContext(ctx,
		`SELECT person_id, kind, first_seen_at, data_read_at, coalesce(people.department, '')
		FROM adoption LEFT JOIN people USING (person_id) ORDER BY first_seen_at, person_id`)
	if err != nil {
		return fmt.Errorf("ledger: each adoption: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a Adoption
		var seen, read sql.NullString
		if err := rows.Scan(&a.PersonID, &a.Kind, &seen, &read, &a.Department); err != nil {
			return fmt.Errorf("ledger: each adoption: %w", err)
		}
		if a.SeenAt, err = parseTS(seen); err != nil {
			return fmt.Errorf("ledger: each adoption: %w", err)
		}
		if a.DataReadAt, err = parseTS(read); err != nil {
			return fmt.Errorf("ledger: each adoption: %w", err)
		}
		if err := fn(a); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("ledger: each adoption: %w", err)
	}
	return nil
}

// Snapshot is the headline counts of one read of the directory.
type Snapshot struct {
	ID     int64
	ReadAt time.Time
	Source string         // "graph", "snapshot:<file>", "csv:<file>"
	Counts map[string]int // e.g. "people", "with_passkey", "eligible"
}

// RecordSnapshot stores one directory read and returns its id.
func (l *Ledger) RecordSnapshot(ctx context.Context, s Snapshot) (int64, error) {
	if s.ReadAt.IsZero() {
		return 0, fmt.Errorf("ledger: record snapshot: no read time")
	}
	counts := s.Counts
	if counts == nil {
		counts = map[string]int{}
	}
	cj, err := json.Marshal(counts) // map keys come out sorted: stable text
	if err != nil {
		return 0, fmt.Errorf("ledger: record snapshot: %w", err)
	}
	res, err := l.w.ExecContext(ctx, `INSERT INTO snapshots (read_at, source, counts) VALUES (?, ?, ?)`,
		ts(s.ReadAt), s.Source, string(cj))
	if err != nil {
		return 0, fmt.Errorf("ledger: record snapshot: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("ledger: record snapshot: %w", err)
	}
	return id, nil
}

// Snapshots lists every directory read, oldest first.
func (l *Ledger) Snapshots(ctx context.Context) ([]Snapshot, error) {
	rows, err := l.r.QueryContext(ctx, `SELECT id, read_at, source, counts FROM snapshots ORDER BY read_at, id`)
	if err != nil {
		return nil, fmt.Errorf("ledger: snapshots: %w", err)
	}
	defer rows.Close()
	var out []Snapshot
	for rows.Next() {
		var s Snapshot
		var read sql.NullString
		var counts string
		if err := rows.Scan(&s.ID, &read, &s.Source, &counts); err != nil {
			return nil, fmt.Errorf("ledger: snapshots: %w", err)
		}
		if s.ReadAt, err = parseTS(read); err != nil {
			return nil, fmt.Errorf("ledger: snapshots: %w", err)
		}
		if err := json.Unmarshal([]byte(counts), &s.Counts); err != nil {
			return nil, fmt.Errorf("ledger: snapshots: snapshot %d: %w", s.ID, err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger: snapshots: %w", err)
	}
	return out, nil
}
