package campaign_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nudge-passkeys/nudge/internal/campaign"
)

// timed is minimal with a reminder that follows announce inside a window.
const timed = minimal + `  - id: reminder
    audiences: [ready]
    template: reminder
    after: announce + 7d
    window: {days: [mon, tue, wed, thu, fri], hours: "09:00-17:00", zone: recipient}
    skip: [2026-12-25, 2027-01-01]
  - id: last
    audiences: [ready]
    template: last
    after: reminder + 36h
    window:
      days: [Sat]
      hours: 08:30-12:00
      zone: America/New_York
`

func TestParseTiming(t *testing.T) {
	c := mustParse(t, timed)
	r, _ := c.Wave("reminder")
	if r.Timing.After != "announce" || r.Timing.Offset != 7*24*time.Hour || !r.Timing.Windowed ||
		r.Timing.From != 9*time.Hour || r.Timing.To != 17*time.Hour || r.Timing.Zone != nil {
		t.Errorf("reminder timing = %+v", r.Timing)
	}
	wantDays := [7]bool{time.Monday: true, time.Tuesday: true, time.Wednesday: true, time.Thursday: true, time.Friday: true}
	if r.Timing.Days != wantDays {
		t.Errorf("reminder days = %v, want %v", r.Timing.Days, wantDays)
	}
	if !r.Timing.Skip["2026-12-25"] || !r.Timing.Skip["2027-01-01"] || len(r.Timing.Skip) != 2 {
		t.Errorf("reminder skip = %v", r.Timing.Skip)
	}
	if !r.Scheduled() {
		t.Error("a wave with after: is scheduled")
	}
	l, _ := c.Wave("last")
	if l.Timing.Offset != 36*time.Hour || l.Timing.Zone == nil || l.Timing.Zone.String() != "America/New_York" ||
		!l.Timing.Days[time.Saturday] || l.Timing.From != 8*time.Hour+30*time.Minute {
		t.Errorf("last timing = %+v", l.Timing)
	}
	a, _ := c.Wave("announce")
	if a.Scheduled() || a.Timing.Windowed || a.Timing.After != "" {
		t.Errorf("announce has no timing: %+v", a.Timing)
	}
}

func TestParseTimingErrors(t *testing.T) {
	reminder := func(lines string) string {
		return minimal + "  - id: reminder\n    audiences: [ready]\n    template: reminder\n" + lines
	}
	for _, tc := range []struct {
		name  string
		data  string
		lines []int
		parts []string
	}{
		{"after a missing wave", reminder("    after: anounce + 7d\n"), []int{16}, []string{`after: no wave "anounce"`, `did you mean "announce"`}},
		{"after itself", reminder("    after: reminder + 1d\n"), []int{16}, []string{"cannot follow itself"}},
		{"after without a wave", reminder("    after: + 7d\n"), []int{16}, []string{"e.g. announce + 7d"}},
		{"a bad unit", reminder("    after: announce + 7y\n"), []int{16}, []string{"units w, d, h, m"}},
		{
			"a cycle",
			strings.Replace(reminder("    after: announce + 7d\n"), "    template: announce\n", "    template: announce\n    after: reminder + 1d\n", 1),
			[]int{13, 17}, []string{"makes a cycle (announce → reminder → announce)", "makes a cycle (reminder → announce → reminder)"},
		},
		{"a window with no hours", reminder("    window: {days: [mon]}\n"), []int{16}, []string{"window: no hours"}},
		{"a window with no days", reminder("    window: {hours: \"09:00-17:00\"}\n"), []int{16}, []string{"window: no days"}},
		{"an unknown day", reminder("    window:\n      days: [mon, fry]\n      hours: 09:00-17:00\n"), []int{17}, []string{`day "fry"`}},
		{"hours backwards", reminder("    window:\n      days: [mon]\n      hours: 17:00-09:00\n"), []int{18}, []string{"cannot run past midnight"}},
		{"hours not a range", reminder("    window:\n      days: [mon]\n      hours: nine to five\n"), []int{18}, []string{"hours like 09:00-17:00"}},
		{"an unknown zone", reminder("    window:\n      days: [mon]\n      hours: 09:00-17:00\n      zone: Europe/Pariss\n"), []int{19}, []string{`unknown zone "Europe/Pariss"`}},
		{"a skip that is no date", reminder("    skip: [2026-12-32]\n"), []int{16}, []string{`skip: "2026-12-32" is not a date`}},
		{"invitations are not sent person by person", reminder("    after: announce + 1d\n    sessions: true\n"), []int{16, 17}, []string{"give send_at instead of after", "no sessions: list"}},
		{"invitations have no window", reminder("    sessions: true\n    window: {days: [mon], hours: \"09:00-17:00\"}\n"), []int{16, 16}, []string{"no sessions: list", "remove window: and skip:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := campaign.Parse("campaign.yaml", []byte(tc.data))
			got := problems(t, err)
			if len(got) != len(tc.lines) {
				t.Fatalf("got %d problems, want %d:\n%v", len(got), len(tc.lines), err)
			}
			for i, g := range got {
				if g.Line != tc.lines[i] || !strings.Contains(g.Msg, tc.parts[i]) {
					t.Errorf("problem %d = %d: %q, want line %d containing %q", i, g.Line, g.Msg, tc.lines[i], tc.parts[i])
				}
			}
		})
	}
}
