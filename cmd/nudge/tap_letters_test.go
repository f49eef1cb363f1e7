package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nudge-passkeys/nudge/internal/graph"
	"github.com/nudge-passkeys/nudge/internal/graph/graphtest"
	"github.com/nudge-passkeys/nudge/internal/handout/pdfcheck"
	"github.com/nudge-passkeys/nudge/internal/printpdf"
)

// tapFixture is graphFixture with a tap: section: passes valid from 09:00
// in Paris on the day after NUDGE_NOW, for eight hours.
func tapFixture(t *testing.T, s *graphtest.Server) string {
	t.Helper()
	dir := graphFixture(t, s)
	f := filepath.Join(dir, "campaign.yaml")
	c, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	write(t, f, string(c)+"\ntap:\n  start: 2026-11-26T09:00 Europe/Paris\n  lifetime: 8h\n")
	return dir
}

// needBrowser skips without a browser and pdftotext, unless
// NUDGE_REQUIRE_TOOLS says they must be there.
func needBrowser(t *testing.T) {
	t.Helper()
	if _, err := printpdf.Find(""); err != nil {
		if os.Getenv("NUDGE_REQUIRE_TOOLS") != "" {
			t.Fatalf("no browser: %v", err)
		}
		t.Skipf("no browser: %v", err)
	}
	pdfcheck.Tool(t, "pdftotext")
}

// parisOnboard are the people of audience onboard at site Paris.
func parisOnboard(t *testing.T) []member {
	t.Helper()
	var out []member
	for _, m := range demoAudience(t, "onboard") {
		if strings.EqualFold(m.site, "Paris") {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		t.Fatal("the demo has nobody of audience onboard in Paris")
	}
	return out
}

func tapPosts(s *graphtest.Server) []graphtest.Request {
	var out []graphtest.Request
	for _, r := range s.Requests() {
		if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/authentication/temporaryAccessPassMethods") {
			out = append(out, r)
		}
	}
	return out
}

