package ical

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/nudge-passkeys/nudge/internal/ical/icaltest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var stamp = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func zone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func request(start time.Time, d time.Duration, attendee string) *Calendar {
	return &Calendar{Method: Request, Events: []Event{{
		UID:         "qa-s1-u1@nudge.contoso.example",
		Sequence:    2,
		Stamp:       stamp,
		Start:       start,
		End:         start.Add(d),
		Summary:     "Passkeys: questions & answers",
		Description: "Join: https://teams.example/l/meetup-join/1\nBring your phone.",
		Location:    "Microsoft Teams",
		URL:         "https://teams.example/l/meetup-join/1",
		Organizer:   Address{"IT Security", "it-security@contoso.example"},
		Attendees:   []Attendee{{Address{attendee, "ann@contoso.example"}, true}},
	}}}
}

func marshal(t testing.TB, c *Calendar) []byte {
	t.Helper()
	b, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestInstantsAgreeWithICALJS writes events in the zones the issue names,
// on dates either side of their DST changes (Lord Howe's is 30 minutes),
// and checks that ical.js, reading only the file's VTIMEZONE, puts them
// at the instants Go computes.
func TestInstantsAgreeWithICALJS(t *testing.T) {
	type tc struct {
		zone  string
		local string // 2006-01-02 15:04
	}
	cases := []tc{
		{"Europe/Paris", "2026-01-15 09:00"},
		{"Europe/Paris", "2026-03-29 01:30"}, // before spring forward
		{"Europe/Paris", "2026-03-29 03:30"}, // after
		{"Europe/Paris", "2026-10-25 04:00"},
		{"Europe/Paris", "2026-12-03 15:00"},
		{"America/New_York", "2026-03-08 01:00"},
		{"America/New_York", "2026-03-08 03:30"},
		{"America/New_York", "2026-07-01 12:00"},
		{"America/New_York", "2026-11-01 03:00"},
		{"America/New_York", "2026-12-31 23:30"},
		{"Asia/Kolkata", "2026-06-21 09:30"},
		{"Asia/Kolkata", "2027-01-02 17:00"},
		{"Australia/Lord_Howe", "2026-04-05 01:00"}, // DST, +11
		{"Australia/Lord_Howe", "2026-04-05 02:30"}, // standard, +10:30
		{"Australia/Lord_Howe", "2026-07-01 10:00"},
		{"Australia/Lord_Howe", "2026-10-04 01:59"},
		{"Australia/Lord_Howe", "2026-10-04 02:30"}, // DST again
		{"Australia/Lord_Howe", "2026-12-03 10:00"},
		{"UTC", "2026-12-03 10:00"},
	}
	var cals [][]byte
	var starts []time.Time
	for _, c := range cases {
		s, err := time.ParseInLocation("2006-01-02 15:04", c.local, zone(t, c.zone))
		if err != nil {
			t.Fatal(err)
		}
		starts = append(starts, s)
		// 45 minutes, so some cross the change.
		cals = append(cals, marshal(t, request(s, 45*time.Minute, "Ann")))
	}
	got := icaltest.Judge(t, cals...)
	for i, c := range cases {
		name := c.zone + " " + c.local
		ev := got[i].Events
		if len(ev) != 1 {
			t.Errorf("%s: %d events", name, len(ev))
			continue
		}
		if ev[0].Start != starts[i].Unix() {
			t.Errorf("%s: ical.js start %s, Go %s", name, time.Unix(ev[0].Start, 0).UTC(), starts[i].UTC())
		}
		if want := starts[i].Add(45 * time.Minute).Unix(); ev[0].End != want {
			t.Errorf("%s: ical.js end %s, Go %s", name, time.Unix(ev[0].End, 0).UTC(), time.Unix(want, 0).UTC())
		}
		if c.zone != "UTC" && ev[0].StartZone != c.zone {
			t.Errorf("%s: ical.js read DTSTART in zone %q, not the VTIMEZONE %s", name, ev[0].StartZone, c.zone)
		}
	}
}

// TestSchedulingPropertiesAgreeWithICALJS checks what iTIP clients act on.
func TestSchedulingPropertiesAgreeWithICALJS(t *testing.T) {
	start := time.Date(2026, 12, 3, 15, 0, 0, 0, zone(t, "Europe/Paris"))
	req := request(start, time.Hour, "Ann Smith")
	cancel := request(start, time.Hour, "Ann Smith")
	cancel.Method, cancel.Events[0].Sequence = Cancel, 3
	pub := request(start, time.Hour, "")
	pub.Method, pub.Events[0].Attendees = Publish, nil
	got := icaltest.Judge(t, marshal(t, req), marshal(t, cancel), marshal(t, pub))
	for i, want := range []struct {
		method, status string
		seq, attendees int
		partstat       string
	}{
		{"REQUEST", "CONFIRMED", 2, 1, "NEEDS-ACTION"},
		{"CANCEL", "CANCELLED", 3, 1, ""},
		{"PUBLISH", "CONFIRMED", 2, 0, ""},
	} {
		g := got[i]
		if g.Method != want.method {
			t.Errorf("METHOD = %q, want %q", g.Method, want.method)
		}
		e := g.Events[0]
		if e.UID != "qa-s1-u1@nudge.contoso.example" || e.Sequence != want.seq || e.Status != want.status {
			t.Errorf("%s: UID %q SEQUENCE %d STATUS %s", want.method, e.UID, e.Sequence, e.Status)
		}
		if e.Stamp != stamp.Unix() {
			t.Errorf("%s: DTSTAMP %d, want %d", want.method, e.Stamp, stamp.Unix())
		}
		if len(e.Organizer) != 1 || e.Organizer[0].Value != "mailto:it-security@contoso.example" || e.Organizer[0].Params["cn"] != "IT Security" {
			t.Errorf("%s: ORGANIZER %+v", want.method, e.Organizer)
		}
		if len(e.Attendees) != want.attendees {
			t.Fatalf("%s: %d attendees, want %d", want.method, len(e.Attendees), want.attendees)
		}
		if want.attendees == 1 {
			a := e.Attendees[0]
			if a.Value != "mailto:ann@contoso.example" || a.Params["cn"] != "Ann Smith" || a.Params["rsvp"] != "TRUE" || a.Params["partstat"] != want.partstat {
				t.Errorf("%s: ATTENDEE %+v", want.method, a)
			}
		}
		if e.Description != "Join: https://teams.example/l/meetup-join/1\nBring your phone." || e.Summary != "Passkeys: questions & answers" {
			t.Errorf("%s: SUMMARY %q DESCRIPTION %q", want.method, e.Summary, e.Description)
		}
	}
}

type hostile struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
}

