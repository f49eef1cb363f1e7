package handout

import (
	"errors"
	stdhtml "html"
	"strings"
	"testing"
	"time"

	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/render"
	"github.com/nudge-passkeys/nudge/templates"
)

func TestLetters(t *testing.T) {
	c := demoCampaign(t)
	paris, _ := time.LoadLocation("Europe/Paris")
	from := time.Date(2026, 11, 26, 9, 0, 0, 0, paris)
	m, err := NewLetters(c, render.New(templates.FS, "templates", c), LetterOptions{Paper: "letter", Now: from})
	if err != nil {
		t.Fatal(err)
	}
	people := []Letter{
		{Person: &directory.Person{ID: "1", DisplayName: "<b>Zoé</b> *Bold*", GivenName: "Zoé", Surname: "Zed", UserPrincipalName: "zoe@contoso.example", OfficeLocation: "Paris", PreferredLanguage: "fr-FR"}, Pass: "PASS-ZOE-1"},
		{Person: &directory.Person{ID: "2", DisplayName: "Adam Ng", GivenName: "Adam", Surname: "Ng", UserPrincipalName: "adam@contoso.example", OfficeLocation: "paris"}, Pass: "PASS-ADAM-2"},
		{Person: &directory.Person{ID: "3", DisplayName: "Nobody Office", UserPrincipalName: "no@contoso.example"}, Pass: "PASS-NO-3"},
	}
	for i := range people {
		people[i].Audience, people[i].From, people[i].Until = "onboard", from, from.Add(8*time.Hour)
	}
	bs, err := m.Batches(people)
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 2 || bs[0].Site != "Paris" || bs[0].Inserts != 2 || bs[0].Pages != 3 || bs[1].Site != Unassigned || bs[0].Paper != Papers["letter"] {
		t.Fatalf("batches: %+v", bs)
	}
	html := string(bs[0].HTML)
	text := stdhtml.UnescapeString(html)
	handover, letters, ok := strings.Cut(html, `<section class="page letter"`)
	if !ok {
		t.Fatal("no letter page")
	}
	for _, pass := range []string{"PASS-ZOE-1", "PASS-ADAM-2"} {
		if strings.Contains(handover, pass) {
			t.Errorf("the handover sheet shows %s", pass)
		}
		if strings.Count(letters, pass) != 1 {
			t.Errorf("%s printed %d times, want once", pass, strings.Count(letters, pass))
		}
	}
	for _, want := range []string{"&lt;b&gt;Zoé&lt;/b&gt; *Bold*", "Adam Ng", "Votre passe d&#39;accès temporaire", "Your Temporary Access Pass",
		"Thursday 26 November 2026, 09:00 CET (Europe/Paris)", "Thursday 26 November 2026, 17:00 CET (Europe/Paris)", "Signature",
		// Zoé reads French: her letter's dates are French too.
		"jeudi 26 novembre 2026 à 09:00 (Europe/Paris, UTC+01:00)", "jeudi 26 novembre 2026 à 17:00 (Europe/Paris, UTC+01:00)"} {
		if !strings.Contains(html, want) && !strings.Contains(text, want) {
			t.Errorf("the Paris batch lacks %q", want)
		}
	}
	if strings.Index(html, "Adam Ng") > strings.Index(html, "Zoé") {
		t.Error("people are not sorted by name")
	}
	if strings.Contains(string(bs[1].HTML), "PASS-ZOE-1") || !strings.Contains(string(bs[1].HTML), "PASS-NO-3") {
		t.Error("a pass is in the wrong site's batch")
	}

	if _, err := m.Batches(nil); !errors.Is(err, ErrNoPeople) {
		t.Errorf("no letters: %v", err)
	}
	if _, err := NewLetters(c, render.New(templates.FS, "templates", c), LetterOptions{Paper: "a6"}); err == nil || !strings.Contains(err.Error(), `unknown letter paper "a6"`) {
		t.Errorf("paper a6: %v", err)
	}
}

