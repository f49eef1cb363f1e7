package ledger

import (
	"context"
	"fmt"
)

// Person is what the workbook shows of a person beside their send rows
// and adoption: their name and department, as the directory last showed
// them. Send rows keep only what a message needs, and are frozen once
// sent; these follow the directory.
type Person struct {
	ID         string
	Name       string
	Department string
}

// RecordPeople stores the name and department of each of ps, replacing
// what an earlier read stored, in one transaction. A row that has not
// changed is not rewritten, so reading a large tenant every day adds
// little to the file.
func (l *Ledger) RecordPeople(ctx context.Context, ps []Person) error {
	tx, err := l.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("ledger: record people: %w", err)
	}
	defer tx.Rollback()
	up, err := tx.PrepareContext(ctx, `
		INSERT INTO people (person_id, name, department) VALUES (?, ?, ?)
		ON CONFLICT (person_id) DO UPDATE SET name = excluded.name, department = excluded.department
		WHERE name IS NOT excluded.name OR department IS NOT excluded.department`)
	if err != nil {
		return fmt.Errorf("ledger: record people: %w", err)
	}
	defer up.Close()
	for _, p := range ps {
		if p.ID == "" {
			return fmt.Errorf("ledger: record people: a person without an id (%q)", p.Name)
		}
		if _, err := up.ExecContext(ctx, p.ID, p.Name, p.Department); err != nil {
			return fmt.Errorf("ledger: record person %q: %w", p.ID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("ledger: record people: %w", err)
	}
	return nil
}
