package invite

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func loc(t testing.TB, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func session(t testing.TB, id, lang, zone, local string) Session {
	t.Helper()
	s, err := time.ParseInLocation("2006-01-02 15:04", local, loc(t, zone))
	if err != nil {
		t.Fatal(err)
	}
	return Session{ID: id, Title: "Q&A", Start: s, End: s.Add(time.Hour), Language: lang, Capacity: 10, JoinURL: "https://teams.example/j/" + id}
}

func person(t testing.TB, id, lang, zone, region string) Person {
	return Person{ID: id, Email: id + "@contoso.example", Name: id, Language: lang, Region: region, Zone: loc(t, zone), ZoneRule: RuleUsage}
}

func TestAssign(t *testing.T) {
	paris10 := session(t, "paris10", "fr", "Europe/Paris", "2026-12-03 10:00")
	paris15 := session(t, "paris15", "fr", "Europe/Paris", "2026-12-03 15:00")
	ny9 := session(t, "ny9", "en", "America/New_York", "2026-12-03 09:00")
	en10 := session(t, "en10", "en", "Europe/London", "2026-12-03 10:00")
	type left struct {
		ID     string
		Reason Reason
	}
	for _, c := range []struct {
		name     string
		sessions []Session
		people   []Person
		previous map[string]string
		now      time.Time
		want     map[string]string
		left     []left
	}{
		{
			name:     "earliest fitting session",
			sessions: []Session{paris15, paris10},
			people:   []Person{person(t, "a", "fr", "Europe/Paris", "FR")},
			want:     map[string]string{"a": "paris10"},
		},
		{
			name:     "capacity moves the rest on, in id order",
			sessions: []Session{with(paris10, func(s *Session) { s.Capacity = 2 }), paris15},
			people:   []Person{person(t, "c", "fr", "Europe/Paris", "FR"), person(t, "a", "fr", "Europe/Paris", "FR"), person(t, "b", "fr", "Europe/Paris", "FR")},
			want:     map[string]string{"a": "paris10", "b": "paris10", "c": "paris15"},
		},
		{
			name:     "language",
			sessions: []Session{paris10},
			people:   []Person{person(t, "a", "de", "Europe/Paris", "DE")},
			left:     []left{{"a", NoLanguage}},
		},
		{
			// 10:00 in Paris is 14:30 in Kolkata, 15:00 is 19:30.
			name:     "working hours in the person's zone",
			sessions: []Session{paris15, paris10},
			people:   []Person{person(t, "in", "fr", "Asia/Kolkata", "IN"), person(t, "au", "fr", "Australia/Lord_Howe", "AU")},
			want:     map[string]string{"in": "paris10"},
			left:     []left{{"au", NoHours}},
		},
		{
			// 09:00 in New York is 14:00 in London: both fit an English
			// speaker in London, the earlier (10:00 London) wins.
			name:     "zones mix",
			sessions: []Session{ny9, en10},
			people:   []Person{person(t, "gb", "en", "Europe/London", "GB"), person(t, "us", "en", "America/Chicago", "US")},
			want:     map[string]string{"gb": "en10", "us": "ny9"},
		},
		{
			name:     "serves regions or zones",
			sessions: []Session{with(paris10, func(s *Session) { s.Regions = []string{"BE"}; s.Zones = []string{"Europe/Brussels"} })},
			people:   []Person{person(t, "fr", "fr", "Europe/Paris", "FR"), person(t, "be", "fr", "Europe/Paris", "BE"), person(t, "bz", "fr", "Europe/Brussels", "")},
			want:     map[string]string{"be": "paris10", "bz": "paris10"},
			left:     []left{{"fr", NotServed}},
		},
		{
			name:     "full",
			sessions: []Session{with(paris10, func(s *Session) { s.Capacity = 1 })},
			people:   []Person{person(t, "a", "fr", "Europe/Paris", "FR"), person(t, "b", "fr", "Europe/Paris", "FR")},
			want:     map[string]string{"a": "paris10"},
			left:     []left{{"b", Full}},
		},
		{
			name:     "no mail",
			sessions: []Session{paris10},
			people:   []Person{with(person(t, "a", "fr", "Europe/Paris", "FR"), func(p *Person) { p.Email = "" })},
			left:     []left{{"a", NoMail}},
		},
		{
			name:     "cancelled sessions take nobody",
			sessions: []Session{with(paris10, func(s *Session) { s.Cancelled = true }), paris15},
			people:   []Person{person(t, "a", "fr", "Europe/Paris", "FR")},
			previous: map[string]string{"a": "paris10"},
			want:     map[string]string{"a": "paris15"},
		},
		{
			name:     "invited people stay, even when it no longer fits",
			sessions: []Session{paris10, paris15},
			people:   []Person{person(t, "a", "de", "Asia/Tokyo", "JP")},
			previous: map[string]string{"a": "paris15"},
			want:     map[string]string{"a": "paris15"},
		},
		{
			name:     "seats of people gone from the audience stay taken",
			sessions: []Session{with(paris10, func(s *Session) { s.Capacity = 1 })},
			people:   []Person{person(t, "b", "fr", "Europe/Paris", "FR")},
			previous: map[string]string{"gone": "paris10"},
			want:     map[string]string{"gone": "paris10"},
			left:     []left{{"b", Full}},
		},
		{
			name:     "sessions already started take nobody new, and keep who was invited",
			sessions: []Session{paris10, paris15},
			people:   []Person{person(t, "a", "fr", "Europe/Paris", "FR"), person(t, "b", "fr", "Europe/Paris", "FR")},
			previous: map[string]string{"a": "paris10"},
			now:      paris10.Start.Add(time.Minute),
			want:     map[string]string{"a": "paris10", "b": "paris15"},
		},
		{
			name:     "sessions starting now are still open",
			sessions: []Session{paris10},
			people:   []Person{person(t, "b", "fr", "Europe/Paris", "FR")},
			now:      paris10.Start.Add(-time.Second),
			want:     map[string]string{"b": "paris10"},
		},
		{
			name:     "a session removed from the file frees its people",
			sessions: []Session{paris15},
			people:   []Person{person(t, "a", "fr", "Europe/Paris", "FR")},
			previous: map[string]string{"a": "deleted"},
			want:     map[string]string{"a": "paris15"},
		},
		{
			name:     "listed twice counts once",
			sessions: []Session{with(paris10, func(s *Session) { s.Capacity = 1 })},
			people:   []Person{person(t, "a", "fr", "Europe/Paris", "FR"), person(t, "a", "fr", "Europe/Paris", "FR")},
			want:     map[string]string{"a": "paris10"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := Assign(c.people, c.sessions, Options{Previous: c.previous, Now: c.now})
			var gotLeft []left
			for _, l := range r.Left {
				gotLeft = append(gotLeft, left{l.Person.ID, l.Reason})
			}
			if d := cmp.Diff(c.want, r.Session, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("assigned (-want +got):\n%s", d)
			}
			if d := cmp.Diff(c.left, gotLeft, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("left over (-want +got):\n%s", d)
			}
		})
	}
}

func with[T any](v T, f func(*T)) T {
	f(&v)
	return v
}

func TestShortfall(t *testing.T) {
	s := session(t, "s", "fr", "Europe/Paris", "2026-12-03 10:00")
	s.Capacity = 1
	r := Assign([]Person{
		person(t, "a", "fr", "Europe/Paris", "FR"), person(t, "b", "fr", "Europe/Paris", "FR"),
		person(t, "c", "fr", "Europe/Brussels", "BE"), person(t, "d", "fr", "Asia/Tokyo", "JP"),
	}, []Session{s}, Options{})
	want := []ZoneShortfall{{"Europe/Brussels", 1}, {"Europe/Paris", 1}}
	if d := cmp.Diff(want, r.Shortfall()); d != "" {
		t.Errorf("Shortfall (-want +got):\n%s", d)
	}
}

var zonePool = []string{"Europe/Paris", "Europe/London", "America/New_York", "America/Los_Angeles", "Asia/Kolkata", "Australia/Lord_Howe", "Asia/Tokyo", "UTC"}

// population makes n people and m sessions from a seed.
func population(tb testing.TB, seed uint64, n, m int) ([]Person, []Session) {
	rng := rand.New(rand.NewPCG(seed, 7))
	langs := []string{"en", "fr", "de"}
	regions := []string{"FR", "GB", "US", "IN", "AU", "JP", ""}
	zones := make([]*time.Location, len(zonePool))
	for i, z := range zonePool {
		zones[i] = loc(tb, z)
	}
	people := make([]Person, n)
	for i := range people {
		people[i] = Person{
			ID:       fmt.Sprintf("%08x", rng.Uint32()),
			Email:    fmt.Sprintf("p%d@contoso.example", i),
			Language: langs[rng.IntN(len(langs))],
			Region:   regions[rng.IntN(len(regions))],
			Zone:     zones[rng.IntN(len(zones))],
		}
		if rng.IntN(50) == 0 {
			people[i].Email = ""
		}
	}
	base := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	sessions := make([]Session, m)
	for i := range sessions {
		z := zones[rng.IntN(len(zones))]
		start := base.Add(time.Duration(rng.IntN(14*24*4)) * 15 * time.Minute).In(z)
		sessions[i] = Session{
			ID: fmt.Sprintf("s%03d", i), Start: start, End: start.Add(time.Hour),
			Language: langs[rng.IntN(len(langs))], Capacity: 1 + rng.IntN(max(1, 3*n/max(1, m))),
			Cancelled: rng.IntN(20) == 0,
		}
		if rng.IntN(4) == 0 {
			sessions[i].Regions = []string{regions[rng.IntN(len(regions)-1)]}
		}
		if rng.IntN(6) == 0 {
			sessions[i].Zones = []string{zonePool[rng.IntN(len(zonePool))]}
		}
	}
	return people, sessions
}

// checkInvariants checks what must hold of any assignment.
func checkInvariants(t *testing.T, people []Person, sessions []Session, r *Result, previous map[string]string) {
	t.Helper()
	byID := map[string]*Session{}
	for i := range sessions {
		byID[sessions[i].ID] = &sessions[i]
	}
	seats := map[string]int{}
	for _, sid := range r.Session {
		seats[sid]++
	}
	if d := cmp.Diff(seats, r.Seats, cmpopts.EquateEmpty()); d != "" {
		t.Errorf("Seats disagrees with Session (-counted +reported):\n%s", d)
	}
	for sid, n := range seats {
		s := byID[sid]
		if s == nil || s.Cancelled {
			t.Errorf("%d people in %s, which is gone or cancelled", n, sid)
		} else if n > s.Capacity {
			t.Errorf("session %s: %d seats taken, capacity %d", sid, n, s.Capacity)
		}
	}
	left := map[string]Leftover{}
	for _, l := range r.Left {
		if _, dup := left[l.Person.ID]; dup {
			t.Errorf("%s left over twice", l.Person.ID)
		}
		left[l.Person.ID] = l
	}
	for i := range people {
		p := &people[i]
		sid, in := r.Session[p.ID]
		l, out := left[p.ID]
		if in == out {
			t.Fatalf("person %s: assigned %v, left over %v: want exactly one", p.ID, in, out)
		}
		if in && previous[p.ID] != sid {
			s := byID[sid]
			if s.Language != p.Language || !serves(s, p) || !InHours(s.Start, p.Zone, DefaultHours) {
				t.Errorf("person %s (%s, %s, %s) got %s (%s, %s), which does not fit", p.ID, p.Language, p.Zone, p.Region, sid, s.Language, s.Start)
			}
		}
		if out {
			// Nobody is left out while a seat that fits them is free.
			for j := range sessions {
				s := &sessions[j]
				fits := !s.Cancelled && s.Language == p.Language && serves(s, p) && InHours(s.Start, p.Zone, DefaultHours)
				if p.Email != "" && fits && seats[s.ID] < s.Capacity {
					t.Errorf("person %s left over (%s) while %s fits and has %d seats free", p.ID, l.Reason, s.ID, s.Capacity-seats[s.ID])
				}
				if fits && l.Reason != Full && l.Reason != NoMail {
					t.Errorf("person %s left over as %q, but %s fits", p.ID, l.Reason, s.ID)
				}
			}
		}
	}
}

// TestAssignProperties runs assignment over generated populations and
// checks capacity, coverage, fit, determinism and stability.
func TestAssignProperties(t *testing.T) {
	for seed := range uint64(60) {
		n, m := 50+int(seed)*37, 1+int(seed%17)
		people, sessions := population(t, seed, n, m)
		t.Run(fmt.Sprintf("seed%d_%dpeople_%dsessions", seed, n, m), func(t *testing.T) {
			r := Assign(people, sessions, Options{})
			checkInvariants(t, people, sessions, r, nil)

			// The same people in another order: the same answer.
			shuffled := slices.Clone(people)
			rand.New(rand.NewPCG(seed, 1)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			again := Assign(shuffled, sessions, Options{})
			if d := cmp.Diff(r.Session, again.Session); d != "" {
				t.Errorf("re-run in another order differs (-first +again):\n%s", d)
			}

			// Half invited first, everyone later: nobody of the first
			// half moves, and the rest still obey every rule.
			first := people[:n/2]
			r1 := Assign(first, sessions, Options{})
			checkInvariants(t, first, sessions, r1, nil)
			r2 := Assign(people, sessions, Options{Previous: r1.Session})
			checkInvariants(t, people, sessions, r2, r1.Session)
			for pid, sid := range r1.Session {
				if r2.Session[pid] != sid {
					t.Errorf("person %s moved from %s to %q when people were added", pid, sid, r2.Session[pid])
				}
			}
			// Running again with the full previous map changes nothing
			// and adds nobody.
			r3 := Assign(people, sessions, Options{Previous: r2.Session})
			if d := cmp.Diff(r2.Session, r3.Session); d != "" || len(r3.Added) != 0 {
				t.Errorf("re-run with the previous assignment changed it (added %d):\n%s", len(r3.Added), d)
			}
		})
	}
}

// BenchmarkAssign is the target: 100,000 people, 200 sessions,
// under a second.
func BenchmarkAssign(b *testing.B) {
	people, sessions := population(b, 1, 100_000, 200)
	b.ResetTimer()
	for b.Loop() {
		r := Assign(people, sessions, Options{})
		if len(r.Session)+len(r.Left) != len(people) {
			b.Fatal("lost people")
		}
	}
}
