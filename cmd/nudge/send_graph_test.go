package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nudge-passkeys/nudge/internal/deliver/smtp/smtptest"
	"github.com/nudge-passkeys/nudge/internal/graph/graphtest"
)

const graphMailbox = "it-security@contoso.example"

// mailGraph is a local Graph whose tenant has the campaign's sending
// mailbox.
func mailGraph(t *testing.T, faults ...graphtest.Fault) *graphtest.Server {
	t.Helper()
	return graphtest.Start(t, graphtest.Options{
		Tenant: &graphtest.Tenant{
			ID:   graphtest.DefaultTenantID,
			Apps: []graphtest.App{{ClientID: graphtest.DefaultClientID, Secret: graphtest.DefaultClientSecret}},
			Users: []json.RawMessage{json.RawMessage(`{"id":"4f0c2a5e-8d1b-4c3a-9e7f-1a2b3c4d5e6f","userPrincipalName":"` + graphMailbox +
				`","mail":"` + graphMailbox + `","displayName":"Contoso IT Security","accountEnabled":true,"userType":"Member"}`)},
		},
		Faults: faults,
	})
}

// graphSendFixture is sendFixture's campaign of n people (the people's
// display names from the hostile-names corpus) with a graph: section
// pointing at s, and smtp pointing at host:port.
func graphSendFixture(t *testing.T, dir string, s *graphtest.Server, n int, host string, port int, extra string) {
	t.Helper()
	sendFixture(t, dir, n, host, port, 60000)
	data, err := os.ReadFile(filepath.Join("..", "..", "internal", "testcorpus", "hostile-names.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []struct {
		DisplayName string `json:"displayName"`
	}
	if err := json.Unmarshal(data, &rows); err != nil {
		t.Fatal(err)
	}
	users := filepath.Join(dir, "tenant", "users.json")
	raw, _ := os.ReadFile(users)
	text := string(raw)
	for i := range n {
		name, _ := json.Marshal(rows[i%len(rows)].DisplayName)
		text = strings.Replace(text, fmt.Sprintf(`"displayName":"Person %d"`, i), `"displayName":`+string(name), 1)
	}
	write(t, users, text)
	ca, err := os.ReadFile(s.CAFile(t))
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "graph-ca.pem"), string(ca))
	f, err := os.OpenFile(filepath.Join(dir, "campaign.yaml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "graph:\n  tenant_id: %s\n  client_id: %s\n  auth: secret\n  base_url: %s\n  authority_host: %s\n  ca_file: graph-ca.pem\n%s",
		s.TenantID(), graphtest.DefaultClientID, s.URL(), s.URL(), extra)
	f.Close()
	t.Setenv("NUDGE_CLIENT_SECRET", graphtest.DefaultClientSecret)
	t.Setenv("NUDGE_GRAPH_PACE", "off")
	t.Setenv("NUDGE_SMTP_TOKEN", "")
}

// statusCounts reads the row of wave and audience from nudge status:
// pending, sending, sent, failed, unknown, skipped.
func statusCounts(t *testing.T, out, wave, audience string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 8 && f[0] == wave && f[1] == audience {
			return strings.Join(f[2:], " ")
		}
	}
	t.Fatalf("no %s/%s row in status:\n%s", wave, audience, out)
	return ""
}

