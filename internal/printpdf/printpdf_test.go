package printpdf

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/nudge-passkeys/nudge/internal/handout/pdfcheck"
)

// browser finds the machine's browser, skipping the test without one
// unless NUDGE_REQUIRE_TOOLS is set.
func browser(t *testing.T) string {
	t.Helper()
	exe, err := Find(os.Getenv("NUDGE_BROWSER"))
	if err != nil {
		if os.Getenv("NUDGE_REQUIRE_TOOLS") != "" {
			t.Fatalf("%v (NUDGE_REQUIRE_TOOLS is set): %s", err, InstallHint())
		}
		t.Skipf("%v: %s", err, InstallHint())
	}
	return exe
}

// started starts the machine's browser for the test.
func started(t *testing.T) *Browser {
	t.Helper()
	b, err := Start(t.Context(), browser(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func doc(pages int) string {
	var b strings.Builder
	b.WriteString(`<!doctype html><html><head><style>@page{size:105mm 148mm;margin:0}body{margin:0}.p{width:105mm;height:148mm;overflow:hidden}.p+.p{break-before:page}</style></head><body>`)
	for i := range pages {
		fmt.Fprintf(&b, `<div class="p"><p>Page %d &lt;b&gt;</p></div>`, i+1)
	}
	b.WriteString(`</body></html>`)
	return b.String()
}

func TestPrint(t *testing.T) {
	b := started(t)
	dir := t.TempDir()
	// Two documents through one browser: one print each.
	for _, n := range []int{1, 3} {
		out := filepath.Join(dir, fmt.Sprintf("doc%d.pdf", n))
		res, err := b.Print(t.Context(), doc(n), Paper{105, 148}, out)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Overflow) != 0 {
			t.Errorf("overflow %v in a document without fit boxes", res.Overflow)
		}
		pdfcheck.Check(t, out)
		sizes := pdfcheck.Pages(t, out)
		if len(sizes) != n {
			t.Fatalf("%s: %d pages, want %d", out, len(sizes), n)
		}
		for i, s := range sizes {
			if d := s.W - pdfcheck.MM(105); d < -1 || d > 1 {
				t.Errorf("page %d: width %.2f pt, want %.2f", i+1, s.W, pdfcheck.MM(105))
			}
			if d := s.H - pdfcheck.MM(148); d < -1 || d > 1 {
				t.Errorf("page %d: height %.2f pt, want %.2f", i+1, s.H, pdfcheck.MM(148))
			}
		}
		text := pdfcheck.Text(t, out)
		if got := text[n-1]; got != fmt.Sprintf("Page %d <b>", n) {
			t.Errorf("last page text = %q", got)
		}
	}
	assertOnly(t, dir, "doc1.pdf", "doc3.pdf")
}

// TestBrowserKilledMidPrint kills the browser while it prints a large
// document: the error must say so and no PDF, partial or temporary, may
// be left.
func TestBrowserKilledMidPrint(t *testing.T) {
	b := started(t)
	pid := b.PID()
	if pid == 0 {
		t.Fatal("no browser process id")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "site.pdf")
	go func() {
		time.Sleep(300 * time.Millisecond)
		syscall.Kill(pid, syscall.SIGKILL)
	}()
	_, err := b.Print(t.Context(), doc(3000), Paper{105, 148}, out)
	if err == nil {
		t.Fatal("Print succeeded although the browser was killed")
	}
	if !errors.Is(err, ErrBrowserGone) {
		t.Errorf("error = %v, want one saying the browser stopped", err)
	}
	assertOnly(t, dir)
	// The browser is gone: later prints fail at once, clearly.
	if _, err := b.Print(t.Context(), doc(1), Paper{105, 148}, out); !errors.Is(err, ErrBrowserGone) {
		t.Errorf("print after the browser died: %v", err)
	}
	assertOnly(t, dir)
}

// assertOnly fails unless dir holds exactly the named files.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	var got []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			got = append(got, filepath.Base(p))
		}
		return nil
	})
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("%s holds %q, want %q", dir, got, names)
	}
}

