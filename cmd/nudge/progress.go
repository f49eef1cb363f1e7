package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// meter shows the progress of a long job: bars on a terminal, and a plain
// line at most every plainEvery otherwise (a scheduled job's log should say
// how far it got, not carry a screenful of redraws).
type meter struct {
	mu    sync.Mutex
	p     *mpb.Progress
	bars  map[string]*mpb.Bar
	notes map[string]string
	order []string
	cur   map[string]int
	total map[string]int

	plain     io.Writer
	label     string
	now       func() time.Time
	lastPlain time.Time
}

const plainEvery = 10 * time.Second

// isTerminal reports whether f is an interactive terminal.
func isTerminal(f *os.File) bool {
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}

// newMeter starts a meter with one line per name, on e's standard error.
func (e *env) newMeter(label string, names ...string) *meter {
	// Progress is about the wall clock, even under a fixed NUDGE_NOW; the
	// first plain line comes after plainEvery, so a quick job prints none.
	m := &meter{bars: map[string]*mpb.Bar{}, notes: map[string]string{}, cur: map[string]int{}, total: map[string]int{}, order: names, label: label, now: time.Now}
	m.lastPlain = m.now()
	if f, ok := e.stderr.(*os.File); !ok || !isTerminal(f) {
		m.plain = e.stderr
		return m
	}
	m.p = mpb.New(mpb.WithOutput(e.stderr), mpb.WithWidth(40), mpb.WithRefreshRate(200*time.Millisecond))
	width := 0
	for _, n := range names {
		width = max(width, len(n))
	}
	for _, n := range names {
		name := n
		m.bars[name] = m.p.AddBar(0,
			mpb.PrependDecorators(decor.Name(fmt.Sprintf("%-*s", width, name)), decor.CountersNoUnit(" %d / %d", decor.WCSyncWidth)),
			mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
				m.mu.Lock()
				defer m.mu.Unlock()
				return m.notes[name]
			})),
		)
	}
	return m
}

// set records where one line stands; total 0 means unknown.
func (m *meter) set(name string, cur, total int, note string) {
	m.mu.Lock()
	m.cur[name], m.total[name], m.notes[name] = cur, total, note
	m.mu.Unlock()
	if b := m.bars[name]; b != nil {
		if total > 0 {
			b.SetTotal(int64(max(total, cur)), false)
		}
		b.SetCurrent(int64(cur))
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if now := m.now(); now.Sub(m.lastPlain) >= plainEvery {
		m.lastPlain = now
		m.printPlain()
	}
}

func (m *meter) printPlain() {
	var parts []string
	for _, n := range m.order {
		s := n + " " + humanInt(m.cur[n])
		if m.total[n] > 0 {
			s += " of " + humanInt(m.total[n])
		}
		if m.notes[n] != "" {
			s += " (" + strings.TrimSpace(m.notes[n]) + ")"
		}
		parts = append(parts, s)
	}
	fmt.Fprintf(m.plain, "%s: %s\n", m.label, strings.Join(parts, ", "))
}

// done completes every bar (or prints the last plain line).
func (m *meter) done() {
	if m.p == nil {
		return
	}
	for _, n := range m.order {
		b := m.bars[n]
		m.mu.Lock()
		cur := m.cur[n]
		m.mu.Unlock()
		b.SetTotal(int64(cur), true)
	}
	m.p.Wait()
}

// humanInt writes n with thousands separators: 100,000.
func humanInt(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + humanInt(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
