package ledger

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are applied in order; PRAGMA user_version holds how many a
// database has had. Never edit one that has shipped: append a new one.
//
// Tables are STRICT so that a wrong Go type fails loudly instead of being
// stored as whatever SQLite coerces it to. Timestamps are TEXT in
// timeLayout (see the package comment).
var migrations = []string{
	// 1: runs, sends, attempts, adoption, snapshots.
	`
CREATE TABLE runs (
	id          INTEGER PRIMARY KEY,
	command     TEXT    NOT NULL,
	via         TEXT    NOT NULL,
	waves       TEXT    NOT NULL,          -- JSON array of wave ids
	dry_run     INTEGER NOT NULL,
	started_at  TEXT    NOT NULL,
	finished_at TEXT,
	planned     INTEGER NOT NULL DEFAULT 0,
	sent        INTEGER NOT NULL DEFAULT 0,
	retried     INTEGER NOT NULL DEFAULT 0,
	failed      INTEGER NOT NULL DEFAULT 0,
	unknown     INTEGER NOT NULL DEFAULT 0,
	skipped     INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE sends (
	id               INTEGER PRIMARY KEY,
	wave             TEXT    NOT NULL,
	person_id        TEXT    NOT NULL,
	upn              TEXT    NOT NULL,
	mail             TEXT    NOT NULL,
	audience         TEXT    NOT NULL,
	locale           TEXT    NOT NULL,
	status           TEXT    NOT NULL CHECK (status IN
	                   ('pending', 'sending', 'sent', 'failed', 'unknown', 'skipped')),
	message_id       TEXT,
	sender           TEXT,
	attempts         INTEGER NOT NULL DEFAULT 0,
	planned_at       TEXT    NOT NULL,
	first_attempt_at TEXT,
	last_attempt_at  TEXT,
	sent_at          TEXT,
	last_error       TEXT,
	last_code        INTEGER,
	skipped_at       TEXT,
	skip_reason      TEXT,
	run_id           INTEGER NOT NULL REFERENCES runs (id),
	UNIQUE (wave, person_id)
) STRICT;
-- SentSince: the rolling 24-hour window of one mailbox.
CREATE INDEX sends_sent_by_sender ON sends (sender, sent_at) WHERE status = 'sent';
-- RecoverInterrupted and SentSince's in-flight part: few rows, tiny index.
CREATE INDEX sends_in_flight ON sends (status) WHERE status IN ('sending', 'unknown');

CREATE TABLE attempts (
	id      INTEGER PRIMARY KEY,
	send_id INTEGER NOT NULL REFERENCES sends (id),
	run_id  INTEGER NOT NULL REFERENCES runs (id),
	at      TEXT    NOT NULL,
	outcome TEXT    NOT NULL CHECK (outcome IN ('sent', 'retry', 'failed', 'interrupted')),
	error   TEXT,
	code    INTEGER
) STRICT;
CREATE INDEX attempts_send ON attempts (send_id);

CREATE TABLE adoption (
	person_id     TEXT PRIMARY KEY,
	kind          TEXT NOT NULL,
	first_seen_at TEXT NOT NULL,
	data_read_at  TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE snapshots (
	id      INTEGER PRIMARY KEY,
	read_at TEXT NOT NULL,
	source  TEXT NOT NULL,
	counts  TEXT NOT NULL                  -- JSON object: name → count
) STRICT;
`,
	// 2: people: each person's name and department as the directory last
	// showed them, for the workbook (sends keep only what a message needs).
	`
CREATE TABLE people (
	person_id  TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	department TEXT NOT NULL
) STRICT, WITHOUT ROWID;
`,
	// 3: invites: the calendar invitations of invite waves (invites.go).
	migrationInvites,
	migrationTAPs, // 4: taps: Temporary Access Passes issued, never the pass (taps.go)
}

// migrate brings db up to len(migrations) in one transaction. The
// transaction is IMMEDIATE (see dsn), so two nudges opening a new file at
// the same moment migrate it once, one after the other.
func migrate(ctx context.Context, db *sql.DB, path string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("ledger: open %s: %w", path, err)
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("ledger: open %s: %w", path, err)
	}
	if v > len(migrations) {
		return fmt.Errorf("ledger: %s was made by a newer nudge (schema version %d; this nudge knows up to %d): use that version of nudge or a later one", path, v, len(migrations))
	}
	if v == len(migrations) {
		return nil
	}
	for i := v; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("ledger: %s: schema migration %d: %w", path, i+1, err)
		}
	}
	// PRAGMA takes no parameters; the value is our own integer.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
		return fmt.Errorf("ledger: %s: set schema version: %w", path, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("ledger: %s: schema migration: %w", path, err)
	}
	return nil
}
