package graphmail_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nudge-passkeys/nudge/internal/deliver"
	"github.com/nudge-passkeys/nudge/internal/deliver/graphmail"
	"github.com/nudge-passkeys/nudge/internal/graph"
	"github.com/nudge-passkeys/nudge/internal/graph/graphtest"
)

const mailbox = "it-security@contoso.example"

func TestClassify(t *testing.T) {
	mailErr := func(status int, code string) *graph.MailError {
		return &graph.MailError{Err: &graph.Error{Op: "POST /users/x/sendMail", Status: status, Code: code, Hint: "do this"}}
	}
	signIn := mailErr(400, "AADSTS7000215")
	signIn.SignIn = true
	signInDown := mailErr(0, "")
	signInDown.SignIn = true
	unanswered := mailErr(0, "")
	unanswered.Unanswered = true
	throttled := mailErr(429, "TooManyRequests")
	throttled.RetryAfter = 30 * time.Second
	tooLarge := &graph.MailError{Err: &graph.Error{Op: "POST", Status: 413, Err: graph.ErrMailTooLarge}}
	for _, tc := range []struct {
		name                         string
		err                          error
		temporary, connection, maybe bool
		retryAfter                   time.Duration
	}{
		{name: "invalid recipient", err: mailErr(400, "ErrorInvalidRecipients")},
		{name: "too large", err: tooLarge},
		{name: "throttled", err: throttled, temporary: true, retryAfter: 30 * time.Second},
		{name: "unavailable", err: mailErr(503, ""), temporary: true},
		{name: "server error", err: mailErr(500, ""), temporary: true},
		{name: "gateway timeout", err: mailErr(504, ""), temporary: true, maybe: true},
		{name: "no answer", err: unanswered, temporary: true, maybe: true},
		{name: "not sent", err: mailErr(0, ""), temporary: true},
		{name: "forbidden", err: mailErr(403, "ErrorAccessDenied"), connection: true},
		{name: "unauthorized", err: mailErr(401, "InvalidAuthenticationToken"), connection: true},
		{name: "no mailbox", err: mailErr(404, "ErrorInvalidUser"), connection: true},
		{name: "send as denied", err: mailErr(400, "ErrorSendAsDenied"), connection: true},
		{name: "sign-in refused", err: signIn, connection: true},
		{name: "sign-in unreachable", err: signInDown, temporary: true, connection: true},
		{name: "unexplained", err: errors.New("boom"), temporary: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			se := graphmail.Classify(tc.err)
			maybe := errors.Is(se, deliver.ErrMaybeSent)
			if se.Temporary != tc.temporary || se.Connection != tc.connection || maybe != tc.maybe || se.RetryAfter != tc.retryAfter {
				t.Errorf("temporary %v connection %v maybe-sent %v retry-after %v; want %v %v %v %v",
					se.Temporary, se.Connection, maybe, se.RetryAfter, tc.temporary, tc.connection, tc.maybe, tc.retryAfter)
			}
			var me *graph.MailError
			if errors.As(tc.err, &me) && !strings.Contains(se.Error(), "do this") && me.Err.Hint != "" {
				t.Errorf("%q lacks the hint", se.Error())
			}
		})
	}
}

// journal is an in-memory deliver.Journal.
type journal struct {
	mu    sync.Mutex
	state map[string]string
	errs  map[string]error
}

func newJournal() *journal { return &journal{state: map[string]string{}, errs: map[string]error{}} }

func (j *journal) set(key, state string, err error) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.state[key] = state
	if err != nil {
		j.errs[key] = err
	}
	return nil
}

func (j *journal) Sending(_ context.Context, key, _, _ string, _ time.Time) error {
	return j.set(key, "sending", nil)
}
func (j *journal) Sent(_ context.Context, key string, _ time.Time) error {
	return j.set(key, "sent", nil)
}
func (j *journal) Retry(_ context.Context, key string, _ time.Time, err error) error {
	return j.set(key, "pending", err)
}
func (j *journal) Unknown(_ context.Context, key string, _ time.Time, err error) error {
	return j.set(key, "unknown", err)
}
func (j *journal) Failed(_ context.Context, key string, _ time.Time, err error) error {
	return j.set(key, "failed", err)
}

func (j *journal) count() map[string]int {
	j.mu.Lock()
	defer j.mu.Unlock()
	n := map[string]int{}
	for _, s := range j.state {
		n[s]++
	}
	return n
}

