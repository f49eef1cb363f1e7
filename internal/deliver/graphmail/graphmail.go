// Package graphmail sends messages through Microsoft Graph's sendMail
// (internal/graph's client) and classifies every failure as a
// *deliver.SendError for the delivery engine.
package graphmail

// How failures are classified. The delivery engine, not this adapter,
// decides what happens after a failure; Send says whether a retry can help
// (Temporary), whether the failure concerns the mailbox rather than this
// recipient (Connection), and whether Graph may have taken the message
// after all (deliver.ErrMaybeSent):
//
//   - 202: sent. Graph accepted the message for delivery, which is what the
//     ledger's "sent" means; a bounce, if any, comes later to the mailbox.
//   - 429, 503: temporary, with Graph's Retry-After. internal/graph has
//     already waited out and retried several; this is what was left.
//   - the request went out whole and no answer came, or 504 (a gateway gave
//     up waiting on Exchange): Graph may have the message. Sending it again
//     could deliver it twice, so it is reported maybe-sent, never retried.
//   - no request went out whole (the connection failed first): temporary.
//   - 400 (ErrorInvalidRecipients, a message Graph will not take) and 413 or
//     a message over 4 MB: permanent, for that recipient.
//   - 401, 403, 404, and refusals that name the mailbox (send-as denied,
//     submission blocked): permanent for the mailbox. Failing recipients one
//     by one for a setting would fail a whole wave, so the engine stops the
//     mailbox instead and leaves the message pending.
//   - no token: permanent for the mailbox when the identity platform said
//     no (4xx), temporary when it could not be reached.
//   - 500, 502 and other 5xx: temporary.
//
// The text of every failure carries Graph's answer and what to do about
// it: it ends up in the ledger, in `nudge status` and in the run's error.

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/nudge-passkeys/nudge/internal/deliver"
	"github.com/nudge-passkeys/nudge/internal/graph"
	"github.com/nudge-passkeys/nudge/internal/untrusted"
)

// Mailer sends one message from a mailbox through Graph: *graph.Client.
type Mailer interface {
	SendMail(ctx context.Context, sender string, m *deliver.Message, o graph.MailOptions) error
}

// Sender sends every message from one mailbox.
type Sender struct {
	mailer  Mailer
	mailbox string
	opts    graph.MailOptions
}

var _ deliver.Sender = (*Sender)(nil)

// New returns a Sender that sends from mailbox (a UPN, mail address or
// object id) through m.
func New(m Mailer, mailbox string, o graph.MailOptions) *Sender {
	return &Sender{mailer: m, mailbox: mailbox, opts: o}
}

// Send hands m to Graph and returns nil once Graph accepted it (202), or a
// *deliver.SendError.
func (s *Sender) Send(ctx context.Context, m *deliver.Message) error {
	err := s.mailer.SendMail(ctx, s.mailbox, m, s.opts)
	if err == nil {
		return nil
	}
	return Classify(err)
}

// Check signs in when the Mailer can (a *graph.Client can), so that a
// credential that does not work is found before any ledger change.
func (s *Sender) Check(ctx context.Context) error {
	if c, ok := s.mailer.(interface{ CheckSignIn(context.Context) error }); ok {
		return c.CheckSignIn(ctx)
	}
	return nil
}

// mailboxCodes are refusals that concern the sending mailbox, not the
// recipient, whatever their status.
var mailboxCodes = map[string]bool{
	"ErrorAccessDenied":             true,
	"ErrorSendAsDenied":             true,
	"ErrorMessageSubmissionBlocked": true,
	"ErrorInvalidUser":              true,
	"MailboxNotEnabledForRESTAPI":   true,
	"ErrorQuotaExceeded":            true,
}

// Classify turns an error of graph.Client.SendMail into the
// *deliver.SendError the engine acts on.
func Classify(err error) *deliver.SendError {
	var me *graph.MailError
	if !errors.As(err, &me) {
		// Not explained: never a failed person for good.
		return &deliver.SendError{Temporary: true, Err: err}
	}
	e := me.Err
	f := &failure{me}
	se := &deliver.SendError{Code: e.Status, RetryAfter: me.RetryAfter, Err: f}
	switch {
	case me.SignIn:
		se.Connection = true
		se.Temporary = e.Status == 0 || e.Status >= 500
	case me.Unanswered || e.Status == http.StatusGatewayTimeout:
		se.Temporary = true
		se.Err = fmt.Errorf("%w (%w)", f, deliver.ErrMaybeSent)
	case errors.Is(err, graph.ErrMailTooLarge) || e.Status == http.StatusRequestEntityTooLarge:
		// Permanent, for this message.
	case e.Status == 0:
		se.Temporary = true
	case e.Status == http.StatusTooManyRequests || e.Status == http.StatusServiceUnavailable:
		se.Temporary = true
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden || e.Status == http.StatusNotFound || mailboxCodes[e.Code]:
		se.Connection = true
	case e.Status >= 400 && e.Status < 500:
		// Permanent, for this message: ErrorInvalidRecipients and the like.
	default:
		se.Temporary = true
	}
	return se
}

// failure is a refused message in Graph's words, with what to do about it
// on the same line: the engine and the ledger keep only the text.
type failure struct{ me *graph.MailError }

func (f *failure) Error() string {
	s := untrusted.OneLine(f.me.Error())
	if h := f.me.Err.Hint; h != "" {
		s += "; " + h
	}
	return s
}

func (f *failure) Unwrap() error { return f.me }
