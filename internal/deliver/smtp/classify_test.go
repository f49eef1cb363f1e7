package smtp

import (
	"errors"
	"io"
	"net"
	"net/textproto"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestClassify covers replies smtptest does not play, step by step.
func TestClassify(t *testing.T) {
	reply := func(code int, msg string) error { return &textproto.Error{Code: code, Msg: msg} }
	type want struct {
		temporary, connection bool
		code                  int
		enhanced              string
		retryAfter            time.Duration
		text                  string // in the error's text
	}
	tests := []struct {
		name string
		step step
		err  error
		want want
	}{
		{"421 at MAIL", stepMail, reply(421, "4.4.2 Connection dropped due to SocketError"),
			want{true, true, 421, "4.4.2", 0, "SocketError"}},
		{"450 at RCPT", stepRcpt, reply(450, "4.2.1 Mailbox busy"),
			want{true, false, 450, "4.2.1", 0, "Mailbox busy"}},
		{"451 at end of DATA", stepEnd, reply(451, "4.7.500 Server busy"),
			want{true, false, 451, "4.7.500", 0, "Server busy"}},
		{"452 at RCPT", stepRcpt, reply(452, "4.5.3 Too many recipients"),
			want{true, false, 452, "4.5.3", 0, "Too many recipients"}},
		{"432 at end of DATA", stepEnd, reply(432, "4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded"),
			want{true, true, 432, "4.3.2", 0, "thread limit"}},
		{"454 at AUTH", stepAuth, reply(454, "4.7.0 Temporary authentication failure"),
			want{true, true, 454, "4.7.0", 0, "Temporary authentication failure"}},
		{"550 at RCPT", stepRcpt, reply(550, "5.1.10 RESOLVER.ADR.RecipientNotFound"),
			want{false, false, 550, "5.1.10", 0, "RecipientNotFound"}},
		{"552 at end of DATA", stepEnd, reply(552, "5.3.4 Message size exceeds fixed maximum"),
			want{false, false, 552, "5.3.4", 0, "size exceeds"}},
		{"553 at RCPT", stepRcpt, reply(553, "5.1.3 Bad recipient address syntax"),
			want{false, false, 553, "5.1.3", 0, "syntax"}},
		{"554 5.2.0 other than quota", stepEnd, reply(554, "5.2.0 STOREDRV.Deliver.Exception:ObjectNotFound"),
			want{false, false, 554, "5.2.0", 0, "ObjectNotFound"}},
		{"554 5.2.0 quota", stepEnd, reply(554, "5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed"),
			want{true, true, 554, "5.2.0", 24 * time.Hour, "recipient limit"}},
		{"550 at MAIL", stepMail, reply(550, "5.7.1 Client does not have permissions to send as this sender"),
			want{false, true, 550, "5.7.1", 0, "permissions"}},
		{"5.7.60 at end of DATA", stepEnd, reply(550, "5.7.60 SMTP; Client does not have permissions to send as this sender"),
			want{false, true, 550, "5.7.60", 0, "grant it Send As"}},
		{"5.7.139 at AUTH", stepAuth, reply(535, "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant."),
			want{false, true, 535, "5.7.139", 0, "turn on SMTP AUTH"}},
		{"multi-line reply", stepRcpt, reply(550, "5.1.1 first line\n5.1.1 second line"),
			want{false, false, 550, "5.1.1", 0, "first line second line"}},
		{"no enhanced code", stepRcpt, reply(550, "No such user"),
			want{false, false, 550, "", 0, "No such user"}},
		{"EOF at MAIL", stepMail, io.EOF, want{true, true, 0, "", 0, "EOF"}},
		{"reset at body", stepBody, &net.OpError{Op: "write", Net: "tcp", Err: syscall.ECONNRESET},
			want{true, true, 0, "", 0, "connection reset"}},
		{"EOF after the data", stepEnd, io.ErrUnexpectedEOF, want{true, true, 0, "", 0, "may or may not have been accepted"}},
		{"refused", stepDial, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED},
			want{true, true, 0, "", 0, "cannot connect"}},
		{"no such host", stepDial, &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "smtp.nowhere.invalid", IsNotFound: true}},
			want{false, true, 0, "", 0, "no such host"}},
		{"TLS alert", stepStartTLS, &net.OpError{Op: "remote error", Err: errors.New("tls: bad certificate")},
			want{false, true, 0, "", 0, "bad certificate"}},
		{"line break in address", stepRcpt, errors.New("smtp: A line must not contain CR or LF"),
			want{false, false, 0, "", 0, "CR or LF"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			se := classify(&opError{op: op{tt.step, "p@contoso.example"}, err: tt.err})
			got := want{se.Temporary, se.Connection, se.Code, se.Enhanced, se.RetryAfter, tt.want.text}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if !strings.Contains(se.Error(), tt.want.text) {
				t.Errorf("got %q, want it to contain %q", se.Error(), tt.want.text)
			}
			if errors.Is(se, ErrOutcomeUnknown) != (tt.step == stepEnd && se.Code == 0) {
				t.Errorf("ErrOutcomeUnknown: %v", se)
			}
		})
	}
}

func TestParseReplyKeepsOneLine(t *testing.T) {
	enhanced, text := parseReply("5.7.1 evil\r\nX-Header: injected\x00")
	if enhanced != "5.7.1" || strings.ContainsAny(text, "\r\n\x00") {
		t.Errorf("got %q %q", enhanced, text)
	}
}
