package ledger

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRecordPeople: send rows and adoptions carry the name and department
// of the latest read, and people no read recorded come back empty.
func TestRecordPeople(t *testing.T) {
	ctx := context.Background()
	l := openTest(t, Options{})
	run := startRun(t, l)
	if _, err := l.Plan(ctx, run, []Recipient{
		{Key: Key{Wave: "w1", PersonID: "p1"}, UPN: "p1@x.test", Mail: "p1@x.test", Audience: "staff", Locale: "en"},
		{Key: Key{Wave: "w1", PersonID: "p2"}, UPN: "p2@x.test", Mail: "p2@x.test", Audience: "staff", Locale: "en"},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.RecordAdoption(ctx, Adoption{PersonID: "p1", Kind: "synced passkey", SeenAt: t0, DataReadAt: t0}); err != nil {
		t.Fatal(err)
	}
	for _, ps := range [][]Person{
		{{ID: "p1", Name: "Ann", Department: "Sales"}},
		{{ID: "p1", Name: "Ann Smith", Department: "=HYPERLINK(\"x\")"}}, // a later read wins
	} {
		if err := l.RecordPeople(ctx, ps); err != nil {
			t.Fatal(err)
		}
	}
	var got [][3]string
	if err := l.EachSend(ctx, "", func(s Send) error {
		got = append(got, [3]string{s.PersonID, s.Name, s.Department})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := [][3]string{{"p1", "Ann Smith", `=HYPERLINK("x")`}, {"p2", "", ""}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sends (-want +got):\n%s", diff)
	}
	var depts []string
	if err := l.EachAdoption(ctx, func(a Adoption) error {
		depts = append(depts, a.Department)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{`=HYPERLINK("x")`}, depts); diff != "" {
		t.Errorf("adoption departments (-want +got):\n%s", diff)
	}
	if err := l.RecordPeople(ctx, []Person{{Name: "no id"}}); err == nil {
		t.Error("RecordPeople took a person without an id")
	}
}

// TestMigrateVersion1 opens a ledger made before the people table: it
// gains the table and keeps its rows.
func TestMigrateVersion1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "nudge.db")
	db := rawDB(t, path)
	if _, err := db.Exec(migrations[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`PRAGMA user_version = 1;
		INSERT INTO adoption VALUES ('p1', 'security key', '2026-05-04T09:30:00.000000000Z', '2026-05-04T09:30:00.000000000Z')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	l := openAt(t, path, Options{})
	if err := l.RecordPeople(ctx, []Person{{ID: "p1", Department: "Sales"}}); err != nil {
		t.Fatal(err)
	}
	var got []Adoption
	if err := l.EachAdoption(ctx, func(a Adoption) error {
		got = append(got, a)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Kind != "security key" || got[0].Department != "Sales" {
		t.Errorf("adoptions after migration = %+v", got)
	}
	if v := userVersion(t, path); v != len(migrations) {
		t.Errorf("user_version = %d, want %d", v, len(migrations))
	}
}

// BenchmarkRecordPeople100k records the people of a 100,000-person read,
// in the batches nudge track uses: "first" into an empty table, "again"
// the same people unchanged, as every later read mostly is.
func BenchmarkRecordPeople100k(b *testing.B) {
	ctx := context.Background()
	ps := make([]Person, 100_000)
	for i := range ps {
		ps[i] = Person{ID: fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i), Name: fmt.Sprint("Person ", i), Department: fmt.Sprint("Department ", i%40)}
	}
	record := func(b *testing.B, l *Ledger) {
		for i := 0; i < len(ps); i += 2000 {
			if err := l.RecordPeople(ctx, ps[i:min(i+2000, len(ps))]); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("first", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			l := openTest(b, Options{})
			b.StartTimer()
			record(b, l)
		}
	})
	b.Run("again", func(b *testing.B) {
		l := openTest(b, Options{})
		record(b, l)
		for b.Loop() {
			record(b, l)
		}
	})
}
