package handout

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/printpdf"
	"github.com/nudge-passkeys/nudge/templates"
)

// BenchmarkPersonalA6 prints 1,000 personal A6 inserts across 5 sites,
// browser start included, and reports inserts/s, the share of the time
// spent in the browser, and the peak resident memory of this process plus
// the browser's process tree (sampled from /proc every 20 ms, in one more
// pass that is not timed).
//
//	go test -run '^$' -bench PersonalA6 -benchtime 3x ./internal/handout
func BenchmarkPersonalA6(b *testing.B) {
	exe, err := printpdf.Find(os.Getenv("NUDGE_BROWSER"))
	if err != nil {
		b.Skipf("%v: %s", err, printpdf.InstallHint())
	}
	c := demoCampaign(b)
	sites := []string{"Paris", "London", "Berlin", "Pune", "Sydney"}
	var people []Member
	for i := range 1000 {
		people = append(people, Member{Audience: "ready", Person: &directory.Person{
			DisplayName: fmt.Sprintf("Person %04d Example", i), GivenName: "Person", Surname: fmt.Sprintf("%04d", i),
			UserPrincipalName: fmt.Sprintf("person%04d@contoso.example", i), OfficeLocation: sites[i%len(sites)],
			PreferredLanguage: []string{"en-GB", "fr-FR", "de-DE"}[i%3],
		}})
	}
	dir := b.TempDir()
	workers := min(runtime.NumCPU(), 2)
	if w, err := strconv.Atoi(os.Getenv("NUDGE_PRINT_WORKERS")); err == nil {
		workers = w
	}
	var inBrowser, total time.Duration
	perSite := map[string]time.Duration{}
	var peak peakRSS
	// run prints the 1,000 inserts once, and watches memory when peak is
	// not nil.
	run := func(peak *peakRSS) {
		start := time.Now()
		m := maker(b, c, templates.FS, Options{Layout: "a6"})
		batches, err := m.Personal(people)
		if err != nil {
			b.Fatal(err)
		}
		bs := time.Now()
		br, err := printpdf.Start(b.Context(), exe, printpdf.Options{})
		if err != nil {
			b.Fatal(err)
		}
		stop := func() {}
		if peak != nil {
			stop = peak.watch(br.PID())
		}
		docs := make([]printpdf.Doc, len(batches))
		for i, batch := range batches {
			docs[i] = printpdf.Doc{HTML: string(batch.HTML), Paper: printpdf.Paper{WidthMM: batch.Paper.W, HeightMM: batch.Paper.H}, Out: filepath.Join(dir, batch.Slug+".pdf")}
		}
		var mu sync.Mutex
		if err := br.PrintAll(b.Context(), docs, workers, func(i int, r printpdf.Result) {
			if peak == nil {
				mu.Lock()
				perSite[batches[i].Site] += r.Took
				mu.Unlock()
			}
		}); err != nil {
			b.Fatal(err)
		}
		stop()
		br.Close()
		if peak == nil {
			inBrowser += time.Since(bs)
			total += time.Since(start)
		}
	}
	for b.Loop() {
		run(nil)
	}
	// Memory is watched in a pass of its own: reading every browser
	// process's smaps_rollup 50 times a second costs the kernel seconds
	// of CPU, which would be counted as nudge's time above.
	run(&peak)
	n := float64(b.N)
	b.ReportMetric(1000*n/total.Seconds(), "inserts/s")
	b.ReportMetric(100*inBrowser.Seconds()/total.Seconds(), "%browser")
	b.ReportMetric(float64(peak.max())/(1<<20), "peak-MB")
	b.ReportMetric(float64(peak.self)/(1<<20), "nudge-MB")
	b.ReportMetric(float64(peak.tree)/(1<<20), "browser-MB")
	for _, s := range sites {
		b.ReportMetric(perSite[s].Seconds()/n, "s/"+s)
	}
}

// peakRSS samples the resident memory of this process plus a process
// tree.
type peakRSS struct {
	mu               sync.Mutex
	peak, self, tree int64 // the sum's peak, and each part's
}

func (p *peakRSS) max() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peak
}

func (p *peakRSS) watch(root int) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			self := rss(os.Getpid(), "VmRSS:")
			var browser int64
			for _, pid := range tree(root) {
				// Chromium's processes share much of their memory: count
				// each page once, split among its sharers (PSS).
				browser += pss(pid)
			}
			p.mu.Lock()
			p.peak = max(p.peak, self+browser)
			p.self = max(p.self, self)
			p.tree = max(p.tree, browser)
			p.mu.Unlock()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// tree returns root and its descendants, from /proc.
func tree(root int) []int {
	children := map[int][]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// The field after the parenthesised command name: state, ppid.
		s := string(stat)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 {
			ppid, _ := strconv.Atoi(f[1])
			children[ppid] = append(children[ppid], pid)
		}
	}
	out := []int{root}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// pss is a process's proportional set size in bytes.
func pss(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return rss(pid, "VmRSS:")
	}
	return field(string(data), "Pss:")
}

// rss is a field of a process's status in bytes, 0 when it is gone.
func rss(pid int, name string) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	return field(string(data), name)
}

func field(data, name string) int64 {
	for _, l := range strings.Split(data, "\n") {
		if v, ok := strings.CutPrefix(l, name); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
