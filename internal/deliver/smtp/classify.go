package smtp

// How failures are classified. The delivery engine, not this adapter,
// decides what happens after a failure, so every failure leaves Send as a
// *deliver.SendError saying whether a retry can help (Temporary), whether
// it concerns the session rather than this recipient (Connection), and the
// server's own codes:
//
//   - no reply at all (refused, reset, timed out, EOF): temporary, connection;
//   - 4xx: temporary; connection for 421, 432 and anything before MAIL FROM;
//   - 5xx: permanent, for this recipient at RCPT TO and at the end of DATA;
//     for the session before RCPT TO (greeting, EHLO, STARTTLS, AUTH, MAIL
//     FROM) and for codes that say this sender may not send at all (535,
//     5.7.30, 5.7.57, 5.7.60, 5.7.139). Failing recipients one by one for a
//     setting would fail a whole wave, so those stop the session instead;
//   - 554 5.2.0 with Exchange's quota exception: temporary, connection, with
//     RetryAfter a day, since the server names no time and its window is a
//     rolling 24 hours;
//   - a TLS handshake that fails, STARTTLS not offered, an AUTH the server
//     lacks, no token: permanent, connection (a retry cannot fix a setting);
//   - a message that cannot be encoded or addressed: permanent, for it alone.
//
// Nothing here ever formats a password or token: replies are the server's
// words, and the Sender scrubs secrets from the final text in case a
// server echoes one.

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strings"
	"time"

	"github.com/nudge-passkeys/nudge/internal/deliver"
	"github.com/nudge-passkeys/nudge/internal/untrusted"
)

// ErrOutcomeUnknown is wrapped by a failure after the whole message went
// to the server but before its reply came: the message may have been
// accepted, so a retry may send it twice. The engine decides; Send never
// retries such a message itself.
var ErrOutcomeUnknown = deliver.ErrMaybeSent

// quotaRetryAfter is the hint given with Exchange's daily quota refusal.
const quotaRetryAfter = 24 * time.Hour

// step is a stage of the SMTP conversation, in order.
type step int

const (
	stepDial step = iota
	stepTLS
	stepGreeting
	stepHello
	stepStartTLS
	stepToken
	stepAuth
	stepMail // the first step of a message; before it, the session is set up
	stepRcpt
	stepData
	stepBody
	stepEnd
	stepQuit
)

// op is what the Sender was doing, for the error's text.
type op struct {
	step step
	arg  string // the address, mechanism or host:port it concerned
}

func (o op) String() string {
	switch o.step {
	case stepDial:
		return "cannot connect to " + o.arg
	case stepTLS:
		return "TLS with " + o.arg
	case stepGreeting:
		return "greeting"
	case stepHello:
		return "EHLO"
	case stepStartTLS:
		return "STARTTLS"
	case stepToken:
		return "getting an OAuth token for XOAUTH2"
	case stepAuth:
		return "AUTH " + o.arg
	case stepMail:
		return "MAIL FROM:<" + o.arg + ">"
	case stepRcpt:
		return "RCPT TO:<" + o.arg + ">"
	case stepData:
		return "DATA"
	case stepBody:
		return "sending the message"
	case stepEnd:
		return "end of DATA"
	}
	return "QUIT"
}

// opError is a failure before classification.
type opError struct {
	op  op
	err error
	// setting marks a failure a retry cannot fix: STARTTLS not offered,
	// AUTH not offered, go-mail refusing to send a password.
	setting bool
}

func (e *opError) Error() string { return "smtp: " + e.op.String() + ": " + e.err.Error() }
func (e *opError) Unwrap() error { return e.err }

// replyError is a refusal in the server's words, with what was being done
// and, for refusals people meet often, what to do about it.
type replyError struct {
	op    op
	text  string // one line, without the codes
	hint  string
	reply *textproto.Error
}

func (e *replyError) Error() string {
	said := e.op.String() + ": server said: " + e.text
	if e.hint != "" {
		return "smtp: " + e.hint + " (" + said + ")"
	}
	return "smtp: " + said
}

func (e *replyError) Unwrap() error { return e.reply }

// classify turns a failure into the SendError the engine acts on.
func classify(oe *opError) *deliver.SendError {
	var reply *textproto.Error
	if errors.As(oe.err, &reply) {
		return classifyReply(oe.op, reply)
	}
	setup := oe.op.step < stepMail
	se := &deliver.SendError{Err: oe}
	var dns *net.DNSError
	switch {
	case oe.setting:
		se.Connection = true
	case oe.op.step == stepDial && errors.As(oe.err, &dns) && dns.IsNotFound:
		se.Connection = true // a misspelt host does not come back
	case isTransport(oe.err):
		se.Temporary, se.Connection = true, true
		if oe.op.step == stepEnd {
			se.Err = fmt.Errorf("smtp: %s: %w (%w)", oe.op, ErrOutcomeUnknown, oe.err)
		}
	case oe.op.step == stepTLS || oe.op.step == stepStartTLS:
		// Not a dropped connection, so the handshake itself failed: an
		// untrusted or wrong certificate, or no common version.
		se.Connection = true
		if errors.As(oe.err, new(*tls.CertificateVerificationError)) {
			se.Err = fmt.Errorf("%w (check host; a server with a private CA needs its certificate in ca_file)", oe)
		}
	case setup:
		se.Connection = true
	case oe.op.step == stepEnd:
		// A garbled reply: the session is lost, and so is the verdict.
		se.Temporary, se.Connection = true, true
		se.Err = fmt.Errorf("smtp: %s: %w (%w)", oe.op, ErrOutcomeUnknown, oe.err)
	case oe.op.step == stepBody:
		se.Temporary, se.Connection = true, true
	}
	// What is left is a message go-mail refused to send (an address with
	// a line break): permanent, for that message.
	return se
}

