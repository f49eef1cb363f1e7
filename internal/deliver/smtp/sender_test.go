package smtp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nudge-passkeys/nudge/internal/deliver"
	"github.com/nudge-passkeys/nudge/internal/deliver/smtp"
	"github.com/nudge-passkeys/nudge/internal/deliver/smtp/smtptest"
)

const (
	mailbox  = "security@contoso.example"
	password = "correct-horse-battery-staple"
	token    = "eyJ0eXAiOiJKV1QiLCJhbGciOi.secret-token"
)

// message is person i's message; its text has lines starting with a dot,
// which SMTP must carry through dot-stuffing.
func message(i int) *deliver.Message {
	return &deliver.Message{
		ID:      deliver.MessageID("contoso.example", "passkeys", "wave-1", fmt.Sprint(i)),
		Date:    time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC),
		From:    deliver.Address{Name: "IT Security", Email: mailbox},
		To:      deliver.Address{Name: fmt.Sprintf("Person %d", i), Email: fmt.Sprintf("p%d@contoso.example", i)},
		Subject: "Set up your passkey",
		Text:    "Hello,\n.\n..two dots\n.one dot\nbye\n",
		HTML:    "<p>Hello</p>\n.<p>dot</p>\n",
	}
}

func encoded(t testing.TB, m *deliver.Message) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := m.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// config points at srv with the TLS mode srv has.
func config(srv *smtptest.Server, tlsMode string) smtp.Config {
	cfg := smtp.Config{
		Host: srv.Host(), Port: srv.Port(), TLS: tlsMode, RootCAs: srv.RootCAs(),
		HelloName: "test.invalid", Timeout: 10 * time.Second,
	}
	if tlsMode == "none" {
		cfg.AllowInsecure = true
	}
	return cfg
}

func newSender(t testing.TB, cfg smtp.Config) *smtp.Sender {
	t.Helper()
	s, err := smtp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// sendError returns err as a *deliver.SendError, failing when it is not.
func sendError(t testing.TB, err error) *deliver.SendError {
	t.Helper()
	var se *deliver.SendError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *deliver.SendError", err, err)
	}
	return se
}

// kind is what the engine reads from a SendError.
type kind struct {
	Temporary, Connection bool
	Code                  int
	Enhanced              string
	RetryAfter            time.Duration
}

func kindOf(t testing.TB, err error) kind {
	se := sendError(t, err)
	return kind{se.Temporary, se.Connection, se.Code, se.Enhanced, se.RetryAfter}
}

func xoauth2(cfg smtp.Config) smtp.Config {
	cfg.Auth, cfg.Username = "xoauth2", mailbox
	cfg.Token = func(context.Context) (string, error) { return token, nil }
	return cfg
}