// leaks lists every file under root, other than allowed, whose bytes
// hold one of the secrets.
func leaks(t *testing.T, root string, allowed map[string]bool, secrets []string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || allowed[path] {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		parts := [][]byte{data}
		// A workbook is zipped XML: read its parts too.
		if zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data))); err == nil {
			for _, f := range zr.File {
				rc, err := f.Open()
				if err != nil {
					return err
				}
				b, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					return err
				}
				parts = append(parts, b)
			}
		}
		for _, part := range parts {
			for _, s := range secrets {
				if bytes.Contains(part, []byte(s)) {
					out = append(out, path)
					return nil
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTapLetters: passes created through Graph as documented, printed in
// the site's PDF (0600) and nowhere else; a rerun creates none, --reissue
// does.
func TestTapLetters(t *testing.T) {
	needBrowser(t)
	s := graphtest.Start(t, graphtest.Options{Tenant: demoTenant(t)})
	dir := tapFixture(t, s)
	want := parisOnboard(t)

	out, errOut, code := nudge(t, dir, "tap-letters", "--audience", "onboard", "--site", "Paris")
	if code != exitOK {
		t.Fatalf("tap-letters: exit %d\n%s\n%s", code, out, errOut)
	}
	passes := s.TemporaryAccessPasses()
	if len(passes) != len(want) {
		t.Fatalf("%d passes created, want %d (onboard in Paris)", len(passes), len(want))
	}
	handover := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	for _, r := range tapPosts(s) {
		if !strings.HasPrefix(r.Path, "/v1.0/users/") || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("request %s %s (%s)", r.Method, r.Path, r.Header.Get("Content-Type"))
		}
		var body map[string]any
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatalf("body %s: %v", r.Body, err)
		}
		wantBody := map[string]any{"startDateTime": "2026-11-26T08:00:00Z", "lifetimeInMinutes": 480.0, "isUsableOnce": true}
		if len(body) != len(wantBody) {
			t.Errorf("body %s, want %v", r.Body, wantBody)
		}
		for k, v := range wantBody {
			if body[k] != v {
				t.Errorf("body %s: %s = %v, want %v", r.Body, k, body[k], v)
			}
		}
	}
	for _, p := range passes {
		if !p.Start.Equal(handover) || p.LifetimeInMinutes != 480 || !p.IsUsableOnce {
			t.Errorf("pass for %s: start %s, %d min, once %v", p.UserID, p.Start, p.LifetimeInMinutes, p.IsUsableOnce)
		}
	}

	pdf := filepath.Join(dir, "output", "contoso-passkeys", "tap-letters", "tap-letters-paris.pdf")
	if strings.TrimSpace(out) != pdf {
		t.Errorf("stdout %q, want the PDF's path %s", out, pdf)
	}
	if !strings.Contains(errOut, "destroy") {
		t.Errorf("stderr lacks the reminder to destroy the PDF:\n%s", errOut)
	}
	st, err := os.Stat(pdf)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("PDF mode %v, want 0600", st.Mode().Perm())
	}
	text := pdfcheck.Fold(strings.Join(pdfcheck.Text(t, pdf), "\n"))
	secrets := make([]string, len(passes))
	for i, p := range passes {
		secrets[i] = p.Pass
		if !strings.Contains(text, p.Pass) {
			t.Errorf("the PDF lacks the pass of %s", p.UserID)
		}
	}
	for _, m := range want {
		if !strings.Contains(text, pdfcheck.Fold(m.name)) || !strings.Contains(text, m.upn) {
			t.Errorf("the PDF lacks %s <%s>", m.name, m.upn)
		}
	}
	// Dates in each letter's language and the person's zone.
	if !strings.Contains(text, "Signature") || !strings.Contains(text, "26 November 2026, 09:00") && !strings.Contains(text, "26 November 2026, 08:00") &&
		!strings.Contains(text, "26 novembre 2026 à 09:00") && !strings.Contains(text, "26 novembre 2026 à 08:00") {
		t.Errorf("the PDF lacks the handover sheet or the validity:\n%s", text)
	}

	// A rerun creates nothing; --reissue creates new passes.
	out2, errOut2, code := nudge(t, dir, "tap-letters", "--audience", "onboard", "--site", "Paris")
	if code != exitOK || out2 != "" || !strings.Contains(errOut2, "--reissue") || len(s.TemporaryAccessPasses()) != len(want) {
		t.Errorf("rerun: exit %d, %d passes, stderr:\n%s", code, len(s.TemporaryAccessPasses()), errOut2)
	}
	out3, errOut3, code := nudge(t, dir, "tap-letters", "--audience", "onboard", "--site", "Paris", "--reissue")
	if code != exitOK || len(s.TemporaryAccessPasses()) != 2*len(want) {
		t.Errorf("--reissue: exit %d, %d passes, stderr:\n%s", code, len(s.TemporaryAccessPasses()), errOut3)
	}
	for _, p := range s.TemporaryAccessPasses() {
		secrets = append(secrets, p.Pass)
	}

	// The workbook lists the runs; it must not hold a pass either.
	if _, errOut, code := nudge(t, dir, "track", "--source", "snapshot:"+demoSnapshot(t)); code != exitOK {
		t.Fatalf("track: exit %d\n%s", code, errOut)
	}
	// The passes are in the PDF and nowhere else: not in another file
	// (nudge.db and the workbook included), not on stdout or stderr.
	if bad := leaks(t, filepath.Join(dir, "output"), map[string]bool{pdf: true}, secrets); len(bad) > 0 {
		t.Errorf("a pass is in %v", bad)
	}
	for _, f := range []string{"nudge.db", "tracking.xlsx"} {
		if _, err := os.Stat(filepath.Join(dir, "output", "contoso-passkeys", f)); err != nil {
			t.Errorf("the leak check missed %s: %v", f, err)
		}
	}
	streams := out + errOut + out2 + errOut2 + out3 + errOut3
	for _, sec := range secrets {
		if strings.Contains(streams, sec) {
			t.Errorf("a pass is on stdout or stderr")
		}
	}
}

