package smtp_test

import (
	"context"
	"fmt"
	"iter"
	"sync"
	"testing"
	"time"

	"github.com/nudge-passkeys/nudge/internal/deliver"
	"github.com/nudge-passkeys/nudge/internal/deliver/smtp"
	"github.com/nudge-passkeys/nudge/internal/deliver/smtp/smtptest"
)

// memJournal is an in-memory journal enforcing the ledger's moves.
type memJournal struct {
	mu sync.Mutex
	m  map[string]string
}

func (j *memJournal) move(key, from, to string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.m[key] != from {
		if from == "pending" {
			return deliver.ErrNotPending
		}
		return fmt.Errorf("%s: %s, not %s", key, j.m[key], from)
	}
	j.m[key] = to
	return nil
}

func (j *memJournal) Sending(_ context.Context, key, _, _ string, _ time.Time) error {
	return j.move(key, "pending", "sending")
}
func (j *memJournal) Sent(_ context.Context, key string, _ time.Time) error {
	return j.move(key, "sending", "sent")
}
func (j *memJournal) Retry(_ context.Context, key string, _ time.Time, _ error) error {
	return j.move(key, "sending", "pending")
}
func (j *memJournal) Unknown(_ context.Context, key string, _ time.Time, _ error) error {
	return j.move(key, "sending", "unknown")
}
func (j *memJournal) Failed(_ context.Context, key string, _ time.Time, _ error) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.m[key] = "failed"
	return nil
}

// TestWaveAgainstExchangeLimits sends a 12,000-person wave through one
// mailbox to a server that enforces Exchange Online's limits, on a
// simulated clock: no rejection at all, a clean stop at the day's cap, and
// the rest sent once after the window frees.
func TestWaveAgainstExchangeLimits(t *testing.T) {
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	clock := deliver.NewFakeClock(start)
	srv := smtptest.Start(t, smtptest.Options{Limits: smtptest.ExchangeOnline(), Now: clock.Now, Discard: true})
	const n = 12000
	j := &memJournal{m: map[string]string{}}
	for i := range n {
		j.m[fmt.Sprintf("k%05d", i)] = "pending"
	}
	jobs := func(yield func(deliver.Job) bool) {
		for i := range n {
			key := fmt.Sprintf("k%05d", i)
			j.mu.Lock()
			pending := j.m[key] == "pending"
			j.mu.Unlock()
			if !pending {
				continue
			}
			ok := yield(deliver.Job{Key: key, Message: func() (*deliver.Message, error) {
				return &deliver.Message{
					ID: key + "@contoso.example", Date: clock.Now(),
					From: deliver.Address{Email: "it@contoso.example"}, To: deliver.Address{Email: fmt.Sprintf("p%d@contoso.example", i)},
					Subject: "Passkeys", Text: "Hello", HTML: "<p>Hello</p>",
				}, nil
			}})
			if !ok {
				return
			}
		}
	}
	runOnce := func(history []time.Time) deliver.Report {
		t.Helper()
		s, err := smtp.New(smtp.Config{Host: srv.Host(), Port: srv.Port(), TLS: "none", AllowInsecure: true, EnvelopeFrom: "it@contoso.example"})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		e := &deliver.Engine{
			Mailboxes: []deliver.Mailbox{{Address: "it@contoso.example", Sender: s, History: history,
				Limits: deliver.Limits{PerMinute: deliver.DefaultPerMinute, PerDay: deliver.DefaultPerDay}}},
			Journal: j, Clock: clock,
		}
		rep, err := e.Run(context.Background(), iter.Seq[deliver.Job](jobs))
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}

	first := runOnce(nil)
	if first.Sent != deliver.DefaultPerDay || !first.StoppedAtQuota {
		t.Fatalf("first run: %d sent, stopped at quota %v; want %d and a stop", first.Sent, first.StoppedAtQuota, deliver.DefaultPerDay)
	}
	if st := srv.Stats(); len(st.Rejected) != 0 {
		t.Fatalf("the server rejected messages: %v", st.Rejected)
	}
	var history []time.Time
	for _, m := range srv.Messages() {
		history = append(history, m.At)
	}
	if first.ResumeAt.Before(history[0].Add(24 * time.Hour)) {
		t.Errorf("resume at %v, before the first send + 24 h (%v)", first.ResumeAt, history[0].Add(24*time.Hour))
	}
	clock.Set(first.ResumeAt)
	second := runOnce(history)
	if second.Sent != n-deliver.DefaultPerDay {
		t.Errorf("second run sent %d, want %d", second.Sent, n-deliver.DefaultPerDay)
	}
	if st := srv.Stats(); len(st.Rejected) != 0 || st.Messages != n {
		t.Errorf("server: %d messages, rejections %v; want %d and none", st.Messages, st.Rejected, n)
	}
	for k, s := range j.m {
		if s != "sent" {
			t.Fatalf("%s is %s", k, s)
		}
	}
}
