package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nudge-passkeys/nudge/internal/deliver/smtp/smtptest"
	"github.com/nudge-passkeys/nudge/internal/graph/graphtest"
	"github.com/nudge-passkeys/nudge/internal/ical/icaltest"
	"github.com/nudge-passkeys/nudge/internal/invite"
)

// inviteCampaign is a campaign with a qa wave of invitations: s1 in
// French in Paris, s2 in English in New York (two seats), s3 in English
// in London.
const inviteCampaign = `campaign: e2e
organisation: {name: Contoso, team: IT Security, website: "https://intranet.contoso.example/"}
sender: {name: Contoso IT Security, address: it-security@contoso.example}
links:
  guides: https://intranet.contoso.example/passkeys/
  verify: https://intranet.contoso.example/news/passkeys
helpdesk: {name: IT Helpdesk, email: helpdesk@contoso.example}
defaults: {locale: en, locales: [en, fr, de], time_zone: Europe/London}
source: snapshot:tenant
templates: %q
smtp: {host: %s, port: %d, tls: none, allow_insecure: true, auth: none}
pacing: {rate_per_minute: 6000, per_day: 100000}
audiences:
  - name: ready
    where: isMfaCapable && !hasPasskey
waves:
  - id: qa
    audiences: [ready]
    template: qa-invite
    sessions: true
sessions:
  usage_locations: {GB: Europe/London, FR: Europe/Paris, US: America/New_York}
  list:
    - id: s1
      title: Passkeys, questions & answers
      start: "2026-12-03T10:00"
      zone: Europe/Paris
      duration: 45m
      join_url: https://teams.microsoft.com/l/meetup-join/s1
      language: fr
      capacity: 5
    - id: s2
      title: Passkeys Q&A (Americas)
      start: "2026-12-03T09:00"
      zone: America/New_York
      join_url: https://teams.microsoft.com/l/meetup-join/s2
      language: en
      capacity: 2
    # London, in the office.
    - id: s3
      title: Passkeys Q&A (Europe)
      start: "2026-12-03T10:00"   # local time
      zone: Europe/London
      room: London office, room 4.12
      language: en
      capacity: 5
`

type invitee struct{ id, mail, name, lang, region, method string }

var invitees = []invitee{
	{"u1", "ann@contoso.example", "Ann Smith", "en-GB", "GB", ""},
	{"u2", "amelie@contoso.example", "Amélie Garçon", "fr-FR", "FR", ""},
	{"u3", "raj@contoso.example", "Raj\r\nATTENDEE:mailto:x@evil.example", "en-GB", "GB", ""},
	{"u4", "bob@contoso.example", "Bob; ROLE=CHAIR:mailto:boss@evil.example", "en-US", "US", ""},
}

func writeInvitees(t *testing.T, dir string, people []invitee) {
	t.Helper()
	var users, regs []string
	for _, p := range people {
		users = append(users, fmt.Sprintf(`{"id":%q,"userPrincipalName":%q,"mail":%q,"displayName":%q,"givenName":"G","preferredLanguage":%q,"usageLocation":%q,"accountEnabled":true,"userType":"Member"}`,
			p.id, p.mail, p.mail, p.name, p.lang, p.region))
		method := p.method
		if method == "" {
			method = "microsoftAuthenticatorPush"
		}
		regs = append(regs, fmt.Sprintf(`{"id":%q,"userPrincipalName":%q,"isMfaCapable":true,"methodsRegistered":[%q]}`, p.id, p.mail, method))
	}
	write(t, filepath.Join(dir, "tenant", "users.json"), `{"value":[`+strings.Join(users, ",")+`]}`)
	write(t, filepath.Join(dir, "tenant", "userRegistrationDetails.json"), `{"value":[`+strings.Join(regs, ",")+`]}`)
}

