package invite

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/nudge-passkeys/nudge/internal/campaign"
	"github.com/nudge-passkeys/nudge/internal/deliver"
	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/ical"
)

var sender = Sender{
	Campaign:  "passkeys-2026",
	Organizer: ical.Address{Name: "IT Security", Email: "it-security@contoso.example"},
	Stamp:     time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC),
}

func TestUID(t *testing.T) {
	a := UID("c", "s1", "p1", "contoso.example")
	if a != UID("c", "s1", "p1", "contoso.example") {
		t.Error("UID is not stable")
	}
	seen := map[string]bool{a: true}
	for _, other := range [][3]string{{"c", "s1", "p2"}, {"c", "s2", "p1"}, {"d", "s1", "p1"}, {"c", "s1p", "1"}, {"c", "s1", ""}} {
		u := UID(other[0], other[1], other[2], "contoso.example")
		if seen[u] {
			t.Errorf("UID%v collides", other)
		}
		seen[u] = true
	}
	if !strings.HasSuffix(a, "@contoso.example") || strings.ContainsAny(a, " ;:,\r\n") {
		t.Errorf("UID %q", a)
	}
}

func lines(t *testing.T, c *ical.Calendar) string {
	t.Helper()
	b, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b), "\r\n ", "")
}

func TestInvitations(t *testing.T) {
	s := session(t, "s1", "fr", "Europe/Paris", "2026-12-03 15:00")
	s.Room = "Bâtiment 4, salle 12"
	p := person(t, "u1", "fr", "Europe/Paris", "FR")
	p.Name = "Amélie Garçon"

	req := lines(t, sender.Request(&s, &p, 0))
	upd := lines(t, sender.Request(&s, &p, 1))
	cancel := lines(t, sender.Cancel(&s, &p, 2))
	pub := lines(t, sender.Publish(&s, 0))
	uid := "UID:" + UID("passkeys-2026", "s1", "u1", "contoso.example") + "\r\n"
	for _, c := range []struct {
		name, ics string
		want      []string
		not       []string
	}{
		{"request", req, []string{"METHOD:REQUEST\r\n", uid, "SEQUENCE:0\r\n", "DTSTART;TZID=Europe/Paris:20261203T150000\r\n", "DTEND;TZID=Europe/Paris:20261203T160000\r\n",
			`ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN="Amélie Garçon":mailto:u1@contoso.example` + "\r\n",
			`ORGANIZER;CN="IT Security":mailto:it-security@contoso.example` + "\r\n", `LOCATION:Bâtiment 4\, salle 12` + "\r\n",
			`DESCRIPTION:Join: https://teams.example/j/s1\nRoom: Bâtiment 4\, salle 12` + "\r\n", "BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\n", "STATUS:CONFIRMED\r\n"}, nil},
		{"update", upd, []string{uid, "SEQUENCE:1\r\n"}, nil},
		{"cancel", cancel, []string{"METHOD:CANCEL\r\n", uid, "SEQUENCE:2\r\n", "STATUS:CANCELLED\r\n", "RSVP=FALSE"}, []string{"PARTSTAT"}},
		{"publish", pub, []string{"METHOD:PUBLISH\r\n", "UID:" + UID("passkeys-2026", "s1", "", "contoso.example") + "\r\n"}, []string{"ATTENDEE", uid}},
	} {
		for _, w := range c.want {
			if !strings.Contains(c.ics, w) {
				t.Errorf("%s: no %q in\n%s", c.name, w, c.ics)
			}
		}
		for _, w := range c.not {
			if strings.Contains(c.ics, w) {
				t.Errorf("%s: has %q", c.name, w)
			}
		}
	}
}

