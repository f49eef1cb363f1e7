package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nudge-passkeys/nudge/internal/campaign"
	"github.com/nudge-passkeys/nudge/internal/deliver/smtp/smtptest"
	"github.com/nudge-passkeys/nudge/internal/ledger"
)

// scheduleFixture is sendFixture's campaign of n people with a daily cap of
// perDay and three waves: announce on Monday 4 January 2027 at 09:00 Paris
// time, reminder the next day at 09:00, and thanks with no send_at.
func scheduleFixture(t *testing.T, dir string, n int, host string, port int, perDay int) {
	t.Helper()
	sendFixture(t, dir, n, host, port, 6000)
	rewrite(t, filepath.Join(dir, "campaign.yaml"), [][2]string{
		{"per_day: 100000", "per_day: " + strings.TrimSpace(itoa(perDay))},
		{"deadline: 2027-01-29}", "deadline: 2027-01-29, time_zone: Europe/Paris}"},
		{"    template: announce\n", `    template: announce
    send_at: 2027-01-04T09:00
  - id: reminder
    audiences: [ready]
    template: reminder
    send_at: 2027-01-05T09:00
  - id: thanks
    audiences: [ready]
    template: thanks
`},
	})
}

// rewrite replaces, once each, the first of every pair in file by the
// second, failing when one is not there.
func rewrite(t *testing.T, file string, pairs [][2]string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for _, r := range pairs {
		if !strings.Contains(s, r[0]) {
			t.Fatalf("%s lacks %q", file, r[0])
		}
		s = strings.Replace(s, r[0], r[1], 1)
	}
	write(t, file, s)
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestScheduleTimeline(t *testing.T) {
	dir := t.TempDir()
	scheduleFixture(t, dir, 8, "127.0.0.1", 2525, 3)
	t.Setenv("NUDGE_NOW", "2027-01-04T07:00:00Z") // 08:00 in Paris
	out, errOut, code := nudge(t, dir, "schedule")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	want := `campaign e2e at Mon 4 Jan 2027 08:00 CET (2027-01-04 07:00Z): 1 sending mailbox(es), at most 3 a day, 3 left in the last 24 hours
WAVE      SEND AT (Europe/Paris)    SEND AT (UTC)      AUDIENCES  PEOPLE  SENT  PENDING  DAYS  LAST BY
announce  Mon 4 Jan 2027 09:00 CET  2027-01-04 08:00Z  ready      8       0     8        3     Wed 6 Jan 2027 09:00 CET
reminder  Tue 5 Jan 2027 09:00 CET  2027-01-05 08:00Z  ready      8       0     8        4     Sat 9 Jan 2027 09:00 CET
thanks    manual                    -                  ready      8       0     8        -     -
`
	if out != want {
		t.Errorf("schedule:\n%s\nwant:\n%s", out, want)
	}
	for _, w := range []string{
		"warning: wave thanks has no send_at: nudge run never sends it",
		"warning: wave reminder is due Tue 5 Jan 09:00 CET while announce is still sending: they share the sending mailboxes' daily cap, so reminder starts Wed 6 Jan 09:00 CET",
	} {
		if !strings.Contains(errOut, w) {
			t.Errorf("stderr lacks %q:\n%s", w, errOut)
		}
	}

	out, _, code = nudge(t, dir, "schedule", "--json")
	if code != exitOK {
		t.Fatalf("--json: exit %d", code)
	}
	var got timelineJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	if len(got.Waves) != 3 || got.Waves[0].Days != 3 || got.Waves[0].SendAtUTC != "2027-01-04T08:00:00Z" || got.Waves[0].ETA != "2027-01-06T09:00:00+01:00" || !got.Waves[2].Manual || len(got.Warnings) != 2 {
		t.Errorf("--json:\n%s", out)
	}
}

// TestRunOverDays drives nudge run like a scheduler would, with the clock
// moved by NUDGE_NOW: nothing before send_at, the daily cap at send_at,
// nothing more the same day, the rest the next day, and never twice.
func TestRunOverDays(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	dir := t.TempDir()
	scheduleFixture(t, dir, 5, srv.Host(), srv.Port(), 3)
	// Only announce is scheduled here, so each day's cap is announce's.
	file := filepath.Join(dir, "campaign.yaml")
	data, _ := os.ReadFile(file)
	write(t, file, strings.Replace(string(data), "    send_at: 2027-01-05T09:00\n", "", 1))
	db := filepath.Join(dir, "output", "e2e", "nudge.db")

	step := func(now string, args ...string) (string, string) {
		t.Helper()
		t.Setenv("NUDGE_NOW", now)
		out, errOut, code := nudge(t, dir, append([]string{"run", "--wait", "0"}, args...)...)
		if code != exitOK {
			t.Fatalf("run at %s: exit %d\n%s\n%s", now, code, out, errOut)
		}
		return out, errOut
	}

	out, _ := step("2027-01-04T07:59:00Z")
	if want := "nudge run Mon 4 Jan 2027 08:59 CET: nothing due (next: wave announce at Mon 4 Jan 2027 09:00 CET)\n"; out != want {
		t.Errorf("before send_at: %q, want %q", out, want)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Fatalf("%d messages before send_at", n)
	}
	if _, err := os.Stat(db); err == nil {
		t.Error("a run with nothing due created the ledger")
	}

	out, _ = step("2027-01-04T08:00:00Z", "--dry-run")
	if !strings.Contains(out, "wave announce: would send 3 now by smtp (5 in the audiences, 0 sent, 5 pending), last by Tue 5 Jan 2027 09:00 CET") {
		t.Errorf("dry run:\n%s", out)
	}
	if _, err := os.Stat(db); err == nil || len(srv.Messages()) != 0 {
		t.Error("--dry-run created the ledger or sent mail")
	}

	out, _ = step("2027-01-04T08:00:00Z")
	if !strings.Contains(out, "wave announce: 3 sent, 0 failed, 0 unknown, 2 still pending; daily cap reached") || strings.Count(out, "\n") != 1 {
		t.Errorf("at send_at: want one line for the wave:\n%s", out)
	}
	if n := len(srv.Messages()); n != 3 {
		t.Fatalf("at send_at the server got %d messages, want the cap of 3", n)
	}

	out, _ = step("2027-01-04T12:00:00Z")
	if !strings.Contains(out, "daily cap reached; 2 pending in announce go from Tue 5 Jan 2027 09:00 CET") {
		t.Errorf("later the same day:\n%s", out)
	}
	if n := len(srv.Messages()); n != 3 {
		t.Fatalf("the same day the server got %d messages, want still 3", n)
	}

	// A dry run after some sends reads the ledger and leaves it alone.
	before, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	out, _ = step("2027-01-05T08:05:00Z", "--dry-run")
	if !strings.Contains(out, "wave announce: would send 2 now by smtp (5 in the audiences, 3 sent, 2 pending)") {
		t.Errorf("dry run the next day:\n%s", out)
	}
	if after, _ := os.ReadFile(db); string(after) != string(before) {
		t.Error("--dry-run changed nudge.db")
	}

	out, _ = step("2027-01-05T08:05:00Z")
	if !strings.Contains(out, "wave announce: 2 sent, 0 failed, 0 unknown, 0 still pending") {
		t.Errorf("next day:\n%s", out)
	}
	out, _ = step("2027-01-05T08:10:00Z")
	if want := "nudge run Tue 5 Jan 2027 09:10 CET: nothing to send (due waves done: announce)\n"; out != want {
		t.Errorf("after the wave: %q, want %q", out, want)
	}
	seen := map[string]int{}
	for _, m := range srv.Messages() {
		seen[m.To[0]]++
	}
	if len(seen) != 5 || len(srv.Messages()) != 5 {
		t.Errorf("messages per address %v, want each of 5 once", seen)
	}

	l, err := ledger.Open(context.Background(), db, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	runs, err := l.Runs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].Command != "run" || runs[0].Counts.Sent != 3 || runs[1].Counts.Sent != 2 {
		t.Errorf("runs recorded: %+v; want two runs by run, 3 then 2 sent", runs)
	}
}

// TestRunBacksOffWhenLocked: while another nudge holds the campaign's lock,
// run sends nothing, says so in one line and exits 0.
func TestRunBacksOffWhenLocked(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	dir := t.TempDir()
	scheduleFixture(t, dir, 3, srv.Host(), srv.Port(), 100)
	if err := os.MkdirAll(filepath.Join(dir, "output", "e2e"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The other nudge started ten minutes before this run.
	started := func() time.Time { return time.Date(2027, 1, 4, 7, 50, 0, 0, time.UTC) }
	held, err := ledger.Open(context.Background(), filepath.Join(dir, "output", "e2e", "nudge.db"), ledger.Options{Lock: true, Now: started})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("NUDGE_NOW", "2027-01-04T08:00:00Z")
	out, errOut, code := nudge(t, dir, "run", "--wait", "0")
	if code != exitOK || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "another nudge is sending for campaign e2e; this run did nothing") {
		t.Errorf("locked: exit %d\nstdout %q\nstderr %q\nwant exit 0 and one line on stderr", code, out, errOut)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("%d messages sent while locked", n)
	}
	held.Close()

	// A lock over a day old is no run in progress but a crash: an error.
	write(t, filepath.Join(dir, "output", "e2e", "nudge.db.lock"), `{"pid":1,"host":"elsewhere","started":"2027-01-02T08:00:00Z"}`)
	if _, errOut, code := nudge(t, dir, "run", "--wait", "0"); code != exitFailure || !strings.Contains(errOut, "the lock is 48h0m0s old") || len(srv.Messages()) != 0 {
		t.Errorf("stale lock: exit %d, %d messages\n%s", code, len(srv.Messages()), errOut)
	}
	if err := os.Remove(filepath.Join(dir, "output", "e2e", "nudge.db.lock")); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := nudge(t, dir, "run", "--wait", "0"); code != exitOK || len(srv.Messages()) != 3 {
		t.Errorf("after the lock went: exit %d, %d messages\n%s\n%s", code, len(srv.Messages()), out, errOut)
	}
}

// TestRunConcurrent starts two nudge processes on one campaign at once, as
// an overlapping scheduler would: one sends, the other backs off with exit
// 0, and every message goes once.
func TestRunConcurrent(t *testing.T) {
	if os.Getenv("NUDGE_REQUIRE_TOOLS") == "" && testing.Short() {
		t.Skip("spawns processes")
	}
	srv := smtptest.Start(t, smtptest.Options{})
	dir := t.TempDir()
	scheduleFixture(t, dir, 20, srv.Host(), srv.Port(), 100)
	// 600 a minute: 20 messages take 2 s, long enough for the runs to meet.
	file := filepath.Join(dir, "campaign.yaml")
	data, _ := os.ReadFile(file)
	write(t, file, strings.Replace(string(data), "rate_per_minute: 6000", "rate_per_minute: 600", 1))
	var cmds []*exec.Cmd
	var outs, errs [2]bytes.Buffer
	for i := range 2 {
		cmd := exec.Command(os.Args[0], "--campaign", file, "--out", filepath.Join(dir, "output"), "run", "--wait", "0")
		cmd.Env = append(os.Environ(), "NUDGE_TEST_MAIN=1", "NUDGE_NOW=2027-01-04T08:00:00Z")
		cmd.Stdout, cmd.Stderr = &outs[i], &errs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	backedOff := 0
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("run %d: %v\n%s\n%s", i, err, outs[i].String(), errs[i].String())
		}
		if strings.Contains(errs[i].String(), "this run did nothing") {
			backedOff++
		}
	}
	if backedOff != 1 {
		t.Errorf("%d runs backed off, want 1\n1: %s%s\n2: %s%s", backedOff, outs[0].String(), errs[0].String(), outs[1].String(), errs[1].String())
	}
	seen := map[string]int{}
	for _, m := range srv.Messages() {
		seen[m.To[0]]++
	}
	if len(seen) != 20 || len(srv.Messages()) != 20 {
		t.Errorf("%d messages to %d addresses, want 20 to 20", len(srv.Messages()), len(seen))
	}
}

// TestRunRefusals: run sends only when the campaign says how, and takes
// only smtp or graph.
func TestRunRefusals(t *testing.T) {
	dir := t.TempDir()
	scheduleFixture(t, dir, 2, "127.0.0.1", 2525, 3)
	file := filepath.Join(dir, "campaign.yaml")
	data, _ := os.ReadFile(file)
	var kept []string
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, "smtp:") {
			kept = append(kept, line)
		}
	}
	write(t, file, strings.Join(kept, "\n"))
	t.Setenv("NUDGE_NOW", "2027-01-04T08:00:00Z")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no delivery configured", []string{"run"}, exitFailure, "the campaign says no way to send"},
		{"outbox is not a route", []string{"run", "--via", "outbox"}, exitUsage, "use smtp or graph"},
		{"a dry run needs no delivery", []string{"run", "--dry-run"}, exitOK, "would send 2 now by nothing yet (add an smtp: or graph_mail: section to"},
		{"negative wait", []string{"run", "--wait", "-1s"}, exitUsage, "--wait"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := nudge(t, dir, tc.args...)
			if code != tc.code || !strings.Contains(out+errOut, tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d and %q", code, out, errOut, tc.code, tc.want)
			}
		})
	}
}

