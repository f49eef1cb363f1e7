package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
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

	"github.com/nudge-passkeys/nudge/internal/deliver"
	"github.com/nudge-passkeys/nudge/internal/graph"
	"github.com/nudge-passkeys/nudge/internal/graph/graphtest"
)

const mailbox = "it-security@contoso.example"

// mailTenant has the sending mailbox and the default app.
func mailTenant() *graphtest.Tenant {
	return &graphtest.Tenant{
		ID:   graphtest.DefaultTenantID,
		Apps: []graphtest.App{{ClientID: graphtest.DefaultClientID, Secret: graphtest.DefaultClientSecret}},
		Users: []json.RawMessage{json.RawMessage(`{"id":"4f0c2a5e-8d1b-4c3a-9e7f-1a2b3c4d5e6f","userPrincipalName":"` + mailbox +
			`","mail":"` + mailbox + `","displayName":"Contoso IT Security","accountEnabled":true,"userType":"Member"}`)},
	}
}

func mailServer(t *testing.T, faults ...graphtest.Fault) (*graphtest.Server, *graph.Client) {
	t.Helper()
	s := graphtest.Start(t, graphtest.Options{Tenant: mailTenant(), Faults: faults})
	return s, client(t, config(t, s))
}

func message(name, addr string) *deliver.Message {
	return &deliver.Message{
		ID:      deliver.MessageID("contoso.example", "c", "w", addr),
		Date:    time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC),
		From:    deliver.Address{Name: "Contoso IT Security", Email: mailbox},
		To:      deliver.Address{Name: name, Email: addr},
		ReplyTo: &deliver.Address{Email: "helpdesk@contoso.example"},
		Subject: name + ", sign in without a password",
		Headers: []deliver.Header{{Name: "X-Nudge-Wave", Value: "announce"}, {Name: "Auto-Submitted", Value: "auto-generated"}},
		Text:    "Hello " + name,
		HTML:    "<p>Hello " + name + "</p>",
	}
}

// hostileNames are the display names of the shared test corpus.
func hostileNames(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testcorpus", "hostile-names.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []struct {
		DisplayName string `json:"displayName"`
	}
	if err := json.Unmarshal(data, &rows); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range rows {
		if r.DisplayName != "" {
			names = append(names, r.DisplayName)
		}
	}
	return names
}

// sendMailRequests are the sendMail requests s received.
func sendMailRequests(s *graphtest.Server) []graphtest.Request {
	var out []graphtest.Request
	for _, r := range s.Requests() {
		if strings.HasSuffix(r.Path, "/sendMail") {
			out = append(out, r)
		}
	}
	return out
}

func TestSendMailMIME(t *testing.T) {
	s, c := mailServer(t)
	names := hostileNames(t)
	for i, name := range names {
		m := message(name, "person"+string(rune('a'+i%26))+"@contoso.example")
		if err := c.SendMail(context.Background(), mailbox, m, graph.MailOptions{}); err != nil {
			t.Fatalf("%q: %v", name, err)
		}
	}
	sent := s.Mail()
	if len(sent) != len(names) {
		t.Fatalf("graphtest took %d messages, want %d", len(sent), len(names))
	}
	for i, got := range sent {
		name := names[i]
		want := message(name, "person"+string(rune('a'+i%26))+"@contoso.example")
		var buf bytes.Buffer
		want.WriteTo(&buf)
		if !bytes.Equal(got.MIME, buf.Bytes()) {
			t.Errorf("%q: Graph got other bytes than deliver.Message.WriteTo writes", name)
		}
		if got.Mailbox != mailbox || !got.SaveToSentItems {
			t.Errorf("%q: mailbox %q, saved %v", name, got.Mailbox, got.SaveToSentItems)
		}
		msg, err := mail.ReadMessage(bytes.NewReader(got.MIME))
		if err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		// Exactly nudge's headers: a name cannot add one (Bcc, a second
		// Subject).
		var fields []string
		for k := range msg.Header {
			fields = append(fields, k)
		}
		slices.Sort(fields)
		if strings.Join(fields, " ") != "Auto-Submitted Content-Type Date From Message-Id Mime-Version Reply-To Subject To X-Nudge-Wave" {
			t.Errorf("%q: header fields %v", name, fields)
		}
		if len(msg.Header["Subject"]) != 1 || len(msg.Header["To"]) != 1 {
			t.Errorf("%q: Subject or To appears more than once", name)
		}
		to, err := msg.Header.AddressList("To")
		if err != nil || len(to) != 1 || to[0].Address != want.To.Email {
			t.Errorf("%q: To %v (%v)", name, to, err)
		}
		if id := msg.Header.Get("Message-Id"); id != "<"+want.ID+">" {
			t.Errorf("%q: Message-ID %q, want <%s>", name, id, want.ID)
		}
		subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		if err != nil || !strings.HasSuffix(subject, ", sign in without a password") {
			t.Errorf("%q: Subject %q (%v)", name, subject, err)
		}
		// The text alternative travels with the HTML.
		_, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
		parts := multipart.NewReader(msg.Body, params["boundary"])
		var types []string
		for {
			p, err := parts.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%q: %v", name, err)
			}
			types = append(types, strings.Split(p.Header.Get("Content-Type"), ";")[0])
		}
		if strings.Join(types, ",") != "text/plain,text/html" {
			t.Errorf("%q: parts %v", name, types)
		}
	}
	for _, r := range sendMailRequests(s) {
		if r.Header.Get("Content-Encoding") != "" || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
			t.Errorf("sendMail sent Content-Encoding %q, Content-Type %q", r.Header.Get("Content-Encoding"), r.Header.Get("Content-Type"))
		}
	}
}