type fakeInfo struct {
	os.FileInfo
	dir bool
}

func (f fakeInfo) IsDir() bool { return f.dir }

func TestFind(t *testing.T) {
	machine := func(goos string, path map[string]string, files ...string) finder {
		return finder{
			goos: goos,
			lookPath: func(name string) (string, error) {
				if p, ok := path[name]; ok {
					return p, nil
				}
				return "", errors.New("not found")
			},
			stat: func(name string) (os.FileInfo, error) {
				for _, f := range files {
					if f == name {
						return fakeInfo{}, nil
					}
					if f == name+"/" {
						return fakeInfo{dir: true}, nil
					}
				}
				return nil, fs.ErrNotExist
			},
			getenv: func(k string) string {
				return map[string]string{"HOME": "/Users/ann", "ProgramFiles(x86)": `C:\Program Files (x86)`, "LocalAppData": `C:\Users\ann\AppData\Local`}[k]
			},
		}
	}
	for _, tc := range []struct {
		name     string
		f        finder
		explicit string
		want     string
		wantErr  string
	}{
		{name: "linux PATH first", f: machine("linux", map[string]string{"google-chrome": "/usr/local/bin/google-chrome"}, "/usr/bin/chromium"), want: "/usr/local/bin/google-chrome"},
		{name: "linux install location", f: machine("linux", nil, "/opt/microsoft/msedge/msedge"), want: "/opt/microsoft/msedge/msedge"},
		{name: "macOS user Applications", f: machine("darwin", nil, "/Users/ann/Applications/Chromium.app/Contents/MacOS/Chromium"), want: "/Users/ann/Applications/Chromium.app/Contents/MacOS/Chromium"},
		{name: "windows edge", f: machine("windows", nil, filepath.Join(`C:\Program Files (x86)`, `Microsoft\Edge\Application\msedge.exe`)), want: filepath.Join(`C:\Program Files (x86)`, `Microsoft\Edge\Application\msedge.exe`)},
		{name: "explicit path", f: machine("linux", map[string]string{"chromium": "/usr/bin/chromium"}, "/srv/chrome"), explicit: "/srv/chrome", want: "/srv/chrome"},
		{name: "explicit name on PATH", f: machine("linux", map[string]string{"chromium": "/usr/bin/chromium"}), explicit: "chromium", want: "/usr/bin/chromium"},
		{name: "explicit missing", f: machine("linux", map[string]string{"chromium": "/usr/bin/chromium"}), explicit: "/nope/chrome", wantErr: "browser /nope/chrome"},
		{name: "explicit folder", f: machine("darwin", nil, "/Applications/Chromium.app/"), explicit: "/Applications/Chromium.app", wantErr: "is a folder"},
		{name: "none", f: machine("linux", nil), wantErr: ErrNotFound.Error()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.f.find(tc.explicit)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("find = %q, %v; want error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("find = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestInstallHint(t *testing.T) {
	for goos, want := range map[string]string{"linux": "apt-get install chromium", "darwin": "Google Chrome", "windows": "msedge.exe"} {
		if got := (finder{goos: goos}).installHint(); !strings.Contains(got, want) || !strings.Contains(got, "--browser") {
			t.Errorf("%s: hint %q does not mention %q and --browser", goos, got, want)
		}
	}
}

// TestStartMissingBrowser: a browser path that does not run is a clear
// error, not a hang.
func TestStartMissingBrowser(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	_, err := Start(ctx, filepath.Join(t.TempDir(), "no-such-browser"), Options{})
	if err == nil || !strings.Contains(err.Error(), "no-such-browser") {
		t.Fatalf("Start = %v, want an error naming the program", err)
	}
}

// TestPrintAll prints several documents at once through one browser; a
// document that cannot be written fails the run and leaves nothing behind.
func TestPrintAll(t *testing.T) {
	b := started(t)
	dir := t.TempDir()
	var docs []Doc
	for i := range 3 {
		docs = append(docs, Doc{HTML: doc(i + 1), Paper: Paper{105, 148}, Out: filepath.Join(dir, fmt.Sprintf("d%d.pdf", i))})
	}
	var mu sync.Mutex
	var got []int
	if err := b.PrintAll(t.Context(), docs, 2, func(i int, _ Result) { mu.Lock(); got = append(got, i); mu.Unlock() }); err != nil {
		t.Fatal(err)
	}
	sort.Ints(got)
	if fmt.Sprint(got) != "[0 1 2]" {
		t.Errorf("done for %v, want [0 1 2]", got)
	}
	for i, d := range docs {
		if n := len(pdfcheck.Pages(t, d.Out)); n != i+1 {
			t.Errorf("%s: %d pages, want %d", d.Out, n, i+1)
		}
	}
	bad := []Doc{{HTML: doc(1), Paper: Paper{105, 148}, Out: filepath.Join(dir, "missing", "x.pdf")}}
	if err := b.PrintAll(t.Context(), bad, 2, nil); err == nil {
		t.Error("printing into a missing folder succeeded")
	}
	assertOnly(t, dir, "d0.pdf", "d1.pdf", "d2.pdf")
}

// TestPrintOverflow: boxes whose content does not fit are reported by
// their FitAttr value, once each and in document order, in print layout;
// the PDF is written all the same, and pdftotext confirms that what was
// reported is really cut off on paper while what was not is whole.
func TestPrintOverflow(t *testing.T) {
	b := started(t)
	out := filepath.Join(t.TempDir(), "fit.pdf")
	long := strings.Repeat("word ", 400) + "LASTWORD"
	html := `<!doctype html><html><head><style>@page{size:105mm 148mm;margin:0}body{margin:0;font:10pt sans-serif}
.p{width:105mm;height:148mm;overflow:hidden}.p+.p{break-before:page}
.box{width:80mm;height:30mm;overflow:hidden}
@media screen{.box{height:300mm}}</style></head><body>
<div class="p"><div class="box" data-fit="fits">short text ENDFITS</div></div>
<div class="p"><div class="box" data-fit="tall">` + long + `</div><div class="box" data-fit="tall">` + long + `</div></div>
<div class="p"><div class="box" data-fit="wide">` + strings.Repeat("W", 200) + `</div></div>
</body></html>`
	res, err := b.Print(t.Context(), html, Paper{105, 148}, out)
	if err != nil {
		t.Fatal(err)
	}
	// The screen style would make every box tall enough: the measure
	// must be taken in print layout.
	if fmt.Sprint(res.Overflow) != "[tall wide]" {
		t.Errorf("overflow = %v, want [tall wide]", res.Overflow)
	}
	text := pdfcheck.Text(t, out)
	if len(text) != 3 || !strings.Contains(text[0], "ENDFITS") || strings.Contains(text[1], "LASTWORD") {
		t.Errorf("the PDF does not show the first box whole and the second cut off: %q", text)
	}
}

// TestNoHiddenPages is the complaint "printing 1,000 inserts takes 600 MB":
// Chromium 15x loads its address bar's popups as web pages even when
// headless, each in a renderer of its own. The print browser must hold
// only the tabs it prints in.
func TestNoHiddenPages(t *testing.T) {
	b := started(t)
	if _, err := b.Print(t.Context(), doc(1), Paper{105, 148}, filepath.Join(t.TempDir(), "a.pdf")); err != nil {
		t.Fatal(err)
	}
	// The popups are made with the browser's window, before the first
	// tab has loaded; a print later they would all be listed.
	infos, err := chromedp.Targets(b.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var pages int
	for _, i := range infos {
		switch {
		case i.Type == "page" && i.URL == "about:blank":
			pages++
		case i.Type == "page" || i.Type == "browser_ui" || i.Type == "background_page" || i.Type == "service_worker" || i.Type == "other":
			t.Errorf("the print browser loaded %s %q (%s)", i.Type, i.URL, i.Title)
		}
	}
	if pages != 1 {
		t.Errorf("%d blank tabs open after printing, want only the first one", pages)
	}
}
