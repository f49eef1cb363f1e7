package preview

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

const withProof = "\nproof: change.manager@contoso.example\n"

func TestAccessChecks(t *testing.T) {
	f := newFixture(t, withProof)
	_, page := f.get(t, "/piece/email/announce/ready/en")
	csrf := csrfOf(t, page)
	cookie := f.client.Jar.Cookies(&url.URL{Scheme: "http", Host: "127.0.0.1:" + f.port()})
	if len(cookie) != 1 {
		t.Fatalf("cookies = %v, want the access cookie", cookie)
	}
	bare := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	proofPath := "/piece/email/announce/ready/en/proof"
	tests := []struct {
		name   string
		method string
		path   string
		host   string // Host header; default 127.0.0.1:PORT
		cookie bool
		form   url.Values
		origin string
		want   int
	}{
		{name: "no token", method: "GET", path: "/", want: 403},
		{name: "no token, asset", method: "GET", path: "/assets/preview.js", want: 403},
		{name: "no token, events", method: "GET", path: "/events", want: 403},
		{name: "wrong token", method: "GET", path: "/?token=nope", want: 403},
		{name: "token in URL", method: "GET", path: "/?token=" + f.srv.token, want: 303},
		{name: "cookie", method: "GET", path: "/", cookie: true, want: 200},
		{name: "cookie, localhost", method: "GET", path: "/", host: "localhost:" + f.port(), cookie: true, want: 200},
		{name: "rebound DNS name", method: "GET", path: "/", host: "evil.example:" + f.port(), cookie: true, want: 403},
		{name: "rebound name with token", method: "GET", path: "/?token=" + f.srv.token, host: "evil.example:" + f.port(), want: 403},
		{name: "other port", method: "GET", path: "/", host: "127.0.0.1:1", cookie: true, want: 403},
		{name: "no port", method: "GET", path: "/", host: "127.0.0.1", cookie: true, want: 403},
		{name: "POST without CSRF", method: "POST", path: proofPath, cookie: true, form: url.Values{}, want: 403},
		{name: "POST with wrong CSRF", method: "POST", path: proofPath, cookie: true, form: url.Values{"csrf": {"x" + csrf}}, want: 403},
		{name: "POST from another origin", method: "POST", path: proofPath, cookie: true, form: url.Values{"csrf": {csrf}}, origin: "https://evil.example", want: 403},
		{name: "POST with CSRF but no cookie", method: "POST", path: proofPath, form: url.Values{"csrf": {csrf}}, want: 403},
		{name: "POST with CSRF", method: "POST", path: proofPath, cookie: true, form: url.Values{"csrf": {csrf}}, origin: f.base, want: 303},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.form != nil {
				body = strings.NewReader(tt.form.Encode())
			}
			req, err := http.NewRequest(tt.method, f.base+tt.path, body)
			if err != nil {
				t.Fatal(err)
			}
			if tt.form != nil {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			if tt.host != "" {
				req.Host = tt.host
			}
			if tt.cookie {
				req.AddCookie(cookie[0])
			}
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			resp, err := bare.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
			if d := directive(resp.Header.Get("Content-Security-Policy"), "script-src"); d != "script-src 'self'" {
				t.Errorf("CSP script-src %q, want 'self' only (no inline script, no eval)", d)
			}
			if tt.want == 303 && tt.method == "GET" {
				if loc := resp.Header.Get("Location"); strings.Contains(loc, "token") {
					t.Errorf("redirect to %q keeps the token in the address", loc)
				}
				sc := resp.Header.Get("Set-Cookie")
				for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/"} {
					if !strings.Contains(sc, want) {
						t.Errorf("Set-Cookie %q lacks %s", sc, want)
					}
				}
			}
		})
	}
	if n := len(f.proofs.all()); n != 1 {
		t.Errorf("%d proofs sent, want 1 (only the POST with a CSRF token)", n)
	}
}

// directive returns the CSP directive name of policy.
func directive(policy, name string) string {
	for _, d := range strings.Split(policy, ";") {
		d = strings.TrimSpace(d)
		if d == name || strings.HasPrefix(d, name+" ") {
			return d
		}
	}
	return ""
}

