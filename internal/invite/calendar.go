package invite

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/nudge-passkeys/nudge/internal/deliver"
	"github.com/nudge-passkeys/nudge/internal/ical"
)

// UID is the calendar UID of one person's invitation to one session of a
// campaign: the same on every run, so that a resend with a higher
// SEQUENCE updates the event in the person's calendar instead of adding a
// second one. domain is the organiser's (RFC 5545 §3.8.4.7 suggests a
// domain on the right).
func UID(campaign, session, person, domain string) string {
	h := sha256.New()
	for _, p := range []string{campaign, session, person} {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return "nudge-" + hex.EncodeToString(h.Sum(nil)[:16]) + "@" + domain
}

// Sender is who sends invitations: the campaign and its mailbox.
type Sender struct {
	Campaign  string
	Organizer ical.Address
	// Stamp is when the calendar objects are made (DTSTAMP).
	Stamp time.Time
}

func (s Sender) event(ss *Session, uid string, seq int) ical.Event {
	loc := ss.Room
	if loc == "" {
		loc = ss.JoinURL
	}
	var desc []string
	if ss.JoinURL != "" {
		desc = append(desc, "Join: "+ss.JoinURL)
	}
	if ss.Room != "" {
		desc = append(desc, "Room: "+ss.Room)
	}
	return ical.Event{
		UID: uid, Sequence: seq, Stamp: s.Stamp,
		Start: ss.Start, End: ss.End,
		Summary: ss.Title, Description: strings.Join(desc, "\n"), Location: loc,
		URL: ss.JoinURL, Organizer: s.Organizer,
	}
}

func (s Sender) domain() string {
	if i := strings.LastIndexByte(s.Organizer.Email, '@'); i >= 0 {
		return s.Organizer.Email[i+1:]
	}
	return "nudge.invalid"
}

// Request is the METHOD:REQUEST calendar inviting p to ss; seq is the
// SEQUENCE, raised each time the session changes after p was invited.
func (s Sender) Request(ss *Session, p *Person, seq int) *ical.Calendar {
	e := s.event(ss, UID(s.Campaign, ss.ID, p.ID, s.domain()), seq)
	e.Attendees = []ical.Attendee{{Address: ical.Address{Name: p.Name, Email: p.Email}, RSVP: true}}
	return &ical.Calendar{Method: ical.Request, Events: []ical.Event{e}}
}

// Cancel is the METHOD:CANCEL calendar that takes ss out of p's
// calendar; seq must be higher than the last one sent.
func (s Sender) Cancel(ss *Session, p *Person, seq int) *ical.Calendar {
	c := s.Request(ss, p, seq)
	c.Method = ical.Cancel
	c.Events[0].Cancelled = true
	c.Events[0].Attendees[0].RSVP = false
	return c
}

// Publish is the METHOD:PUBLISH "add to calendar" file of ss, for people
// who were not invited: no attendee, one UID per session.
func (s Sender) Publish(ss *Session, seq int) *ical.Calendar {
	e := s.event(ss, UID(s.Campaign, ss.ID, "", s.domain()), seq)
	return &ical.Calendar{Method: ical.Publish, Events: []ical.Event{e}}
}

// Message returns c as the calendar part of an email: the text/calendar
// alternative and the invite.ics attachment deliver.Message writes.
func Message(c *ical.Calendar) (*deliver.Calendar, error) {
	b, err := c.Marshal()
	if err != nil {
		return nil, err
	}
	return &deliver.Calendar{Method: string(c.Method), Data: b}, nil
}
