package campaign_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nudge-passkeys/nudge/internal/campaign"
)

const withSessions = minimal + `defaults: {locale: en, locales: [en, fr]}
sessions:
  working_hours: "09:00-17:30"
  usage_locations: {FR: Europe/Paris, IN: Asia/Kolkata}
  office_locations: {"New York": America/New_York}
  list:
    - id: s1
      title: Passkeys Q&A
      start: "2026-12-03T15:00"
      zone: Europe/Paris
      duration: 45m
      join_url: https://teams.microsoft.com/l/meetup-join/1
      host: anna@contoso.example
      language: fr
      capacity: 50
      serves: {regions: [FR, BE]}
    - id: s2
      title: Passkeys Q&A
      start: "2026-12-03T09:00"
      zone: America/New_York
      room: Building 4, room 12
      host: bob@contoso.example
      capacity: 20
`

func TestParseSessions(t *testing.T) {
	c := mustParse(t, withSessions)
	ss := c.Sessions
	if ss.WorkFrom != 9*time.Hour || ss.WorkTo != 17*time.Hour+30*time.Minute {
		t.Errorf("working hours %s-%s", ss.WorkFrom, ss.WorkTo)
	}
	if ss.UsageLocations["FR"] != "Europe/Paris" || ss.OfficeLocations["New York"] != "America/New_York" {
		t.Errorf("zone tables %v %v", ss.UsageLocations, ss.OfficeLocations)
	}
	type got struct {
		ID, Language string
		Start        string
		Length       time.Duration
		Capacity     int
		Line         int
	}
	var gs []got
	for _, s := range ss.List {
		gs = append(gs, got{s.ID, s.Language, s.StartTime.UTC().Format(time.RFC3339), s.Length, s.Capacity, s.Line})
	}
	want := []got{
		{"s1", "fr", "2026-12-03T14:00:00Z", 45 * time.Minute, 50, 19},
		{"s2", "en", "2026-12-03T14:00:00Z", time.Hour, 20, 29},
	}
	if d := cmp.Diff(want, gs); d != "" {
		t.Errorf("sessions (-want +got):\n%s", d)
	}
	if s, ok := c.Session("s1"); !ok || s.StartTime.Location().String() != "Europe/Paris" || s.End().Sub(s.StartTime) != 45*time.Minute {
		t.Errorf("Session(s1) = %+v, %v", s, ok)
	}
}

func TestSessionsDefaults(t *testing.T) {
	c := mustParse(t, minimal+`sessions:
  list:
    - {id: s1, title: Q&A, start: "2026-12-03T10:00", join_url: "https://zoom.example/j/1", capacity: 5}
`)
	if c.Sessions.WorkingHours != "08:00-18:00" || c.Sessions.WorkFrom != 8*time.Hour || c.Sessions.WorkTo != 18*time.Hour {
		t.Errorf("working hours %q", c.Sessions.WorkingHours)
	}
	s := c.Sessions.List[0]
	if s.StartTime.Location().String() != "UTC" || s.Length != time.Hour || s.Language != "en" {
		t.Errorf("defaults: zone %s, length %s, language %s", s.StartTime.Location(), s.Length, s.Language)
	}
}