func TestListenLoopbackOnly(t *testing.T) {
	ln, taken, err := Listen(0)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if taken || !strings.HasPrefix(ln.Addr().String(), "127.0.0.1:") {
		t.Fatalf("Listen(0) = %s, taken %v; want 127.0.0.1", ln.Addr(), taken)
	}
	n := ln.Addr().(*net.TCPAddr).Port
	ln2, taken, err := Listen(n)
	if err != nil {
		t.Fatal(err)
	}
	defer ln2.Close()
	if !taken || ln2.Addr().String() == ln.Addr().String() {
		t.Errorf("Listen(taken port) = %s, taken %v; want another port and taken", ln2.Addr(), taken)
	}
}

var tag = regexp.MustCompile(`<[^>]+>`)

func TestIndex(t *testing.T) {
	f := newFixture(t, "")
	code, page := f.get(t, "/")
	if code != 200 {
		t.Fatalf("GET /: %d", code)
	}
	rows := strings.Split(page, "<tr")[2:] // past the header row
	// 5 waves × 1 audience × 3 locales.
	if len(rows) != 15 {
		t.Fatalf("%d rows, want 15 (5 waves × 3 locales)", len(rows))
	}
	text := func(row string) string {
		return strings.Join(strings.Fields(tag.ReplaceAllString("<tr"+row, " ")), " ")
	}
	tests := []struct{ name, row, link string }{
		{"announce en: Ann, Bob and the hostile name", "announce Announcement ready en 3 Email Guide Handout clean", "/piece/email/announce/ready/en"},
		{"announce fr: Chloé", "announce Announcement ready fr 1 Email Guide Handout clean", "/piece/email/announce/ready/fr"},
		{"announce de: nobody yet", "announce Announcement ready de 0 Email Guide Handout clean", "/piece/email/announce/ready/de"},
		// Dora reads French, but thanks has no French translation.
		{"thanks en gets Dora", "thanks Thank you done en 1 Email Guide Handout 1 warning", "/piece/email/thanks/done/en"},
		{"thanks fr: no email, the guide", "thanks Thank you done fr 0 Guide Handout no email translation: readers of fr get en", "/piece/guide/thanks/done/fr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range rows {
				if !strings.HasPrefix(text(r), tt.row) {
					continue
				}
				if tt.link != "" && !strings.Contains(r, `href="`+tt.link+`"`) {
					t.Errorf("row %q has no link to %s", text(r), tt.link)
				}
				if strings.Contains(r, `href="`+strings.Replace(tt.link, "/guide/", "/email/", 1)+`"`) && strings.Contains(tt.row, "no email") {
					t.Errorf("row %q links to an email that does not exist", text(r))
				}
				return
			}
			t.Errorf("no row %q in\n%s", tt.row, strings.Join(mapStrings(rows, text), "\n"))
		})
	}
	if !strings.Contains(page, `src="/assets/preview.js"`) || strings.Contains(page, f.srv.token) {
		t.Error("the index should load the live-reload script and never show the access token")
	}
}

func mapStrings(in []string, fn func(string) string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = fn(s)
	}
	return out
}

