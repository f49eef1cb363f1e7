package invite

import "github.com/nudge-passkeys/nudge/internal/render"

// View is what the email carrying a shows of its session: times in the
// person's zone, and whether it is an update (a change, or a return to a
// session they were taken out of) or a cancellation.
func (a Action) View() *render.Session {
	s := a.Session
	return &render.Session{
		ID: s.ID, Title: s.Title, JoinURL: s.JoinURL, Room: s.Room, Host: s.Host,
		Start: s.Start.In(a.Person.Zone), End: s.End.In(a.Person.Zone),
		Updated: a.Kind == Update || a.Kind == Invite && a.Sequence > 0, Cancelled: a.Kind == Cancel,
	}
}
