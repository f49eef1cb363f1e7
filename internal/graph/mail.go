package graph

// Sending mail through Microsoft Graph: POST /users/{sender}/sendMail.
//
//   - MIME by default: the request body is the base64 of the exact bytes
//     deliver.Message.WriteTo writes, sent with Content-Type text/plain as
//     Graph documents. Message-ID, the X- headers, the plain-text and HTML
//     alternatives and the attachments arrive as nudge wrote them, the same
//     bytes the outbox holds and SMTP sends. Exchange keeps a copy of every
//     message sent as MIME in the sender's Sent Items; that cannot be
//     turned off.
//   - JSON (MailOptions.JSON) sends Graph's message resource instead. Its
//     sendMail takes one body, HTML or text, not multipart/alternative, so
//     the HTML goes and the plain-text alternative does not; only headers
//     named X-… can travel (internetMessageHeaders); attachments go as
//     fileAttachments; and saveToSentItems is honoured (false by default,
//     so a bulk wave does not fill the mailbox).
//   - A sendMail request is at most 4 MB (Graph takes attachments of up to
//     3 MB inline, base64). A bigger message fails before anything is sent
//     (ErrMailTooLarge): send a link to the file instead.
//   - 202 Accepted means Exchange took the message for delivery, not that it
//     was delivered: delivery is subject to Exchange's own limits, and a
//     bounce comes later to the sender's mailbox. A ledger's "sent" after
//     SendMail has that meaning, as it does after an SMTP 250.
//   - Request compression is off for this call. kiota builds its middleware
//     list from a map, so its compression handler lands before or after
//     nudge's retry handler at random; after it, a POST retried on 429 goes
//     out labelled gzip but no longer compressed, and Graph refuses it.
//   - Throttling (429, 503) is waited out by retryHandler, which sends a POST
//     again only on those answers, after Retry-After. A request that went
//     out whole and got no answer is never sent again here: Graph may have
//     taken it (MailError.Unanswered).

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	abs "github.com/microsoft/kiota-abstractions-go"
	khttp "github.com/microsoft/kiota-http-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/nudge-passkeys/nudge/internal/deliver"
	"github.com/nudge-passkeys/nudge/internal/untrusted"
)

// MaxMailRequest is the largest sendMail request body Graph takes.
const MaxMailRequest = 4 << 20

// ErrMailTooLarge is wrapped by SendMail's error for a message whose request
// would be over MaxMailRequest. Nothing was sent.
var ErrMailTooLarge = errors.New("the message is larger than Graph takes in one sendMail request (4 MB)")

// MailOptions say how SendMail sends.
type MailOptions struct {
	// JSON sends Graph's message resource (HTML body only) instead of the
	// message's MIME.
	JSON bool
	// SaveToSentItems keeps a copy in the sender's Sent Items. Only JSON
	// honours it: Exchange always keeps MIME messages.
	SaveToSentItems bool
}

// MailError is a message Graph did not take.
type MailError struct {
	// Err is what was asked, Graph's answer and a hint.
	Err *Error
	// RetryAfter is the wait Graph asked for with its last answer (429,
	// 503), 0 when it asked none.
	RetryAfter time.Duration
	// SignIn is true when no token could be had: nothing went to Graph.
	SignIn bool
	// Unanswered is true when the request went out whole and no answer
	// came: Graph may or may not have taken the message.
	Unanswered bool
}

func (e *MailError) Error() string { return e.Err.Error() }
func (e *MailError) Unwrap() error { return e.Err }

