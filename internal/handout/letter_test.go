package handout

import (
	"errors"
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
		"Thursday 26 November 2026, 09:00 CET (Europe/Paris)", "Thursday 26 November 2026, 17:00 CET (Europe/Paris)", "Signature"} {
		if !strings.Contains(html, want) {
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
