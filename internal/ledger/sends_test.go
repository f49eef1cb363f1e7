package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func claim(run int64, k Key) Claim {
	return Claim{Run: run, MessageID: "<" + k.PersonID + "@nudge.test>", Sender: "nudge@contoso.test", At: t0}
}

// into brings a freshly planned row to status s along allowed moves.
func into(t *testing.T, l *Ledger, run int64, k Key, s Status) {
	t.Helper()
	ctx := context.Background()
	if _, err := l.Plan(ctx, run, []Recipient{{Key: k, Mail: "a@contoso.test"}}); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("into %s: %v", s, err)
		}
	}
	switch s {
	case StatusPending:
	case StatusSkipped:
		must(l.MarkSkipped(ctx, k, t0, "registered"))
	default:
		must(l.MarkSending(ctx, k, claim(run, k)))
		switch s {
		case StatusSent:
			must(l.MarkSent(ctx, k, t0))
		case StatusFailed:
			must(l.MarkFailed(ctx, k, t0, "550 no such user", 550))
		case StatusUnknown:
			// Only this key is sending: every test case has its own ledger.
			if n, err := l.RecoverInterrupted(ctx); err != nil || n != 1 {
				t.Fatalf("RecoverInterrupted = %d, %v", n, err)
			}
		}
	}
	if got, _ := l.Status(ctx, k); got != s {
		t.Fatalf("into %s: status is %s", s, got)
	}
}

func TestTransitions(t *testing.T) {
	type op struct {
		name string
		do   func(*Ledger, Key, int64) error
		// from → to for the moves it allows; anything else must fail
		// with err and leave the row alone.
		allowed map[Status]Status
		err     error
	}
	ctx := context.Background()
	ops := []op{
		{"MarkSending", func(l *Ledger, k Key, run int64) error { return l.MarkSending(ctx, k, claim(run, k)) },
			map[Status]Status{StatusPending: StatusSending}, ErrNotPending},
		{"MarkSending+RetryUnknown", func(l *Ledger, k Key, run int64) error {
			c := claim(run, k)
			c.RetryUnknown = true
			return l.MarkSending(ctx, k, c)
		}, map[Status]Status{StatusPending: StatusSending, StatusUnknown: StatusSending}, ErrNotPending},
		{"MarkSent", func(l *Ledger, k Key, _ int64) error { return l.MarkSent(ctx, k, t0) },
			map[Status]Status{StatusSending: StatusSent}, ErrNotSending},
		{"MarkRetry", func(l *Ledger, k Key, _ int64) error { return l.MarkRetry(ctx, k, t0, "421 try later", 421) },
			map[Status]Status{StatusSending: StatusPending}, ErrNotSending},
		{"MarkFailed", func(l *Ledger, k Key, _ int64) error { return l.MarkFailed(ctx, k, t0, "550 rejected", 550) },
			map[Status]Status{StatusSending: StatusFailed, StatusPending: StatusFailed, StatusUnknown: StatusFailed}, ErrNotSending},
		{"MarkUnknown", func(l *Ledger, k Key, _ int64) error { return l.MarkUnknown(ctx, k, t0, "EOF before the reply", 0) },
			map[Status]Status{StatusSending: StatusUnknown}, ErrNotSending},
		{"MarkSkipped", func(l *Ledger, k Key, _ int64) error { return l.MarkSkipped(ctx, k, t0, "registered") },
			map[Status]Status{StatusPending: StatusSkipped}, ErrNotPending},
	}
	states := []Status{StatusPending, StatusSending, StatusSent, StatusFailed, StatusUnknown, StatusSkipped}
	for _, o := range ops {
		for _, from := range states {
			to, ok := o.allowed[from]
			t.Run(fmt.Sprintf("%s/from_%s", o.name, from), func(t *testing.T) {
				l := openTest(t, Options{Lock: true})
				run := startRun(t, l)
				k := Key{"w1", "p1"}
				into(t, l, run, k, from)
				err := o.do(l, k, run)
				got, _ := l.Status(ctx, k)
				switch {
				case ok && err != nil:
					t.Errorf("%s from %s: %v, want → %s", o.name, from, err, to)
				case ok && got != to:
					t.Errorf("%s from %s: status %s, want %s", o.name, from, got, to)
				case !ok && !errors.Is(err, o.err):
					t.Errorf("%s from %s: error %v, want %v", o.name, from, err, o.err)
				case !ok && got != from:
					t.Errorf("%s from %s (refused): status %s, want unchanged", o.name, from, got)
				}
			})
		}
		t.Run(o.name+"/missing", func(t *testing.T) {
			l := openTest(t, Options{Lock: true})
			if err := o.do(l, Key{"w1", "nobody"}, startRun(t, l)); !errors.Is(err, ErrNotFound) {
				t.Errorf("%s on a missing row: %v, want ErrNotFound", o.name, err)
			}
		})
	}
}

