package track

import (
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nudge-passkeys/nudge/internal/ledger"
)

// TestSecondReaderLibreOffice opens the workbook with an independent
// implementation, LibreOffice, exports every sheet as CSV, and compares
// with what excelize reads: the same sheets and rows, the text columns
// equal, and the formula-like directory values shown as written (a formula
// would show its result, or an error). CI installs LibreOffice; elsewhere
// the test skips without it unless NUDGE_REQUIRE_TOOLS is set.
func TestSecondReaderLibreOffice(t *testing.T) {
	hostile := []string{`=HYPERLINK("https://evil.example","Open")`, `+cmd|' /C calc'!A0`, `-2+3`, `@SUM(1+1)`}
	var extra []ledger.Recipient
	for i, s := range hostile {
		extra = append(extra, ledger.Recipient{Key: ledger.Key{Wave: "w9", PersonID: fmt.Sprint("h", i)}, UPN: s, Mail: s, Audience: "staff", Locale: "en"})
	}
	o := opts()
	o.Breakdown = &Breakdown{By: "department", Groups: []Group{{Name: hostile[0], People: 2, WithPasskey: 1}}}
	o.Readiness = hostileReport()
	path, f := write(t, fixture(t, extra...), o)

	dir := libreOfficeCSV(t, path)
	for _, sheet := range f.GetSheetList() {
		file := filepath.Join(dir, "tracking-"+sheet+".csv")
		data, err := os.ReadFile(file)
		if err != nil {
			t.Errorf("LibreOffice wrote no CSV for sheet %s: %v", sheet, err)
			continue
		}
		lo, err := csv.NewReader(strings.NewReader(string(data))).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		ours, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		if len(lo) < len(ours) {
			t.Errorf("%s: LibreOffice reads %d rows, excelize %d", sheet, len(lo), len(ours))
			continue
		}
		// The text columns: Recipients' wave, audience, UPN, mail, name,
		// department; the breakdown's group names; the Readiness sheet's
		// checks and profiles, Conditional Access policies and all.
		var cols []int
		switch sheet {
		case "Recipients":
			cols = []int{0, 1, 2, 3, 4, 5}
		case "By department":
			cols = []int{0}
		case "Readiness":
			cols = []int{0, 1, 2, 3, 5}
		case "Adoption":
			rows := min(len(ours), 1) // the header: audience and department names
			ours, lo = ours[:rows], lo[:rows]
			cols = []int{3, 4, 5, 6, 7, 8}
		default:
			continue
		}
		for r := range ours {
			if sheet == "Readiness" && r == 1 {
				continue // the read time: a date, which LibreOffice shows with seconds
			}
			for _, c := range cols {
				if c < len(ours[r]) && lo[r][c] != ours[r][c] {
					t.Errorf("%s row %d col %d: LibreOffice %q, excelize %q", sheet, r+1, c+1, lo[r][c], ours[r][c])
				}
			}
		}
	}
	rec, _ := os.ReadFile(filepath.Join(dir, "tracking-Recipients.csv"))
	for _, h := range append(hostile, hostileDept) {
		if !strings.Contains(string(rec), strings.ReplaceAll(h, `"`, `""`)) {
			t.Errorf("LibreOffice does not show %q as written in Recipients (was it run as a formula?)", h)
		}
	}
	rd, _ := os.ReadFile(filepath.Join(dir, "tracking-Readiness.csv"))
	for _, h := range []string{`=HYPERLINK(""https://evil.example"",""Group"")`, `+cmd|' /C calc'!A0`, `@SUM(1+1)`} {
		if !strings.Contains(string(rd), h) {
			t.Errorf("LibreOffice does not show %q as written in Readiness (was it run as a formula?)", h)
		}
	}
}

// libreOfficeCSV has LibreOffice export every sheet of the workbook at
// path as CSV, <name>-<sheet>.csv in the folder it returns. Without
// LibreOffice the test skips, unless NUDGE_REQUIRE_TOOLS is set.
func libreOfficeCSV(t *testing.T, path string) string {
	t.Helper()
	soffice, err := exec.LookPath("soffice")
	if err != nil {
		if os.Getenv("NUDGE_REQUIRE_TOOLS") != "" {
			t.Fatal("soffice not found (NUDGE_REQUIRE_TOOLS is set): apt-get install libreoffice-calc-nogui")
		}
		t.Skip("LibreOffice (soffice) not installed")
	}
	dir := t.TempDir()
	// Filter options: comma, double quote, UTF-8, from line 1, …, and -1:
	// every sheet to its own file (LibreOffice 7.2 and later).
	cmd := exec.Command(soffice, "--headless", "--norestore", "-env:UserInstallation=file://"+filepath.ToSlash(filepath.Join(dir, "profile")),
		"--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1", "--outdir", dir, path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("soffice: %v\n%s", err, out)
	}
	return dir
}
