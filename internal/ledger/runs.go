package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// Via is the delivery route of a run.
type Via string

// Delivery routes, as in DESIGN §7.
const (
	ViaOutbox Via = "outbox"
	ViaSMTP   Via = "smtp"
	ViaGraph  Via = "graph"
)

// Run is one invocation of a sending command.
type Run struct {
	ID         int64
	Command    string // "send", "run", "schedule"
	Via        Via
	Waves      []string
	DryRun     bool
	StartedAt  time.Time // StartRun uses the ledger's clock when zero
	FinishedAt time.Time // zero while running, or when the run crashed
	Counts     RunCounts
}

// RunCounts is what a run did, as its caller counted it.
type RunCounts struct {
	Planned, Sent, Retried, Failed, Unknown, Skipped int
}

// StartRun records the start of a run and returns its id, which Plan and
// MarkSending take so that every row and attempt says which run made it.
func (l *Ledger) StartRun(ctx context.Context, r Run) (int64, error) {
	switch r.Via {
	case ViaOutbox, ViaSMTP, ViaGraph:
	default:
		return 0, fmt.Errorf("ledger: start run: unknown delivery route %q", r.Via)
	}
	if r.Command == "" {
		return 0, fmt.Errorf("ledger: start run: empty command")
	}
	if r.StartedAt.IsZero() {
		r.StartedAt = l.now()
	}
	waves := r.Waves
	if waves == nil {
		waves = []string{} // "[]", not "null"
	}
	wj, err := json.Marshal(waves)
	if err != nil {
		return 0, fmt.Errorf("ledger: start run: %w", err)
	}
	res, err := l.w.ExecContext(ctx,
		`INSERT INTO runs (command, via, waves, dry_run, started_at) VALUES (?, ?, ?, ?, ?)`,
		r.Command, string(r.Via), string(wj), r.DryRun, ts(r.StartedAt))
	if err != nil {
		return 0, fmt.Errorf("ledger: start run: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("ledger: start run: %w", err)
	}
	return id, nil
}

// FinishRun records the end of run id and its counts. A run is finished
// once; a run never finished is one that crashed.
func (l *Ledger) FinishRun(ctx context.Context, id int64, at time.Time, c RunCounts) error {
	res, err := l.w.ExecContext(ctx, `
		UPDATE runs SET finished_at = ?, planned = ?, sent = ?, retried = ?, failed = ?, unknown = ?, skipped = ?
		WHERE id = ? AND finished_at IS NULL`,
		ts(at), c.Planned, c.Sent, c.Retried, c.Failed, c.Unknown, c.Skipped, id)
	if err != nil {
		return fmt.Errorf("ledger: finish run %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("ledger: finish run %d: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("ledger: finish run %d: no such run, or already finished", id)
	}
	return nil
}

// Runs lists every run, oldest first.
func (l *Ledger) Runs(ctx context.Context) ([]Run, error) {
	rows, err := l.r.QueryContext(ctx, `
		SELECT id, command, via, waves, dry_run, started_at, finished_at,
		       planned, sent, retried, failed, unknown, skipped
		FROM runs ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("ledger: runs: %w", err)
	}
	defer rows.Close()
	var runs []Run
	for rows.Next() {
		var (
			r                 Run
			via, waves        string
			started, finished sql.NullString
			c                 = &r.Counts
		)
		if err := rows.Scan(&r.ID, &r.Command, &via, &waves, &r.DryRun, &started, &finished,
			&c.Planned, &c.Sent, &c.Retried, &c.Failed, &c.Unknown, &c.Skipped); err != nil {
			return nil, fmt.Errorf("ledger: runs: %w", err)
		}
		r.Via = Via(via)
		if err := json.Unmarshal([]byte(waves), &r.Waves); err != nil {
			return nil, fmt.Errorf("ledger: runs: run %d: waves: %w", r.ID, err)
		}
		if r.StartedAt, err = parseTS(started); err != nil {
			return nil, fmt.Errorf("ledger: runs: run %d: %w", r.ID, err)
		}
		if r.FinishedAt, err = parseTS(finished); err != nil {
			return nil, fmt.Errorf("ledger: runs: run %d: %w", r.ID, err)
		}
		runs = append(runs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger: runs: %w", err)
	}
	return runs, nil
}