func hostileNames(t *testing.T) []hostile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "hostile-names.json"))
	if err != nil {
		t.Fatal(err)
	}
	var hs []hostile
	if err := json.Unmarshal(b, &hs); err != nil {
		t.Fatal(err)
	}
	return append(hs,
		hostile{"cr-only", "Ann\rATTENDEE:mailto:x@evil.example"},
		hostile{"fold-trick", "Ann\r\n ATTENDEE:mailto:x@evil.example"},
		hostile{"quote-break", "Ann\":mailto:x@evil.example;CN=\"x"},
		hostile{"caret", "Ann^n^'^^"},
		hostile{"end-vevent", "Ann\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil"},
		hostile{"nul", "Ann\x00Bob"},
	)
}

// TestHostileNamesAddNothing puts every hostile directory value in the
// attendee's name, the summary and the description, and checks with
// ical.js that the calendar still has exactly the same properties, one
// attendee, and the values as text.
func TestHostileNamesAddNothing(t *testing.T) {
	start := time.Date(2026, 12, 3, 15, 0, 0, 0, zone(t, "Europe/Paris"))
	hs := hostileNames(t)
	var cals [][]byte
	for _, h := range hs {
		c := request(start, time.Hour, h.DisplayName)
		c.Events[0].Summary = h.DisplayName
		c.Events[0].Description = h.DisplayName
		c.Events[0].Organizer.Name = h.DisplayName
		b := marshal(t, c)
		checkLines(t, h.ID, b)
		cals = append(cals, b)
	}
	base := icaltest.Judge(t, marshal(t, request(start, time.Hour, "Ann")))[0]
	got := icaltest.Judge(t, cals...)
	for i, h := range hs {
		g := got[i]
		if !slices.Equal(g.Properties, base.Properties) || !slices.Equal(g.Components, base.Components) || len(g.Events) != 1 {
			t.Errorf("%s: calendar has properties %v components %v, want %v %v", h.ID, g.Properties, g.Components, base.Properties, base.Components)
			continue
		}
		e := g.Events[0]
		if !slices.Equal(e.Properties, base.Events[0].Properties) {
			t.Errorf("%s: event properties %v, want %v", h.ID, e.Properties, base.Events[0].Properties)
		}
		if len(e.Attendees) != 1 || e.Attendees[0].Value != "mailto:ann@contoso.example" || e.Attendees[0].Params["rsvp"] != "TRUE" {
			t.Errorf("%s: attendees %+v", h.ID, e.Attendees)
		}
		if len(e.Organizer) != 1 || e.Organizer[0].Value != "mailto:it-security@contoso.example" {
			t.Errorf("%s: organizer %+v", h.ID, e.Organizer)
		}
		// A name is one line of text: control characters and runs of
		// spaces become one space; everything else is kept literally.
		wantName := strings.Join(strings.FieldsFunc(h.DisplayName, isControlOrSpace), " ")
		if wantName != "" && (len(e.Attendees) != 1 || e.Attendees[0].Params["cn"] != wantName) {
			t.Errorf("%s: CN read back as %q, want %q", h.ID, e.Attendees[0].Params["cn"], wantName)
		}
		if want := textAsRead(h.DisplayName); e.Summary != want {
			t.Errorf("%s: SUMMARY read back as %q, want %q", h.ID, e.Summary, want)
		}
	}
}

