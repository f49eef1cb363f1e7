// Package smtptest runs an in-process SMTP server on 127.0.0.1 that behaves
// like Exchange Online's client submission endpoint, for tests: STARTTLS or
// implicit TLS with a certificate made at start, PLAIN, LOGIN and XOAUTH2,
// Exchange's per-sender limits on an injected clock, and injected faults
// (dropped connections, 4xx replies, rejected recipients).
//
// Every behaviour is off unless its option is set, so a test states exactly
// what it exercises, and every refusal is counted in [Stats].
package smtptest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Options choose how the server behaves. The zero value is a cleartext
// server that accepts any message without authentication.
type Options struct {
	// TLS is "none" (the default: cleartext, STARTTLS not offered),
	// "starttls" (offered, and AUTH only after it, as Exchange does) or
	// "implicit" (TLS from the first byte, as on port 465).
	TLS string

	// Auth lists the mechanisms offered: "PLAIN", "LOGIN", "XOAUTH2". When
	// any is offered, MAIL FROM needs a successful AUTH first (530 5.7.57).
	Auth []string
	// Username and Password are the only credentials PLAIN and LOGIN
	// accept.
	Username, Password string
	// Token is the only bearer token XOAUTH2 accepts (for any user, or for
	// Username when it is set).
	Token string
	// BasicAuthDisabled answers PLAIN and LOGIN with Exchange's
	// "550 5.7.30 Basic authentication is not supported for Client
	// Submission", as a tenant with basic SMTP AUTH turned off does.
	BasicAuthDisabled bool

	// DropAfter closes a connection without a reply when the client
	// starts another message after DropAfter on it, as an idle timeout
	// or a load balancer would: the client sees EOF at MAIL FROM.
	DropAfter int
	// DropInData closes the connection without a reply once the whole of
	// the DropInData-th message (counted over all connections) is
	// received, so the client cannot know whether it was accepted.
	DropInData int
	// FailNext answers the end of DATA of the next FailNext messages with
	// FailCode (451 by default; 421 also closes the connection), then
	// accepts as usual.
	FailNext int
	FailCode int
	// RejectRecipients are answered at RCPT TO with 550 5.1.10, Exchange's
	// "recipient not found".
	RejectRecipients []string

	// Limits are Exchange Online's sending limits; the zero value has
	// none. See [ExchangeOnline].
	Limits Limits
	// Now is the clock the limits and Received.At use; time.Now when nil.
	Now func() time.Time

	// NoPipelining hides PIPELINING (RFC 2920) from the reply to EHLO on
	// cleartext sessions, as a server without it would answer, so that a
	// client sends one command at a time.
	NoPipelining bool

	// Discard keeps no message bodies (Received.Data is nil), for
	// benchmarks that send many.
	Discard bool
	// Transcript records the whole conversation as the server sees it
	// (after TLS is removed), for [Server.Transcript].
	Transcript bool
}

// Limits are per-sender sending limits; a zero field is no limit.
type Limits struct {
	// MessagesPerMinute: a sender that already had this many messages
	// accepted in the last 60 s gets "421 4.4.2" at MAIL FROM and the
	// connection is dropped.
	MessagesPerMinute int
	// Connections: a connection beyond this many open at once gets
	// "432 4.3.2" at EHLO and is dropped. The server stands for one
	// mailbox, so every connection counts.
	Connections int
	// RecipientsPerDay: a message that would take a sender past this many
	// recipients in a rolling 24 hours gets "554 5.2.0 ...
	// SubmissionQuotaExceededException" at the end of DATA.
	RecipientsPerDay int
}

// ExchangeOnline returns Exchange Online's limits for one mailbox: 30
// messages a minute, 3 concurrent connections, 10,000 recipients a day.
func ExchangeOnline() Limits {
	return Limits{MessagesPerMinute: 30, Connections: 3, RecipientsPerDay: 10000}
}

// Received is one message the server accepted.
type Received struct {
	From string
	To   []string
	Data []byte // as the client meant it: dot-stuffing removed
	At   time.Time
	// User is who authenticated on the connection, or "".
	User string
	// TLS is whether the message came over TLS.
	TLS bool
}

