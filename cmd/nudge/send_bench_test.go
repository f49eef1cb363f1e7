package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/nudge-passkeys/nudge/internal/deliver/smtp/smtptest"
)

// BenchmarkSendWave is nudge's whole send path as a user runs it: read the
// directory, plan the wave in the ledger, render each message, pace (caps
// set far above what loopback reaches), claim it in the ledger, hand it to
// the SMTP server over one connection, record it sent. One op is a wave of
// 1,000 people to a loopback server.
func BenchmarkSendWave(b *testing.B) {
	const people = 1000
	srv := smtptest.Start(b, smtptest.Options{Discard: true})
	base := b.TempDir()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		dir := filepath.Join(base, fmt.Sprint(i))
		t := &testing.T{}
		sendFixture(t, dir, people, srv.Host(), srv.Port(), 60_000_000)
		b.StartTimer()
		out, errOut, code := nudge(t, dir, "send", "announce", "--via", "smtp", "--yes")
		if code != exitOK {
			b.Fatalf("send: exit %d\n%s\n%s", code, out, errOut)
		}
		b.StopTimer()
		os.RemoveAll(dir)
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N*people)/b.Elapsed().Seconds(), "msgs/s")
}