func inviteFixture(t *testing.T, opts ...smtptest.Options) (*smtptest.Server, string) {
	t.Helper()
	t.Setenv("NUDGE_NOW", "2026-11-25T10:00:00Z")
	var o smtptest.Options
	if len(opts) > 0 {
		o = opts[0]
	}
	srv := smtptest.Start(t, o)
	dir := t.TempDir()
	templates, err := filepath.Abs(filepath.Join("..", "..", "templates"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "campaign.yaml"), fmt.Sprintf(inviteCampaign, filepath.ToSlash(templates), srv.Host(), srv.Port()))
	writeInvitees(t, dir, invitees)
	return srv, dir
}

// calMessage is what a received invitation carries.
type calMessage struct {
	to, subject, method string // method: the text/calendar part's parameter
	ics, attachment     []byte
	text                string
}

// parseInvite reads a message's MIME: multipart/mixed of a
// multipart/alternative (text, HTML, text/calendar) and invite.ics.
func parseInvite(t *testing.T, data []byte) calMessage {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	dec := new(mime.WordDecoder)
	subject, _ := dec.DecodeHeader(msg.Header.Get("Subject"))
	cm := calMessage{to: msg.Header.Get("To"), subject: subject}
	var walk func(ct string, body io.Reader, enc string, disp string)
	walk = func(ct string, body io.Reader, enc, disp string) {
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil {
			t.Fatalf("Content-Type %q: %v", ct, err)
		}
		if strings.HasPrefix(mt, "multipart/") {
			mr := multipart.NewReader(body, params["boundary"])
			for {
				p, err := mr.NextRawPart()
				if err == io.EOF {
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				walk(p.Header.Get("Content-Type"), p, p.Header.Get("Content-Transfer-Encoding"), p.Header.Get("Content-Disposition"))
			}
		}
		var b []byte
		switch strings.ToLower(enc) {
		case "base64":
			b, err = io.ReadAll(base64.NewDecoder(base64.StdEncoding, body))
		default:
			b, err = io.ReadAll(body)
		}
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case mt == "text/calendar":
			if cm.ics != nil {
				t.Error("two text/calendar parts")
			}
			cm.method, cm.ics = params["method"], b
		case strings.HasPrefix(disp, "attachment") && strings.Contains(disp, "invite.ics"):
			cm.attachment = b
		case mt == "text/plain":
			cm.text = string(b)
		}
	}
	walk(msg.Header.Get("Content-Type"), msg.Body, msg.Header.Get("Content-Transfer-Encoding"), "")
	if cm.ics == nil {
		t.Fatalf("message to %s has no text/calendar part", cm.to)
	}
	if !bytes.Equal(cm.ics, cm.attachment) {
		t.Errorf("message to %s: invite.ics differs from the text/calendar part", cm.to)
	}
	return cm
}

// judged is one received calendar message as ical.js read it.
type judged struct {
	to, method, uid, attendee, status string
	seq, attendees                    int
	start                             int64
}

