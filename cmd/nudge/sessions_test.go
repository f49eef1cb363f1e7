package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nudge-passkeys/nudge/internal/deliver"
	"github.com/nudge-passkeys/nudge/internal/deliver/smtp"
	"github.com/nudge-passkeys/nudge/internal/graph/graphtest"
	"github.com/nudge-passkeys/nudge/internal/ical"
	"github.com/nudge-passkeys/nudge/internal/ical/icaltest"
	"github.com/nudge-passkeys/nudge/internal/invite"
)

// TestSessionsInvitesJudgedByICALJS runs `nudge sessions --ics` on a
// tenant of hostile display names spread over the zones the issue names,
// and has ical.js read every invitation: the instants must be Go's, and
// each file must hold one event, one attendee (the person), the organiser,
// and no property a name could have added.
func TestSessionsInvitesJudgedByICALJS(t *testing.T) {
	var names []struct {
		ID          string `json:"id"`
		DisplayName string `json:"displayName"`
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "internal", "ical", "testdata", "hostile-names.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &names); err != nil {
		t.Fatal(err)
	}
	regions := []string{"FR", "US", "IN", "AU"}
	var users []map[string]any
	for i, n := range names {
		id := fmt.Sprintf("u%02d", i)
		users = append(users, map[string]any{
			"id": id, "userPrincipalName": n.ID + "@contoso.example", "mail": n.ID + "@contoso.example",
			"displayName": n.DisplayName, "givenName": n.DisplayName, "preferredLanguage": "en-GB",
			"usageLocation": regions[i%len(regions)], "accountEnabled": true, "userType": "Member",
		})
	}
	usersJSON, err := json.Marshal(map[string]any{"value": users})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string]string{
		"tenant/users.json":                   string(usersJSON),
		"tenant/userRegistrationDetails.json": `{"value":[]}`,
		"templates/layouts/email.html":        `<html><body>{{ .Body }}</body></html>`,
		"templates/emails/en/announce.md":     "---\nkind: email\nsubject: Hello\n---\nHello.\n",
		"content/campaign.yaml": `campaign: qa
organisation: {name: Contoso, team: "IT Security; Passkeys"}
sender: {address: it-security@contoso.example}
source: snapshot:../tenant
templates: ../templates
audiences: [{name: everyone, where: "true"}]
waves: [{id: qa, audiences: [everyone], template: announce}]
sessions:
  usage_locations: {FR: Europe/Paris, US: America/New_York, IN: Asia/Kolkata, AU: Australia/Lord_Howe}
  list:
    # The day clocks change in each zone, or just after.
    - {id: paris, title: "Passkeys: Q&A, Paris", start: "2027-03-28T10:00", zone: Europe/Paris, join_url: "https://teams.example/l/paris", capacity: 100, serves: {regions: [FR]}}
    - {id: ny, title: Passkeys Q&A, start: "2027-03-14T09:00", zone: America/New_York, duration: 45m, join_url: "https://teams.example/l/ny", capacity: 100, serves: {regions: [US]}}
    - {id: kolkata, title: Passkeys Q&A, start: "2026-12-03T11:30", zone: Asia/Kolkata, room: "Bangalore, 3rd floor", capacity: 100, serves: {regions: [IN]}}
    - {id: lord-howe, title: Passkeys Q&A, start: "2027-04-04T10:00", zone: Australia/Lord_Howe, join_url: "https://teams.example/l/lh", capacity: 100, serves: {regions: [AU]}}
`,
	}
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("NUDGE_NOW", "2026-11-25T10:00:00Z")
	var stdout, stderr bytes.Buffer
	out := filepath.Join(dir, "output")
	if code := run(context.Background(), []string{"--campaign", filepath.Join(dir, "content", "campaign.yaml"), "--out", out, "sessions", "--ics"}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("nudge sessions --ics: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), fmt.Sprintf("%d calendar files written", len(names)+4)) {
		t.Errorf("stdout does not count %d files:\n%s", len(names)+4, stdout.String())
	}

	starts := map[string]time.Time{}
	for _, s := range []struct{ id, zone, local string }{
		{"paris", "Europe/Paris", "2027-03-28 10:00"}, {"ny", "America/New_York", "2027-03-14 09:00"},
		{"kolkata", "Asia/Kolkata", "2026-12-03 11:30"}, {"lord-howe", "Australia/Lord_Howe", "2027-04-04 10:00"},
	} {
		loc, err := time.LoadLocation(s.zone)
		if err != nil {
			t.Fatal(err)
		}
		starts[s.id], _ = time.ParseInLocation("2006-01-02 15:04", s.local, loc)
	}
	type file struct{ session, person, address, name string }
	var list []file
	var cals [][]byte
	for i, n := range names {
		sid := []string{"paris", "ny", "kolkata", "lord-howe"}[i%4]
		f := file{sid, fmt.Sprintf("u%02d", i), n.ID + "@contoso.example", n.DisplayName}
		b, err := os.ReadFile(filepath.Join(out, "qa", "invites", sid, f.address+".ics"))
		if err != nil {
			t.Errorf("%s: %v", n.ID, err)
			continue
		}
		list = append(list, f)
		cals = append(cals, b)
	}
	for _, sid := range []string{"paris", "ny", "kolkata", "lord-howe"} {
		b, err := os.ReadFile(filepath.Join(out, "qa", "invites", sid+".ics"))
		if err != nil {
			t.Fatal(err)
		}
		list = append(list, file{session: sid})
		cals = append(cals, b)
	}
	wantProps := []string{"uid", "sequence", "dtstamp", "dtstart", "dtend", "summary", "description", "location", "url", "organizer", "attendee", "status", "transp"}
	for i, c := range icaltest.Judge(t, cals...) {
		f := list[i]
		name := f.session + "/" + f.address
		if len(c.Events) != 1 {
			t.Errorf("%s: %d events", name, len(c.Events))
			continue
		}
		e := c.Events[0]
		want := slices.Clone(wantProps)
		if f.session == "kolkata" {
			want = slices.DeleteFunc(want, func(p string) bool { return p == "url" })
		}
		wantMethod, wantAttendees := "REQUEST", 1
		if f.person == "" {
			wantMethod, wantAttendees = "PUBLISH", 0
			want = slices.DeleteFunc(want, func(p string) bool { return p == "attendee" })
		}
		if c.Method != wantMethod {
			t.Errorf("%s: METHOD %q, want %s", name, c.Method, wantMethod)
		}
		if !slices.Equal(e.Properties, want) {
			t.Errorf("%s: properties %v, want %v", name, e.Properties, want)
		}
		if e.Start != starts[f.session].Unix() || e.End <= e.Start {
			t.Errorf("%s: ical.js starts at %s, Go at %s", name, time.Unix(e.Start, 0).UTC(), starts[f.session].UTC())
		}
		if want := starts[f.session].Location().String(); e.StartZone != want {
			t.Errorf("%s: ical.js read the start in %q, want %s", name, e.StartZone, want)
		}
		if len(e.Organizer) != 1 || e.Organizer[0].Value != "mailto:it-security@contoso.example" || e.Organizer[0].Params["cn"] != "IT Security; Passkeys" {
			t.Errorf("%s: ORGANIZER %+v", name, e.Organizer)
		}
		if len(e.Attendees) != wantAttendees {
			t.Errorf("%s: %d attendees, want %d: %+v", name, len(e.Attendees), wantAttendees, e.Attendees)
			continue
		}
		if f.person == "" {
			continue
		}
		if a := e.Attendees[0]; a.Value != "mailto:"+f.address || a.Params["rsvp"] != "TRUE" {
			t.Errorf("%s: ATTENDEE %+v", name, a)
		}
		// The name, literally, on one line.
		cn := strings.Join(strings.FieldsFunc(f.name, func(r rune) bool { return r < 0x20 || r == 0x7f || r == ' ' }), " ")
		if got := e.Attendees[0].Params["cn"]; got != cn {
			t.Errorf("%s: CN %q, want %q", name, got, cn)
		}
		if want := invite.UID("qa", f.session, f.person, "contoso.example"); e.UID != want || e.Sequence != 0 {
			t.Errorf("%s: UID %s SEQUENCE %d, want %s 0", name, e.UID, e.Sequence, want)
		}
	}
}

