package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// demoOptions are the flags of the go:generate line in snapshot.go.
func demoOptions(out string) options {
	return options{n: 300, page: 200, seed: 20261120, now: time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC), out: out}
}

func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = data
	}
	return files
}

func TestGenerateDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, dir := range []string{a, b} {
		if err := generate(demoOptions(dir)); err != nil {
			t.Fatal(err)
		}
	}
	fa, fb := readDir(t, a), readDir(t, b)
	if len(fa) != 12 {
		t.Errorf("wrote %d files, want 12 (two pages of users, two of the report, the policy, groups and one member file for each of 4, Conditional Access policies and strengths)", len(fa))
	}
	for name, data := range fa {
		if !bytes.Equal(data, fb[name]) {
			t.Errorf("%s differs between two runs", name)
		}
	}
	// A different seed gives a different tenant.
	c := demoOptions(t.TempDir())
	c.seed++
	if err := generate(c); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(readDir(t, c.out)["users.json"], fa["users.json"]) {
		t.Error("-seed has no effect")
	}
}

// TestCommittedDemoTenant fails when content/demo-tenant is stale: run
// go generate ./internal/snapshot after changing this program.
func TestCommittedDemoTenant(t *testing.T) {
	dir := t.TempDir()
	if err := generate(demoOptions(dir)); err != nil {
		t.Fatal(err)
	}
	got, want := readDir(t, "../../../content/demo-tenant"), readDir(t, dir)
	if len(got) != len(want) {
		t.Errorf("content/demo-tenant has %d files, generator writes %d", len(got), len(want))
	}
	for name, data := range want {
		if !bytes.Equal(data, got[name]) {
			t.Errorf("content/demo-tenant/%s is stale: run go generate ./internal/snapshot", name)
		}
	}
}

func TestGeneratePages(t *testing.T) {
	tests := []struct {
		name      string
		n, page   int
		wantFiles []string
	}{
		{"empty tenant", 0, 999, withExtras("authenticationMethodsPolicy.json", "userRegistrationDetails.json", "users.json")},
		// 10 people + 30 hostile = 40 users; 10*4/100 = 0 disabled, so 40 rows.
		{"pages of 15", 10, 15, withExtras("authenticationMethodsPolicy.json", "userRegistrationDetails-002.json", "userRegistrationDetails-003.json", "userRegistrationDetails.json", "users-002.json", "users-003.json", "users.json")},
		// The 34 members of Sales continue on a second and a third page.
		{"pages of 15, demo size", 300, 15, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := demoOptions(t.TempDir())
			o.n, o.page = tt.n, tt.page
			if err := generate(o); err != nil {
				t.Fatal(err)
			}
			var got []string
			for name := range readDir(t, o.out) {
				got = append(got, name)
			}
			slices.Sort(got)
			if tt.wantFiles == nil {
				sales := "groupMembers-" + salesGroupID
				for _, name := range []string{sales + ".json", sales + "-002.json", sales + "-003.json"} {
					if !slices.Contains(got, name) {
						t.Errorf("no %s among %v", name, got)
					}
				}
				if slices.Contains(got, sales+"-004.json") {
					t.Errorf("%s-004.json written for 34 members", sales)
				}
				return
			}
			if diff := cmp.Diff(tt.wantFiles, got); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
			users := string(readDir(t, o.out)["users.json"])
			if hasNext := strings.Contains(users, `"@odata.nextLink": "users-002.json"`); hasNext != (len(tt.wantFiles) > 10) {
				t.Errorf("users.json nextLink present = %v", hasNext)
			}
		})
	}
}

func TestRunFlags(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no -out", []string{}, 2, "-out is required"},
		{"negative n", []string{"-out", "x", "-n", "-1"}, 2, "-n must be 0 or more"},
		{"zero page", []string{"-out", "x", "-page", "0"}, 2, "-page must be 1 or more"},
		{"bad now", []string{"-out", "x", "-now", "tomorrow"}, 2, "-now:"},
		{"stray argument", []string{"-out", "x", "extra"}, 2, `unexpected argument "extra"`},
		{"unknown flag", []string{"-bogus"}, 2, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if code := run(tt.args, &stderr); code != tt.wantCode {
				t.Errorf("exit code %d, want %d", code, tt.wantCode)
			}
			if !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tt.wantErr)
			}
			if _, err := os.Stat("x"); err == nil {
				t.Error("wrote output despite invalid flags")
			}
		})
	}
	dir := t.TempDir()
	var stderr bytes.Buffer
	if code := run([]string{"-out", dir, "-n", "5"}, &stderr); code != 0 {
		t.Fatalf("exit code %d: %s", code, stderr.String())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 10 {
		t.Errorf("wrote %d files, want 10 (no stray temp files)", len(entries))
	}
}

// withExtras adds the files every tenant has, whatever its size, to names,
// sorted.
func withExtras(names ...string) []string {
	names = append(names, "authenticationStrengthPolicies.json", "conditionalAccessPolicies.json", "groups.json")
	for _, g := range demoGroups {
		names = append(names, "groupMembers-"+g.ID+".json")
	}
	slices.Sort(names)
	return names
}

// TestGroups checks the groups against the policies that name them and the
// people in users.json.
func TestGroups(t *testing.T) {
	dir := t.TempDir()
	if err := generate(demoOptions(dir)); err != nil {
		t.Fatal(err)
	}
	files := readDir(t, dir)
	type row = map[string]any
	var users, groups []row
	for _, name := range []string{"users.json", "users-002.json"} {
		users = append(users, values(t, files[name])...)
	}
	groups = values(t, files["groups.json"])
	upn := map[string]string{}
	for _, u := range users {
		upn[u["id"].(string)] = u["userPrincipalName"].(string)
	}

	// Every group a policy names is in groups.json.
	listed := map[string]bool{}
	for _, g := range groups {
		listed[g["id"].(string)] = true
	}
	for _, file := range []string{"authenticationMethodsPolicy.json", "conditionalAccessPolicies.json"} {
		for _, id := range []string{tier0GroupID, breakGlassID} {
			if strings.Contains(string(files[file]), id) && !listed[id] {
				t.Errorf("%s names group %s, which groups.json does not list", file, id)
			}
		}
	}

	want := map[string]int{tier0GroupID: 7, breakGlassID: 3, pilotGroupID: 32, salesGroupID: 34}
	for _, g := range groups {
		id := g["id"].(string)
		members := values(t, files["groupMembers-"+id+".json"])
		if len(members) != want[id] {
			t.Errorf("%s has %d members, want %d", g["displayName"], len(members), want[id])
		}
		for _, m := range members {
			if m["@odata.type"] != "#microsoft.graph.user" || upn[m["id"].(string)] != m["userPrincipalName"] {
				t.Errorf("%s: member %v is not a user of users.json", g["displayName"], m)
			}
		}
	}
}

// values decodes the "value" array of a Graph collection page.
func values(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	var page struct {
		Value []map[string]any `json:"value"`
	}
	if err := json.Unmarshal(data, &page); err != nil {
		t.Fatal(err)
	}
	return page.Value
}
