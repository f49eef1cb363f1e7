package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nudge-passkeys/nudge/internal/deliver/smtp/smtptest"
	gomail "github.com/wneessen/go-mail"
)

// BenchmarkSendWave is nudge's whole send path as a user runs it: read the
// directory, plan the wave in the ledger, render each message, pace (caps
// set far above what loopback reaches), claim it in the ledger, hand it to
// the SMTP server over one connection, record it sent, write the
// workbook. Beside it, in the same iteration and against the same server,
// a bare go-mail loop sends the same messages (their parts read back from
// nudge's own dry run, untimed) on one connection: go-mail's Client and
// Msg, no ledger, no rendering. One op is one wave of each; the order
// alternates so that neither always runs on a warmer machine.
//
// nudge-msgs/s and bare-msgs/s are the two throughputs; nudge/bare is
// their ratio, and median-nudge/bare the median of the iterations' own
// ratios (the figure the README quotes); the cpu-µs/msg figures are
// the process's CPU time per message for each, the test server's
// included.
func BenchmarkSendWave(b *testing.B) {
	const people = 2000
	srv := smtptest.Start(b, smtptest.Options{Discard: true})
	base := b.TempDir()
	msgs := bareMessages(b, filepath.Join(base, "dry"), people)

	var nudgeTime, bareTime, nudgeCPU, bareCPU time.Duration
	var ratios []float64 // each iteration's, its two runs side by side
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		dir := filepath.Join(base, fmt.Sprint(i))
		t := &testing.T{}
		sendFixture(t, dir, people, srv.Host(), srv.Port(), 60_000_000)
		b.StartTimer()
		wave := func() {
			start, cpu := time.Now(), cpuTime()
			out, errOut, code := nudge(t, dir, append([]string{"send", "announce", "--via", "smtp", "--yes"}, sendWaveFlags...)...)
			if code != exitOK {
				b.Fatalf("send: exit %d\n%s\n%s", code, out, errOut)
			}
			nudgeTime += time.Since(start)
			nudgeCPU += cpuTime() - cpu
		}
		bare := func() {
			start, cpu := time.Now(), cpuTime()
			bareSend(b, srv.Host(), srv.Port(), msgs)
			bareTime += time.Since(start)
			bareCPU += cpuTime() - cpu
		}
		n0, b0 := nudgeTime, bareTime
		if i%2 == 0 {
			wave()
			bare()
		} else {
			bare()
			wave()
		}
		ratios = append(ratios, (bareTime-b0).Seconds()/(nudgeTime-n0).Seconds())
		b.StopTimer()
		os.RemoveAll(dir)
		b.StartTimer()
	}
	n := float64(b.N * people)
	b.ReportMetric(n/nudgeTime.Seconds(), "nudge-msgs/s")
	b.ReportMetric(n/bareTime.Seconds(), "bare-msgs/s")
	b.ReportMetric(bareTime.Seconds()/nudgeTime.Seconds(), "nudge/bare")
	// The machine's speed drifts (a shared host): the median of the
	// iterations' ratios, each of two runs side by side, moves less than
	// the ratio of the sums.
	slices.Sort(ratios)
	b.ReportMetric(ratios[len(ratios)/2], "median-nudge/bare")
	// CPU time (the process's, the SMTP server's included) per message:
	// what a busy machine has to share out.
	b.ReportMetric(float64(nudgeCPU.Microseconds())/n, "nudge-cpu-µs/msg")
	b.ReportMetric(float64(bareCPU.Microseconds())/n, "bare-cpu-µs/msg")
}

// bareMessage is one message's parts as a bare go-mail program would hold
// them.
type bareMessage struct {
	from, to    *mail.Address
	subject, id string
	date        time.Time
	text, html  string
}

// bareMessages runs nudge's dry run for the same wave and reads each .eml
// back into its parts.
func bareMessages(b *testing.B, dir string, people int) []bareMessage {
	b.Helper()
	t := &testing.T{}
	sendFixture(t, dir, people, "127.0.0.1", 25, 60_000_000)
	if out, errOut, code := nudge(t, dir, "send", "announce"); code != exitOK {
		b.Fatalf("dry run: exit %d\n%s\n%s", code, out, errOut)
	}
	files, err := filepath.Glob(filepath.Join(dir, "output", "*", "outbox", "announce", "*.eml"))
	if err != nil || len(files) != people {
		b.Fatalf("dry run wrote %d messages, want %d (%v)", len(files), people, err)
	}
	var msgs []bareMessage
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		m, err := parseBare(raw)
		if err != nil {
			b.Fatalf("%s: %v", f, err)
		}
		msgs = append(msgs, m)
	}
	return msgs
}

func parseBare(raw []byte) (bareMessage, error) {
	var m bareMessage
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return m, err
	}
	h := msg.Header
	if m.from, err = mail.ParseAddress(h.Get("From")); err != nil {
		return m, err
	}
	if m.to, err = mail.ParseAddress(h.Get("To")); err != nil {
		return m, err
	}
	dec := new(mime.WordDecoder)
	if m.subject, err = dec.DecodeHeader(h.Get("Subject")); err != nil {
		return m, err
	}
	m.id = strings.Trim(h.Get("Message-ID"), "<>")
	if m.date, err = h.Date(); err != nil {
		return m, err
	}
	_, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		return m, err
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return m, err
		}
		// The reader decodes quoted-printable parts itself.
		var r io.Reader = p
		if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
			r = base64.NewDecoder(base64.StdEncoding, p)
		}
		body, err := io.ReadAll(r)
		if err != nil {
			return m, err
		}
		switch ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); ct {
		case "text/plain":
			m.text = string(body)
		case "text/html":
			m.html = string(body)
		}
	}
	if m.text == "" || m.html == "" {
		return m, fmt.Errorf("no text or no HTML part")
	}
	return m, nil
}

// bareSend is the loop a developer would write with go-mail alone: one
// connection, one Msg per person with the same headers and parts.
func bareSend(b *testing.B, host string, port int, msgs []bareMessage) {
	c, err := gomail.NewClient(host, gomail.WithPort(port), gomail.WithTLSPolicy(gomail.NoTLS), gomail.WithHELO("bench.invalid"))
	if err != nil {
		b.Fatal(err)
	}
	if err := c.DialWithContext(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	for _, m := range msgs {
		g := gomail.NewMsg()
		if err := g.FromFormat(m.from.Name, m.from.Address); err != nil {
			b.Fatal(err)
		}
		if err := g.AddToFormat(m.to.Name, m.to.Address); err != nil {
			b.Fatal(err)
		}
		g.Subject(m.subject)
		g.SetMessageIDWithValue(m.id)
		g.SetDateWithValue(m.date)
		g.SetBodyString(gomail.TypeTextPlain, m.text)
		g.AddAlternativeString(gomail.TypeTextHTML, m.html)
		if err := c.Send(g); err != nil {
			b.Fatal(err)
		}
	}
}

// sendWaveFlags are added to BenchmarkSendWave's nudge send: set
// NUDGE_BENCH_NO_TRACK=1 to leave out the workbook written after the wave.
var sendWaveFlags = func() []string {
	if os.Getenv("NUDGE_BENCH_NO_TRACK") != "" {
		return []string{"--no-track"}
	}
	return nil
}()