// TestInviteThroughMailpit sends an invitation through the SMTP adapter to
// mailpit, an independent server, and reads it back: a text/calendar;
// method=REQUEST alternative next to the text and HTML, and invite.ics,
// both holding the calendar unchanged.
func TestInviteThroughMailpit(t *testing.T) {
	smtpPort, api := startMailpit(t)
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 3, 15, 0, 0, 0, paris)
	s := &invite.Session{ID: "s1", Title: "Passkeys Q&A", Start: start, End: start.Add(time.Hour), JoinURL: "https://teams.example/l/s1", Language: "fr", Capacity: 10}
	p := &invite.Person{ID: "u1", Email: "amelie@contoso.example", Name: "Amélie\r\nATTENDEE:mailto:x@evil.example", Language: "fr", Zone: paris}
	sender := invite.Sender{Campaign: "qa", Organizer: ical.Address{Name: "IT Security", Email: "it-security@contoso.example"}, Stamp: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	cal, err := invite.Message(sender.Request(s, p, 0))
	if err != nil {
		t.Fatal(err)
	}
	m := &deliver.Message{
		ID: deliver.MessageID("contoso.example", "qa", "s1", "u1"), Date: sender.Stamp,
		From: deliver.Address{Name: "IT Security", Email: "it-security@contoso.example"}, To: deliver.Address{Name: p.Name, Email: p.Email},
		Subject: "Invitation: Passkeys Q&A", Text: "Join us.", HTML: "<p>Join us.</p>", Calendar: cal,
	}
	snd, err := smtp.New(smtp.Config{Host: "127.0.0.1", Port: smtpPort, TLS: "none", AllowInsecure: true, HelloName: "nudge.test"})
	if err != nil {
		t.Fatal(err)
	}
	defer snd.Close()
	if err := snd.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	var list struct {
		Messages []struct{ ID string } `json:"messages"`
	}
	for deadline := time.Now().Add(10 * time.Second); len(list.Messages) == 0 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		getJSON(t, api+"/api/v1/messages", &list)
	}
	if len(list.Messages) != 1 {
		t.Fatalf("mailpit has %d messages, want 1", len(list.Messages))
	}
	resp, err := http.Get(api + "/api/v1/message/" + list.Messages[0].ID + "/raw")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var got []string // "type;method;filename" of every leaf, in order
	var bodies [][]byte
	var walk func(h textproto.MIMEHeader, body io.Reader)
	walk = func(h textproto.MIMEHeader, body io.Reader) {
		mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(mt, "multipart/") {
			mr := multipart.NewReader(body, params["boundary"])
			for {
				part, err := mr.NextRawPart()
				if err != nil {
					return
				}
				walk(part.Header, part)
			}
		}
		_, dp, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
		got = append(got, mt+";"+params["method"]+";"+dp["filename"])
		if h.Get("Content-Transfer-Encoding") == "base64" {
			body = base64.NewDecoder(base64.StdEncoding, body)
		}
		b, _ := io.ReadAll(body)
		bodies = append(bodies, b)
	}
	walk(textproto.MIMEHeader(msg.Header), msg.Body)
	want := []string{"text/plain;;", "text/html;;", "text/calendar;REQUEST;", "application/ics;;invite.ics"}
	if !slices.Equal(got, want) {
		t.Fatalf("parts %v, want %v", got, want)
	}
	if !bytes.Equal(bodies[2], cal.Data) || !bytes.Equal(bodies[3], cal.Data) {
		t.Error("the calendar changed on the way")
	}
	if n := strings.Count(string(bodies[2]), "\r\nATTENDEE"); n != 1 {
		t.Errorf("%d ATTENDEE properties, want 1", n)
	}
}

