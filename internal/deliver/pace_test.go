package deliver_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/nudge-passkeys/nudge/internal/deliver"
)

const gap27 = time.Minute/27 + 1 // one send every 2.22 s

func TestPacer(t *testing.T) {
	type step struct {
		at      time.Duration // after t0
		reserve bool          // Reserve, or only Next
		wait    time.Duration
		ok      bool
	}
	hours := func(hs ...float64) []time.Time {
		var ts []time.Time
		for _, h := range hs {
			ts = append(ts, t0.Add(time.Duration(h*float64(time.Hour))))
		}
		return ts
	}
	for _, tc := range []struct {
		name    string
		limits  deliver.Limits
		history []time.Time
		steps   []step
	}{
		{
			name:   "no caps",
			limits: deliver.Limits{},
			steps:  []step{{0, true, 0, true}, {0, true, 0, true}, {0, true, 0, true}},
		},
		{
			name:   "evenly spread, never a burst",
			limits: exo,
			steps: []step{
				{0, true, 0, true},
				{0, true, gap27, true},                           // booked at 2.22 s
				{0, false, 2 * gap27, true},                      // the next is at 4.44 s
				{time.Second, true, 2*gap27 - time.Second, true}, // asked later, same slot
				{time.Minute, true, 0, true},                     // after a lull: at once,
				{time.Minute, true, gap27, true},                 // then spaced again
			},
		},
		{
			name:   "day full: ok is false until the oldest send is a day old",
			limits: deliver.Limits{PerDay: 3},
			steps: []step{
				{0, true, 0, true},
				{time.Hour, true, 0, true},
				{2 * time.Hour, true, 0, true},
				{3 * time.Hour, true, 21 * time.Hour, false},
				{3 * time.Hour, false, 21 * time.Hour, false}, // a refusal books nothing
				{24 * time.Hour, true, 0, true},
				{24 * time.Hour, false, time.Hour, false},
			},
		},
		{
			name:   "per-minute spacing holds back a day that has just freed",
			limits: deliver.Limits{PerMinute: 1, PerDay: 2},
			steps: []step{
				{0, true, 0, true},
				{0, true, time.Minute + 1, true},
				{2 * time.Minute, false, 24*time.Hour - 2*time.Minute, false},
				{24*time.Hour + 30*time.Second, true, 0, true},
			},
		},
		{
			name:    "history from the ledger: an hour after a full day",
			limits:  exo,
			history: append(hours(-1.5, -1), slices.Repeat(hours(-6), 8998)...), // unsorted
			steps: []step{
				{0, false, 18 * time.Hour, false},
				{18 * time.Hour, true, 0, true},
				{18 * time.Hour, true, gap27, true},
			},
		},
		{
			name:    "history of a rerun: spacing from the last send",
			limits:  exo,
			history: []time.Time{t0.Add(-time.Second)},
			steps:   []step{{0, true, gap27 - time.Second, true}},
		},
		{
			name:    "history older than a day is forgotten",
			limits:  deliver.Limits{PerDay: 2},
			history: hours(-30, -25),
			steps:   []step{{0, true, 0, true}, {0, true, 0, true}, {0, true, 24 * time.Hour, false}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := deliver.NewPacer(tc.limits, tc.history)
			for i, s := range tc.steps {
				now := t0.Add(s.at)
				var wait time.Duration
				var ok bool
				if s.reserve {
					wait, ok = p.Reserve(now)
				} else {
					wait, ok = p.Next(now)
				}
				if wait != s.wait || ok != s.ok {
					t.Errorf("step %d at +%v: wait %v, ok %v; want %v, %v", i, s.at, wait, ok, s.wait, s.ok)
				}
			}
		})
	}
}

func TestPacerRelease(t *testing.T) {
	p := deliver.NewPacer(deliver.Limits{PerMinute: 30, PerDay: 2}, nil)
	p.Reserve(t0)
	w, _ := p.Reserve(t0)
	p.Release(t0.Add(w)) // refused: the day place comes back
	if w, ok := p.Next(t0.Add(w)); w != 2*time.Second+1 || !ok {
		t.Errorf("after a refused send: wait %v, ok %v; want the spacing, true", w, ok)
	}
	p.Release(t0.Add(time.Hour)) // no such booking: nothing changes
	p.Reserve(t0.Add(time.Hour))
	if w, ok := p.Next(t0.Add(time.Hour)); ok || w != 23*time.Hour {
		t.Errorf("day full: wait %v, ok %v; want 23h, false", w, ok)
	}
}

// TestPacerProperty drives pacers over simulated days with random send
// durations, random idle spells and runs stopped at the daily cap, and
// checks every window.
func TestPacerProperty(t *testing.T) {
	for seed := range uint64(8) {
		r := rand.New(rand.NewPCG(seed, 7))
		limits := exo
		horizon := 3 * 24 * time.Hour
		if seed > 0 { // other caps, a shorter horizon
			limits = deliver.Limits{PerMinute: 1 + r.IntN(40), PerDay: 1 + r.IntN(800)}
			horizon = 30 * time.Hour
		}
		t.Run(fmt.Sprintf("%d a minute, %d a day", limits.PerMinute, limits.PerDay), func(t *testing.T) {
			p := deliver.NewPacer(limits, nil)
			var starts, ends []time.Time
			now := t0
			for now.Before(t0.Add(horizon)) {
				wait, ok := p.Reserve(now)
				if !ok {
					now = now.Add(wait) // the next run
					continue
				}
				if wait < 0 {
					t.Fatalf("negative wait %v", wait)
				}
				start := now.Add(wait)
				// Sends take 0 to 2 s, sometimes 30 s.
				took := time.Duration(r.Int64N(int64(2 * time.Second)))
				if r.IntN(500) == 0 {
					took = 30 * time.Second
				}
				starts, ends = append(starts, start), append(ends, start.Add(took))
				now = start.Add(took)
				if r.IntN(200) == 0 { // the caller comes back late
					now = now.Add(time.Duration(r.Int64N(int64(10 * time.Minute))))
				}
			}
			checkCaps(t, "starts", starts, time.Minute, limits.PerMinute)
			checkCaps(t, "starts", starts, 24*time.Hour, limits.PerDay)
			if limits == exo {
				// Exchange counts on acceptance: sends of up to 2 s
				// (and a rare 30 s) still never reach its 30.
				slices.SortFunc(ends, time.Time.Compare)
				checkCaps(t, "acceptances", ends, time.Minute, 29)
				// Not too careful either: each day was used.
				if len(starts) < 3*9000-5 {
					t.Errorf("%d sends in three days, want about 27,000", len(starts))
				}
			}
		})
	}
}

// TestPacerIsEven checks that a minute's sends are spread over the minute.
func TestPacerIsEven(t *testing.T) {
	p := deliver.NewPacer(exo, nil)
	var starts []time.Time
	now := t0
	for range 1000 {
		w, _ := p.Reserve(now)
		now = now.Add(w)
		starts = append(starts, now)
	}
	for i := 1; i < len(starts); i++ {
		if d := starts[i].Sub(starts[i-1]); d != gap27 {
			t.Fatalf("send %d came %v after the one before, want %v", i, d, gap27)
		}
	}
	checkCaps(t, "closed windows", starts, time.Minute+1, 27)
}
