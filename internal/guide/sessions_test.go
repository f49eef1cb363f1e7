package guide_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/nudge-passkeys/nudge/internal/guide"
	"github.com/nudge-passkeys/nudge/internal/ical/icaltest"
	"github.com/nudge-passkeys/nudge/internal/invite"
	"github.com/nudge-passkeys/nudge/internal/render"
	"github.com/nudge-passkeys/nudge/templates"
)

// hostileTitle is a session title with markup, a Markdown link and
// characters iCalendar escapes: it must come out as text everywhere.
const hostileTitle = `<img src=x onerror=alert(1)> [win](https://evil.example); Q&A, "live"`

const sessionsYAML = campaignYAML + `
sessions:
  list:
    - id: s1
      title: '` + hostileTitle + `'
      start: "2026-12-03T10:00"
      zone: Europe/Paris
      duration: 45m
      join_url: https://teams.microsoft.com/l/meetup-join/s1?a=1&b=2
      host: ann.host@contoso.example
      language: en
      capacity: 10
    - id: s2
      title: Questions sur les clés d'accès
      start: "2026-03-29T01:30"
      zone: Europe/Paris
      room: "<b>Salle</b> 4.12"
      language: fr
      capacity: 10
    - {id: s3, title: Cancelled, start: "2026-12-04T10:00", zone: America/New_York, room: R1, language: en, capacity: 5, cancelled: true}
    - {id: s4, title: Over, start: "2026-01-05T10:00", zone: America/New_York, room: R1, language: en, capacity: 5}
    - {id: s5, title: Lord Howe, start: "2026-10-04T09:00", zone: Australia/Lord_Howe, room: Sydney, language: de, capacity: 5}
    - {id: s6, title: Kolkata, start: "2026-12-01T09:00", zone: Asia/Kolkata, join_url: "https://zoom.example/j/6", language: en, capacity: 5}
`

// sessionsNow is when the sessions site is built: s4 is over.
var sessionsNow = time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC)

func buildSessions(t *testing.T) (*guide.Site, []invite.Session) {
	t.Helper()
	c := parseCampaign(t, sessionsYAML)
	s, err := guide.Build(guide.Options{FS: templates.FS, Root: "templates", Campaign: c, Engine: render.New(templates.FS, "templates", c), Now: sessionsNow})
	if err != nil {
		t.Fatal(err)
	}
	return s, invite.Sessions(c)
}

// TestSessionsPage: every language's sites list the sessions in that
// language still to come, each with its time in its own zone, its host,
// its https join link and an "Add to calendar" link to a file the site
// has; cancelled and past sessions are left out, campaign values are
// text, and every page passes the reader's checks.
func TestSessionsPage(t *testing.T) {
	s, _ := buildSessions(t)
	for _, l := range []string{"en", "fr", "de"} {
		for _, a := range []string{"ready", "onboard", "admins"} {
			file := l + "/" + a + "/sessions.html"
			if _, ok := s.Files[file]; !ok {
				t.Fatalf("no %s", file)
			}
			// The navigation of every page links the sessions page.
			if !bytes.Contains(s.Files[l+"/"+a+"/index.html"], []byte(`href="sessions.html"`)) {
				t.Errorf("%s/%s/index.html does not link sessions.html", l, a)
			}
		}
	}
	for _, file := range s.Paths() {
		if strings.HasSuffix(file, ".html") {
			t.Run(file, func(t *testing.T) { checkStructure(t, s, file) })
		}
	}
	var ics []string
	for _, f := range s.Paths() {
		if strings.HasSuffix(f, ".ics") {
			ics = append(ics, f)
		}
	}
	if got, want := strings.Join(ics, " "), "de/sessions/s5.ics en/sessions/s1.ics en/sessions/s6.ics fr/sessions/s2.ics"; got != want {
		t.Errorf("calendar files = %s, want %s", got, want)
	}

	en := string(s.Files["en/ready/sessions.html"])
	doc, err := html.Parse(strings.NewReader(en))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(textOf(doc)), " ")
	for _, want := range []string{
		hostileTitle,
		"Thursday 3 December 2026, 10:00–10:45 CET (Europe/Paris, UTC+01:00)",
		"Tuesday 1 December 2026, 09:00–10:00 IST (Asia/Kolkata, UTC+05:30)",
		"Host ann.host@contoso.example",
		"Bring your questions about passkeys", // the template's introduction
	} {
		if !strings.Contains(text, want) {
			t.Errorf("en/ready/sessions.html does not show %q:\n%s", want, text)
		}
	}
	for _, bad := range []string{"<img", `href="https://evil`, "Cancelled", "Over", "Salle", "Lord Howe"} {
		if strings.Contains(en, bad) {
			t.Errorf("en/ready/sessions.html has %q", bad)
		}
	}
	for _, want := range []string{
		`href="https://teams.microsoft.com/l/meetup-join/s1?a=1&amp;b=2"`,
		`href="../sessions/s1.ics"`, `href="../sessions/s6.ics"`,
		`<time datetime="2026-12-03T10:00:00&#43;01:00">`,
	} {
		if !strings.Contains(en, want) {
			t.Errorf("en/ready/sessions.html lacks %s", want)
		}
	}
	// s6 (1 December) comes before s1 (3 December): by start time.
	if strings.Index(en, "s6.ics") > strings.Index(en, "s1.ics") {
		t.Error("sessions are not in order of start time")
	}

	// The night the clocks go forward in Paris: 01:30 CET plus an hour
	// is 03:30 CEST. On Lord Howe Island, summer time is half an hour.
	for file, wants := range map[string][]string{
		"fr/ready/sessions.html":  {"dimanche 29 mars 2026, 01:30–03:30 CET (Europe/Paris, UTC+01:00)", "Salle <b>Salle</b> 4.12", "Ajouter à mon agenda"},
		"de/admins/sessions.html": {"Sonntag, 4. Oktober 2026, 09:00–10:00 (Australia/Lord_Howe, UTC+11:00)", "Raum Sydney"},
	} {
		doc, err := html.Parse(bytes.NewReader(s.Files[file]))
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Join(strings.Fields(textOf(doc)), " ")
		for _, want := range wants {
			if !strings.Contains(text, want) {
				t.Errorf("%s does not show %q:\n%s", file, want, text)
			}
		}
	}
	if bytes.Contains(s.Files["fr/ready/sessions.html"], []byte("<b>")) {
		t.Error("the room's markup became markup")
	}
}

