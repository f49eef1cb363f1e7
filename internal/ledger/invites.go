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
// new invitation sent in the same run were accepted. The highest SEQUENCE
// of every session is kept too, since each is a UID the person's calendar
// may hold (as an event or as a cancellation).

import (
	"context"
	"database/sql"
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
	// Sequences is, by person id and then session, the highest SEQUENCE
	// sent: a person who goes back to a session they were cancelled
	// from must get a SEQUENCE above that CANCEL's (same UID).
	Sequences map[string]map[string]int
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
	st := &InviteState{Sent: map[string]Invite{}, Unknown: map[string]Invite{}, Sequences: map[string]map[string]int{}}
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
		seqs := make(map[string]int, len(bySession))
		for session, x := range bySession {
			seqs[session] = x.inv.Sequence
		}
		st.Sequences[person] = seqs
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

// InviteMessage is one calendar message of an invite wave, as the
// workbook shows it.
type InviteMessage struct {
	Wave, PersonID string
	Invite
	// Status is StatusSent, or StatusSending for a message an interrupted
	// run was sending (it may have arrived).
	Status    Status
	StartedAt time.Time
	SentAt    time.Time // zero unless sent
	// Name is the person's as the directory last showed them
	// (RecordPeople); empty when no read recorded them.
	Name string
}

// EachInviteMessage calls fn for every calendar message of every invite
// wave, by wave, person, session and sequence. It stops at the first
// error from fn and returns it unchanged.
func (l *Ledger) EachInviteMessage(ctx context.Context, fn func(InviteMessage) error) error {
	rows, err := l.r.QueryContext(ctx, `
		SELECT wave, person_id, session, sequence, fingerprint, cancelled, status, started_at, sent_at,
		       coalesce(people.name, '')
		FROM invites LEFT JOIN people USING (person_id)
		ORDER BY wave, person_id, session, sequence`)
	if err != nil {
		return fmt.Errorf("ledger: invite messages: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			m               InviteMessage
			status, started string
			sent            sql.NullString
		)
		if err := rows.Scan(&m.Wave, &m.PersonID, &m.Session, &m.Sequence, &m.Fingerprint, &m.Cancelled, &status, &started, &sent, &m.Name); err != nil {
			return fmt.Errorf("ledger: invite messages: %w", err)
		}
		m.Status = Status(status)
		if m.StartedAt, err = parseTS(sql.NullString{String: started, Valid: true}); err == nil {
			m.SentAt, err = parseTS(sent)
		}
		if err != nil {
			return fmt.Errorf("ledger: invite %s/%s %s/%d: %w", m.Wave, m.PersonID, m.Session, m.Sequence, err)
		}
		if err := fn(m); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("ledger: invite messages: %w", err)
	}
	return nil
}

// InvitedPeople returns the ids of everyone any invite wave sent (or was
// sending) a calendar message.
func (l *Ledger) InvitedPeople(ctx context.Context) (map[string]bool, error) {
	rows, err := l.r.QueryContext(ctx, `SELECT DISTINCT person_id FROM invites`)
	if err != nil {
		return nil, fmt.Errorf("ledger: invited people: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("ledger: invited people: %w", err)
		}
		out[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger: invited people: %w", err)
	}
	return out, nil
}
