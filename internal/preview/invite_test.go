package preview

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nudge-passkeys/nudge/internal/ical/icaltest"
)

// withSessions adds an invite wave to the demo campaign (whose waves list
// ends the file) and its sessions: an English one for everyone, a French
// one only for people in Paris, none in German.
const withSessions = `  - id: qa
    name: Q&A invitation
    audiences: [ready]
    template: qa-invite
    sessions: true
    send_at: 2026-12-02T09:00
sessions:
  list:
    - {id: s1, title: "Passkeys Q&A (London)", start: "2026-12-03T10:00", duration: 45m, room: "London office, room 4.12", host: host@contoso.example, language: en, capacity: 10}
    - {id: s2, title: "Passkeys, questions & réponses", start: "2026-12-03T10:00", zone: Europe/Paris, join_url: "https://teams.microsoft.com/l/meetup-join/s2", language: fr, capacity: 10, serves: {zones: [Europe/Paris]}}
`

// inviteFixture serves the demo campaign with the qa wave, reaching the
// announce wave's people.
func inviteFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t, withSessions)
	f.members[Key{"qa", "ready"}] = f.members[Key{"announce", "ready"}]
	f.srv.Reload(context.Background())
	return f
}

func TestPreviewInviteIndex(t *testing.T) {
	f := inviteFixture(t)
	_, page := f.get(t, "/")
	for _, tt := range []struct {
		link string
		want bool
	}{
		{"/piece/invite/qa/ready/en", true},
		{"/piece/invite/qa/ready/fr", true},
		{"/piece/invite/announce/ready/en", false}, // no sessions: true
		{"/piece/handout/announce/ready/en", true},
		{"/piece/handout/qa/ready/fr", true},
	} {
		if got := strings.Contains(page, `href="`+tt.link+`"`); got != tt.want {
			t.Errorf("index links to %s: %v, want %v", tt.link, got, tt.want)
		}
	}
	// A piece the index does not list is not served either.
	if code, _ := f.get(t, "/piece/invite/announce/ready/en"); code != http.StatusNotFound {
		t.Errorf("invite of a wave without sessions: status %d, want 404", code)
	}
}

func TestPreviewInvitePage(t *testing.T) {
	f := inviteFixture(t)
	tests := []struct {
		name, path string
		want       []string
	}{
		{"Ann gets the London session", "/piece/invite/qa/ready/en?person=ann", []string{
			"Passkeys Q&amp;A (London) (s1)", "the session this person is assigned",
			"Thu 3 Dec 2026, 10:00–10:45 GMT (Europe/London)", "host@contoso.example", "London office, room 4.12",
			`id="download-ics"`, "BEGIN:VCALENDAR", "METHOD:REQUEST", "SUMMARY:Passkeys Q&amp;A (London)",
		}},
		// Chloé is in London: the Paris-only session does not serve her.
		{"Chloé fits none: the first French session, said so", "/piece/invite/qa/ready/fr?person=chloe", []string{
			"s2", "no session serves their zone or region", "shown with the first session in fr, s2",
			"Join URL", "https://teams.microsoft.com/l/meetup-join/s2", "Session&#39;s own time", "11:00 CET (Europe/Paris)",
		}},
		{"a built-in sample", "/piece/invite/qa/ready/en?person=sample:long", []string{"Passkeys Q&amp;A (London) (s1)", "Maximilian"}},
		{"German: no session in German", "/piece/invite/qa/ready/de", []string{`id="render-error"`, "no session is in de"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, page := f.get(t, tt.path)
			if code != 200 {
				t.Fatalf("status %d\n%s", code, page)
			}
			for _, w := range tt.want {
				if !strings.Contains(page, w) {
					t.Errorf("the page lacks %q", w)
				}
			}
		})
	}
}

