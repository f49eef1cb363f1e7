package main

import (
	"strings"
	"testing"
)

// An invitation wave with send_at goes out from nudge run: nothing before
// send_at, everyone once at the first run after it (judged by ical.js),
// nothing more at the next run, and after nudge sessions reschedule the
// next run sends the updates on its own.
func TestRunSendsInvitationWave(t *testing.T) {
	srv, dir := inviteFixture(t) // NUDGE_NOW 2026-11-25T10:00:00Z
	rewrite(t, dir+"/campaign.yaml", [][2]string{{"    sessions: true\n", "    sessions: true\n    send_at: 2026-11-26T09:00\n"}})

	out, errOut, code := nudge(t, dir, "run")
	if code != exitOK || !strings.Contains(out, "nothing due (next: wave qa at") || len(srv.Messages()) != 0 {
		t.Fatalf("before send_at: exit %d, %d messages\n%s\n%s", code, len(srv.Messages()), out, errOut)
	}

	t.Setenv("NUDGE_NOW", "2026-11-26T09:30:00Z")
	out, errOut, code = nudge(t, dir, "run", "--dry-run")
	if code != exitOK || !strings.Contains(out, "wave qa: would send 4 calendar messages now by smtp (4 invitations, 0 updates, 0 cancellations)") || len(srv.Messages()) != 0 {
		t.Fatalf("dry run: exit %d, %d messages\n%s\n%s", code, len(srv.Messages()), out, errOut)
	}
	out, errOut, code = nudge(t, dir, "run")
	if code != exitOK || !strings.Contains(out, "wave qa: 4 calendar messages (4 invitations, 0 updates, 0 cancellations): 4 sent, 0 failed") {
		t.Fatalf("run: exit %d\n%s\n%s", code, out, errOut)
	}
	got := receive(t, srv, 0)
	if len(got) != 4 {
		t.Fatalf("%d invitations received, want 4: %v", len(got), keys(got))
	}
	for k, j := range got {
		if j.method != "REQUEST" || j.seq != 0 {
			t.Errorf("%s: METHOD %s SEQUENCE %d, want REQUEST 0", k, j.method, j.seq)
		}
	}

	out, errOut, code = nudge(t, dir, "run")
	if code != exitOK || !strings.Contains(out, "wave qa: nothing to send") || len(srv.Messages()) != 4 {
		t.Fatalf("second run: exit %d, %d messages\n%s\n%s", code, len(srv.Messages()), out, errOut)
	}
	// The timeline counts the invited as sent.
	out, errOut, code = nudge(t, dir, "schedule", "--json")
	if code != exitOK || !strings.Contains(strings.Join(strings.Fields(out), ""), `"people":4,"sent":4,"done":4,"pending":0`) {
		t.Errorf("schedule after the invitations: exit %d\n%s\n%s", code, out, errOut)
	}

	if out, errOut, code := nudge(t, dir, "sessions", "reschedule", "s3", "--start", "2026-12-03T15:00"); code != exitOK {
		t.Fatalf("reschedule: exit %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code = nudge(t, dir, "run")
	if code != exitOK || !strings.Contains(out, "(0 invitations, 2 updates, 0 cancellations): 2 sent") {
		t.Fatalf("run after reschedule: exit %d\n%s\n%s", code, out, errOut)
	}
	updates := receive(t, srv, 4)
	for _, who := range []string{"ann", "raj"} {
		j, ok := updates[who+"@contoso.example REQUEST"]
		if !ok || j.seq != 1 || j.uid != uidOf("s3", map[string]string{"ann": "u1", "raj": "u3"}[who]) {
			t.Errorf("%s: update %+v (received %v), want REQUEST SEQUENCE 1 for s3", who, j, keys(updates))
		}
	}
	if len(updates) != 2 {
		t.Errorf("%d messages after the reschedule, want 2: %v", len(updates), keys(updates))
	}
}

// Sessions that have started are history for nudge run: newcomers are
// invited to the sessions still ahead, a change to a session under way is
// not sent, and the run goes on (exit 0). And run never sends invitations
// through Graph's JSON sendMail, which drops calendars.
func TestRunInvitationWaveEdges(t *testing.T) {
	srv, dir := inviteFixture(t)
	rewrite(t, dir+"/campaign.yaml", [][2]string{{"    sessions: true\n", "    sessions: true\n    send_at: 2026-11-26T09:00\n"}})
	t.Setenv("NUDGE_NOW", "2026-11-26T09:30:00Z")
	if out, errOut, code := nudge(t, dir, "run"); code != exitOK || len(srv.Messages()) != 4 {
		t.Fatalf("first run: exit %d, %d messages\n%s\n%s", code, len(srv.Messages()), out, errOut)
	}

	// 3 December, 10:30 UTC: s1 (Paris 10:00) and s3 (London 10:00) have
	// started, s2 (New York 09:00) has not. A newcomer in the US joins,
	// and s3's room changes.
	t.Setenv("NUDGE_NOW", "2026-12-03T10:30:00Z")
	writeInvitees(t, dir, append(invitees[:len(invitees):len(invitees)], invitee{"u5", "cy@contoso.example", "Cy Young", "en-US", "US", ""}))
	rewrite(t, dir+"/campaign.yaml", [][2]string{{"room: London office, room 4.12", "room: London office, room 5.01"}})
	out, errOut, code := nudge(t, dir, "run", "--dry-run")
	if code != exitOK || !strings.Contains(out, "wave qa: would send 1 calendar messages now by smtp (1 invitations, 0 updates, 0 cancellations)") {
		t.Errorf("dry run: exit %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code = nudge(t, dir, "run")
	if code != exitOK || !strings.Contains(out, "(1 invitations, 0 updates, 0 cancellations): 1 sent") ||
		!strings.Contains(out, "2 changes concern sessions that have started: not sent") {
		t.Fatalf("run after sessions started: exit %d\n%s\n%s", code, out, errOut)
	}
	got := receive(t, srv, 4)
	if j, ok := got["cy@contoso.example REQUEST"]; !ok || len(got) != 1 || j.uid != uidOf("s2", "u5") {
		t.Errorf("after sessions started: %v, want one REQUEST to cy for s2", keys(got))
	}

	rewrite(t, dir+"/campaign.yaml", [][2]string{{"smtp: {", "graph_mail: {format: json}\nsmtp: {"}})
	writeInvitees(t, dir, append(invitees[:len(invitees):len(invitees)], invitee{"u6", "di@contoso.example", "Di", "en-US", "US", ""}))
	out, errOut, code = nudge(t, dir, "run", "--via", "graph")
	if code == exitOK || !strings.Contains(errOut, "graph_mail.format: json, which cannot carry a calendar part") || len(srv.Messages()) != 5 {
		t.Errorf("format json: exit %d, %d messages\n%s\n%s", code, len(srv.Messages()), out, errOut)
	}
}

// nudge send qa by hand: a session in the past before anyone is invited is
// refused (a mistake to fix); once invitations have gone, sessions passing
// is the campaign going on, and the send works as nudge run does.
func TestSendInvitesAfterSessionsStarted(t *testing.T) {
	srv, dir := inviteFixture(t)
	t.Setenv("NUDGE_NOW", "2026-12-03T10:30:00Z")
	out, errOut, code := nudge(t, dir, "send", "qa", "--via", "smtp", "--yes")
	if code == exitOK || !strings.Contains(errOut, `session "s1": starts 2026-12-03 10:00 CET, in the past`) || len(srv.Messages()) != 0 {
		t.Fatalf("first send with past sessions: exit %d, %d messages\n%s\n%s", code, len(srv.Messages()), out, errOut)
	}

	t.Setenv("NUDGE_NOW", "2026-11-25T10:00:00Z")
	if out, errOut, code := nudge(t, dir, "send", "qa", "--via", "smtp", "--yes"); code != exitOK || len(srv.Messages()) != 4 {
		t.Fatalf("first send: exit %d, %d messages\n%s\n%s", code, len(srv.Messages()), out, errOut)
	}
	t.Setenv("NUDGE_NOW", "2026-12-03T10:30:00Z")
	writeInvitees(t, dir, append(invitees[:len(invitees):len(invitees)], invitee{"u5", "cy@contoso.example", "Cy Young", "en-US", "US", ""}))
	rewrite(t, dir+"/campaign.yaml", [][2]string{{"room: London office, room 4.12", "room: London office, room 5.01"}})
	out, errOut, code = nudge(t, dir, "send", "qa", "--via", "smtp", "--yes")
	if code != exitOK || !strings.Contains(out, "wave qa: 1 to send now (1 invitations") || !strings.Contains(out, "2 changes concern sessions that have started: not sent") {
		t.Fatalf("send after sessions started: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := receive(t, srv, 4); len(got) != 1 || got["cy@contoso.example REQUEST"].uid != uidOf("s2", "u5") {
		t.Errorf("after sessions started: %v, want one REQUEST to cy for s2", keys(got))
	}
}

// Once invitations have gone, a session that has started is a note from
// nudge check and nudge sessions, not an error that fails them.
func TestCheckAfterSessionsStarted(t *testing.T) {
	_, dir := inviteFixture(t)
	if out, errOut, code := nudge(t, dir, "send", "qa", "--via", "smtp", "--yes"); code != exitOK {
		t.Fatalf("send: exit %d\n%s\n%s", code, out, errOut)
	}
	t.Setenv("NUDGE_NOW", "2026-12-03T10:30:00Z")
	for _, cmd := range []string{"check", "sessions"} {
		out, errOut, code := nudge(t, dir, cmd)
		if code != exitOK || !strings.Contains(out+errOut, `session "s1": starts 2026-12-03 10:00 CET, in the past`) || !strings.Contains(out+errOut, "it takes no new people") {
			t.Errorf("%s after sessions started: exit %d\n%s\n%s", cmd, code, out, errOut)
		}
	}
}
