package track

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nudge-passkeys/nudge/internal/ledger"
)

// BenchmarkWrite100k writes the workbook of 100,000 recipients per wave,
// for one wave and for three: 90% sent, 5% failed, 5% still pending, and
// a tenth of the people registered a passkey since, in 40 departments,
// with a readiness report. B/op is what the Go heap allocated, not the
// peak; the stream writer keeps at most 16 MiB of a sheet in memory and
// the rest in a temporary file.
//
// peak-RSS-MB is the process's peak resident memory while writing (Linux
// only): the peak is reset once the ledger is built. For the peak of a
// whole process, as nudge track would run, set NUDGE_BENCH_DIR to a
// folder: the ledgers are built there once and reused, so that a second
// run under /usr/bin/time -v does nothing but open them and write.
func BenchmarkWrite100k(b *testing.B) {
	for _, waves := range []int{1, 3} {
		b.Run(fmt.Sprint(waves, "wave"), func(b *testing.B) {
			l := benchLedger(b, waves, 100_000)
			path := filepath.Join(b.TempDir(), "tracking.xlsx")
			o := opts()
			o.Readiness = hostileReport()
			resetPeakRSS()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Write(context.Background(), l, path, o); err != nil {
					b.Fatal(err)
				}
			}
			if fi, err := os.Stat(path); err == nil {
				b.ReportMetric(float64(fi.Size()), "file-bytes")
			}
			if kb := peakRSS(); kb > 0 {
				b.ReportMetric(float64(kb)/1024, "peak-RSS-MB")
			}
		})
	}
}

// resetPeakRSS returns freed memory to the system and resets the peak
// resident set size the kernel reports as VmHWM.
func resetPeakRSS() {
	runtime.GC()
	debug.FreeOSMemory()
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // Linux 4.0 and later; elsewhere nothing
}

// peakRSS is VmHWM in KiB, or 0 where there is none.
func peakRSS() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return kb
		}
	}
	return 0
}

func benchLedger(b *testing.B, waves, people int) *ledger.Ledger {
	b.Helper()
	ctx := context.Background()
	dir := os.Getenv("NUDGE_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	path := filepath.Join(dir, fmt.Sprintf("nudge-%dx%d.db", waves, people))
	_, err := os.Stat(path)
	built := err == nil
	l, err := ledger.Open(ctx, path, ledger.Options{Now: func() time.Time { return t0 }})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	if built {
		return l
	}
	run, err := l.StartRun(ctx, ledger.Run{Command: "send", Via: ledger.ViaGraph})
	if err != nil {
		b.Fatal(err)
	}
	for w := range waves {
		wave := fmt.Sprint("w", w+1)
		sentAt := t0.Add(time.Duration(w) * 7 * 24 * time.Hour)
		rs := make([]ledger.Recipient, people)
		for i := range rs {
			id := fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)
			rs[i] = ledger.Recipient{Key: ledger.Key{Wave: wave, PersonID: id}, UPN: id + "@contoso.test",
				Mail: id + "@contoso.test", Audience: []string{"staff", "admins", "students"}[i%3], Locale: "en-GB"}
		}
		if _, err := l.Plan(ctx, run, rs); err != nil {
			b.Fatal(err)
		}
		for i, r := range rs {
			if i%20 == 19 {
				continue // pending
			}
			if err := l.MarkSending(ctx, r.Key, ledger.Claim{Run: run, MessageID: "<" + r.PersonID + "." + wave + "@nudge.test>",
				Sender: "it@contoso.test", At: sentAt}); err != nil {
				b.Fatal(err)
			}
			if i%20 == 18 {
				err = l.MarkFailed(ctx, r.Key, sentAt, "550 5.1.1 <"+r.Mail+">: Recipient address rejected", 550)
			} else {
				err = l.MarkSent(ctx, r.Key, sentAt)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	ps := make([]ledger.Person, people)
	for i := range ps {
		id := fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)
		ps[i] = ledger.Person{ID: id, Name: fmt.Sprint("Person ", i), Department: fmt.Sprint("Department ", i%40)}
	}
	if err := l.RecordPeople(ctx, ps); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < people; i += 10 {
		id := fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)
		seen := t0.Add(time.Duration(i%40) * 24 * time.Hour)
		if _, err := l.RecordAdoption(ctx, ledger.Adoption{PersonID: id, Kind: "passkey", SeenAt: seen, DataReadAt: seen}); err != nil {
			b.Fatal(err)
		}
	}
	return l
}