// TestScheduleWatch: schedule --watch runs what is due at every tick until
// stopped, sending each message once, and stops with exit 0.
func TestScheduleWatch(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	dir := t.TempDir()
	scheduleFixture(t, dir, 3, srv.Host(), srv.Port(), 100)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"--campaign", filepath.Join(dir, "campaign.yaml"), "--out", filepath.Join(dir, "output"),
			"schedule", "--watch", "--every", "20ms", "--now", "2027-01-04T08:00:00Z"}, nil, &out, &errOut)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(out.String(), "nothing to send") < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if c := <-code; c != exitOK {
		t.Errorf("exit %d\n%s\n%s", c, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "wave announce: 3 sent") || strings.Count(out.String(), "nothing to send") < 2 {
		t.Errorf("want one send and then idle ticks:\n%s\n%s", out.String(), errOut.String())
	}
	if n := len(srv.Messages()); n != 3 {
		t.Errorf("the server got %d messages, want 3", n)
	}
}

func TestRunNowFlag(t *testing.T) {
	dir := t.TempDir()
	scheduleFixture(t, dir, 2, "127.0.0.1", 2525, 3)
	t.Setenv("NUDGE_NOW", "2027-01-04T08:00:00Z")
	out, errOut, code := nudge(t, dir, "run", "--now", "2027-01-01T00:00:00Z")
	if code != exitOK || !strings.Contains(out, "nudge run Fri 1 Jan 2027 01:00 CET: nothing due") {
		t.Errorf("--now before send_at: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, errOut, code := nudge(t, dir, "run", "--now", "tomorrow"); code != exitUsage || !strings.Contains(errOut, "RFC 3339") {
		t.Errorf("bad --now: exit %d, %s", code, errOut)
	}
}

func TestRunVia(t *testing.T) {
	mime := campaign.GraphMail{Format: "mime"}
	smtp := campaign.SMTP{Host: "smtp.office365.com"}
	for _, tc := range []struct {
		name string
		c    campaign.Campaign
		flag string
		want string // "" for a refusal
	}{
		{"smtp host", campaign.Campaign{SMTP: smtp}, "", "smtp"},
		{"graph_mail", campaign.Campaign{GraphMail: mime}, "", "graph"},
		{"graph_mail wins over smtp", campaign.Campaign{SMTP: smtp, GraphMail: mime}, "", "graph"},
		{"graph: alone only reads the directory", campaign.Campaign{Graph: campaign.Graph{TenantID: "t", ClientID: "c"}}, "", ""},
		{"nothing", campaign.Campaign{}, "", ""},
		{"the flag wins", campaign.Campaign{GraphMail: mime}, "smtp", "smtp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := runVia(&tc.c, tc.flag)
			if got != tc.want || (err != nil) != (tc.want == "") {
				t.Errorf("runVia = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