func TestPreviewInviteCalendar(t *testing.T) {
	f := inviteFixture(t)
	const path = "/piece/invite/qa/ready/en/ics"
	resp, err := f.client.Get(f.base + path + "?person=" + url.QueryEscape("sample:header-crlf"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d\n%s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/calendar") {
		t.Errorf("Content-Type %q, want text/calendar", ct)
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") || !strings.Contains(cd, "invite.ics") {
		t.Errorf("Content-Disposition %q, want an invite.ics attachment", cd)
	}
	cals := icaltest.Judge(t, body)
	if len(cals) != 1 || cals[0].Method != "REQUEST" || len(cals[0].Events) != 1 {
		t.Fatalf("ical.js read %+v, want one REQUEST with one event", cals)
	}
	e := cals[0].Events[0]
	if e.Summary != "Passkeys Q&A (London)" || e.Location != "London office, room 4.12" || len(e.Attendees) != 1 ||
		e.Attendees[0].Value != "mailto:sample.header-crlf@example.com" {
		t.Errorf("event %+v: want s1 with the sample as its one attendee", e)
	}
	for _, p := range e.Properties {
		if strings.EqualFold(p, "bcc") {
			t.Errorf("the name's line break made a property: %v", e.Properties)
		}
	}

	// The same checks as every route: no token, no calendar.
	bare := &http.Client{}
	if r, err := bare.Get(f.base + path); err != nil {
		t.Fatal(err)
	} else if r.Body.Close(); r.StatusCode != http.StatusForbidden {
		t.Errorf("without the token: status %d, want 403", r.StatusCode)
	}
	// Pieces without a calendar have none to download.
	if code, _ := f.get(t, "/piece/email/qa/ready/en/ics"); code != http.StatusNotFound {
		t.Errorf("the email's calendar: status %d, want 404", code)
	}
}

func TestPreviewInviteAndHandoutHostileName(t *testing.T) {
	f := inviteFixture(t)
	// The .ics is not HTML: TestPreviewInviteCalendar checks its escaping.
	for _, path := range []string{"/piece/invite/qa/ready/en", "/piece/handout/qa/ready/en", "/piece/handout/qa/ready/en/html"} {
		for _, who := range []string{"hostile", "sample:html-img", "sample:html-script", "sample:header-crlf"} {
			t.Run(path+"/"+who, func(t *testing.T) {
				code, page := f.get(t, path+"?person="+url.QueryEscape(who))
				if code != 200 {
					t.Fatalf("status %d\n%s", code, page)
				}
				for _, bad := range []string{"<img src=x", "<script>alert", "\nBcc:", "\r\nBcc:"} {
					if strings.Contains(page, bad) {
						t.Errorf("%s contains %q unescaped", path, bad)
					}
				}
			})
		}
	}
	_, page := f.get(t, "/piece/handout/qa/ready/en?person=hostile")
	// The print HTML is escaped once in itself and once more in srcdoc.
	if !strings.Contains(page, "&amp;lt;img src=x onerror=alert(1)&amp;gt;") {
		t.Error("the hostile name should show escaped in the insert, as text")
	}
}

func TestPreviewHandoutPage(t *testing.T) {
	f := inviteFixture(t)
	code, page := f.get(t, "/piece/handout/announce/ready/fr?person=chloe")
	if code != 200 {
		t.Fatalf("status %d\n%s", code, page)
	}
	for _, w := range []string{`id="frame-print"`, `sandbox="allow-popups allow-popups-to-escape-sandbox"`, "srcdoc=", "Chlo", "handouts/fr/insert.md", "a6, 105 × 148 mm", "https://aka.ms/mysecurityinfo"} {
		if !strings.Contains(page, w) {
			t.Errorf("the page lacks %q", w)
		}
	}
	if strings.Contains(page, "allow-scripts") {
		t.Error("the insert's frame must not run scripts")
	}
	if code, _ := f.get(t, "/piece/handout/announce/ready/fr/ics"); code != http.StatusNotFound {
		t.Errorf("a handout's calendar: status %d, want 404", code)
	}
}

func TestPreviewHandoutTemplateErrorAndAbsence(t *testing.T) {
	f := inviteFixture(t)
	insert := filepath.Join(f.templates, "handouts", "en", "insert.md")
	data, err := os.ReadFile(insert)
	if err != nil {
		t.Fatal(err)
	}
	f.write(t, insert, strings.Replace(string(data), "Help:", "Help: {{ .Nope }}", 1))
	f.srv.Reload(context.Background())
	code, page := f.get(t, "/piece/handout/announce/ready/en")
	if code != 200 || !strings.Contains(page, `id="render-error"`) || !strings.Contains(page, "Nope") {
		t.Errorf("a broken handout template: status %d, want the page with the error\n%s", code, page)
	}

	// Without handout templates, no handout pieces.
	if err := os.RemoveAll(filepath.Join(f.templates, "handouts")); err != nil {
		t.Fatal(err)
	}
	f.srv.Reload(context.Background())
	if _, page := f.get(t, "/"); strings.Contains(page, "/piece/handout/") {
		t.Error("the index lists handouts, but the templates have none")
	}
	if code, _ := f.get(t, "/piece/handout/announce/ready/en"); code != http.StatusNotFound {
		t.Errorf("handout without templates: status %d, want 404", code)
	}
}
