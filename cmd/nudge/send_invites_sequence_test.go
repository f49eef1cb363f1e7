package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSendInvitesBackToACancelledSession: someone cancelled from a
// session and later sent back to it gets the same UID with a SEQUENCE
// above that of the CANCEL, or their calendar would ignore the REQUEST.
// Ann is invited to s3, s3 is cancelled (CANCEL s3/1, REQUEST s2/0), then
// s3 is back and s2 cancelled: CANCEL s2/1 and REQUEST s3/2.
func TestSendInvitesBackToACancelledSession(t *testing.T) {
	srv, dir := inviteFixture(t)
	send := func(what string, args ...string) map[string]judged {
		t.Helper()
		before := len(srv.Messages())
		out, errOut, code := nudge(t, dir, append([]string{"send", "qa", "--via", "smtp", "--yes"}, args...)...)
		if code != exitOK {
			t.Fatalf("%s: exit %d\n%s\n%s", what, code, out, errOut)
		}
		return receive(t, srv, before)
	}
	edit := func(args ...string) {
		t.Helper()
		if out, errOut, code := nudge(t, dir, args...); code != exitOK {
			t.Fatalf("%q: exit %d\n%s\n%s", args, code, out, errOut)
		}
	}
	if j := send("first send")["ann@contoso.example REQUEST"]; j.uid != uidOf("s3", "u1") || j.seq != 0 {
		t.Fatalf("ann's invitation: %+v", j)
	}
	edit("sessions", "cancel", "s3")
	if j := send("after cancelling s3", "--updates")["ann@contoso.example CANCEL"]; j.uid != uidOf("s3", "u1") || j.seq != 1 {
		t.Fatalf("ann's cancellation of s3: %+v", j)
	}

	// s3 is back (its cancelled: line removed), s2 is cancelled.
	file := filepath.Join(dir, "campaign.yaml")
	yaml, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	back := regexp.MustCompile(`(?m)^\s*cancelled: true\n`).ReplaceAll(yaml, nil)
	if len(back) == len(yaml) {
		t.Fatalf("no cancelled: line in\n%s", yaml)
	}
	write(t, file, string(back))
	edit("sessions", "cancel", "s2")
	// nudge sessions --ics shows the SEQUENCE --updates is about to send.
	edit("sessions", "--wave", "qa", "--ics")
	ics, err := os.ReadFile(filepath.Join(dir, "output", "e2e", "invites", "s3", "ann@contoso.example.ics"))
	if err != nil || !bytes.Contains(ics, []byte("\r\nSEQUENCE:2\r\n")) {
		t.Errorf("ann's s3 file before the send (%v):\n%s", err, ics)
	}

	got := send("after s3 came back", "--updates")
	type msg struct {
		UID      string
		Sequence int
	}
	want := map[string]msg{
		"ann@contoso.example CANCEL":  {uidOf("s2", "u1"), 1},
		"ann@contoso.example REQUEST": {uidOf("s3", "u1"), 2},
	}
	for k, j := range got {
		if k == "ann@contoso.example CANCEL" || k == "ann@contoso.example REQUEST" {
			if diff := cmp.Diff(want[k], msg{j.uid, j.seq}); diff != "" {
				t.Errorf("%s (-want +got):\n%s", k, diff)
			}
			delete(want, k)
		}
	}
	if len(want) > 0 {
		t.Errorf("not sent: %v (got %v)", want, keys(got))
	}
	if got := send("again", "--updates"); len(got) != 0 {
		t.Errorf("a rerun sent %v", keys(got))
	}
}