func TestNewRejects(t *testing.T) {
	base := smtp.Config{Host: "smtp.office365.com"}
	tok := func(context.Context) (string, error) { return "t", nil }
	tests := []struct {
		name string
		edit func(*smtp.Config)
		want string
	}{
		{"tls none without allow_insecure", func(c *smtp.Config) { c.TLS = "none" }, "refusing to send in clear: set allow_insecure: true"},
		{"unknown tls", func(c *smtp.Config) { c.TLS = "ssl" }, `tls "ssl" is not starttls, implicit or none`},
		{"xoauth2 without token", func(c *smtp.Config) { c.Auth, c.Username = "xoauth2", mailbox }, "auth xoauth2 needs a token source"},
		{"xoauth2 without mailbox", func(c *smtp.Config) { c.Auth, c.Token = "xoauth2", tok }, "auth xoauth2 needs username"},
		{"plain without username", func(c *smtp.Config) { c.Auth, c.Password = "plain", password }, "auth plain needs a username"},
		{"login without password", func(c *smtp.Config) { c.Auth, c.Username = "login", mailbox }, "auth login needs a password"},
		{"password without auth", func(c *smtp.Config) { c.Username, c.Password = mailbox, password }, "auth is none"},
		{"unknown auth", func(c *smtp.Config) { c.Auth = "cram-md5" }, `auth "cram-md5" is not`},
		{"no host", func(c *smtp.Config) { c.Host = "" }, "no host"},
		{"port in host", func(c *smtp.Config) { c.Host = "smtp.office365.com:587" }, "is not a host name"},
		{"port out of range", func(c *smtp.Config) { c.Port = 70000 }, "port 70000"},
		{"bad envelope from", func(c *smtp.Config) { c.EnvelopeFrom = "IT <it@contoso.example>" }, "envelope_from"},
		{"negative timeout", func(c *smtp.Config) { c.Timeout = -time.Second }, "timeout -1s is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			tt.edit(&cfg)
			_, err := smtp.New(cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: got %v, want an error containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	tests := []struct {
		name string
		cfg  smtp.Config
		want string
	}{
		{"starttls on 587", smtp.Config{Host: "smtp.office365.com"}, "smtp://smtp.office365.com:587 tls=starttls auth=none"},
		{"implicit on 465", smtp.Config{Host: "smtp.example.org", TLS: "Implicit"}, "smtp://smtp.example.org:465 tls=implicit auth=none"},
		{"none on 25", smtp.Config{Host: "relay.lan", TLS: "none", AllowInsecure: true}, "smtp://relay.lan:25 tls=none auth=none"},
		{"IPv6 literal", smtp.Config{Host: "::1", Port: 2525}, "smtp://[::1]:2525 tls=starttls auth=none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := smtp.New(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := s.String(), "smtp.Sender("+tt.want+")"; got != want {
				t.Errorf("got %s, want %s", got, want)
			}
		})
	}
}

// TestSecretsNeverPrinted prints a Config and a Sender every way a log
// line or an error might.
func TestSecretsNeverPrinted(t *testing.T) {
	cfg := smtp.Config{Host: "smtp.office365.com", Auth: "plain", Username: mailbox, Password: password}
	tcfg := xoauth2(smtp.Config{Host: "smtp.office365.com"})
	s, err := smtp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	holder := struct{ C smtp.Config }{cfg}
	var out []string
	for _, v := range []any{cfg, &cfg, tcfg, s, holder, &holder} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%q"} {
			out = append(out, fmt.Sprintf(verb, v))
		}
	}
	var logs bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&logs, nil), slog.NewJSONHandler(&logs, nil)} {
		slog.New(h).Info("sending", "config", cfg, "sender", s, "tconfig", tcfg)
	}
	out = append(out, logs.String())
	for _, o := range out {
		if strings.Contains(o, password) || strings.Contains(o, token) || strings.Contains(o, "correct-horse") {
			t.Errorf("printed a secret: %s", o)
		}
	}
	if !strings.Contains(out[0], "password=[redacted]") {
		t.Errorf("%%v of Config: got %s, want it to say the password is set", out[0])
	}
}