func TestPiecePage(t *testing.T) {
	f := newFixture(t, "")
	code, page := f.get(t, "/piece/email/announce/ready/en")
	if code != 200 {
		t.Fatalf("status %d\n%s", code, page)
	}
	iframes := regexp.MustCompile(`<iframe [^>]*>`).FindAllString(page, -1)
	if len(iframes) != 2 {
		t.Fatalf("%d iframes, want 2 (desktop and mobile)", len(iframes))
	}
	for i, width := range []string{`width="600"`, `width="375"`} {
		fr := iframes[i]
		if !strings.Contains(fr, width) || !strings.Contains(fr, `srcdoc="&lt;!DOCTYPE html&gt;`) {
			t.Errorf("iframe %d: want %s and the email in srcdoc: %.200s", i, width, fr)
		}
		sb := regexp.MustCompile(`sandbox="([^"]*)"`).FindStringSubmatch(fr)
		if sb == nil || strings.Contains(sb[1], "allow-scripts") || strings.Contains(sb[1], "allow-same-origin") {
			t.Errorf("iframe %d: sandbox %v; want one without allow-scripts", i, sb)
		}
	}
	for _, want := range []string{
		`<th>From</th><td>Contoso IT Security &lt;it-security@contoso.example&gt;</td>`,
		`<th>Subject</th><td>Ann Archer, sign in without a password</td>`,
		`<th>Preheader</th><td>A passkey takes a few minutes`,
		`<pre class="text" id="text">Hello Ann Archer,`, // the plain text
		`id="lint"`, `<p class="ok">No findings.</p>`,
		// The picker: the audience's people and the built-in samples.
		`>Bob Brown</a> <span class="muted">bob@contoso.example</span>`,
		`href="/piece/email/announce/ready/en?person=sample%3Along">Long name</a>`,
		`>Right-to-left (Arabic)</a>`,
		`>Hostile: HTML image</a>`,
		// No proof address in the campaign: the button says so.
		`<button type="submit" id="send-proof" disabled>`, "Set proof: (your address) in campaign.yaml",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if strings.Contains(page, "Chloé") {
		t.Error("the English piece's picker lists Chloé, who reads French")
	}

	t.Run("search", func(t *testing.T) {
		_, page := f.get(t, "/piece/email/announce/ready/en?q=BOB")
		if !strings.Contains(page, ">Bob Brown</a>") || strings.Contains(page, ">Ann Archer</a>") {
			t.Error("searching for BOB should list Bob Brown only")
		}
		_, page = f.get(t, "/piece/email/announce/ready/en?q=ann%40contoso")
		if !strings.Contains(page, ">Ann Archer</a>") || strings.Contains(page, ">Bob Brown</a>") {
			t.Error("searching by UPN should list Ann Archer only")
		}
	})
	t.Run("chosen person", func(t *testing.T) {
		_, page := f.get(t, "/piece/email/announce/ready/en?person=bob")
		if !strings.Contains(page, "<th>Subject</th><td>Bob Brown, sign in without a password</td>") {
			t.Error("rendered for Bob, the subject should name Bob")
		}
		_, page = f.get(t, "/piece/email/announce/ready/en?person=sample%3Aarabic")
		if !strings.Contains(page, "<th>Subject</th><td>مريم العلي, sign in without a password</td>") {
			t.Error("rendered for the Arabic sample, the subject should carry the name")
		}
		if code, _ := f.get(t, "/piece/email/announce/ready/en?person=chloe"); code != 404 {
			t.Errorf("a person from another group: %d, want 404", code)
		}
	})
	t.Run("unknown pieces", func(t *testing.T) {
		for _, p := range []string{"/piece/email/announce/ready/xx", "/piece/invite/announce/ready/en", "/piece/email/nope/ready/en", "/piece/email/announce/admins/en"} {
			if code, _ := f.get(t, p); code != 404 {
				t.Errorf("GET %s: %d, want 404", p, code)
			}
		}
	})
	t.Run("HTML on its own", func(t *testing.T) {
		resp, err := f.client.Get(f.base + "/piece/email/announce/ready/en/html?person=hostile")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.HasPrefix(csp, "sandbox ") || strings.Contains(csp, "allow-scripts") || strings.Contains(csp, "script-src") {
			t.Errorf("Content-Security-Policy %q: want a sandbox without scripts", csp)
		}
		if !strings.HasPrefix(string(b), "<!DOCTYPE html>") || strings.Contains(string(b), "<img src=x") {
			t.Errorf("the HTML should be the email, with the name escaped: %.300s", b)
		}
	})
}

func TestGuidePiece(t *testing.T) {
	f := newFixture(t, "")
	code, page := f.get(t, "/piece/guide/announce/ready/fr")
	if code != 200 {
		t.Fatalf("status %d\n%s", code, page)
	}
	iframes := regexp.MustCompile(`<iframe [^>]*>`).FindAllString(page, -1)
	if len(iframes) != 2 {
		t.Fatalf("%d iframes, want 2", len(iframes))
	}
	for _, fr := range iframes {
		if !strings.Contains(fr, `src="/guides/fr/ready/index.html"`) || !strings.Contains(fr, `sandbox="allow-popups allow-popups-to-escape-sandbox"`) {
			t.Errorf("iframe %s: want the French guide for ready, sandboxed", fr)
		}
	}
	if strings.Contains(page, `id="picker"`) {
		t.Error("a guide is the same for everyone: its page should have no person picker")
	}
	resp, err := f.client.Get(f.base + "/guides/fr/ready/index.html")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `lang="fr"`) {
		t.Errorf("GET the guide page: %d %.200s", resp.StatusCode, body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "sandbox ") || strings.Contains(csp, "allow-scripts") {
		t.Errorf("guide page CSP %q, want a sandbox without scripts", csp)
	}
	for _, p := range []string{"/guides/fr/ready/nope.html", "/guides/../go.mod", "/piece/guide/announce/ready/xx"} {
		if code, _ := f.get(t, p); code != 404 {
			t.Errorf("GET %s: %d, want 404", p, code)
		}
	}
	if code, _ := (&http.Client{}).Get(f.base + "/guides/fr/ready/index.html"); code == nil || code.StatusCode != 403 {
		t.Error("the guide site needs the token too")
	}
}

func TestHostileNameIsText(t *testing.T) {
	f := newFixture(t, "")
	for _, who := range []string{"hostile", "sample:html-img", "sample:html-script", "sample:go-template", "sample:header-crlf"} {
		t.Run(who, func(t *testing.T) {
			code, page := f.get(t, "/piece/email/announce/ready/en?person="+url.QueryEscape(who))
			if code != 200 {
				t.Fatalf("status %d", code)
			}
			for _, bad := range []string{"<img src=x", "<script>alert", "{{.Secret}}\n", "\nBcc:"} {
				if strings.Contains(page, bad) {
					t.Errorf("the page contains %q unescaped", bad)
				}
			}
		})
	}
	_, page := f.get(t, "/piece/email/announce/ready/en?person=hostile")
	if !strings.Contains(page, "&lt;img src=x onerror=alert(1)&gt;&#34;&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;") {
		t.Error("the hostile name should show escaped, as text")
	}
}

func TestLintPanel(t *testing.T) {
	f := newFixture(t, "")
	long := strings.Repeat("Passkeys ", 10)
	bad := "---\nkind: email\nsubject: \"" + long + "{{ .Person.FirstName }}\"\npreheader: Soon\n---\n" +
		"Hello {{ .Person.FirstName }}, dear {FirstName},\n\n" +
		"![](https://intranet.contoso.example/logo.png) ![Logo](images/logo.png)\n\n" +
		"See [the old page](http://intranet.contoso.example/passkeys/) and {{ link \"the old guide\" (guide \"old-page\") }}.\n\n" +
		strings.Repeat("Padding to make the HTML heavy. ", 3500) + "\n"
	f.write(t, f.template("en", "reminder"), bad)
	f.srv.Reload(context.Background())
	_, page := f.get(t, "/piece/email/reminder/ready/en")
	for _, want := range []string{
		"warning: the subject is", // over 78 characters
		"error: the HTML is",      // over 100 KB
		"error: image https://intranet.contoso.example/logo.png has no alt text",
		"error: image &#34;images/logo.png&#34;: use an absolute https URL",
		"error: link http://intranet.contoso.example/passkeys/: use https",
		"error: unknown placeholder {FirstName} in the text",
		"error: links to guide page en/ready/old-page.html, which the guide site does not have",
		"warning: missing translation emails/fr/thanks.md", // not this wave's
	} {
		has := strings.Contains(page, want)
		if strings.HasPrefix(want, "warning: missing translation") {
			if has {
				t.Errorf("the reminder's lint names another wave's translation: %s", want)
			}
			continue
		}
		if !has {
			t.Errorf("the lint panel lacks %q", want)
		}
	}
	_, page = f.get(t, "/piece/email/thanks/done/en")
	if !strings.Contains(page, "warning: missing translation emails/fr/thanks.md: readers of fr get en") {
		t.Error("the thanks page should warn that the French translation is missing")
	}
	_, index := f.get(t, "/")
	if !strings.Contains(index, `<span class="bad">6 errors</span>`) {
		t.Error("the index should count the reminder's 6 errors")
	}
}

func TestTemplateErrorShownInPage(t *testing.T) {
	f := newFixture(t, "")
	f.write(t, f.template("en", "announce"), "---\nkind: email\nsubject: Hi {{ .Person.Nmae }}\n---\nHello\n")
	f.srv.Reload(context.Background())
	code, page := f.get(t, "/piece/email/announce/ready/en")
	if code != 200 {
		t.Fatalf("status %d, want the page with the error", code)
	}
	if !strings.Contains(page, `id="render-error"`) || !strings.Contains(page, "templates/emails/en/announce.md") || !strings.Contains(page, "error: unknown placeholder: ") {
		t.Errorf("the page should show the template error with its file:\n%s", page)
	}
	_, index := f.get(t, "/")
	if !strings.Contains(index, "template error") {
		t.Error("the index should flag the template error")
	}

	// A campaign file that no longer loads keeps the last good campaign,
	// with the error on every page.
	f.write(t, f.file, "campaign: [\n")
	f.srv.Reload(context.Background())
	code, page = f.get(t, "/")
	if code != 200 || !strings.Contains(page, `id="load-error"`) || !strings.Contains(page, "/piece/email/announce/ready/en") {
		t.Errorf("status %d; want the last good index with the load error", code)
	}
}

func TestProof(t *testing.T) {
	f := newFixture(t, withProof)
	path := "/piece/email/announce/ready/en"
	_, page := f.get(t, path+"?person=bob")
	if !strings.Contains(page, `<button type="submit" id="send-proof">Send a proof to me (change.manager@contoso.example)</button>`) {
		t.Fatal("the proof button should name the proof address")
	}
	code, page := f.post(t, path+"/proof", url.Values{"csrf": {csrfOf(t, page)}, "person": {"bob"}}, nil)
	if code != 200 || !strings.Contains(page, `id="proof-notice">Proof sent to change.manager@contoso.example at 09:00:00.`) {
		t.Fatalf("after the proof: %d, want the page with a notice", code)
	}
	sent := f.proofs.all()
	want := sentProof{to: "change.manager@contoso.example", subject: "[PROOF] Bob Brown, sign in without a password", person: "bob"}
	if len(sent) != 1 || sent[0] != want {
		t.Errorf("sent %+v, want %+v", sent, want)
	}
	// Reloading the page the POST led to sends nothing more.
	f.get(t, path+"?person=bob&proof=1")
	if n := len(f.proofs.all()); n != 1 {
		t.Errorf("%d proofs after a reload, want 1", n)
	}
}

func TestProofWithoutAddress(t *testing.T) {
	f := newFixture(t, "")
	path := "/piece/email/announce/ready/en"
	_, page := f.get(t, path)
	_, page = f.post(t, path+"/proof", url.Values{"csrf": {csrfOf(t, page)}}, nil)
	if !strings.Contains(page, "Proofs are not set up: nothing was sent.") {
		t.Error("the page should say nothing was sent")
	}
	if n := len(f.proofs.all()); n != 0 {
		t.Errorf("%d proofs sent without a proof address", n)
	}
}

// events reads server-sent "version" events.
func events(t *testing.T, f *fixture, ctx context.Context) <-chan string {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", f.base+"/events", nil)
	resp, err := (&http.Client{Jar: f.client.Jar}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET /events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	ch := make(chan string, 8)
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				ch <- v
			}
		}
		close(ch)
	}()
	return ch
}

