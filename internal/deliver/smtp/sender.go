// Package smtp sends messages over SMTP with go-mail: STARTTLS (required
// by default) or implicit TLS, XOAUTH2 for Exchange Online or PLAIN/LOGIN
// for other relays, one connection reused for many messages, and every
// failure classified as a *deliver.SendError for the delivery engine.
//
// It sends the exact bytes of deliver.Message.WriteTo, nudge's own MIME
// encoding, through go-mail's protocol client (github.com/wneessen/go-mail/smtp);
// go-mail's message builder is not used, so what the preview and outbox
// show is what goes out.
package smtp

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/textproto"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nudge-passkeys/nudge/internal/deliver"
	gosmtp "github.com/wneessen/go-mail/smtp"
)

// Sender sends messages over one SMTP connection, opened at the first Send
// and kept for the next ones. A Sender is for one goroutine at a time: the
// engine uses one Sender per connection it wants.
type Sender struct {
	cfg  Config
	conn *conn // nil until the first Send, and after a failure that ends the session
	buf  bytes.Buffer
	data []byte // buf dot-stuffed, for a message not encoded ahead
	// token is the last OAuth token fetched, kept only to scrub it from
	// errors.
	token string
}

var _ deliver.GatedSender = (*Sender)(nil)

// conn is one SMTP session.
type conn struct {
	c   *gosmtp.Client
	raw net.Conn // under any TLS; deadlines are set here
	// pipelining is true when the server offers PIPELINING (RFC 2920):
	// MAIL, RCPT and DATA then go in one write, and their replies come
	// back together, two round trips a message instead of four.
	pipelining bool
	// mailParams are what MAIL FROM carries after the address, as go-mail
	// adds them when the server offers the extensions.
	mailParams string
}

// New checks cfg and returns a Sender. It does no network I/O: a bad
// configuration is reported before anything else happens, and an
// unreachable host at the first Send (or Check).
func New(cfg Config) (*Sender, error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	return &Sender{cfg: cfg}, nil
}

// Send hands m to the server: MAIL FROM (Config.EnvelopeFrom, or m's From
// address), RCPT TO m's To address, and DATA with the bytes of m.WriteTo.
// A connection that died while idle is replaced once, as long as the
// message cannot have reached the server; any other failure is returned,
// classified.
func (s *Sender) Send(ctx context.Context, m *deliver.Message) error {
	return s.send(ctx, m, nil)
}

// SendGated is Send, calling gate once the message's data is with the
// server and only its end is left to send: the server cannot accept the
// message before that end. When gate fails, the end is never sent and the
// connection is closed, which makes the server drop the transaction; the
// next message opens a new one.
func (s *Sender) SendGated(ctx context.Context, m *deliver.Message, gate func() error) error {
	return s.send(ctx, m, gate)
}

// errGated is the error of a gate that held a message back.
type errGated struct{ err error }

func (e *errGated) Error() string {
	return "smtp: " + deliver.ErrGate.Error() + ": " + e.err.Error()
}
func (e *errGated) Unwrap() []error { return []error{deliver.ErrGate, e.err} }

func (s *Sender) send(ctx context.Context, m *deliver.Message, gate func() error) error {
	// The gate is asked once, even when a connection found dead is
	// replaced and the message started again.
	var gated bool
	var gateErr error
	once := func() error {
		if !gated && gate != nil {
			gated, gateErr = true, gate()
		}
		return gateErr
	}
	data := m.SMTPData()
	if data == nil {
		s.buf.Reset()
		if _, err := m.WriteTo(&s.buf); err != nil {
			return deliver.Permanent(fmt.Errorf("smtp: %w", err))
		}
		s.data = deliver.DotStuff(s.data[:0], s.buf.Bytes())
		data = s.data
	}
	from := cmp.Or(s.cfg.EnvelopeFrom, m.From.Email)
	if err := checkAddr(from); err != nil {
		return deliver.Permanent(fmt.Errorf("smtp: sender: %w", err))
	}
	if err := ctx.Err(); err != nil {
		return &deliver.SendError{Temporary: true, Err: fmt.Errorf("smtp: %w", err)}
	}

	w := s.watch(ctx)
	defer w.stop()
	reused := s.conn != nil
	var err error
	if reused {
		w.attach(s.conn.raw)
	} else {
		s.conn, err = s.open(ctx, w)
	}
	if err == nil {
		err = s.transact(w, from, m.To.Email, data, once)
	}
	if err != nil && reused && ctx.Err() == nil && deadIdle(err) {
		s.drop()
		if s.conn, err = s.open(ctx, w); err == nil {
			err = s.transact(w, from, m.To.Email, data, once)
		}
	}
	if err == nil {
		return nil
	}
	var held *errGated
	if errors.As(err, &held) {
		return held
	}
	se := s.failure(ctx, err)
	if se.Connection {
		s.drop()
	}
	return se
}