// receive parses and judges the messages received since from.
func receive(t *testing.T, srv *smtptest.Server, from int) map[string]judged {
	t.Helper()
	msgs := srv.Messages()[from:]
	var cms []calMessage
	var cals [][]byte
	for _, m := range msgs {
		cm := parseInvite(t, m.Data)
		cms = append(cms, cm)
		cals = append(cals, cm.ics)
	}
	out := map[string]judged{}
	if len(cals) == 0 {
		return out
	}
	for i, c := range icaltest.Judge(t, cals...) {
		if len(c.Events) != 1 {
			t.Fatalf("message to %s: %d events", cms[i].to, len(c.Events))
		}
		ev := c.Events[0]
		if c.Method != cms[i].method {
			t.Errorf("message to %s: METHOD %s, Content-Type method=%s", cms[i].to, c.Method, cms[i].method)
		}
		j := judged{to: msgs[i].To[0], method: c.Method, uid: ev.UID, status: ev.Status, seq: ev.Sequence, attendees: len(ev.Attendees), start: ev.Start}
		if len(ev.Attendees) > 0 {
			j.attendee = strings.ToLower(ev.Attendees[0].Value)
		}
		key := j.to + " " + c.Method
		if _, dup := out[key]; dup {
			t.Errorf("two %s messages to %s in one run", c.Method, j.to)
		}
		out[key] = j
	}
	return out
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func uidOf(session, person string) string {
	return invite.UID("e2e", session, person, "contoso.example")
}

func TestSendInvites(t *testing.T) {
	srv, dir := inviteFixture(t)

	// The first send: one REQUEST per invitee, for their session.
	out, errOut, code := nudge(t, dir, "send", "qa", "--via", "smtp", "--yes")
	if code != exitOK {
		t.Fatalf("send: exit %d\n%s\n%s", code, out, errOut)
	}
	got := receive(t, srv, 0)
	session := map[string]string{"ann": "s3", "amelie": "s1", "raj": "s3", "bob": "s2"}
	ids := map[string]string{"ann": "u1", "amelie": "u2", "raj": "u3", "bob": "u4"}
	var want []string
	for who := range session {
		want = append(want, who+"@contoso.example REQUEST")
	}
	sort.Strings(want)
	if diff := cmp.Diff(want, keys(got)); diff != "" {
		t.Fatalf("first send (-want +got):\n%s", diff)
	}
	for who, sid := range session {
		j := got[who+"@contoso.example REQUEST"]
		if j.uid != uidOf(sid, ids[who]) || j.seq != 0 || j.attendees != 1 || j.attendee != "mailto:"+who+"@contoso.example" {
			t.Errorf("%s: %+v; want UID of %s, SEQUENCE 0, one attendee (themself)", who, j, sid)
		}
	}
	for _, m := range srv.Messages() {
		if bytes.Contains(m.Data, []byte("evil.example")) {
			cm := parseInvite(t, m.Data)
			for _, line := range strings.Split(string(cm.ics), "\r\n") {
				if strings.HasPrefix(line, "ATTENDEE") && strings.Contains(line, "evil") || strings.HasPrefix(line, "ROLE") {
					t.Errorf("a hostile name made a property: %q", line)
				}
			}
		}
	}
	// The email says what and when, in the person's own time.
	for _, m := range srv.Messages() {
		if m.To[0] == "bob@contoso.example" {
			cm := parseInvite(t, m.Data)
			for _, want := range []string{"3 December 2026, 09:00 EST", "America/New_York", "Decline"} {
				if !strings.Contains(cm.text, want) {
					t.Errorf("bob's invitation lacks %q:\n%s", want, cm.text)
				}
			}
		}
	}

	// Rerun: nothing, with or without --updates.
	for _, args := range [][]string{{}, {"--updates"}} {
		out, errOut, code = nudge(t, dir, append([]string{"send", "qa", "--via", "smtp", "--yes"}, args...)...)
		if code != exitOK || !strings.Contains(out, "nothing to send") {
			t.Errorf("rerun %v: exit %d\n%s\n%s", args, code, out, errOut)
		}
	}
	if n := len(srv.Messages()); n != 4 {
		t.Fatalf("after reruns the server has %d messages, want 4", n)
	}

	// status shows what the invitees' calendars hold, per session.
	out, errOut, code = nudge(t, dir, "status", "qa")
	for _, want := range []string{"invitations of wave qa", "SESSION  INVITED  CANCELLED  UNKNOWN  SEQUENCE", "     s3        2          0        0         0"} {
		if code != exitOK || !strings.Contains(out, want) {
			t.Errorf("status qa lacks %q: exit %d\n%s\n%s", want, code, out, errOut)
		}
	}
	if strings.Contains(out, "nothing sent yet") {
		t.Errorf("status says nothing was sent after the invitations went:\n%s", out)
	}

	// A reschedule: --updates sends SEQUENCE 1 to s3's invitees only, at
	// the new time; plain send leaves it for --updates.
	before := len(srv.Messages())
	out, errOut, code = nudge(t, dir, "sessions", "reschedule", "s3", "--start", "2026-12-03T15:00")
	if code != exitOK {
		t.Fatalf("reschedule: exit %d\n%s\n%s", code, out, errOut)
	}
	yaml, _ := os.ReadFile(filepath.Join(dir, "campaign.yaml"))
	for _, keep := range []string{"    # London, in the office.\n", `start: "2026-12-03T15:00"   # local time`} {
		if !bytes.Contains(yaml, []byte(keep)) {
			t.Errorf("campaign.yaml after reschedule lacks %q:\n%s", keep, yaml)
		}
	}
	out, _, _ = nudge(t, dir, "send", "qa", "--via", "smtp", "--yes")
	if !strings.Contains(out, "2 changed invitations not sent") || len(srv.Messages()) != before {
		t.Errorf("plain send after a reschedule:\n%s", out)
	}
	out, errOut, code = nudge(t, dir, "send", "qa", "--via", "smtp", "--yes", "--updates")
	if code != exitOK {
		t.Fatalf("send --updates: exit %d\n%s\n%s", code, out, errOut)
	}
	got = receive(t, srv, before)
	if diff := cmp.Diff([]string{"ann@contoso.example REQUEST", "raj@contoso.example REQUEST"}, keys(got)); diff != "" {
		t.Fatalf("updates (-want +got):\n%s", diff)
	}
	for _, who := range []string{"ann", "raj"} {
		j := got[who+"@contoso.example REQUEST"]
		if j.uid != uidOf("s3", ids[who]) || j.seq != 1 || j.start != 1796310000 { // 2026-12-03 15:00 UTC
			t.Errorf("%s's update: %+v; want the same UID, SEQUENCE 1, start 15:00 London", who, j)
		}
	}

	// nudge sessions reads the ledger: the files carry what was sent.
	if out, errOut, code = nudge(t, dir, "sessions", "--wave", "qa", "--ics"); code != exitOK {
		t.Fatalf("sessions --ics: exit %d\n%s\n%s", code, out, errOut)
	}
	ics, err := os.ReadFile(filepath.Join(dir, "output", "e2e", "invites", "s3", "ann@contoso.example.ics"))
	if err != nil || !bytes.Contains(ics, []byte("\r\nSEQUENCE:1\r\n")) || !bytes.Contains(ics, []byte("DTSTART;TZID=Europe/London:20261203T150000")) {
		t.Errorf("ann's .ics after the update (%v):\n%s", err, ics)
	}

	// A cancellation: CANCEL with the same UID, SEQUENCE 2; ann, who fits
	// s2 (14:00 in London) where a seat is left, is invited there in the
	// same run, raj is left over.
	before = len(srv.Messages())
	if out, errOut, code = nudge(t, dir, "sessions", "cancel", "s3"); code != exitOK {
		t.Fatalf("cancel: exit %d\n%s\n%s", code, out, errOut)
	}
	if out, errOut, code = nudge(t, dir, "send", "qa", "--via", "smtp", "--yes", "--updates"); code != exitOK {
		t.Fatalf("send --updates after cancel: exit %d\n%s\n%s", code, out, errOut)
	}
	got = receive(t, srv, before)
	if diff := cmp.Diff([]string{"ann@contoso.example CANCEL", "ann@contoso.example REQUEST", "raj@contoso.example CANCEL"}, keys(got)); diff != "" {
		t.Fatalf("cancellations (-want +got):\n%s", diff)
	}
	if j := got["ann@contoso.example REQUEST"]; j.uid != uidOf("s2", "u1") || j.seq != 0 {
		t.Errorf("ann's new invitation: %+v; want s2's UID, SEQUENCE 0", j)
	}
	for _, who := range []string{"ann", "raj"} {
		j := got[who+"@contoso.example CANCEL"]
		if j.uid != uidOf("s3", ids[who]) || j.seq != 2 || j.status != "CANCELLED" {
			t.Errorf("%s's cancellation: %+v; want the same UID, SEQUENCE 2, STATUS:CANCELLED", who, j)
		}
	}
	if out, _, _ = nudge(t, dir, "send", "qa", "--via", "smtp", "--yes", "--updates"); !strings.Contains(out, "nothing to send") {
		t.Errorf("--updates after the cancellation went out:\n%s", out)
	}

	// People added later are invited; nobody already invited moves or
	// hears again.
	before = len(srv.Messages())
	writeInvitees(t, dir, append(invitees[:len(invitees):len(invitees)], invitee{"u0", "zoe@contoso.example", "Zoé", "fr-FR", "FR", ""}))
	if out, errOut, code = nudge(t, dir, "send", "qa", "--via", "smtp", "--yes"); code != exitOK {
		t.Fatalf("send after an addition: exit %d\n%s\n%s", code, out, errOut)
	}
	got = receive(t, srv, before)
	if j := got["zoe@contoso.example REQUEST"]; len(got) != 1 || j.uid != uidOf("s1", "u0") || j.seq != 0 {
		t.Errorf("after adding zoe: %v", got)
	}
}

// TestSendInvitesAfterLeaving: someone who registered a passkey since
// their invitation leaves the audience, gets no new invitation, and still
// gets the updates of the one they have.
func TestSendInvitesAfterLeaving(t *testing.T) {
	srv, dir := inviteFixture(t)
	if out, errOut, code := nudge(t, dir, "send", "qa", "--via", "smtp", "--yes"); code != exitOK {
		t.Fatalf("send: exit %d\n%s\n%s", code, out, errOut)
	}
	left := slices.Clone(invitees)
	left[0].method = "passKeyDeviceBound" // ann
	writeInvitees(t, dir, left)
	if out, errOut, code := nudge(t, dir, "sessions", "reschedule", "s3", "--start", "2026-12-03T11:00"); code != exitOK {
		t.Fatalf("reschedule: exit %d\n%s\n%s", code, out, errOut)
	}
	before := len(srv.Messages())
	if out, errOut, code := nudge(t, dir, "send", "qa", "--via", "smtp", "--yes", "--updates"); code != exitOK {
		t.Fatalf("send --updates: exit %d\n%s\n%s", code, out, errOut)
	}
	got := receive(t, srv, before)
	if diff := cmp.Diff([]string{"ann@contoso.example REQUEST", "raj@contoso.example REQUEST"}, keys(got)); diff != "" {
		t.Errorf("updates (-want +got):\n%s", diff)
	}
	if j := got["ann@contoso.example REQUEST"]; j.seq != 1 || j.uid != uidOf("s3", "u1") {
		t.Errorf("ann's update: %+v", j)
	}
}

// TestSendInvitesFaults: a message whose fate is unknown (the connection
// dropped after DATA) is not sent again unless asked; one the server
// refused is tried again by the next run; nobody gets anything twice.
func TestSendInvitesFaults(t *testing.T) {
	srv, dir := inviteFixture(t, smtptest.Options{DropInData: 2, RejectRecipients: []string{"bob@contoso.example"}})
	delivered := func() map[string]int {
		n := map[string]int{}
		for _, m := range srv.Messages() {
			n[m.To[0]]++
		}
		return n
	}
	out, errOut, _ := nudge(t, dir, "send", "qa", "--via", "smtp", "--yes")
	if !strings.Contains(out, "1 failed") || !strings.Contains(out, "1 unknown") {
		t.Fatalf("first send: want bob refused and one dropped:\n%s\n%s", out, errOut)
	}
	// The server kept two; the dropped one is whichever is missing.
	first := delivered()
	var dropped string
	for _, w := range []string{"ann", "amelie", "raj"} {
		if first[w+"@contoso.example"] == 0 {
			dropped = w + "@contoso.example"
		}
	}
	if len(srv.Messages()) != 2 || dropped == "" {
		t.Fatalf("first send delivered %v", first)
	}

	steps := []struct {
		args     []string
		want     string
		received map[string]int // messages since the previous step
	}{
		{nil, "1 to send now", nil}, // bob again, refused again; the unknown one held back
		{[]string{"--retry-unknown"}, "2 to send now", map[string]int{dropped: 1}},
		{nil, "1 to send now", nil},
	}
	for i, st := range steps {
		before := delivered()
		out, errOut, _ = nudge(t, dir, append([]string{"send", "qa", "--via", "smtp", "--yes"}, st.args...)...)
		if !strings.Contains(out, st.want) {
			t.Errorf("step %d %v: want %q:\n%s\n%s", i, st.args, st.want, out, errOut)
		}
		got := map[string]int{}
		for k, n := range delivered() {
			if d := n - before[k]; d > 0 {
				got[k] = d
			}
		}
		if st.received == nil {
			st.received = map[string]int{}
		}
		if diff := cmp.Diff(st.received, got); diff != "" {
			t.Errorf("step %d %v: received (-want +got):\n%s", i, st.args, diff)
		}
	}
	if strings.Contains(out, "unknown") {
		t.Errorf("the unknown one is still reported after it was sent:\n%s", out)
	}
}

// TestSendInvitesRefusals: what cannot work is refused before anything is
// sent or recorded.
func TestSendInvitesRefusals(t *testing.T) {
	srv, dir := inviteFixture(t)
	yaml, _ := os.ReadFile(filepath.Join(dir, "campaign.yaml"))
	write(t, filepath.Join(dir, "campaign.yaml"), string(yaml)+"graph: {tenant_id: 00000000-0000-0000-0000-000000000001, client_id: 00000000-0000-0000-0000-000000000002, auth: secret}\ngraph_mail: {format: json}\n")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"graph json", []string{"--via", "graph", "--yes"}, "graph_mail.format: json, which cannot carry a calendar part"},
		{"proofs", []string{"--via", "smtp", "--yes", "--redirect-to", "me@contoso.example"}, "--redirect-to"},
		{"no --yes off a terminal", []string{"--via", "smtp"}, "refusing to send without confirmation"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := nudge(t, dir, append([]string{"send", "qa"}, tc.args...)...)
			if code == exitOK || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want a refusal with %q", code, errOut, tc.want)
			}
		})
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("%d messages sent", n)
	}
	if st := srv.Stats(); st.Connections != 0 {
		t.Errorf("refused sends opened %d connections", st.Connections)
	}
	if _, err := os.Stat(filepath.Join(dir, "output", "e2e", "nudge.db")); err == nil {
		t.Error("a refused send created the ledger")
	}
}