// SendMail sends m from the mailbox sender (a user's UPN, mail address or
// object id) and returns nil when Graph accepted it (202). Errors are a
// *MailError.
func (c *Client) SendMail(ctx context.Context, sender string, m *deliver.Message, o MailOptions) error {
	op := "POST /users/" + sender + "/sendMail"
	ri := c.request(abs.POST, "/users/"+sender+"/sendMail", nil)
	if o.JSON {
		body, err := jsonMail(m, o)
		if err != nil {
			return &MailError{Err: &Error{Op: op, Message: err.Error(), Err: err}}
		}
		ri.SetStreamContentAndContentType(body, "application/json")
	} else {
		var raw bytes.Buffer
		if _, err := m.WriteTo(&raw); err != nil {
			return &MailError{Err: &Error{Op: op, Message: err.Error(), Err: err}}
		}
		ri.SetStreamContentAndContentType([]byte(base64.StdEncoding.EncodeToString(raw.Bytes())), "text/plain")
	}
	if n := len(ri.Content); n > MaxMailRequest {
		return &MailError{Err: &Error{Op: op, Status: http.StatusRequestEntityTooLarge, Err: ErrMailTooLarge,
			Message: fmt.Sprintf("%v: this one makes a request of %.1f MB", ErrMailTooLarge, float64(n)/(1<<20)),
			Hint:    "attach nothing this large: put the file on the organisation's guide pages and send a link to it"}}
	}
	ri.AddRequestOptions([]abs.RequestOption{khttp.NewCompressionOptionsReference(false)})

	// Whether a request went out whole, and whether an answer came, tell
	// a message Graph never saw from one it may have taken. The sign-in
	// request counts too, and is answered or explained as a sign-in.
	var wrote, answered atomic.Int32
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err == nil {
				wrote.Add(1)
			}
		},
		GotFirstResponseByte: func() { answered.Add(1) },
	})
	err := c.adapter.SendNoContent(ctx, ri, abs.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue})
	if err == nil {
		return nil
	}
	me := &MailError{}
	var ge *Error
	if explained := c.explain(op, PermMailSend, err); errors.As(explained, &ge) {
		me.Err = ge
	} else {
		me.Err = &Error{Op: op, Message: firstLine(explained.Error()), Err: explained}
	}
	me.SignIn = strings.HasSuffix(me.Err.Op, ": signing in")
	me.Unanswered = !me.SignIn && me.Err.Status == 0 && wrote.Load() > answered.Load()
	var api abs.ApiErrorable
	if errors.As(err, &api) && api.GetResponseHeaders() != nil {
		if v := api.GetResponseHeaders().Get("Retry-After"); len(v) > 0 {
			me.RetryAfter, _ = retryAfter(v[0], c.now())
		}
	}
	if h := mailHint(sender, me.Err); h != "" {
		me.Err.Hint = h
	}
	return me
}

// mailHint says what to do about the sendMail refusals people meet, or ""
// to keep the general hint.
func mailHint(sender string, e *Error) string {
	switch {
	case e.Status == http.StatusForbidden && e.Code == "ErrorSendAsDenied":
		return fmt.Sprintf("the mailbox %s may not send as the message's From address: grant it Send As on the sender: mailbox in Exchange, or list the sender itself under senders:", sender)
	case e.Status == http.StatusForbidden:
		return fmt.Sprintf("the app needs the %s application permission with admin consent (Entra admin center > App registrations > nudge's app > API permissions > Microsoft Graph > Application permissions > %s > Grant admin consent); "+
			"and if Exchange scopes the app to some mailboxes (an application access policy, or RBAC for Applications), %s must be in that scope (Test-ApplicationAccessPolicy or Test-ServicePrincipalAuthorization -Resource %s shows whether it is)",
			PermMailSend, PermMailSend, sender, sender)
	case e.Status == http.StatusNotFound:
		return fmt.Sprintf("Exchange Online has no mailbox %s: check sender.address (or senders:) in the campaign file; it must be a user or shared mailbox in Exchange Online, not on-premises, and licensed or shared", sender)
	case e.Status == http.StatusBadRequest && e.Code == "ErrorInvalidRecipients":
		return "Exchange did not accept the recipient's address: check the person's mail attribute in the directory"
	case e.Status == http.StatusRequestEntityTooLarge:
		return "attach nothing this large: put the file on the organisation's guide pages and send a link to it"
	case e.Status == http.StatusTooManyRequests || e.Status == http.StatusServiceUnavailable:
		return fmt.Sprintf("Exchange kept throttling the mailbox %s after every retry: nudge pauses that mailbox and tries again; lower pacing: or add mailboxes under senders: if it keeps happening", sender)
	}
	return ""
}

// sendMailJSON is the JSON body of sendMail. It is written here rather
// than with the SDK's ItemSendMailPostRequestBody, which names its
// parameters "Message" and "SaveToSentItems" (the action's metadata) where
// Graph documents and shows "message" and "saveToSentItems".
type sendMailJSON struct {
	Message         mailJSON `json:"message"`
	SaveToSentItems bool     `json:"saveToSentItems"`
}

