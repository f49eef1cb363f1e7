package smtptest_test

import (
	"errors"
	"fmt"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/nudge-passkeys/nudge/internal/deliver/smtp/smtptest"
	gosmtp "github.com/wneessen/go-mail/smtp"
)

// These tests drive the server with go-mail's bare protocol client, so
// they check smtptest itself, not nudge's Sender.

func dial(t *testing.T, srv *smtptest.Server) (*gosmtp.Client, error) {
	t.Helper()
	c, err := gosmtp.Dial(srv.Addr())
	if err != nil {
		return nil, err
	}
	if err := c.Hello("test.invalid"); err != nil {
		c.Close()
		return nil, err
	}
	t.Cleanup(func() { c.Close() })
	return c, nil
}

func mustDial(t *testing.T, srv *smtptest.Server) *gosmtp.Client {
	t.Helper()
	c, err := dial(t, srv)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// send sends a small message from one sender to the given recipients.
func send(c *gosmtp.Client, to ...string) error {
	if err := c.Mail("<sender@contoso.example>"); err != nil {
		return err
	}
	for _, r := range to {
		if err := c.Rcpt("<" + r + ">"); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte("Subject: hi\r\n\r\nhello\r\n")); err != nil {
		return err
	}
	return w.Close()
}

// reply is the reply code and enhanced status of an error.
func reply(err error) string {
	var tp *textproto.Error
	if !errors.As(err, &tp) {
		return fmt.Sprintf("no reply (%v)", err)
	}
	enhanced, _, _ := strings.Cut(tp.Msg, " ")
	return fmt.Sprintf("%d %s", tp.Code, enhanced)
}

func TestExchangeOnlineLimits(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

	t.Run("31st message in 60 s is refused with 421 4.4.2 and the connection dropped", func(t *testing.T) {
		clk := smtptest.NewClock(start)
		srv := smtptest.Start(t, smtptest.Options{Limits: smtptest.ExchangeOnline(), Now: clk.Now})
		c := mustDial(t, srv)
		for i := range 30 {
			clk.Advance(time.Second)
			if err := send(c, "p@contoso.example"); err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
		}
		// 30 s in: the first 30 are all within the minute.
		if got := reply(send(c, "p@contoso.example")); got != "421 4.4.2" {
			t.Errorf("31st message: got %s, want 421 4.4.2", got)
		}
		if err := c.Noop(); err == nil {
			t.Errorf("the connection is still open after 421")
		}
		// Once the first message is 60 s old, it has left the window.
		clk.Advance(31 * time.Second)
		if err := send(mustDial(t, srv), "p@contoso.example"); err != nil {
			t.Errorf("a minute after the first: %v", err)
		}
		st := srv.Stats()
		if st.Rejected[421] != 1 || st.Messages != 31 {
			t.Errorf("rejected %v, accepted %d; want one 421 and 31 messages", st.Rejected, st.Messages)
		}
	})

	t.Run("4th concurrent connection is refused with 432 4.3.2", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.Options{Limits: smtptest.ExchangeOnline()})
		var open []*gosmtp.Client
		for range 3 {
			open = append(open, mustDial(t, srv))
		}
		_, err := dial(t, srv)
		if got := reply(err); got != "432 4.3.2" {
			t.Errorf("4th connection: got %s, want 432 4.3.2", got)
		}
		open[0].Quit()
		var again error
		for range 200 { // the server sees the close a moment later
			if _, again = dial(t, srv); again == nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if again != nil {
			t.Errorf("after one closed: %v", again)
		}
		if st := srv.Stats(); st.Rejected[432] < 1 || st.Connections < 5 {
			t.Errorf("stats %+v", st)
		}
	})

	t.Run("more than 10,000 recipients in 24 h is refused with 554 5.2.0", func(t *testing.T) {
		clk := smtptest.NewClock(start)
		srv := smtptest.Start(t, smtptest.Options{Limits: smtptest.ExchangeOnline(), Now: clk.Now, Discard: true})
		c := mustDial(t, srv)
		to := make([]string, 10000)
		for i := range to {
			to[i] = fmt.Sprintf("p%d@contoso.example", i)
		}
		if err := send(c, to...); err != nil {
			t.Fatalf("10,000 recipients: %v", err)
		}
		clk.Advance(23 * time.Hour)
		err := send(c, "one-more@contoso.example")
		if got := reply(err); got != "554 5.2.0" {
			t.Errorf("10,001st recipient: got %s, want 554 5.2.0", got)
		}
		var tp *textproto.Error
		if errors.As(err, &tp) && !strings.Contains(tp.Msg, "SubmissionQuotaExceededException") {
			t.Errorf("reply %q lacks Exchange's exception name", tp.Msg)
		}
		// The refusal ended the transaction, not the session.
		clk.Advance(time.Hour + time.Second)
		if err := send(c, "one-more@contoso.example"); err != nil {
			t.Errorf("24 h after the first: %v", err)
		}
	})

	t.Run("limits are off unless set", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.Options{})
		var cs []*gosmtp.Client
		for range 5 {
			cs = append(cs, mustDial(t, srv))
		}
		for i := range 40 {
			if err := send(cs[i%5], "p@contoso.example"); err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
		}
	})
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name string
		opts smtptest.Options
		want []string // reply to each of four messages on one connection, "" for accepted
	}{
		{"drop after 2", smtptest.Options{DropAfter: 2}, []string{"", "", "no reply", "no reply"}},
		{"451 to the next 2", smtptest.Options{FailNext: 2}, []string{"451 4.7.500", "451 4.7.500", "", ""}},
		{"421 closes", smtptest.Options{FailNext: 1, FailCode: 421}, []string{"421 4.3.2", "no reply", "no reply", "no reply"}},
		{"550 for one recipient", smtptest.Options{RejectRecipients: []string{"P1@contoso.example"}}, []string{"", "550 5.1.10", "", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.Start(t, tt.opts)
			c := mustDial(t, srv)
			for i, want := range tt.want {
				err := send(c, fmt.Sprintf("p%d@contoso.example", i))
				got := ""
				if err != nil {
					got = reply(err)
					if !errors.As(err, new(*textproto.Error)) {
						got = "no reply"
					}
					c.Reset()
				}
				if got != want {
					t.Errorf("message %d: got %q, want %q", i, got, want)
				}
			}
		})
	}
}

func TestAuthRequired(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{TLS: "starttls", Auth: []string{"PLAIN"}, Username: "u", Password: "p"})
	c := mustDial(t, srv)
	if ok, _ := c.Extension("AUTH"); ok {
		t.Errorf("AUTH offered before STARTTLS")
	}
	if got := reply(send(c, "p@contoso.example")); got != "530 5.7.57" {
		t.Errorf("MAIL without AUTH: got %s, want 530 5.7.57", got)
	}
}

// TestNoPipelining: the server offers PIPELINING unless told not to, so
// that the Sender's tests without it really get a server without it.
func TestNoPipelining(t *testing.T) {
	for _, hide := range []bool{false, true} {
		srv := smtptest.Start(t, smtptest.Options{NoPipelining: hide})
		c := mustDial(t, srv)
		if offered, _ := c.Extension("PIPELINING"); offered == hide {
			t.Errorf("NoPipelining %v: PIPELINING offered: %v", hide, offered)
		}
		if offered, _ := c.Extension("8BITMIME"); !offered {
			t.Errorf("NoPipelining %v: the other extensions went too (8BITMIME not offered)", hide)
		}
	}
}
