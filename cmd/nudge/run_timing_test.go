package main

import (
	"context"
	"encoding/json"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nudge-passkeys/nudge/internal/deliver/smtp/smtptest"
	"github.com/nudge-passkeys/nudge/internal/ledger"
)

// timingFixture is sendFixture's campaign of four people, p0 and p2 in
// Paris (the default zone), p1 and p3 in New York (by usage location),
// with announce on Monday 4 January 2027 at 09:00 and a reminder a week
// after each person's announce, both inside 09:00-17:00 on weekdays in the
// recipient's zone, the reminder skipping Tuesday 12 January.
func timingFixture(t *testing.T, dir string, host string, port int, perDay int) {
	t.Helper()
	sendFixture(t, dir, 4, host, port, 6000)
	rewrite(t, filepath.Join(dir, "campaign.yaml"), [][2]string{
		{"per_day: 100000", "per_day: " + itoa(perDay)},
		{"deadline: 2027-01-29}", "deadline: 2027-01-29, time_zone: Europe/Paris}\nsessions: {usage_locations: {US: America/New_York}}"},
		{"    template: announce\n", `    template: announce
    send_at: 2027-01-04T09:00
    window: {days: [mon, tue, wed, thu, fri], hours: "09:00-17:00", zone: recipient}
  - id: reminder
    audiences: [ready]
    template: reminder
    after: announce + 7d
    window: {days: [mon, tue, wed, thu, fri], hours: "09:00-17:00"}
    skip: [2027-01-12]
`},
	})
	rewrite(t, filepath.Join(dir, "tenant", "users.json"), [][2]string{
		{`{"id":"u1",`, `{"id":"u1","usageLocation":"US",`},
		{`{"id":"u3",`, `{"id":"u3","usageLocation":"US",`},
	})
}

