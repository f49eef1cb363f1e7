package handout

import (
	"strings"
	"testing"
	"time"

	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/render"
	"github.com/nudge-passkeys/nudge/templates"
)

// TestStaffPages: the cover page of a site's inserts and the handover
// sheet of its letters are in the campaign's default language (they are
// read by the campaign's staff, not by the people named), whatever the
// languages of the inserts and letters behind them.
func TestStaffPages(t *testing.T) {
	first := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC) // French writes "1er"
	for _, tc := range []struct {
		locale string
		cover  []string
		sheet  []string
	}{
		{"en", []string{`<section class="sheet cover" lang="en"`, "3 inserts on 1 page (a4-4up), sorted by name", "Printed 1 December 2026"},
			[]string{`<section class="page handover" lang="en" data-fit="0">`, "Paris — handover", "2 Temporary Access Pass letters, sorted by name · Printed 1 December 2026", "Sign-in name", "Signature and date"}},
		{"fr", []string{`<section class="sheet cover" lang="fr"`, "3 encarts sur 1 page (a4-4up), par ordre alphabétique", "Imprimé le 1er décembre 2026"},
			[]string{`<section class="page handover" lang="fr" data-fit="0">`, "Paris — remise des lettres", "2 lettres contenant un passe d&#39;accès temporaire, par ordre alphabétique · Imprimé le 1er décembre 2026", "Identifiant de connexion", "Signature et date"}},
		{"de", []string{`<section class="sheet cover" lang="de"`, "3 Einleger auf 1 Seite (a4-4up), nach Namen sortiert", "Gedruckt am 1. Dezember 2026"},
			[]string{`<section class="page handover" lang="de" data-fit="0">`, "Paris — Übergabe", "2 Briefe mit befristetem Zugriffspass, nach Namen sortiert · Gedruckt am 1. Dezember 2026", "Anmeldename", "Unterschrift und Datum"}},
	} {
		t.Run(tc.locale, func(t *testing.T) {
			c := demoCampaign(t)
			c.Defaults.Locale = tc.locale
			people := []*directory.Person{
				{ID: "1", DisplayName: "Zoé Zed", UserPrincipalName: "zoe@contoso.example", OfficeLocation: "Paris", PreferredLanguage: "fr-FR"},
				{ID: "2", DisplayName: "Adam Ng", UserPrincipalName: "adam@contoso.example", OfficeLocation: "Paris", PreferredLanguage: "de"},
				{ID: "3", DisplayName: "Eve Ek", UserPrincipalName: "eve@contoso.example", OfficeLocation: "Paris", PreferredLanguage: "en"},
			}
			var members []Member
			for _, p := range people {
				members = append(members, Member{Audience: "ready", Person: p})
			}
			inserts, err := maker(t, c, templates.FS, Options{Layout: "a4-4up", Now: first}).Personal(members)
			if err != nil {
				t.Fatal(err)
			}
			cover, _, _ := strings.Cut(string(inserts[0].HTML), `<section class="sheet">`)
			for _, want := range tc.cover {
				if !strings.Contains(cover, want) {
					t.Errorf("the cover page lacks %q:\n%s", want, cover[strings.Index(cover, "<body>"):])
				}
			}

			m, err := NewLetters(c, render.New(templates.FS, "templates", c), LetterOptions{Paper: "a4", Now: first})
			if err != nil {
				t.Fatal(err)
			}
			letters, err := m.Batches([]Letter{{Person: people[0], Pass: "P1", From: first, Until: first}, {Person: people[1], Pass: "P2", From: first, Until: first}})
			if err != nil {
				t.Fatal(err)
			}
			sheet, _, _ := strings.Cut(string(letters[0].HTML), `<section class="page letter"`)
			for _, want := range tc.sheet {
				if !strings.Contains(sheet, want) {
					t.Errorf("the handover sheet lacks %q:\n%s", want, sheet[strings.Index(sheet, "<body>"):])
				}
			}
		})
	}
	// A sheet longer than a page goes on with the same words.
	c := demoCampaign(t)
	c.Defaults.Locale = "fr"
	m, err := NewLetters(c, render.New(templates.FS, "templates", c), LetterOptions{Paper: "a4", Now: first})
	if err != nil {
		t.Fatal(err)
	}
	var many []Letter
	for i := range handoverRowsPerPage + 1 {
		p := &directory.Person{ID: string(rune('a' + i)), DisplayName: "P " + string(rune('a'+i)), UserPrincipalName: "p@contoso.example", OfficeLocation: "Lyon"}
		many = append(many, Letter{Person: p, Pass: "P", From: first, Until: first})
	}
	bs, err := m.Batches(many)
	if err != nil {
		t.Fatal(err)
	}
	if html := string(bs[0].HTML); !strings.Contains(html, `<section class="page handover" lang="fr" data-fit="1">`+"\n<h1>Lyon — remise des lettres (suite)</h1>") {
		t.Errorf("the handover sheet's second page is not in French:\n%s", html[strings.Index(html, "<body>"):strings.Index(html, `<section class="page letter"`)])
	}

	// People with no office are under a site named in the same language.
	nowhere := []Member{{Audience: "ready", Person: &directory.Person{ID: "9", DisplayName: "Nul Part", UserPrincipalName: "nul@contoso.example"}}}
	inserts, err := maker(t, c, templates.FS, Options{Layout: "a6", Now: first}).Personal(nowhere)
	if err != nil {
		t.Fatal(err)
	}
	if html := string(inserts[0].HTML); inserts[0].Site != Unassigned || !strings.Contains(html, "<h1>sans site</h1>") {
		t.Errorf("the cover of people with no office (site %q) does not say sans site", inserts[0].Site)
	}

	// A language nudge has no staff words for gets English, and says so.
	if w := wordsFor("es"); w.lang != "en" {
		t.Errorf("staff words for es: %q, want English", w.lang)
	}
}