// TestSessionsByMailboxZone: with sessions.mailbox_settings on, nudge pull
// reads each person's time zone from their mailbox settings (Windows and
// IANA names alike), and nudge sessions places them by it, saying that
// the mailbox settings decided; without the setting, the campaign's
// tables decide as before.
func TestSessionsByMailboxZone(t *testing.T) {
	tenant := demoTenant(t)
	// Every mailbox reports Lord Howe (as a Windows name) or Kolkata (as
	// an IANA name), so which rule decided shows in every line.
	for i, raw := range tenant.Users {
		var u struct{ ID string }
		if err := json.Unmarshal(raw, &u); err != nil {
			t.Fatal(err)
		}
		tenant.TimeZones[u.ID] = []string{"Lord Howe Standard Time", "Asia/Kolkata"}[i%2]
	}
	s := graphtestStart(t, tenant)
	dir := graphFixture(t, s)
	const sessions = `
sessions:
  mailbox_settings: true
  usage_locations: {FR: Europe/Paris, DE: Europe/Berlin}
  list:
    - {id: lh, title: Passkeys Q&A (Lord Howe), start: "2026-12-03T10:00", zone: Australia/Lord_Howe, join_url: "https://teams.example/l/lh", capacity: 1000}
    - {id: in, title: Passkeys Q&A (India), start: "2026-12-03T11:00", zone: Asia/Kolkata, join_url: "https://teams.example/l/in", capacity: 1000}
`
	campaign := filepath.Join(dir, "campaign.yaml")
	base, err := os.ReadFile(campaign)
	if err != nil {
		t.Fatal(err)
	}
	write(t, campaign, string(base)+sessions)

	out, errOut, code := nudge(t, dir, "pull", "--no-track")
	if code != exitOK {
		t.Fatalf("pull: exit %d\n%s\n%s", code, out, errOut)
	}
	if !regexp.MustCompile(`mailbox time zones +\d+ of \d+ mailboxes \(\d+ Windows names mapped\)`).MatchString(out) {
		t.Errorf("pull does not say what it read of the mailboxes:\n%s", out)
	}
	snaps, _ := filepath.Glob(filepath.Join(dir, "output", "contoso-passkeys", "snapshots", "*"))
	if len(snaps) != 1 {
		t.Fatalf("snapshots %v", snaps)
	}
	if _, err := os.Stat(filepath.Join(snaps[0], "mailboxSettings.json")); err != nil {
		t.Fatalf("the pull saved no mailbox settings: %v", err)
	}

	out, errOut, _ = nudge(t, dir, "sessions", "-v", "--source", "snapshot:"+snaps[0])
	zones := regexp.MustCompile(`time zones: (\d+) by mailbox settings`).FindStringSubmatch(out)
	if zones == nil || zones[1] == "0" {
		t.Fatalf("no one placed by mailbox settings:\n%s\n%s", out, errOut)
	}
	for _, want := range []string{
		`(?m)^\S+ +lh +Thu 10:00 \S+ +Australia/Lord_Howe +mailbox settings$`,
		`(?m)^\S+ +in +Thu 11:00 IST +Asia/Kolkata +mailbox settings$`,
		`(?m)^lh +Thu 2026-12-03 10:00 \S+ +Australia/Lord_Howe .* +1000 +[1-9]\d* `,
		`(?m)^in +Thu 2026-12-03 11:00 IST +Asia/Kolkata .* +1000 +[1-9]\d* `,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("sessions output lacks %q:\n%s", want, out)
		}
	}
	if regexp.MustCompile(`(?m)(Europe/Paris|Europe/Berlin|Europe/London) +mailbox settings`).MatchString(out) {
		t.Errorf("someone placed by mailbox settings in a zone no mailbox has:\n%s", out)
	}

	// The live source reads the same.
	live, errOut, _ := nudge(t, dir, "sessions")
	if got := regexp.MustCompile(`time zones: .*`).FindString(live); got == "" || got != regexp.MustCompile(`time zones: .*`).FindString(out) {
		t.Errorf("live source: %q, snapshot: %q\n%s", got, regexp.MustCompile(`time zones: .*`).FindString(out), errOut)
	}

	// Without mailbox_settings, a fresh pull reads no mailbox and the
	// tables decide.
	write(t, campaign, string(base)+strings.Replace(sessions, "mailbox_settings: true", "mailbox_settings: false", 1))
	out, errOut, _ = nudge(t, dir, "sessions")
	if strings.Contains(out, "by mailbox settings") || !strings.Contains(out, "by usage_locations") {
		t.Errorf("without mailbox_settings:\n%s\n%s", out, errOut)
	}
}

// graphtestStart serves tenant for a cmd/nudge test.
func graphtestStart(t *testing.T, tenant *graphtest.Tenant) *graphtest.Server {
	t.Helper()
	return graphtest.Start(t, graphtest.Options{Tenant: tenant})
}