// textAsRead is what a TEXT value reads back as: line breaks as \n, other
// control characters as spaces.
func textAsRead(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.Map(func(r rune) rune {
		if r != '\n' && r != '\t' && isControl(r) {
			return ' '
		}
		return r
	}, s)
}

// checkLines checks the layout of a calendar without a parser: CRLF after
// every line and nowhere else, at most 75 octets a line, whole UTF-8
// characters on every line, and no property other than the writer's own.
func checkLines(t *testing.T, name string, b []byte) {
	t.Helper()
	if !bytes.HasSuffix(b, []byte("\r\n")) {
		t.Errorf("%s: does not end in CRLF", name)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\r\n"), "\r\n")
	allowed := []string{"BEGIN", "END", "VERSION", "PRODID", "CALSCALE", "METHOD", "TZID", "DTSTART", "RRULE", "TZOFFSETFROM", "TZOFFSETTO", "TZNAME",
		"UID", "SEQUENCE", "DTSTAMP", "DTEND", "SUMMARY", "DESCRIPTION", "LOCATION", "URL", "ORGANIZER", "ATTENDEE", "STATUS", "TRANSP"}
	attendees := 0
	for i, l := range lines {
		if strings.ContainsAny(l, "\r\n") {
			t.Errorf("%s: line %d holds a bare CR or LF: %q", name, i+1, l)
		}
		if len(l) > 75 {
			t.Errorf("%s: line %d is %d octets: %q", name, i+1, len(l), l)
		}
		if !utf8.ValidString(l) {
			t.Errorf("%s: line %d splits a UTF-8 character: %q", name, i+1, l)
		}
		if strings.HasPrefix(l, " ") {
			continue
		}
		prop, _, _ := strings.Cut(l, ":")
		prop, _, _ = strings.Cut(prop, ";")
		if !slices.Contains(allowed, prop) {
			t.Errorf("%s: line %d starts an unexpected property %q", name, i+1, prop)
		}
		if prop == "ATTENDEE" {
			attendees++
		}
	}
	if attendees > 1 {
		t.Errorf("%s: %d ATTENDEE lines", name, attendees)
	}
}

func TestFolding(t *testing.T) {
	for _, name := range []string{
		strings.Repeat("山田太郎", 40),
		strings.Repeat("Zoë 👩‍💻 ", 30),
		strings.Repeat("x", 74) + "é" + strings.Repeat("y", 200),
		strings.Repeat("a", 73) + "👩" + strings.Repeat("b", 73) + "👩",
		strings.Repeat("مريم العلي ", 25),
	} {
		start := time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC)
		c := request(start, time.Hour, name)
		c.Events[0].Summary = name
		b := marshal(t, c)
		checkLines(t, name[:8], b)
		// Unfolding gives back the whole value.
		unfolded := strings.ReplaceAll(string(b), "\r\n ", "")
		if !strings.Contains(unfolded, "\r\nSUMMARY:"+text(name)+"\r\n") {
			t.Errorf("%.12s…: SUMMARY does not unfold to the value", name)
		}
		if !strings.Contains(unfolded, `;CN="`+name+`"`) && !strings.Contains(unfolded, `;CN="`+strings.TrimSpace(name)+`"`) {
			t.Errorf("%.12s…: CN does not unfold to the name", name)
		}
	}
}