// deadIdle reports whether err shows a connection that died while it was
// idle: no reply at all before the message's data was complete, so the
// server cannot have taken it and a new connection may send it.
func deadIdle(err error) bool {
	var oe *opError
	var reply *textproto.Error
	return errors.As(err, &oe) && oe.op.step >= stepMail && oe.op.step <= stepBody &&
		!errors.As(err, &reply) && isTransport(oe.err)
}

// transact sends one message on the current connection: data is its
// dot-stuffed data (deliver.DotStuff), which goes out as it is; gate is
// asked before the final "." that ends it.
func (s *Sender) transact(w *watch, from, to string, data []byte, gate func() error) error {
	if err := s.envelope(w, from, to); err != nil {
		return err
	}
	tw := s.conn.c.Text.W
	w.extend()
	if _, err := tw.Write(data); err != nil {
		return &opError{op: op{stepBody, ""}, err: err}
	}
	if err := tw.Flush(); err != nil {
		return &opError{op: op{stepBody, ""}, err: err}
	}
	if err := gate(); err != nil {
		// SMTP has no way to take back data but to hang up: a server
		// drops a transaction whose data never ended.
		s.drop()
		return &errGated{err}
	}
	w.extend()
	tw.WriteString(".\r\n")
	if err := tw.Flush(); err != nil {
		return &opError{op: op{stepEnd, ""}, err: err}
	}
	w.extend()
	if _, _, err := s.conn.c.Text.ReadResponse(250); err != nil {
		return &opError{op: op{stepEnd, ""}, err: err}
	}
	return nil
}

// envelope sends MAIL FROM, RCPT TO and DATA, and reads their replies: the
// server then waits for the message's data.
func (s *Sender) envelope(w *watch, from, to string) error {
	c := s.conn.c
	if !s.conn.pipelining {
		w.extend()
		if err := c.Mail("<" + from + ">"); err != nil {
			return s.abort(w, op{stepMail, from}, err)
		}
		w.extend()
		if err := c.Rcpt("<" + to + ">"); err != nil {
			return s.abort(w, op{stepRcpt, to}, err)
		}
		// DATA by hand: go-mail's writer would dot-stuff the data a byte
		// at a time, and it is stuffed already.
		w.extend()
		c.Text.W.WriteString("DATA\r\n")
		err := c.Text.W.Flush()
		if err == nil {
			_, _, err = c.Text.ReadResponse(354)
		}
		if err != nil {
			return s.abort(w, op{stepData, ""}, err)
		}
		return nil
	}
	// An address with a line break would end the command early and start
	// another: refused, as go-mail's own commands refuse it.
	for _, a := range []struct {
		step step
		addr string
	}{{stepMail, from}, {stepRcpt, to}} {
		if strings.ContainsAny(a.addr, "\r\n") {
			return &opError{op: op{a.step, a.addr}, err: errors.New("an address must not contain a line break")}
		}
	}
	tw := c.Text.W
	tw.WriteString("MAIL FROM:<" + from + ">" + s.conn.mailParams + "\r\n")
	tw.WriteString("RCPT TO:<" + to + ">\r\n")
	tw.WriteString("DATA\r\n")
	w.extend()
	if err := tw.Flush(); err != nil {
		return &opError{op: op{stepMail, from}, err: err}
	}
	// The replies, in the commands' order. A server that closes the
	// session (421) or a connection that drops sends no more of them.
	replies := []struct {
		op   op
		code int
	}{{op{stepMail, from}, 250}, {op{stepRcpt, to}, 25}, {op{stepData, ""}, 354}}
	var first *opError
	dataOpen := false
	for _, r := range replies {
		w.extend()
		_, _, err := c.Text.ReadResponse(r.code)
		if err == nil {
			dataOpen = r.op.step == stepData
			continue
		}
		if first == nil {
			first = &opError{op: r.op, err: err}
		}
		var reply *textproto.Error
		if !errors.As(err, &reply) || reply.Code == 421 {
			// No more replies will come in order: the session is over,
			// or the replies still owed would answer the next message's
			// commands. Send drops the connection for a first failure
			// like this one, but not for an earlier refusal (a 450 to
			// RCPT, say), so it goes here.
			s.drop()
			return first
		}
	}
	switch {
	case first == nil:
		return nil
	case dataOpen:
		// DATA was taken although the envelope was refused: the server
		// waits for data that must not be sent, and only hanging up ends
		// that.
		s.drop()
		return first
	}
	return s.abort(w, first.op, first.err)
}