// TestSendInvitesGraph: over Graph the invitation goes as the same MIME
// (sendMail's base64 form), calendar part and all.
func TestSendInvitesGraph(t *testing.T) {
	_, dir := inviteFixture(t)
	s := mailGraph(t)
	ca, err := os.ReadFile(s.CAFile(t))
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "graph-ca.pem"), string(ca))
	yaml, _ := os.ReadFile(filepath.Join(dir, "campaign.yaml"))
	write(t, filepath.Join(dir, "campaign.yaml"), string(yaml)+fmt.Sprintf("graph:\n  tenant_id: %s\n  client_id: %s\n  auth: secret\n  base_url: %s\n  authority_host: %s\n  ca_file: graph-ca.pem\n",
		s.TenantID(), graphtest.DefaultClientID, s.URL(), s.URL()))
	t.Setenv("NUDGE_CLIENT_SECRET", graphtest.DefaultClientSecret)
	t.Setenv("NUDGE_GRAPH_PACE", "off")

	out, errOut, code := nudge(t, dir, "send", "qa", "--via", "graph", "--yes")
	if code != exitOK {
		t.Fatalf("send: exit %d\n%s\n%s", code, out, errOut)
	}
	mails := s.Mail()
	if len(mails) != len(invitees) {
		t.Fatalf("Graph took %d messages, want %d", len(mails), len(invitees))
	}
	var cals [][]byte
	for _, m := range mails {
		if m.MIME == nil {
			t.Fatalf("a message went as JSON")
		}
		cm := parseInvite(t, m.MIME)
		if cm.method != "REQUEST" {
			t.Errorf("message to %s: method=%q", cm.to, cm.method)
		}
		cals = append(cals, cm.ics)
	}
	for _, c := range icaltest.Judge(t, cals...) {
		if c.Method != "REQUEST" || len(c.Events) != 1 || len(c.Events[0].Attendees) != 1 {
			t.Errorf("calendar: %+v", c)
		}
	}
	if out, _, _ = nudge(t, dir, "send", "qa", "--via", "graph", "--yes"); !strings.Contains(out, "nothing to send") || s.MailCount() != len(invitees) {
		t.Errorf("rerun over Graph:\n%s", out)
	}
}
