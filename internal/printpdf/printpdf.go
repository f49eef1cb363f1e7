// Package printpdf prints HTML documents to PDF with a headless Chromium,
// Chrome or Edge, driven through the DevTools protocol by chromedp.
//
// Print policy: one browser for a whole run and one print per document
// (a batch of inserts is one HTML document, never a page per person); the
// sandbox stays on unless the process runs as root, where Chromium refuses
// to start with it; and a PDF is written to a temporary file beside its
// destination and renamed into place only when complete, so a browser that
// dies mid-print leaves no partial PDF behind.
//
// Fit policy: printed paper cannot scroll, so a box whose content is
// larger than the box is text cut off on paper. Before printing, the
// document is laid out for print and every element marked with FitAttr is
// measured; those whose content overflows are reported in Result, and the
// PDF is printed all the same: the caller warns, it does not fail.
package printpdf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdpio "github.com/chromedp/cdproto/io"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Paper is a page size in millimetres.
type Paper struct{ WidthMM, HeightMM float64 }

// Browser is a running headless browser.
type Browser struct {
	exe         string
	ctx         context.Context // the browser's first tab
	cancel      context.CancelFunc
	allocCancel context.CancelFunc
}

// Options tune Start.
type Options struct {
	// NoSandbox turns Chromium's sandbox off. Start sets it by itself when
	// the process runs as root; never set it otherwise.
	NoSandbox bool
	// Stderr receives the browser's own output; nil discards it.
	Stderr io.Writer
}

// disabledFeatures are the browser features a print run turns off. A
// name the browser does not know is ignored, so the list holds for
// Chromium, Chrome and Edge of any recent version.
var disabledFeatures = []string{
	// chromedp's own defaults, which this flag replaces. Site isolation
	// guards sites from one another; a print run loads only the document
	// it prints, fetches nothing, and needs no process per site.
	"site-per-process", "Translate", "BlinkGenPropertyTrees",
	// No spare renderer kept warm for a navigation that never comes.
	"SpareRendererForSitePerProcess",
	// Chromium 15x preloads the address bar's suggestion popups as web
	// pages even when headless: two renderers, some 75 MB and a second
	// of CPU at start, for a window nobody sees.
	"WebUIOmniboxPopup", "WebUIOmniboxAimPopup",
}

// Start starts the browser at exe.
func Start(ctx context.Context, exe string, opt Options) (*Browser, error) {
	opts := append([]chromedp.ExecAllocatorOption{}, chromedp.DefaultExecAllocatorOptions[:]...)
	opts = append(opts,
		chromedp.ExecPath(exe),
		// Print documents come from memory; nothing is fetched.
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("font-render-hinting", "none"),
		// A PDF is drawn as vectors: no GPU, and no software stand-in
		// for one (it costs some 40 MB and nothing else).
		chromedp.Flag("disable-software-rasterizer", true),
		chromedp.Flag("disable-gpu-compositing", true),
		// Fewer processes, each with its own heap and copies: the GPU
		// process and the network service (which fetches nothing here) run
		// inside the browser process, and no spare renderer is kept warm
		// for a navigation that never comes. Measured with the 1,000-insert
		// benchmark (README, Benchmarks).
		chromedp.Flag("in-process-gpu", true),
		chromedp.Flag("enable-features", "NetworkService,NetworkServiceInProcess2"),
		chromedp.Flag("disable-features", strings.Join(disabledFeatures, ",")),
	)
	if opt.NoSandbox || os.Geteuid() == 0 {
		// Chromium will not start as root with its sandbox on.
		opts = append(opts, chromedp.NoSandbox)
	}
	if opt.Stderr != nil {
		opts = append(opts, chromedp.CombinedOutput(opt.Stderr))
	}
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	// Starting the first tab starts the browser.
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		bcancel()
		acancel()
		return nil, fmt.Errorf("printpdf: starting %s: %w", exe, err)
	}
	return &Browser{exe: exe, ctx: bctx, cancel: bcancel, allocCancel: acancel}, nil
}

// PID is the browser's process id, or 0 when unknown.
func (b *Browser) PID() int {
	if c := chromedp.FromContext(b.ctx); c != nil && c.Browser != nil && c.Browser.Process() != nil {
		return c.Browser.Process().Pid
	}
	return 0
}

// Close stops the browser and removes its temporary profile.
func (b *Browser) Close() error {
	b.cancel()
	b.allocCancel()
	return nil
}

// ErrBrowserGone means the browser stopped (crashed or was killed) while
// printing.
var ErrBrowserGone = errors.New("the browser stopped while printing")

// FitAttr marks an element whose content must fit its box; its value
// names the element in Result.Overflow.
const FitAttr = "data-fit"

// Result is what Print found while printing a document.
type Result struct {
	// Overflow lists, in document order and once each, the FitAttr values
	// of the elements whose content is taller or wider than their box.
	Overflow []string
	// Took is how long the print took, layout and measuring included.
	Took time.Duration
}

// measureFit returns the FitAttr values of the overflowing elements. One
// pixel of slack absorbs rounding: a pixel is a quarter of a millimetre.
const measureFit = `(() => {
  const out = [], seen = new Set();
  for (const e of document.querySelectorAll('[` + FitAttr + `]')) {
    if (e.scrollHeight > e.clientHeight + 1 || e.scrollWidth > e.clientWidth + 1) {
      const v = e.getAttribute('` + FitAttr + `');
      if (!seen.has(v)) { seen.add(v); out.push(v); }
    }
  }
  return out;
})()`

