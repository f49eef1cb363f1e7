package ledger

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestTAPs(t *testing.T) {
	ctx := context.Background()
	l := openTest(t, Options{})
	run := startRun(t, l)
	t0 := time.Date(2026, 12, 14, 7, 30, 0, 0, time.UTC)
	first := TAPIssue{PersonID: "p1", UPN: "ann@x.test", MethodID: "m1", Issued: t0.Add(-time.Hour), Start: t0, End: t0.Add(8 * time.Hour), UsableOnce: true, RunID: run}
	id1, err := l.RecordTAP(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	second := first
	second.MethodID, second.Start, second.End = "m2", t0.Add(24*time.Hour), t0.Add(32*time.Hour)
	id2, err := l.RecordTAP(ctx, second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.RecordTAP(ctx, TAPIssue{PersonID: "p2", RunID: run}); err == nil {
		t.Error("RecordTAP without validity: no error")
	}
	if err := l.MarkTAPsPrinted(ctx, []int64{id2}, t0); err != nil {
		t.Fatal(err)
	}
	got, err := l.TAPs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	second.ID, second.Printed = id2, t0
	want := map[string]TAPIssue{"p1": second}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" || id1 == id2 {
		t.Errorf("TAPs (-want +got):\n%s", diff)
	}
}

// TestMigrateVersion3 opens a ledger made before the taps table: it gains
// the table and keeps its invitations.
func TestMigrateVersion3(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "nudge.db")
	db := rawDB(t, path)
	for _, m := range migrations[:3] {
		if _, err := db.Exec(m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(`PRAGMA user_version = 3;
		INSERT INTO runs (id, command, via, waves, dry_run, started_at) VALUES (1, 'send', 'smtp', '["qa"]', 0, '2026-11-01T09:00:00.000000000Z');
		INSERT INTO invites VALUES ('qa', 'p1', 's1', 0, 'a', 0, 'sent', '<m@x>', 'it@x.test', 1, '2026-11-01T09:00:00.000000000Z', '2026-11-01T09:00:01.000000000Z')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	l := openAt(t, path, Options{})
	if v := userVersion(t, path); v != 4 {
		t.Errorf("user_version = %d, want 4", v)
	}
	got, err := l.Invites(ctx, "qa")
	if err != nil || got.Sent["p1"].Session != "s1" {
		t.Errorf("invites after migration: %+v, %v", got, err)
	}
	t0 := time.Date(2026, 12, 14, 7, 30, 0, 0, time.UTC)
	if _, err := l.RecordTAP(ctx, TAPIssue{PersonID: "p1", UPN: "ann@x.test", Start: t0, End: t0.Add(time.Hour), RunID: 1}); err != nil {
		t.Fatal(err)
	}
	if taps, err := l.TAPs(ctx); err != nil || len(taps) != 1 || !taps["p1"].Printed.IsZero() {
		t.Errorf("TAPs after migration: %+v, %v", taps, err)
	}
}
