package readiness

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"

	"github.com/nudge-passkeys/nudge/internal/untrusted"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func text(t *testing.T, r *Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteText(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestTextGolden compares the whole report of the test tenant with
// testdata/ready.txt (go test -update rewrites it).
func TestTextGolden(t *testing.T) {
	r := newTenant().report()
	r.Source = "snapshot:contoso"
	got := text(t, r)
	golden := filepath.Join("testdata", "ready.txt")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("WriteText (-%s +got):\n%s", golden, diff)
	}
}

func TestText(t *testing.T) {
	tests := []struct {
		name   string
		change func(tn *tenant)
		// lines are regular expressions each of which some line must
		// match in full; absent, ones no line may match.
		lines, absent []string
	}{
		{
			name: "ready",
			lines: []string{
				`Readiness for Entra's passkey registration campaign: snapshot:contoso, data as of 2026-11-20 01:02 UTC`,
				`STATUS +CHECK +OBSERVED`,
				`PASS +Registration campaign on +Microsoft managed \(default\); snooze set by Microsoft: 1 day, unlimited for passkeys`,
				`PASS +People the prompt can reach +7 of 12 enabled members`,
				`Default passkey profile \(default\) +deviceBound, synced +disabled +none +All users +eligible`,
				`14 +people read`,
				`12 +enabled members \(the rest: 1 guest, 1 disabled account\)`,
				`7 +reached by Microsoft's prompt at their next MFA sign-in`,
				`8 +MFA-capable without a passkey: the people a campaign nudges`,
				`2 +admins without a phishing-resistant method \(of 3 admins\)`,
				`1 +no registration details: state unknown`,
				`2 +already has a passkey`,
				`on +Require phishing-resistant MFA for admins +Phishing-resistant MFA +now +~2 +~1`,
				`report-only +Passkeys for everyone \(report-only\) +Passkeys only +when switched on +11 +8`,
				`on +MFA or passkeys for one user +Passkeys only +no: mfa also accepted +1 +1`,
				`- Passkeys for everyone \(report-only\): applies to All users; except guests and external users; groups: Break-glass accounts`,
				`- Microsoft managed campaigns get passkey prompts in waves; .*`,
				`Result: ready. Every criterion passes.`,
			},
			absent: []string{`.*to change:.*`, `FAIL.*`, `NOT REACHED.*unless.*`},
		},
		{
			name:   "campaign disabled",
			change: func(tn *tenant) { tn.d.Policy.Campaign.State = "disabled" },
			lines: []string{
				`FAIL +Registration campaign on +Disabled`,
				` +to change: Entra admin center > Entra ID > Authentication methods > Registration campaign > Edit: State = Microsoft managed or Enabled`,
				`FAIL +People the prompt can reach +0 of 12 enabled members`,
				`12 +registration campaign is disabled`,
				`Result: not ready. Change what the FAIL and UNKNOWN rows say.`,
			},
			absent: []string{`- Microsoft managed campaigns .*`},
		},
		{
			name:   "warnings only",
			change: unreadBreakGlass,
			lines: []string{
				`WARN +People the prompt can reach +8 people unless in ` + gBreak + `, whose members were not read`,
				`WARN +Members read for every group named +1 of 2; not read: ` + gBreak,
				`0 +reached by Microsoft's prompt at their next MFA sign-in`,
				`8 +reached by Microsoft's prompt unless in an exclude group whose members were not read`,
				`Result: ready, with the warnings above.`,
			},
		},
		{
			name:   "no policy",
			change: func(tn *tenant) { tn.d.Policy, tn.d.ConditionalAccess = nil, nil },
			lines: []string{
				`UNKNOWN +Passkey \(FIDO2\) method enabled +authentication methods policy not read`,
				` +to change: read a source that has the policy: Microsoft Graph, or a snapshot folder with authenticationMethodsPolicy.json \(GET /policies/authenticationMethodsPolicy\); the admin center's CSV download never has it`,
				` +to change: as above`,
				`UNKNOWN +People the prompt can reach +authentication methods policy not read`,
				`Passkey profiles: none read`,
				`14 +policy not read`,
				`Conditional Access: not read`,
				`- Conditional Access policies were not read: .*`,
				`Result: not ready. Change what the FAIL and UNKNOWN rows say.`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := reportAfter(tt.change)
			r.Source = "snapshot:contoso"
			out := text(t, r)
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			for _, re := range tt.lines {
				rx := regexp.MustCompile(`^` + re + `$`)
				if !slices.ContainsFunc(lines, rx.MatchString) {
					t.Errorf("no line matches %s in\n%s", re, out)
				}
			}
			for _, re := range tt.absent {
				rx := regexp.MustCompile(`^` + re + `$`)
				if i := slices.IndexFunc(lines, rx.MatchString); i >= 0 {
					t.Errorf("line %q matches %s", lines[i], re)
				}
			}
			checkTableAligned(t, lines)
		})
	}
}

// checkTableAligned checks that every row of the checks table, the lines
// saying what to change included, starts its observed value in the
// OBSERVED column.
func checkTableAligned(t *testing.T, lines []string) {
	t.Helper()
	head := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "STATUS ") })
	if head < 0 {
		t.Fatal("no checks table")
	}
	col := strings.Index(lines[head], "OBSERVED")
	status := regexp.MustCompile(`^(PASS|FAIL|WARN|UNKNOWN) `)
	for _, l := range lines[head+1:] {
		if l == "" {
			break
		}
		switch {
		case strings.Contains(l, "to change: "):
			if i := strings.Index(l, "to change: "); i != col || strings.TrimSpace(l[:i]) != "" {
				t.Errorf("fix at column %d, want %d: %q", i, col, l)
			}
		case status.MatchString(l):
			if len(l) <= col || l[col-1] != ' ' || l[col] == ' ' {
				t.Errorf("observed value not at column %d: %q", col, l)
			}
		default:
			t.Errorf("checks table line %q is neither a check nor a fix", l)
		}
	}
}