// Print lays out html (a whole document whose CSS @page size matches
// paper) in a new tab, measures the boxes marked with FitAttr, and writes
// the document as one PDF to out, atomically.
func (b *Browser) Print(ctx context.Context, html string, paper Paper, out string) (res Result, err error) {
	start := time.Now()
	defer func() { res.Took = time.Since(start) }()
	if b.ctx.Err() != nil {
		return res, fmt.Errorf("printpdf: %s: %w", out, ErrBrowserGone)
	}
	tab, cancel := chromedp.NewContext(b.ctx)
	defer cancel()
	// The caller's context can stop the print; the tab's own context stops
	// with the browser.
	stop := context.AfterFunc(ctx, cancel)
	defer stop()

	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*.tmp")
	if err != nil {
		return res, fmt.Errorf("printpdf: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	err = chromedp.Do(tab,
		chromedp.Navigate("about:blank"),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			tree, err := chromedp.Call(ctx, page.GetFrameTree, cdp.Empty{})
			if err != nil {
				return err
			}
			_, err = chromedp.Call(ctx, page.SetDocumentContent, page.SetDocumentContentParams{
				FrameID: tree.FrameTree.Frame.ID,
				HTML:    html,
			})
			return err
		}),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			// Measure as it prints: print media, the same fonts and sizes.
			if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
				return err
			}
			over, err := chromedp.Evaluate[[]string](measureFit)(ctx, t)
			res.Overflow = over
			return err
		}),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			res, err := chromedp.Call(ctx, page.PrintToPDF, page.PrintToPDFParams{
				PrintBackground:   ptr(true),
				PreferCSSPageSize: ptr(true),
				// Tagging builds the accessibility tree of every page: it
				// doubles the time a batch of inserts takes to print.
				GenerateTaggedPDF:       ptr(false),
				GenerateDocumentOutline: ptr(false),
				PaperWidth:              paper.WidthMM / 25.4,
				PaperHeight:             paper.HeightMM / 25.4,
				MarginTop:               ptr(0.0),
				MarginBottom:            ptr(0.0),
				MarginLeft:              ptr(0.0),
				MarginRight:             ptr(0.0),
				// A stream: a print run of hundreds of pages is larger than
				// one DevTools message should be.
				TransferMode: page.PrintToPDFTransferModeReturnAsStream,
			})
			if err != nil {
				return err
			}
			return copyStream(ctx, tmp, res.Stream)
		}),
	)
	if err != nil {
		if b.ctx.Err() != nil || errors.Is(err, context.Canceled) && ctx.Err() == nil {
			return res, fmt.Errorf("printpdf: %s: %w (%v)", out, ErrBrowserGone, err)
		}
		return res, fmt.Errorf("printpdf: printing %s: %w", out, err)
	}
	if err = finish(tmp); err != nil {
		return res, fmt.Errorf("printpdf: %s: %w", out, err)
	}
	if err = os.Rename(tmp.Name(), out); err != nil {
		return res, fmt.Errorf("printpdf: %w", err)
	}
	return res, nil
}

// copyStream reads a DevTools stream into w.
func copyStream(ctx context.Context, w io.Writer, h cdpio.StreamHandle) error {
	defer chromedp.Call(context.WithoutCancel(ctx), cdpio.Close, cdpio.CloseParams{Handle: h}) //nolint:errcheck // the stream is read
	for {
		r, err := chromedp.Call(ctx, cdpio.Read, cdpio.ReadParams{Handle: h, Size: 4 << 20})
		if err != nil {
			return err
		}
		if _, err := w.Write(r.Data); err != nil {
			return err
		}
		if r.EOF {
			return nil
		}
	}
}

// finish checks that tmp holds a whole PDF and flushes it to disk.
func finish(tmp *os.File) error {
	end := make([]byte, 1024)
	st, err := tmp.Stat()
	if err != nil {
		return err
	}
	off := max(st.Size()-int64(len(end)), 0)
	n, _ := tmp.ReadAt(end, off)
	if !bytes.Contains(end[:n], []byte("%%EOF")) {
		return errors.New("the browser returned an incomplete PDF")
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	return tmp.Close()
}

func ptr[T any](v T) *T { return &v }

// Doc is one document to print.
type Doc struct {
	HTML  string
	Paper Paper
	Out   string
}

// PrintAll prints docs, each as one PDF, with up to workers tabs printing
// at once (one renderer process each, so a print run uses every core).
// done, when not nil, is called after each document is written, from the
// worker that printed it. On the first error the other prints are
// stopped, and no partial PDF is left; PDFs already written stay.
func (b *Browser) PrintAll(ctx context.Context, docs []Doc, workers int, done func(i int, r Result)) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range max(1, min(workers, len(docs))) {
		wg.Go(func() {
			for i := range next {
				r, err := b.Print(ctx, docs[i].HTML, docs[i].Paper, docs[i].Out)
				if err != nil {
					once.Do(func() { first = err; cancel(err) })
					continue
				}
				if done != nil {
					done(i, r)
				}
			}
		})
	}
feed:
	for i := range docs {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}
