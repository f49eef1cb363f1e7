package handout

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/handout/pdfcheck"
	"github.com/nudge-passkeys/nudge/internal/printpdf"
	"github.com/nudge-passkeys/nudge/internal/render"
	"github.com/nudge-passkeys/nudge/templates"
)

// endMark ends every handout body in overflowFS: a page whose text has it
// printed its insert or letter whole.
const endMark = "ENDOFTHESTEPS"

// overflowFS is the shipped templates with endMark at the end of every
// handout body, and the German insert and letter made far too long.
func overflowFS(t *testing.T) fs.FS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(templates.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(templates.FS, p)
		if err != nil {
			return err
		}
		if strings.HasPrefix(p, "handouts/") {
			if strings.HasPrefix(p, "handouts/de/") {
				data = append(data, "\n\n"+strings.Repeat("Ein sehr langer Absatz, der nicht auf die Seite passt. ", 200)...)
			}
			data = append(data, "\n\n"+endMark+"\n"...)
		}
		m[p] = &fstest.MapFile{Data: data}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// judge checks what the browser measured against what pdftotext reads:
// a box reported as overflowing lacks endMark on its page, and every other
// insert or letter page has it.
func judge(t *testing.T, pdf string, b *Batch, over []Box, content func(Box) bool) {
	t.Helper()
	pages := pdfcheck.Text(t, pdf)
	if len(pages) != b.Pages {
		t.Fatalf("%s: %d pages, want %d", pdf, len(pages), b.Pages)
	}
	reported := map[int]bool{}
	for _, bx := range over {
		reported[bx.Page] = true
	}
	for _, bx := range b.Boxes {
		if !content(bx) {
			continue
		}
		whole := strings.Contains(pages[bx.Page-1], endMark)
		if whole == reported[bx.Page] {
			t.Errorf("page %d (%s): reported overflowing %v, but the printed text is whole: %v", bx.Page, bx.What, reported[bx.Page], whole)
		}
	}
}

// TestInsertOverflow: an insert whose text does not fit its page is
// reported with the person and the page; the others are not; the PDF is
// written all the same, and its text agrees with the report.
func TestInsertOverflow(t *testing.T) {
	br := browser(t)
	c := demoCampaign(t)
	m := maker(t, c, overflowFS(t), Options{Layout: "a6"})
	long := strings.Repeat("Maximilian ", 27)
	people := []Member{
		{Audience: "ready", Person: &directory.Person{ID: "1", DisplayName: "Ann Short", UserPrincipalName: "ann@contoso.example", OfficeLocation: "Paris", PreferredLanguage: "en"}},
		{Audience: "ready", Person: &directory.Person{ID: "2", DisplayName: "Bea Lang", UserPrincipalName: "bea@contoso.example", OfficeLocation: "Paris", PreferredLanguage: "de"}},
		{Audience: "ready", Person: &directory.Person{ID: "3", DisplayName: long, UserPrincipalName: strings.Repeat("x", 200) + "@contoso.example", OfficeLocation: "Paris"}},
		{Audience: "ready", Person: &directory.Person{ID: "4", DisplayName: "Cy Fine", UserPrincipalName: "cy@contoso.example", OfficeLocation: "Paris", PreferredLanguage: "fr"}},
	}
	bs, err := m.Personal(people)
	if err != nil {
		t.Fatal(err)
	}
	b := bs[0]
	out, over := printBatch(t, br, b)
	var got []string
	for _, bx := range over {
		got = append(got, fmt.Sprintf("page %d: %s", bx.Page, bx.What))
	}
	all := strings.Join(got, "\n")
	// Pages: cover, then by name: Ann Short, Bea Lang, Cy Fine, Maximilian….
	if !strings.Contains(all, "page 3: insert for Bea Lang <bea@contoso.example>") {
		t.Errorf("the German insert, far too long, is not reported:\n%s", all)
	}
	if strings.Contains(all, "Ann Short") || strings.Contains(all, "Cy Fine") || strings.Contains(all, "cover") {
		t.Errorf("an insert that fits is reported:\n%s", all)
	}
	pdfcheck.Check(t, out)
	judge(t, out, b, over, func(bx Box) bool { return strings.HasPrefix(bx.What, "insert") })
}

// TestLetterOverflow: the same for letters and their handover sheets.
func TestLetterOverflow(t *testing.T) {
	br := browser(t)
	c := demoCampaign(t)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	from := time.Date(2026, 12, 7, 9, 0, 0, 0, berlin)
	m, err := NewLetters(c, render.New(overflowFS(t), "templates", c), LetterOptions{Paper: "a4", Now: from})
	if err != nil {
		t.Fatal(err)
	}
	var letters []Letter
	for i, lang := range []string{"en", "de", "fr"} {
		letters = append(letters, Letter{Person: &directory.Person{ID: lang, DisplayName: fmt.Sprintf("%c Reader %s", 'A'+i, lang), UserPrincipalName: lang + "@contoso.example",
			OfficeLocation: "Berlin", PreferredLanguage: lang}, Audience: "onboard", Pass: "PASS" + lang, From: from, Until: from.Add(8 * time.Hour)})
	}
	bs, err := m.Batches(letters)
	if err != nil {
		t.Fatal(err)
	}
	b := bs[0]
	out, over := printBatch(t, br, b)
	if len(over) != 1 || over[0].Page != 3 || over[0].What != "letter for B Reader de <de@contoso.example>" {
		t.Errorf("overflowing = %+v, want the German letter on page 3", over)
	}
	judge(t, out, b, over, func(bx Box) bool { return strings.HasPrefix(bx.What, "letter") })
}

// printBatch prints b to a temporary PDF and returns its path and the
// boxes the browser found overflowing.
func printBatch(t *testing.T, br *printpdf.Browser, b *Batch) (string, []Box) {
	t.Helper()
	out := filepath.Join(t.TempDir(), b.Slug+".pdf")
	res, err := br.Print(t.Context(), string(b.HTML), printpdf.Paper{WidthMM: b.Paper.W, HeightMM: b.Paper.H}, out)
	if err != nil {
		t.Fatal(err)
	}
	return out, b.Overflowing(res.Overflow)
}