func TestBatchOneConnection(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{
		TLS: "starttls", Auth: []string{"XOAUTH2"}, Username: mailbox, Token: token, Transcript: true,
	})
	cfg := xoauth2(config(srv, "starttls"))
	cfg.EnvelopeFrom = "bounces@contoso.example"
	s := newSender(t, cfg)
	ctx := t.Context()
	const n = 50
	for i := range n {
		m := message(i)
		if i%2 == 0 {
			// Encoded ahead, as nudge send does: its prepared data goes
			// out as it is.
			if err := m.Encode(); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Send(ctx, m); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	st := srv.Stats()
	if st.Connections != 1 || st.Auth["XOAUTH2"] != 1 {
		t.Errorf("server saw %d connections and %d XOAUTH2 logins, want 1 and 1", st.Connections, st.Auth["XOAUTH2"])
	}
	got := srv.Messages()
	if len(got) != n {
		t.Fatalf("server got %d messages, want %d", len(got), n)
	}
	for i, r := range got {
		m := message(i)
		if diff := cmp.Diff(string(encoded(t, m)), string(r.Data)); diff != "" {
			t.Errorf("message %d differs from WriteTo (-want +got):\n%s", i, diff)
		}
		if r.From != cfg.EnvelopeFrom || len(r.To) != 1 || r.To[0] != m.To.Email || !r.TLS || r.User != mailbox {
			t.Errorf("message %d: from %s to %v tls %v user %q", i, r.From, r.To, r.TLS, r.User)
		}
	}
	// On the wire the dotted lines went out stuffed, and came back above
	// as they were written.
	if tr := srv.Transcript(); !strings.Contains(tr, "\r\n..\r\n...two dots\r\n..one dot\r\n") {
		t.Errorf("transcript has no dot-stuffed lines")
	}
}

func TestTLS(t *testing.T) {
	tests := []struct {
		name      string
		server    string // smtptest TLS
		client    string // Config.TLS
		untrusted bool   // the client does not trust the server's certificate
		want      *kind  // nil: sent
		wantErr   string
		wantTLS   bool
	}{
		{name: "starttls", server: "starttls", client: "starttls", wantTLS: true},
		{name: "implicit", server: "implicit", client: "implicit", wantTLS: true},
		{name: "none, allowed", server: "none", client: "none"},
		{name: "starttls not offered", server: "none", client: "starttls",
			want: &kind{Connection: true}, wantErr: "does not offer STARTTLS"},
		{name: "untrusted certificate", server: "starttls", client: "starttls", untrusted: true,
			want: &kind{Connection: true}, wantErr: "certificate"},
		{name: "untrusted certificate, implicit", server: "implicit", client: "implicit", untrusted: true,
			want: &kind{Connection: true}, wantErr: "certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.Start(t, smtptest.Options{
				TLS: tt.server, Auth: []string{"PLAIN"}, Username: mailbox, Password: password, Transcript: true,
			})
			cfg := config(srv, tt.client)
			cfg.Auth, cfg.Username, cfg.Password = "plain", mailbox, password
			if tt.untrusted {
				cfg.RootCAs = nil
			}
			err := newSender(t, cfg).Send(t.Context(), message(1))
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if got := srv.Messages()[0].TLS; got != tt.wantTLS {
					t.Errorf("over TLS: got %v, want %v", got, tt.wantTLS)
				}
				return
			}
			if got := kindOf(t, err); got != *tt.want {
				t.Errorf("got %+v, want %+v", got, *tt.want)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got %v, want it to mention %q", err, tt.wantErr)
			}
			if len(srv.Messages()) != 0 {
				t.Errorf("the server got a message")
			}
			if tr := srv.Transcript(); strings.Contains(tr, "\nAUTH") || strings.Contains(tr, "\nMAIL FROM") {
				t.Errorf("credentials or mail went out without TLS:\n%s", tr)
			}
		})
	}
}

