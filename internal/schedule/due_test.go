package schedule

import (
	"testing"
	"time"

	"github.com/nudge-passkeys/nudge/internal/campaign"
	"github.com/nudge-passkeys/nudge/internal/deliver"
)

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// weekdays is a Monday-to-Friday 09:00-17:00 window in the recipient's zone.
func weekdays(skip ...string) campaign.Timing {
	t := campaign.Timing{Windowed: true, From: 9 * time.Hour, To: 17 * time.Hour, Skip: map[string]bool{}}
	for d := time.Monday; d <= time.Friday; d++ {
		t.Days[d] = true
	}
	for _, s := range skip {
		t.Skip[s] = true
	}
	return t
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestNextOpenAcrossDST(t *testing.T) {
	paris, ny := zone(t, "Europe/Paris"), zone(t, "America/New_York")
	win := weekdays("2026-12-25", "2027-01-01")
	fixedParis := win
	fixedParis.Zone = paris
	for _, tc := range []struct {
		name string
		t    campaign.Timing
		at   string
		zone *time.Location
		want string
	}{
		// Paris goes to summer time on Sunday 28 March 2027: 09:00 is
		// 08:00Z the Friday before and 07:00Z the Monday after.
		{"Paris before the change", win, "2027-03-26T07:30:00Z", paris, "2027-03-26T08:00:00Z"},
		{"Paris over the weekend of the change", win, "2027-03-26T16:00:00Z", paris, "2027-03-29T07:00:00Z"},
		{"Paris open after the change", win, "2027-03-29T07:00:00Z", paris, "2027-03-29T07:00:00Z"},
		// New York changes on Sunday 14 March 2027: 09:00 is 14:00Z, then 13:00Z.
		{"New York before the change", win, "2027-03-12T13:30:00Z", ny, "2027-03-12T14:00:00Z"},
		{"New York over the weekend of the change", win, "2027-03-12T22:00:00Z", ny, "2027-03-15T13:00:00Z"},
		{"same instant, two zones: New York still closed", win, "2027-03-29T07:00:00Z", ny, "2027-03-29T13:00:00Z"},
		{"a fixed zone ignores the recipient's", fixedParis, "2027-03-29T07:00:00Z", ny, "2027-03-29T07:00:00Z"},
		{"closing time is closed", win, "2027-03-29T15:00:00Z", paris, "2027-03-30T07:00:00Z"},
		// Christmas Day 2026 is a Friday: Thursday evening waits for Monday.
		{"a holiday is skipped", win, "2026-12-24T17:00:00Z", paris, "2026-12-28T08:00:00Z"},
		// Tuesday 5 January is skipped: at 21:00Z it is still Monday
		// afternoon in New York, and already Tuesday in Auckland.
		{"a holiday is a date in the recipient's zone: not yet", weekdays("2027-01-05"), "2027-01-04T21:00:00Z", ny, "2027-01-04T21:00:00Z"},
		{"a holiday is a date in the recipient's zone: already", weekdays("2027-01-05"), "2027-01-04T21:00:00Z", zone(t, "Pacific/Auckland"), "2027-01-05T20:00:00Z"},
		{"no window, a skipped date: the next midnight", campaign.Timing{Skip: map[string]bool{"2027-01-01": true}}, "2027-01-01T10:00:00Z", paris, "2027-01-01T23:00:00Z"},
		{"a window that never opens", campaign.Timing{Windowed: true, From: 9 * time.Hour, To: 17 * time.Hour}, "2027-01-01T10:00:00Z", paris, "0001-01-01T00:00:00Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := NextOpen(&tc.t, utc(tc.at), tc.zone)
			if got.UTC().Format(time.RFC3339) != tc.want {
				t.Errorf("NextOpen(%s in %s) = %s, want %s", tc.at, tc.zone, got.UTC().Format(time.RFC3339), tc.want)
			}
		})
	}
}

