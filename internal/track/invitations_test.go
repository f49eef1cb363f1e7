package track

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nudge-passkeys/nudge/internal/ledger"
)

const (
	hostileName  = `=HYPERLINK("https://evil.example","Open")`
	hostileUPN   = `+cmd|' /C calc'!A0@contoso.test`
	hostileTitle = `@SUM(1+1) Q&A`
)

// inviteFixture is the fixture ledger plus the calendar messages of wave
// qa: p1 invited to s1 and sent an update; p2 moved from s1 (cancelled)
// to s2; h1, whose name and UPN look like formulas, invited to s2; p3's
// invitation to s1 in flight when a run stopped; p4 invited to s9, a
// session no longer in the campaign; p5 cancelled from s1 and invited
// back to it (SEQUENCE 2).
func inviteFixture(t *testing.T) (*ledger.Ledger, Options) {
	t.Helper()
	ctx := context.Background()
	l := fixture(t)
	run, err := l.StartRun(ctx, ledger.Run{Command: "send", Via: ledger.ViaSMTP, Waves: []string{"qa"}})
	if err != nil {
		t.Fatal(err)
	}
	at := t0.Add(48 * time.Hour)
	send := func(person, session string, seq int, cancel bool) {
		t.Helper()
		k, inv := ledger.Key{Wave: "qa", PersonID: person}, ledger.Invite{Session: session, Sequence: seq, Fingerprint: "f", Cancelled: cancel}
		if err := l.BeginInvite(ctx, k, inv, ledger.Claim{Run: run, MessageID: "<" + person + "@x.test>", Sender: "it@contoso.test", At: at}); err != nil {
			t.Fatal(err)
		}
		if err := l.InviteSent(ctx, k, inv, at.Add(time.Duration(seq)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	send("p1", "s1", 0, false)
	send("p1", "s1", 1, false)
	send("p2", "s1", 0, false)
	send("p2", "s1", 1, true)
	send("p2", "s2", 0, false)
	send("h1", "s2", 0, false)
	send("p4", "s9", 0, false)
	send("p5", "s1", 0, false)
	send("p5", "s1", 1, true)
	send("p5", "s1", 2, false)
	if err := l.BeginInvite(ctx, ledger.Key{Wave: "qa", PersonID: "p3"}, ledger.Invite{Session: "s1", Fingerprint: "f"},
		ledger.Claim{Run: run, MessageID: "<p3@x.test>", Sender: "it@contoso.test", At: at}); err != nil {
		t.Fatal(err)
	}
	if err := l.RecordPeople(ctx, []ledger.Person{{ID: "h1", Name: hostileName}, {ID: "p5", Name: "Zed Last"}}); err != nil {
		t.Fatal(err)
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	ny, _ := time.LoadLocation("America/New_York")
	o := opts()
	o.Sessions = []Session{
		{ID: "s1", Title: "Passkeys Q&A", Start: time.Date(2026, 12, 3, 10, 0, 0, 0, paris), Capacity: 10},
		{ID: "s2", Title: hostileTitle, Start: time.Date(2026, 12, 3, 9, 0, 0, 0, ny), Capacity: 1},
		{ID: "s3", Title: "Gone", Start: time.Date(2026, 12, 4, 9, 0, 0, 0, ny), Capacity: 5, Cancelled: true},
	}
	o.UPNs = map[string]string{"p1": "p1@contoso.test", "p2": "p2@contoso.test", "h1": hostileUPN, "p5": "p5@contoso.test"}
	return l, o
}

// TestInvitationsSheet: per session, the start in its zone, capacity and
// the invitations in each state; per person and session, the state their
// calendar holds, the SEQUENCE and when it was sent.
func TestInvitationsSheet(t *testing.T) {
	l, o := inviteFixture(t)
	_, f := write(t, l, o)
	eq(t, "sheets", f.GetSheetList(), []string{"Summary", "Recipients", "Adoption", "Errors", "Invitations", "Runs"})
	rows, err := f.GetRows("Invitations")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"Session", "Title", "Start", "Zone", "Capacity", "Invited", "Updated", "Cancelled", "Unknown", "Latest SEQUENCE", "Seats left", "Note"},
		// s1: p1 and p5 hold it (both sent a later REQUEST), p2 was
		// cancelled from it, p3's is unknown; the highest SEQUENCE is p5's.
		{"s1", "Passkeys Q&A", "2026-12-03 10:00", "Europe/Paris", "10", "2", "2", "1", "1", "2", "8"},
		// s2: over capacity by one, which the sheet shows.
		{"s2", hostileTitle, "2026-12-03 09:00", "America/New_York", "1", "2", "0", "0", "0", "0", "-1"},
		{"s3", "Gone", "2026-12-04 09:00", "America/New_York", "5", "0", "0", "0", "0", "", "5", "session cancelled"},
		{"s9", "", "", "", "", "1", "0", "0", "0", "0", "", "not in campaign.yaml"},
		nil,
		{"Wave", "Name", "UPN", "Session", "Status", "SEQUENCE", "Sent at"},
		{"qa", "", "", "s9", "invited", "0", "2026-05-06 09:00"},
		{"qa", hostileName, hostileUPN, "s2", "invited", "0", "2026-05-06 09:00"},
		{"qa", "Person One", "p1@contoso.test", "s1", "updated", "1", "2026-05-06 10:00"},
		{"qa", "Person Three", "", "s1", "unknown", "0"},
		{"qa", "Person Two", "p2@contoso.test", "s1", "cancelled", "1", "2026-05-06 10:00"},
		{"qa", "Person Two", "p2@contoso.test", "s2", "invited", "0", "2026-05-06 09:00"},
		{"qa", "Zed Last", "p5@contoso.test", "s1", "updated", "2", "2026-05-06 11:00"},
	}
	if len(rows) != len(want) {
		t.Errorf("Invitations has %d rows, want %d:\n%q", len(rows), len(want), rows)
	}
	for i := range min(len(rows), len(want)) {
		eq(t, "Invitations row "+cellName(1, i+1), rows[i], want[i])
	}
	// The start is a date (wall clock in the session's zone), not text.
	if got := raw(t, f, "Invitations", "C2"); !strings.HasPrefix(got, "46") {
		t.Errorf("C2 stores %q, want an Excel date serial", got)
	}
	// Directory and campaign values are strings, never formulas.
	checkStringCell(t, f, "Invitations", "B3", hostileTitle)
	checkStringCell(t, f, "Invitations", "B9", hostileName)
	checkStringCell(t, f, "Invitations", "C9", hostileUPN)
	// The people are an Excel table, for filtering.
	tables, err := f.GetTables("Invitations")
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, tb := range tables {
		refs = append(refs, tb.Name+" "+tb.Range)
	}
	eq(t, "tables", refs, []string{"InvitationList A7:G14"})
}

// TestNoInvitationsNoSheet: a campaign without sessions or invitations
// has no Invitations sheet; one with sessions and nothing sent yet has
// the sessions, all seats left.
func TestNoInvitationsNoSheet(t *testing.T) {
	_, f := write(t, fixture(t), opts())
	if idx, _ := f.GetSheetIndex("Invitations"); idx >= 0 {
		t.Error("an Invitations sheet without sessions or invitations")
	}
	o := opts()
	o.Sessions = []Session{{ID: "s1", Title: "Q&A", Start: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC), Capacity: 3}}
	_, f = write(t, fixture(t), o)
	eq(t, "s1 row", row(t, f, "Invitations", 2), []string{"s1", "Q&A", "2026-12-03 10:00", "UTC", "3", "0", "0", "0", "0", "", "3"})
	eq(t, "people header", row(t, f, "Invitations", 4), invitationHeader)
}

// TestInvitationsLibreOffice: LibreOffice reads the Invitations sheet as
// excelize does, with the formula-like name, UPN and title as written.
func TestInvitationsLibreOffice(t *testing.T) {
	l, o := inviteFixture(t)
	path, f := write(t, l, o)
	dir := libreOfficeCSV(t, path)
	data, err := os.ReadFile(filepath.Join(dir, "tracking-Invitations.csv"))
	if err != nil {
		t.Fatalf("LibreOffice wrote no CSV for Invitations: %v", err)
	}
	lo, err := csv.NewReader(strings.NewReader(string(data))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	ours, err := f.GetRows("Invitations")
	if err != nil {
		t.Fatal(err)
	}
	if len(lo) < len(ours) {
		t.Fatalf("LibreOffice reads %d rows, excelize %d", len(lo), len(ours))
	}
	for r := range ours {
		for c := range ours[r] {
			if c == 2 && r < 5 || c == 6 && r > 6 {
				continue // dates: LibreOffice writes them in its own format
			}
			if lo[r][c] != ours[r][c] {
				t.Errorf("row %d col %d: LibreOffice %q, excelize %q", r+1, c+1, lo[r][c], ours[r][c])
			}
		}
	}
	for _, h := range []string{hostileName, hostileUPN, hostileTitle} {
		if !strings.Contains(string(data), strings.ReplaceAll(h, `"`, `""`)) {
			t.Errorf("LibreOffice does not show %q as written (was it run as a formula?)", h)
		}
	}
}