func TestSendGraphExactlyOnce(t *testing.T) {
	// The first message is refused: Exchange does not resolve its
	// recipient. The others go.
	s := mailGraph(t, graphtest.Fault{Path: "/v1.0/users/", Method: "POST", Times: 1, Status: 400,
		Body: `{"error":{"code":"ErrorInvalidRecipients","message":"At least one recipient is not valid., Recipient 'p0@contoso.example' is not resolved."}}`})
	dir := t.TempDir()
	const n = 8
	graphSendFixture(t, dir, s, n, "127.0.0.1", 1, "")

	out, errOut, code := nudge(t, dir, "send", "announce", "--via", "graph", "--yes")
	if code != exitOK {
		t.Fatalf("send: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"via Microsoft Graph sendMail (MIME)", "7 sent, 1 failed", "accepted the message for delivery", "ErrorInvalidRecipients"} {
		if !strings.Contains(out, want) {
			t.Errorf("send output lacks %q:\n%s", want, out)
		}
	}
	mails := s.Mail()
	if len(mails) != n-1 {
		t.Fatalf("Graph took %d messages, want %d", len(mails), n-1)
	}
	seen := map[string]bool{}
	ids := map[string]bool{}
	for _, m := range mails {
		if m.Mailbox != graphMailbox {
			t.Errorf("sent from %q", m.Mailbox)
		}
		msg, err := mail.ReadMessage(bytes.NewReader(m.MIME))
		if err != nil {
			t.Fatal(err)
		}
		to, err := msg.Header.AddressList("To")
		if err != nil || len(to) != 1 {
			t.Fatalf("To %q: %v", msg.Header.Get("To"), err)
		}
		if seen[to[0].Address] {
			t.Errorf("%s got two messages", to[0].Address)
		}
		seen[to[0].Address] = true
		ids[msg.Header.Get("Message-Id")] = true
		for _, field := range []string{"Bcc", "Cc"} {
			if _, ok := msg.Header[field]; ok {
				t.Errorf("message to %s has a %s header: a display name injected it", to[0].Address, field)
			}
		}
		if len(msg.Header["Subject"]) != 1 || !strings.HasPrefix(msg.Header.Get("Message-Id"), "<nudge.") {
			t.Errorf("message to %s: Subject %v, Message-ID %q", to[0].Address, msg.Header["Subject"], msg.Header.Get("Message-Id"))
		}
	}
	if len(ids) != n-1 || seen["p0@contoso.example"] {
		t.Errorf("%d Message-IDs for %d messages; p0 reached: %v", len(ids), n-1, seen["p0@contoso.example"])
	}

	out, _, code = nudge(t, dir, "status", "announce")
	if code != exitOK {
		t.Fatalf("status: exit %d", code)
	}
	if got := statusCounts(t, out, "announce", "ready"); got != "0 0 7 1 0 0" {
		t.Errorf("status counts %q, want 7 sent and 1 failed\n%s", got, out)
	}
	if !strings.Contains(out, "p0@contoso.example") || !strings.Contains(out, "mail attribute") {
		t.Errorf("status does not say why p0 failed:\n%s", out)
	}

	// A rerun sends nothing more.
	out, errOut, code = nudge(t, dir, "send", "announce", "--via", "graph", "--yes")
	if code != exitOK || !strings.Contains(out, "0 to send now, 7 already sent, 1 already failed") {
		t.Errorf("rerun: exit %d\n%s\n%s", code, out, errOut)
	}
	if n := s.MailCount(); n != 7 {
		t.Errorf("after a rerun Graph has %d messages, want still 7", n)
	}
}

func TestSendGraphJSON(t *testing.T) {
	s := mailGraph(t)
	dir := t.TempDir()
	graphSendFixture(t, dir, s, 3, "127.0.0.1", 1, "graph_mail: {format: json}\n")
	out, errOut, code := nudge(t, dir, "send", "announce", "--via", "graph", "--yes")
	if code != exitOK || !strings.Contains(out, "3 sent") || !strings.Contains(out, "JSON, HTML only") {
		t.Fatalf("send: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, m := range s.Mail() {
		if m.SaveToSentItems || m.Message.Body.ContentType != "html" || len(m.Message.ToRecipients) != 1 {
			t.Errorf("message %+v", m.Message)
		}
	}
}

// TestSendGraphForbidden: without Mail.Send nobody is failed; the run stops
// and says what to grant, and everyone stays pending for the next run.
func TestSendGraphForbidden(t *testing.T) {
	s := mailGraph(t, graphtest.Fault{Path: "/v1.0/users/", Method: "POST", Status: 403,
		Body: `{"error":{"code":"ErrorAccessDenied","message":"Access is denied. Check credentials and try again."}}`})
	dir := t.TempDir()
	graphSendFixture(t, dir, s, 4, "127.0.0.1", 1, "")
	out, errOut, code := nudge(t, dir, "send", "announce", "--via", "graph", "--yes")
	if code != exitFailure || !strings.Contains(errOut, "Mail.Send application permission") || !strings.Contains(errOut, "application access policy") {
		t.Fatalf("exit %d, want a failure naming Mail.Send\n%s\n%s", code, out, errOut)
	}
	out, _, _ = nudge(t, dir, "status", "announce")
	if got := statusCounts(t, out, "announce", "ready"); got != "4 0 0 0 0 0" {
		t.Errorf("status counts %q, want all 4 pending\n%s", got, out)
	}
}

func TestSendGraphSignInFails(t *testing.T) {
	s := mailGraph(t)
	dir := t.TempDir()
	graphSendFixture(t, dir, s, 2, "127.0.0.1", 1, "")
	t.Setenv("NUDGE_CLIENT_SECRET", "not-the-secret")
	_, errOut, code := nudge(t, dir, "send", "announce", "--via", "graph", "--yes")
	if code != exitFailure || !strings.Contains(errOut, "AADSTS7000215") || !strings.Contains(errOut, "nothing was sent or recorded") || strings.Contains(errOut, "not-the-secret") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "output", "e2e", "nudge.db")); err == nil {
		t.Error("the ledger was created although nothing could be sent")
	}
}