// wave sends n messages through a graphmail.Sender against a graphtest
// server with the given faults.
func wave(t *testing.T, n int, faults ...graphtest.Fault) (*graphtest.Server, *journal, deliver.Report, error) {
	t.Helper()
	tenant := &graphtest.Tenant{
		ID:   graphtest.DefaultTenantID,
		Apps: []graphtest.App{{ClientID: graphtest.DefaultClientID, Secret: graphtest.DefaultClientSecret}},
		Users: []json.RawMessage{json.RawMessage(`{"id":"4f0c2a5e-8d1b-4c3a-9e7f-1a2b3c4d5e6f","userPrincipalName":"` + mailbox +
			`","mail":"` + mailbox + `","accountEnabled":true,"userType":"Member"}`)},
	}
	s := graphtest.Start(t, graphtest.Options{Tenant: tenant, Faults: faults})
	c, err := graph.New(graph.Config{
		TenantID: s.TenantID(), ClientID: graphtest.DefaultClientID, Auth: "secret",
		BaseURL: s.URL(), AuthorityHost: s.URL(), CAFile: s.CAFile(t),
	}, graph.Options{
		Getenv: func(k string) string {
			if k == graph.EnvClientSecret {
				return graphtest.DefaultClientSecret
			}
			return ""
		},
		Retry: graph.RetryPolicy{MaxThrottled: 2, MaxTransient: 2, BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond, MaxRetryAfter: 5 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	sender := graphmail.New(c, mailbox, graph.MailOptions{})
	if err := sender.Check(context.Background()); err != nil {
		t.Fatalf("Check: %v", err)
	}
	j := newJournal()
	jobs := iter.Seq[deliver.Job](func(yield func(deliver.Job) bool) {
		for i := range n {
			addr := fmt.Sprintf("p%d@contoso.example", i)
			job := deliver.Job{Key: fmt.Sprintf("w/p%d", i), Message: func() (*deliver.Message, error) {
				return &deliver.Message{
					ID: deliver.MessageID("contoso.example", "c", "w", addr), Date: time.Now(),
					From: deliver.Address{Name: "IT", Email: mailbox}, To: deliver.Address{Name: "Person", Email: addr},
					Subject: "Passkeys", Text: "Hello", HTML: "<p>Hello</p>",
				}, nil
			}}
			if !yield(job) {
				return
			}
		}
	})
	eng := &deliver.Engine{
		Mailboxes: []deliver.Mailbox{{Address: mailbox, Sender: sender}},
		Journal:   j,
		Retry:     deliver.RetryPolicy{Base: time.Millisecond, Max: 10 * time.Millisecond},
		Total:     n,
	}
	rep, err := eng.Run(context.Background(), jobs)
	return s, j, rep, err
}

func recipients(s *graphtest.Server) map[string]int {
	got := map[string]int{}
	for _, m := range s.Mail() {
		for _, line := range strings.Split(string(m.MIME), "\r\n") {
			if strings.HasPrefix(line, "To: ") {
				got[strings.TrimPrefix(line, "To: ")]++
			}
		}
	}
	return got
}

func TestWaveInvalidRecipient(t *testing.T) {
	s, j, rep, err := wave(t, 5, graphtest.Fault{Path: "/v1.0/users/", Method: http.MethodPost, Times: 1, Status: 400,
		Body: `{"error":{"code":"ErrorInvalidRecipients","message":"At least one recipient is not valid., Recipient 'p0@contoso.example' is not resolved."}}`})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 4 || len(rep.Failed) != 1 || rep.Failed["w/p0"] == nil {
		t.Fatalf("report %+v, want p0 failed and 4 sent", rep)
	}
	if got := j.errs["w/p0"].Error(); !strings.Contains(got, "ErrorInvalidRecipients") || !strings.Contains(got, "mail attribute") {
		t.Errorf("p0's recorded reason: %q", got)
	}
	if n := s.MailCount(); n != 4 {
		t.Errorf("graphtest took %d messages, want 4", n)
	}
	if c := j.count(); c["sent"] != 4 || c["failed"] != 1 {
		t.Errorf("journal %v", c)
	}
}

func TestWaveThrottledOnce(t *testing.T) {
	s, j, rep, err := wave(t, 4, graphtest.Fault{Path: "/v1.0/users/", Method: http.MethodPost, Times: 1, Status: 429, RetryAfter: "1"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 4 || j.count()["sent"] != 4 {
		t.Fatalf("report %+v, journal %v", rep, j.count())
	}
	for to, n := range recipients(s) {
		if n != 1 {
			t.Errorf("%s got %d messages", to, n)
		}
	}
	if s.MailCount() != 4 {
		t.Errorf("graphtest took %d messages, want 4", s.MailCount())
	}
	if v := s.Violations(); len(v) > 0 {
		t.Errorf("retried before Retry-After: %v", v)
	}
}

// TestWaveForbidden: a missing permission fails nobody; the mailbox stops
// and the run says what to grant.
func TestWaveForbidden(t *testing.T) {
	s, j, rep, err := wave(t, 3, graphtest.Fault{Path: "/v1.0/users/", Method: http.MethodPost, Status: 403,
		Body: `{"error":{"code":"ErrorAccessDenied","message":"Access is denied. Check credentials and try again."}}`})
	if err == nil || !strings.Contains(err.Error(), "Mail.Send") || !strings.Contains(err.Error(), "403") {
		t.Fatalf("run error %v, want one naming Mail.Send", err)
	}
	if rep.Sent != 0 || len(rep.Failed) != 0 || s.MailCount() != 0 {
		t.Errorf("report %+v", rep)
	}
	if c := j.count(); c["pending"] != 1 || c["failed"] != 0 {
		t.Errorf("journal %v, want the one message tried back to pending", c)
	}
}

// TestWaveUnanswered: the connection drops with the message sent: that one
// is unknown, never sent twice, and the wave goes on.
func TestWaveUnanswered(t *testing.T) {
	s, j, rep, err := wave(t, 3, graphtest.Fault{Path: "/v1.0/users/", Method: http.MethodPost, Times: 1, Reset: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 2 || len(rep.Unknown) != 1 || j.count()["unknown"] != 1 {
		t.Fatalf("report %+v, journal %v", rep, j.count())
	}
	if s.MailCount() != 2 {
		t.Errorf("graphtest took %d messages", s.MailCount())
	}
}