func TestAuth(t *testing.T) {
	failingToken := func(context.Context) (string, error) { return "", errors.New("AADSTS7000215: invalid client secret") }
	tests := []struct {
		name    string
		opts    smtptest.Options
		edit    func(*smtp.Config)
		want    *kind // nil: sent
		wantErr string
	}{
		{name: "plain", opts: smtptest.Options{Auth: []string{"PLAIN", "LOGIN"}},
			edit: func(c *smtp.Config) { c.Auth, c.Username, c.Password = "plain", mailbox, password }},
		{name: "login", opts: smtptest.Options{Auth: []string{"LOGIN"}},
			edit: func(c *smtp.Config) { c.Auth, c.Username, c.Password = "login", mailbox, password }},
		{name: "xoauth2", opts: smtptest.Options{Auth: []string{"XOAUTH2"}},
			edit: func(c *smtp.Config) { *c = xoauth2(*c) }},
		{name: "wrong password", opts: smtptest.Options{Auth: []string{"PLAIN"}},
			edit: func(c *smtp.Config) { c.Auth, c.Username, c.Password = "plain", mailbox, password+"-old" },
			want: &kind{Connection: true, Code: 535, Enhanced: "5.7.8"}, wantErr: "check username and password"},
		{name: "wrong password, login", opts: smtptest.Options{Auth: []string{"LOGIN"}},
			edit: func(c *smtp.Config) { c.Auth, c.Username, c.Password = "login", mailbox, password+"-old" },
			want: &kind{Connection: true, Code: 535, Enhanced: "5.7.8"}, wantErr: "check username and password"},
		{name: "wrong token", opts: smtptest.Options{Auth: []string{"XOAUTH2"}},
			edit: func(c *smtp.Config) {
				*c = xoauth2(*c)
				c.Token = func(context.Context) (string, error) { return token + "-expired", nil }
			},
			want: &kind{Connection: true, Code: 535, Enhanced: "5.7.3"}, wantErr: "SMTP.SendAsApp"},
		{name: "basic auth turned off", opts: smtptest.Options{Auth: []string{"PLAIN", "XOAUTH2"}, BasicAuthDisabled: true},
			edit:    func(c *smtp.Config) { c.Auth, c.Username, c.Password = "plain", mailbox, password },
			want:    &kind{Connection: true, Code: 550, Enhanced: "5.7.30"},
			wantErr: "Exchange Online has turned off basic SMTP AUTH for this tenant (5.7.30): use auth: xoauth2 with an app registration, or the High Volume Email endpoint"},
		{name: "mechanism not offered", opts: smtptest.Options{Auth: []string{"XOAUTH2"}},
			edit: func(c *smtp.Config) { c.Auth, c.Username, c.Password = "plain", mailbox, password },
			want: &kind{Connection: true}, wantErr: "the server offers AUTH XOAUTH2, not PLAIN"},
		{name: "token source fails", opts: smtptest.Options{Auth: []string{"XOAUTH2"}},
			edit: func(c *smtp.Config) { *c = xoauth2(*c); c.Token = failingToken },
			want: &kind{Connection: true}, wantErr: "AADSTS7000215"},
		{name: "no auth where it is required", opts: smtptest.Options{Auth: []string{"XOAUTH2"}},
			edit: func(c *smtp.Config) {},
			want: &kind{Connection: true, Code: 530, Enhanced: "5.7.57"}, wantErr: "only from authenticated senders"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.TLS, tt.opts.Username, tt.opts.Password, tt.opts.Token = "starttls", mailbox, password, token
			srv := smtptest.Start(t, tt.opts)
			cfg := config(srv, "starttls")
			tt.edit(&cfg)
			s := newSender(t, cfg)
			err := s.Send(t.Context(), message(1))
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if got := srv.Messages()[0].User; got != mailbox {
					t.Errorf("authenticated as %q, want %q", got, mailbox)
				}
				return
			}
			if got := kindOf(t, err); got != *tt.want {
				t.Errorf("got %+v, want %+v (%v)", got, *tt.want, err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got %v, want it to contain %q", err, tt.wantErr)
			}
			for _, shown := range []string{err.Error(), fmt.Sprintf("%+v %#v", err, err), fmt.Sprint(s)} {
				if strings.Contains(shown, password) || strings.Contains(shown, token) {
					t.Errorf("a secret is shown: %s", shown)
				}
			}
			if len(srv.Messages()) != 0 {
				t.Errorf("the server got a message")
			}
		})
	}
}

func TestFaults(t *testing.T) {
	type result struct {
		err     *kind // nil: sent
		unknown bool
	}
	ok := result{}
	tests := []struct {
		name            string
		opts            smtptest.Options
		sends           int
		want            map[int]result // by send; ok when absent
		wantConnections int
		wantMessages    int
	}{
		{name: "dropped every 3 messages, reconnects", opts: smtptest.Options{DropAfter: 3},
			sends: 10, wantConnections: 4, wantMessages: 10},
		{name: "421 then success", opts: smtptest.Options{FailNext: 1, FailCode: 421},
			sends: 2, want: map[int]result{0: {err: &kind{Temporary: true, Connection: true, Code: 421, Enhanced: "4.3.2"}}},
			wantConnections: 2, wantMessages: 1},
		{name: "451 twice then success", opts: smtptest.Options{FailNext: 2, FailCode: 451},
			sends: 3, want: map[int]result{
				0: {err: &kind{Temporary: true, Code: 451, Enhanced: "4.7.500"}},
				1: {err: &kind{Temporary: true, Code: 451, Enhanced: "4.7.500"}},
			}, wantConnections: 1, wantMessages: 1},
		{name: "550 for one recipient, the next goes on the same connection",
			opts:  smtptest.Options{RejectRecipients: []string{"p1@contoso.example"}},
			sends: 3, want: map[int]result{1: {err: &kind{Code: 550, Enhanced: "5.1.10"}}},
			wantConnections: 1, wantMessages: 2},
		{name: "dropped before the reply to DATA: outcome unknown, not resent",
			opts:  smtptest.Options{DropInData: 1},
			sends: 2, want: map[int]result{0: {err: &kind{Temporary: true, Connection: true}, unknown: true}},
			wantConnections: 2, wantMessages: 1},
	}
	for _, tt := range tests {
		// Each case with the envelope in one write (RFC 2920) and with
		// one command at a time, for a server that offers no PIPELINING.
		for _, pipelining := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/pipelining=%v", tt.name, pipelining), func(t *testing.T) {
				opts := tt.opts
				opts.NoPipelining = !pipelining
				srv := smtptest.Start(t, opts)
				s := newSender(t, config(srv, "none"))
				for i := range tt.sends {
					err := s.Send(t.Context(), message(i))
					want := tt.want[i]
					if want == ok {
						if err != nil {
							t.Errorf("send %d: %v", i, err)
						}
						continue
					}
					if got := kindOf(t, err); got != *want.err {
						t.Errorf("send %d: got %+v, want %+v (%v)", i, got, *want.err, err)
					}
					if got := errors.Is(err, smtp.ErrOutcomeUnknown); got != want.unknown {
						t.Errorf("send %d: outcome unknown: got %v, want %v (%v)", i, got, want.unknown, err)
					}
				}
				st := srv.Stats()
				if st.Connections != tt.wantConnections || st.Messages != tt.wantMessages {
					t.Errorf("server saw %d connections and %d messages, want %d and %d",
						st.Connections, st.Messages, tt.wantConnections, tt.wantMessages)
				}
			})
		}
	}
}

