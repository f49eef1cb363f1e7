package schedule

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nudge-passkeys/nudge/internal/deliver"
)

func TestPlan(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2027, 1, 4, 9, 0, 0, 0, paris)
	gap := time.Second + time.Nanosecond // 60 a minute
	box := []Mailbox{{Address: "it@contoso.example", Limits: deliver.Limits{PerMinute: 60, PerDay: 3}}}

	for _, tc := range []struct {
		name      string
		now       time.Time
		waves     []Wave
		boxes     []Mailbox
		want      []Slot // only ID, Due, Start, ETA, Days compared
		leftToday int
		warnings  []string // substrings, in order
	}{
		{
			name: "a wave larger than the daily cap spreads over days; the next queues behind it",
			now:  t0.Add(-time.Hour),
			waves: []Wave{
				{ID: "manual", Pending: 5},
				{ID: "reminder", SendAt: t0.Add(time.Hour), Pending: 2},
				{ID: "announce", SendAt: t0, Pending: 8},
			},
			boxes: box,
			want: []Slot{
				{Wave: Wave{ID: "announce"}, Start: t0, ETA: t0.Add(48*time.Hour + gap), Days: 3},
				{Wave: Wave{ID: "reminder"}, Start: t0.Add(48*time.Hour + 2*gap), ETA: t0.Add(72 * time.Hour), Days: 2},
				{Wave: Wave{ID: "manual"}, Manual: true},
			},
			leftToday: 3,
			warnings:  []string{"wave manual has no send_at", "wave reminder is due Mon 4 Jan 10:00 CET while announce is still sending: they share the sending mailboxes' daily cap, so reminder starts Wed 6 Jan 09:00 CET"},
		},
		{
			name: "a past wave with people pending is due now, after today's sends",
			now:  t0.Add(26 * time.Hour),
			waves: []Wave{
				{ID: "announce", SendAt: t0, Pending: 2},
				{ID: "done", SendAt: t0, Pending: 0, Sent: 4, Done: 4},
			},
			boxes: []Mailbox{{Address: "it@contoso.example", Limits: deliver.Limits{PerMinute: 60, PerDay: 3},
				History: []time.Time{t0.Add(24 * time.Hour), t0.Add(25 * time.Hour)}}},
			want: []Slot{
				{Wave: Wave{ID: "announce"}, Due: true, Start: t0.Add(26 * time.Hour), ETA: t0.Add(48 * time.Hour), Days: 2},
				{Wave: Wave{ID: "done"}},
			},
			leftToday: 1,
			warnings:  []string{"wave announce was due Mon 4 Jan 2027 09:00 CET and 2 people are still pending"},
		},
		{
			name: "waves due together that fit in minutes: no warning",
			now:  t0,
			waves: []Wave{
				{ID: "announce", SendAt: t0, Pending: 2},
				{ID: "admins", SendAt: t0, Pending: 1},
			},
			boxes: []Mailbox{{Address: "it@contoso.example", Limits: deliver.Limits{PerMinute: 60, PerDay: 100}}},
			want: []Slot{
				{Wave: Wave{ID: "announce"}, Due: true, Start: t0, ETA: t0.Add(gap), Days: 1},
				{Wave: Wave{ID: "admins"}, Due: true, Start: t0.Add(2 * gap), ETA: t0.Add(2 * gap), Days: 1},
			},
			leftToday: 100,
		},
		{
			name:  "no mailbox: no ETA",
			now:   t0,
			waves: []Wave{{ID: "announce", SendAt: t0, Pending: 2}},
			want:  []Slot{{Wave: Wave{ID: "announce"}, Due: true}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tl := Plan(tc.now, paris, tc.waves, tc.boxes)
			var got []Slot
			for _, s := range tl.Slots {
				got = append(got, Slot{Wave: Wave{ID: s.ID}, Manual: s.Manual, Due: s.Due, Start: s.Start, ETA: s.ETA, Days: s.Days})
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("slots (-want +got):\n%s", d)
			}
			if tl.LeftToday != tc.leftToday {
				t.Errorf("LeftToday = %d, want %d", tl.LeftToday, tc.leftToday)
			}
			if len(tl.Warnings) != len(tc.warnings) {
				t.Fatalf("warnings = %q, want %d like %q", tl.Warnings, len(tc.warnings), tc.warnings)
			}
			for i, w := range tc.warnings {
				if !strings.Contains(tl.Warnings[i], w) {
					t.Errorf("warning %d = %q, want it to contain %q", i, tl.Warnings[i], w)
				}
			}
		})
	}
}

// TestPlanMatchesEstimate: one wave alone gets the ETA nudge send prints.
func TestPlanMatchesEstimate(t *testing.T) {
	now := time.Date(2027, 1, 4, 8, 0, 0, 0, time.UTC)
	limits := []deliver.Limits{{PerMinute: 27, PerDay: 9000}, {PerMinute: 27, PerDay: 9000}}
	boxes := []Mailbox{{Address: "a@x.example", Limits: limits[0]}, {Address: "b@x.example", Limits: limits[1]}}
	tl := Plan(now, time.UTC, []Wave{{ID: "w", SendAt: now, Pending: 25000}}, boxes)
	if want := deliver.EstimateFinish(now, 25000, limits, nil); !tl.Slots[0].ETA.Equal(want) {
		t.Errorf("ETA = %s, want %s (deliver.EstimateFinish)", tl.Slots[0].ETA, want)
	}
	if tl.Slots[0].Days != 2 {
		t.Errorf("Days = %d, want 2 (18,000 a day)", tl.Slots[0].Days)
	}
}

// BenchmarkPlan places 100,000 people in each of four waves on the timeline
// of one mailbox with Exchange's default caps.
func BenchmarkPlan(b *testing.B) {
	now := time.Date(2027, 1, 4, 8, 0, 0, 0, time.UTC)
	var waves []Wave
	for i := range 4 {
		waves = append(waves, Wave{ID: string(rune('a' + i)), SendAt: now.Add(time.Duration(i) * 7 * 24 * time.Hour), Pending: 100_000})
	}
	boxes := []Mailbox{{Address: "it@contoso.example", Limits: deliver.Limits{PerMinute: deliver.DefaultPerMinute, PerDay: deliver.DefaultPerDay}}}
	for range b.N {
		Plan(now, time.UTC, waves, boxes)
	}
}
