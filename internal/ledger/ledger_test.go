package ledger

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// t0 is the fixed clock of the tests.
var t0 = time.Date(2026, 5, 4, 9, 30, 0, 0, time.UTC)

func fixedNow() time.Time { return t0 }

// openTest opens a ledger in a fresh folder and closes it at the end.
func openTest(t testing.TB, opts Options) *Ledger {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "nudge.db"), opts)
}

func openAt(t testing.TB, path string, opts Options) *Ledger {
	t.Helper()
	if opts.Now == nil {
		opts.Now = fixedNow
	}
	l, err := Open(context.Background(), path, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func startRun(t testing.TB, l *Ledger) int64 {
	t.Helper()
	id, err := l.StartRun(context.Background(), Run{Command: "send", Via: ViaSMTP, Waves: []string{"w1"}})
	if err != nil {
		t.Fatalf("StartRun: %v", err)
	}
	return id
}

// rawDB opens the file directly, the way an older or newer nudge would.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func userVersion(t *testing.T, path string) int {
	t.Helper()
	var v int
	if err := rawDB(t, path).QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestOpenMigratesEmptyFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "nudge.db")
	l := openAt(t, path, Options{})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	if got, want := userVersion(t, path), len(migrations); got != want {
		t.Errorf("user_version = %d, want %d", got, want)
	}
	db := rawDB(t, path)
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	want := []string{"adoption", "attempts", "invites", "people", "runs", "sends", "snapshots", "taps"}
	if diff := cmp.Diff(want, tables); diff != "" {
		t.Errorf("tables (-want +got):\n%s", diff)
	}
	var mode string
	db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode)
	if mode != "wal" {
		t.Errorf("journal_mode = %q, want wal", mode)
	}
	if fi, err := os.Stat(path); err != nil {
		t.Fatal(err)
	} else if perm := fi.Mode().Perm(); perm&0o077 != 0 && os.PathSeparator == '/' {
		t.Errorf("nudge.db mode = %v, want private to its owner", perm)
	}
}

func TestOpenPragmas(t *testing.T) {
	l := openTest(t, Options{BusyTimeout: 1234 * time.Millisecond})
	for _, tc := range []struct {
		pragma string
		want   int
	}{
		{"busy_timeout", 1234},
		{"foreign_keys", 1},
		{"synchronous", 1}, // NORMAL
	} {
		var got int
		if err := l.w.QueryRow("PRAGMA " + tc.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("PRAGMA %s = %d, want %d", tc.pragma, got, tc.want)
		}
	}
	// The read pool must refuse writes, so a bug cannot write around the
	// guarded UPDATEs on a connection that skips _txlock=immediate.
	if _, err := l.r.Exec(`DELETE FROM sends`); err == nil {
		t.Error("write through the read pool succeeded")
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "nudge.db")
	l := openAt(t, path, Options{})
	run := startRun(t, l)
	k := Key{"w1", "p1"}
	if _, err := l.Plan(ctx, run, []Recipient{{Key: k, Mail: "a@example.com"}}); err != nil {
		t.Fatal(err)
	}
	if err := l.MarkSending(ctx, k, Claim{Run: run, MessageID: "<m1@x>", Sender: "s@x", At: t0}); err != nil {
		t.Fatal(err)
	}
	if err := l.MarkSent(ctx, k, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	l.Close()

	l2 := openAt(t, path, Options{})
	got, err := l2.Status(ctx, k)
	if err != nil || got != StatusSent {
		t.Errorf("after reopen: Status = %q, %v; want sent", got, err)
	}
	if v := userVersion(t, path); v != len(migrations) {
		t.Errorf("user_version after reopen = %d, want %d", v, len(migrations))
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nudge.db")
	l := openAt(t, path, Options{})
	l.Close()
	if _, err := rawDB(t, path).Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), path, Options{})
	if err == nil || !strings.Contains(err.Error(), "made by a newer nudge") {
		t.Fatalf("Open = %v, want a 'made by a newer nudge' error", err)
	}
}

func TestOpenPathWithURICharacters(t *testing.T) {
	// A '?' or '#' in a folder name must not be read as DSN parameters.
	dir := filepath.Join(t.TempDir(), "camp?aign#1 %20")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skip("file system refuses the name:", err)
	}
	path := filepath.Join(dir, "nudge.db")
	l := openAt(t, path, Options{})
	startRun(t, l)
	l.Close()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not at %s: %v", path, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		t.Errorf("files next to the campaign folder: %v, want only the folder", entries)
	}
}

