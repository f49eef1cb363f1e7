package invite

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestPlan(t *testing.T) {
	s1 := session(t, "s1", "fr", "Europe/Paris", "2026-12-03 10:00")
	s2 := session(t, "s2", "fr", "Europe/Paris", "2026-12-03 15:00")
	moved := with(s1, func(s *Session) { s.Start, s.End = s.Start.Add(time.Hour), s.End.Add(time.Hour) })
	a, b := person(t, "a", "fr", "Europe/Paris", "FR"), person(t, "b", "fr", "Europe/Paris", "FR")
	sentTo := func(s Session, seq int) Sent { return Sent{Session: s.ID, Sequence: seq, Fingerprint: Fingerprint(&s)} }
	type act struct {
		Person, Session string
		Kind            Kind
		Sequence        int
	}
	for _, c := range []struct {
		name     string
		sessions []Session
		people   []Person
		sent     map[string]Sent
		want     []act
		orphans  []string
	}{
		{"first run invites everyone", []Session{s1}, []Person{b, a}, nil,
			[]act{{"a", "s1", Invite, 0}, {"b", "s1", Invite, 0}}, nil},
		{"nothing changed, nothing sent", []Session{s1}, []Person{a}, map[string]Sent{"a": sentTo(s1, 0)}, nil, nil},
		{"added people only", []Session{s1}, []Person{a, b}, map[string]Sent{"a": sentTo(s1, 0)},
			[]act{{"b", "s1", Invite, 0}}, nil},
		{"a moved session is an update with the next sequence", []Session{moved}, []Person{a}, map[string]Sent{"a": sentTo(s1, 2)},
			[]act{{"a", "s1", Update, 3}}, nil},
		{"a renamed session too", []Session{with(s1, func(s *Session) { s.Title = "New" })}, []Person{a}, map[string]Sent{"a": sentTo(s1, 0)},
			[]act{{"a", "s1", Update, 1}}, nil},
		{"a cancelled session: cancel, then the next that fits", []Session{with(s1, func(s *Session) { s.Cancelled = true }), s2}, []Person{a},
			map[string]Sent{"a": sentTo(s1, 1)},
			[]act{{"a", "s1", Cancel, 2}, {"a", "s2", Invite, 0}}, nil},
		{"a cancellation is sent once", []Session{with(s1, func(s *Session) { s.Cancelled = true })}, []Person{a},
			map[string]Sent{"a": {Session: "s1", Sequence: 2, Fingerprint: Fingerprint(&s1), Cancelled: true}}, nil, nil},
		{"invited again after a cancellation: same UID, next sequence", []Session{s1}, []Person{a},
			map[string]Sent{"a": {Session: "s1", Sequence: 2, Fingerprint: Fingerprint(&s1), Cancelled: true}},
			[]act{{"a", "s1", Invite, 3}}, nil},
		{"back to a session they were cancelled from: above that CANCEL", []Session{s1, with(s2, func(s *Session) { s.Cancelled = true })}, []Person{a},
			// Invited to s1, s1 cancelled (CANCEL s1/1) and s2 sent instead;
			// now s2 is cancelled and s1 is back.
			map[string]Sent{"a": {Session: "s2", Sequence: 0, Fingerprint: Fingerprint(&s2), Sequences: map[string]int{"s1": 1, "s2": 0}}},
			[]act{{"a", "s2", Cancel, 1}, {"a", "s1", Invite, 2}}, nil},
		{"back to a session left long ago, after updates of the current one", []Session{s1, with(s2, func(s *Session) { s.Cancelled = true })}, []Person{a},
			map[string]Sent{"a": {Session: "s2", Sequence: 4, Fingerprint: Fingerprint(&s2), Sequences: map[string]int{"s1": 6, "s2": 4}}},
			[]act{{"a", "s2", Cancel, 5}, {"a", "s1", Invite, 7}}, nil},
		{"a deleted session cannot be cancelled", []Session{s2}, []Person{a}, map[string]Sent{"a": sentTo(s1, 0)},
			[]act{{"a", "s2", Invite, 0}}, []string{"a"}},
		{"people not passed get nothing", []Session{moved}, []Person{b}, map[string]Sent{"a": sentTo(s1, 0)},
			[]act{{"b", "s1", Invite, 0}}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := Assign(c.people, c.sessions, Options{Previous: Previous(c.sent)})
			acts, orphans := Plan(c.people, c.sessions, r, c.sent)
			var got []act
			for _, a := range acts {
				got = append(got, act{a.Person.ID, a.Session.ID, a.Kind, a.Sequence})
				if a.Fingerprint != Fingerprint(a.Session) {
					t.Errorf("%s: fingerprint is not the session's", a.Person.ID)
				}
			}
			if d := cmp.Diff(c.want, got, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("actions (-want +got):\n%s", d)
			}
			var gotOrphans []string
			for _, o := range orphans {
				gotOrphans = append(gotOrphans, o.PersonID)
			}
			if d := cmp.Diff(c.orphans, gotOrphans, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("orphans (-want +got):\n%s", d)
			}
			for _, a := range acts {
				cal := sender.Calendar(a)
				if want := map[Kind]string{Invite: "REQUEST", Update: "REQUEST", Cancel: "CANCEL"}[a.Kind]; string(cal.Method) != want || cal.Events[0].Sequence != a.Sequence {
					t.Errorf("%s %s: METHOD %s SEQUENCE %d", a.Person.ID, a.Kind, cal.Method, cal.Events[0].Sequence)
				}
				if cal.Events[0].UID != UID("passkeys-2026", a.Session.ID, a.Person.ID, "contoso.example") {
					t.Errorf("%s %s: UID is not the invitation's", a.Person.ID, a.Kind)
				}
			}
		})
	}
}

func TestFingerprint(t *testing.T) {
	s := session(t, "s1", "fr", "Europe/Paris", "2026-12-03 10:00")
	base := Fingerprint(&s)
	same := with(s, func(s *Session) { s.Capacity = 99; s.Language = "en"; s.Host = "x@contoso.example" })
	if Fingerprint(&same) != base {
		t.Error("capacity, language or host changed the fingerprint: nothing a calendar shows")
	}
	for name, f := range map[string]func(*Session){
		"start":    func(s *Session) { s.Start = s.Start.Add(time.Minute) },
		"end":      func(s *Session) { s.End = s.End.Add(time.Minute) },
		"zone":     func(s *Session) { s.Start = s.Start.In(time.UTC) },
		"title":    func(s *Session) { s.Title += "!" },
		"join url": func(s *Session) { s.JoinURL += "x" },
		"room":     func(s *Session) { s.Room = "R1" },
	} {
		changed := with(s, f)
		if Fingerprint(&changed) == base {
			t.Errorf("a change of %s keeps the fingerprint", name)
		}
	}
}
