package track

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nudge-passkeys/nudge/internal/ledger"
)

// BenchmarkWrite100k writes the workbook of 100,000 recipients per wave,
// for one wave and for three: 90% sent, 5% failed, 5% still pending, and
// a tenth of the people registered a passkey since. B/op is what the Go
// heap allocated, not the peak; the stream writer keeps at most 16 MiB
// of a sheet in memory and the rest in a temporary file.
func BenchmarkWrite100k(b *testing.B) {
	for _, waves := range []int{1, 3} {
		b.Run(fmt.Sprint(waves, "wave"), func(b *testing.B) {
			l := benchLedger(b, waves, 100_000)
			path := filepath.Join(b.TempDir(), "tracking.xlsx")
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Write(context.Background(), l, path, opts()); err != nil {
					b.Fatal(err)
				}
			}
			if fi, err := os.Stat(path); err == nil {
				b.ReportMetric(float64(fi.Size()), "file-bytes")
			}
		})
	}
}

func benchLedger(b *testing.B, waves, people int) *ledger.Ledger {
	b.Helper()
	ctx := context.Background()
	l, err := ledger.Open(ctx, filepath.Join(b.TempDir(), "nudge.db"), ledger.Options{Now: func() time.Time { return t0 }})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
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
	for i := 0; i < people; i += 10 {
		id := fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)
		seen := t0.Add(time.Duration(i%40) * 24 * time.Hour)
		if _, err := l.RecordAdoption(ctx, ledger.Adoption{PersonID: id, Kind: "passkey", SeenAt: seen, DataReadAt: seen}); err != nil {
			b.Fatal(err)
		}
	}
	return l
}