// TestValidity: a pass's validity is written in the letter's language,
// in the person's zone, with the zone named.
func TestValidity(t *testing.T) {
	zone := func(name string) *time.Location {
		l, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	paris, berlin, ny := zone("Europe/Paris"), zone("Europe/Berlin"), zone("America/New_York")
	for _, tc := range []struct {
		locale string
		t      time.Time
		want   string
	}{
		{"en", time.Date(2026, 12, 7, 9, 0, 0, 0, paris), "Monday 7 December 2026, 09:00 CET (Europe/Paris)"},
		{"en", time.Date(2026, 7, 1, 17, 30, 0, 0, ny), "Wednesday 1 July 2026, 17:30 EDT (America/New_York)"},
		{"fr", time.Date(2026, 12, 7, 9, 0, 0, 0, paris), "lundi 7 décembre 2026 à 09:00 (Europe/Paris, UTC+01:00)"},
		{"fr", time.Date(2026, 8, 1, 18, 5, 0, 0, paris), "samedi 1er août 2026 à 18:05 (Europe/Paris, UTC+02:00)"},
		{"fr", time.Date(2026, 2, 2, 8, 0, 0, 0, ny), "lundi 2 février 2026 à 08:00 (America/New_York, UTC-05:00)"},
		{"de", time.Date(2026, 12, 7, 9, 0, 0, 0, berlin), "Montag, 7. Dezember 2026, 09:00 Uhr (Europe/Berlin, UTC+01:00)"},
		{"de", time.Date(2026, 3, 29, 23, 59, 0, 0, time.UTC), "Sonntag, 29. März 2026, 23:59 Uhr (UTC, UTC+00:00)"},
		{"nl", time.Date(2026, 12, 7, 9, 0, 0, 0, paris), "2026-12-07 09:00 (Europe/Paris, UTC+01:00)"},
	} {
		if got := validity(tc.t, tc.locale); got != tc.want {
			t.Errorf("validity(%s, %s) = %q, want %q", tc.t, tc.locale, got, tc.want)
		}
	}
}

// TestLetterDatesPerLocale: each letter of a batch carries its own
// locale's dates; none of the French or German ones is in English.
func TestLetterDatesPerLocale(t *testing.T) {
	c := demoCampaign(t)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	from := time.Date(2026, 12, 7, 9, 0, 0, 0, berlin)
	m, err := NewLetters(c, render.New(templates.FS, "templates", c), LetterOptions{Paper: "a4", Now: from})
	if err != nil {
		t.Fatal(err)
	}
	var letters []Letter
	for _, lang := range []string{"en-GB", "fr-FR", "de-DE"} {
		letters = append(letters, Letter{Person: &directory.Person{ID: lang, DisplayName: "Reader " + lang, UserPrincipalName: lang + "@contoso.example",
			OfficeLocation: "Berlin", PreferredLanguage: lang}, Audience: "onboard", Pass: "P-" + lang, From: from, Until: from.Add(8 * time.Hour)})
	}
	bs, err := m.Batches(letters)
	if err != nil {
		t.Fatal(err)
	}
	pages := strings.Split(stdhtml.UnescapeString(string(bs[0].HTML)), `<section class="page letter"`)[1:]
	want := map[string][]string{
		"en": {"Monday 7 December 2026, 09:00 CET (Europe/Berlin)", "Monday 7 December 2026, 17:00 CET (Europe/Berlin)"},
		"fr": {"lundi 7 décembre 2026 à 09:00 (Europe/Berlin, UTC+01:00)", "lundi 7 décembre 2026 à 17:00"},
		"de": {"Montag, 7. Dezember 2026, 09:00 Uhr (Europe/Berlin, UTC+01:00)", "Montag, 7. Dezember 2026, 17:00 Uhr"},
	}
	if len(pages) != 3 {
		t.Fatalf("%d letters, want 3", len(pages))
	}
	for _, page := range pages {
		lang := page[len(` lang="`) : len(` lang="`)+2]
		for _, w := range want[lang] {
			if !strings.Contains(page, w) {
				t.Errorf("the %s letter lacks %q", lang, w)
			}
		}
		if lang != "en" && (strings.Contains(page, "December") || strings.Contains(page, "Monday")) {
			t.Errorf("the %s letter has an English date", lang)
		}
	}
}