func classifyReply(o op, reply *textproto.Error) *deliver.SendError {
	enhanced, text := parseReply(reply.Msg)
	se := &deliver.SendError{Code: reply.Code, Enhanced: enhanced}
	setup := o.step < stepMail
	switch {
	case isQuota(reply.Code, enhanced, reply.Msg):
		se.Temporary, se.Connection, se.RetryAfter = true, true, quotaRetryAfter
	case reply.Code >= 400 && reply.Code < 500:
		se.Temporary = true
		se.Connection = setup || reply.Code == 421 || reply.Code == 432
	case reply.Code >= 500 && reply.Code < 600:
		se.Connection = setup || o.step == stepMail || reply.Code == 535 || sessionWide[enhanced]
	default:
		// A reply out of its place: client and server no longer agree on
		// where the session is.
		se.Temporary, se.Connection = true, true
	}
	se.Err = &replyError{op: o, text: text, hint: hint(o, reply, enhanced), reply: reply}
	return se
}

// sessionWide are refusals that concern the sender, not the recipient.
var sessionWide = map[string]bool{
	"5.7.30":  true, // basic authentication turned off
	"5.7.57":  true, // not authenticated
	"5.7.60":  true, // may not send as this address
	"5.7.139": true, // SMTP AUTH turned off for the mailbox or tenant
}

// hint says what to do about the refusals people meet often.
func hint(o op, reply *textproto.Error, enhanced string) string {
	code := reply.Code
	switch {
	case enhanced == "5.7.30":
		return "Exchange Online has turned off basic SMTP AUTH for this tenant (5.7.30): use auth: xoauth2 with an app registration, or the High Volume Email endpoint"
	case enhanced == "5.7.139":
		return "Exchange Online refused SMTP AUTH (5.7.139): authenticated SMTP or basic authentication is turned off for this mailbox or tenant; turn on SMTP AUTH for the sending mailbox and use auth: xoauth2"
	case enhanced == "5.7.57":
		return "the server accepts mail only from authenticated senders: set auth"
	case enhanced == "5.7.60":
		return "the account may not send as this address: grant it Send As on the From mailbox, or send from the mailbox it signs in as"
	case code == 535 && o.arg == "XOAUTH2":
		return "authentication refused: check that the app registration has SMTP.SendAsApp, that its service principal has access to the mailbox, and that username is that mailbox"
	case code == 535:
		return "authentication refused: check username and password"
	case isQuota(code, enhanced, reply.Msg):
		return "the sending mailbox has reached Exchange Online's recipient limit (10,000 in a rolling 24 hours); sending can go on as earlier messages age out"
	}
	return ""
}

// isQuota recognises Exchange's daily submission quota refusal.
func isQuota(code int, enhanced, msg string) bool {
	return code == 554 && enhanced == "5.2.0" && strings.Contains(strings.ToLower(msg), "quota")
}

// parseReply splits a reply's text into its enhanced status code (RFC
// 3463, from the first line) and its words on one line. Replies are the
// server's text, so control characters are folded away.
func parseReply(msg string) (enhanced, text string) {
	lines := strings.Split(msg, "\n")
	for i, line := range lines {
		code, rest := cutEnhanced(line)
		if i == 0 {
			enhanced = code
		}
		lines[i] = rest
	}
	return enhanced, untrusted.OneLine(strings.Join(lines, " "))
}

func cutEnhanced(line string) (code, rest string) {
	first, rest, _ := strings.Cut(line, " ")
	parts := strings.Split(first, ".")
	if len(parts) != 3 || len(parts[0]) != 1 || !strings.Contains("245", parts[0]) {
		return "", line
	}
	for _, p := range parts[1:] {
		if p == "" || len(p) > 3 || strings.Trim(p, "0123456789") != "" {
			return "", line
		}
	}
	return first, rest
}

// isTransport reports whether err is the connection failing rather than
// the server answering.
func isTransport(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return true
	}
	// Reads, writes and dials fail as *net.OpError (reset, refused,
	// broken pipe, unreachable, on every OS), except the alert a TLS peer
	// sends to refuse a handshake, which is a settings problem.
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op != "remote error"
}
