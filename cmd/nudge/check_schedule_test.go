package main

import (
	"strings"
	"testing"

	"github.com/nudge-passkeys/nudge/internal/deliver/smtp/smtptest"
)

// A send_at in the past is a warning from nudge check, with the line of
// the send_at, while people are pending; once the wave has gone, it is
// history and check says nothing about it.
func TestCheckWarnsOfPastSendAt(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	dir := t.TempDir()
	scheduleFixture(t, dir, 3, srv.Host(), srv.Port(), 9000)

	t.Setenv("NUDGE_NOW", "2027-01-03T08:00:00Z") // before every send_at
	out, errOut, code := nudge(t, dir, "check")
	if code != exitOK || strings.Contains(out, "send_at") || strings.Contains(out, "was due") {
		t.Fatalf("before the waves: exit %d, output:\n%s\n%s", code, out, errOut)
	}

	t.Setenv("NUDGE_NOW", "2027-01-04T10:00:00Z") // announce was due at 09:00 Paris
	out, errOut, code = nudge(t, dir, "check")
	want := "campaign.yaml:20: wave announce was due Mon 4 Jan 2027 09:00 CET and 3 people are still pending: the next nudge run sends them"
	if code != exitOK || !strings.Contains(out, want) || !strings.Contains(out, "1 warning") {
		t.Fatalf("exit %d; want a warning %q in:\n%s\n%s", code, want, out, errOut)
	}

	if out, errOut, code := nudge(t, dir, "send", "announce", "--via", "smtp", "--yes", "--no-track"); code != exitOK {
		t.Fatalf("send: exit %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code = nudge(t, dir, "check")
	if code != exitOK || strings.Contains(out, "was due") {
		t.Fatalf("after announce went out: exit %d, output:\n%s\n%s", code, out, errOut)
	}
}
