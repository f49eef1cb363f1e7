package ledger

// Calendar invitations, exactly once as far as the protocol allows. An
// invite wave sends a person several messages over time (the invitation,
// then updates with a higher SEQUENCE, or a cancellation), so its rows are
// not the one-per-person sends rows: each calendar message is one row of
// invites, keyed by (wave, person, session, sequence). A row is inserted
// as `sending`, committed, before the message goes to the server, and
// becomes `sent` once the server accepted it; a temporary or permanent
// failure deletes it (nothing reached a server, so the next run tries
// again). A crash in between leaves `sending`: the next run, holding the
// run lock, knows no one else is sending, reports the row as unknown and
// does not send that person anything until asked (BeginInvite with
// RetryUnknown).
//
// What was last sent to a person, for invite.Plan, is read from the sent
// rows: per session the highest SEQUENCE, and of those the session whose
// last message was not a cancellation (else the latest cancellation), so
// the answer does not depend on the order in which a cancellation and a
// new invitation sent in the same run were accepted.

import (
	"context"
	"fmt"
	"time"
)

const migrationInvites = `
CREATE TABLE invites (
	wave        TEXT    NOT NULL,
	person_id   TEXT    NOT NULL,
	session     TEXT    NOT NULL,
	sequence    INTEGER NOT NULL CHECK (sequence >= 0),
	fingerprint TEXT    NOT NULL,
	cancelled   INTEGER NOT NULL CHECK (cancelled IN (0, 1)),
	status      TEXT    NOT NULL CHECK (status IN ('sending', 'sent')),
	message_id  TEXT    NOT NULL,
	sender      TEXT    NOT NULL,
	run_id      INTEGER NOT NULL REFERENCES runs (id),
	started_at  TEXT    NOT NULL,
	sent_at     TEXT,
	PRIMARY KEY (wave, person_id, session, sequence)
) STRICT, WITHOUT ROWID;
-- SentSince: invitations count against the mailbox's 24-hour cap.
CREATE INDEX invites_by_sender ON invites (sender, status, sent_at, started_at);
`

// Invite is one calendar message of an invite wave: which session, its
// SEQUENCE, the fingerprint of what it showed, and whether it was a
// cancellation.
type Invite struct {
	Session     string
	Sequence    int
	Fingerprint string
	Cancelled   bool
}

// InviteState is what the ledger holds of an invite wave.
type InviteState struct {
	// Sent is, by person id, what the person's calendar shows now.
	Sent map[string]Invite
	// Unknown is, by person id, a message an interrupted run was sending:
	// it may have arrived.
	Unknown map[string]Invite
}

// Invites reads the state of wave's invitations.
func (l *Ledger) Invites(ctx context.Context, wave string) (*InviteState, error) {
	rows, err := l.r.QueryContext(ctx, `
		SELECT person_id, session, sequence, fingerprint, cancelled, status, COALESCE(sent_at, started_at)
		FROM invites WHERE wave = ? ORDER BY person_id, session, sequence`, wave)
	if err != nil {
		return nil, fmt.Errorf("ledger: invites of %s: %w", wave, err)
	}
	defer rows.Close()
	st := &InviteState{Sent: map[string]Invite{}, Unknown: map[string]Invite{}}
	type last struct {
		inv Invite
		at  string
	}
	// latest[person][session]: the highest sequence sent.
	latest := map[string]map[string]last{}
	for rows.Next() {
		var (
			person, status, at string
			inv                Invite
		)
		if err := rows.Scan(&person, &inv.Session, &inv.Sequence, &inv.Fingerprint, &inv.Cancelled, &status, &at); err != nil {
			return nil, fmt.Errorf("ledger: invites of %s: %w", wave, err)
		}
		if Status(status) == StatusSending {
			st.Unknown[person] = inv
			continue
		}
		if latest[person] == nil {
			latest[person] = map[string]last{}
		}
		latest[person][inv.Session] = last{inv, at} // rows come in sequence order
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger: invites of %s: %w", wave, err)
	}
	for person, bySession := range latest {
		var best last
		found := false
		for _, x := range bySession {
			better := !found ||
				(best.inv.Cancelled && !x.inv.Cancelled) ||
				(best.inv.Cancelled == x.inv.Cancelled && (x.at > best.at || x.at == best.at && x.inv.Session < best.inv.Session))
			if better {
				best, found = x, true
			}
		}
		st.Sent[person] = best.inv
	}
	return st, nil
}

// BeginInvite records, before the message goes to the server, that inv is
// being sent to k's person. It fails with ErrNotPending when that message
// is already recorded (sent, or left sending by an interrupted run and
// c.RetryUnknown is not set).
func (l *Ledger) BeginInvite(ctx context.Context, k Key, inv Invite, c Claim) error {
	at := c.At
	if at.IsZero() {
		at = l.now()
	}
	q := `INSERT INTO invites (wave, person_id, session, sequence, fingerprint, cancelled, status, message_id, sender, run_id, started_at)
		VALUES (?, ?, ?, ?, ?, ?, 'sending', ?, ?, ?, ?)`
	if c.RetryUnknown {
		q += ` ON CONFLICT (wave, person_id, session, sequence) DO UPDATE SET
			fingerprint = excluded.fingerprint, cancelled = excluded.cancelled, message_id = excluded.message_id,
			sender = excluded.sender, run_id = excluded.run_id, started_at = excluded.started_at
			WHERE status = 'sending'`
	} else {
		q += ` ON CONFLICT DO NOTHING`
	}
	res, err := l.w.ExecContext(ctx, q, k.Wave, k.PersonID, inv.Session, inv.Sequence, inv.Fingerprint, inv.Cancelled,
		c.MessageID, c.Sender, c.Run, ts(at))
	if err != nil {
		return fmt.Errorf("ledger: begin invite %s %s/%d: %w", k, inv.Session, inv.Sequence, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("ledger: begin invite %s %s/%d: %w", k, inv.Session, inv.Sequence, ErrNotPending)
	}
	return nil
}

// InviteSent records that the server accepted the message BeginInvite
// recorded.
func (l *Ledger) InviteSent(ctx context.Context, k Key, inv Invite, at time.Time) error {
	return l.endInvite(ctx, k, inv, `UPDATE invites SET status = 'sent', sent_at = ?
		WHERE wave = ? AND person_id = ? AND session = ? AND sequence = ? AND status = 'sending'`, ts(at))
}

// DropInvite forgets a message BeginInvite recorded that did not reach a
// server (a temporary or permanent failure), so a later run sends it.
func (l *Ledger) DropInvite(ctx context.Context, k Key, inv Invite) error {
	return l.endInvite(ctx, k, inv, `DELETE FROM invites
		WHERE wave = ? AND person_id = ? AND session = ? AND sequence = ? AND status = 'sending'`)
}

func (l *Ledger) endInvite(ctx context.Context, k Key, inv Invite, q string, first ...any) error {
	args := append(first, k.Wave, k.PersonID, inv.Session, inv.Sequence)
	res, err := l.w.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("ledger: invite %s %s/%d: %w", k, inv.Session, inv.Sequence, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("ledger: invite %s %s/%d: %w", k, inv.Session, inv.Sequence, ErrNotSending)
	}
	return nil
}
