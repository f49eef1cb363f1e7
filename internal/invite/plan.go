package invite

// Update policy (iTIP, RFC 5546 §2.1.4–2.1.5): a person's invitation is
// identified by its UID, one per (campaign, session, person). Once sent,
// any change a calendar shows (time, length, zone, title, place, link) is
// sent again as a REQUEST with the same UID and SEQUENCE one higher, so
// the event moves instead of doubling; a cancelled session is sent as a
// CANCEL with SEQUENCE one higher. Nothing is sent when nothing changed.
// A person sent back to a session they were taken out of gets that
// session's UID again, whose CANCEL their calendar holds: its SEQUENCE
// goes on from the highest sent for that UID (Sent.Sequences), never
// from 0, or calendars ignore the new REQUEST as older than the CANCEL.
// People who left the audience (registered a passkey since) keep their
// invitation, since they may still come, and should still get its updates:
// the caller passes them to Plan, though not to Assign.

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"

	"github.com/nudge-passkeys/nudge/internal/ical"
)

// Sent is what was last sent to a person, as the ledger keeps it.
type Sent struct {
	Session     string
	Sequence    int
	Fingerprint string
	Cancelled   bool // the last message was a CANCEL
	// Sequences is the highest SEQUENCE sent for each session's UID,
	// including sessions the person has left: going back to one must
	// carry a SEQUENCE above its CANCEL's, or calendars ignore it.
	Sequences map[string]int
}

// Next is the SEQUENCE of the next message for session's UID: one above
// the highest sent for it, or 0 for a UID never sent.
func (s Sent) Next(session string) int {
	seq, ok := s.Sequences[session]
	if s.Session == session && session != "" {
		seq, ok = max(seq, s.Sequence), true
	}
	if !ok {
		return 0
	}
	return seq + 1
}

// Kind is what a planned message does.
type Kind string

// Kinds.
const (
	Invite Kind = "invite" // first REQUEST for this session
	Update Kind = "update" // REQUEST again: the session changed
	Cancel Kind = "cancel" // CANCEL: the session is cancelled
)

// Action is one calendar message to send.
type Action struct {
	Person   *Person
	Session  *Session
	Kind     Kind
	Sequence int
	// Fingerprint is what Sent.Fingerprint becomes once it is sent.
	Fingerprint string
}

// Orphan is a person whose invitation names a session no longer in the
// campaign: it cannot be cancelled (a CANCEL must carry the event's time),
// so the session should be marked cancelled instead of deleted.
type Orphan struct {
	PersonID string
	Sent     Sent
}

// Fingerprint sums up what a calendar shows of a session.
func Fingerprint(s *Session) string {
	h := sha256.New()
	for _, v := range []string{
		strconv.FormatInt(s.Start.Unix(), 10), strconv.FormatInt(s.End.Unix(), 10), s.Start.Location().String(),
		s.Title, s.JoinURL, s.Room,
	} {
		h.Write([]byte(v))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// Plan lists the calendar messages that bring people up to date with r,
// given what was sent (by person id), in order of person id. people
// should be the audience plus everyone in sent still in the directory;
// nothing is planned for anyone else.
func Plan(people []Person, sessions []Session, r *Result, sent map[string]Sent) ([]Action, []Orphan) {
	byID := make(map[string]*Session, len(sessions))
	for i := range sessions {
		byID[sessions[i].ID] = &sessions[i]
	}
	var acts []Action
	var orphans []Orphan
	seen := map[string]bool{}
	for i := range people {
		p := &people[i]
		if seen[p.ID] {
			continue
		}
		seen[p.ID] = true
		last, was := sent[p.ID]
		sid, assigned := r.Session[p.ID]
		if was && !last.Cancelled && last.Session != sid {
			// Their session went away (cancelled, or deleted).
			if s := byID[last.Session]; s != nil {
				acts = append(acts, Action{p, s, Cancel, last.Next(s.ID), Fingerprint(s)})
			} else {
				orphans = append(orphans, Orphan{p.ID, last})
			}
		}
		if !assigned {
			continue
		}
		s := byID[sid]
		fp := Fingerprint(s)
		switch {
		case !was || last.Session != sid || last.Cancelled:
			// A first invitation, or one to a session they were taken
			// out of before (a CANCEL for this UID may be in their
			// calendar): the same UID, so the sequence goes on from it.
			acts = append(acts, Action{p, s, Invite, last.Next(sid), fp})
		case last.Fingerprint != fp:
			acts = append(acts, Action{p, s, Update, last.Next(sid), fp})
		}
	}
	slices.SortStableFunc(acts, func(a, b Action) int { return cmp.Compare(a.Person.ID, b.Person.ID) })
	slices.SortFunc(orphans, func(a, b Orphan) int { return cmp.Compare(a.PersonID, b.PersonID) })
	return acts, orphans
}

// Calendar is the calendar object that carries a.
func (s Sender) Calendar(a Action) *ical.Calendar {
	if a.Kind == Cancel {
		return s.Cancel(a.Session, a.Person, a.Sequence)
	}
	return s.Request(a.Session, a.Person, a.Sequence)
}

// Previous is the assignment sent invitations stand for, for Assign:
// everyone whose last message was not a cancellation keeps that session.
func Previous(sent map[string]Sent) map[string]string {
	out := make(map[string]string, len(sent))
	for id, s := range sent {
		if !s.Cancelled {
			out[id] = s.Session
		}
	}
	return out
}
