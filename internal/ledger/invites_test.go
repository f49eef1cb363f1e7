package ledger

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// sendInvite records inv as sent to k through BeginInvite and InviteSent.
func sendInvite(t *testing.T, l *Ledger, run int64, k Key, inv Invite) {
	t.Helper()
	ctx := context.Background()
	if err := l.BeginInvite(ctx, k, inv, Claim{Run: run, MessageID: "<m@x.test>", Sender: "it@x.test"}); err != nil {
		t.Fatal(err)
	}
	if err := l.InviteSent(ctx, k, inv, t0); err != nil {
		t.Fatal(err)
	}
}

func TestInvites(t *testing.T) {
	ctx := context.Background()
	l := openTest(t, Options{})
	run := startRun(t, l)
	p1, p2, p3, p4 := Key{"qa", "p1"}, Key{"qa", "p2"}, Key{"qa", "p3"}, Key{"qa", "p4"}

	// p1: invited, then the session moved (an update).
	sendInvite(t, l, run, p1, Invite{Session: "s1", Sequence: 0, Fingerprint: "a"})
	sendInvite(t, l, run, p1, Invite{Session: "s1", Sequence: 1, Fingerprint: "b"})
	// p2: the new invitation was accepted before the cancellation of the
	// old session: s2 is still what their calendar holds.
	sendInvite(t, l, run, p2, Invite{Session: "s1", Sequence: 0, Fingerprint: "a"})
	sendInvite(t, l, run, p2, Invite{Session: "s2", Sequence: 0, Fingerprint: "c"})
	sendInvite(t, l, run, p2, Invite{Session: "s1", Sequence: 1, Fingerprint: "a", Cancelled: true})
	// p3: cancelled only.
	sendInvite(t, l, run, p3, Invite{Session: "s3", Sequence: 0, Fingerprint: "d"})
	sendInvite(t, l, run, p3, Invite{Session: "s3", Sequence: 1, Fingerprint: "d", Cancelled: true})
	// p4: a run stopped while sending.
	if err := l.BeginInvite(ctx, p4, Invite{Session: "s1", Fingerprint: "a"}, Claim{Run: run, MessageID: "<m@x.test>", Sender: "it@x.test"}); err != nil {
		t.Fatal(err)
	}
	// Another wave is another ledger of invitations.
	sendInvite(t, l, run, Key{"other", "p1"}, Invite{Session: "s9", Fingerprint: "z"})

	got, err := l.Invites(ctx, "qa")
	if err != nil {
		t.Fatal(err)
	}
	want := &InviteState{
		Sent: map[string]Invite{
			"p1": {Session: "s1", Sequence: 1, Fingerprint: "b"},
			"p2": {Session: "s2", Sequence: 0, Fingerprint: "c"},
			"p3": {Session: "s3", Sequence: 1, Fingerprint: "d", Cancelled: true},
		},
		Unknown: map[string]Invite{"p4": {Session: "s1", Fingerprint: "a"}},
		// Every session's highest sequence, the sessions left included;
		// not the unknown message, which a retry sends again as it was.
		Sequences: map[string]map[string]int{
			"p1": {"s1": 1},
			"p2": {"s1": 1, "s2": 0},
			"p3": {"s3": 1},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Invites (-want +got):\n%s", diff)
	}

	tests := []struct {
		name  string
		k     Key
		inv   Invite
		retry bool
		want  error
	}{
		{"already sent", p1, Invite{Session: "s1", Sequence: 1, Fingerprint: "b"}, false, ErrNotPending},
		{"already sent, even when retrying unknown", p1, Invite{Session: "s1", Sequence: 1, Fingerprint: "b"}, true, ErrNotPending},
		{"unknown", p4, Invite{Session: "s1", Fingerprint: "a"}, false, ErrNotPending},
		{"unknown, retried", p4, Invite{Session: "s1", Fingerprint: "a"}, true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := l.BeginInvite(ctx, tc.k, tc.inv, Claim{Run: run, MessageID: "<m2@x.test>", Sender: "it@x.test", RetryUnknown: tc.retry})
			if !errors.Is(err, tc.want) {
				t.Errorf("BeginInvite = %v, want %v", err, tc.want)
			}
		})
	}
	// A failure forgets the claim: the next run sends it.
	if err := l.DropInvite(ctx, p4, Invite{Session: "s1", Fingerprint: "a"}); err != nil {
		t.Fatal(err)
	}
	if err := l.InviteSent(ctx, p4, Invite{Session: "s1", Fingerprint: "a"}, t0); !errors.Is(err, ErrNotSending) {
		t.Errorf("InviteSent after DropInvite = %v, want ErrNotSending", err)
	}
	if err := l.DropInvite(ctx, p1, Invite{Session: "s1", Sequence: 1}); !errors.Is(err, ErrNotSending) {
		t.Errorf("DropInvite of a sent invite = %v, want ErrNotSending", err)
	}
	got, err = l.Invites(ctx, "qa")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got.Unknown["p4"]; ok || len(got.Sent) != 3 {
		t.Errorf("after DropInvite: %+v", got)
	}
}

