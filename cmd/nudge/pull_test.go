package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nudge-passkeys/nudge/content"
	"github.com/nudge-passkeys/nudge/internal/graph/graphtest"
)

// graphFixture is the demo campaign reading the demo tenant through a local
// Graph server instead of from its snapshot, with one audience that names
// a group. It returns the campaign folder.
func graphFixture(t *testing.T, s *graphtest.Server) string {
	t.Helper()
	dir := t.TempDir()
	raw, err := fs.ReadFile(content.FS, "campaign.yaml")
	if err != nil {
		t.Fatal(err)
	}
	templates, err := filepath.Abs(filepath.Join("..", "..", "templates"))
	if err != nil {
		t.Fatal(err)
	}
	c := strings.Replace(string(raw), "source: snapshot:demo-tenant", "source: graph", 1)
	c = strings.Replace(c, "templates: ../templates", "templates: "+filepath.ToSlash(templates), 1)
	c = strings.Replace(c, "audiences:\n", `audiences:
  - name: pilot
    description: the passkey pilot group
    where: memberOf("Pilot – Passkeys") && !hasPasskey
`, 1)
	c += "\ngraph:\n" +
		"  tenant_id: " + s.TenantID() + "\n" +
		"  client_id: " + graphtest.DefaultClientID + "\n" +
		"  auth: secret\n" +
		"  base_url: " + s.URL() + "\n" +
		"  authority_host: " + s.URL() + "\n" +
		"  ca_file: graph-ca.pem\n"
	write(t, filepath.Join(dir, "campaign.yaml"), c)
	ca, err := os.ReadFile(s.CAFile(t))
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "graph-ca.pem"), string(ca))
	t.Setenv("NUDGE_CLIENT_SECRET", graphtest.DefaultClientSecret)
	t.Setenv("NUDGE_GRAPH_PACE", "off")
	t.Setenv("NUDGE_NOW", "2026-11-25T10:00:00Z")
	return dir
}

func demoTenant(t *testing.T) *graphtest.Tenant {
	t.Helper()
	tenant, err := graphtest.Demo()
	if err != nil {
		t.Fatal(err)
	}
	return tenant
}

// audienceCounts is the AUDIENCE table of nudge audiences, the part that
// must not depend on where the people came from.
func audienceCounts(t *testing.T, out string) string {
	t.Helper()
	i := strings.Index(out, "AUDIENCE")
	if i < 0 {
		t.Fatalf("no audience table in:\n%s", out)
	}
	return out[i:]
}

