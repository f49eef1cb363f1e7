package preview

// An invite piece is what one person of a wave with sessions: true gets:
// the wave's email rendered with the session they would be assigned and
// the calendar REQUEST for it, built as nudge send builds them
// (invite.Assign, invite.Sender). The preview reads no ledger: the
// assignment is the one a first send would make. Directory values reach
// the email through package render's escaping and the calendar through
// package ical's.

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nudge-passkeys/nudge/internal/campaign"
	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/ical"
	"github.com/nudge-passkeys/nudge/internal/invite"
	"github.com/nudge-passkeys/nudge/internal/render"
)

// hasInvite: waves with sessions send invitations; like the email, a
// locale without a translation has none of its own.
func hasInvite(_ *Project, g *group) bool { return g.wave.Sessions && !g.missing }

func (p *Project) clock() time.Time {
	if d := p.cache(); d.now != nil {
		return d.now()
	}
	return time.Now()
}

// assignment is who of wave w gets which session, as a first send would
// assign them; worked out once per load.
func (p *Project) assignment(w *campaign.Wave) *invite.Result {
	d := p.cache()
	d.mu.Lock()
	defer d.mu.Unlock()
	if r, ok := d.assigned[w.ID]; ok {
		return r
	}
	c := p.Campaign
	zones := invite.NewZones(c)
	var people []invite.Person
	for _, a := range w.Audiences {
		for _, person := range p.Members[Key{w.ID, a}] {
			people = append(people, invite.NewPerson(person, c, zones))
		}
	}
	r := invite.Assign(people, invite.Sessions(c), invite.Options{Hours: invite.HoursOf(c)})
	if d.assigned == nil {
		d.assigned = map[string]*invite.Result{}
	}
	d.assigned[w.ID] = r
	return r
}

func (p *Project) isMember(w *campaign.Wave, person *directory.Person) bool {
	for _, a := range w.Audiences {
		if slices.Contains(p.Members[Key{w.ID, a}], person) {
			return true
		}
	}
	return false
}

// invitation is the session chosen for a person and how it was chosen.
type invitation struct {
	act invite.Action
	// fallback says why the session is not the person's own: they fit
	// none, and the page shows the first session in the locale's language.
	fallback string
}

// inviteFor chooses person's session in w: theirs in the wave's
// assignment when they are a member, else the one they would get alone
// (a built-in sample, reading locale); when they fit none, the first
// session in locale's language.
func (p *Project) inviteFor(w *campaign.Wave, locale string, person *directory.Person) (*invitation, error) {
	c := p.Campaign
	sessions := invite.Sessions(c)
	ip := invite.NewPerson(person, c, invite.NewZones(c))
	r := p.assignment(w)
	if !p.isMember(w, person) {
		ip.Language = locale
		r = invite.Assign([]invite.Person{ip}, sessions, invite.Options{Hours: invite.HoursOf(c)})
	}
	inv := &invitation{act: invite.Action{Person: &ip, Kind: invite.Invite}}
	if sid, ok := r.Session[ip.ID]; ok {
		for i := range sessions {
			if sessions[i].ID == sid {
				inv.act.Session = &sessions[i]
			}
		}
	}
	if inv.act.Session != nil {
		return inv, nil
	}
	why := "they fit no session"
	for _, l := range r.Left {
		if l.Person.ID == ip.ID {
			why = "they get no session: " + string(l.Reason)
			if l.Detail != "" {
				why += " (" + l.Detail + ")"
			}
		}
	}
	var first *invite.Session
	for i := range sessions {
		s := &sessions[i]
		if !s.Cancelled && s.Language == locale && (first == nil || s.Start.Before(first.Start)) {
			first = s
		}
	}
	if first == nil {
		return nil, fmt.Errorf("%s, and no session is in %s: nobody reading %s is invited", why, locale, locale)
	}
	inv.act.Session = first
	inv.fallback = why + "; shown with the first session in " + locale + ", " + first.ID
	return inv, nil
}

// renderInvite renders the invitation email for person with their
// session, the invite's details and its calendar object.
func renderInvite(p *Project, w *campaign.Wave, audience, locale string, person *directory.Person) (*piece, error) {
	inv, err := p.inviteFor(w, locale, person)
	if err != nil {
		return nil, err
	}
	act, c := inv.act, p.Campaign
	sender := invite.Sender{
		Campaign:  c.ID,
		Organizer: ical.Address{Name: c.Sender.Name, Email: c.Sender.Address},
		Stamp:     p.clock().UTC(),
	}
	cal, err := sender.Calendar(act).Marshal()
	if err != nil {
		return nil, fmt.Errorf("session %s: %w", act.Session.ID, err)
	}
	ctx := render.Context{WaveID: w.ID, WaveName: w.Name, Audience: audience, Session: act.View()}
	pc, err := emailPiece(p, w, locale, person, ctx)
	if err != nil {
		return nil, err
	}
	s := act.Session
	chosen := "the session this person is assigned"
	if inv.fallback != "" {
		chosen = inv.fallback
		pc.findings = append(pc.findings, render.Finding{Msg: "this person gets no invitation: " + inv.fallback})
	}
	pc.headers = append(pc.headers,
		header{"Session", s.Title + " (" + s.ID + ")"},
		header{"Chosen", chosen},
		header{"When", when(s.Start.In(act.Person.Zone), s.End.In(act.Person.Zone))},
	)
	if s.Start.Location().String() != act.Person.Zone.String() {
		pc.headers = append(pc.headers, header{"Session's own time", when(s.Start, s.End)})
	}
	for _, h := range []header{{"Host", s.Host}, {"Room", s.Room}, {"Join URL", s.JoinURL}} {
		if h.Value != "" {
			pc.headers = append(pc.headers, h)
		}
	}
	pc.headers = append(pc.headers, header{"Calendar", "invite.ics, METHOD:REQUEST, SEQUENCE:0"})
	for _, pr := range c.PastSessions(p.clock()) {
		pc.findings = append(pc.findings, render.Finding{Error: true, Msg: pr.String()})
	}
	pc.calendar = cal
	return pc, nil
}

// when is a session's local start–end with its zone.
func when(start, end time.Time) string {
	var b strings.Builder
	b.WriteString(start.Format("Mon 2 Jan 2006, 15:04"))
	b.WriteString("–")
	if end.YearDay() != start.YearDay() || end.Year() != start.Year() {
		b.WriteString(end.Format("Mon 2 Jan 2006, "))
	}
	b.WriteString(end.Format("15:04 MST"))
	b.WriteString(" (" + start.Location().String() + ")")
	return b.String()
}