func TestSendGraphNoSection(t *testing.T) {
	dir := t.TempDir()
	sendFixture(t, dir, 2, "127.0.0.1", 1, 6000)
	_, errOut, code := nudge(t, dir, "send", "announce", "--via", "graph", "--yes")
	if code != exitFailure || !strings.Contains(errOut, "needs a graph: section") || !strings.Contains(errOut, "Mail.Send") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestSendGraphRedirect(t *testing.T) {
	s := mailGraph(t)
	dir := t.TempDir()
	graphSendFixture(t, dir, s, 5, "127.0.0.1", 1, "")
	out, errOut, code := nudge(t, dir, "send", "announce", "--via", "graph", "--yes", "--redirect-to", "me@contoso.example", "--limit", "2")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	mails := s.Mail()
	if len(mails) != 2 {
		t.Fatalf("%d proofs, want 2", len(mails))
	}
	for _, m := range mails {
		msg, err := mail.ReadMessage(bytes.NewReader(m.MIME))
		if err != nil {
			t.Fatal(err)
		}
		to, _ := msg.Header.AddressList("To")
		if len(to) != 1 || to[0].Address != "me@contoso.example" || !strings.HasPrefix(msg.Header.Get("Subject"), "[PROOF] ") {
			t.Errorf("proof to %v, subject %q", to, msg.Header.Get("Subject"))
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "output", "e2e", "nudge.db")); err == nil {
		t.Error("proofs created a ledger")
	}
}

// TestSendSMTPTokenFromGraph: auth: xoauth2 without NUDGE_SMTP_TOKEN signs
// in with the graph: section for Exchange Online's scope, and the token
// goes to the SMTP server, never to the output. (The test server knows
// only its own token, so it refuses this one: the failure is checked too.)
func TestSendSMTPTokenFromGraph(t *testing.T) {
	g := mailGraph(t)
	srv := smtptest.Start(t, smtptest.Options{Auth: []string{"XOAUTH2"}, Token: "the-server's-own", Transcript: true})
	dir := t.TempDir()
	graphSendFixture(t, dir, g, 2, srv.Host(), srv.Port(), "")
	campaign := filepath.Join(dir, "campaign.yaml")
	data, _ := os.ReadFile(campaign)
	write(t, campaign, strings.Replace(string(data), "auth: none", "auth: xoauth2", 1))

	out, errOut, code := nudge(t, dir, "send", "announce", "--via", "smtp", "--yes")
	if code != exitFailure || !strings.Contains(errOut, "AUTH XOAUTH2") || !strings.Contains(errOut, "SMTP.SendAsApp") || !strings.Contains(errOut, "nothing was sent or recorded") {
		t.Fatalf("exit %d, want the server's refusal explained\n%s\n%s", code, out, errOut)
	}
	var scopes []string
	for _, r := range g.Requests() {
		if r.Token != nil && r.Token.OK {
			scopes = append(scopes, r.Token.Scope)
		}
	}
	if len(scopes) == 0 || !strings.Contains(scopes[0], "https://outlook.office365.com/.default") {
		t.Fatalf("token requests for scopes %q, want Exchange Online's", scopes)
	}
	// The XOAUTH2 blob the server got carries the token from the graph:
	// credential.
	var token string
	for _, line := range strings.Split(srv.Transcript(), "\n") {
		line = strings.TrimSpace(line)
		blob := strings.TrimPrefix(line, "AUTH XOAUTH2 ")
		if blob == line {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(blob)
		if err != nil {
			continue
		}
		for _, part := range strings.Split(string(raw), "\x01") {
			if strings.HasPrefix(part, "auth=Bearer ") {
				token = strings.TrimPrefix(part, "auth=Bearer ")
			}
		}
	}
	if len(token) < 16 {
		t.Fatalf("no bearer token in the SMTP conversation:\n%s", srv.Transcript())
	}
	if strings.Contains(out+errOut, token) {
		t.Error("the token is in nudge's output")
	}
}

func TestSendSMTPTokenNowhere(t *testing.T) {
	dir := t.TempDir()
	sendFixture(t, dir, 2, "127.0.0.1", 1, 6000)
	campaign := filepath.Join(dir, "campaign.yaml")
	data, _ := os.ReadFile(campaign)
	write(t, campaign, strings.Replace(string(data), "auth: none", "auth: xoauth2", 1))
	t.Setenv("NUDGE_SMTP_TOKEN", "")
	_, errOut, code := nudge(t, dir, "send", "announce", "--via", "smtp", "--yes")
	if code != exitFailure || !strings.Contains(errOut, "no graph: section") || !strings.Contains(errOut, "NUDGE_SMTP_TOKEN") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}
