package guide

// Q&A sessions on the guide site, for people who were not invited (or
// lost their invitation). When the campaign has sessions, every audience's
// site in a language gets a page, sessions.html, listing the sessions held
// in that language that are neither cancelled nor over: the title, the
// time in the session's own zone (named, with its UTC offset), the host,
// the room, the join link (a link only when it is https) and an "Add to
// calendar" file. That file is a METHOD:PUBLISH calendar
// (<locale>/sessions/<id>.ics, shared by the language's audiences): an
// event without attendees, with the UID invite.Sender.Publish gives the
// session, which any calendar imports. The page's title and introduction
// come from guides/<locale>/sessions.md when there is one. Campaign values
// go through html/template, so markup in a title or a room is text.

import (
	"bytes"
	"cmp"
	"fmt"
	"html/template"
	"net/url"
	"slices"
	"time"

	"github.com/nudge-passkeys/nudge/internal/campaign"
	"github.com/nudge-passkeys/nudge/internal/ical"
	"github.com/nudge-passkeys/nudge/internal/invite"
	"github.com/nudge-passkeys/nudge/internal/render"
)

// SessionsPage is the name of the Q&A sessions page.
const SessionsPage = "sessions"

// CalendarFile is where the "add to calendar" file of session id lives,
// relative to the site's root.
func CalendarFile(locale, id string) string {
	return locale + "/sessions/" + id + ".ics"
}

// listed is a session the site lists, with its line in the campaign file.
type listed struct {
	invite.Session
	line int
}

