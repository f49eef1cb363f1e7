package graph_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nudge-passkeys/nudge/content"
	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/graph"
	"github.com/nudge-passkeys/nudge/internal/graph/graphtest"
	"github.com/nudge-passkeys/nudge/internal/snapshot"
)

// fast retries: the tests' servers ask for waits of a second at most.
var fast = graph.RetryPolicy{MaxThrottled: 8, MaxTransient: 4, BaseDelay: 10 * time.Millisecond, MaxDelay: 100 * time.Millisecond, MaxRetryAfter: 5 * time.Second}

// demo is the embedded demo tenant as a graphtest tenant.
func demo(t testing.TB) *graphtest.Tenant {
	t.Helper()
	tenant, err := graphtest.Demo()
	if err != nil {
		t.Fatal(err)
	}
	return tenant
}

// config points the real SDK and azidentity at s: its URL is both the Graph
// root and the sign-in authority, and its certificate is trusted through
// ca_file, exactly as a TLS-inspecting proxy's root would be.
func config(t testing.TB, s *graphtest.Server) graph.Config {
	return graph.Config{
		TenantID:      s.TenantID(),
		ClientID:      graphtest.DefaultClientID,
		Auth:          "secret",
		BaseURL:       s.URL(),
		AuthorityHost: s.URL(),
		CAFile:        s.CAFile(t),
	}
}

func env(secret string) func(string) string {
	return func(k string) string {
		if k == graph.EnvClientSecret {
			return secret
		}
		return ""
	}
}

