package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/nudge-passkeys/nudge/internal/ledger"
)

// Directory values named like formulas, for the tenant's group and
// passkey profile names.
const (
	hostileGroup   = `=HYPERLINK("https://evil.example","Tier 0")`
	hostileProfile = `+cmd|' /C calc'!A0`
)

// trackFixture is a campaign in dir whose source is a copy of the demo
// tenant in dir/tenant, with each edit (old, new) made in the named file.
func trackFixture(t *testing.T, edits map[string][][2]string) string {
	t.Helper()
	t.Setenv("NUDGE_NOW", "2026-11-25T10:00:00Z")
	dir := t.TempDir()
	templates, err := filepath.Abs(filepath.Join("..", "..", "templates"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "campaign.yaml"), `campaign: t
organisation: {name: Contoso}
sender: {address: it@contoso.example}
source: snapshot:tenant
templates: `+filepath.ToSlash(templates)+`
audiences:
  - name: ready
    where: isMfaCapable && !hasPasskey
waves:
  - id: announce
    audiences: [ready]
    template: announce
`)
	tenant := filepath.Join(dir, "tenant")
	if err := os.CopyFS(tenant, os.DirFS(filepath.Join("..", "..", "content", "demo-tenant"))); err != nil {
		t.Fatal(err)
	}
	for file, pairs := range edits {
		path := filepath.Join(tenant, file)
		if pairs == nil {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		for _, p := range pairs {
			if strings.Count(s, p[0]) != 1 {
				t.Fatalf("%s: %q is not there once", file, p[0])
			}
			s = strings.Replace(s, p[0], p[1], 1)
		}
		write(t, path, s)
	}
	return dir
}

func openWorkbook(t *testing.T, dir string) *excelize.File {
	t.Helper()
	f, err := excelize.OpenFile(filepath.Join(dir, "output", "t", "tracking.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestTrackReadinessSheet: nudge track judges readiness on the read it
// makes anyway, over everyone read (the same counts as nudge readiness),
// and the tenant's formula-like group and profile names stay text.
func TestTrackReadinessSheet(t *testing.T) {
	dir := trackFixture(t, map[string][][2]string{
		"authenticationMethodsPolicy.json": {{`"name": "Tier 0 admins: attested security keys"`, `"name": "+cmd|' /C calc'!A0"`}},
		"groups.json":                      {{`"displayName": "Tier 0 admins"`, `"displayName": "=HYPERLINK(\"https://evil.example\",\"Tier 0\")"`}},
	})
	if _, stderr, code := nudge(t, dir, "track"); code != 0 {
		t.Fatalf("nudge track: exit %d\n%s", code, stderr)
	}
	stdout, stderr, _ := nudge(t, dir, "readiness", "--json")
	var want struct {
		Counts map[string]int `json:"counts"`
	}
	if err := json.Unmarshal([]byte(stdout), &want); err != nil {
		t.Fatalf("nudge readiness --json: %v\n%s", err, stderr)
	}

	f := openWorkbook(t, dir)
	if got := f.GetSheetList(); !slices.Contains(got, "Readiness") {
		t.Fatalf("sheets = %q, want a Readiness sheet", got)
	}
	rows, err := f.GetRows("Readiness")
	if err != nil {
		t.Fatal(err)
	}
	cell := func(r, c int) string {
		if r < len(rows) && c < len(rows[r]) {
			return rows[r][c]
		}
		return ""
	}
	if got := rows[1]; !slices.Equal(got, []string{"Data read at", "2026-11-20 01:02"}) {
		t.Errorf("row 2 = %q, want the snapshot's read time", got)
	}
	if got := cell(2, 1); !strings.HasSuffix(got, "tenant") {
		t.Errorf("source = %q", got)
	}
	byLabel := map[string]int{}
	for i, r := range rows {
		if len(r) > 0 {
			byLabel[r[0]] = i
		}
	}
	for label, key := range map[string]string{
		"people read":       "people",
		"enabled members":   "members",
		"guests":            "guests",
		"disabled accounts": "disabled",
		"have a passkey":    "withPasskey",
		"reached by Microsoft's prompt at their next MFA sign-in": "reachedByMicrosoftPrompt",
	} {
		i, ok := byLabel[label]
		if !ok {
			t.Errorf("no %q row", label)
			continue
		}
		if got := cell(i, 1); got != strconv.Itoa(want.Counts[key]) {
			t.Errorf("%s = %s, nudge readiness says %d", label, got, want.Counts[key])
		}
		ref := "B" + strconv.Itoa(i+1)
		if typ, _ := f.GetCellType("Readiness", ref); typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
			t.Errorf("Readiness!%s (%s) type = %v, want a number", ref, label, typ)
		}
	}
	if want.Counts["guests"] == 0 {
		t.Error("the demo tenant has guests: the campaign excludes them, the readiness counts must not")
	}

	// The hostile names are somewhere on the sheet, each as a string cell.
	found := map[string]bool{}
	for i, r := range rows {
		for j, v := range r {
			for _, h := range []string{hostileGroup, hostileProfile} {
				if !strings.Contains(v, h) {
					continue
				}
				found[h] = true
				ref := string(rune('A'+j)) + strconv.Itoa(i+1)
				if formula, _ := f.GetCellFormula("Readiness", ref); formula != "" {
					t.Errorf("Readiness!%s is a formula: %q", ref, formula)
				}
				if typ, _ := f.GetCellType("Readiness", ref); typ != excelize.CellTypeSharedString && typ != excelize.CellTypeInlineString {
					t.Errorf("Readiness!%s type = %v, want a string", ref, typ)
				}
			}
		}
	}
	for _, h := range []string{hostileGroup, hostileProfile} {
		if !found[h] {
			t.Errorf("%q is not on the Readiness sheet", h)
		}
	}
}

// TestTrackWithoutPolicy: a read without the authentication methods
// policy (such as the admin center's CSV) gives no Readiness sheet.
func TestTrackWithoutPolicy(t *testing.T) {
	dir := trackFixture(t, map[string][][2]string{"authenticationMethodsPolicy.json": nil})
	if _, stderr, code := nudge(t, dir, "track"); code != 0 {
		t.Fatalf("nudge track: exit %d\n%s", code, stderr)
	}
	f := openWorkbook(t, dir)
	if got := f.GetSheetList(); slices.Contains(got, "Readiness") {
		t.Errorf("sheets = %q, want no Readiness sheet", got)
	}
}

// TestTrackCreditsOnlyAfterTheMessage: the data read is dated by the
// directory, not by when nudge track runs, so data read before a message
// never credits it, and a registration dated before it never counts.
func TestTrackCreditsOnlyAfterTheMessage(t *testing.T) {
	const (
		katharina = "c322e893-b95c-445d-898f-a641030a4eb5" // passkey, report updated 2026-08-14
		benoit    = "1303d8ac-52aa-4299-a07d-f0a02e66e665" // passkey, report updated 2026-08-02
		mia       = "09e04070-34f2-4e80-953e-a111d9bf12d0" // passkey, no report date (below)
	)
	// The snapshot's newest report date, 2026-11-20 01:02, is when it was read.
	dir := trackFixture(t, map[string][][2]string{
		"userRegistrationDetails.json": {{`"lastUpdatedDateTime": "2026-08-22T13:58:14.123Z"`, `"lastUpdatedDateTimeGone": ""`}},
	})
	ctx := context.Background()
	if err := os.MkdirAll(filepath.Join(dir, "output", "t"), 0o755); err != nil {
		t.Fatal(err)
	}
	l, err := ledger.Open(ctx, filepath.Join(dir, "output", "t", "nudge.db"), ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	run, err := l.StartRun(ctx, ledger.Run{Command: "send", Via: ledger.ViaSMTP, Waves: []string{"announce"}})
	if err != nil {
		t.Fatal(err)
	}
	sent := map[string]time.Time{
		katharina: time.Date(2026, 8, 1, 9, 0, 0, 0, time.UTC),   // before her registration: credited
		benoit:    time.Date(2026, 8, 10, 9, 0, 0, 0, time.UTC),  // after his
		mia:       time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC), // after the data was read
	}
	for id, at := range sent {
		k := ledger.Key{Wave: "announce", PersonID: id}
		if _, err := l.Plan(ctx, run, []ledger.Recipient{{Key: k, UPN: id, Mail: id, Audience: "ready", Locale: "en"}}); err != nil {
			t.Fatal(err)
		}
		if err := l.MarkSending(ctx, k, ledger.Claim{Run: run, MessageID: "<" + id + ">", Sender: "it@contoso.example", At: at}); err != nil {
			t.Fatal(err)
		}
		if err := l.MarkSent(ctx, k, at); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := nudge(t, dir, "track"); code != 0 {
		t.Fatalf("nudge track: exit %d\n%s", code, stderr)
	}

	f := openWorkbook(t, dir)
	rows, err := f.GetRows("Recipients")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, r := range rows[1:] {
		for len(r) < 16 {
			r = append(r, "")
		}
		// UPN (the id here), then Name, Department, Registered passkey at, Registered since message.
		got[r[2]] = []string{r[4], r[5], r[12], r[14]}
	}
	for id, want := range map[string][]string{
		katharina: {"Katharina Schulz", "Legal", "2026-08-14 15:48", "yes"},
		benoit:    {"Benoît Dubois", "Finance", "2026-08-02 08:50", ""},
		mia:       {"Mia Jones", "Engineering", "2026-11-20 01:02", ""},
	} {
		if !slices.Equal(got[id], want) {
			t.Errorf("%s: name, department, registered at, credited = %q, want %q", id, got[id], want)
		}
	}
	if v, _ := f.GetCellValue("Summary", "J7"); v != "1" {
		t.Errorf("Summary registered since = %q, want 1", v)
	}
}

// TestTrackInvitationsSheet: nudge track adds the Invitations sheet from
// the campaign's sessions and the ledger's invitations, naming invited
// people by the UPN of the directory read (the ledger keeps none for
// invitations), the formula-like session title kept as text.
func TestTrackInvitationsSheet(t *testing.T) {
	const katharina = "c322e893-b95c-445d-898f-a641030a4eb5"
	dir := trackFixture(t, nil)
	f, err := os.OpenFile(filepath.Join(dir, "campaign.yaml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString(`sessions:
  list:
    - {id: s1, title: "=1+1 Q&A", start: "2026-12-03T10:00", zone: Europe/Paris, room: R1, capacity: 4}
    - {id: s2, title: Later, start: "2026-12-04T10:00", zone: America/New_York, room: R2, capacity: 2}
`)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := os.MkdirAll(filepath.Join(dir, "output", "t"), 0o755); err != nil {
		t.Fatal(err)
	}
	l, err := ledger.Open(ctx, filepath.Join(dir, "output", "t", "nudge.db"), ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	run, err := l.StartRun(ctx, ledger.Run{Command: "send", Via: ledger.ViaSMTP, Waves: []string{"qa"}})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	k, inv := ledger.Key{Wave: "qa", PersonID: katharina}, ledger.Invite{Session: "s1", Fingerprint: "f"}
	if err := l.BeginInvite(ctx, k, inv, ledger.Claim{Run: run, MessageID: "<k@x>", Sender: "it@contoso.example", At: at}); err != nil {
		t.Fatal(err)
	}
	if err := l.InviteSent(ctx, k, inv, at); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := nudge(t, dir, "track"); code != 0 {
		t.Fatalf("nudge track: exit %d\n%s", code, stderr)
	}
	wb := openWorkbook(t, dir)
	rows, err := wb.GetRows("Invitations")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"Session", "Title", "Start", "Zone", "Capacity", "Invited", "Updated", "Cancelled", "Unknown", "Latest SEQUENCE", "Seats left", "Note"},
		{"s1", "=1+1 Q&A", "2026-12-03 10:00", "Europe/Paris", "4", "1", "0", "0", "0", "0", "3"},
		{"s2", "Later", "2026-12-04 10:00", "America/New_York", "2", "0", "0", "0", "0", "", "2"},
		nil,
		{"Wave", "Name", "UPN", "Session", "Status", "SEQUENCE", "Sent at"},
		{"qa", "Katharina Schulz", "katharina.schulz@contoso.example", "s1", "invited", "0", "2026-11-24 09:00"},
	}
	if len(rows) != len(want) {
		t.Fatalf("Invitations rows = %q, want %q", rows, want)
	}
	for i := range want {
		if !slices.Equal(rows[i], want[i]) {
			t.Errorf("Invitations row %d = %q, want %q", i+1, rows[i], want[i])
		}
	}
	if formula, _ := wb.GetCellFormula("Invitations", "B2"); formula != "" {
		t.Errorf("the session title became the formula %q", formula)
	}
}
