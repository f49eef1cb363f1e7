package handout

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/nudge-passkeys/nudge/content"
	"github.com/nudge-passkeys/nudge/internal/campaign"
	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/handout/pdfcheck"
	"github.com/nudge-passkeys/nudge/internal/printpdf"
	"github.com/nudge-passkeys/nudge/internal/render"
	"github.com/nudge-passkeys/nudge/templates"
)

var now = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

// demoCampaign is the shipped demo campaign.
func demoCampaign(t testing.TB) *campaign.Campaign {
	t.Helper()
	data, err := fs.ReadFile(content.FS, "campaign.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := campaign.Parse("campaign.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func maker(t testing.TB, c *campaign.Campaign, fsys fs.FS, opt Options) *Maker {
	t.Helper()
	if opt.Now.IsZero() {
		opt.Now = now
	}
	m, err := New(c, render.New(fsys, "templates", c), opt)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// hostile returns people named after the shared corpus of hostile
// directory values, spread over sites, some with no office.
func hostile(t testing.TB) []Member {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testcorpus", "hostile-names.json"))
	var corpus []struct{ ID, DisplayName string }
	if err == nil {
		err = json.Unmarshal(data, &corpus)
	}
	if err != nil {
		t.Fatal(err)
	}
	sites := []string{"Paris", "London", "", "../../etc", "Zürich <b>HQ</b>"}
	var out []Member
	for i, h := range corpus {
		out = append(out, Member{Audience: []string{"ready", "onboard"}[i%2], Person: &directory.Person{
			ID: fmt.Sprint(i), DisplayName: h.DisplayName, UserPrincipalName: fmt.Sprintf("user%02d@contoso.example", i),
			OfficeLocation: sites[i%len(sites)], PreferredLanguage: []string{"en-GB", "fr-FR", "de-DE", ""}[i%4],
		}})
	}
	return out
}

func TestBadInput(t *testing.T) {
	c := demoCampaign(t)
	card := func(front string) fs.FS {
		m := fstest.MapFS{}
		for _, l := range []string{"en", "fr", "de"} {
			m["handouts/"+l+"/card.md"] = &fstest.MapFile{Data: []byte("---\nkind: handout\ntitle: T\n" + front + "---\nBody\n")}
			m["handouts/"+l+"/insert.md"] = &fstest.MapFile{Data: []byte("---\nkind: handout\ntitle: T\n" + front + "---\nBody\n")}
		}
		return m
	}
	insecure := *c
	insecure.Links.Register = "http://aka.ms/mysecurityinfo"
	siteInsecure := *c
	siteInsecure.Handouts.SiteLinks = map[string]string{"Paris": "ftp://example.com/x"}
	for _, tc := range []struct {
		name string
		c    *campaign.Campaign
		fsys fs.FS
		opt  Options
		want string
	}{
		{"unknown layout", c, templates.FS, Options{Layout: "a5"}, `unknown layout "a5": use a6, a4-4up, letter-4up, card`},
		{"card too small for the code", c, card("sizes:\n  card: [40, 25]\n"), Options{Layout: "card"}, "too small for a 20 mm QR code"},
		{"a6 too small for the code", c, card("sizes:\n  a6: [30, 30]\n"), Options{Layout: "a6"}, "too small for a 22 mm QR code"},
		{"code below 20 mm", c, card("qr: 15\n"), Options{Layout: "a6"}, "at least 20 mm"},
		{"bleed on n-up", c, card("bleed: 3\n"), Options{Layout: "a4-4up"}, "bleed is for single-insert layouts"},
		{"n-up inserts too big", c, card("sizes:\n  a4-4up: [105, 148.5]\n"), Options{Layout: "a4-4up"}, "do not fit on a 210 × 297 mm sheet"},
		{"size of unknown layout", c, card("sizes:\n  a3: [1, 1]\n"), Options{Layout: "a6"}, `unknown layout "a3"`},
		{"unknown front matter key", c, card("paper: a4\n"), Options{Layout: "a6"}, "keys: kind, title, qr, margin, bleed, sizes"},
		{"registration link not https", &insecure, templates.FS, Options{Layout: "a6"}, `"http://aka.ms/mysecurityinfo": use https`},
		{"site link not https", &siteInsecure, templates.FS, Options{Layout: "a6"}, "use https"},
		{"locale not in campaign", c, templates.FS, Options{Layout: "a6", Locale: "it"}, `locale "it"`},
		{"template missing", c, templates.FS, Options{Layout: "a6", Template: "nope"}, "handouts/en/nope.md: handout template not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.c, render.New(tc.fsys, "templates", tc.c), tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v\nwant an error containing %q", err, tc.want)
			}
		})
	}
	m := maker(t, c, templates.FS, Options{Layout: "a6"})
	if _, err := m.Personal(nil); !errors.Is(err, ErrNoPeople) {
		t.Errorf("Personal(nobody) = %v, want ErrNoPeople", err)
	}
	if _, err := m.Generic("ready", 0); err == nil {
		t.Error("Generic with 0 copies succeeded")
	}
}