// TestExchangeLimits checks how the Sender reports each of Exchange
// Online's limits, as smtptest plays them.
func TestExchangeLimits(t *testing.T) {
	clock := smtptest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))

	t.Run("31st message in a minute", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.Options{Limits: smtptest.Limits{MessagesPerMinute: 30}, Now: clock.Now})
		s := newSender(t, config(srv, "none"))
		for i := range 30 {
			clock.Advance(time.Second)
			if err := s.Send(t.Context(), message(i)); err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
		}
		err := s.Send(t.Context(), message(30))
		want := kind{Temporary: true, Connection: true, Code: 421, Enhanced: "4.4.2"}
		if got := kindOf(t, err); got != want {
			t.Errorf("got %+v, want %+v", got, want)
		}
		clock.Advance(time.Minute)
		if err := s.Send(t.Context(), message(30)); err != nil {
			t.Errorf("a minute later: %v", err)
		}
	})

	t.Run("4th connection", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.Options{Limits: smtptest.Limits{Connections: 3}, Now: clock.Now})
		var senders []*smtp.Sender
		for i := range 3 {
			s := newSender(t, config(srv, "none"))
			if err := s.Send(t.Context(), message(i)); err != nil {
				t.Fatal(err)
			}
			senders = append(senders, s)
		}
		fourth := newSender(t, config(srv, "none"))
		err := fourth.Send(t.Context(), message(3))
		want := kind{Temporary: true, Connection: true, Code: 432, Enhanced: "4.3.2"}
		if got := kindOf(t, err); got != want {
			t.Errorf("got %+v, want %+v (%v)", got, want, err)
		}
		if err := fourth.Check(t.Context()); err == nil {
			t.Errorf("Check with three connections open: no error")
		}
		senders[0].Close()
		// The server counts the closed connection out a moment after
		// its 221.
		waitFor(t, func() bool { return fourth.Send(t.Context(), message(3)) == nil })
	})

	t.Run("daily recipient quota", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.Options{Limits: smtptest.Limits{RecipientsPerDay: 5}, Now: clock.Now})
		s := newSender(t, config(srv, "none"))
		for i := range 5 {
			if err := s.Send(t.Context(), message(i)); err != nil {
				t.Fatal(err)
			}
		}
		err := s.Send(t.Context(), message(5))
		want := kind{Temporary: true, Connection: true, Code: 554, Enhanced: "5.2.0", RetryAfter: 24 * time.Hour}
		if got := kindOf(t, err); got != want {
			t.Errorf("got %+v, want %+v (%v)", got, want, err)
		}
		if !strings.Contains(err.Error(), "recipient limit") {
			t.Errorf("got %v, want it to explain the limit", err)
		}
		clock.Advance(24*time.Hour + time.Second)
		if err := s.Send(t.Context(), message(5)); err != nil {
			t.Errorf("a day later: %v", err)
		}
	})
}

func TestUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nothing listens there now
	s := newSender(t, smtp.Config{Host: "127.0.0.1", Port: port, TLS: "starttls", Timeout: 5 * time.Second})
	want := kind{Temporary: true, Connection: true}
	wantMsg := fmt.Sprintf("cannot connect to 127.0.0.1:%d", port)
	for name, err := range map[string]error{
		"Send":  s.Send(t.Context(), message(1)),
		"Check": s.Check(t.Context()),
	} {
		if got := kindOf(t, err); got != want {
			t.Errorf("%s: got %+v, want %+v", name, got, want)
		}
		if !strings.Contains(err.Error(), wantMsg) {
			t.Errorf("%s: got %v, want it to say %q", name, err, wantMsg)
		}
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name     string
		password string
		want     *kind
	}{
		{"reachable and accepted", password, nil},
		{"credentials refused", "wrong", &kind{Connection: true, Code: 535, Enhanced: "5.7.8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.Start(t, smtptest.Options{TLS: "starttls", Auth: []string{"LOGIN"},
				Username: mailbox, Password: password, Transcript: true})
			cfg := config(srv, "starttls")
			cfg.Auth, cfg.Username, cfg.Password = "login", mailbox, tt.password
			err := newSender(t, cfg).Check(t.Context())
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if tr := srv.Transcript(); !strings.Contains(tr, "QUIT") || strings.Contains(tr, "MAIL FROM") {
					t.Errorf("want a login and a QUIT, no mail:\n%s", tr)
				}
				return
			}
			if got := kindOf(t, err); got != *tt.want {
				t.Errorf("got %+v, want %+v (%v)", got, *tt.want, err)
			}
		})
	}
}

// TestHeaderInjection sends a display name that tries to start a Bcc
// header; it must arrive as part of one To header.
func TestHeaderInjection(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	m := message(1)
	m.To.Name = "Mallory\r\nBcc: victim@evil.example\r\nX-Injected: yes"
	m.Subject = "Hi\r\nBcc: victim@evil.example"
	if err := newSender(t, config(srv, "none")).Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	got := srv.Messages()[0]
	if diff := cmp.Diff([]string{m.To.Email}, got.To); diff != "" {
		t.Errorf("envelope recipients (-want +got):\n%s", diff)
	}
	parsed, err := mail.ReadMessage(bytes.NewReader(got.Data))
	if err != nil {
		t.Fatal(err)
	}
	if to := parsed.Header["To"]; len(to) != 1 {
		t.Fatalf("To headers: %q", to)
	}
	for _, h := range []string{"Bcc", "X-Injected"} {
		if v, ok := parsed.Header[h]; ok {
			t.Errorf("a %s header arrived: %q", h, v)
		}
	}
	addrs, err := parsed.Header.AddressList("To")
	if err != nil || len(addrs) != 1 || addrs[0].Address != m.To.Email {
		t.Errorf("To: got %v (%v), want one address %s", addrs, err, m.To.Email)
	}
}

func TestContext(t *testing.T) {
	t.Run("cancelled before", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.Options{})
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := newSender(t, config(srv, "none")).Send(ctx, message(1))
		if !errors.Is(err, context.Canceled) || !kindOf(t, err).Temporary {
			t.Errorf("got %v, want a temporary error wrapping context.Canceled", err)
		}
		if n := srv.Stats().Connections; n != 0 {
			t.Errorf("%d connections, want none", n)
		}
	})
	t.Run("server never greets", func(t *testing.T) {
		// A listener that never accepts: the kernel completes the TCP
		// handshake, and the greeting never comes.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		s := newSender(t, smtp.Config{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port,
			TLS: "none", AllowInsecure: true, Timeout: time.Minute})
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		err = s.Send(ctx, message(1))
		if !errors.Is(err, context.DeadlineExceeded) || !kindOf(t, err).Temporary {
			t.Errorf("got %v, want a temporary error wrapping context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("Send took %v after its context ended", d)
		}
	})
}

// waitFor polls cond: a connection closed by the client is seen closed by
// the server a moment later.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for range 200 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition not met in 2s")
}
