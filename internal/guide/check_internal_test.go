package guide

import (
	"strings"
	"testing"
	"time"

	"github.com/nudge-passkeys/nudge/internal/campaign"
	"github.com/nudge-passkeys/nudge/internal/render"
	"github.com/nudge-passkeys/nudge/templates"
)

// TestCheckLinksCalendarFiles: the link check covers the "Add to
// calendar" links: a sessions page whose file is missing fails it,
// naming the page and the file.
func TestCheckLinksCalendarFiles(t *testing.T) {
	c, err := campaign.Parse("campaign.yaml", []byte(`
campaign: t
organisation: {name: Contoso}
links: {guides: "https://intranet.contoso.example/passkeys/", register: "https://aka.ms/mysecurityinfo"}
sender: {address: it@contoso.example}
helpdesk: {name: IT Helpdesk, email: helpdesk@contoso.example}
defaults: {locale: en, locales: [en]}
audiences: [{name: ready, where: "true"}]
waves: [{id: w, audiences: [ready], template: announce}]
sessions:
  list: [{id: s1, title: Q&A, start: "2026-12-03T10:00", zone: Europe/Paris, room: R1, capacity: 5}]
`))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Build(Options{FS: templates.FS, Root: "templates", Campaign: c, Engine: render.New(templates.FS, "templates", c), Now: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.checkLinks(); err != nil {
		t.Fatalf("the built site fails its own check: %v", err)
	}
	delete(s.Files, CalendarFile("en", "s1"))
	err = s.checkLinks()
	if err == nil || !strings.Contains(err.Error(), "en/ready/sessions.html") || !strings.Contains(err.Error(), "../sessions/s1.ics") {
		t.Errorf("checkLinks without the calendar file = %v, want an error naming the page and the file", err)
	}
}