func TestSendMailJSON(t *testing.T) {
	s, c := mailServer(t)
	m := message("Ann\r\nBcc: x@evil.example", "ann@contoso.example")
	m.Attachments = []deliver.Attachment{{Filename: "guide.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.7 guide")}}
	if err := c.SendMail(context.Background(), mailbox, m, graph.MailOptions{JSON: true}); err != nil {
		t.Fatal(err)
	}
	sent := s.Mail()
	if len(sent) != 1 {
		t.Fatalf("%d messages", len(sent))
	}
	got := sent[0]
	if got.SaveToSentItems {
		t.Error("saveToSentItems is true; the default for bulk is false")
	}
	msg := got.Message
	if msg.Body.ContentType != "html" || msg.Body.Content != m.HTML {
		t.Errorf("body %+v", msg.Body)
	}
	if len(msg.ToRecipients) != 1 || msg.ToRecipients[0].EmailAddress.Address != "ann@contoso.example" || msg.ToRecipients[0].EmailAddress.Name != "Ann  Bcc: x@evil.example" {
		t.Errorf("to %+v", msg.ToRecipients)
	}
	if len(msg.BccRecipients)+len(msg.CcRecipients) != 0 || strings.ContainsAny(msg.Subject, "\r\n") {
		t.Errorf("a display name added recipients or lines: %+v", msg)
	}
	if len(msg.InternetMessageHeaders) != 1 || msg.InternetMessageHeaders[0].Name != "X-Nudge-Wave" {
		t.Errorf("headers %+v (only X- headers can go)", msg.InternetMessageHeaders)
	}
	if len(msg.Attachments) != 1 || msg.Attachments[0].Name != "guide.pdf" || string(msg.Attachments[0].ContentBytes) != "%PDF-1.7 guide" {
		t.Errorf("attachments %+v", msg.Attachments)
	}
	reqs := sendMailRequests(s)
	if !bytes.Contains(reqs[0].Body, []byte(`"internetMessageId":"<`+m.ID+`>"`)) {
		t.Errorf("no internetMessageId in %s", reqs[0].Body)
	}

	if err := c.SendMail(context.Background(), mailbox, m, graph.MailOptions{JSON: true, SaveToSentItems: true}); err != nil {
		t.Fatal(err)
	}
	if !s.Mail()[1].SaveToSentItems {
		t.Error("SaveToSentItems: true was not sent")
	}
}

// TestSendMailThrottled: a 429 with Retry-After is waited out and the same
// message sent again, once, uncompressed and unlabelled, whichever order
// kiota put its middleware in (it differs from client to client).
func TestSendMailThrottled(t *testing.T) {
	for i := range 6 {
		retryAfter := "0"
		if i == 0 {
			retryAfter = "1"
		}
		s, c := mailServer(t, graphtest.Fault{Path: "/v1.0/users/", Method: "POST", Times: 1, Status: 429, RetryAfter: retryAfter})
		m := message("Ann", "ann@contoso.example")
		if err := c.SendMail(context.Background(), mailbox, m, graph.MailOptions{}); err != nil {
			t.Fatal(err)
		}
		if n := s.MailCount(); n != 1 {
			t.Fatalf("graphtest took %d messages, want 1", n)
		}
		reqs := sendMailRequests(s)
		if len(reqs) != 2 || reqs[0].Status != 429 || reqs[1].Status != 202 {
			t.Fatalf("requests %d, want a 429 and a 202", len(reqs))
		}
		for _, r := range reqs {
			if r.Header.Get("Content-Encoding") != "" {
				t.Errorf("sendMail labelled %q", r.Header.Get("Content-Encoding"))
			}
		}
		if !bytes.Equal(reqs[0].Body, reqs[1].Body) {
			t.Error("the retry sent another body")
		}
		if v := s.Violations(); len(v) > 0 {
			t.Errorf("retried before Retry-After: %v", v)
		}
	}
}

func TestSendMailRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fault  graphtest.Fault
		sender string
		status int
		code   string
		hint   []string
	}{
		{name: "forbidden", fault: graphtest.Fault{Status: 403, Body: `{"error":{"code":"ErrorAccessDenied","message":"Access is denied. Check credentials and try again."}}`},
			status: 403, code: "ErrorAccessDenied", hint: []string{"Mail.Send application permission", "application access policy", mailbox}},
		{name: "invalid recipient", fault: graphtest.Fault{Status: 400, Body: `{"error":{"code":"ErrorInvalidRecipients","message":"At least one recipient is not valid."}}`},
			status: 400, code: "ErrorInvalidRecipients", hint: []string{"mail attribute"}},
		{name: "unknown mailbox", sender: "nobody@contoso.example", status: 404, code: "ErrorInvalidUser", hint: []string{"no mailbox nobody@contoso.example", "sender.address"}},
		{name: "throttled for good", fault: graphtest.Fault{Status: 503, RetryAfter: "0"}, status: 503, hint: []string{"throttling"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var faults []graphtest.Fault
			if tc.fault.Status != 0 {
				tc.fault.Path = "/v1.0/users/"
				faults = append(faults, tc.fault)
			}
			s, c := mailServer(t, faults...)
			sender := mailbox
			if tc.sender != "" {
				sender = tc.sender
			}
			err := c.SendMail(context.Background(), sender, message("Ann", "ann@contoso.example"), graph.MailOptions{})
			var me *graph.MailError
			if !errors.As(err, &me) {
				t.Fatalf("error %v is not a *MailError", err)
			}
			if me.Err.Status != tc.status || (tc.code != "" && me.Err.Code != tc.code) || me.Unanswered || me.SignIn {
				t.Errorf("got %+v, want status %d code %q", me.Err, tc.status, tc.code)
			}
			for _, h := range tc.hint {
				if !strings.Contains(me.Err.Hint, h) {
					t.Errorf("hint %q lacks %q", me.Err.Hint, h)
				}
			}
			if s.MailCount() != 0 {
				t.Error("graphtest took the message")
			}
		})
	}
}

func TestSendMailTooLarge(t *testing.T) {
	s, c := mailServer(t)
	m := message("Ann", "ann@contoso.example")
	m.Attachments = []deliver.Attachment{{Filename: "video.mp4", ContentType: "video/mp4", Data: bytes.Repeat([]byte{0xAB}, 3<<20+1)}}
	for _, json := range []bool{false, true} {
		err := c.SendMail(context.Background(), mailbox, m, graph.MailOptions{JSON: json})
		var me *graph.MailError
		if !errors.Is(err, graph.ErrMailTooLarge) || !errors.As(err, &me) || !strings.Contains(me.Err.Hint, "link") {
			t.Errorf("JSON %v: %v, want ErrMailTooLarge with a hint to send a link", json, err)
		}
	}
	if n := len(sendMailRequests(s)); n != 0 {
		t.Errorf("%d requests went to Graph", n)
	}
}

// TestSendMailUnanswered: the connection drops after the request went out:
// Graph may have the message, and it is not sent again.
func TestSendMailUnanswered(t *testing.T) {
	s, c := mailServer(t, graphtest.Fault{Path: "/v1.0/users/", Method: "POST", Times: 1, Reset: true})
	err := c.SendMail(context.Background(), mailbox, message("Ann", "ann@contoso.example"), graph.MailOptions{})
	var me *graph.MailError
	if !errors.As(err, &me) || !me.Unanswered {
		t.Fatalf("error %v, want an unanswered *MailError", err)
	}
	if n := len(sendMailRequests(s)); n != 1 {
		t.Errorf("%d sendMail requests, want 1 (never resent after no answer)", n)
	}
}

func TestToken(t *testing.T) {
	s, c := mailServer(t)
	tok, err := c.Token(context.Background(), c.ExchangeScope())
	if err != nil || tok == "" {
		t.Fatalf("token %v", err)
	}
	var scopes []string
	for _, r := range s.Requests() {
		if r.Token != nil && r.Token.OK {
			scopes = append(scopes, r.Token.Scope)
		}
	}
	if len(scopes) != 1 || !strings.Contains(scopes[0], "https://outlook.office365.com/.default") {
		t.Errorf("token requests for scopes %q", scopes)
	}
	if err := c.CheckSignIn(context.Background()); err != nil {
		t.Errorf("CheckSignIn: %v", err)
	}

	bad, err := graph.New(config(t, s), graph.Options{Getenv: env("not-the-secret"), Retry: fast})
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.Token(context.Background(), bad.ExchangeScope())
	if err == nil || !strings.Contains(hintOf(err), graph.EnvClientSecret) || strings.Contains(err.Error(), "not-the-secret") {
		t.Errorf("wrong secret: %v (hint %q)", err, hintOf(err))
	}
	err = bad.SendMail(context.Background(), mailbox, message("Ann", "ann@contoso.example"), graph.MailOptions{})
	var me *graph.MailError
	if !errors.As(err, &me) || !me.SignIn || me.Unanswered {
		t.Errorf("send with a wrong secret: %v, want a sign-in *MailError", err)
	}
}