// TestTapLettersExistingPass: a person who holds a live pass that nudge
// did not create (a helpdesk's) is left alone and reported by name, with
// why and what to do; everyone else gets a letter. --reissue replaces
// their pass, as Graph does when another is created, and says so.
func TestTapLettersExistingPass(t *testing.T) {
	needBrowser(t)
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC) // NUDGE_NOW
	s := graphtest.Start(t, graphtest.Options{Tenant: demoTenant(t), Now: func() time.Time { return now }})
	dir := tapFixture(t, s)
	// The site with the most people of audience onboard.
	bySite := map[string][]member{}
	site := ""
	for _, m := range demoAudience(t, "onboard") {
		bySite[m.site] = append(bySite[m.site], m)
		if len(bySite[m.site]) > len(bySite[site]) && m.site != "" {
			site = m.site
		}
	}
	want := bySite[site]
	if len(want) < 2 {
		t.Fatal("the test needs two people of audience onboard at one site")
	}
	holder := want[0].upn
	helpdesk := s.GiveTemporaryAccessPass(holder, now.Add(-time.Hour), 7*24*time.Hour)
	// An expired pass is nothing to lose: replaced without a word.
	s.GiveTemporaryAccessPass(want[1].upn, now.Add(-72*time.Hour), time.Hour)

	out, errOut, code := nudge(t, dir, "tap-letters", "--audience", "onboard", "--site", site)
	if code != exitFailure {
		t.Errorf("exit %d, want %d (one person got no pass)", code, exitFailure)
	}
	t.Logf("stderr:\n%s", errOut)
	for _, w := range []string{holder + ": already holds a Temporary Access Pass that nudge did not create",
		"created 25 Nov 2026 10:00 UTC, valid 25 Nov 2026 09:00 UTC to 2 Dec 2026 09:00 UTC", "theirs stops working", "--reissue"} {
		if !strings.Contains(errOut, w) {
			t.Errorf("stderr lacks %q:\n%s", w, errOut)
		}
	}
	if h, _ := s.HeldTemporaryAccessPass(holder); h.ID != helpdesk {
		t.Errorf("the helpdesk's pass was replaced without --reissue")
	}
	for _, r := range tapPosts(s) {
		if strings.Contains(r.Path, holder) {
			t.Errorf("a pass was requested for %s", holder)
		}
	}
	if n := len(s.TemporaryAccessPasses()); n != len(want)-1 {
		t.Errorf("%d passes created, want %d (all but %s)", n, len(want)-1, holder)
	}
	pdf := strings.TrimSpace(out)
	text := pdfcheck.Fold(strings.Join(pdfcheck.Text(t, pdf), "\n"))
	if strings.Contains(text, holder) || !strings.Contains(text, want[1].upn) {
		t.Errorf("the PDF should have a letter for %s and none for %s", want[1].upn, holder)
	}

	// --reissue: the helpdesk's pass is replaced, and the output says so.
	out, errOut, code = nudge(t, dir, "tap-letters", "--audience", "onboard", "--site", site, "--reissue")
	if code != exitOK {
		t.Fatalf("--reissue: exit %d\n%s", code, errOut)
	}
	if !strings.Contains(errOut, holder+" held a Temporary Access Pass that nudge did not create") || !strings.Contains(errOut, "replaced") {
		t.Errorf("--reissue does not say it replaced %s's pass:\n%s", holder, errOut)
	}
	h, ok := s.HeldTemporaryAccessPass(holder)
	if !ok || h.ID == helpdesk {
		t.Fatalf("%s still holds the helpdesk's pass", holder)
	}
	text = pdfcheck.Fold(strings.Join(pdfcheck.Text(t, strings.TrimSpace(out)), "\n"))
	if !strings.Contains(text, h.Pass) {
		t.Errorf("the PDF lacks %s's new pass", holder)
	}
	if strings.Contains(errOut, h.Pass) || strings.Contains(out, h.Pass) {
		t.Error("a pass is on stdout or stderr")
	}
}

// TestTapLettersForbidden: without UserAuthenticationMethod.ReadWrite.All
// nothing is created or printed, and the error names the permission.
func TestTapLettersForbidden(t *testing.T) {
	needBrowser(t)
	tn := demoTenant(t)
	for i := range tn.Apps {
		tn.Apps[i].Roles = []string{"User.Read.All", "AuditLog.Read.All", "GroupMember.Read.All", "Policy.Read.AuthenticationMethod", "Policy.Read.All"}
	}
	s := graphtest.Start(t, graphtest.Options{Tenant: tn})
	dir := tapFixture(t, s)
	out, errOut, code := nudge(t, dir, "tap-letters", "--audience", "onboard", "--site", "Paris")
	if code == exitOK || !strings.Contains(errOut, "403") || !strings.Contains(errOut, graph.PermTAP) {
		t.Errorf("exit %d, stderr:\n%s\nwant a 403 naming %s", code, errOut, graph.PermTAP)
	}
	if out != "" || len(s.TemporaryAccessPasses()) != 0 {
		t.Errorf("stdout %q, %d passes", out, len(s.TemporaryAccessPasses()))
	}
	if pdfs, _ := filepath.Glob(filepath.Join(dir, "output", "contoso-passkeys", "tap-letters", "*")); len(pdfs) > 0 {
		t.Errorf("files written: %v", pdfs)
	}
}

