package main

import (
	"bytes"
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/handout"
	"github.com/nudge-passkeys/nudge/internal/handout/pdfcheck"
	"github.com/nudge-passkeys/nudge/internal/printpdf"
)

// nudgeIn runs nudge in dir with the built-in demo campaign.
func nudgeIn(t *testing.T, dir string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), append([]string{"--out", filepath.Join(dir, "output")}, args...), nil, &out, &errb)
	return code, out.String(), errb.String()
}

// member is one person of an audience as the directory has them.
type member struct{ site, name, upn string }

// demoAudience lists the people of audience in the built-in demo.
func demoAudience(t *testing.T, audience string) []member {
	t.Helper()
	e := &env{ctx: context.Background(), stdout: io.Discard, stderr: io.Discard, now: time.Now, getenv: os.Getenv, campaign: defaultCampaign}
	p, err := e.loadCampaign()
	if err != nil {
		t.Fatal(err)
	}
	var out []member
	_, err = e.eachPerson(p, "", func(person *directory.Person, matched []string) error {
		for _, m := range matched {
			if m == audience {
				out = append(out, member{person.OfficeLocation, person.DisplayName, person.UserPrincipalName})
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestHandoutsBadInput(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"nothing to print", []string{"handouts"}, exitUsage, "--audience NAME for personal inserts, or --generic"},
		{"unknown layout", []string{"handouts", "--generic", "--layout", "a5"}, exitUsage, `--layout "a5": use a6, a4-4up, letter-4up, card`},
		{"copies without generic", []string{"handouts", "--audience", "ready", "--copies", "3"}, exitUsage, "--copies is for --generic"},
		{"no copies", []string{"handouts", "--generic", "--copies", "0"}, exitUsage, "--copies 0"},
		{"unknown audience", []string{"handouts", "--audience", "nobody"}, exitUsage, `--audience "nobody": the campaign's audiences are ready, admins, onboard, done`},
		{"browser with html", []string{"handouts", "--generic", "--html", "--browser", "/x"}, exitUsage, "--browser has no effect with --html"},
		{"unknown locale", []string{"handouts", "--generic", "--locale", "it", "--html"}, exitFailure, `locale "it" is not one of the campaign's`},
		{"missing browser path", []string{"handouts", "--generic", "--browser", filepath.Join(dir, "nope")}, exitFailure, "hint: --browser takes the path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := nudgeIn(t, dir, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and %q", code, stderr, tc.code, tc.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "output", "contoso-passkeys", "handouts")); err == nil {
		entries, _ := os.ReadDir(filepath.Join(dir, "output", "contoso-passkeys", "handouts"))
		if len(entries) > 0 {
			t.Errorf("bad input left files: %v", entries)
		}
	}
}

// TestHandoutsBadCampaign: settings the campaign file gets wrong.
func TestHandoutsBadCampaign(t *testing.T) {
	repo, _ := filepath.Abs("../..")
	for _, tc := range []struct{ name, yaml, want string }{
		{"link not https", "links:\n  register: http://aka.ms/mysecurityinfo\n", `links.register: "http://aka.ms/mysecurityinfo": use https`},
		{"site link not https", "handouts:\n  site_links:\n    Paris: javascript:alert(1)\n", "handouts.site_links.Paris"},
		{"empty audience", "audiences:\n  - name: ready\n    where: isAdmin && !isAdmin\n", "nobody in audience ready"},
		{"unknown layout in campaign", "handouts:\n  layout: a3\n", `unknown layout "a3"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			c := "campaign: t\nname: T\norganisation: {name: Contoso}\nsender: {address: it@contoso.example}\n" +
				"helpdesk: {name: Helpdesk, email: help@contoso.example}\ndefaults: {locale: en, locales: [en, fr, de]}\n" +
				"source: snapshot:" + filepath.Join(repo, "content", "demo-tenant") + "\ntemplates: " + filepath.Join(repo, "templates") + "\n" +
				"waves: []\n" + tc.yaml
			if !strings.Contains(tc.yaml, "audiences:") {
				c += "audiences:\n  - name: ready\n    where: isMfaCapable && !hasPasskey\n"
			}
			file := filepath.Join(dir, "campaign.yaml")
			if err := os.WriteFile(file, []byte(c), 0o644); err != nil {
				t.Fatal(err)
			}
			code, _, stderr := nudgeIn(t, dir, "--campaign", file, "handouts", "--audience", "ready", "--html")
			if code == exitOK || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant a failure saying %q", code, stderr, tc.want)
			}
		})
	}
}

// TestHandoutsOverflowWarning: inserts whose text does not fit their page
// are reported on stderr (file, site, page, person, what to do), at most
// ten lines a file; the command succeeds and the PDFs are written.
func TestHandoutsOverflowWarning(t *testing.T) {
	needBrowser(t)
	repo, _ := filepath.Abs("../..")
	dir := t.TempDir()
	tmpl := filepath.Join(dir, "templates")
	if err := os.CopyFS(tmpl, os.DirFS(filepath.Join(repo, "templates"))); err != nil {
		t.Fatal(err)
	}
	insert := filepath.Join(tmpl, "handouts", "en", "insert.md")
	body, err := os.ReadFile(insert)
	if err != nil {
		t.Fatal(err)
	}
	write(t, insert, string(body)+"\n\n"+strings.Repeat("A paragraph far too long for an A6 insert. ", 120)+"\n")
	c := "campaign: t\nname: T\norganisation: {name: Contoso}\nsender: {address: it@contoso.example}\n" +
		"helpdesk: {name: Helpdesk, email: help@contoso.example}\ndefaults: {locale: en, locales: [en, fr, de]}\n" +
		"source: snapshot:" + filepath.Join(repo, "content", "demo-tenant") + "\ntemplates: " + tmpl + "\n" +
		"waves: []\naudiences:\n  - name: ready\n    where: isMfaCapable && !hasPasskey\n"
	file := filepath.Join(dir, "campaign.yaml")
	write(t, file, c)

	code, stdout, stderr := nudgeIn(t, dir, "--campaign", file, "handouts", "--audience", "ready", "--layout", "a6", "--locale", "en")
	if code != exitOK {
		t.Fatalf("exit %d, want success with a warning\n%s", code, stderr)
	}
	pdfs := strings.Fields(stdout)
	if len(pdfs) == 0 {
		t.Fatal("no PDF written")
	}
	for _, pdf := range pdfs {
		if _, err := os.Stat(pdf); err != nil {
			t.Error(err)
		}
		base := filepath.Base(pdf)
		if !strings.Contains(stderr, "nudge: warning: "+base+" (site ") {
			t.Errorf("no warning for %s:\n%s", base, stderr)
		}
	}
	for _, w := range []string{": text cut off in ", "what runs past the edge of its box is not printed", "  page 2: insert for ", "… and ",
		"hint: shorten " + tmpl + "/handouts/<locale>/insert.md", "the PDF was written: check those pages before printing"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}
	if n := strings.Count(stderr, "\n  page "); n > 10*len(pdfs) {
		t.Errorf("%d page lines for %d PDFs: more than ten a file", n, len(pdfs))
	}

	// The shipped templates fit: no warning.
	code, _, stderr = nudgeIn(t, dir, "--campaign", file, "handouts", "--audience", "ready", "--layout", "a4-4up", "--locale", "fr")
	if code != exitOK || strings.Contains(stderr, "warning") {
		t.Errorf("shipped French inserts: exit %d, stderr:\n%s", code, stderr)
	}
}

// TestHandoutsWithoutBrowser: with no browser on the machine the error
// says how to get one, and --html still works.
func TestHandoutsWithoutBrowser(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	findBrowser = func(string) (string, error) { return "", printpdf.ErrNotFound }
	t.Cleanup(func() { findBrowser = printpdf.Find })

	code, stdout, stderr := nudgeIn(t, dir, "handouts", "--audience", "ready")
	if code != exitFailure || !strings.Contains(stderr, "no Chromium, Chrome or Edge found") || !strings.Contains(stderr, "hint: install") || !strings.Contains(stderr, "--html") {
		t.Fatalf("exit %d, stderr:\n%s\nwant the install hint and --html", code, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout = %q, want nothing", stdout)
	}

	code, stdout, stderr = nudgeIn(t, dir, "handouts", "--audience", "ready", "--html")
	if code != exitOK {
		t.Fatalf("--html: exit %d\n%s", code, stderr)
	}
	files := strings.Fields(stdout)
	people := demoAudience(t, "ready")
	if len(files) == 0 || len(people) == 0 {
		t.Fatalf("--html wrote %q for %d people", files, len(people))
	}
	var all strings.Builder
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(f, ".html") || !bytes.Contains(data, []byte("@page { size: 105.000mm 148.000mm")) {
			t.Errorf("%s is not A6 print HTML", f)
		}
		all.Write(data)
	}
	html := all.String()
	if strings.Contains(html, "<img src=x") || strings.Contains(html, "<script>alert") || strings.Contains(html, `href="https://evil.example`) {
		t.Error("a directory value came out as markup")
	}
	if !strings.Contains(html, "&lt;img src=x onerror=alert(1)&gt;") {
		t.Error("the HTML-named person's name is not in the HTML as text")
	}
}

// TestHandoutsPDF prints the demo's personal inserts and a generic batch
// and reads the PDFs back with independent tools.
func TestHandoutsPDF(t *testing.T) {
	for _, tool := range []string{"qpdf", "pdfinfo", "pdftotext", "pdftoppm", "zbarimg"} {
		pdfcheck.Tool(t, tool)
	}
	if _, err := printpdf.Find(""); err != nil {
		if os.Getenv("NUDGE_REQUIRE_TOOLS") != "" {
			t.Fatalf("%v (NUDGE_REQUIRE_TOOLS is set): %s", err, printpdf.InstallHint())
		}
		t.Skipf("%v: %s", err, printpdf.InstallHint())
	}
	dir := t.TempDir()
	t.Chdir(dir)
	code, stdout, stderr := nudgeIn(t, dir, "handouts", "--audience", "onboard", "--layout", "a4-4up")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	bySite := map[string][]member{}
	for _, m := range demoAudience(t, "onboard") {
		site := strings.Join(strings.Fields(m.site), " ")
		if site == "" {
			site = handout.Unassigned
		}
		bySite[handout.Slug(site)] = append(bySite[handout.Slug(site)], m)
	}
	files := strings.Fields(stdout)
	if len(files) != len(bySite) {
		t.Errorf("%d PDFs, want one per site: %d", len(files), len(bySite))
	}
	for _, f := range files {
		people := bySite[strings.TrimSuffix(filepath.Base(f), ".pdf")]
		pdfcheck.Check(t, f)
		sizes := pdfcheck.Pages(t, f)
		if want := 1 + int(math.Ceil(float64(len(people))/4)); len(sizes) != want {
			t.Errorf("%s: %d pages, want a cover and ⌈%d/4⌉", f, len(sizes), len(people))
		}
		for _, s := range sizes {
			if math.Abs(s.W-595.28) > 1 || math.Abs(s.H-841.89) > 1 {
				t.Errorf("%s: page %.2f × %.2f pt, want A4", f, s.W, s.H)
			}
		}
		text := strings.Join(pdfcheck.Text(t, f), " ")
		for _, m := range people {
			name := strings.Join(strings.Fields(m.name), " ")
			if !strings.Contains(text, name) || !strings.Contains(text, m.upn) {
				t.Errorf("%s: %q (%s) not found in the text", f, name, m.upn)
			}
		}
		for i, codes := range pdfcheck.QRCodes(t, f) {
			want := 0
			if i > 0 {
				want = min(4, len(people)-4*(i-1))
			}
			if len(codes) != want {
				t.Errorf("%s page %d: %d QR codes, want %d", f, i+1, len(codes), want)
			}
			for _, c := range codes {
				if c != "https://aka.ms/mysecurityinfo" {
					t.Errorf("%s page %d: QR code reads %q", f, i+1, c)
				}
			}
		}
	}

	code, stdout, stderr = nudgeIn(t, dir, "handouts", "--generic", "--audience", "ready", "--layout", "letter-4up", "--copies", "9", "--locale", "de")
	if code != exitOK {
		t.Fatalf("generic: exit %d\n%s", code, stderr)
	}
	f := strings.TrimSpace(stdout)
	if filepath.Base(f) != "generic-ready-de-letter-4up.pdf" {
		t.Errorf("generic PDF = %q", f)
	}
	sizes := pdfcheck.Pages(t, f)
	if len(sizes) != 3 || math.Abs(sizes[0].W-612) > 1 || math.Abs(sizes[0].H-792) > 1 {
		t.Errorf("generic: %d pages of %v, want 3 US Letter pages (9 inserts, 4 a sheet, no cover)", len(sizes), sizes)
	}
	n := 0
	for _, codes := range pdfcheck.QRCodes(t, f) {
		n += len(codes)
	}
	if text := strings.Join(pdfcheck.Text(t, f), " "); n != 9 || !strings.Contains(text, "Passkey") || !strings.Contains(text, "Anmeldemethode hinzufügen") {
		t.Errorf("generic: %d QR codes (want 9), German steps present: %v", n, strings.Contains(text, "Anmeldemethode"))
	}
}