func next(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
		return ""
	}
}

func TestLiveReloadEvents(t *testing.T) {
	f := newFixture(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := events(t, f, ctx)
	if v := next(t, ch); v != "1" {
		t.Fatalf("first event %q, want the current version 1", v)
	}
	// Saving a template (write and rename) reloads and tells the pages.
	data, err := os.ReadFile(f.template("en", "announce"))
	if err != nil {
		t.Fatal(err)
	}
	f.write(t, f.template("en", "announce"), strings.Replace(string(data), "sign in without a password", "passkeys are here", 1))
	if v := next(t, ch); v != "2" {
		t.Fatalf("after saving a template: event %q, want 2", v)
	}
	if _, page := f.get(t, "/piece/email/announce/ready/en"); !strings.Contains(page, "<th>Subject</th><td>Ann Archer, passkeys are here</td>") {
		t.Error("the page should show the saved template")
	}
	// A new folder (a new language) is watched too.
	if err := os.MkdirAll(f.templates+"/emails/es", 0o755); err != nil {
		t.Fatal(err)
	}
	v := next(t, ch)
	f.write(t, f.templates+"/emails/es/announce.md", "---\nkind: email\nsubject: Hola\n---\nHola\n")
	if w := next(t, ch); w == v {
		t.Errorf("no event after a file in a new folder")
	}
	// So is the campaign file.
	data, _ = os.ReadFile(f.file)
	f.write(t, f.file, string(data)+"\n# touched\n")
	next(t, ch)
}

func TestBrokenLoaderFailsNew(t *testing.T) {
	_, err := New(context.Background(), Config{Load: func(context.Context) (*Project, error) { return nil, errors.New("boom") }})
	if err == nil || err.Error() != "boom" {
		t.Errorf("New = %v, want the loader's error", err)
	}
}
