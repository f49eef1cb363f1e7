package smtp_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nudge-passkeys/nudge/internal/deliver"
	"github.com/nudge-passkeys/nudge/internal/deliver/smtp"
	"github.com/nudge-passkeys/nudge/internal/deliver/smtp/smtptest"
	mail "github.com/wneessen/go-mail"
)

// benchBodies are a text and an HTML body of about 15 KB together, the
// size of a campaign email with its inline styles.
var benchText, benchHTML = func() (string, string) {
	var text, html strings.Builder
	for i := 0; text.Len() < 4<<10; i++ {
		fmt.Fprintf(&text, "Step %d: open Settings, choose Passkeys, and follow the prompts on your phone.\n", i)
	}
	html.WriteString(`<!doctype html><html><body style="margin:0;padding:0;background:#f4f4f4">`)
	for i := 0; html.Len() < 11<<10; i++ {
		fmt.Fprintf(&html, `<p style="font-family:Segoe UI,Arial,sans-serif;font-size:15px;line-height:1.5;color:#222">Step %d: open <a href="https://aka.ms/mysecurityinfo">Security info</a> and add a passkey.</p>`+"\n", i)
	}
	html.WriteString("</body></html>")
	return text.String(), html.String()
}()

const benchBatch = 1000

// BenchmarkSendLoopback sends batches of 1,000 messages of about 15 KB
// over one loopback connection to smtptest (no TLS, no auth), through
// nudge's Sender and, for comparison, through go-mail's own Client and Msg
// with the same bodies (go-mail's defaults: NOOP and RSET around each
// message). One op is one batch; msgs/s is the figure to compare.
func BenchmarkSendLoopback(b *testing.B) {
	srv := smtptest.Start(b, smtptest.Options{Discard: true})
	to := func(i int) deliver.Address {
		return deliver.Address{Name: fmt.Sprintf("Person %d", i), Email: fmt.Sprintf("p%d@contoso.example", i)}
	}

	b.Run("nudge", func(b *testing.B) {
		b.ReportAllocs()
		ctx := context.Background()
		m := &deliver.Message{
			Date: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), From: deliver.Address{Name: "IT Security", Email: mailbox},
			Subject: "Set up your passkey", Text: benchText, HTML: benchHTML,
		}
		for b.Loop() {
			s, err := smtp.New(config(srv, "none"))
			if err != nil {
				b.Fatal(err)
			}
			for i := range benchBatch {
				m.ID = deliver.MessageID("contoso.example", "bench", fmt.Sprint(i))
				m.To = to(i)
				if err := s.Send(ctx, m); err != nil {
					b.Fatal(err)
				}
			}
			s.Close()
		}
		b.ReportMetric(float64(benchBatch*b.N)/b.Elapsed().Seconds(), "msgs/s")
	})

	b.Run("go-mail", func(b *testing.B) {
		b.ReportAllocs()
		ctx := context.Background()
		for b.Loop() {
			c, err := mail.NewClient(srv.Host(), mail.WithPort(srv.Port()), mail.WithTLSPolicy(mail.NoTLS),
				mail.WithHELO("test.invalid"))
			if err != nil {
				b.Fatal(err)
			}
			if err := c.DialWithContext(ctx); err != nil {
				b.Fatal(err)
			}
			for i := range benchBatch {
				m := mail.NewMsg()
				r := to(i)
				if err := m.FromFormat("IT Security", mailbox); err != nil {
					b.Fatal(err)
				}
				if err := m.AddToFormat(r.Name, r.Email); err != nil {
					b.Fatal(err)
				}
				m.Subject("Set up your passkey")
				m.SetMessageIDWithValue(deliver.MessageID("contoso.example", "bench", fmt.Sprint(i)))
				m.SetDateWithValue(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
				m.SetBodyString(mail.TypeTextPlain, benchText)
				m.AddAlternativeString(mail.TypeTextHTML, benchHTML)
				if err := c.Send(m); err != nil {
					b.Fatal(err)
				}
			}
			c.Close()
		}
		b.ReportMetric(float64(benchBatch*b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
}

// TestServeSink runs a discarding SMTP server for measuring a whole
// `nudge send` in its own process (peak memory with /usr/bin/time -v):
//
//	NUDGE_SMTP_SINK=/tmp/sink go test ./internal/deliver/smtp/ -run TestServeSink -timeout 0 &
//
// writes the server's port to /tmp/sink/port and serves until the test is
// stopped. Skipped when NUDGE_SMTP_SINK is not set.
func TestServeSink(t *testing.T) {
	dir := os.Getenv("NUDGE_SMTP_SINK")
	if dir == "" {
		t.Skip("NUDGE_SMTP_SINK=DIR serves a discarding SMTP server until stopped")
	}
	srv := smtptest.Start(t, smtptest.Options{Discard: true})
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "port"), []byte(strconv.Itoa(srv.Port())), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("discarding SMTP server on %s:%d", srv.Host(), srv.Port())
	select {}
}