func client(t testing.TB, cfg graph.Config) *graph.Client {
	t.Helper()
	c, err := graph.New(cfg, graph.Options{Getenv: env(graphtest.DefaultClientSecret), Retry: fast})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// load reads a pulled folder back with the snapshot source.
func load(t testing.TB, dir string) *directory.Directory {
	t.Helper()
	d, err := (&snapshot.Source{FS: os.DirFS(dir), Dir: "."}).Load(context.Background())
	if err != nil {
		t.Fatalf("reading the pull back: %v", err)
	}
	return d
}

func demoDirectory(t testing.TB) *directory.Directory {
	t.Helper()
	sub, _ := fs.Sub(content.FS, "demo-tenant")
	d, err := (&snapshot.Source{FS: sub, Dir: "."}).Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// samePeople fails unless got holds the same people, with the same facts,
// as want.
func samePeople(t *testing.T, got, want *directory.Directory) {
	t.Helper()
	if len(got.People) != len(want.People) {
		t.Fatalf("pulled %d people, want %d", len(got.People), len(want.People))
	}
	byID := map[string]directory.Person{}
	for _, p := range want.People {
		byID[p.ID] = p
	}
	for _, p := range got.People {
		w, ok := byID[p.ID]
		if !ok {
			t.Fatalf("pulled %s, who is not in the tenant", p.ID)
		}
		if p.UserPrincipalName != w.UserPrincipalName || p.DisplayName != w.DisplayName || p.Mail != w.Mail ||
			p.Department != w.Department || p.PreferredLanguage != w.PreferredLanguage || p.AccountEnabled != w.AccountEnabled ||
			p.IsMFACapable != w.IsMFACapable || p.IsAdmin != w.IsAdmin || !slices.Equal(p.MethodsRegistered, w.MethodsRegistered) ||
			!slices.Equal(sorted(p.Groups), sorted(w.Groups)) || p.MicrosoftNudge != w.MicrosoftNudge {
			t.Errorf("%s: pulled %+v\nwant %+v", p.ID, p, w)
		}
	}
}

// sorted returns a sorted copy: a pull lists the campaign's groups first,
// the demo tenant its policy targets first.
func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestPullDemoTenant(t *testing.T) {
	// Registration pages of 100 rows and user pages of 999: several pages
	// of the report, one of users.
	s := graphtest.Start(t, graphtest.Options{Tenant: demo(t), RegistrationPage: 100})
	c := client(t, config(t, s))
	dir := filepath.Join(t.TempDir(), "snap")
	res, err := c.Pull(context.Background(), dir, graph.PullOptions{Groups: []string{"Pilot – Passkeys", "sales TEAM"}})
	if err != nil {
		t.Fatal(err)
	}
	want := demoDirectory(t)
	samePeople(t, load(t, dir), want)
	if res.Users != len(want.People) || !res.Policy {
		t.Errorf("result %+v", res)
	}

	// What the SDK asked for: $select of Person's fields, $top=999, pages
	// by nextLink, and no request per user.
	var users, regs, perUser int
	for _, r := range s.Requests() {
		switch {
		case r.Path == "/v1.0/users":
			users++
			if r.Query.Get("$skiptoken") == "" {
				if got := r.Query.Get("$select"); got != strings.Join(graph.UserSelect, ",") {
					t.Errorf("$select = %q", got)
				}
				if r.Query.Get("$top") != "999" {
					t.Errorf("$top = %q, want 999", r.Query.Get("$top"))
				}
			}
		case r.Path == "/v1.0/reports/authenticationMethods/userRegistrationDetails":
			regs++
			if r.Query.Has("$top") {
				t.Error("asked the registration report for $top, which it does not document")
			}
		case strings.HasPrefix(r.Path, "/v1.0/users/") && r.Path != "/v1.0/users/$count":
			perUser++
		}
		if strings.HasPrefix(r.Path, "/v1.0/") && r.Header.Get("Authorization") == "" {
			t.Errorf("%s %s went without a token", r.Method, r.Path)
		}
	}
	if users != 1 || regs != (len(want.People)+99)/100 || perUser != 0 {
		t.Errorf("requests: %d users pages, %d report pages, %d per user", users, regs, perUser)
	}
	var groups []string
	for _, g := range res.Groups {
		groups = append(groups, g.DisplayName)
	}
	if !slices.Contains(groups, "Pilot – Passkeys") || len(res.Groups) < 2 {
		t.Errorf("groups read: %v (want the campaign's and the policy targets)", groups)
	}
	if _, err := os.Stat(dir + ".partial"); !errors.Is(err, fs.ErrNotExist) {
		t.Error("the staging folder is left behind")
	}
}

func TestPullThrottleStorm(t *testing.T) {
	// Every 5th request throttled with Retry-After: 1.
	s := graphtest.Start(t, graphtest.Options{Tenant: graphtest.Synthesize(3000), UserPageMax: 500, RegistrationPage: 500, ThrottleEvery: 5, RetryAfter: 1})
	c := client(t, config(t, s))
	dir := filepath.Join(t.TempDir(), "snap")
	if _, err := c.Pull(context.Background(), dir, graph.PullOptions{}); err != nil {
		t.Fatal(err)
	}
	if d := load(t, dir); len(d.People) != 3000 {
		t.Errorf("pulled %d people, want 3000", len(d.People))
	}
	throttled := 0
	for _, r := range s.Requests() {
		if r.Status == 429 {
			throttled++
		}
	}
	if throttled == 0 {
		t.Fatal("the server throttled nothing: the test tests nothing")
	}
	if v := s.Violations(); len(v) > 0 {
		t.Errorf("retried before Retry-After:\n%s", strings.Join(v, "\n"))
	}
}

func TestPullFaults(t *testing.T) {
	for _, tc := range []struct {
		name   string
		faults []graphtest.Fault
		opts   graphtest.Options
		want   string // "" for success, else a part of the error
		hint   string
	}{
		{name: "503 then success", faults: []graphtest.Fault{{Path: "/v1.0/users", Times: 2, Status: 503}}},
		{name: "500 then success", faults: []graphtest.Fault{{Path: "/v1.0/reports/", Times: 1, Status: 500}}},
		{name: "connection reset", faults: []graphtest.Fault{{Path: "/v1.0/users", Times: 2, Reset: true}}},
		{name: "malformed once", faults: []graphtest.Fault{{Path: "/v1.0/users", Times: 1, Malformed: true}}},
		{name: "malformed always", faults: []graphtest.Fault{{Path: "/v1.0/users", Malformed: true}}, want: "malformed JSON from Graph"},
		{name: "users forbidden", faults: []graphtest.Fault{{Path: "/v1.0/users", Status: 403}}, want: "403 Forbidden", hint: "User.Read.All application permission"},
		{name: "no premium", opts: graphtest.Options{NoPremium: true}, want: "Authentication_RequestFromNonPremiumTenantOrB2CTenant", hint: "--source csv:FILE"},
		{name: "unauthorized", faults: []graphtest.Fault{{Path: "/v1.0/reports/", Status: 401}}, want: "401 Unauthorized", hint: "check graph.tenant_id"},
		{name: "throttled for good", faults: []graphtest.Fault{{Path: "/v1.0/users", Status: 429, RetryAfter: "0"}}, want: "429 Too Many Requests", hint: "run again later"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.opts
			o.Tenant = graphtest.Synthesize(50)
			o.Faults = tc.faults
			s := graphtest.Start(t, o)
			c := client(t, config(t, s))
			dir := filepath.Join(t.TempDir(), "snap")
			_, err := c.Pull(context.Background(), dir, graph.PullOptions{})
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if d := load(t, dir); len(d.People) != 50 {
					t.Errorf("pulled %d people, want 50", len(d.People))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			var ge *graph.Error
			if tc.hint != "" && (!errors.As(err, &ge) || !strings.Contains(ge.Hint, tc.hint)) {
				t.Errorf("hint of %v: %q, want %q", err, hintOf(err), tc.hint)
			}
			entries, _ := os.ReadDir(filepath.Dir(dir))
			if len(entries) != 0 {
				t.Errorf("a failed pull left %v behind", entries[0].Name())
			}
		})
	}
}

func hintOf(err error) string {
	var ge *graph.Error
	if errors.As(err, &ge) {
		return ge.Hint
	}
	return ""
}

func TestPullOptionalReads(t *testing.T) {
	// Without Policy.Read.All the pull still works; it says what it missed.
	s := graphtest.Start(t, graphtest.Options{Tenant: demo(t), Faults: []graphtest.Fault{{Path: "/v1.0/identity/conditionalAccess", Status: 403}}})
	c := client(t, config(t, s))
	res, err := c.Pull(context.Background(), filepath.Join(t.TempDir(), "snap"), graph.PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.ConditionalAccess || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "Policy.Read.All") {
		t.Errorf("ConditionalAccess %v, warnings %q", res.ConditionalAccess, res.Warnings)
	}
}

func TestPullGroups(t *testing.T) {
	tenant := demo(t)
	tenant.Groups = append(tenant.Groups, graphtest.Group{ID: "0b5a1f0e-1111-4222-8333-944455556666", DisplayName: "Twins"}, graphtest.Group{ID: "0b5a1f0e-1111-4222-8333-944455557777", DisplayName: "Twins"})
	s := graphtest.Start(t, graphtest.Options{Tenant: tenant})
	c := client(t, config(t, s))
	for _, tc := range []struct{ group, want, hint string }{
		{"Nobody's group", `no group is named "Nobody's group"`, "check the spelling"},
		{"Twins", `2 groups are named "Twins"`, "object id"},
		{"0b5a1f0e-1111-4222-8333-000000000000", "404", "no group has this object id"},
	} {
		dir := filepath.Join(t.TempDir(), "snap")
		_, err := c.Pull(context.Background(), dir, graph.PullOptions{Groups: []string{tc.group}})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(hintOf(err), tc.hint) {
			t.Errorf("group %q: %v (hint %q), want %q with hint %q", tc.group, err, hintOf(err), tc.want, tc.hint)
		}
	}
	// The quote in a name is escaped in $filter, and an id works too.
	dir := filepath.Join(t.TempDir(), "snap")
	res, err := c.Pull(context.Background(), dir, graph.PullOptions{Groups: []string{"0b5a1f0e-1111-4222-8333-944455556666"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Groups[0].DisplayName != "Twins" || res.Groups[0].Asked == "" {
		t.Errorf("groups %+v", res.Groups)
	}
}

func TestSignIn(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "nudge"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	certFile := filepath.Join(t.TempDir(), "nudge.pem")
	pemData := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})...)
	if err := os.WriteFile(certFile, pemData, 0o600); err != nil {
		t.Fatal(err)
	}
	const certApp = "5d2f7a1c-0b3e-4c6d-8e9f-a0b1c2d3e4f5"
	tenant := graphtest.Synthesize(10)
	tenant.Apps = append(tenant.Apps, graphtest.App{ClientID: certApp, Certificate: cert})
	s := graphtest.Start(t, graphtest.Options{Tenant: tenant})

	pull := func(cfg graph.Config, secret string) error {
		c, err := graph.New(cfg, graph.Options{Getenv: env(secret), Retry: fast})
		if err != nil {
			return err
		}
		_, err = c.Pull(context.Background(), filepath.Join(t.TempDir(), "snap"), graph.PullOptions{})
		return err
	}
	cfg := config(t, s)
	cfg.Auth, cfg.ClientID, cfg.Certificate = "certificate", certApp, certFile
	if err := pull(cfg, ""); err != nil {
		t.Errorf("certificate: %v", err)
	}

	err = pull(config(t, s), "not-the-secret")
	if err == nil || !strings.Contains(err.Error(), "AADSTS7000215") || !strings.Contains(hintOf(err), graph.EnvClientSecret) {
		t.Errorf("wrong secret: %v (hint %q)", err, hintOf(err))
	}
	if err != nil && strings.Contains(err.Error(), "not-the-secret") {
		t.Error("the error shows the secret")
	}
	for _, r := range s.Requests() {
		if strings.Contains(string(r.Body), "not-the-secret") && r.Token == nil {
			t.Error("the secret went to a Graph endpoint")
		}
	}
}

func TestConfigErrors(t *testing.T) {
	s := graphtest.Start(t, graphtest.Options{})
	good := config(t, s)
	badPEM := filepath.Join(t.TempDir(), "bad.pem")
	os.WriteFile(badPEM, []byte("not a certificate"), 0o600)
	for _, tc := range []struct {
		name   string
		change func(*graph.Config)
		secret string
		want   string
	}{
		{"no tenant", func(c *graph.Config) { c.TenantID = "" }, "x", "tenant_id is missing"},
		{"no client", func(c *graph.Config) { c.ClientID = "" }, "x", "client_id is missing"},
		{"client not a GUID", func(c *graph.Config) { c.ClientID = "nudge" }, "x", `client_id "nudge" is not a GUID`},
		{"no secret", func(c *graph.Config) {}, "", "auth: secret needs NUDGE_CLIENT_SECRET"},
		{"unknown cloud", func(c *graph.Config) { c.Cloud = "mars" }, "x", `unknown cloud "mars"`},
		{"plain http", func(c *graph.Config) { c.BaseURL = "http://graph.example" }, "x", "is not an https URL"},
		{"missing certificate", func(c *graph.Config) { c.Auth, c.Certificate = "certificate", "/nonexistent/nudge.pfx" }, "", "certificate: open"},
		{"not a certificate", func(c *graph.Config) { c.Auth, c.Certificate = "certificate", badPEM }, "", "certificate " + badPEM},
		{"bad ca_file", func(c *graph.Config) { c.CAFile = badPEM }, "x", "holds no PEM certificate"},
		{"unknown auth", func(c *graph.Config) { c.Auth = "password" }, "x", `unknown auth "password"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			tc.change(&cfg)
			_, err := graph.New(cfg, graph.Options{Getenv: env(tc.secret)})
			var ce *graph.ConfigError
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.As(err, &ce) || ce.Hint == "" {
				t.Errorf("New: %v, want a ConfigError with a hint containing %q", err, tc.want)
			}
		})
	}
}

// TestUntrustedServer: without ca_file, the test server's certificate is
// refused, and the error says what to do about a TLS-inspecting proxy.
func TestUntrustedServer(t *testing.T) {
	s := graphtest.Start(t, graphtest.Options{})
	cfg := config(t, s)
	cfg.CAFile = ""
	c := client(t, cfg)
	_, err := c.Pull(context.Background(), filepath.Join(t.TempDir(), "snap"), graph.PullOptions{})
	if err == nil || !strings.Contains(hintOf(err), "ca_file") {
		t.Errorf("pull from an untrusted server: %v (hint %q)", err, hintOf(err))
	}
}

// TestDeviceCode: a change manager signs in in a browser; nudge shows the
// code on its prompt writer and polls until the sign-in is approved (the
// test server approves on the second poll, after the 5 seconds it asks a
// client to wait).
func TestDeviceCode(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the device code polling interval")
	}
	s := graphtest.Start(t, graphtest.Options{Tenant: graphtest.Synthesize(10)})
	cfg := config(t, s)
	cfg.Auth = "device-code"
	var prompt strings.Builder
	c, err := graph.New(cfg, graph.Options{Getenv: env(""), Prompt: &prompt, Retry: fast})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Pull(context.Background(), filepath.Join(t.TempDir(), "snap"), graph.PullOptions{})
	if err != nil {
		t.Fatalf("pull after a device code sign-in: %v\nprompt: %s", err, prompt.String())
	}
	if res.Users != 10 {
		t.Errorf("pulled %d users, want 10", res.Users)
	}
	if !strings.Contains(prompt.String(), "/devicelogin") && !strings.Contains(prompt.String(), "code") {
		t.Errorf("the prompt did not show the code to enter: %q", prompt.String())
	}
	var grants []string
	for _, r := range s.Requests() {
		if r.Token != nil {
			grants = append(grants, r.Token.Grant)
		}
	}
	if !slices.Contains(grants, "device_code") || slices.Contains(grants, "urn:ietf:params:oauth:grant-type:device_code") {
		t.Errorf("token requests %v: no device code grant", grants)
	}
}