func TestText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain", "plain"},
		{`a\b`, `a\\b`},
		{"a;b,c", `a\;b\,c`},
		{"a:b", "a:b"},
		{"l1\r\nl2\nl3\rl4", `l1\nl2\nl3\nl4`},
		{"tab\there", "tab\there"},
		{"nul\x00bell\x07del\x7f", "nul bell del "},
		{`\n`, `\\n`},
	} {
		if got := text(c.in); got != c.want {
			t.Errorf("text(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestCN(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Ann Smith", `;CN="Ann Smith"`},
		{"", ""},
		{"   ", ""},
		{"Ann;RSVP=FALSE:mailto:x@evil.example", `;CN="Ann;RSVP=FALSE:mailto:x@evil.example"`},
		{"O'Brien \"Ned\"", `;CN="O'Brien ^'Ned^'"`},
		{"a^b", `;CN="a^^b"`},
		{"Ann\r\nBcc:  x", `;CN="Ann Bcc: x"`},
	} {
		if got := cn(c.in); got != c.want {
			t.Errorf("cn(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestRejects(t *testing.T) {
	start := time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		edit func(*Calendar)
		want string
	}{
		{"attendee with a name", func(c *Calendar) { c.Events[0].Attendees[0].Email = "Ann <ann@contoso.example>" }, "attendee"},
		{"attendee with CRLF", func(c *Calendar) {
			c.Events[0].Attendees[0].Email = "ann@contoso.example\r\nATTENDEE:mailto:x@evil.example"
		}, "attendee"},
		{"attendee with params", func(c *Calendar) { c.Events[0].Attendees[0].Email = "ann;RSVP=FALSE@contoso.example" }, "attendee"},
		{"organizer quoted local part", func(c *Calendar) { c.Events[0].Organizer.Email = `"a:b"@contoso.example` }, "organizer"},
		{"no organizer on a request", func(c *Calendar) { c.Events[0].Organizer = Address{} }, "needs an organizer"},
		{"no UID", func(c *Calendar) { c.Events[0].UID = "" }, "no UID"},
		{"UID with CRLF", func(c *Calendar) { c.Events[0].UID = "a\r\nATTENDEE:mailto:x@evil.example" }, "no UID"},
		{"ends before it starts", func(c *Calendar) { c.Events[0].End = start.Add(-time.Minute) }, "before start"},
		{"unknown method", func(c *Calendar) { c.Method = "REFRESH\r\nX" }, "unknown method"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cal := request(start, time.Hour, "Ann")
			c.edit(cal)
			var b bytes.Buffer
			n, err := cal.WriteTo(&b)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one containing %q", err, c.want)
			}
			if n != 0 || b.Len() != 0 {
				t.Errorf("wrote %d bytes of a rejected calendar", b.Len())
			}
		})
	}
}

