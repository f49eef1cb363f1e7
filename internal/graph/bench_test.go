package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/nudge-passkeys/nudge/internal/graph"
	"github.com/nudge-passkeys/nudge/internal/graph/graphtest"
)

// BenchmarkPull100k reads a 100,000-user tenant from the local Graph
// server: nudge's Pull (the real SDK, azidentity, retry middleware, pages
// saved to disk) against the least a client can do, net/http and
// encoding/json fetching the same pages and saving them. Pacing is off in
// both: with it on, Graph's documented limit on the reports API (5 requests
// in 10 seconds) decides the time, not the client.
//
//	go test ./internal/graph/ -run '^$' -bench Pull100k -benchmem -benchtime 3x
func BenchmarkPull100k(b *testing.B) {
	tenant := graphtest.Synthesize(100_000)
	s := graphtest.Start(b, graphtest.Options{Tenant: tenant, Lean: true})
	cfg := config(b, s)

	// nudge+mailbox also reads every mailbox's time zone, 20 to a $batch
	// (sessions.mailbox_settings).
	for _, mailbox := range []bool{false, true} {
		name := map[bool]string{false: "nudge", true: "nudge+mailbox"}[mailbox]
		b.Run(name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				c, err := graph.New(cfg, graph.Options{Getenv: env(graphtest.DefaultClientSecret), Retry: fast})
				if err != nil {
					b.Fatal(err)
				}
				dir := filepath.Join(b.TempDir(), fmt.Sprint("snap", i))
				res, err := c.Pull(context.Background(), dir, graph.PullOptions{MailboxSettings: mailbox})
				if err != nil {
					b.Fatal(err)
				}
				if res.Users != 100_000 || mailbox && (res.Mailboxes == nil || res.Mailboxes.Zones == 0) {
					b.Fatalf("pulled %d users, mailboxes %+v", res.Users, res.Mailboxes)
				}
				b.ReportMetric(float64(res.Requests), "requests/op")
				os.RemoveAll(dir)
			}
		})
	}
	b.Run("bare", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			dir := filepath.Join(b.TempDir(), fmt.Sprint("bare", i))
			users, requests, err := barePull(s, dir)
			if err != nil {
				b.Fatal(err)
			}
			if users != 100_000 {
				b.Fatalf("pulled %d users", users)
			}
			b.ReportMetric(float64(requests), "requests/op")
			os.RemoveAll(dir)
		}
	})
}

// barePull signs in with a plain token request and pages through users and
// the registration report concurrently, decoding each page's nextLink and
// saving the page, as Pull does, with nothing else.
func barePull(s *graphtest.Server, dir string) (users, requests int, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, 0, err
	}
	hc := s.Client()
	resp, err := hc.PostForm(s.URL()+"/"+s.TenantID()+"/oauth2/v2.0/token", url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {graphtest.DefaultClientID},
		"client_secret": {graphtest.DefaultClientSecret},
		"scope":         {s.URL() + "/.default"},
	})
	if err != nil {
		return 0, 0, err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil || tok.AccessToken == "" {
		return 0, 0, fmt.Errorf("token: %v", err)
	}

	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	page := func(name, first string, count *int) {
		defer wg.Done()
		next := first
		for n := 0; next != ""; n++ {
			req, _ := http.NewRequest(http.MethodGet, next, nil)
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			resp, err := hc.Do(req)
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				return
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil && resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("%s: %s", next, resp.Status)
			}
			var p struct {
				Value []json.RawMessage `json:"value"`
				Next  string            `json:"@odata.nextLink"`
			}
			if err == nil {
				err = json.Unmarshal(body, &p)
			}
			if err == nil {
				err = os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%d.json", name, n)), body, 0o600)
			}
			mu.Lock()
			requests++
			if err != nil {
				errs = append(errs, err)
			}
			mu.Unlock()
			if err != nil {
				return
			}
			*count += len(p.Value)
			next = p.Next
		}
	}
	var regs int
	wg.Add(2)
	go page("users", s.URL()+"/v1.0/users?$select="+strings.Join(graph.UserSelect, ",")+"&$top=999", &users)
	go page("registrations", s.URL()+"/v1.0/reports/authenticationMethods/userRegistrationDetails", &regs)
	wg.Wait()
	if len(errs) > 0 {
		return 0, 0, errs[0]
	}
	return users, requests, nil
}

// TestServe is not a test: with NUDGE_GRAPHTEST_SERVE=DIR it serves a
// synthetic tenant of NUDGE_GRAPHTEST_USERS people (default 100,000; "demo"
// for the demo tenant) until
// killed, and writes DIR/graph.yaml (a campaign's graph: section pointing at
// it) and DIR/graph-ca.pem, so that a whole nudge pull can be measured in
// its own process:
//
//	NUDGE_GRAPHTEST_SERVE=/tmp/g go test ./internal/graph/ -run TestServe -timeout 0 &
//	NUDGE_CLIENT_SECRET=… NUDGE_GRAPH_PACE=off /usr/bin/time -v nudge pull
func TestServe(t *testing.T) {
	dir := os.Getenv("NUDGE_GRAPHTEST_SERVE")
	if dir == "" {
		t.Skip("set NUDGE_GRAPHTEST_SERVE=DIR to serve a synthetic tenant")
	}
	var tenant *graphtest.Tenant
	switch v := os.Getenv("NUDGE_GRAPHTEST_USERS"); v {
	case "demo":
		tenant = demo(t)
	case "":
		tenant = graphtest.Synthesize(100_000)
	default:
		var n int
		if _, err := fmt.Sscan(v, &n); err != nil {
			t.Fatalf("NUDGE_GRAPHTEST_USERS=%q: a number of people, or demo", v)
		}
		tenant = graphtest.Synthesize(n)
	}
	s := graphtest.Start(t, graphtest.Options{Tenant: tenant, Lean: true})
	ca, err := os.ReadFile(s.CAFile(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "graph-ca.pem"), ca, 0o600); err != nil {
		t.Fatal(err)
	}
	section := fmt.Sprintf("graph:\n  tenant_id: %s\n  client_id: %s\n  auth: secret\n  base_url: %s\n  authority_host: %s\n  ca_file: graph-ca.pem\n# NUDGE_CLIENT_SECRET=%s\n",
		s.TenantID(), graphtest.DefaultClientID, s.URL(), s.URL(), graphtest.DefaultClientSecret)
	if err := os.WriteFile(filepath.Join(dir, "graph.yaml"), []byte(section), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("serving %d users at %s", len(tenant.Users), s.URL())
	select {}
}
