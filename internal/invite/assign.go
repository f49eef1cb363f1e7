// Package invite assigns people to Q&A sessions and builds their calendar
// invitations.
//
// Assignment policy: each person gets at most one session, in their
// language, serving their zone or region when the session says whom it
// serves, starting within their working hours in their own zone, with a
// seat left. Among the sessions that fit, the earliest wins (then the
// lowest id), and people are taken in order of their directory id, so the
// same input always gives the same answer. A person already invited keeps
// their session as long as it exists and is not cancelled, even if it no
// longer fits (they were told; moving them is an update the organiser
// decides, not a side effect of adding people), and every seat already
// given counts against capacity, including seats of people who have since
// left the audience.
package invite

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Session is a Q&A session as assignment and invitations see it.
type Session struct {
	ID       string
	Title    string
	Start    time.Time // in the session's zone
	End      time.Time
	JoinURL  string
	Room     string
	Host     string
	Language string
	Capacity int
	// Zones and Regions restrict whom the session serves; both empty
	// serves everyone.
	Zones     []string
	Regions   []string
	Cancelled bool
}

// Person is what assignment needs to know of someone.
type Person struct {
	ID       string // the directory object id: the stable key
	Email    string
	Name     string
	Language string // a campaign locale such as en
	Region   string // usageLocation, e.g. FR
	Zone     *time.Location
	ZoneRule Rule
}

// Hours are working hours, as offsets from local midnight: a session fits
// a person when it starts at or after From and before To in their zone.
type Hours struct{ From, To time.Duration }

// DefaultHours are 08:00 to 18:00.
var DefaultHours = Hours{8 * time.Hour, 18 * time.Hour}

func (h Hours) String() string {
	f := func(d time.Duration) string { return fmt.Sprintf("%02d:%02d", int(d.Hours()), int(d.Minutes())%60) }
	return f(h.From) + "-" + f(h.To)
}

// Reason says why a person got no session.
type Reason string

// Reasons.
const (
	NoMail     Reason = "no mail address"
	NoLanguage Reason = "no session in their language"
	NotServed  Reason = "no session serves their zone or region"
	NoHours    Reason = "no session starts in their working hours"
	Full       Reason = "every session that fits is full"
)

// Leftover is a person who got no session.
type Leftover struct {
	Person *Person
	Reason Reason
	// Detail says it for this person: the language, zone or sessions.
	Detail string
}

// Result is an assignment.
type Result struct {
	// Session maps a person's id to their session's id: those kept from
	// before and those assigned now.
	Session map[string]string
	// Added lists the ids of people assigned by this run, in order.
	Added []string
	// Seats counts the seats taken per session id.
	Seats map[string]int
	// Left lists who got nothing, in order of id.
	Left []Leftover
}

// ZoneShortfall counts people in one zone left without a seat because the
// sessions that fit them are full.
type ZoneShortfall struct {
	Zone   string
	People int
}

// Shortfall lists, per zone, the seats missing: people who fit a session
// but found it full. Empty when capacity is enough.
func (r *Result) Shortfall() []ZoneShortfall {
	by := map[string]int{}
	for _, l := range r.Left {
		if l.Reason == Full {
			by[l.Person.Zone.String()]++
		}
	}
	out := make([]ZoneShortfall, 0, len(by))
	for z, n := range by {
		out = append(out, ZoneShortfall{z, n})
	}
	slices.SortFunc(out, func(a, b ZoneShortfall) int { return cmp.Compare(a.Zone, b.Zone) })
	return out
}

// Options are the rules of an assignment beyond the sessions themselves.
type Options struct {
	Hours Hours
	// Previous maps the ids of people already invited to their session.
	Previous map[string]string
	// Now, when set, closes sessions that start before it to new people
	// (those already invited keep their seat).
	Now time.Time
}