// abort ends a refused transaction with RSET, so the connection can carry
// the next message. A 421 or a dead connection is left for Send to drop.
func (s *Sender) abort(w *watch, o op, err error) error {
	var reply *textproto.Error
	if errors.As(err, &reply) && reply.Code != 421 {
		w.extend()
		if s.conn.c.Reset() != nil {
			s.drop()
		}
	}
	return &opError{op: o, err: err}
}

// open connects, greets, secures and authenticates a new session.
func (s *Sender) open(ctx context.Context, w *watch) (*conn, error) {
	addr := s.cfg.addr()
	// The token comes first: no connection waits on the identity
	// provider, and a credential that fails costs no connection.
	var auth gosmtp.Auth
	if s.cfg.Auth == "xoauth2" {
		tok, err := s.cfg.Token(ctx)
		if err == nil && tok == "" {
			err = errors.New("the token source returned an empty token")
		}
		if err != nil {
			return nil, &opError{op: op{stepToken, ""}, err: err}
		}
		s.token = tok
		auth = gosmtp.XOAuth2Auth(cmp.Or(s.cfg.Username, s.cfg.EnvelopeFrom), tok)
	}

	d := net.Dialer{Timeout: s.cfg.Timeout}
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, &opError{op: op{stepDial, addr}, err: err}
	}
	w.attach(raw)
	nc := raw
	if s.cfg.TLS == "implicit" {
		tc := tls.Client(raw, s.tlsConfig())
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, &opError{op: op{stepTLS, addr}, err: err}
		}
		nc = tc
	}
	c, err := gosmtp.NewClient(nc, s.cfg.Host)
	if err != nil {
		raw.Close()
		return nil, &opError{op: op{stepGreeting, ""}, err: err}
	}
	cn := &conn{c: c, raw: raw}
	fail := func(o op, err error, setting bool) (*conn, error) {
		cn.c.Close()
		return nil, &opError{op: o, err: err, setting: setting}
	}

	w.extend()
	if err := c.Hello(s.cfg.HelloName); err != nil {
		return fail(op{stepHello, ""}, err, false)
	}
	if s.cfg.TLS == "starttls" {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			// Never fall back to cleartext: the password, or the
			// messages themselves, would cross the network readable.
			return fail(op{stepStartTLS, ""}, fmt.Errorf(
				"%s does not offer STARTTLS, and tls: starttls never falls back to cleartext (use tls: implicit for port 465, or tls: none with allow_insecure: true for a trusted relay)", addr), true)
		}
		w.extend()
		if err := c.StartTLS(s.tlsConfig()); err != nil {
			return fail(op{stepStartTLS, ""}, err, false)
		}
	}
	if s.cfg.Auth == "none" {
		return cn.features(), nil
	}
	mech := strings.ToUpper(s.cfg.Auth)
	ok, offered := c.Extension("AUTH")
	if !ok {
		return fail(op{stepAuth, mech}, errors.New("the server offers no AUTH on this connection"), true)
	}
	if !slices.Contains(strings.Fields(strings.ToUpper(offered)), mech) {
		return fail(op{stepAuth, mech}, fmt.Errorf("the server offers AUTH %s, not %s", offered, mech), true)
	}
	// go-mail refuses PLAIN and LOGIN without TLS unless told; tls: none
	// was allowed on purpose (New checked allow_insecure).
	insecure := s.cfg.TLS == "none"
	switch s.cfg.Auth {
	case "plain":
		auth = gosmtp.PlainAuth("", s.cfg.Username, s.cfg.Password, s.cfg.Host, insecure)
	case "login":
		auth = gosmtp.LoginAuth(s.cfg.Username, s.cfg.Password, s.cfg.Host, insecure)
	}
	w.extend()
	if err := c.Auth(auth); err != nil {
		var reply *textproto.Error
		return fail(op{stepAuth, mech}, err, !errors.As(err, &reply) && !isTransport(err))
	}
	return cn.features(), nil
}

// features notes the extensions the session's last EHLO offered that
// sending uses.
func (cn *conn) features() *conn {
	cn.pipelining, _ = cn.c.Extension("PIPELINING")
	cn.mailParams = ""
	if ok, _ := cn.c.Extension("8BITMIME"); ok {
		cn.mailParams += " BODY=8BITMIME"
	}
	if ok, _ := cn.c.Extension("SMTPUTF8"); ok {
		cn.mailParams += " SMTPUTF8"
	}
	return cn
}

