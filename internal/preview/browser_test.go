package preview

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// chromium finds the browser for the browser tests: skipped without one,
// unless NUDGE_REQUIRE_TOOLS says the environment must have it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("NUDGE_REQUIRE_TOOLS") != "" {
		t.Fatal("chromium not found and NUDGE_REQUIRE_TOOLS is set (apt-get install chromium)")
	}
	t.Skip("chromium not found: browser tests skipped")
	return ""
}

// artifacts is where screenshots go: $NUDGE_ARTIFACTS when set.
func artifacts(t *testing.T) string {
	if d := os.Getenv("NUDGE_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// browser is one headless Chromium tab with the dialogs it has seen.
type browser struct {
	ctx     context.Context
	mu      sync.Mutex
	dialogs []string
}

func newBrowser(t *testing.T) *browser {
	bin := chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.WindowSize(1600, 1100))
	if os.Geteuid() == 0 {
		// Chromium refuses to sandbox itself as root (CI containers).
		opts = append(opts, chromedp.NoSandbox)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	b := &browser{ctx: ctx}
	// The first call starts the browser: no timeout on it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	opening := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for d, err := range opening {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.dialogs = append(b.dialogs, d.Message)
			b.mu.Unlock()
			// A dialog stalls the page until answered.
			go chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
				_, err := cdp.Call(ctx, t, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
				return err
			}))
		}
	}()
	return b
}

func (b *browser) seen() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.dialogs...)
}