// TestSessionsCalendarFiles: ical.js reads every "add to calendar" file
// as one published event with the session's instants (computed by Go),
// its UID for published events, the organiser and no attendee, and the
// hostile title as its summary, as written.
func TestSessionsCalendarFiles(t *testing.T) {
	s, sessions := buildSessions(t)
	byID := map[string]invite.Session{}
	for _, ss := range sessions {
		byID[ss.ID] = ss
	}
	files := []string{"en/sessions/s1.ics", "fr/sessions/s2.ics", "de/sessions/s5.ics", "en/sessions/s6.ics"}
	var cals [][]byte
	for _, f := range files {
		cals = append(cals, s.Files[f])
	}
	got := icaltest.Judge(t, cals...)
	for i, f := range files {
		id := strings.TrimSuffix(f[strings.LastIndexByte(f, '/')+1:], ".ics")
		ss := byID[id]
		c := got[i]
		if c.Method != "PUBLISH" || len(c.Events) != 1 {
			t.Errorf("%s: METHOD %q with %d events, want PUBLISH with 1", f, c.Method, len(c.Events))
			continue
		}
		e := c.Events[0]
		if e.Start != ss.Start.Unix() || e.End != ss.End.Unix() {
			t.Errorf("%s: ical.js reads %s–%s, Go says %s–%s", f, time.Unix(e.Start, 0).UTC(), time.Unix(e.End, 0).UTC(), ss.Start.UTC(), ss.End.UTC())
		}
		if e.StartZone != ss.Start.Location().String() {
			t.Errorf("%s: start zone %q, want %q", f, e.StartZone, ss.Start.Location())
		}
		if want := invite.UID("test", id, "", "contoso.example"); e.UID != want || e.Sequence != 0 {
			t.Errorf("%s: UID %s SEQUENCE %d, want %s 0", f, e.UID, e.Sequence, want)
		}
		if len(e.Attendees) != 0 {
			t.Errorf("%s: attendees %v in an add-to-calendar file", f, e.Attendees)
		}
		if len(e.Organizer) != 1 || !strings.EqualFold(e.Organizer[0].Value, "mailto:it-security@contoso.example") {
			t.Errorf("%s: organizer %v", f, e.Organizer)
		}
		if e.Stamp != sessionsNow.Unix() {
			t.Errorf("%s: DTSTAMP %d, want the build's clock %d", f, e.Stamp, sessionsNow.Unix())
		}
		if e.Summary != ss.Title {
			t.Errorf("%s: SUMMARY %q, want %q", f, e.Summary, ss.Title)
		}
	}
}

// TestNoSessionsNoPage: a campaign without sessions has no sessions page
// and no calendar files, though the shipped templates have sessions.md.
func TestNoSessionsNoPage(t *testing.T) {
	s := build(t, templates.FS, parseCampaign(t, campaignYAML))
	for _, f := range s.Paths() {
		if strings.Contains(f, "sessions") {
			t.Errorf("%s built for a campaign without sessions", f)
		}
	}
	for _, p := range s.Pages {
		if p == guide.SessionsPage {
			t.Errorf("pages %q list the sessions page", s.Pages)
		}
	}
}