func TestPersonalSitesAndOrder(t *testing.T) {
	c := demoCampaign(t)
	m := maker(t, c, templates.FS, Options{Layout: "a4-4up"})
	people := []Member{
		{Audience: "ready", Person: &directory.Person{DisplayName: "Zoë Adams", GivenName: "Zoë", Surname: "Adams", UserPrincipalName: "zoe@x", OfficeLocation: "paris"}},
		{Audience: "ready", Person: &directory.Person{DisplayName: "Émile Zola", GivenName: "Émile", Surname: "Zola", UserPrincipalName: "emile@x", OfficeLocation: "Paris "}},
		{Audience: "ready", Person: &directory.Person{DisplayName: "Ann Baker", GivenName: "Ann", Surname: "Baker", UserPrincipalName: "ann@x", OfficeLocation: "Paris"}},
		{Audience: "ready", Person: &directory.Person{DisplayName: "No Office", UserPrincipalName: "none@x", OfficeLocation: "  "}},
		{Audience: "ready", Person: &directory.Person{DisplayName: "Ed", UserPrincipalName: "ed@x", OfficeLocation: "Århus"}},
		{Audience: "ready", Person: &directory.Person{DisplayName: "Up", UserPrincipalName: "up@x", OfficeLocation: "../.."}},
	}
	batches, err := m.Personal(people)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range batches {
		got = append(got, fmt.Sprintf("%s→%s:%d/%dp", b.Site, b.Slug, b.Inserts, b.Pages))
	}
	// Sites compare without case or stray spaces; "Århus" sorts with A; the
	// people with no office come last.
	want := []string{"../..→site:1/2p", "Århus→arhus:1/2p", "paris→paris:3/2p", "unassigned→unassigned:1/2p"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("batches = %q\nwant      %q", got, want)
	}
	paris := string(batches[2].HTML)
	a, z, e := strings.Index(paris, "Zoë Adams"), strings.Index(paris, "Ann Baker"), strings.Index(paris, "Émile Zola")
	if !(a < z && z < e) || a < 0 {
		t.Errorf("Paris inserts not sorted by surname: Adams@%d Baker@%d Zola@%d", a, z, e)
	}
}

func TestGeneric(t *testing.T) {
	c := demoCampaign(t)
	for _, tc := range []struct {
		layout        string
		copies, pages int
	}{{"a6", 3, 3}, {"a4-4up", 9, 3}, {"letter-4up", 4, 1}, {"card", 2, 2}} {
		m := maker(t, c, templates.FS, Options{Layout: tc.layout, Locale: "fr"})
		b, err := m.Generic("onboard", tc.copies)
		if err != nil {
			t.Fatal(err)
		}
		if b.Pages != tc.pages || b.Inserts != tc.copies || b.Slug != "generic-onboard-fr-"+tc.layout {
			t.Errorf("%s: %d inserts on %d pages as %s, want %d on %d", tc.layout, b.Inserts, b.Pages, b.Slug, tc.copies, tc.pages)
		}
		html := string(b.HTML)
		if n := strings.Count(html, `class="insert`); n != tc.copies {
			t.Errorf("%s: %d inserts in the HTML, want %d", tc.layout, n, tc.copies)
		}
		if tc.layout != "card" && !strings.Contains(html, "passe d’accès temporaire") && !strings.Contains(html, "passe d'accès temporaire") && !strings.Contains(html, "passe d&#39;accès temporaire") {
			t.Errorf("%s: the onboard steps (French) are missing", tc.layout)
		}
	}
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"Paris La Défense": "paris-la-defense", "../../etc/passwd": "etc-passwd", "": "site", "山田": "site",
		"Zürich <b>HQ</b>": "zurich-b-hq-b", "CON": "con", "a/b\\c": "a-b-c",
	} {
		if got := Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}