// Assign gives sessions to people. Neither people (in any order) nor
// o.Previous is changed.
func Assign(people []Person, sessions []Session, o Options) *Result {
	hours, previous := o.Hours, o.Previous
	if hours == (Hours{}) {
		hours = DefaultHours
	}
	r := &Result{Session: make(map[string]string, len(people)), Seats: map[string]int{}}
	byID := make(map[string]int, len(sessions))
	for i, s := range sessions {
		byID[s.ID] = i
	}
	// Seats already given stay given.
	for pid, sid := range previous {
		if i, ok := byID[sid]; ok && !sessions[i].Cancelled {
			r.Session[pid] = sid
			r.Seats[sid]++
		}
	}
	// Sessions in the order they are offered: earliest first.
	order := make([]int, 0, len(sessions))
	for i, s := range sessions {
		if !s.Cancelled && (o.Now.IsZero() || !s.Start.Before(o.Now)) {
			order = append(order, i)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if c := sessions[a].Start.Compare(sessions[b].Start); c != 0 {
			return c
		}
		return cmp.Compare(sessions[a].ID, sessions[b].ID)
	})

	idx := make([]int, len(people))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(people[a].ID, people[b].ID) })

	// People with the same language, zone and region fit the same
	// sessions: work that out once per group, and walk each group's list
	// forward as sessions fill (a full session never empties here).
	type key struct{ lang, zone, region string }
	type group struct {
		fits   []int // session indexes, earliest first
		next   int
		reason Reason
		detail string
	}
	groups := map[key]*group{}
	for n, i := range idx {
		p := &people[i]
		if n > 0 && people[idx[n-1]].ID == p.ID {
			continue // listed twice: the first counts
		}
		if _, ok := r.Session[p.ID]; ok {
			continue
		}
		if p.Email == "" {
			r.Left = append(r.Left, Leftover{p, NoMail, ""})
			continue
		}
		k := key{p.Language, p.Zone.String(), p.Region}
		g := groups[k]
		if g == nil {
			g = &group{}
			g.fits, g.reason, g.detail = fitting(p, sessions, order, hours)
			groups[k] = g
		}
		for g.next < len(g.fits) && r.Seats[sessions[g.fits[g.next]].ID] >= sessions[g.fits[g.next]].Capacity {
			g.next++
		}
		if g.next == len(g.fits) {
			if len(g.fits) == 0 {
				r.Left = append(r.Left, Leftover{p, g.reason, g.detail})
			} else {
				r.Left = append(r.Left, Leftover{p, Full, "full: " + sessionIDs(sessions, g.fits)})
			}
			continue
		}
		s := &sessions[g.fits[g.next]]
		r.Session[p.ID] = s.ID
		r.Seats[s.ID]++
		r.Added = append(r.Added, p.ID)
	}
	return r
}

// fitting lists the sessions (from order) that fit p but for capacity,
// or, when none does, why.
func fitting(p *Person, sessions []Session, order []int, hours Hours) ([]int, Reason, string) {
	var fits []int
	lang, served := false, false
	for _, i := range order {
		s := &sessions[i]
		if s.Language != p.Language {
			continue
		}
		lang = true
		if !serves(s, p) {
			continue
		}
		served = true
		if InHours(s.Start, p.Zone, hours) {
			fits = append(fits, i)
		}
	}
	switch {
	case len(fits) > 0:
		return fits, "", ""
	case !lang:
		return nil, NoLanguage, "language " + p.Language
	case !served:
		return nil, NotServed, fmt.Sprintf("zone %s, region %s", p.Zone, orNone(p.Region))
	default:
		return nil, NoHours, fmt.Sprintf("%s in %s", hours, p.Zone)
	}
}

// InHours reports whether start, seen in zone, falls in working hours.
func InHours(start time.Time, zone *time.Location, h Hours) bool {
	l := start.In(zone)
	at := time.Duration(l.Hour())*time.Hour + time.Duration(l.Minute())*time.Minute + time.Duration(l.Second())*time.Second
	return at >= h.From && at < h.To
}

func serves(s *Session, p *Person) bool {
	if len(s.Zones) == 0 && len(s.Regions) == 0 {
		return true
	}
	return slices.Contains(s.Zones, p.Zone.String()) || (p.Region != "" && slices.Contains(s.Regions, p.Region))
}

func sessionIDs(sessions []Session, list []int) string {
	ids := make([]string, len(list))
	for i, s := range list {
		ids[i] = sessions[s].ID
	}
	return strings.Join(ids, ", ")
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