func (b *browser) do(t *testing.T, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

func eval[T any](t *testing.T, b *browser, js string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// waitFor evaluates js until it is true; the page may reload meanwhile.
func waitFor(t *testing.T, b *browser, js string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		cancel()
		if err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("not true within %s: %s", within, js)
}

// blankness says why a screenshot looks blank, or "" when it does not:
// nearly every pixel one colour.
func blankness(data []byte) (string, error) {
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return "", err
	}
	bounds := img.Bounds()
	counts := map[[4]uint32]int{}
	for y := bounds.Min.Y; y < bounds.Max.Y; y += 2 {
		for x := bounds.Min.X; x < bounds.Max.X; x += 2 {
			r, g, b, a := img.At(x, y).RGBA()
			counts[[4]uint32{r, g, b, a}]++
		}
	}
	total, most := 0, 0
	for _, n := range counts {
		total += n
		most = max(most, n)
	}
	// The border alone is under 1% of a frame; an email is far more.
	if other := float64(total-most) / float64(total); other < 0.02 {
		return fmt.Sprintf("%.1f%% of pixels differ from the main colour, %d colours", 100*other, len(counts)), nil
	}
	return "", nil
}

// screenshot takes a screenshot of the element sel, again while it looks
// blank (a frame may paint after the page's load event), for up to 5 s.
func screenshot(t *testing.T, b *browser, sel string, width int) []byte {
	t.Helper()
	// Frames out of view may not paint (a frame in another process,
	// such as a sandboxed page, is throttled).
	b.do(t, chromedp.Evaluate[chromedp.Void](`document.querySelector(`+jsString(sel)+`).scrollIntoView()`))
	deadline := time.Now().Add(5 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		shot, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(sel)))
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		why, err := blankness(shot)
		if err != nil {
			t.Fatalf("%s: %v", sel, err)
		}
		cfg, _ := png.DecodeConfig(bytes.NewReader(shot))
		if cfg.Width < width || cfg.Width > width+4 {
			t.Errorf("%s is %d px wide, want about %d", sel, cfg.Width, width)
		}
		if why == "" {
			return shot
		}
		if time.Now().After(deadline) {
			t.Errorf("%s looks blank: %s", sel, why)
			return shot
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func saveImage(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	if _, err := png.Decode(bytes.NewReader(data)); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBrowser(t *testing.T) {
	b := newBrowser(t)
	f := newFixture(t, withProof)
	out := artifacts(t)
	// Sign in as the printed address does: the cookie serves every step.
	b.do(t, chromedp.Navigate(f.srv.URL()))

	t.Run("index", func(t *testing.T) {
		b.do(t, chromedp.Navigate(f.srv.URL()), chromedp.WaitVisible(chromedp.CSS("table.index")))
		if q := eval[string](t, b, `location.search`); q != "" {
			t.Errorf("the address still has %q: the token should be gone from it", q)
		}
		if n := eval[int](t, b, `document.querySelectorAll("table.index tbody tr").length`); n != 15 {
			t.Errorf("%d rows, want 15", n)
		}
		if n := eval[int](t, b, `document.querySelectorAll("a.piece").length`); n != 44 {
			t.Errorf("%d piece links, want 44: a guide and a handout for 15 rows, an email for 14 (one translation is missing)", n)
		}
		shot, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		saveImage(t, out, "preview-index.png", shot)
	})

	t.Run("piece at both widths", func(t *testing.T) {
		b.do(t, chromedp.Navigate(f.base+"/piece/email/announce/ready/en"), chromedp.WaitVisible(chromedp.CSS("#frame-mobile")))
		widths := eval[[]int](t, b, `[...document.querySelectorAll("iframe")].map(f => f.clientWidth)`)
		if fmt.Sprint(widths) != "[600 375]" {
			t.Errorf("iframe widths %v, want [600 375]", widths)
		}
		if s := eval[string](t, b, `document.querySelector("#headers").textContent`); !strings.Contains(s, "Ann Archer, sign in without a password") {
			t.Errorf("headers %q lack the subject", s)
		}
		for _, fr := range []struct {
			id    string
			width int
		}{{"desktop", 600}, {"mobile", 375}} {
			shot := screenshot(t, b, "#frame-"+fr.id, fr.width)
			saveImage(t, out, "preview-email-"+fr.id+".png", shot)
		}
		shot, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		saveImage(t, out, "preview-piece.png", shot)
	})

	t.Run("guide", func(t *testing.T) {
		b.do(t, chromedp.Navigate(f.base+"/piece/guide/announce/ready/de"), chromedp.WaitVisible(chromedp.CSS("#frame-mobile")))
		for _, fr := range []struct {
			id    string
			width int
		}{{"desktop", guideWidth}, {"mobile", mobileWidth}} {
			saveImage(t, out, "preview-guide-"+fr.id+".png", screenshot(t, b, "#frame-"+fr.id, fr.width))
		}
	})

	t.Run("hostile names stay text", func(t *testing.T) {
		for _, who := range []string{"hostile", "sample:html-img", "sample:html-script", "sample:markdown-link"} {
			b.do(t, chromedp.Navigate(f.base+"/piece/email/announce/ready/en?person="+who), chromedp.WaitVisible(chromedp.CSS("#frame-desktop")))
			if n := eval[int](t, b, `document.querySelectorAll('img[src="x"], img[onerror], [onerror]').length`); n != 0 {
				t.Errorf("%s: %d injected elements in the page", who, n)
			}
			if s := eval[[]string](t, b, `[...document.scripts].map(s => s.getAttribute("src") || "inline")`); fmt.Sprint(s) != "[/assets/preview.js]" {
				t.Errorf("%s: scripts %v, want only the preview's own", who, s)
			}
			// The email on its own, where the DOM can be inspected.
			b.do(t, chromedp.Navigate(f.base+"/piece/email/announce/ready/en/html?person="+who))
			if n := eval[int](t, b, `document.querySelectorAll('script, img[src="x"], [onerror], a[href^="https://evil"]').length`); n != 0 {
				t.Errorf("%s: %d injected elements in the email", who, n)
			}
		}
		b.do(t, chromedp.Navigate(f.base+"/piece/email/announce/ready/en?person=hostile"), chromedp.WaitVisible(chromedp.CSS("#headers")))
		if s := eval[string](t, b, `document.querySelector("#headers").textContent`); !strings.Contains(s, hostileName+", sign in without a password") {
			t.Errorf("the subject should show the hostile name as text, got %q", s)
		}
		b.do(t, chromedp.Navigate(f.base+"/piece/email/announce/ready/en/html?person=hostile"))
		if !eval[bool](t, b, `document.body.textContent.includes(`+jsString(hostileName)+`)`) {
			t.Error("the email should show the hostile name as text")
		}
		time.Sleep(100 * time.Millisecond) // an onerror handler would have run by now
		if d := b.seen(); len(d) != 0 {
			t.Fatalf("dialogs opened: %q", d)
		}
		// The dialog listener works: a real alert on the (unsandboxed)
		// preview page is seen.
		b.do(t, chromedp.Navigate(f.base+"/"), chromedp.Evaluate[chromedp.Void](`setTimeout(() => alert("control"), 0)`))
		deadline := time.Now().Add(3 * time.Second)
		for len(b.seen()) == 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if d := b.seen(); len(d) != 1 || d[0] != "control" {
			t.Errorf("dialogs %q, want the control alert only", d)
		}
	})

	t.Run("live reload", func(t *testing.T) {
		b.do(t, chromedp.Navigate(f.base+"/piece/email/announce/ready/en"), chromedp.WaitVisible(chromedp.CSS("#headers")))
		// Wait for the event stream, then mark this page: a reload
		// clears the mark.
		waitFor(t, b, `document.documentElement.dataset.live === "on"`, 3*time.Second)
		b.do(t, chromedp.Evaluate[chromedp.Void](`window.notReloaded = true`))
		data, err := os.ReadFile(f.template("en", "announce"))
		if err != nil {
			t.Fatal(err)
		}
		f.write(t, f.template("en", "announce"), strings.Replace(string(data), "sign in without a password", "passkeys are here", 1))
		waitFor(t, b, `!window.notReloaded && document.querySelector("#headers") !== null && document.querySelector("#headers").textContent.includes("Ann Archer, passkeys are here")`, 5*time.Second)

		// A broken template shows its error in the page.
		f.write(t, f.template("en", "announce"), "---\nkind: email\nsubject: Hi {{ .Person.Nmae }}\n---\nHello\n")
		waitFor(t, b, `document.querySelector("#render-error") !== null && document.querySelector("#render-error").textContent.includes("Nmae")`, 5*time.Second)
	})
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r > 0x7e:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