// TestPullThenReplay: nudge pull reads the tenant into a snapshot folder
// that every other command replays with the same answers as the live
// source, and the demo snapshot itself.
func TestPullThenReplay(t *testing.T) {
	s := graphtest.Start(t, graphtest.Options{Tenant: demoTenant(t), RegistrationPage: 100})
	dir := graphFixture(t, s)

	out, errOut, code := nudge(t, dir, "pull")
	if code != exitOK {
		t.Fatalf("pull: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"pulled tenant " + s.TenantID() + " into ",
		`users +330\n`,
		`registration report rows +318\n`,
		`group 5d2a8c41-7e3b-4f90-a6d1-93c0b8e4f217 +32 members \(memberOf\("Pilot – Passkeys"\)\)`,
		`group 8b0f6d2c-5e1a-4f7b-9c3d-2a6e1f0b7d45 +7 members \(passkey policy target\)`,
		`authentication methods policy +read\n`,
		`Conditional Access policies +read\n`,
		"enabled accounts 318: with a passkey 63 · MFA-capable without a passkey 210",
		"workbook: ",
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("pull output lacks %q:\n%s", want, out)
		}
	}
	snaps, _ := filepath.Glob(filepath.Join(dir, "output", "contoso-passkeys", "snapshots", "*"))
	if len(snaps) != 1 || !regexp.MustCompile(`20261125T100000Z$`).MatchString(snaps[0]) {
		t.Fatalf("snapshots: %v, want one named for the pull's UTC time", snaps)
	}

	live, errOut, code := nudge(t, dir, "audiences", "--source", "graph")
	if code != exitOK {
		t.Fatalf("audiences --source graph: exit %d\n%s", code, errOut)
	}
	replay, errOut, code := nudge(t, dir, "audiences", "--source", "snapshot:"+snaps[0])
	if code != exitOK {
		t.Fatalf("audiences from the pull: exit %d\n%s", code, errOut)
	}
	demo, errOut, code := nudge(t, dir, "audiences", "--source", "demo")
	if code != exitOK {
		t.Fatalf("audiences from the demo: exit %d\n%s", code, errOut)
	}
	if a, b := audienceCounts(t, live), audienceCounts(t, replay); a != b {
		t.Errorf("live and replayed audiences differ:\n%s\n---\n%s", a, b)
	}
	if !strings.Contains(replay, "pilot ") {
		t.Errorf("no pilot audience:\n%s", replay)
	}
	// The demo snapshot holds every group, a pull the named ones only;
	// audiences over the same people must still agree.
	if a, b := audienceCounts(t, replay), audienceCounts(t, demo); a != b {
		t.Errorf("pulled and demo audiences differ:\n%s\n---\n%s", a, b)
	}

	out, errOut, code = nudge(t, dir, "readiness", "--source", "snapshot:"+snaps[0])
	if code != exitOK || !strings.Contains(out, "Result: ready") {
		t.Errorf("readiness on the pull: exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestPullKeepsFive: old pulls are pruned; a pull that fails keeps nothing
// half-written.
func TestPullKeepsFive(t *testing.T) {
	s := graphtest.Start(t, graphtest.Options{Tenant: demoTenant(t)})
	dir := graphFixture(t, s)
	for i := range 7 {
		if out, errOut, code := nudge(t, dir, "pull", "--no-track"); code != exitOK {
			t.Fatalf("pull %d: exit %d\n%s\n%s", i, code, out, errOut)
		}
	}
	root := filepath.Join(dir, "output", "contoso-passkeys", "snapshots")
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != keepSnapshots || names[len(names)-1] != "20261125T100000Z-7" {
		t.Errorf("snapshots after 7 pulls: %v, want the newest %d", names, keepSnapshots)
	}
}

// TestPullErrors: what a user sees when the tenant says no.
func TestPullErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   graphtest.Options
		secret string
		want   []string
	}{
		{"wrong secret", graphtest.Options{Tenant: demoTenant(t)}, "not-the-secret", []string{"AADSTS7000215: Invalid client secret provided.", "hint: the client secret in NUDGE_CLIENT_SECRET is not a current secret"}},
		{"no premium", graphtest.Options{Tenant: demoTenant(t), NoPremium: true}, "", []string{"Authentication_RequestFromNonPremiumTenantOrB2CTenant", "--source csv:FILE"}},
		{"no permission", graphtest.Options{Tenant: demoTenant(t), Faults: []graphtest.Fault{{Path: "/v1.0/users", Status: 403}}}, "", []string{"403", "User.Read.All", "Grant admin consent"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := graphtest.Start(t, tc.opts)
			dir := graphFixture(t, s)
			if tc.secret != "" {
				t.Setenv("NUDGE_CLIENT_SECRET", tc.secret)
			}
			out, errOut, code := nudge(t, dir, "pull")
			if code != exitFailure {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, exitFailure, out, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			if strings.Contains(errOut+out, graphtest.DefaultClientSecret) {
				t.Error("the client secret reached the output")
			}
			snaps, _ := filepath.Glob(filepath.Join(dir, "output", "contoso-passkeys", "snapshots", "*"))
			if len(snaps) != 0 {
				t.Errorf("a failed pull left %v", snaps)
			}
		})
	}

	// No graph: section at all.
	dir := t.TempDir()
	write(t, filepath.Join(dir, "campaign.yaml"), strings.Replace(mustRead(t, content.FS, "campaign.yaml"), "templates: ../templates", "templates: "+filepath.ToSlash(must(filepath.Abs(filepath.Join("..", "..", "templates")))), 1))
	_, errOut, code := nudge(t, dir, "pull")
	if code == exitOK || !strings.Contains(errOut, "tenant_id") {
		t.Errorf("pull without a graph: section: exit %d\n%s", code, errOut)
	}
}

func mustRead(t *testing.T, fsys fs.FS, name string) string {
	t.Helper()
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