func TestRunsRoundTrip(t *testing.T) {
	ctx := context.Background()
	l := openTest(t, Options{})
	id, err := l.StartRun(ctx, Run{Command: "run", Via: ViaGraph, Waves: []string{"w1", "w2"}, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	counts := RunCounts{Planned: 10, Sent: 7, Retried: 2, Failed: 1, Unknown: 1, Skipped: 1}
	if err := l.FinishRun(ctx, id, t0.Add(time.Hour), counts); err != nil {
		t.Fatal(err)
	}
	if err := l.FinishRun(ctx, id, t0.Add(2*time.Hour), counts); err == nil {
		t.Error("second FinishRun succeeded")
	}
	if _, err := l.StartRun(ctx, Run{Command: "send", Via: "pigeon"}); err == nil {
		t.Error("StartRun with an unknown route succeeded")
	}
	got, err := l.Runs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []Run{{ID: id, Command: "run", Via: ViaGraph, Waves: []string{"w1", "w2"}, DryRun: true,
		StartedAt: t0, FinishedAt: t0.Add(time.Hour), Counts: counts}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Runs (-want +got):\n%s", diff)
	}
}

func TestAdoptionAndSnapshots(t *testing.T) {
	ctx := context.Background()
	l := openTest(t, Options{})
	for i, tc := range []struct {
		a     Adoption
		first bool
	}{
		{Adoption{PersonID: "p1", Kind: "passkey", SeenAt: t0, DataReadAt: t0.Add(-time.Minute)}, true},
		{Adoption{PersonID: "p1", Kind: "fido2", SeenAt: t0.Add(time.Hour), DataReadAt: t0}, false},
		{Adoption{PersonID: "p2", Kind: "passkey", SeenAt: t0.Add(-time.Hour), DataReadAt: t0}, true},
	} {
		first, err := l.RecordAdoption(ctx, tc.a)
		if err != nil || first != tc.first {
			t.Errorf("#%d RecordAdoption = %v, %v; want %v", i, first, err, tc.first)
		}
	}
	var got []Adoption
	l.EachAdoption(ctx, func(a Adoption) error { got = append(got, a); return nil })
	want := []Adoption{
		{PersonID: "p2", Kind: "passkey", SeenAt: t0.Add(-time.Hour), DataReadAt: t0},
		{PersonID: "p1", Kind: "passkey", SeenAt: t0, DataReadAt: t0.Add(-time.Minute)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("adoptions (-want +got):\n%s", diff)
	}

	s := Snapshot{ReadAt: t0, Source: "graph", Counts: map[string]int{"people": 3, "with_passkey": 2}}
	if s.ID, _ = l.RecordSnapshot(ctx, s); s.ID == 0 {
		t.Fatal("RecordSnapshot returned no id")
	}
	snaps, err := l.Snapshots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Snapshot{s}, snaps); diff != "" {
		t.Errorf("snapshots (-want +got):\n%s", diff)
	}
}

func TestRecordAdoptionsBatch(t *testing.T) {
	l := openTest(t, Options{})
	ctx := context.Background()
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	as := []Adoption{{PersonID: "p1", Kind: "synced passkey", SeenAt: at, DataReadAt: at}, {PersonID: "p2", Kind: "security key", SeenAt: at, DataReadAt: at}}
	if n, err := l.RecordAdoptions(ctx, as); err != nil || n != 2 {
		t.Fatalf("first batch: %d, %v; want 2 new", n, err)
	}
	later := at.Add(48 * time.Hour)
	as = append(as, Adoption{PersonID: "p3", Kind: "Windows Hello", SeenAt: later, DataReadAt: later})
	as[0].SeenAt = later // a later sighting changes nothing
	if n, err := l.RecordAdoptions(ctx, as); err != nil || n != 1 {
		t.Fatalf("second batch: %d, %v; want 1 new", n, err)
	}
	var got []Adoption
	if err := l.EachAdoption(ctx, func(a Adoption) error { got = append(got, a); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || !got[0].SeenAt.Equal(at) {
		t.Errorf("adoptions %+v: want 3, p1 first seen at %v", got, at)
	}
	if _, err := l.RecordAdoptions(ctx, []Adoption{{PersonID: "", SeenAt: at, DataReadAt: at}}); err == nil {
		t.Error("an adoption without a person id was accepted")
	}
}