// mailJSON is the part of Graph's message resource nudge sends.
type mailJSON struct {
	Subject                string           `json:"subject"`
	Body                   bodyJSON         `json:"body"`
	From                   *recipientJSON   `json:"from,omitempty"`
	ToRecipients           []recipientJSON  `json:"toRecipients"`
	ReplyTo                []recipientJSON  `json:"replyTo,omitempty"`
	InternetMessageID      string           `json:"internetMessageId,omitempty"`
	InternetMessageHeaders []headerJSON     `json:"internetMessageHeaders,omitempty"`
	Attachments            []attachmentJSON `json:"attachments,omitempty"`
}

type bodyJSON struct {
	ContentType string `json:"contentType"`
	Content     string `json:"content"`
}

type recipientJSON struct {
	EmailAddress struct {
		Name    string `json:"name,omitempty"`
		Address string `json:"address"`
	} `json:"emailAddress"`
}

type headerJSON struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type attachmentJSON struct {
	ODataType    string `json:"@odata.type"`
	Name         string `json:"name"`
	ContentType  string `json:"contentType"`
	ContentBytes []byte `json:"contentBytes"` // base64, as Graph wants
}

// jsonMail is m as Graph's sendMail JSON body.
func jsonMail(m *deliver.Message, o MailOptions) ([]byte, error) {
	if m.Calendar != nil {
		return nil, errors.New("graph_mail.format json cannot carry a calendar invitation: use format mime")
	}
	if err := deliver.CheckAddress(m.To.Email); err != nil {
		return nil, fmt.Errorf("recipient: %w", err)
	}
	// The subject, names and header values are directory values and
	// template output: kept to one line, as nudge's own MIME does.
	msg := mailJSON{
		Subject:      untrusted.OneLine(m.Subject),
		Body:         bodyJSON{ContentType: "html", Content: m.HTML},
		From:         recipient(m.From),
		ToRecipients: []recipientJSON{*recipient(m.To)},
	}
	if m.ReplyTo != nil {
		msg.ReplyTo = []recipientJSON{*recipient(*m.ReplyTo)}
	}
	if m.ID != "" {
		msg.InternetMessageID = "<" + m.ID + ">"
	}
	for _, h := range m.Headers {
		// Graph refuses any other custom header.
		if strings.HasPrefix(strings.ToLower(h.Name), "x-") {
			msg.InternetMessageHeaders = append(msg.InternetMessageHeaders, headerJSON{Name: h.Name, Value: untrusted.OneLine(h.Value)})
		}
	}
	for _, a := range m.Attachments {
		ct := a.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		msg.Attachments = append(msg.Attachments, attachmentJSON{ODataType: "#microsoft.graph.fileAttachment", Name: a.Filename, ContentType: ct, ContentBytes: a.Data})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(sendMailJSON{Message: msg, SaveToSentItems: o.SaveToSentItems}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func recipient(a deliver.Address) *recipientJSON {
	r := &recipientJSON{}
	r.EmailAddress.Name = untrusted.OneLine(a.Name)
	r.EmailAddress.Address = a.Email
	return r
}

// Token returns an access token for scope (such as ExchangeScope()) from
// the credential the client signs in with, for a service other than Graph:
// SMTP's XOAUTH2. The token is a secret: never print or log it.
func (c *Client) Token(ctx context.Context, scope string) (string, error) {
	tok, err := c.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
	if err != nil {
		return "", c.explain("token for "+scope, "", err)
	}
	return tok.Token, nil
}

// CheckSignIn gets a token for Graph, so that a credential that does not
// work shows up before anything is sent or recorded.
func (c *Client) CheckSignIn(ctx context.Context) error {
	_, err := c.Token(ctx, c.base.String()+"/.default")
	return err
}

// ExchangeScope is the scope of a token for Exchange Online's SMTP
// (XOAUTH2) in the client's cloud.
func (c *Client) ExchangeScope() string {
	switch c.cfg.Cloud {
	case "usgov":
		return "https://outlook.office365.us/.default"
	case "usgovdod":
		return "https://outlook-dod.office365.us/.default"
	case "china":
		return "https://partner.outlook.cn/.default"
	}
	return "https://outlook.office365.com/.default"
}