// TestTimezoneRules checks the VTIMEZONE's rules against the zones' known
// ones, and the fallback to explicit changes where no yearly rule holds.
func TestTimezoneRules(t *testing.T) {
	for _, c := range []struct {
		zone     string
		from, to int
		want     []string // DTSTART and RRULE lines, in order
	}{
		{"Europe/Paris", 2026, 2026, []string{
			"DTSTART:20251026T030000", "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
			"DTSTART:20260329T020000", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU"}},
		{"America/New_York", 2026, 2027, []string{
			"DTSTART:20251102T020000", "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU",
			"DTSTART:20260308T020000", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU"}},
		// Half an hour of daylight saving, first Sundays of April and
		// October.
		{"Australia/Lord_Howe", 2026, 2026, []string{
			"DTSTART:20260405T020000", "RRULE:FREQ=YEARLY;BYMONTH=4;BYDAY=1SU",
			"DTSTART:20251005T020000", "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=1SU"}},
		{"Asia/Kolkata", 2026, 2026, []string{"DTSTART:19451015T000000"}},
		{"UTC", 2026, 2026, []string{"DTSTART:19700101T000000"}},
		// Ramadan moves Morocco's clocks on no weekday rule: every change
		// is written as it is.
		{"Africa/Casablanca", 2026, 2026, []string{"DTSTART:20250406T020000", "DTSTART:20260215T030000", "DTSTART:20260322T020000"}},
	} {
		t.Run(fmt.Sprint(c.zone, c.from, c.to), func(t *testing.T) {
			var b bytes.Buffer
			writeTimezone(&lineWriter{w: &b}, zone(t, c.zone), c.from, c.to)
			var got []string
			for l := range strings.SplitSeq(b.String(), "\r\n") {
				if strings.HasPrefix(l, "DTSTART:") || strings.HasPrefix(l, "RRULE:") {
					got = append(got, l)
				}
			}
			if d := cmp.Diff(c.want, got); d != "" {
				t.Errorf("(-want +got):\n%s\n%s", d, b.String())
			}
		})
	}
}

// TestInstantsAllYear has ical.js place an event at 10:00 and one at 02:30
// local time every few days of 2026 and 2027 in zones with and without
// yearly rules, and compares each with Go.
func TestInstantsAllYear(t *testing.T) {
	zones := []string{"Europe/Paris", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Africa/Casablanca", "Europe/Dublin", "America/Santiago"}
	var cals [][]byte
	var want [][]time.Time
	for _, z := range zones {
		loc := zone(t, z)
		c := &Calendar{Method: Publish}
		var starts []time.Time
		for d := time.Date(2026, 1, 1, 0, 0, 0, 0, loc); d.Year() < 2028; d = d.AddDate(0, 0, 3) {
			for _, h := range []time.Duration{10 * time.Hour, 2*time.Hour + 30*time.Minute} {
				s := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc).Add(h)
				starts = append(starts, s)
				c.Events = append(c.Events, Event{UID: fmt.Sprintf("e%d@x", len(c.Events)), Stamp: stamp, Start: s, End: s.Add(time.Hour), Organizer: Address{Email: "it@contoso.example"}})
			}
		}
		cals = append(cals, marshal(t, c))
		want = append(want, starts)
	}
	for i, got := range icaltest.Judge(t, cals...) {
		if len(got.Events) != len(want[i]) {
			t.Fatalf("%s: %d events, want %d", zones[i], len(got.Events), len(want[i]))
		}
		bad := 0
		for j, e := range got.Events {
			if e.Start != want[i][j].Unix() || e.End != want[i][j].Add(time.Hour).Unix() {
				bad++
				if bad <= 3 {
					t.Errorf("%s: %s: ical.js says %s", zones[i], want[i][j], time.Unix(e.Start, 0).In(want[i][j].Location()))
				}
			}
		}
	}
}

// TestGolden keeps a few whole invites under testdata, so that a change
// in what clients receive shows in review. go test -run Golden -update
// rewrites them.
func TestGolden(t *testing.T) {
	paris := time.Date(2026, 12, 3, 15, 0, 0, 0, zone(t, "Europe/Paris"))
	ny := time.Date(2026, 12, 3, 9, 30, 0, 0, zone(t, "America/New_York"))
	lh := time.Date(2026, 12, 4, 10, 0, 0, 0, zone(t, "Australia/Lord_Howe"))
	cancel := request(ny, 45*time.Minute, "Ann Smith")
	cancel.Method, cancel.Events[0].Sequence = Cancel, 3
	pub := request(lh, time.Hour, "")
	pub.Method, pub.Events[0].Attendees = Publish, nil
	for _, c := range []struct {
		file string
		cal  *Calendar
	}{
		{"request-paris.ics", request(paris, time.Hour, "Amélie Garçon; \"Ops\"")},
		{"cancel-new-york.ics", cancel},
		{"publish-lord-howe.ics", pub},
	} {
		got := marshal(t, c.cal)
		file := filepath.Join("testdata", c.file)
		if *update {
			if err := os.WriteFile(file, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("%v (run go test -run Golden -update)", err)
		}
		if d := cmp.Diff(string(want), string(got)); d != "" {
			t.Errorf("%s differs (-want +got):\n%s", c.file, d)
		}
	}
}

func BenchmarkCalendar(b *testing.B) {
	start := time.Date(2026, 12, 3, 15, 0, 0, 0, zone(b, "Europe/Paris"))
	c := request(start, time.Hour, "Amélie Garçon")
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if _, err := c.WriteTo(&buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calendars/s")
}

func TestAmbiguous(t *testing.T) {
	lh, paris := zone(t, "Australia/Lord_Howe"), zone(t, "Europe/Paris")
	for _, c := range []struct {
		t    time.Time
		want bool
	}{
		{time.Date(2026, 4, 4, 14, 45, 0, 0, time.UTC).In(lh), true},  // 01:45 +11, again at +10:30
		{time.Date(2026, 4, 4, 15, 15, 0, 0, time.UTC).In(lh), true},  // 01:45 +10:30
		{time.Date(2026, 4, 4, 14, 15, 0, 0, time.UTC).In(lh), false}, // 01:15 +11
		{time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC).In(paris), true},
		{time.Date(2026, 10, 25, 2, 0, 0, 0, time.UTC).In(paris), false}, // 03:00 CET
		{time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC).In(paris), false},
		{time.Date(2026, 12, 3, 15, 0, 0, 0, paris), false},
	} {
		if got := ambiguous(c.t); got != c.want {
			t.Errorf("ambiguous(%s) = %v, want %v", c.t, got, c.want)
		}
	}
}