// TestTapLettersDryRun: placeholder passes, and no request to Graph at all.
func TestTapLettersDryRun(t *testing.T) {
	s := graphtest.Start(t, graphtest.Options{Tenant: demoTenant(t)})
	dir := tapFixture(t, s)
	// --html only with --dry-run, so this needs no browser.
	out, errOut, code := nudge(t, dir, "tap-letters", "--audience", "onboard", "--site", "Paris", "--dry-run", "--html", "--source", "snapshot:"+demoSnapshot(t))
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if n := len(s.Requests()); n != 0 {
		t.Errorf("dry run made %d requests to Graph", n)
	}
	html, err := os.ReadFile(strings.TrimSpace(out))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(html, []byte(dryRunPass)) || !bytes.Contains(html, []byte("Signature")) {
		t.Errorf("dry-run HTML lacks the placeholder or the handover sheet")
	}
	if _, err := os.Stat(filepath.Join(dir, "output", "contoso-passkeys", "nudge.db")); err == nil {
		t.Error("dry run created the ledger")
	}
}

func demoSnapshot(t *testing.T) string {
	t.Helper()
	d, err := filepath.Abs(filepath.Join("..", "..", "content", "demo-tenant"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestTapLettersBadInput(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no audience", []string{"tap-letters"}, exitUsage, "--audience NAME"},
		{"html without dry run", []string{"tap-letters", "--audience", "onboard", "--html"}, exitUsage, "--html needs --dry-run"},
		{"unknown paper", []string{"tap-letters", "--audience", "onboard", "--layout", "a6"}, exitUsage, `--layout "a6": use a4 or letter`},
		{"reissue on dry run", []string{"tap-letters", "--audience", "onboard", "--dry-run", "--reissue"}, exitUsage, "--reissue has no effect with --dry-run"},
		{"unknown audience", []string{"tap-letters", "--audience", "nobody", "--dry-run", "--html"}, exitUsage, `--audience "nobody"`},
		{"nobody at site", []string{"tap-letters", "--audience", "onboard", "--site", "Atlantis", "--dry-run", "--html"}, exitFailure, "nobody in audience onboard at site Atlantis"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := nudgeIn(t, dir, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and %q", code, stderr, tc.code, tc.want)
			}
		})
	}
}

func TestTapRefused(t *testing.T) {
	held := &graph.TAP{ID: "m1", Start: time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC), Lifetime: 8 * time.Hour}
	for _, tc := range []struct {
		name string
		err  error
		held *graph.TAP
		want string
	}{
		{"refused while holding a pass", &graph.Error{Status: 400, Code: "badRequest", Message: "Some refusal."}, held,
			"Graph refused a new pass while they hold one (created 1 Jan 0001 00:00 UTC, valid 26 Nov 2026 08:00 UTC to 26 Nov 2026 16:00 UTC): Some refusal. Delete theirs"},
		{"not found", &graph.Error{Status: 404, Code: "Request_ResourceNotFound"}, nil, "not found"},
		{"forbidden stops the run", &graph.Error{Status: 403, Code: "Authorization_RequestDenied"}, held, ""},
		// Graph's wording is not guessed at: a 400 for someone who holds
		// no pass is the same for everyone, and stops the run.
		{"other bad request stops the run", &graph.Error{Status: 400, Message: "User already has a Temporary Access Pass."}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tapRefused(tc.err, tc.held)
			if ok != (tc.want != "") || !strings.Contains(got, tc.want) {
				t.Errorf("tapRefused = %q, %v; want %q", got, ok, tc.want)
			}
		})
	}
}
