package track

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/nudge-passkeys/nudge/internal/ledger"
)

var (
	t0  = time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	now = time.Date(2026, 11, 25, 14, 5, 0, 0, time.UTC)
)

func opts() Options {
	return Options{Campaign: "contoso-2026", CampaignName: "Contoso passkeys", DataReadAt: t0.Add(7 * 24 * time.Hour), Now: now}
}

// hostileDept is a department name that a spreadsheet would run from a CSV.
const hostileDept = `=HYPERLINK("https://evil.example","Open")`

// fixture is a ledger with one row in every state and four adoptions:
// p1 registered after its message (credited), p2 before it, p3 after it
// but seen only in data read before it (neither credited), and x1, whom
// no wave planned. p1 and p2 are in Sales, p3 in a department named like
// a formula, x1 in none.
func fixture(t testing.TB, extra ...ledger.Recipient) *ledger.Ledger {
	t.Helper()
	ctx := context.Background()
	l, err := ledger.Open(ctx, filepath.Join(t.TempDir(), "nudge.db"), ledger.Options{Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	run, err := l.StartRun(ctx, ledger.Run{Command: "send", Via: ledger.ViaSMTP, Waves: []string{"w1", "w2"}})
	if err != nil {
		t.Fatal(err)
	}
	rec := func(wave, id, audience string) ledger.Recipient {
		return ledger.Recipient{Key: ledger.Key{Wave: wave, PersonID: id}, UPN: id + "@contoso.test",
			Mail: id + "@contoso.test", Audience: audience, Locale: "en-GB"}
	}
	rs := []ledger.Recipient{rec("w1", "p1", "staff"), rec("w1", "p2", "staff"), rec("w1", "p3", "staff"),
		rec("w1", "p4", "staff"), rec("w1", "p5", "staff"), rec("w1", "p6", "staff"), rec("w1", "p7", "staff"),
		rec("w1", "a1", "admins"), rec("w2", "p1", "staff")}
	rs = append(rs, extra...)
	if _, err := l.Plan(ctx, run, rs); err != nil {
		t.Fatal(err)
	}
	sentAt := t0.Add(time.Hour)
	claim := func(wave, id string) ledger.Key {
		k := ledger.Key{Wave: wave, PersonID: id}
		if err := l.MarkSending(ctx, k, ledger.Claim{Run: run, MessageID: "<" + id + "@nudge.test>", Sender: "it@contoso.test", At: sentAt}); err != nil {
			t.Fatal(err)
		}
		return k
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"p1", "p2", "p3"} {
		must(l.MarkSent(ctx, claim("w1", id), sentAt))
	}
	must(l.MarkFailed(ctx, claim("w1", "p4"), sentAt, "550 5.1.1 mailbox unavailable", 550))
	must(l.MarkRetry(ctx, claim("w1", "p5"), sentAt, "421 4.7.0 try again later", 421))
	must(l.MarkSkipped(ctx, ledger.Key{Wave: "w1", PersonID: "p6"}, sentAt, "registered a passkey"))
	must(l.MarkUnknown(ctx, claim("w1", "p7"), sentAt, "connection reset", 0))
	must(l.MarkSent(ctx, claim("w1", "a1"), sentAt))
	must(l.FinishRun(ctx, run, t0.Add(2*time.Hour), ledger.RunCounts{Planned: 9, Sent: 4, Failed: 1, Unknown: 1, Skipped: 1, Retried: 1}))

	day := 24 * time.Hour
	for _, a := range []ledger.Adoption{
		{PersonID: "p1", Kind: "passkey", SeenAt: t0.Add(2 * day), DataReadAt: t0.Add(2 * day)},
		{PersonID: "p2", Kind: "fido2", SeenAt: t0.Add(-day), DataReadAt: t0.Add(-day)},
		{PersonID: "p3", Kind: "passkey", SeenAt: t0.Add(3 * day), DataReadAt: t0}, // a stale snapshot
		{PersonID: "x1", Kind: "security key", SeenAt: t0.Add(3*day + 2*time.Hour), DataReadAt: t0.Add(3*day + 2*time.Hour)},
	} {
		if _, err := l.RecordAdoption(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	must(l.RecordPeople(ctx, []ledger.Person{
		{ID: "p1", Name: "Person One", Department: "Sales"},
		{ID: "p2", Name: "Person Two", Department: "Sales"},
		{ID: "p3", Name: "Person Three", Department: hostileDept},
		{ID: "x1", Name: "Never Planned"},
	}))
	return l
}

func write(t *testing.T, l *ledger.Ledger, o Options) (string, *excelize.File) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tracking.xlsx")
	got, err := Write(context.Background(), l, path, o)
	if err != nil {
		t.Fatal(err)
	}
	if got != path {
		t.Fatalf("Write returned %q, want %q", got, path)
	}
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return path, f
}

// raw reads a cell's stored value (not the formatted one).
func raw(t *testing.T, f *excelize.File, sheet, cell string) string {
	t.Helper()
	v, err := f.GetCellValue(sheet, cell, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func row(t *testing.T, f *excelize.File, sheet string, n int) []string {
	t.Helper()
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	if n > len(rows) {
		t.Fatalf("%s has %d rows, want at least %d", sheet, len(rows), n)
	}
	return rows[n-1]
}

func eq(t *testing.T, what string, got, want any) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s = %q, want %q", what, fmt.Sprint(got), fmt.Sprint(want))
	}
}

func TestSheets(t *testing.T) {
	_, f := write(t, fixture(t), opts())
	eq(t, "sheets", f.GetSheetList(), []string{"Summary", "Recipients", "Adoption", "Errors", "Runs"})
	eq(t, "active sheet", f.GetActiveSheetIndex(), 0)
	for _, s := range f.GetSheetList() {
		if len(s) > 31 || strings.ContainsAny(s, `[]:*?/\`) {
			t.Errorf("sheet name %q is not valid in Excel", s)
		}
	}
	for _, c := range []struct {
		sheet string
		want  []any
	}{
		{"Recipients", recipientHeader},
		{"Errors", errorHeader},
		{"Runs", runHeader},
	} {
		eq(t, c.sheet+" header", row(t, f, c.sheet, 1), c.want)
	}
	eq(t, "Summary header", row(t, f, "Summary", 6), summaryHeader)
}

func TestSummary(t *testing.T) {
	_, f := write(t, fixture(t), opts())
	eq(t, "A1", row(t, f, "Summary", 1)[0], "Passkey campaign: Contoso passkeys")
	eq(t, "campaign", row(t, f, "Summary", 2), []string{"Campaign", "contoso-2026"})
	eq(t, "data read at", row(t, f, "Summary", 3), []string{"Data read at", "2026-05-11 09:00"})
	eq(t, "written at", row(t, f, "Summary", 4), []string{"Written at", "2026-11-25 14:05"})

	// Wave, Audience, Targeted, Sent, Failed, Unknown, Pending, In progress,
	// Skipped, Registered since, Conversion (raw), Chart label.
	for _, c := range []struct {
		row  int
		want []string
	}{
		// p1 is credited; p2 registered before its message and p3 was
		// seen in data read before it.
		{7, []string{"w1", "staff", "7", "3", "1", "1", "1", "0", "1", "1", "0.333333333333333", "w1 / staff"}},
		{8, []string{"w1", "admins", "1", "1", "0", "0", "0", "0", "0", "0", "0", "w1 / admins"}},
		// p1 was not sent in w2, so w2 gets nothing.
		{9, []string{"w2", "staff", "1", "0", "0", "0", "1", "0", "0", "0", "", "w2 / staff"}},
	} {
		var got []string
		for col := 1; col <= 12; col++ {
			got = append(got, raw(t, f, "Summary", cellName(col, c.row)))
		}
		eq(t, fmt.Sprint("Summary row ", c.row), got, c.want)
	}
	eq(t, "conversion shown", row(t, f, "Summary", 7)[10], "33.33%")
}

func TestRecipients(t *testing.T) {
	_, f := write(t, fixture(t), opts())
	const sh = "Recipients"
	// p1: sent, registered after.
	eq(t, "p1 row", row(t, f, sh, 2), []string{"w1", "staff", "p1@contoso.test", "p1@contoso.test", "Person One", "Sales", "en-GB",
		"sent", "1", "2026-05-04 10:00", "<p1@nudge.test>", "", "2026-05-06 09:00", "passkey", "yes", "2.0"})
	eq(t, "p1 days after message", raw(t, f, sh, "P2"), "1.95833333333333")
	// p2: registered before the message: shown, not credited.
	eq(t, "p2 row", row(t, f, sh, 3)[12:], []string{"2026-05-03 09:00", "fido2"})
	// p3: the department is text, however it starts.
	checkStringCell(t, f, sh, "F4", hostileDept)
	eq(t, "p3 row", row(t, f, sh, 4)[12:], []string{"2026-05-07 09:00", "passkey"})
	eq(t, "p4 error", row(t, f, sh, 5)[7:12], []string{"failed", "1", "", "<p4@nudge.test>", "550 5.1.1 mailbox unavailable"})
	eq(t, "p4 name", row(t, f, sh, 5)[4:6], []string{"", ""}) // no read recorded p4

	// Dates are numbers with a date-time format, not text.
	for _, cell := range []string{"J2", "M2"} {
		typ, err := f.GetCellType(sh, cell)
		if err != nil {
			t.Fatal(err)
		}
		if typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
			t.Errorf("%s type = %v, want a number", cell, typ)
		}
		styleID, err := f.GetCellStyle(sh, cell)
		if err != nil {
			t.Fatal(err)
		}
		style, err := f.GetStyle(styleID)
		if err != nil {
			t.Fatal(err)
		}
		if style.CustomNumFmt == nil || *style.CustomNumFmt != fmtDateTime {
			t.Errorf("%s number format = %v, want %q", cell, style.CustomNumFmt, fmtDateTime)
		}
	}
	v := raw(t, f, sh, "J2")
	var serial float64
	if _, err := fmt.Sscan(v, &serial); err != nil {
		t.Fatalf("J2 = %q, not a number", v)
	}
	if got, _ := excelize.ExcelDateToTime(serial, false); !got.Round(time.Second).Equal(t0.Add(time.Hour)) {
		t.Errorf("J2 = %v, want %v", got, t0.Add(time.Hour))
	}

	tables, err := f.GetTables(sh)
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) != 1 || tables[0].Name != tableRecipients || tables[0].Range != "A1:P10" {
		t.Errorf("tables = %+v, want %s over A1:P10", tables, tableRecipients)
	}
	panes, err := f.GetPanes(sh)
	if err != nil {
		t.Fatal(err)
	}
	if !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("panes = %+v, want the header row frozen", panes)
	}
}

func TestErrorsAndRuns(t *testing.T) {
	_, f := write(t, fixture(t), opts())
	rows, err := f.GetRows("Errors")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		errorHeader2(),
		{"w1", "p4@contoso.test", "failed", "1", "2026-05-04 10:00", "550 5.1.1 mailbox unavailable", "550"},
		{"w1", "p5@contoso.test", "pending", "1", "2026-05-04 10:00", "421 4.7.0 try again later", "421"},
		{"w1", "p7@contoso.test", "unknown", "1", "2026-05-04 10:00", "connection reset"},
	}
	eq(t, "Errors rows", rows, want)
	if tables, _ := f.GetTables("Errors"); len(tables) != 1 {
		t.Errorf("Errors tables = %+v, want one", tables)
	}
	eq(t, "Runs row", row(t, f, "Runs", 2), []string{"1", "send", "smtp", "w1, w2", "", "2026-05-04 09:00", "2026-05-04 11:00",
		"9", "4", "1", "1", "1", "1"})
}

func errorHeader2() []string {
	var s []string
	for _, h := range errorHeader {
		s = append(s, h.(string))
	}
	return s
}

// TestAdoption: per day, people with a passkey in all, per audience (of
// their latest send row) and per department (the largest first).
func TestAdoption(t *testing.T) {
	_, f := write(t, fixture(t), opts())
	rows, err := f.GetRows("Adoption")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"Day", "New with a passkey", "All people", "Audience: staff", "Audience: admins", "Audience: (not in a wave)",
			"Department: Sales", "Department: (not set)", "Department: " + hostileDept},
		{"2026-05-03", "1", "1", "1", "0", "0", "1", "0", "0"},
		{"2026-05-06", "1", "2", "2", "0", "0", "2", "0", "0"},
		{"2026-05-07", "2", "4", "3", "0", "1", "2", "1", "1"}, // p3 and x1
	}
	eq(t, "Adoption rows", rows, want)
	checkStringCell(t, f, "Adoption", "I1", "Department: "+hostileDept)
	for _, cell := range []string{"A2", "B2", "I4"} {
		if typ, _ := f.GetCellType("Adoption", cell); typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
			t.Errorf("Adoption!%s type = %v, want a number", cell, typ)
		}
	}
}

// TestAdoptionDepartments: beyond maxDepartments, the departments with
// the fewest people with a passkey share a column.
func TestAdoptionDepartments(t *testing.T) {
	ctx := context.Background()
	l, err := ledger.Open(ctx, filepath.Join(t.TempDir(), "nudge.db"), ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var people []ledger.Person
	for i := range maxDepartments + 3 {
		// Department d00 has the most people with a passkey, then d01, …
		for j := range maxDepartments + 3 - i {
			id := fmt.Sprintf("p%02d-%02d", i, j)
			people = append(people, ledger.Person{ID: id, Department: fmt.Sprintf("d%02d", i)})
			if _, err := l.RecordAdoption(ctx, ledger.Adoption{PersonID: id, Kind: "synced passkey", SeenAt: t0, DataReadAt: t0}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := l.RecordPeople(ctx, people); err != nil {
		t.Fatal(err)
	}
	_, f := write(t, l, Options{Campaign: "c", Now: now})
	header := row(t, f, "Adoption", 1)
	wantCols := 3 + 1 + maxDepartments + 1 // day, new, all; (not in a wave); the departments; the rest
	if len(header) != wantCols {
		t.Fatalf("Adoption header = %q, want %d columns", header, wantCols)
	}
	eq(t, "first department", header[4], "Department: d00")
	eq(t, "last own column", header[wantCols-2], fmt.Sprintf("Department: d%02d", maxDepartments-1))
	eq(t, "the rest", header[wantCols-1], "Department: (other departments)")
	eq(t, "the rest's count", row(t, f, "Adoption", 2)[wantCols-1], "6") // 3 + 2 + 1
}

// TestTimesInNowsLocation: the workbook shows times in o.Now's zone.
func TestTimesInNowsLocation(t *testing.T) {
	o := opts()
	o.Now = now.In(time.FixedZone("UTC+2", 2*3600))
	_, f := write(t, fixture(t), o)
	eq(t, "written at", row(t, f, "Summary", 4)[1], "2026-11-25 16:05")
	eq(t, "sent at", row(t, f, "Recipients", 2)[9], "2026-05-04 12:00")
}

func TestCharts(t *testing.T) {
	path, _ := write(t, fixture(t), opts())
	files := unzip(t, path)
	for name, want := range map[string]string{
		"xl/charts/chart1.xml": "<barChart>",  // Summary
		"xl/charts/chart2.xml": "<lineChart>", // Adoption by audience
		"xl/charts/chart3.xml": "<lineChart>", // Adoption by department
	} {
		if !strings.Contains(files[name], want) {
			t.Errorf("%s missing or without %s", name, want)
		}
	}
	var refs int
	for name, body := range files {
		if strings.HasPrefix(name, "xl/drawings/_rels/") {
			refs += strings.Count(body, "../charts/chart")
		}
	}
	if refs != 3 {
		t.Errorf("drawings refer to %d charts, want 3", refs)
	}
	for name, series := range map[string][]string{
		"xl/charts/chart1.xml": {"Summary!$D$7:$D$9", "Summary!$J$7:$J$9"},
		"xl/charts/chart2.xml": {"Adoption!$C$2:$C$4", "Adoption!$D$2:$D$4", "Adoption!$E$2:$E$4", "Adoption!$F$2:$F$4"},
		"xl/charts/chart3.xml": {"Adoption!$G$2:$G$4", "Adoption!$H$2:$H$4", "Adoption!$I$2:$I$4"},
	} {
		for _, s := range series {
			if !strings.Contains(files[name], s) {
				t.Errorf("%s does not plot %s", name, s)
			}
		}
	}
}

func unzip(t *testing.T, path string) map[string]string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	files := map[string]string{}
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		files[zf.Name] = string(b)
	}
	return files
}

func TestEmptyLedger(t *testing.T) {
	l, err := ledger.Open(context.Background(), filepath.Join(t.TempDir(), "nudge.db"), ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	path, f := write(t, l, Options{Campaign: "c", Now: now})
	eq(t, "sheets", f.GetSheetList(), []string{"Summary", "Recipients", "Adoption", "Errors", "Runs"})
	eq(t, "title", row(t, f, "Summary", 1)[0], "Passkey campaign: c")
	for name := range unzip(t, path) {
		if strings.HasPrefix(name, "xl/charts/") {
			t.Errorf("%s: no chart expected without data", name)
		}
	}
}

// TestStringCellsAreNotFormulas: directory values that a spreadsheet
// would run from a CSV are plain string cells here, shown as written.
func TestStringCellsAreNotFormulas(t *testing.T) {
	hostile := []string{
		`=HYPERLINK("https://evil.example","Open")`,
		`+cmd|' /C calc'!A0`,
		`-2+3`,
		`@SUM(1+1)`,
		"\t=1+1",
		"\r=1+1",
	}
	var extra []ledger.Recipient
	var people []ledger.Person
	for i, s := range hostile {
		id := fmt.Sprint("h", i)
		extra = append(extra, ledger.Recipient{Key: ledger.Key{Wave: "w9", PersonID: id},
			UPN: s, Mail: s, Audience: "staff", Locale: s})
		people = append(people, ledger.Person{ID: id, Name: s, Department: s})
	}
	l := fixture(t, extra...)
	if err := l.RecordPeople(context.Background(), people); err != nil {
		t.Fatal(err)
	}
	_, f := write(t, l, opts())
	for i, s := range hostile {
		r := 11 + i // after the header and the fixture's nine rows
		// UPN, mail, name, department, locale.
		for _, col := range []int{3, 4, 5, 6, 7} {
			cell := cellName(col, r)
			checkStringCell(t, f, "Recipients", cell, s)
		}
	}
}

func checkStringCell(t *testing.T, f *excelize.File, sheet, cell, want string) {
	t.Helper()
	formula, err := f.GetCellFormula(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	if formula != "" {
		t.Errorf("%s!%s has formula %q", sheet, cell, formula)
	}
	typ, err := f.GetCellType(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	if typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString {
		t.Errorf("%s!%s type = %v, want a string", sheet, cell, typ)
	}
	if got := raw(t, f, sheet, cell); got != want {
		t.Errorf("%s!%s = %q, want %q", sheet, cell, got, want)
	}
}

// TestHostileNamesRoundTrip: every display name of the shared test corpus
// comes back exactly from the Name cells, and from UPN and mail cells.
func TestHostileNamesRoundTrip(t *testing.T) {
	b, err := os.ReadFile("../testcorpus/hostile-names.json")
	if err != nil {
		t.Fatal(err)
	}
	var corpus []struct{ ID, DisplayName string }
	if err := json.Unmarshal(b, &corpus); err != nil {
		t.Fatal(err)
	}
	var extra []ledger.Recipient
	var people []ledger.Person
	for _, c := range corpus {
		extra = append(extra, ledger.Recipient{Key: ledger.Key{Wave: "w9", PersonID: c.ID},
			UPN: c.DisplayName, Mail: c.DisplayName, Audience: "staff"})
		people = append(people, ledger.Person{ID: c.ID, Name: c.DisplayName})
	}
	l := fixture(t, extra...)
	if err := l.RecordPeople(context.Background(), people); err != nil {
		t.Fatal(err)
	}
	_, f := write(t, l, opts())
	for i, c := range corpus {
		t.Run(c.ID, func(t *testing.T) {
			for _, col := range []int{3, 4, 5} { // UPN, mail, name
				checkStringCell(t, f, "Recipients", cellName(col, 11+i), c.DisplayName)
			}
		})
	}
}

// TestInterruptedWriteKeepsOldWorkbook cancels the context after two
// rows: the previous workbook is untouched and nothing is left behind.
func TestInterruptedWriteKeepsOldWorkbook(t *testing.T) {
	l := fixture(t)
	path, _ := write(t, l, opts())
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := opts()
	o.Now = now.Add(time.Hour) // would change Written at
	rows := 0
	o.afterRow = func(n int) {
		rows = n
		if n == 2 {
			cancel()
		}
	}
	got, err := Write(ctx, l, path, o)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Write = %q, %v; want context.Canceled", got, err)
	}
	if rows != 2 {
		t.Errorf("wrote %d rows after cancelling at 2", rows)
	}
	if b, _ := os.ReadFile(path); !bytes.Equal(b, old) {
		t.Errorf("the previous workbook changed")
	}
	onlyFiles(t, filepath.Dir(path), "tracking.xlsx")
}

func onlyFiles(t *testing.T, dir string, want ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	slices.Sort(got)
	slices.Sort(want)
	eq(t, "files in "+dir, got, want)
}

// TestLockedWorkbookFallsBack simulates Excel holding the workbook open:
// the rename over it fails with a permission error.
func TestLockedWorkbookFallsBack(t *testing.T) {
	l := fixture(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "tracking.xlsx")
	if err := os.WriteFile(path, []byte("open in Excel"), 0o600); err != nil {
		t.Fatal(err)
	}
	o := opts()
	o.rename = func(oldpath, newpath string) error {
		if newpath == path {
			return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: syscall.EACCES}
		}
		return os.Rename(oldpath, newpath)
	}
	got, err := Write(context.Background(), l, path, o)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("err = %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), "close tracking.xlsx in Excel") {
		t.Errorf("err = %q, want advice to close Excel", err)
	}
	want := filepath.Join(dir, "tracking (2026-11-25 1405).xlsx")
	if got != want {
		t.Fatalf("Write returned %q, want %q", got, want)
	}
	f, err := excelize.OpenFile(got)
	if err != nil {
		t.Fatalf("fallback workbook: %v", err)
	}
	defer f.Close()
	eq(t, "fallback sheets", f.GetSheetList(), []string{"Summary", "Recipients", "Adoption", "Errors", "Runs"})
	if b, _ := os.ReadFile(path); string(b) != "open in Excel" {
		t.Errorf("the locked workbook changed")
	}
	onlyFiles(t, dir, "tracking.xlsx", "tracking (2026-11-25 1405).xlsx")
}

// TestRenameFailureIsAnError: a rename that fails for another reason (the
// path is a folder) is an error, with no fallback and nothing left over.
func TestRenameFailureIsAnError(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tracking.xlsx")
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	got, err := Write(context.Background(), fixture(t), path, opts())
	if err == nil || errors.Is(err, ErrLocked) || got != "" {
		t.Fatalf("Write = %q, %v; want a plain error", got, err)
	}
	onlyFiles(t, dir, "tracking.xlsx")
}

func TestFallbackPath(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"out/c/tracking.xlsx", "out/c/tracking (2026-11-25 1405).xlsx"},
		{"tracking", "tracking (2026-11-25 1405)"},
	} {
		eq(t, c.in, fallbackPath(c.in, now), c.want)
	}
}

// TestStableOutput: with the clock injected, the same ledger gives the
// same parts. (Not the same bytes: excelize orders the zip entries and
// the content types' entries by map iteration.)
func TestStableOutput(t *testing.T) {
	l := fixture(t)
	p1, _ := write(t, l, opts())
	p2, _ := write(t, l, opts())
	a, b := unzip(t, p1), unzip(t, p2)
	const types = "[Content_Types].xml"
	for _, m := range []map[string]string{a, b} {
		parts := strings.Split(m[types], "><")
		slices.Sort(parts)
		m[types] = strings.Join(parts, "><")
	}
	if !maps.Equal(a, b) {
		for name := range a {
			if a[name] != b[name] {
				t.Errorf("%s differs between two writes of the same ledger", name)
			}
		}
	}
}

func TestBreakdown(t *testing.T) {
	o := opts()
	o.Breakdown = &Breakdown{By: "department", Groups: []Group{
		{Name: "Sales", People: 4, WithPasskey: 1},
		{Name: `=HYPERLINK("https://evil.example","Open")`, People: 2, WithPasskey: 2},
		{Name: "", People: 1},
	}}
	_, f := write(t, fixture(t), o)
	eq(t, "sheets", f.GetSheetList(), []string{"Summary", "Recipients", "Adoption", "Errors", "Runs", "By department"})
	eq(t, "header", row(t, f, "By department", 1), []string{"Department", "People", "With a passkey", "Adoption"})
	eq(t, "sales", row(t, f, "By department", 2), []string{"Sales", "4", "1", "25.00%"})
	eq(t, "not set", row(t, f, "By department", 4)[0], "(not set)")
	if formula, _ := f.GetCellFormula("By department", "A3"); formula != "" {
		t.Errorf("a department became a formula: %q", formula)
	}
	if v, _ := f.GetCellValue("By department", "A3"); v != `=HYPERLINK("https://evil.example","Open")` {
		t.Errorf("A3 = %q, want the department as written", v)
	}
}