func TestDue(t *testing.T) {
	paris := zone(t, "Europe/Paris")
	reminder := weekdays()
	reminder.After, reminder.Offset = "announce", 7*24*time.Hour
	sentMon, sentWed := utc("2027-01-04T08:10:00Z"), utc("2027-01-06T15:45:00Z") // 16:45 in Paris
	for _, tc := range []struct {
		name   string
		sendAt time.Time
		now    string
		prev   time.Time
		want   bool
	}{
		{"a week after Monday's announce", time.Time{}, "2027-01-11T08:10:00Z", sentMon, true},
		{"a minute short of the week", time.Time{}, "2027-01-11T08:09:00Z", sentMon, false},
		{"the person announced on Wednesday waits", time.Time{}, "2027-01-11T08:10:00Z", sentWed, false},
		{"their week ends at 16:45, inside the window", time.Time{}, "2027-01-13T15:50:00Z", sentWed, true},
		{"but their window closes at 17:00", time.Time{}, "2027-01-13T16:00:00Z", sentWed, false},
		{"so they get it the next morning", time.Time{}, "2027-01-14T08:00:00Z", sentWed, true},
		{"never announced: never reminded", time.Time{}, "2027-02-01T08:00:00Z", time.Time{}, false},
		{"send_at not reached", utc("2027-01-20T08:00:00Z"), "2027-01-18T08:00:00Z", sentMon, false},
		{"outside the window", time.Time{}, "2027-01-16T10:00:00Z", sentMon, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Due(&reminder, tc.sendAt, utc(tc.now), tc.prev, paris); got != tc.want {
				t.Errorf("Due = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestPlanPeople: reminders land a week after each person's announce, in
// their own morning, caps spread a wave over days, and the counts per date
// add up to the wave.
func TestPlanPeople(t *testing.T) {
	paris, ny := zone(t, "Europe/Paris"), zone(t, "America/New_York")
	now := utc("2027-01-04T06:00:00Z") // Monday 07:00 in Paris
	announce := weekdays()
	reminder := weekdays()
	reminder.After, reminder.Offset = "announce", 7*24*time.Hour
	people := func(done ...bool) []Recipient {
		rs := []Recipient{{ID: "p1", Zone: paris}, {ID: "p2", Zone: paris}, {ID: "p3", Zone: paris}, {ID: "n1", Zone: ny}}
		for i := range done {
			rs[i].Done = done[i]
		}
		return rs
	}
	waves := []Wave{
		{ID: "reminder", Timing: reminder, Pending: 4, Recipients: people()},
		{ID: "announce", SendAt: utc("2027-01-04T08:00:00Z"), Timing: announce, Pending: 4, Recipients: people()},
	}
	boxes := []Mailbox{{Address: "it@contoso.example", Limits: deliver.Limits{PerMinute: 60, PerDay: 2}}}
	tl := Plan(now, paris, waves, boxes)
	if len(tl.Slots) != 2 || tl.Slots[0].ID != "announce" {
		t.Fatalf("slots %+v: want announce first", tl.Slots)
	}
	a, r := tl.Slots[0], tl.Slots[1]
	// Two a day: p1, p2 on Monday at 09:00 Paris; the 24-hour window frees
	// at 09:00 Paris on Tuesday, before New York opens, so p3 goes then and
	// n1 at 09:00 New York.
	if !a.Start.Equal(utc("2027-01-04T08:00:00Z")) || !a.ETA.Equal(utc("2027-01-05T14:00:00Z")) || a.Days != 2 {
		t.Errorf("announce start %s, eta %s, days %d", a.Start, a.ETA, a.Days)
	}
	if got := a.PerDate; len(got) != 2 || got[0] != (DateCount{"2027-01-04", 2}) || got[1] != (DateCount{"2027-01-05", 2}) {
		t.Errorf("announce per date %v", got)
	}
	// Each reminder follows its own announce by a week, still two a day.
	if !r.Start.Equal(utc("2027-01-11T08:00:00Z")) || !r.ETA.Equal(utc("2027-01-12T14:00:00Z")) || r.Due || r.Waiting != 0 {
		t.Errorf("reminder start %s, eta %s, due %v, waiting %d", r.Start, r.ETA, r.Due, r.Waiting)
	}

	// Later, announce sent to p1 and p2 only (p3 failed, n1 pending):
	// p3 never gets the reminder; n1's waits for announce.
	now = utc("2027-01-11T09:00:00Z")
	sent := utc("2027-01-04T08:00:00Z")
	rs := people()
	rs[0].Prev, rs[1].Prev = sent, sent
	waves = []Wave{
		{ID: "announce", SendAt: sent, Timing: announce, Pending: 1, Recipients: people(true, true, true)},
		{ID: "reminder", Timing: reminder, Pending: 4, Recipients: rs},
	}
	tl = Plan(now, paris, waves, boxes)
	if len(tl.Slots) != 2 || tl.Slots[0].ID != "reminder" {
		t.Fatalf("slots %+v: want reminder first, due now", tl.Slots)
	}
	r, a = tl.Slots[0], tl.Slots[1]
	if !r.Due || r.Waiting != 1 || !r.Start.Equal(now) || r.DueNow != 2 {
		t.Errorf("reminder due %v (%d now), waiting %d, start %s: want p1 and p2 due now, p3 waiting", r.Due, r.DueNow, r.Waiting, r.Start)
	}
	// p1, p2 fill today's cap; n1's announce goes at 09:00 New York on
	// Tuesday, and their reminder a week later.
	if !a.Start.Equal(utc("2027-01-12T14:00:00Z")) || a.Due {
		t.Errorf("announce for n1 at %s, due %v", a.Start, a.Due)
	}
	if got := r.PerDate; len(got) != 2 || got[0] != (DateCount{"2027-01-11", 2}) || got[1] != (DateCount{"2027-01-19", 1}) || !r.ETA.Equal(utc("2027-01-19T14:00:00Z")) {
		t.Errorf("reminder per date %v, eta %s", got, r.ETA)
	}
}