// browser starts the machine's browser for a test, skipping without one
// unless NUDGE_REQUIRE_TOOLS is set.
func browser(t testing.TB) *printpdf.Browser {
	t.Helper()
	exe, err := printpdf.Find(os.Getenv("NUDGE_BROWSER"))
	if err != nil {
		if os.Getenv("NUDGE_REQUIRE_TOOLS") != "" {
			t.Fatalf("%v (NUDGE_REQUIRE_TOOLS is set): %s", err, printpdf.InstallHint())
		}
		t.Skipf("%v: %s", err, printpdf.InstallHint())
	}
	b, err := printpdf.Start(t.Context(), exe, printpdf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// TestPrintedInserts prints hostile-named people in every layout and
// reads the PDFs back with qpdf, pdfinfo, pdftotext and zbarimg.
func TestPrintedInserts(t *testing.T) {
	for _, tool := range []string{"qpdf", "pdfinfo", "pdftotext", "pdftoppm", "zbarimg"} {
		pdfcheck.Tool(t, tool)
	}
	b := browser(t)
	c := demoCampaign(t)
	c.Handouts.SiteLinks = map[string]string{"london": "https://mysignins.microsoft.com/security-info?site=london"}
	people := hostile(t)
	for _, layout := range LayoutNames() {
		t.Run(layout, func(t *testing.T) {
			if testing.Short() && layout != "a4-4up" {
				t.Skip("-short: one layout")
			}
			m := maker(t, c, templates.FS, Options{Layout: layout})
			batches, err := m.Personal(people)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			l, _ := FindLayout(layout)
			seen := 0
			for _, batch := range batches {
				out := filepath.Join(dir, batch.Slug+".pdf")
				res, err := b.Print(t.Context(), string(batch.HTML), printpdf.Paper{WidthMM: batch.Paper.W, HeightMM: batch.Paper.H}, out)
				if err != nil {
					t.Fatal(err)
				}
				// Only the 301-character name may crowd an insert out.
				for _, bx := range batch.Overflowing(res.Overflow) {
					if !strings.Contains(bx.What, "Maximilian") {
						t.Errorf("%s: page %d: %s does not fit", out, bx.Page, bx.What)
					}
				}
				checkPDF(t, out, batch, l, c.RegisterLink(batch.Site))
				text := strings.Join(pdfcheck.Text(t, out), " ")
				if !strings.Contains(text, printable(batch.Site)) {
					t.Errorf("%s: cover does not name the site %q", out, batch.Site)
				}
				for _, p := range people {
					site := printable(p.Person.OfficeLocation)
					if site == "" {
						site = Unassigned
					}
					if !strings.EqualFold(site, batch.Site) {
						continue
					}
					seen++
					name := pdfcheck.Fold(printable(p.Person.DisplayName))
					if layout == "card" && len(name) > 60 {
						continue // a card has room for two lines of name
					}
					if name != "" && !strings.Contains(text, name) {
						t.Errorf("%s: name %q not found in the text", out, name)
					}
					if !strings.Contains(text, p.Person.UserPrincipalName) {
						t.Errorf("%s: UPN %q not found", out, p.Person.UserPrincipalName)
					}
				}
			}
			if seen != len(people) {
				t.Errorf("%d people in the PDFs, want %d", seen, len(people))
			}
		})
	}
}

// checkPDF reads one batch's PDF back.
func checkPDF(t *testing.T, file string, b *Batch, l Layout, link string) {
	t.Helper()
	pdfcheck.Check(t, file)
	sizes := pdfcheck.Pages(t, file)
	cover := 0
	if b.Site != "" {
		cover = 1
	}
	want := cover + int(math.Ceil(float64(b.Inserts)/float64(l.PerSheet())))
	if len(sizes) != want || b.Pages != want {
		t.Fatalf("%s: %d pages (batch says %d), want %d covers + ⌈%d/%d⌉ = %d", file, len(sizes), b.Pages, cover, b.Inserts, l.PerSheet(), want)
	}
	pw, ph := l.Sheet.W, l.Sheet.H
	if !l.NUp() {
		pw, ph = l.Insert.W, l.Insert.H
	}
	for i, s := range sizes {
		if math.Abs(s.W-pdfcheck.MM(pw)) > 1 || math.Abs(s.H-pdfcheck.MM(ph)) > 1 {
			t.Errorf("%s page %d: %.2f × %.2f pt, want %.2f × %.2f (%g × %g mm)", file, i+1, s.W, s.H, pdfcheck.MM(pw), pdfcheck.MM(ph), pw, ph)
		}
	}
	codes := pdfcheck.QRCodes(t, file)
	left := b.Inserts
	for i, page := range codes {
		want := 0
		if i >= cover {
			want = min(left, l.PerSheet())
			left -= want
		}
		if len(page) != want {
			t.Errorf("%s page %d: %d QR codes decoded, want %d", file, i+1, len(page), want)
		}
		for _, got := range page {
			if got != link {
				t.Errorf("%s page %d: QR code reads %q, want exactly %q", file, i+1, got, link)
			}
		}
	}
}