// TestSessionsValidation checks each problem is reported at its line.
func TestSessionsValidation(t *testing.T) {
	session := func(extra string) string {
		return minimal + "sessions:\n  list:\n    - id: s1\n      title: Q&A\n      start: \"2026-12-03T10:00\"\n      join_url: https://teams.example/j\n      capacity: 5\n" + extra
	}
	// minimal is 12 lines: sessions: is line 13, the first session 15.
	for _, c := range []struct {
		name, yaml string
		want       []string // "line: text" fragments
	}{
		{"unknown zone", session("      zone: Europe/Pariss\n"), []string{`20: session "s1": unknown zone "Europe/Pariss"`}},
		{"malformed start", strings.Replace(session(""), `"2026-12-03T10:00"`, `"3 Dec 10am"`, 1), []string{`17: session "s1": start: "3 Dec 10am" is not a local time`}},
		{"start in a gap", strings.Replace(session("      zone: Europe/Paris\n"), `2026-12-03T10:00`, `2026-03-29T02:30`, 1), []string{`17: session "s1": start: 2026-03-29T02:30 does not exist in Europe/Paris`}},
		{"http join url", strings.Replace(session(""), "https://teams.example/j", "http://teams.example/j", 1), []string{`18: session "s1": join_url: "http://teams.example/j": use https`}},
		{"no capacity", strings.Replace(session(""), "capacity: 5", "capacity: 0", 1), []string{`19: session "s1": capacity 0`}},
		{"missing capacity", strings.Replace(session(""), "      capacity: 5\n", "", 1), []string{`15: session "s1": capacity 0`}},
		{"negative capacity", strings.Replace(session(""), "capacity: 5", "capacity: -3", 1), []string{`19: session "s1": capacity -3`}},
		{"duplicate id", session("    - {id: s1, title: Again, start: \"2026-12-04T10:00\", room: R1, capacity: 5}\n"), []string{`20: session "s1": defined twice`}},
		{"bad duration", session("      duration: 1 hour\n"), []string{`20: session "s1": duration "1 hour"`}},
		{"language not in locales", session("      language: de\n"), []string{`20: session "s1": language "de" is not in defaults.locales [en]`}},
		{"no place", strings.Replace(session(""), "      join_url: https://teams.example/j\n", "", 1), []string{`15: session "s1": give a join_url`}},
		{"host overlap", session("      host: anna@contoso.example\n      duration: 1h\n    - {id: s2, title: Q&A, start: \"2026-12-03T10:30\", room: R1, capacity: 5, host: Anna@contoso.example}\n"),
			[]string{`22: session "s2": host Anna@contoso.example is presenting session "s1" (line 15) until 2026-12-03 11:00 UTC`}},
		{"same host, back to back", session("      host: anna@contoso.example\n    - {id: s2, title: Q&A, start: \"2026-12-03T11:00\", room: R1, capacity: 5, host: anna@contoso.example}\n"), nil},
		{"bad host", session("      host: Anna <anna@contoso.example>\n"), []string{`20: session "s1": host:`}},
		{"bad serves", session("      serves: {zones: [Mars/Olympus], regions: [fr]}\n"), []string{`20: session "s1": serves unknown zone "Mars/Olympus"`, `20: session "s1": region "fr"`}},
		{"bad working hours", minimal + "sessions: {working_hours: 8-18}\n", []string{`13: sessions.working_hours: "8-18"`}},
		{"backwards working hours", minimal + "sessions: {working_hours: \"18:00-08:00\"}\n", []string{`13: sessions.working_hours: "18:00-08:00" ends before it starts`}},
		{"past midnight", minimal + "sessions: {working_hours: \"08:00-24:30\"}\n", []string{`13: sessions.working_hours: "08:00-24:30" ends before it starts`}},
		{"bad zone table", minimal + "sessions:\n  usage_locations: {FR: Paris}\n", []string{`14: sessions.usage_locations: FR: unknown zone "Paris"`}},
		{"unknown key", session("      seats: 5\n"), []string{`20: unknown key "seats" in sessions.list[0]`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cam, err := campaign.Parse("campaign.yaml", []byte(c.yaml))
			if c.want == nil {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if cam == nil {
					t.Fatal("no campaign")
				}
				return
			}
			var got []string
			for _, p := range problems(t, err) {
				got = append(got, fmt.Sprintf("%d: %s", p.Line, p.Msg))
			}
			for _, w := range c.want {
				found := false
				for _, g := range got {
					found = found || strings.HasPrefix(g, w)
				}
				if !found {
					t.Errorf("no problem starting %q in:\n%s", w, strings.Join(got, "\n"))
				}
			}
			if len(got) != len(c.want) {
				t.Errorf("%d problems, want %d:\n%s", len(got), len(c.want), strings.Join(got, "\n"))
			}
		})
	}
}

func TestPastSessions(t *testing.T) {
	c := mustParse(t, withSessions+`    - {id: s3, title: Old, start: "2026-11-20T10:00", room: R1, capacity: 5}
    - {id: s4, title: Old, start: "2026-11-20T10:00", room: R1, capacity: 5, cancelled: true}
`)
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	ps := c.PastSessions(now)
	if len(ps) != 1 {
		t.Fatalf("PastSessions = %v, want one (s3; s4 is cancelled)", ps)
	}
	if got := ps[0].String(); !strings.HasPrefix(got, `campaign.yaml:36: session "s3": starts 2026-11-20 10:00 UTC, in the past`) {
		t.Errorf("problem = %s", got)
	}
	if ps := c.PastSessions(time.Date(2026, 12, 3, 14, 1, 0, 0, time.UTC)); len(ps) != 3 {
		t.Errorf("at the start of s1 and s2: %d past sessions, want 3 (a session that has started cannot be joined late by invitation)", len(ps))
	}
}