func (s *Sender) tlsConfig() *tls.Config {
	return &tls.Config{ServerName: s.cfg.Host, RootCAs: s.cfg.RootCAs, MinVersion: tls.VersionTLS12}
}

// failure classifies err, and says so plainly when it was ctx that ended.
func (s *Sender) failure(ctx context.Context, err error) *deliver.SendError {
	var oe *opError
	if !errors.As(err, &oe) {
		oe = &opError{op: op{stepQuit, ""}, err: err}
	}
	se := classify(oe)
	if cause := context.Cause(ctx); cause != nil && se.Code == 0 {
		// The I/O failed because ctx ended; say that, not "i/o timeout".
		se = &deliver.SendError{Temporary: true, Connection: true,
			Err: fmt.Errorf("smtp: %s: %w", oe.op, cause)}
		if oe.op.step == stepEnd {
			se.Err = fmt.Errorf("smtp: %s: %w: %w", oe.op, cause, ErrOutcomeUnknown)
		}
	}
	s.scrub(se)
	return se
}

// scrub removes the password and token from an error's text, in case a
// server echoed one back.
func (s *Sender) scrub(se *deliver.SendError) {
	msg := se.Err.Error()
	out := msg
	for _, secret := range []string{s.cfg.Password, s.token} {
		if len(secret) >= 4 {
			out = strings.ReplaceAll(out, secret, redacted)
		}
	}
	if out != msg {
		se.Err = &scrubbed{msg: out, err: se.Err}
	}
}

// scrubbed is an error whose text had a secret removed; it still unwraps,
// so errors.Is and errors.As work.
type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }

// drop closes the connection without QUIT: it is broken, or the server
// has ended the session.
func (s *Sender) drop() {
	if s.conn != nil {
		s.conn.c.Close()
		s.conn = nil
	}
}

// Check connects, greets, secures and authenticates as Send would, then
// QUITs: a configuration or an unreachable host shows up before any
// ledger change. It leaves no connection open.
func (s *Sender) Check(ctx context.Context) error {
	w := s.watch(ctx)
	defer w.stop()
	cn, err := s.open(ctx, w)
	if err != nil {
		return s.failure(ctx, err)
	}
	w.extend()
	if err := cn.c.Quit(); err != nil {
		cn.c.Close()
	}
	return nil
}

// Close ends the session with QUIT. A later Send opens a new one, so an
// engine that pauses for long can Close rather than hold a connection the
// server will time out.
func (s *Sender) Close() error {
	if s.conn == nil {
		return nil
	}
	cn := s.conn
	s.conn = nil
	cn.raw.SetDeadline(time.Now().Add(s.cfg.Timeout))
	if err := cn.c.Quit(); err != nil {
		cn.c.Close()
		if isTransport(err) {
			return nil // the server had already gone: nothing was lost
		}
		return fmt.Errorf("smtp: QUIT: %w", err)
	}
	return nil
}

// String describes the Sender without its secrets.
func (s *Sender) String() string { return "smtp.Sender(" + s.cfg.String() + ")" }

// Format prints String for every verb, so no verb reaches the password.
func (s *Sender) Format(f fmt.State, verb rune) { fmt.Fprint(f, s.String()) }

// LogValue logs the Sender as its Config, without secrets.
func (s *Sender) LogValue() slog.Value { return s.cfg.LogValue() }

// watch makes I/O on a connection honour ctx and Config.Timeout: each
// step gets a fresh deadline, and ctx ending moves the deadline to the
// past, which unblocks whatever read or write is under way.
type watch struct {
	timeout time.Duration
	stop    func() bool

	mu    sync.Mutex
	conn  net.Conn
	ended bool
}

func (s *Sender) watch(ctx context.Context) *watch {
	w := &watch{timeout: s.cfg.Timeout}
	w.stop = context.AfterFunc(ctx, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.ended = true
		if w.conn != nil {
			w.conn.SetDeadline(time.Unix(1, 0))
		}
	})
	return w
}

// attach puts c under the watch.
func (w *watch) attach(c net.Conn) {
	w.mu.Lock()
	w.conn = c
	w.mu.Unlock()
	w.extend()
}

// extend gives the next step its own Timeout, unless ctx has ended.
func (w *watch) extend() {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.conn == nil:
	case w.ended:
		w.conn.SetDeadline(time.Unix(1, 0))
	default:
		w.conn.SetDeadline(time.Now().Add(w.timeout))
	}
}