// Stats counts what the server did.
type Stats struct {
	// Connections is how many TCP connections were accepted.
	Connections int
	// Messages is how many messages were accepted.
	Messages int
	// Auth counts successful authentications by mechanism.
	Auth map[string]int
	// AuthFailures counts refused authentications.
	AuthFailures int
	// Rejected counts refusals by reply code (421, 432, 451, 550, ...).
	Rejected map[int]int
	// Dropped counts connections the server closed on purpose.
	Dropped int
}

// Server is a running test server.
type Server struct {
	opts   Options
	srv    *smtp.Server
	ln     net.Listener
	pool   *x509.CertPool
	served chan struct{}

	mu        sync.Mutex
	received  []Received
	stats     Stats
	open      int // admitted connections now open
	dataCount int // messages whose data was received, for DropInData
	failed    int // FailNext replies given
	sent      map[string][]sendEvent
	log       *lockedBuffer
}

// sendEvent is one accepted message, remembered for the limits.
type sendEvent struct {
	at    time.Time
	rcpts int
}

// Start runs a server for the duration of the test.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := start(opts)
	if err != nil {
		t.Fatalf("smtptest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

func start(opts Options) (*Server, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.FailCode == 0 {
		opts.FailCode = 451
	}
	opts.Auth = slices.Clone(opts.Auth)
	for i, m := range opts.Auth {
		opts.Auth[i] = strings.ToUpper(m)
	}
	s := &Server{
		opts:   opts,
		served: make(chan struct{}),
		sent:   map[string][]sendEvent{},
		stats:  Stats{Auth: map[string]int{}, Rejected: map[int]int{}},
	}
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "smtptest.invalid"
	srv.ErrorLog = log.New(io.Discard, "", 0) // failed handshakes are what some tests are about
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	if opts.Transcript {
		s.log = &lockedBuffer{}
		srv.Debug = s.log
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	ln = &countingListener{Listener: ln, s: s}
	switch opts.TLS {
	case "", "none":
		// Exchange offers AUTH only after STARTTLS; a cleartext test
		// server must offer it at once or no test could authenticate.
		srv.AllowInsecureAuth = true
	case "starttls", "implicit":
		cfg, pool, err := selfSigned()
		if err != nil {
			ln.Close()
			return nil, err
		}
		s.pool = pool
		srv.TLSConfig = cfg
		if opts.TLS == "implicit" {
			ln = tls.NewListener(ln, cfg)
		}
	default:
		ln.Close()
		return nil, fmt.Errorf("TLS %q is not none, starttls or implicit", opts.TLS)
	}
	s.srv, s.ln = srv, ln
	go func() {
		defer close(s.served)
		srv.Serve(ln)
	}()
	return s, nil
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Host is the server's IP address, which its certificate names.
func (s *Server) Host() string { return "127.0.0.1" }

// Port is the server's port.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// RootCAs trusts the server's certificate; nil when the server has no TLS.
func (s *Server) RootCAs() *x509.CertPool { return s.pool }

// Messages returns the messages accepted so far.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.received)
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Auth = make(map[string]int, len(s.stats.Auth))
	for k, v := range s.stats.Auth {
		st.Auth[k] = v
	}
	st.Rejected = make(map[int]int, len(s.stats.Rejected))
	for k, v := range s.stats.Rejected {
		st.Rejected[k] = v
	}
	return st
}

// Transcript returns the conversation so far, both directions
// interleaved; empty unless Options.Transcript is set.
func (s *Server) Transcript() string {
	if s.log == nil {
		return ""
	}
	return s.log.String()
}

// Close stops the server and closes every connection.
func (s *Server) Close() {
	s.srv.Close()
	// go-smtp closes only the listeners Serve has registered, and Serve
	// may not have started yet.
	s.ln.Close()
	<-s.served
}

// reject counts a refusal and returns it as go-smtp's reply.
func (s *Server) reject(code int, enhanced smtp.EnhancedCode, msg string) *smtp.SMTPError {
	s.mu.Lock()
	s.stats.Rejected[code]++
	s.mu.Unlock()
	return &smtp.SMTPError{Code: code, EnhancedCode: enhanced, Message: msg}
}

// hangUp writes a last reply, if any, and closes the connection. go-smtp
// closes a connection only on QUIT, so a reply that ends the session (421,
// 432) is written here directly; go-smtp's own reply afterwards goes to a
// closed connection and is lost, as it should be.
func (s *Server) hangUp(c *smtp.Conn, reply *smtp.SMTPError) {
	if reply != nil {
		fmt.Fprintf(c.Conn(), "%d %d.%d.%d %s\r\n", reply.Code,
			reply.EnhancedCode[0], reply.EnhancedCode[1], reply.EnhancedCode[2], reply.Message)
	}
	s.mu.Lock()
	s.stats.Dropped++
	s.mu.Unlock()
	c.Close()
}

// newSession admits a connection at its first EHLO (go-smtp calls it again
// after STARTTLS, for the same connection).
func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	tc := tracked(c.Conn())
	s.mu.Lock()
	over := !tc.admitted && s.opts.Limits.Connections > 0 && s.open >= s.opts.Limits.Connections
	if !over && !tc.admitted {
		tc.admitted = true
		s.open++
	}
	s.mu.Unlock()
	if over {
		err := s.reject(432, smtp.EnhancedCode{4, 3, 2}, "STOREDRV.ClientSubmit; sender thread limit exceeded")
		s.hangUp(c, err)
		return nil, err
	}
	_, isTLS := c.TLSConnectionState()
	return &session{s: s, c: c, tc: tc, tls: isTLS}, nil
}

// admittedClosed is called once when an admitted connection closes.
func (s *Server) admittedClosed() {
	s.mu.Lock()
	s.open--
	s.mu.Unlock()
}

// session is one SMTP session; STARTTLS starts a new one on the same
// connection.
type session struct {
	s    *Server
	c    *smtp.Conn
	tc   *trackedConn
	tls  bool
	user string
	from string
	to   []string
}

var _ smtp.AuthSession = (*session)(nil)

func (ss *session) AuthMechanisms() []string { return ss.s.opts.Auth }

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if !slices.Contains(ss.s.opts.Auth, mech) {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	o := ss.s.opts
	password := func(mech, user, pass string) error {
		if o.BasicAuthDisabled {
			return ss.authFailed(ss.s.reject(550, smtp.EnhancedCode{5, 7, 30}, "Basic authentication is not supported for Client Submission"))
		}
		if user != o.Username || pass != o.Password {
			return ss.authFailed(ss.s.reject(535, smtp.EnhancedCode{5, 7, 8}, "Authentication unsuccessful"))
		}
		return ss.authOK(mech, user)
	}
	switch mech {
	case "PLAIN":
		return sasl.NewPlainServer(func(identity, user, pass string) error {
			return password(mech, user, pass)
		}), nil
	case "LOGIN":
		return &loginServer{check: func(user, pass string) error {
			return password(mech, user, pass)
		}}, nil
	default: // XOAUTH2
		return &xoauth2Server{check: func(user, token string) error {
			if token != o.Token || (o.Username != "" && user != o.Username) {
				return ss.authFailed(ss.s.reject(535, smtp.EnhancedCode{5, 7, 3}, "Authentication unsuccessful"))
			}
			return ss.authOK(mech, user)
		}}, nil
	}
}

func (ss *session) authOK(mech, user string) error {
	ss.user = user
	ss.s.mu.Lock()
	ss.s.stats.Auth[mech]++
	ss.s.mu.Unlock()
	return nil
}

func (ss *session) authFailed(err error) error {
	ss.s.mu.Lock()
	ss.s.stats.AuthFailures++
	ss.s.mu.Unlock()
	return err
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	s := ss.s
	if len(s.opts.Auth) > 0 && ss.user == "" {
		return s.reject(530, smtp.EnhancedCode{5, 7, 57}, "Client not authenticated to send mail")
	}
	s.mu.Lock()
	drop := s.opts.DropAfter > 0 && ss.tc.messages >= s.opts.DropAfter
	s.mu.Unlock()
	if drop {
		s.hangUp(ss.c, nil)
		return errors.New("dropped")
	}
	if n := s.opts.Limits.MessagesPerMinute; n > 0 && s.countSince(from, time.Minute, false) >= n {
		err := s.reject(421, smtp.EnhancedCode{4, 4, 2}, "Message submission rate for this client has exceeded the configured limit")
		s.hangUp(ss.c, err)
		return err
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if slices.ContainsFunc(ss.s.opts.RejectRecipients, func(r string) bool { return strings.EqualFold(r, to) }) {
		return ss.s.reject(550, smtp.EnhancedCode{5, 1, 10}, "RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup")
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	s := ss.s
	// The whole message is read before any verdict: a client that is
	// still writing when the connection closes sees a write error, not
	// the reply under test.
	var data []byte
	var err error
	if s.opts.Discard {
		_, err = io.Copy(io.Discard, r)
	} else {
		data, err = io.ReadAll(r)
	}
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.dataCount++
	dropInData := s.opts.DropInData > 0 && s.dataCount == s.opts.DropInData
	fail := s.failed < s.opts.FailNext
	if fail {
		s.failed++
	}
	s.mu.Unlock()

	switch {
	case dropInData:
		s.hangUp(ss.c, nil)
		return errors.New("dropped")
	case fail && s.opts.FailCode == 421:
		err := s.reject(421, smtp.EnhancedCode{4, 3, 2}, "Service not available, closing transmission channel")
		s.hangUp(ss.c, err)
		return err
	case fail:
		code := s.opts.FailCode
		return s.reject(code, smtp.EnhancedCode{code / 100, 7, 500}, "Server busy, please try again later")
	}
	if n := s.opts.Limits.RecipientsPerDay; n > 0 && s.countSince(ss.from, 24*time.Hour, true)+len(ss.to) > n {
		return s.reject(554, smtp.EnhancedCode{5, 2, 0}, "STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message due to a permanent exception with message Cannot submit message.")
	}

	now := s.opts.Now()
	s.mu.Lock()
	s.received = append(s.received, Received{
		From: ss.from, To: slices.Clone(ss.to), Data: data, At: now, User: ss.user, TLS: ss.tls,
	})
	s.stats.Messages++
	ss.tc.messages++
	key := strings.ToLower(ss.from)
	s.sent[key] = append(s.sent[key], sendEvent{at: now, rcpts: len(ss.to)})
	s.mu.Unlock()
	return nil
}

// countSince counts the messages (or, with rcpts, the recipients) a sender
// had accepted within d before now, and forgets those older than a day.
func (s *Server) countSince(from string, d time.Duration, rcpts bool) int {
	now := s.opts.Now()
	key := strings.ToLower(from)
	s.mu.Lock()
	defer s.mu.Unlock()
	events := s.sent[key]
	// Events are in clock order, so the ones a day old are a prefix.
	i := 0
	for i < len(events) && !events[i].at.After(now.Add(-24*time.Hour)) {
		i++
	}
	events = events[i:]
	s.sent[key] = events
	n := 0
	for _, e := range events {
		if e.at.After(now.Add(-d)) {
			if rcpts {
				n += e.rcpts
			} else {
				n++
			}
		}
	}
	return n
}

func (ss *session) Reset() {
	ss.from, ss.to = "", nil
}

func (ss *session) Logout() error { return nil }

// countingListener counts connections and wraps each so the server knows
// when an admitted one closes.
type countingListener struct {
	net.Listener
	s *Server
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.s.mu.Lock()
	l.s.stats.Connections++
	l.s.mu.Unlock()
	return &trackedConn{Conn: c, s: l.s}, nil
}

// trackedConn is one TCP connection, below any TLS.
type trackedConn struct {
	net.Conn
	s        *Server
	once     sync.Once
	admitted bool // guarded by s.mu
	messages int  // accepted on this connection; guarded by s.mu
}

// pipeliningLine is how go-smtp lists the extension: never the reply's
// first or last line.
var pipeliningLine = []byte("250-PIPELINING\r\n")

func (c *trackedConn) Write(p []byte) (int, error) {
	if !c.s.opts.NoPipelining || !bytes.Contains(p, pipeliningLine) {
		return c.Conn.Write(p)
	}
	if _, err := c.Conn.Write(bytes.Replace(p, pipeliningLine, nil, 1)); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.s.mu.Lock()
		admitted := c.admitted
		c.s.mu.Unlock()
		if admitted {
			c.s.admittedClosed()
		}
	})
	return c.Conn.Close()
}

// tracked finds the trackedConn under a connection go-smtp holds, which
// may be wrapped in TLS.
func tracked(c net.Conn) *trackedConn {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	return c.(*trackedConn)
}

// lockedBuffer is a transcript written by every connection's goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Clock is a clock for Options.Now that moves only when told, so that
// tests of the limits need not wait.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock showing t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