// hostileNames are directory values that must stay on their line and
// come out as text: the shared corpus and a few terminal escapes.
func hostileNames(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "hostile-names.json"))
	if err != nil {
		t.Fatal(err)
	}
	var corpus []struct{ DisplayName string }
	if err := json.Unmarshal(data, &corpus); err != nil {
		t.Fatal(err)
	}
	names := []string{
		"\x1b[31mFAIL\x1b[0m",                     // colour
		"\x1b[2J\x1b[HResult: ready",              // clear the screen, home the cursor
		"\x1b]0;pwned\x07",                        // set the window title
		"Tier 0\u2028PASS    Fake row",            // a line separator
		"\u2067eligible\u2069 \u202dnot\u202c",    // isolates and overrides
		"Tier 0\u202e elbigile ton :TPMORP\u202c", // the rest of the row reversed
		"Tier 0\vAnn\fBob\x00\x7f",
	}
	for _, c := range corpus {
		names = append(names, c.DisplayName)
	}
	return names
}

// TestTextHostileNames names a group, a passkey profile and a Conditional
// Access policy with each hostile value: the report keeps its lines, and
// the value is shown folded onto one line with hidden characters spelled
// out, nowhere else.
func TestTextHostileNames(t *testing.T) {
	const placeholder = "PLACEHOLDER"
	render := func(name string) []string {
		tn := newTenant()
		tn.d.Groups[1].DisplayName = name                     // Tier 0 admins
		tn.d.Policy.Passkey.Profiles[1].Name = name           // its profile
		tn.d.ConditionalAccess.Policies[0].DisplayName = name // the admins' policy
		tn.d.ConditionalAccess.Policies[0].Users.IncludeGroups = []string{gTier0}
		out := text(t, tn.report())
		return strings.Split(out, "\n")
	}
	base := render(placeholder)
	for _, name := range hostileNames(t) {
		t.Run(strings.ToValidUTF8(name, "?"), func(t *testing.T) {
			// Folded onto one line, with what would reorder or end a
			// line written as its code point.
			var shown strings.Builder
			for _, r := range untrusted.OneLine(name) {
				if reorders(r) {
					fmt.Fprintf(&shown, "<U+%04X>", r)
				} else {
					shown.WriteRune(r)
				}
			}
			got := render(name)
			if len(got) != len(base) {
				t.Fatalf("%d lines, want %d:\n%s", len(got), len(base), strings.Join(got, "\n"))
			}
			for i, b := range base {
				switch {
				case strings.Contains(b, placeholder):
					if !strings.Contains(got[i], shown.String()) {
						t.Errorf("line %d = %q, want it to show %q", i+1, got[i], shown.String())
					}
				case !slices.Equal(strings.Fields(got[i]), strings.Fields(b)):
					t.Errorf("line %d = %q, want %q", i+1, got[i], b)
				}
				if strings.IndexFunc(got[i], func(r rune) bool { return r < ' ' || r == 0x7f || reorders(r) }) >= 0 {
					t.Errorf("line %d keeps a control character: %q", i+1, got[i])
				}
			}
		})
	}
}

// reorders reports whether r changes the order of what follows it or
// ends a line, for some viewers.
func reorders(r rune) bool {
	return unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029'
}