// TestEachInviteMessage: every calendar message of every wave, in order,
// with its status, times and the person's recorded name, for the
// workbook; InvitedPeople names everyone with one.
func TestEachInviteMessage(t *testing.T) {
	ctx := context.Background()
	l := openTest(t, Options{Now: func() time.Time { return t0 }})
	run := startRun(t, l)
	sendInvite(t, l, run, Key{"qa", "p2"}, Invite{Session: "s1", Fingerprint: "a"})
	sendInvite(t, l, run, Key{"qa", "p1"}, Invite{Session: "s1", Fingerprint: "a"})
	sendInvite(t, l, run, Key{"qa", "p1"}, Invite{Session: "s1", Sequence: 1, Fingerprint: "a", Cancelled: true})
	if err := l.BeginInvite(ctx, Key{"qa", "p1"}, Invite{Session: "s2", Fingerprint: "b"}, Claim{Run: run, MessageID: "<m@x.test>", Sender: "it@x.test"}); err != nil {
		t.Fatal(err)
	}
	if err := l.RecordPeople(ctx, []Person{{ID: "p1", Name: "=Ann"}}); err != nil {
		t.Fatal(err)
	}
	var got []InviteMessage
	if err := l.EachInviteMessage(ctx, func(m InviteMessage) error { got = append(got, m); return nil }); err != nil {
		t.Fatal(err)
	}
	want := []InviteMessage{
		{Wave: "qa", PersonID: "p1", Invite: Invite{Session: "s1", Fingerprint: "a"}, Status: StatusSent, StartedAt: t0, SentAt: t0, Name: "=Ann"},
		{Wave: "qa", PersonID: "p1", Invite: Invite{Session: "s1", Sequence: 1, Fingerprint: "a", Cancelled: true}, Status: StatusSent, StartedAt: t0, SentAt: t0, Name: "=Ann"},
		{Wave: "qa", PersonID: "p1", Invite: Invite{Session: "s2", Fingerprint: "b"}, Status: StatusSending, StartedAt: t0, Name: "=Ann"},
		{Wave: "qa", PersonID: "p2", Invite: Invite{Session: "s1", Fingerprint: "a"}, Status: StatusSent, StartedAt: t0, SentAt: t0},
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("EachInviteMessage (-want +got):\n%s", diff)
	}
	ids, err := l.InvitedPeople(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]bool{"p1": true, "p2": true}, ids); diff != "" {
		t.Errorf("InvitedPeople (-want +got):\n%s", diff)
	}
}

// TestInvitesCountAgainstTheDailyCap: SentSince, which paces every
// mailbox, sees invitations sent and in flight, not those dropped.
func TestInvitesCountAgainstTheDailyCap(t *testing.T) {
	ctx := context.Background()
	l := openTest(t, Options{})
	run := startRun(t, l)
	claim := func(at time.Time) Claim {
		return Claim{Run: run, MessageID: "<m@x.test>", Sender: "it@x.test", At: at}
	}
	sent := Invite{Session: "s1", Fingerprint: "a"}
	if err := l.BeginInvite(ctx, Key{"qa", "p1"}, sent, claim(t0.Add(-time.Hour))); err != nil {
		t.Fatal(err)
	}
	if err := l.InviteSent(ctx, Key{"qa", "p1"}, sent, t0.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := l.BeginInvite(ctx, Key{"qa", "p2"}, sent, claim(t0)); err != nil { // in flight
		t.Fatal(err)
	}
	if err := l.BeginInvite(ctx, Key{"qa", "p3"}, sent, claim(t0)); err != nil {
		t.Fatal(err)
	}
	if err := l.DropInvite(ctx, Key{"qa", "p3"}, sent); err != nil { // refused: nothing sent
		t.Fatal(err)
	}
	if err := l.BeginInvite(ctx, Key{"qa", "p4"}, sent, claim(t0.Add(-25*time.Hour))); err != nil { // too old
		t.Fatal(err)
	}
	got, err := l.SentSince(ctx, "it@x.test", t0.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Time{t0.Add(-time.Hour), t0}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("SentSince (-want +got):\n%s", diff)
	}
	if got, _ := l.SentSince(ctx, "other@x.test", t0.Add(-24*time.Hour)); len(got) != 0 {
		t.Errorf("another mailbox's SentSince = %v", got)
	}
}

// TestMigrateVersion2 opens a ledger made before the invites table: it
// gains the table and keeps its rows.
func TestMigrateVersion2(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "nudge.db")
	db := rawDB(t, path)
	for _, m := range migrations[:2] {
		if _, err := db.Exec(m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(`PRAGMA user_version = 2;
		INSERT INTO people VALUES ('p1', 'Ann', 'Sales')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	l := openAt(t, path, Options{})
	if v := userVersion(t, path); v != len(migrations) || len(migrations) < 3 {
		t.Errorf("user_version = %d with %d migrations, want the latest", v, len(migrations))
	}
	sendInvite(t, l, startRun(t, l), Key{"qa", "p1"}, Invite{Session: "s1", Fingerprint: "a"})
	got, err := l.Invites(ctx, "qa")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]Invite{"p1": {Session: "s1", Fingerprint: "a"}}, got.Sent); diff != "" {
		t.Errorf("Invites after migration (-want +got):\n%s", diff)
	}
	var name string
	if err := rawDB(t, path).QueryRow(`SELECT name FROM people WHERE person_id = 'p1'`).Scan(&name); err != nil || name != "Ann" {
		t.Errorf("people row after migration: %q, %v", name, err)
	}
}