func TestResolveZone(t *testing.T) {
	c, err := campaign.Parse("campaign.yaml", []byte(`campaign: c
organisation: {name: Contoso}
sender: {address: it@contoso.example}
defaults: {time_zone: Europe/London, locales: [en, fr], locale: en}
audiences: [{name: a, where: "true"}]
sessions:
  usage_locations: {FR: Europe/Paris, in: Asia/Kolkata}
  office_locations: {"New York": America/New_York}
`))
	if err != nil {
		t.Fatal(err)
	}
	z := NewZones(c)
	for _, tc := range []struct {
		name string
		p    directory.Person
		zone string
		rule Rule
	}{
		{"mailbox", directory.Person{TimeZone: "Australia/Lord_Howe", OfficeLocation: "New York", UsageLocation: "FR"}, "Australia/Lord_Howe", RuleMailbox},
		{"unknown mailbox zone falls through", directory.Person{TimeZone: "Mars/Olympus", UsageLocation: "FR"}, "Europe/Paris", RuleUsage},
		{"office before usage", directory.Person{OfficeLocation: "new york ", UsageLocation: "FR"}, "America/New_York", RuleOffice},
		{"usage, any case", directory.Person{UsageLocation: "IN"}, "Asia/Kolkata", RuleUsage},
		{"default", directory.Person{UsageLocation: "JP", OfficeLocation: "Tokyo"}, "Europe/London", RuleDefault},
		{"Local is not a zone", directory.Person{TimeZone: "Local"}, "Europe/London", RuleDefault},
	} {
		loc, rule := z.Resolve(&tc.p)
		if loc.String() != tc.zone || rule != tc.rule {
			t.Errorf("%s: %s by %s, want %s by %s", tc.name, loc, rule, tc.zone, tc.rule)
		}
	}
	p := NewPerson(&directory.Person{ID: "u", Mail: "u@contoso.example", PreferredLanguage: "fr-CA", UsageLocation: "fr"}, c, z)
	if p.Language != "fr" || p.Region != "FR" || p.Zone.String() != "Europe/Paris" {
		t.Errorf("NewPerson = %+v", p)
	}
	if got := Language("de-DE", c.Defaults.Locales, "en"); got != "en" {
		t.Errorf("Language(de-DE) = %s, want the default", got)
	}
}

// BenchmarkInvitations measures calendar objects per second: one REQUEST
// with its VTIMEZONE per person (target ≥ 20,000/s).
func BenchmarkInvitations(b *testing.B) {
	s := session(b, "s1", "fr", "Europe/Paris", "2026-12-03 15:00")
	p := person(b, "u1", "fr", "Europe/Paris", "FR")
	p.Name = "Amélie Garçon"
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if _, err := sender.Request(&s, &p, 1).WriteTo(&buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calendars/s")
}

// TestMessage puts an invitation in an email and reads the email back:
// the text/calendar alternative carries METHOD:REQUEST and the calendar.
func TestMessage(t *testing.T) {
	s := session(t, "s1", "fr", "Europe/Paris", "2026-12-03 15:00")
	p := person(t, "u1", "fr", "Europe/Paris", "FR")
	for _, c := range []*ical.Calendar{sender.Request(&s, &p, 0), sender.Cancel(&s, &p, 1)} {
		cal, err := Message(c)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := c.Marshal()
		if cal.Method != string(c.Method) || !bytes.Equal(cal.Data, want) {
			t.Errorf("Message: method %q, data differs: %v", cal.Method, !bytes.Equal(cal.Data, want))
		}
		m := &deliver.Message{ID: "x@contoso.example", From: deliver.Address{Email: "it-security@contoso.example"}, To: deliver.Address{Email: p.Email}, Subject: "Q&A", Text: "t", HTML: "<p>h</p>", Calendar: cal}
		var b bytes.Buffer
		if _, err := m.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), "Content-Type: text/calendar; charset=UTF-8; method="+string(c.Method)+"\r\n") {
			t.Errorf("no text/calendar; method=%s part in\n%s", c.Method, b.String())
		}
	}
	bad := sender.Request(&s, &p, 0)
	bad.Events[0].Attendees[0].Email = "not an address"
	if _, err := Message(bad); err == nil {
		t.Error("Message accepted an attendee that is not an address")
	}
}