// TestJSON decodes the JSON report as a consumer would.
func TestJSON(t *testing.T) {
	type decoded struct {
		Passed bool   `json:"passed"`
		Source string `json:"source"`
		ReadAt string `json:"readAt"`
		Checks []struct {
			ID, Title, Status, Observed, Fix string
		} `json:"checks"`
		Legacy   *bool `json:"legacyKeyRestrictions"`
		Profiles []struct {
			Name     string `json:"name"`
			Eligible bool   `json:"eligible"`
			Default  bool   `json:"default"`
		} `json:"passkeyProfiles"`
		ConditionalAccess []struct {
			Name        string `json:"name"`
			InScope     int    `json:"inScope"`
			Without     int    `json:"withoutPhishingResistant"`
			Approximate bool   `json:"approximate"`
		} `json:"conditionalAccess"`
		Counts     map[string]int `json:"counts"`
		NotReached []Reason       `json:"notReached"`
		Caveats    []string       `json:"caveats"`
	}
	// counts are the test tenant's counts as JSON, with changes.
	counts := func(changes map[string]int) map[string]int {
		out := map[string]int{
			"people": 14, "members": 12, "guests": 1, "disabled": 1, "reachedByMicrosoftPrompt": 7, "withPasskey": 2,
			"mfaCapableWithoutPasskey": 8, "admins": 3, "adminsWithoutPhishingResistant": 2, "noMfaNeedTap": 1, "noRegistrationDetails": 1,
		}
		for k, v := range changes {
			out[k] = v
		}
		return out
	}
	tests := []struct {
		name     string
		change   func(tn *tenant)
		passed   bool
		statuses map[string]Status
		counts   map[string]int
	}{
		{name: "ready", passed: true, statuses: allPass(nil), counts: counts(nil)},
		{
			name:     "campaign disabled",
			change:   func(tn *tenant) { tn.d.Policy.Campaign.State = "disabled" },
			statuses: allPass(map[string]Status{"campaign-state": Fail, "people-reached": Fail}),
			counts:   counts(map[string]int{"reachedByMicrosoftPrompt": 0}),
		},
		{
			name:     "exclude group not read",
			change:   unreadBreakGlass,
			passed:   true,
			statuses: allPass(map[string]Status{"people-reached": Warn, "groups-read": Warn}),
			counts:   counts(map[string]int{"reachedByMicrosoftPrompt": 0, "reachedUnlessInUnreadGroup": 8}),
		},
		{
			name:   "no policy",
			change: func(tn *tenant) { tn.d.Policy = nil },
			statuses: allPass(map[string]Status{
				"passkey-method": Unknown, "self-service": Unknown, "campaign-state": Unknown, "campaign-target": Unknown,
				"passkey-profile": Unknown, "passkey-profiles-migrated": Unknown, "people-reached": Unknown,
			}),
			counts: counts(map[string]int{"reachedByMicrosoftPrompt": 0}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := reportAfter(tt.change)
			r.Source = "graph"
			data, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			var got decoded
			if err := json.Unmarshal(data, &got); err != nil {
				t.Fatalf("%v in\n%s", err, data)
			}
			if got.Passed != tt.passed || got.Passed != r.Passed() {
				t.Errorf("passed = %v, want %v", got.Passed, tt.passed)
			}
			if got.Source != "graph" || got.ReadAt != "2026-11-20T01:02:00Z" {
				t.Errorf("source %q, readAt %q", got.Source, got.ReadAt)
			}
			st := map[string]Status{}
			for i, c := range got.Checks {
				st[c.ID] = Status(c.Status)
				if c.Title != r.Checks[i].Title || c.Observed != r.Checks[i].Observed || c.Fix != r.Checks[i].Fix {
					t.Errorf("check %s = %+v, want %+v", c.ID, c, r.Checks[i])
				}
			}
			if diff := cmp.Diff(tt.statuses, st); diff != "" {
				t.Errorf("check statuses (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.counts, got.Counts); diff != "" {
				t.Errorf("counts (-want +got):\n%s", diff)
			}
			if got.Legacy == nil {
				t.Error("legacyKeyRestrictions missing")
			}
			if diff := cmp.Diff(r.NotReached, got.NotReached); diff != "" {
				t.Errorf("notReached (-report +json):\n%s", diff)
			}
			if len(got.Caveats) != len(r.Caveats) || len(got.ConditionalAccess) != 3 {
				t.Errorf("%d caveats, %d CA policies; want %d, 3", len(got.Caveats), len(got.ConditionalAccess), len(r.Caveats))
			}
			if ca := got.ConditionalAccess[0]; ca.InScope != r.ConditionalAccess[0].InScope || ca.Without != r.ConditionalAccess[0].WithoutPhishingResistant || !ca.Approximate {
				t.Errorf("admins policy = %+v", ca)
			}
			if tt.name == "ready" && (len(got.Profiles) != 2 || !got.Profiles[0].Default || !got.Profiles[1].Eligible) {
				t.Errorf("profiles = %+v", got.Profiles)
			}
		})
	}
}
