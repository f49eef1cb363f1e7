package preview

import (
	"context"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nudge-passkeys/nudge/internal/campaign"
	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/guide"
	"github.com/nudge-passkeys/nudge/internal/render"
)

// fixture is a campaign in a temporary folder: the repository's demo
// campaign file and templates, which tests may change, and a handful of
// people, one with a hostile name.
type fixture struct {
	dir, file, templates string
	members              map[Key][]*directory.Person
	proofs               *fakeProofs
	srv                  *Server
	base                 string // http://127.0.0.1:PORT
	client               *http.Client
}

const hostileName = `<img src=x onerror=alert(1)>"</script><script>alert(2)</script>`

func person(id, name, lang string) *directory.Person {
	upn := id + "@contoso.example"
	return &directory.Person{
		ID: id, UserPrincipalName: upn, Mail: upn, DisplayName: name, GivenName: name,
		PreferredLanguage: lang, AccountEnabled: true, UserType: "Member",
		HasRegistration: true, IsMFACapable: true,
	}
}

// copyTree copies the folder src to dst.
func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// newFixture copies the demo campaign, adding yamlExtra to its file, and
// serves it. The fr translation of the thanks email is removed, so one
// translation is missing.
func newFixture(t testing.TB, yamlExtra string) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir(), proofs: &fakeProofs{}}
	f.templates = filepath.Join(f.dir, "templates")
	copyTree(t, filepath.Join("..", "..", "templates"), f.templates)
	if err := os.Remove(filepath.Join(f.templates, "emails", "fr", "thanks.md")); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("..", "..", "content", "campaign.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	f.file = filepath.Join(f.dir, "campaign.yaml")
	f.write(t, f.file, strings.Replace(string(data), "templates: ../templates", "templates: templates", 1)+yamlExtra)
	hostile := person("hostile", hostileName, "en")
	f.members = map[Key][]*directory.Person{
		{"announce", "ready"}: {person("ann", "Ann Archer", "en-GB"), person("bob", "Bob Brown", "en"), hostile, person("chloe", "Chloé Martin", "fr-FR")},
		{"reminder", "ready"}: {person("ann", "Ann Archer", "en-GB")},
		{"thanks", "done"}:    {person("dora", "Dora Durand", "fr")},
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := New(ctx, Config{
		Load: f.load, Watch: []string{f.file, f.templates}, Proofs: f.proofs, ProofVia: "test",
		Debounce: 50 * time.Millisecond, Now: func() time.Time { return time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := srv.Bind(ln); err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	f.srv = srv
	f.base = "http://" + ln.Addr().String()
	jar, _ := cookiejar.New(nil)
	f.client = &http.Client{Jar: jar, Timeout: 10 * time.Second}
	// Sign in as the printed address does.
	if code, body := f.get(t, srv.URL()); code != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", srv.URL(), code, body)
	}
	return f
}

func (f *fixture) load(context.Context) (*Project, error) {
	data, err := os.ReadFile(f.file)
	if err != nil {
		return nil, err
	}
	c, err := campaign.Parse("campaign.yaml", data)
	if err != nil {
		return nil, err
	}
	fsys := os.DirFS(f.templates)
	p := &Project{Campaign: c, Engine: render.New(fsys, "templates", c), Source: "test people", Members: f.members}
	if guide.Exists(fsys, c) {
		p.Guides, p.GuidesErr = guide.Build(guide.Options{FS: fsys, Root: "templates", Campaign: c, Engine: p.Engine})
	}
	return p, nil
}

func (f *fixture) write(t testing.TB, name, content string) {
	t.Helper()
	// Write and rename, as editors do.
	tmp := name + ".tmp~"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, name); err != nil {
		t.Fatal(err)
	}
}

// template is the path of an email template in the fixture.
func (f *fixture) template(locale, name string) string {
	return filepath.Join(f.templates, "emails", locale, name+".md")
}

func (f *fixture) get(t testing.TB, u string) (int, string) {
	t.Helper()
	if strings.HasPrefix(u, "/") {
		u = f.base + u
	}
	resp, err := f.client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// csrf is the CSRF token of a page's proof form.
func csrfOf(t testing.TB, page string) string {
	t.Helper()
	const marker = `name="csrf" value="`
	i := strings.Index(page, marker)
	if i < 0 {
		t.Fatal("no CSRF token in the page")
	}
	rest := page[i+len(marker):]
	return rest[:strings.IndexByte(rest, '"')]
}

func (f *fixture) post(t testing.TB, path string, form url.Values, header http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (f *fixture) port() string {
	return strconv.Itoa(f.srv.port)
}

// fakeProofs records the proofs it is asked to send.
type fakeProofs struct {
	mu   sync.Mutex
	sent []sentProof
}

type sentProof struct {
	to, subject, person string
}

func (fp *fakeProofs) SendProof(_ context.Context, _ *Project, _ *campaign.Wave, p *directory.Person, doc *render.Document, to string) error {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	fp.sent = append(fp.sent, sentProof{to: to, subject: doc.Subject, person: p.ID})
	return nil
}

func (fp *fakeProofs) all() []sentProof {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	return append([]sentProof(nil), fp.sent...)
}