func TestSendRowHistory(t *testing.T) {
	// One person through retry, retry, sent: the row keeps what the
	// workbook shows, the attempts table the story of what went wrong
	// (the success is the row itself).
	ctx := context.Background()
	l := openTest(t, Options{})
	run := startRun(t, l)
	k := Key{"w1", "p1"}
	r := Recipient{Key: k, UPN: "ann@contoso.test", Mail: "ann@contoso.test", Audience: "staff", Locale: "en-GB"}
	if _, err := l.Plan(ctx, run, []Recipient{r}); err != nil {
		t.Fatal(err)
	}
	steps := []func() error{
		func() error { return l.MarkSending(ctx, k, Claim{Run: run, MessageID: "<m@x>", Sender: "s@x", At: t0}) },
		func() error { return l.MarkRetry(ctx, k, t0.Add(time.Second), "421 4.7.0 try later", 421) },
		func() error {
			return l.MarkSending(ctx, k, Claim{Run: run, MessageID: "<m@x>", Sender: "s@x", At: t0.Add(time.Minute)})
		},
		func() error { return l.MarkRetry(ctx, k, t0.Add(time.Minute+time.Second), "connection reset", 0) },
		func() error {
			return l.MarkSending(ctx, k, Claim{Run: run, MessageID: "<m@x>", Sender: "s@x", At: t0.Add(2 * time.Minute)})
		},
		func() error { return l.MarkSent(ctx, k, t0.Add(2*time.Minute+time.Second)) },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	var got []Send
	l.EachSend(ctx, "w1", func(s Send) error { got = append(got, s); return nil })
	want := []Send{{
		Recipient: r, Status: StatusSent, MessageID: "<m@x>", Sender: "s@x", Attempts: 3,
		PlannedAt: t0, FirstAttemptAt: t0, LastAttemptAt: t0.Add(2 * time.Minute),
		SentAt:    t0.Add(2*time.Minute + time.Second),
		LastError: "connection reset", RunID: run,
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}
	var outcomes []string
	rows, _ := l.r.Query(`SELECT outcome || ' ' || coalesce(code, 0) FROM attempts ORDER BY id`)
	for rows.Next() {
		var s string
		rows.Scan(&s)
		outcomes = append(outcomes, s)
	}
	rows.Close()
	if diff := cmp.Diff([]string{"retry 421", "retry 0"}, outcomes); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
	if f, _ := l.Failures(ctx, "w1"); len(f) != 0 {
		t.Errorf("Failures lists a row sent after retries: %+v", f)
	}
}

func TestRenderFailureNeedsNoClaim(t *testing.T) {
	// The engine fails a pending row whose message could not be rendered:
	// no claim, no handoff, so no attempt counted and no Message-ID.
	ctx := context.Background()
	l := openTest(t, Options{})
	run := startRun(t, l)
	k := Key{"w1", "p1"}
	into(t, l, run, k, StatusPending)
	if err := l.MarkFailed(ctx, k, t0, "render: template: no such field", 0); err != nil {
		t.Fatal(err)
	}
	f, err := l.Failures(ctx, "w1")
	if err != nil || len(f) != 1 {
		t.Fatalf("Failures = %+v, %v", f, err)
	}
	got := []any{f[0].Status, f[0].Attempts, f[0].MessageID, f[0].LastError}
	want := []any{StatusFailed, 0, "", "render: template: no such field"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("failed row (-want +got):\n%s", diff)
	}
}

func TestMarkSendingTwice(t *testing.T) {
	ctx := context.Background()
	l := openTest(t, Options{})
	run := startRun(t, l)
	k := Key{"w1", "p1"}
	into(t, l, run, k, StatusPending)
	if err := l.MarkSending(ctx, k, claim(run, k)); err != nil {
		t.Fatal(err)
	}
	err := l.MarkSending(ctx, k, claim(run, k))
	if !errors.Is(err, ErrNotPending) {
		t.Fatalf("second MarkSending = %v, want ErrNotPending", err)
	}
	if want := `ledger: mark sending "w1/p1": not pending (it is sending)`; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}

func TestCrashLeavesUnknown(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "nudge.db")
	l := openAt(t, path, Options{Lock: true})
	run := startRun(t, l)
	done, crashed, untouched := Key{"w1", "done"}, Key{"w1", "crashed"}, Key{"w1", "untouched"}
	if _, err := l.Plan(ctx, run, []Recipient{{Key: done}, {Key: crashed}, {Key: untouched}}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []Key{done, crashed} {
		if err := l.MarkSending(ctx, k, claim(run, k)); err != nil {
			t.Fatal(err)
		}
	}
	l.MarkSent(ctx, done, t0)
	l.Close() // the crash: crashed never hears back

	l = openAt(t, path, Options{Lock: true})
	n, err := l.RecoverInterrupted(ctx)
	if err != nil || n != 1 {
		t.Fatalf("RecoverInterrupted = %d, %v; want 1", n, err)
	}
	if n, _ := l.RecoverInterrupted(ctx); n != 0 {
		t.Errorf("second RecoverInterrupted = %d, want 0", n)
	}
	run2 := startRun(t, l)
	plan, err := l.Plan(ctx, run2, []Recipient{{Key: done}, {Key: crashed}, {Key: untouched}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[Key]Status{done: StatusSent, crashed: StatusUnknown, untouched: StatusPending}
	if diff := cmp.Diff(want, plan); diff != "" {
		t.Errorf("re-plan (-want +got):\n%s", diff)
	}
	// Not re-sent unless the user asks.
	if err := l.MarkSending(ctx, crashed, claim(run2, crashed)); !errors.Is(err, ErrNotPending) {
		t.Errorf("MarkSending(unknown) = %v, want ErrNotPending", err)
	}
	f, err := l.Failures(ctx, "w1")
	if err != nil || len(f) != 1 || f[0].Key != crashed || f[0].LastError != interruptedError {
		t.Errorf("Failures = %+v, %v; want the crashed row with the interrupted error", f, err)
	}
	c := claim(run2, crashed)
	c.RetryUnknown = true
	if err := l.MarkSending(ctx, crashed, c); err != nil {
		t.Errorf("MarkSending(unknown, RetryUnknown) = %v", err)
	}
}

func TestRecoverInterruptedNeedsLock(t *testing.T) {
	l := openTest(t, Options{})
	if _, err := l.RecoverInterrupted(context.Background()); err == nil {
		t.Error("RecoverInterrupted without the run lock succeeded")
	}
}

func TestPlanIdempotent(t *testing.T) {
	ctx := context.Background()
	l := openTest(t, Options{})
	run := startRun(t, l)
	var rs []Recipient
	for i := range 10 {
		rs = append(rs, Recipient{Key: Key{"w1", fmt.Sprint("p", i)}, Mail: fmt.Sprint("p", i, "@old.test"), Audience: "staff"})
	}
	if _, err := l.Plan(ctx, run, rs); err != nil {
		t.Fatal(err)
	}
	// p0–p2 sent, p3 failed, p4 skipped; then everyone's address changes.
	for _, k := range []Key{rs[0].Key, rs[1].Key, rs[2].Key, rs[3].Key} {
		l.MarkSending(ctx, k, claim(run, k))
	}
	for _, k := range []Key{rs[0].Key, rs[1].Key, rs[2].Key} {
		l.MarkSent(ctx, k, t0)
	}
	l.MarkFailed(ctx, rs[3].Key, t0, "550", 550)
	l.MarkSkipped(ctx, rs[4].Key, t0, "registered")
	for i := range rs {
		rs[i].Mail = fmt.Sprint("p", i, "@new.test")
	}
	rs = append(rs, rs[5]) // a duplicate in one batch is harmless

	run2 := startRun(t, l)
	got, err := l.Plan(ctx, run2, rs)
	if err != nil {
		t.Fatal(err)
	}
	want := map[Key]Status{}
	for i, r := range rs[:10] {
		want[r.Key] = map[int]Status{0: StatusSent, 1: StatusSent, 2: StatusSent, 3: StatusFailed, 4: StatusSkipped}[i]
		if want[r.Key] == "" {
			want[r.Key] = StatusPending
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("re-plan (-want +got):\n%s", diff)
	}
	// Attempted rows keep the address they were sent to; pending ones
	// take the new one.
	mails := map[string]string{}
	l.EachSend(ctx, "w1", func(s Send) error { mails[s.PersonID] = s.Mail; return nil })
	if len(mails) != 10 {
		t.Errorf("%d rows after re-plan, want 10", len(mails))
	}
	for id, wantMail := range map[string]string{"p0": "p0@old.test", "p3": "p3@old.test", "p4": "p4@old.test", "p5": "p5@new.test"} {
		if mails[id] != wantMail {
			t.Errorf("%s mail = %q, want %q", id, mails[id], wantMail)
		}
	}
	if _, err := l.Plan(ctx, run, []Recipient{{Key: Key{"", "p1"}}}); err == nil {
		t.Error("Plan with an empty wave succeeded")
	}
}

func TestConcurrentClaimsTwoHandles(t *testing.T) {
	// Two handles are two connections, as two processes would have: the
	// guard is SQLite's, not a Go mutex.
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "nudge.db")
	a := openAt(t, path, Options{})
	b := openAt(t, path, Options{})
	run := startRun(t, a)
	const n = 1000
	rs := make([]Recipient, n)
	for i := range rs {
		rs[i] = Recipient{Key: Key{"w1", fmt.Sprint("p", i)}}
	}
	if _, err := a.Plan(ctx, run, rs); err != nil {
		t.Fatal(err)
	}
	wins := make([][n]bool, 2)
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for h, l := range []*Ledger{a, b} {
		wg.Go(func() {
			for i, r := range rs {
				err := l.MarkSending(ctx, r.Key, claim(run, r.Key))
				switch {
				case err == nil:
					wins[h][i] = true
				case !errors.Is(err, ErrNotPending):
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	both, none := 0, 0
	for i := range n {
		switch {
		case wins[0][i] && wins[1][i]:
			both++
		case !wins[0][i] && !wins[1][i]:
			none++
		}
	}
	if both != 0 || none != 0 {
		t.Errorf("of %d keys: %d claimed twice, %d never; want every key claimed exactly once", n, both, none)
	}
}

func TestHostileValuesRoundTrip(t *testing.T) {
	ctx := context.Background()
	l := openTest(t, Options{})
	run := startRun(t, l)
	hostile := []string{
		`o'brien"@contoso.test`,
		`'); DROP TABLE sends;--`,
		`"; DELETE FROM sends WHERE ''='`,
		"nul\x00byte",
		"line\r\nBcc: x@evil.test",
		"?1 ?2 :name @name $name",
		"%_\\ LIKE",
		"emoji 🔑 and RTL \u202egnp.exe",
		"",
	}
	// The shared corpus of hostile display names, too.
	var corpus []struct {
		ID          string `json:"id"`
		DisplayName string `json:"displayName"`
	}
	if b, err := os.ReadFile("../testcorpus/hostile-names.json"); err == nil {
		if err := json.Unmarshal(b, &corpus); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range corpus {
		hostile = append(hostile, c.DisplayName)
	}
	var want []Send
	for i, h := range hostile {
		r := Recipient{Key: Key{"w'1;--", fmt.Sprintf("%d-%s", i, h)}, UPN: h, Mail: h, Audience: h, Locale: h}
		want = append(want, Send{Recipient: r, Status: StatusFailed, MessageID: h, Sender: h, Attempts: 1,
			PlannedAt: t0, FirstAttemptAt: t0, LastAttemptAt: t0, LastError: h, LastCode: 550, RunID: run})
		if h == "" {
			want[i].LastError, want[i].MessageID, want[i].Sender = "", "", ""
		}
		if _, err := l.Plan(ctx, run, []Recipient{r}); err != nil {
			t.Fatalf("Plan(%q): %v", h, err)
		}
		if err := l.MarkSending(ctx, r.Key, Claim{Run: run, MessageID: h, Sender: h, At: t0}); err != nil {
			t.Fatalf("MarkSending(%q): %v", h, err)
		}
		if err := l.MarkFailed(ctx, r.Key, t0, h, 550); err != nil {
			t.Fatalf("MarkFailed(%q): %v", h, err)
		}
	}
	var got []Send
	if err := l.EachSend(ctx, "w'1;--", func(s Send) error { got = append(got, s); return nil }); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if s, err := l.Status(ctx, Key{"w'1;--", "1-" + hostile[1]}); err != nil || s != StatusFailed {
		t.Errorf("Status by hostile key = %q, %v", s, err)
	}
	if times, err := l.SentSince(ctx, "'); DROP TABLE sends;--", t0.Add(-time.Hour)); err != nil || len(times) != 0 {
		t.Errorf("SentSince(hostile sender) = %v, %v", times, err)
	}
}

func TestSentSince(t *testing.T) {
	ctx := context.Background()
	l := openTest(t, Options{Lock: true})
	run := startRun(t, l)
	now := t0
	since := now.Add(-24 * time.Hour)
	const me, other = "nudge@contoso.test", "other@contoso.test"
	rows := []struct {
		id     string
		sender string
		at     time.Time
		end    Status // sent, failed, pending (retried), unknown
	}{
		{"before", me, since.Add(-time.Nanosecond), StatusSent},
		{"at", me, since, StatusSent},
		{"after", me, since.Add(time.Nanosecond), StatusSent},
		{"hour-ago", me, now.Add(-time.Hour), StatusSent},
		{"other-mailbox", other, now.Add(-time.Hour), StatusSent},
		{"failed", me, now.Add(-time.Hour), StatusFailed},
		{"retried", me, now.Add(-time.Hour), StatusPending},
		{"crashed", me, now.Add(-30 * time.Minute), StatusUnknown},
		{"in-flight", me, now, StatusSending},
	}
	for _, r := range rows {
		k := Key{"w1", r.id}
		l.Plan(ctx, run, []Recipient{{Key: k}})
		// Claimed a moment before the server's answer, so that sent_at,
		// not the claim time, is what a sent row is counted by.
		c := Claim{Run: run, MessageID: r.id, Sender: r.sender, At: r.at.Add(-time.Second)}
		if r.end == StatusUnknown || r.end == StatusSending {
			c.At = r.at
		}
		if err := l.MarkSending(ctx, k, c); err != nil {
			t.Fatal(err)
		}
		var err error
		switch r.end {
		case StatusSent:
			err = l.MarkSent(ctx, k, r.at)
		case StatusFailed:
			err = l.MarkFailed(ctx, k, r.at, "550", 550)
		case StatusPending:
			err = l.MarkRetry(ctx, k, r.at, "421", 421)
		case StatusUnknown:
			_, err = l.RecoverInterrupted(ctx)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := l.SentSince(ctx, me, since)
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Time{since, since.Add(time.Nanosecond), now.Add(-time.Hour), now.Add(-30 * time.Minute), now}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("SentSince(24h) (-want +got):\n%s", diff)
	}
	if got, _ := l.SentSince(ctx, "nobody@contoso.test", since); len(got) != 0 {
		t.Errorf("SentSince(unused mailbox) = %v, want none", got)
	}
}

func TestSummaryAndFailures(t *testing.T) {
	ctx := context.Background()
	l := openTest(t, Options{})
	run := startRun(t, l)
	var rs []Recipient
	for i := range 6 {
		aud := "staff"
		if i%2 == 1 {
			aud = "admins"
		}
		rs = append(rs, Recipient{Key: Key{"w1", fmt.Sprint("p", i)}, Audience: aud})
	}
	rs = append(rs, Recipient{Key: Key{"w2", "p0"}, Audience: "staff"})
	l.Plan(ctx, run, rs)
	for _, i := range []int{0, 1, 2} {
		l.MarkSending(ctx, rs[i].Key, claim(run, rs[i].Key))
	}
	l.MarkSent(ctx, rs[0].Key, t0)
	l.MarkFailed(ctx, rs[1].Key, t0, "550 5.1.1 unknown", 550)
	l.MarkRetry(ctx, rs[2].Key, t0, "421 busy", 421)

	got, err := l.Summary(ctx, "w1")
	if err != nil {
		t.Fatal(err)
	}
	want := []Count{
		{"w1", "admins", StatusFailed, 1},
		{"w1", "admins", StatusPending, 2},
		{"w1", "staff", StatusPending, 2},
		{"w1", "staff", StatusSent, 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Summary(w1) (-want +got):\n%s", diff)
	}
	all, _ := l.Summary(ctx, "")
	if len(all) != len(want)+1 {
		t.Errorf("Summary(all) has %d rows, want %d", len(all), len(want)+1)
	}
	fails, err := l.Failures(ctx, "w1")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, f := range fails {
		keys = append(keys, f.PersonID+": "+f.LastError)
	}
	if diff := cmp.Diff([]string{"p1: 550 5.1.1 unknown", "p2: 421 busy"}, keys); diff != "" {
		t.Errorf("Failures (-want +got):\n%s", diff)
	}
	stop := errors.New("stop")
	calls := 0
	if err := l.EachSend(ctx, "", func(Send) error { calls++; return stop }); err != stop || calls != 1 {
		t.Errorf("EachSend with a failing callback = %v after %d calls, want stop after 1", err, calls)
	}
}

func TestMarkSentThenSending(t *testing.T) {
	ctx := context.Background()
	l := openTest(t, Options{})
	run := startRun(t, l)
	a, b, c, d := Key{"w1", "a"}, Key{"w1", "b"}, Key{"w1", "c"}, Key{"w1", "d"}
	into(t, l, run, a, StatusSending)
	into(t, l, run, b, StatusSending)
	into(t, l, run, c, StatusPending)
	into(t, l, run, d, StatusSent)
	status := func(k Key) Status {
		t.Helper()
		s, err := l.Status(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	// The usual case: the last acceptance and the next claim, one commit.
	if err := l.MarkSentThenSending(ctx, []Accepted{{a, t0}}, c, claim(run, c)); err != nil {
		t.Fatal(err)
	}
	if status(a) != StatusSent || status(c) != StatusSending {
		t.Errorf("a is %s and c %s, want sent and sending", status(a), status(c))
	}

	// A key someone else has: the acceptance is kept all the same.
	err := l.MarkSentThenSending(ctx, []Accepted{{b, t0}}, d, claim(run, d))
	if !errors.Is(err, ErrNotPending) || status(b) != StatusSent || status(d) != StatusSent {
		t.Errorf("claiming a sent row: %v; b is %s, d %s; want ErrNotPending, sent, sent", err, status(b), status(d))
	}

	// A key the ledger does not have (not planned): the acceptance is
	// kept, and the error says the key was not claimed.
	f := Key{"w1", "f"}
	into(t, l, run, f, StatusSending)
	err = l.MarkSentThenSending(ctx, []Accepted{{f, t0}}, Key{"w1", "nobody"}, claim(run, Key{"w1", "nobody"}))
	if !errors.Is(err, ErrNotPending) || !errors.Is(err, ErrNotFound) || status(f) != StatusSent {
		t.Errorf("claiming a row that is not there: %v, f is %s; want ErrNotPending and ErrNotFound, sent", err, status(f))
	}

	// An acceptance of a row that is not sending: nothing moves.
	e := Key{"w1", "e"}
	into(t, l, run, e, StatusPending)
	err = l.MarkSentThenSending(ctx, []Accepted{{c, t0}, {a, t0}}, e, claim(run, e))
	if !errors.Is(err, ErrNotSending) || errors.Is(err, ErrNotPending) {
		t.Errorf("recording a sent row as sent: %v, want ErrNotSending", err)
	}
	if status(c) != StatusSending || status(e) != StatusPending {
		t.Errorf("after a refused batch, c is %s and e %s; want them untouched (sending, pending)", status(c), status(e))
	}
}