// upcoming returns the sessions the site lists: not cancelled and not over
// at now (every one when now is zero), by start time then id.
func upcoming(c *campaign.Campaign, now time.Time) []listed {
	var out []listed
	for i, s := range invite.Sessions(c) {
		if s.Cancelled || !now.IsZero() && !s.End.After(now) {
			continue
		}
		out = append(out, listed{s, c.Sessions.List[i].Line})
	}
	slices.SortStableFunc(out, func(a, b listed) int {
		if d := a.Start.Compare(b.Start); d != 0 {
			return d
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

// calendarFiles adds the "add to calendar" file of every listed session
// to the site, under the session's language.
func calendarFiles(s *Site, c *campaign.Campaign, sessions []listed, stamp time.Time) error {
	sender := invite.Sender{
		Campaign:  c.ID,
		Organizer: ical.Address{Name: c.Sender.Name, Email: c.Sender.Address},
		Stamp:     stamp.UTC(),
	}
	for i := range sessions {
		ss := &sessions[i]
		if !slices.Contains(c.Defaults.Locales, ss.Language) {
			continue
		}
		// PUBLISH files have no ledger behind them: SEQUENCE 0, as the
		// files of nudge sessions --ics.
		b, err := sender.Publish(&ss.Session, 0).Marshal()
		if err != nil {
			return fmt.Errorf("%s:%d: session %q: add-to-calendar file: %w", c.File, ss.line, ss.ID, err)
		}
		s.Files[CalendarFile(ss.Language, ss.ID)] = b
	}
	return nil
}

// sessionView is one session as the page shows it.
type sessionView struct {
	ID, Title, Host, Room string
	When, DateTime, Zone  string
	JoinURL               string // https only, else empty
	Calendar              string // the .ics, relative to the page
}

var sessionsBody = template.Must(template.New("sessions").Parse(`{{ range .Sessions }}<section class="session" aria-labelledby="session-{{ .ID }}">
<h2 id="session-{{ .ID }}">{{ .Title }}</h2>
<dl>
<dt>{{ $.UI.When }}</dt>
<dd><time datetime="{{ .DateTime }}">{{ .When }}</time> {{ .Zone }}</dd>
{{ with .Host }}<dt>{{ $.UI.Host }}</dt>
<dd>{{ . }}</dd>
{{ end }}{{ with .Room }}<dt>{{ $.UI.Room }}</dt>
<dd>{{ . }}</dd>
{{ end }}{{ with .JoinURL }}<dt>{{ $.UI.Join }}</dt>
<dd><a href="{{ . }}">{{ . }}</a></dd>
{{ end }}</dl>
<p><a class="button" href="{{ .Calendar }}" download="{{ .ID }}.ics" type="text/calendar" aria-describedby="session-{{ .ID }}">{{ $.UI.AddToCalendar }}</a></p>
</section>
{{ else }}<p>{{ .UI.NoSessions }}</p>
{{ end }}`))

// sessionsPage renders the sessions page of locale's sites: the template
// src (the language of guides/<src>/sessions.md; "" when there is none)
// followed by the list of sessions in locale.
func sessionsPage(o Options, sessions []listed, src, locale, aud string, link func(string) (string, error)) (*render.Page, error) {
	var p *render.Page
	if src != "" {
		var err error
		if p, err = o.Engine.GuidePage(SessionsPage, src, render.Context{Audience: aud}, link); err != nil {
			return nil, err
		}
	} else {
		p = &render.Page{Name: SessionsPage, Locale: locale, File: "the Q&A sessions page", Title: wordsFor(locale).Sessions}
	}
	// The list speaks the page's language, which is the template's.
	w := wordsFor(p.Locale)
	var views []sessionView
	for _, s := range sessions {
		if s.Language != locale {
			continue
		}
		title := s.Title
		if title == "" {
			title = s.ID
		}
		views = append(views, sessionView{
			ID: s.ID, Title: title, Host: s.Host, Room: s.Room,
			When: w.when(s.Start, s.End), DateTime: s.Start.Format(time.RFC3339), Zone: zoneLabel(s.Start),
			JoinURL: httpsOnly(s.JoinURL), Calendar: "../sessions/" + s.ID + ".ics",
		})
	}
	var b bytes.Buffer
	b.Write(p.Body)
	if err := sessionsBody.Execute(&b, struct {
		Sessions []sessionView
		UI       ui
	}{views, w}); err != nil {
		return nil, err
	}
	q := *p
	q.Body = b.Bytes()
	return &q, nil
}

// httpsOnly returns u when it is an https URL with a host, else "".
func httpsOnly(u string) string {
	x, err := url.Parse(u)
	if err != nil || x.Scheme != "https" || x.Host == "" {
		return ""
	}
	return u
}

// zoneLabel names t's zone unambiguously: "CET (Europe/Paris, UTC+01:00)",
// or "(Asia/Kolkata, UTC+05:30)" where the zone has no abbreviation.
func zoneLabel(t time.Time) string {
	abbr, off := t.Zone()
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	label := fmt.Sprintf("(%s, UTC%c%02d:%02d)", t.Location(), sign, off/3600, off%3600/60)
	for _, r := range abbr {
		if r < 'A' || r > 'Z' {
			return label // "+0530": Go's name for a zone without an abbreviation
		}
	}
	return abbr + " " + label
}

// names of days and months, for the session times of the page.
var calendarNames = map[string]struct {
	days   [7]string
	months [12]string
	format func(day, month string, t time.Time) string
}{
	"en": {
		[7]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
		[12]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
		func(d, m string, t time.Time) string { return fmt.Sprintf("%s %d %s %d", d, t.Day(), m, t.Year()) },
	},
	"fr": {
		[7]string{"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"},
		[12]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"},
		func(d, m string, t time.Time) string {
			if t.Day() == 1 {
				return fmt.Sprintf("%s 1er %s %d", d, m, t.Year())
			}
			return fmt.Sprintf("%s %d %s %d", d, t.Day(), m, t.Year())
		},
	},
	"de": {
		[7]string{"Sonntag", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag"},
		[12]string{"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"},
		func(d, m string, t time.Time) string { return fmt.Sprintf("%s, %d. %s %d", d, t.Day(), m, t.Year()) },
	},
}

// when is a session's date and times in its own zone, in w's language:
// "Thursday 3 December 2026, 10:00–11:00".
func (w ui) when(start, end time.Time) string {
	end = end.In(start.Location())
	times := start.Format("15:04") + "–" + end.Format("15:04")
	n, ok := calendarNames[w.lang]
	if !ok {
		n = calendarNames["en"]
	}
	return n.format(n.days[start.Weekday()], n.months[start.Month()-1], start) + ", " + times
}
