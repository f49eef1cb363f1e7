package graphtest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/nudge-passkeys/nudge/internal/graph/graphtest"
)

type batchAnswer struct {
	Responses []struct {
		ID      string            `json:"id"`
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"responses"`
}

func postBatch(t *testing.T, s *graphtest.Server, tok, body string) (*http.Response, []byte) {
	t.Helper()
	return do(t, s, http.MethodPost, "/v1.0/$batch", tok, strings.NewReader(body), map[string]string{"Content-Type": "application/json"})
}

// TestBatch: JSON batching as documented: each request served on its own
// (faults and permissions per item), answered by id in any order.
func TestBatch(t *testing.T) {
	tenant := graphtest.Synthesize(40)
	var mbox, guest user
	for _, u := range users(t, tenant) {
		switch {
		case u.Mail != nil && u.UserType == "Member" && mbox.ID == "":
			mbox = u
		case u.UserType == "Guest" && guest.ID == "":
			guest = u
		}
	}
	if guest.ID == "" {
		t.Fatal("Synthesize(40) has no guest")
	}
	tenant.TimeZones[mbox.ID] = "Asia/Kolkata"
	s := graphtest.Start(t, graphtest.Options{Tenant: tenant, Faults: []graphtest.Fault{
		{Path: "/v1.0/users/" + mbox.ID + "/mailboxSettings", Times: 1, Status: 429, RetryAfter: "7"},
	}})
	tok := appToken(t, s)
	body := fmt.Sprintf(`{"requests":[
		{"id":"a","method":"GET","url":"/users/%[1]s/mailboxSettings"},
		{"id":"b","method":"GET","url":"users/%[1]s/mailboxSettings"},
		{"id":"c","method":"GET","url":"/users/%[2]s/mailboxSettings"},
		{"id":"d","method":"GET","url":"/users/nobody@contoso.example/mailboxSettings"},
		{"id":"e","method":"GET","url":"https://graph.microsoft.com/v1.0/users"},
		{"id":"f","method":"GET","url":"/users/%[1]s/mailboxSettings/timeZone"}]}`, mbox.ID, guest.ID)
	resp, b := postBatch(t, s, tok, body)
	if resp.StatusCode != 200 {
		t.Fatalf("batch: %d %s", resp.StatusCode, b)
	}
	got := decode[batchAnswer](t, b)
	var order []string
	byID := map[string]int{}
	for i, r := range got.Responses {
		order = append(order, r.ID)
		byID[r.ID] = i
	}
	if strings.Join(order, "") != "fedcba" {
		t.Errorf("responses in order %v: graphtest answers in reverse so clients match by id", order)
	}
	want := map[string]int{"a": 429, "b": 200, "c": 404, "d": 404, "e": 400, "f": 200}
	for id, status := range want {
		if r := got.Responses[byID[id]]; r.Status != status {
			t.Errorf("item %s: %d %s, want %d", id, r.Status, r.Body, status)
		}
	}
	if ra := got.Responses[byID["a"]].Headers["Retry-After"]; ra != "7" {
		t.Errorf("throttled item's Retry-After %q", ra)
	}
	var settings struct{ TimeZone string }
	if err := json.Unmarshal(got.Responses[byID["b"]].Body, &settings); err != nil || settings.TimeZone != "Asia/Kolkata" {
		t.Errorf("mailbox settings in the batch: %s (%v)", got.Responses[byID["b"]].Body, err)
	}
	var tz struct{ Value string }
	if err := json.Unmarshal(got.Responses[byID["f"]].Body, &tz); err != nil || tz.Value != "Asia/Kolkata" {
		t.Errorf("time zone setting in the batch: %s (%v)", got.Responses[byID["f"]].Body, err)
	}
	if c := got.Responses[byID["c"]].Body; !strings.Contains(string(c), "MailboxNotEnabledForRESTAPI") {
		t.Errorf("guest's mailbox: %s", c)
	}
	// The throttled item asked again at once is a violation.
	postBatch(t, s, tok, fmt.Sprintf(`{"requests":[{"id":"1","method":"GET","url":"/users/%s/mailboxSettings"}]}`, mbox.ID))
	if v := s.Violations(); len(v) != 1 || !strings.Contains(v[0], mbox.ID+"/mailboxSettings retried") {
		t.Errorf("violations %q, want the early retry of the throttled item", v)
	}
	n := 0
	for _, r := range s.Requests() {
		if r.Path == "/v1.0/users/"+mbox.ID+"/mailboxSettings" {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d items logged for the mailbox, want 3", n)
	}

	// Malformed batches.
	var many []string
	for i := range 21 {
		many = append(many, fmt.Sprintf(`{"id":"%d","method":"GET","url":"/users"}`, i))
	}
	for name, body := range map[string]string{
		"21 requests": `{"requests":[` + strings.Join(many, ",") + `]}`,
		"empty":       `{"requests":[]}`,
		"duplicate":   `{"requests":[{"id":"1","method":"GET","url":"/users"},{"id":"1","method":"GET","url":"/groups"}]}`,
		"no url":      `{"requests":[{"id":"1","method":"GET"}]}`,
		"not JSON":    `requests`,
	} {
		if resp, b := postBatch(t, s, tok, body); resp.StatusCode != 400 {
			t.Errorf("%s: %d %s, want 400", name, resp.StatusCode, b)
		}
	}
	if resp, _ := get(t, s, tok, "/v1.0/$batch", nil); resp.StatusCode != 405 {
		t.Errorf("GET /$batch: %d, want 405", resp.StatusCode)
	}
}

// TestBatchPermissions: an app without MailboxSettings.Read gets 403 for
// each mailbox item, and the batch itself succeeds.
func TestBatchPermissions(t *testing.T) {
	tenant := graphtest.Synthesize(10)
	tenant.Apps[0].Roles = []string{"User.Read.All"}
	u := users(t, tenant)[0]
	s := graphtest.Start(t, graphtest.Options{Tenant: tenant})
	tok := appToken(t, s)
	resp, b := postBatch(t, s, tok, fmt.Sprintf(`{"requests":[{"id":"1","method":"GET","url":"/users/%[1]s/mailboxSettings"},{"id":"2","method":"GET","url":"/users/%[1]s"}]}`, u.ID))
	if resp.StatusCode != 200 {
		t.Fatalf("batch: %d %s", resp.StatusCode, b)
	}
	for _, r := range decode[batchAnswer](t, b).Responses {
		want := map[string]int{"1": 403, "2": 200}[r.ID]
		if r.Status != want || r.ID == "1" && !strings.Contains(string(r.Body), "ErrorAccessDenied") {
			t.Errorf("item %s: %d %s, want %d", r.ID, r.Status, r.Body, want)
		}
	}
}

// TestBatchItemFaults: faults that would cut a connection answer the item
// alone.
func TestBatchItemFaults(t *testing.T) {
	tenant := graphtest.Synthesize(10)
	u := users(t, tenant)[0]
	s := graphtest.Start(t, graphtest.Options{Tenant: tenant, Faults: []graphtest.Fault{
		{Path: "/v1.0/users/" + u.ID + "/mailboxSettings", Reset: true},
		{Path: "/v1.0/groups", Status: 503, RetryAfter: "2"},
	}})
	tok := appToken(t, s)
	resp, b := postBatch(t, s, tok, fmt.Sprintf(`{"requests":[{"id":"1","method":"GET","url":"/users/%[1]s/mailboxSettings"},{"id":"2","method":"GET","url":"/groups"},{"id":"3","method":"GET","url":"/users/%[1]s"}]}`, u.ID))
	if resp.StatusCode != 200 {
		t.Fatalf("batch: %d %s", resp.StatusCode, b)
	}
	for _, r := range decode[batchAnswer](t, b).Responses {
		want := map[string]int{"1": 502, "2": 503, "3": 200}[r.ID]
		if r.Status != want || r.ID == "2" && r.Headers["Retry-After"] != "2" {
			t.Errorf("item %s: %d %v %s, want %d", r.ID, r.Status, r.Headers, r.Body, want)
		}
	}
}
