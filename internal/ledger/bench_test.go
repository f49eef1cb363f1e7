package ledger

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkPlan100k plans 100,000 recipients in one call: "new" into a
// fresh wave each iteration (of the same, growing ledger, as successive
// waves would be), "replan" the same wave again, as every `nudge run` of a
// scheduler does.
func BenchmarkPlan100k(b *testing.B) {
	ctx := context.Background()
	l := openTest(b, Options{})
	run := startRun(b, l)
	rs := make([]Recipient, 100_000)
	for i := range rs {
		id := fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)
		rs[i] = Recipient{Key: Key{PersonID: id}, UPN: id + "@contoso.test", Mail: id + "@contoso.test",
			Audience: "staff", Locale: "en-GB"}
	}
	setWave := func(w string) {
		for i := range rs {
			rs[i].Wave = w
		}
	}
	plan := func(b *testing.B) {
		if _, err := l.Plan(ctx, run, rs); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("new", func(b *testing.B) {
		wave := 0
		for b.Loop() {
			wave++
			setWave(fmt.Sprint("w", wave))
			plan(b)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(rs)), "ns/recipient")
	})
	b.Run("replan", func(b *testing.B) {
		setWave("w1")
		plan(b)
		for b.Loop() {
			plan(b)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(rs)), "ns/recipient")
	})
}

// BenchmarkSendCycle is the ledger's share of sending one message, on a
// WAL file: "two-commits" is MarkSending, committed, then MarkSent;
// "one-commit" is what a send does (MarkSentThenSending: the last
// message's acceptance and this message's claim in one transaction).
func BenchmarkSendCycle(b *testing.B) {
	ctx := context.Background()
	setup := func(b *testing.B) (*Ledger, int64, []Recipient) {
		l := openTest(b, Options{Lock: true})
		run := startRun(b, l)
		rs := make([]Recipient, b.N)
		for i := range rs {
			rs[i] = Recipient{Key: Key{"w1", fmt.Sprint("p", i)}, Mail: fmt.Sprint("p", i, "@contoso.test")}
		}
		if _, err := l.Plan(ctx, run, rs); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		return l, run, rs
	}
	b.Run("two-commits", func(b *testing.B) {
		l, run, rs := setup(b)
		for i := range b.N {
			k := rs[i].Key
			if err := l.MarkSending(ctx, k, claim(run, k)); err != nil {
				b.Fatal(err)
			}
			if err := l.MarkSent(ctx, k, t0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("one-commit", func(b *testing.B) {
		l, run, rs := setup(b)
		var last []Accepted
		for i := range b.N {
			k := rs[i].Key
			if err := l.MarkSentThenSending(ctx, last, k, claim(run, k)); err != nil {
				b.Fatal(err)
			}
			last = append(last[:0], Accepted{Key: k, At: t0})
		}
		if err := l.MarkSent(ctx, last[0].Key, t0); err != nil {
			b.Fatal(err)
		}
	})
}
