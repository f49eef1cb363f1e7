package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkSchedule is nudge schedule as a user runs it on 100,000 people
// and four scheduled waves: read the directory once per wave, sort people
// into the audiences, and play every message through the daily caps (9,000
// a day from one mailbox: the timeline spans about seven weeks).
func BenchmarkSchedule(b *testing.B) {
	const people = 100_000
	dir := b.TempDir()
	t := &testing.T{}
	scheduleFixture(t, dir, people, "127.0.0.1", 2525, 9000)
	rewrite(t, filepath.Join(dir, "campaign.yaml"), [][2]string{{"    template: thanks\n", `    template: thanks
    send_at: 2027-01-20T09:00
  - id: onboard
    audiences: [ready]
    template: onboard
    send_at: 2027-01-25T09:00
`}})
	b.Setenv("NUDGE_NOW", "2027-01-04T07:00:00Z")
	b.ResetTimer()
	for range b.N {
		out, errOut, code := nudge(t, dir, "schedule")
		if code != exitOK || strings.Count(out, "\n") != 6 {
			b.Fatalf("schedule: exit %d\n%s\n%s", code, out, errOut)
		}
	}
}