// TestRunWindowsAndAfter drives nudge run over two simulated weeks: each
// person gets announce inside their own working hours, and the reminder a
// week after their own announce, never on the skipped date, never after
// they registered a passkey, never twice; the schedule printed before the
// reminders says when the last one goes, and it does.
func TestRunWindowsAndAfter(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	dir := t.TempDir()
	timingFixture(t, dir, srv.Host(), srv.Port(), 100)
	recipients := func() []string {
		var to []string
		for _, m := range srv.Messages() {
			to = append(to, m.To[0])
		}
		return to
	}
	step := func(now string, wantOut ...string) {
		t.Helper()
		t.Setenv("NUDGE_NOW", now)
		out, errOut, code := nudge(t, dir, "run", "--wait", "0")
		if code != exitOK {
			t.Fatalf("run at %s: exit %d\n%s\n%s", now, code, out, errOut)
		}
		for _, w := range wantOut {
			if !strings.Contains(out, w) {
				t.Errorf("run at %s: output lacks %q:\n%s", now, w, out)
			}
		}
	}
	expect := func(when string, want ...string) {
		t.Helper()
		if r := recipients(); !slices.Equal(r, want) {
			t.Errorf("%s: messages to %v, want %v", when, r, want)
		}
	}

	// Monday 09:00 in Paris is 03:00 in New York.
	t.Setenv("NUDGE_NOW", "2027-01-04T08:00:00Z")
	if out, _, _ := nudge(t, dir, "run", "--dry-run"); !strings.Contains(out, "wave announce: would send 2 now by smtp (4 in the audiences, 0 sent, 4 pending)") ||
		!strings.Contains(out, "wave reminder: would send 0 now") {
		t.Errorf("dry run:\n%s", out)
	}
	step("2027-01-04T08:00:00Z", "wave announce: 2 sent, 0 failed, 0 unknown, 0 still pending, 2 not due yet", "wave reminder: 4 pending, none due now")
	expect("Monday morning", "p0@contoso.example", "p2@contoso.example")
	step("2027-01-04T12:00:00Z", "wave announce: 2 pending, none due now (next at Mon 4 Jan 2027 15:00 CET)")
	expect("Monday, before New York opens", "p0@contoso.example", "p2@contoso.example")
	// The scheduler was down on Monday afternoon: New York gets it Tuesday.
	step("2027-01-05T14:00:00Z", "wave announce: 2 sent")
	expect("Tuesday", "p0@contoso.example", "p2@contoso.example", "p1@contoso.example", "p3@contoso.example")

	// p2 registers a passkey between the waves.
	rewrite(t, filepath.Join(dir, "tenant", "userRegistrationDetails.json"), [][2]string{{
		`{"id":"u2","userPrincipalName":"p2@contoso.example","isMfaCapable":true,"methodsRegistered":["microsoftAuthenticatorPush"]}`,
		`{"id":"u2","userPrincipalName":"p2@contoso.example","isMfaCapable":true,"methodsRegistered":["microsoftAuthenticatorPush","passKeyDeviceBound"]}`,
	}})

	// Before the reminders, the timeline: p0 on Monday; p1 and p3 a week
	// after Tuesday's announce, but Tuesday 12 is skipped, so Wednesday
	// 09:00 in New York.
	t.Setenv("NUDGE_NOW", "2027-01-10T12:00:00Z")
	out, errOut, code := nudge(t, dir, "schedule", "--json")
	if code != exitOK {
		t.Fatalf("schedule: exit %d\n%s", code, errOut)
	}
	var tl timelineJSON
	if err := json.Unmarshal([]byte(out), &tl); err != nil {
		t.Fatalf("schedule --json: %v\n%s", err, out)
	}
	var rem *waveJSON
	for i := range tl.Waves {
		if tl.Waves[i].ID == "reminder" {
			rem = &tl.Waves[i]
		}
	}
	if rem == nil || rem.After != "announce" || rem.People != 3 || rem.Pending != 3 || rem.Waiting != 0 ||
		!strings.HasPrefix(rem.Start, "2027-01-11T09:00") || !strings.HasPrefix(rem.ETA, "2027-01-13T15:00") ||
		len(rem.PerDate) != 2 || rem.PerDate[0] != (dayJSON{"2027-01-11", 1}) || rem.PerDate[1] != (dayJSON{"2027-01-13", 2}) {
		t.Fatalf("reminder on the timeline: %+v\n%s", rem, out)
	}

	step("2027-01-11T08:05:00Z", "wave reminder: 1 sent, 0 failed, 0 unknown, 0 still pending, 2 not due yet")
	expect("Monday a week later", "p0@contoso.example", "p2@contoso.example", "p1@contoso.example", "p3@contoso.example", "p0@contoso.example")
	step("2027-01-12T14:30:00Z", "wave reminder: 2 pending, none due now (next at Wed 13 Jan 2027 15:00 CET)")
	if n := len(srv.Messages()); n != 5 {
		t.Fatalf("on the skipped date the server got %d messages, want still 5", n)
	}
	step("2027-01-13T14:00:00Z", "wave reminder: 2 sent")
	step("2027-01-14T14:00:00Z", "nothing to send")
	expect("the end", "p0@contoso.example", "p2@contoso.example", "p1@contoso.example", "p3@contoso.example",
		"p0@contoso.example", "p1@contoso.example", "p3@contoso.example")
	// The reminders went when the schedule said they would.
	l, err := ledger.Open(context.Background(), filepath.Join(dir, "output", "e2e", "nudge.db"), ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	sent := map[string]string{}
	err = l.EachSend(context.Background(), "reminder", func(s ledger.Send) error {
		sent[s.PersonID] = string(s.Status) + " " + s.SentAt.UTC().Format("2006-01-02T15:04")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"u0": "sent 2027-01-11T08:05", "u1": "sent 2027-01-13T14:00", "u3": "sent 2027-01-13T14:00"}
	if !maps.Equal(sent, want) {
		t.Errorf("reminder rows %v, want %v", sent, want)
	}
}

// TestRunCapsInWindows: a daily cap of one spreads announce over four days,
// each message inside its recipient's window; runs every hour of the
// working week send on the dates the schedule printed beforehand, the last
// within the hour after the ETA it printed (a run finds the cap freed
// at the next call, not the instant it frees).
func TestRunCapsInWindows(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	dir := t.TempDir()
	timingFixture(t, dir, srv.Host(), srv.Port(), 1)
	t.Setenv("NUDGE_NOW", "2027-01-04T06:00:00Z")
	out, errOut, code := nudge(t, dir, "schedule", "--json")
	if code != exitOK {
		t.Fatalf("schedule: exit %d\n%s", code, errOut)
	}
	var tl timelineJSON
	if err := json.Unmarshal([]byte(out), &tl); err != nil {
		t.Fatal(err)
	}
	a := tl.Waves[0]
	wantDates := []dayJSON{{"2027-01-04", 1}, {"2027-01-05", 1}, {"2027-01-06", 1}, {"2027-01-07", 1}}
	if a.ID != "announce" || a.Days != 4 || !slices.Equal(a.PerDate, wantDates) || a.ETA != "2027-01-07T15:00:00+01:00" {
		t.Fatalf("announce on the timeline: %+v", a)
	}
	eta, err := time.Parse(time.RFC3339, a.ETA)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2027, 1, 4, 7, 0, 0, 0, time.UTC)
	for h := 0; h < 5*24; h++ {
		now := start.Add(time.Duration(h) * time.Hour)
		if now.Hour() < 7 || now.Hour() > 16 {
			continue // nobody's window is open: Paris 09-17 is 08-16Z, New York 14-22Z
		}
		t.Setenv("NUDGE_NOW", now.Format(time.RFC3339))
		if out, errOut, code := nudge(t, dir, "run", "--wait", "0"); code != exitOK {
			t.Fatalf("run at %s: exit %d\n%s\n%s", now, code, out, errOut)
		}
	}
	l, err := ledger.Open(context.Background(), filepath.Join(dir, "output", "e2e", "nudge.db"), ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	perDate := map[string]int{}
	var last time.Time
	err = l.EachSend(context.Background(), "announce", func(s ledger.Send) error {
		if s.Status != ledger.StatusSent {
			t.Errorf("%s: %s", s.PersonID, s.Status)
		}
		perDate[s.SentAt.In(eta.Location()).Format(time.DateOnly)]++
		if s.SentAt.After(last) {
			last = s.SentAt
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range wantDates {
		if perDate[d.Date] != d.N {
			t.Errorf("sent per date %v, want one on each of %v", perDate, wantDates)
			break
		}
	}
	if last.Before(eta) || last.After(eta.Add(time.Hour+time.Minute)) {
		t.Errorf("last sent %s, schedule said %s", last.UTC(), eta.UTC())
	}
}

// TestSendIgnoresWindow: asked by name, nudge send sends a windowed wave at
// once, outside the window, and says that it ignores it.
func TestSendIgnoresWindow(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	dir := t.TempDir()
	timingFixture(t, dir, srv.Host(), srv.Port(), 100)
	t.Setenv("NUDGE_NOW", "2027-01-09T22:00:00Z") // Saturday night everywhere
	out, errOut, code := nudge(t, dir, "send", "announce", "--via", "smtp", "--yes")
	if code != exitOK || len(srv.Messages()) != 4 {
		t.Fatalf("exit %d, %d messages\n%s\n%s", code, len(srv.Messages()), out, errOut)
	}
	if !strings.Contains(errOut, "nudge send ignores them and sends to everyone in the audiences now") {
		t.Errorf("stderr does not say the window is ignored:\n%s", errOut)
	}
	// run then finds announce done, and the reminder waits a week.
	if out, _, _ := nudge(t, dir, "run", "--wait", "0"); !strings.Contains(out, "wave reminder: 4 pending, none due now (next at Mon 18 Jan 2027 09:00 CET)") {
		t.Errorf("run after send:\n%s", out)
	}
}

// TestRunAcrossDST: windows follow each recipient's wall clock through
// their own daylight-saving change: New York moves on 14 March 2027 and
// Paris on 28 March, so 09:00 is 13:00Z, then 07:00Z, where it was 14:00Z
// and 08:00Z.
func TestRunAcrossDST(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	dir := t.TempDir()
	timingFixture(t, dir, srv.Host(), srv.Port(), 100)
	rewrite(t, filepath.Join(dir, "campaign.yaml"), [][2]string{{"send_at: 2027-01-04T09:00", "send_at: 2027-03-12T09:00"}, {"after: announce + 7d", "after: announce + 16d"}})
	for _, s := range []struct {
		now  string
		want int // messages the server has after the run
	}{
		{"2027-03-12T13:30:00Z", 2}, // Friday 14:30 in Paris, 08:30 EST: Paris only
		{"2027-03-15T12:59:00Z", 2}, // Monday 08:59 EDT (it would be 07:59 EST)
		{"2027-03-15T13:00:00Z", 4}, // 09:00 EDT, an hour before 09:00 EST
		{"2027-03-29T06:59:00Z", 4}, // announce + 16d is Sunday 28: Monday 08:59 CEST
		{"2027-03-29T07:00:00Z", 6}, // 09:00 CEST, an hour before 09:00 CET
		{"2027-03-31T12:59:00Z", 6}, // New York's 16 days end at 13:00Z
		{"2027-03-31T13:01:00Z", 8},
		{"2027-04-01T13:01:00Z", 8}, // never twice
	} {
		t.Setenv("NUDGE_NOW", s.now)
		out, errOut, code := nudge(t, dir, "run", "--wait", "0")
		if code != exitOK || len(srv.Messages()) != s.want {
			t.Fatalf("run at %s: exit %d, %d messages, want %d\n%s\n%s", s.now, code, len(srv.Messages()), s.want, out, errOut)
		}
	}
}

// TestScheduleTimed: the table names a wave that follows another, and the
// people per date under the cap.
func TestScheduleTimed(t *testing.T) {
	dir := t.TempDir()
	timingFixture(t, dir, "127.0.0.1", 2525, 1)
	t.Setenv("NUDGE_NOW", "2027-01-04T06:00:00Z")
	out, errOut, code := nudge(t, dir, "schedule")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	for _, w := range []string{
		"announce  Mon 4 Jan 2027 09:00 CET  2027-01-04 08:00Z  ready      4       0     4        4     Thu 7 Jan 2027 15:00 CET\n",
		"reminder  after announce + 7d",
		"announce per day: 2027-01-04 1, 2027-01-05 1, 2027-01-06 1, 2027-01-07 1\n",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("schedule lacks %q:\n%s", w, out)
		}
	}
}

// BenchmarkScheduleTimed is BenchmarkSchedule with the per-person timeline:
// 100,000 people, four waves, three of them following the one before by a
// few days inside a weekday window in the recipient's zone.
func BenchmarkScheduleTimed(b *testing.B) {
	const people = 100_000
	dir := b.TempDir()
	t := &testing.T{}
	scheduleFixture(t, dir, people, "127.0.0.1", 2525, 9000)
	window := "    window: {days: [mon, tue, wed, thu, fri], hours: \"09:00-17:00\"}\n"
	rewrite(t, filepath.Join(dir, "campaign.yaml"), [][2]string{
		{"    send_at: 2027-01-05T09:00\n", "    after: announce + 3d\n" + window},
		{"    template: thanks\n", "    template: thanks\n    after: reminder + 3d\n" + window + `  - id: onboard
    audiences: [ready]
    template: onboard
    after: thanks + 3d
` + window},
	})
	b.Setenv("NUDGE_NOW", "2027-01-04T07:00:00Z")
	b.ResetTimer()
	for range b.N {
		out, errOut, code := nudge(t, dir, "schedule")
		if code != exitOK || !strings.Contains(out, "onboard   after thanks + 3d") {
			b.Fatalf("schedule: exit %d\n%s\n%s", code, out, errOut)
		}
	}
}
