package graphtest_test

// These tests speak to the server with net/http and encoding/json only, not
// with msgraph-sdk-go or azidentity: the server is the yardstick the SDK
// adapter is measured with, so it is checked by something independent of
// the code it measures. Expected values come from Microsoft's documentation
// (cited where a value is not obvious) or from the tenant data itself.

import (
	"bytes"
	"compress/gzip"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/nudge-passkeys/nudge/content"
	"github.com/nudge-passkeys/nudge/internal/graph/graphtest"
)

// aadError is the identity platform's error body.
type aadError struct {
	Error         string `json:"error"`
	Description   string `json:"error_description"`
	Codes         []int  `json:"error_codes"`
	Timestamp     string `json:"timestamp"`
	TraceID       string `json:"trace_id"`
	CorrelationID string `json:"correlation_id"`
}

// graphError is Graph's error body.
type graphError struct {
	Error struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		InnerError struct {
			Date            string `json:"date"`
			RequestID       string `json:"request-id"`
			ClientRequestID string `json:"client-request-id"`
		} `json:"innerError"`
	} `json:"error"`
}

// page is a Graph collection page, rows kept raw.
type page struct {
	Context  string            `json:"@odata.context"`
	Count    *int              `json:"@odata.count"`
	NextLink string            `json:"@odata.nextLink"`
	Value    []json.RawMessage `json:"value"`
}

// do sends a request to the server and returns the response with its body
// read. hdr holds extra headers ("Authorization" from tok when tok is set).
func do(t *testing.T, s *graphtest.Server, method, target, tok string, body io.Reader, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	if strings.HasPrefix(target, "/") {
		target = s.URL() + target
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, target, err)
	}
	return resp, b
}

// get is do for a GET with a token.
func get(t *testing.T, s *graphtest.Server, tok, target string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	return do(t, s, http.MethodGet, target, tok, nil, hdr)
}

// postForm posts a form to the server.
func postForm(t *testing.T, s *graphtest.Server, target string, form url.Values) (*http.Response, []byte) {
	t.Helper()
	return do(t, s, http.MethodPost, target, "", strings.NewReader(form.Encode()),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	return v
}

// tokenPath is the token endpoint of the server's tenant.
func tokenPath(s *graphtest.Server) string { return "/" + s.TenantID() + "/oauth2/v2.0/token" }

// secretForm is a client credentials request with the default app.
func secretForm(s *graphtest.Server) url.Values {
	return url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {graphtest.DefaultClientID},
		"client_secret": {graphtest.DefaultClientSecret},
		"scope":         {s.URL() + "/.default"},
	}
}

// appToken signs in as the default app and returns a Graph token.
func appToken(t *testing.T, s *graphtest.Server) string {
	t.Helper()
	resp, b := postForm(t, s, tokenPath(s), secretForm(s))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token: %d %s", resp.StatusCode, b)
	}
	return decode[struct {
		AccessToken string `json:"access_token"`
	}](t, b).AccessToken
}

// wantGraphError checks a Graph error response.
func wantGraphError(t *testing.T, resp *http.Response, b []byte, status int, code, message string) graphError {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, b)
	}
	e := decode[graphError](t, b)
	if e.Error.Code != code {
		t.Errorf("error.code %q, want %q", e.Error.Code, code)
	}
	if message != "" && !strings.Contains(e.Error.Message, message) {
		t.Errorf("error.message %q, want it to contain %q", e.Error.Message, message)
	}
	return e
}

// wantAADError checks an identity platform error response.
func wantAADError(t *testing.T, resp *http.Response, b []byte, status int, code string, aadsts int) aadError {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, b)
	}
	e := decode[aadError](t, b)
	if e.Error != code || !slices.Equal(e.Codes, []int{aadsts}) {
		t.Errorf("error %q %v, want %q [%d]", e.Error, e.Codes, code, aadsts)
	}
	if want := fmt.Sprintf("AADSTS%d: ", aadsts); !strings.HasPrefix(e.Description, want) {
		t.Errorf("error_description %q, want it to start %q", e.Description, want)
	}
	return e
}

// ids returns the "id" of each raw object.
func ids(t *testing.T, rows []json.RawMessage) []string {
	t.Helper()
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = decode[struct {
			ID string `json:"id"`
		}](t, r).ID
	}
	return out
}

// keys returns the sorted property names of a raw object.
func keys(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	m := decode[map[string]json.RawMessage](t, raw)
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// walk follows @odata.nextLink from first and returns the pages.
func walk(t *testing.T, s *graphtest.Server, tok, first string, hdr map[string]string) []page {
	t.Helper()
	var pages []page
	for next := first; next != ""; {
		resp, b := get(t, s, tok, next, hdr)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", next, resp.StatusCode, b)
		}
		p := decode[page](t, b)
		pages = append(pages, p)
		next = p.NextLink
		if len(pages) > 10000 {
			t.Fatal("more than 10,000 pages: the nextLink chain does not end")
		}
	}
	return pages
}

// user is the part of a user object the tests look at.
type user struct {
	ID                string  `json:"id"`
	UserPrincipalName string  `json:"userPrincipalName"`
	Mail              *string `json:"mail"`
	DisplayName       string  `json:"displayName"`
	AccountEnabled    bool    `json:"accountEnabled"`
	UserType          string  `json:"userType"`
	Department        *string `json:"department"`
	OfficeLocation    *string `json:"officeLocation"`
}

// registration is the part of a userRegistrationDetails row the tests look at.
type registration struct {
	ID                string   `json:"id"`
	UserPrincipalName string   `json:"userPrincipalName"`
	UserDisplayName   string   `json:"userDisplayName"`
	UserType          string   `json:"userType"`
	IsAdmin           bool     `json:"isAdmin"`
	IsMfaCapable      bool     `json:"isMfaCapable"`
	MethodsRegistered []string `json:"methodsRegistered"`
}

// checkRegistration reports a registration row that is not for an enabled
// user of byID, or that disagrees with its user.
func checkRegistration(t *testing.T, byID map[string]user, r registration) {
	t.Helper()
	u, ok := byID[r.ID]
	switch {
	case !ok:
		t.Errorf("registration row for %s, who is not a user", r.ID)
	case !u.AccountEnabled:
		t.Errorf("registration row for the disabled account %s: the report leaves them out", u.UserPrincipalName)
	case r.UserPrincipalName != u.UserPrincipalName || r.UserDisplayName != u.DisplayName || r.UserType != strings.ToLower(u.UserType):
		t.Errorf("registration row %+v does not match user %+v", r, u)
	}
}

func users(t *testing.T, tn *graphtest.Tenant) []user {
	t.Helper()
	out := make([]user, len(tn.Users))
	for i, raw := range tn.Users {
		out[i] = decode[user](t, raw)
	}
	return out
}

func TestClientCredentials(t *testing.T) {
	s := graphtest.Start(t, graphtest.Options{Tenant: graphtest.Synthesize(5)})
	with := func(change func(url.Values)) url.Values {
		f := secretForm(s)
		change(f)
		return f
	}
	for _, tc := range []struct {
		name   string
		path   string // default: the tenant's token endpoint
		form   url.Values
		status int
		code   string
		aadsts int
	}{
		{name: "wrong secret", form: with(func(f url.Values) { f.Set("client_secret", "not-the-secret") }), status: 401, code: "invalid_client", aadsts: 7000215},
		{name: "no credential", form: with(func(f url.Values) { f.Del("client_secret") }), status: 401, code: "invalid_client", aadsts: 7000218},
		{name: "scope without /.default", form: with(func(f url.Values) { f.Set("scope", "User.Read.All") }), status: 400, code: "invalid_scope", aadsts: 1002012},
		{name: "two resources", form: with(func(f url.Values) { f.Set("scope", s.URL()+"/.default https://graph.microsoft.com/.default") }), status: 400, code: "invalid_scope", aadsts: 1002012},
		{name: "unknown resource", form: with(func(f url.Values) { f.Set("scope", "https://vault.azure.net/.default") }), status: 400, code: "invalid_resource", aadsts: 500011},
		{name: "unknown tenant", path: "/11111111-2222-4333-8444-555555555555/oauth2/v2.0/token", form: secretForm(s), status: 400, code: "invalid_tenant", aadsts: 90002},
		{name: "common tenant", path: "/common/oauth2/v2.0/token", form: secretForm(s), status: 400, code: "invalid_request", aadsts: 50059},
		{name: "unknown client", form: with(func(f url.Values) { f.Set("client_id", "99999999-8888-4777-8666-555555555555") }), status: 400, code: "unauthorized_client", aadsts: 700016},
		{name: "no grant type", form: with(func(f url.Values) { f.Del("grant_type") }), status: 400, code: "invalid_request", aadsts: 900144},
		{name: "password grant", form: with(func(f url.Values) { f.Set("grant_type", "password") }), status: 400, code: "unsupported_grant_type", aadsts: 70003},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.path
			if p == "" {
				p = tokenPath(s)
			}
			resp, b := postForm(t, s, p, tc.form)
			e := wantAADError(t, resp, b, tc.status, tc.code, tc.aadsts)
			if e.TraceID == "" || e.CorrelationID == "" || e.Timestamp == "" {
				t.Errorf("error body lacks trace_id, correlation_id or timestamp: %s", b)
			}
			if _, err := time.Parse("2006-01-02 15:04:05Z", e.Timestamp); err != nil {
				t.Errorf("timestamp %q: %v", e.Timestamp, err)
			}
		})
	}

	t.Run("issued", func(t *testing.T) {
		for _, scope := range []string{s.URL() + "/.default", "https://graph.microsoft.com/.default openid profile offline_access"} {
			f := secretForm(s)
			f.Set("scope", scope)
			resp, b := postForm(t, s, tokenPath(s), f)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("scope %q: %d %s", scope, resp.StatusCode, b)
			}
			tok := decode[struct {
				TokenType   string `json:"token_type"`
				ExpiresIn   int    `json:"expires_in"`
				AccessToken string `json:"access_token"`
			}](t, b)
			if tok.TokenType != "Bearer" || tok.ExpiresIn != 3600 || tok.AccessToken == "" {
				t.Errorf("scope %q: token %+v, want a Bearer token for 3600 s", scope, tok)
			}
			if resp, b := get(t, s, tok.AccessToken, "/v1.0/users/$count", map[string]string{"ConsistencyLevel": "eventual"}); string(b) != "5" {
				t.Errorf("scope %q: the token does not open Graph: %d %s", scope, resp.StatusCode, b)
			}
		}
	})

	t.Run("basic auth and correlation", func(t *testing.T) {
		f := secretForm(s)
		f.Del("client_secret")
		req, _ := http.NewRequest(http.MethodPost, s.URL()+tokenPath(s), strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(graphtest.DefaultClientID), url.QueryEscape(graphtest.DefaultClientSecret))
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("client_secret_basic: %d, want 200", resp.StatusCode)
		}
		f = secretForm(s)
		f.Set("client_secret", "wrong")
		resp, b := do(t, s, http.MethodPost, tokenPath(s), "", strings.NewReader(f.Encode()), map[string]string{
			"Content-Type": "application/x-www-form-urlencoded", "client-request-id": "7c1f0e2a-0000-4000-8000-000000000001"})
		e := wantAADError(t, resp, b, 401, "invalid_client", 7000215)
		if e.CorrelationID != "7c1f0e2a-0000-4000-8000-000000000001" || !strings.Contains(e.Description, "Correlation ID: 7c1f0e2a-0000-4000-8000-000000000001") {
			t.Errorf("correlation id %q (%q), want the client-request-id", e.CorrelationID, e.Description)
		}
	})

	t.Run("log", func(t *testing.T) {
		var tokens []graphtest.Request
		for _, r := range s.Requests() {
			if r.Token != nil {
				tokens = append(tokens, r)
			}
		}
		if len(tokens) < 13 {
			t.Fatalf("%d token requests logged, want at least 13", len(tokens))
		}
		first := tokens[0] // the wrong secret
		if first.Token.OK || first.Token.Credential != "client_secret" || first.Token.ClientID != graphtest.DefaultClientID || first.Status != 401 {
			t.Errorf("wrong-secret request logged as %+v, status %d", *first.Token, first.Status)
		}
		for _, r := range s.Requests() {
			if bytes.Contains(r.Body, []byte(graphtest.DefaultClientSecret)) || bytes.Contains(r.Body, []byte("not-the-secret")) {
				t.Errorf("a secret is in the log: %s", r.Body)
			}
			if a := r.Header.Get("Authorization"); a != "" && a != "[redacted]" {
				t.Errorf("Authorization logged as %q", a)
			}
		}
		if !bytes.Contains(first.Body, []byte("client_secret=%5Bredacted%5D")) {
			t.Errorf("token body logged as %s, want client_secret redacted", first.Body)
		}
	})
}

// TestGraphAuthorization: Graph answers 401 to a request without a token
// it issued for Graph, in Graph's error shape.
func TestGraphAuthorization(t *testing.T) {
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := graphtest.Start(t, graphtest.Options{Tenant: graphtest.Synthesize(3), Now: clock, TokenLifetime: 10 * time.Minute})
	good := appToken(t, s)

	f := secretForm(s)
	f.Set("scope", "https://outlook.office365.com/.default")
	resp, b := postForm(t, s, tokenPath(s), f)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("Exchange Online token: %d %s", resp.StatusCode, b)
	}
	exchange := decode[struct {
		AccessToken string `json:"access_token"`
	}](t, b).AccessToken

	resp, b = get(t, s, "", "/v1.0/users", map[string]string{"client-request-id": "3f6b0f7e-1111-4222-8333-444455556666"})
	e := wantGraphError(t, resp, b, 401, "InvalidAuthenticationToken", "Access token is empty.")
	if e.Error.InnerError.RequestID == "" || e.Error.InnerError.RequestID != resp.Header.Get("request-id") {
		t.Errorf("innerError.request-id %q, header %q", e.Error.InnerError.RequestID, resp.Header.Get("request-id"))
	}
	if e.Error.InnerError.ClientRequestID != "3f6b0f7e-1111-4222-8333-444455556666" || resp.Header.Get("client-request-id") != "3f6b0f7e-1111-4222-8333-444455556666" {
		t.Errorf("client-request-id %q (header %q), want it echoed", e.Error.InnerError.ClientRequestID, resp.Header.Get("client-request-id"))
	}
	if e.Error.InnerError.Date != "2026-11-20T09:00:00" {
		t.Errorf("innerError.date %q, want 2026-11-20T09:00:00 (the tenant clock, Graph's format)", e.Error.InnerError.Date)
	}
	if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer ") {
		t.Errorf("WWW-Authenticate %q", resp.Header.Get("WWW-Authenticate"))
	}

	resp, b = get(t, s, "forged", "/v1.0/users", nil)
	wantGraphError(t, resp, b, 401, "InvalidAuthenticationToken", "validation failure")
	resp, b = get(t, s, exchange, "/v1.0/users", nil)
	wantGraphError(t, resp, b, 401, "InvalidAuthenticationToken", "Invalid audience")
	if resp, b := get(t, s, good, "/v1.0/users", nil); resp.StatusCode != 200 {
		t.Fatalf("a fresh token: %d %s", resp.StatusCode, b)
	}
	mu.Lock()
	now = now.Add(11 * time.Minute)
	mu.Unlock()
	resp, b = get(t, s, good, "/v1.0/users", nil)
	wantGraphError(t, resp, b, 401, "InvalidAuthenticationToken", "expired")
}

func TestUsersPaging(t *testing.T) {
	tenant := graphtest.Synthesize(57)
	want := users(t, tenant)
	s := graphtest.Start(t, graphtest.Options{Tenant: tenant, UserPageMax: 10})
	tok := appToken(t, s)

	pages := walk(t, s, tok, "/v1.0/users?$select=id,displayName&$top=999", nil)
	if len(pages) != 6 {
		t.Fatalf("%d pages, want 6 (57 users, 10 a page)", len(pages))
	}
	var got []string
	for i, p := range pages {
		if wantRows := min(10, 57-10*i); len(p.Value) != wantRows {
			t.Errorf("page %d: %d rows, want %d", i, len(p.Value), wantRows)
		}
		if p.Context != s.URL()+"/v1.0/$metadata#users(id,displayName)" {
			t.Errorf("page %d: @odata.context %q", i, p.Context)
		}
		if last := i == len(pages)-1; last != (p.NextLink == "") {
			t.Errorf("page %d of %d: @odata.nextLink %q", i, len(pages), p.NextLink)
		}
		if p.NextLink != "" {
			u, err := url.Parse(p.NextLink)
			if err != nil || u.Query().Get("$skiptoken") == "" || u.Query().Get("$select") != "id,displayName" || u.Query().Get("$top") != "999" {
				t.Errorf("page %d: nextLink %q, want the same $select and $top and a $skiptoken", i, p.NextLink)
			}
		}
		for _, row := range p.Value {
			if k := keys(t, row); !slices.Equal(k, []string{"displayName", "id"}) {
				t.Errorf("row with properties %v, want [displayName id]", k)
			}
		}
		got = append(got, ids(t, p.Value)...)
	}
	var wantIDs []string
	for _, u := range want {
		wantIDs = append(wantIDs, u.ID)
	}
	if !slices.Equal(got, wantIDs) {
		t.Errorf("paged ids differ from the tenant's users, in order:\ngot  %v\nwant %v", got, wantIDs)
	}

	t.Run("default page and properties", func(t *testing.T) {
		tenant := graphtest.Synthesize(250)
		s := graphtest.Start(t, graphtest.Options{Tenant: tenant})
		pages := walk(t, s, appToken(t, s), "/v1.0/users", nil)
		var sizes []int
		for _, p := range pages {
			sizes = append(sizes, len(p.Value))
		}
		if !slices.Equal(sizes, []int{100, 100, 50}) {
			t.Errorf("page sizes %v, want [100 100 50]: Graph pages users by 100 without $top", sizes)
		}
		// https://learn.microsoft.com/graph/api/user-list: the default properties.
		wantKeys := []string{"businessPhones", "displayName", "givenName", "id", "jobTitle", "mail", "mobilePhone", "officeLocation", "preferredLanguage", "surname", "userPrincipalName"}
		if k := keys(t, pages[0].Value[0]); !slices.Equal(k, wantKeys) {
			t.Errorf("default properties %v, want %v", k, wantKeys)
		}
		if pages[0].Context != s.URL()+"/v1.0/$metadata#users" {
			t.Errorf("@odata.context %q", pages[0].Context)
		}
	})

	t.Run("one user", func(t *testing.T) {
		u := want[3]
		for _, who := range []string{u.ID, strings.ToUpper(u.UserPrincipalName)} {
			resp, b := get(t, s, tok, "/v1.0/users/"+url.PathEscape(who)+"?$select=id,userPrincipalName,accountEnabled", nil)
			if resp.StatusCode != 200 {
				t.Fatalf("GET /users/%s: %d %s", who, resp.StatusCode, b)
			}
			got := decode[user](t, b)
			if got.ID != u.ID || got.UserPrincipalName != u.UserPrincipalName || got.AccountEnabled != u.AccountEnabled {
				t.Errorf("GET /users/%s: %+v, want %+v", who, got, u)
			}
		}
		resp, b := get(t, s, tok, "/v1.0/users/nobody@contoso.example", nil)
		wantGraphError(t, resp, b, 404, "Request_ResourceNotFound", "nobody@contoso.example")
	})

	for _, tc := range []struct {
		query  string
		status int
		code   string
		msg    string
	}{
		{"$top=1000", 400, "Request_UnsupportedQuery", "Must be between 1 and 999 inclusive"},
		{"$top=0", 400, "Request_UnsupportedQuery", "Must be between 1 and 999 inclusive"},
		{"$top=ten", 400, "Request_BadRequest", "$top"},
		{"$select=id,nope", 400, "Request_BadRequest", "Could not find a property named 'nope'"},
		// https://learn.microsoft.com/graph/api/user-list: 501 for a
		// property returned only for a single user.
		{"$select=aboutMe", 501, "NotImplemented", "aboutMe"},
		{"$filter=accountEnabled%20eq%20false", 501, "NotImplemented", "$filter"},
		{"$skip=10", 400, "BadRequest", "$skip"},
		{"$skiptoken=bm9wZQ", 400, "Request_BadRequest", "$skiptoken"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			resp, b := get(t, s, tok, "/v1.0/users?"+tc.query, nil)
			wantGraphError(t, resp, b, tc.status, tc.code, tc.msg)
		})
	}
}

// TestCount: $count is an advanced query. With ConsistencyLevel: eventual
// it counts; without, $count=true is silently ignored and /$count is 400
// (https://learn.microsoft.com/graph/aad-advanced-queries).
func TestCount(t *testing.T) {
	tenant := graphtest.Synthesize(57)
	s := graphtest.Start(t, graphtest.Options{Tenant: tenant, UserPageMax: 20})
	tok := appToken(t, s)
	eventual := map[string]string{"ConsistencyLevel": "eventual"}

	resp, b := get(t, s, tok, "/v1.0/users?$count=true&$select=id", eventual)
	if p := decode[page](t, b); resp.StatusCode != 200 || p.Count == nil || *p.Count != 57 || len(p.Value) != 20 {
		t.Errorf("$count=true with ConsistencyLevel: %d, @odata.count %v, %d rows; want 200, 57, 20", resp.StatusCode, p.Count, len(p.Value))
	}
	resp, b = get(t, s, tok, "/v1.0/users?$count=true&$select=id", nil)
	if p := decode[page](t, b); resp.StatusCode != 200 || p.Count != nil || len(p.Value) != 20 {
		t.Errorf("$count=true without ConsistencyLevel: %d, @odata.count %v, %d rows; want 200, none, 20", resp.StatusCode, p.Count, len(p.Value))
	}
	resp, b = get(t, s, tok, "/v1.0/users?$count=yes", eventual)
	wantGraphError(t, resp, b, 400, "Request_BadRequest", "$count")

	pilot := tenant.Groups[1]
	for _, tc := range []struct {
		path string
		want int
	}{
		{"/v1.0/users/$count", 57},
		{"/v1.0/groups/$count", len(tenant.Groups)},
		{"/v1.0/groups/" + pilot.ID + "/transitiveMembers/$count", len(pilot.Members)},
		{"/v1.0/groups/" + pilot.ID + "/transitiveMembers/microsoft.graph.user/$count", len(pilot.Members)},
		{"/v1.0/groups/" + pilot.ID + "/transitiveMembers/microsoft.graph.group/$count", 0},
	} {
		resp, b := get(t, s, tok, tc.path, eventual)
		if resp.StatusCode != 200 || string(b) != strconv.Itoa(tc.want) || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Errorf("GET %s: %d %q (%s), want 200 %d as text/plain", tc.path, resp.StatusCode, b, resp.Header.Get("Content-Type"), tc.want)
		}
		resp, b = get(t, s, tok, tc.path, nil)
		wantGraphError(t, resp, b, 400, "Request_BadRequest", "$count is not currently supported.")
	}
}

func TestRegistrations(t *testing.T) {
	tenant := graphtest.Synthesize(250)
	us := users(t, tenant)
	byID := map[string]user{}
	enabled := 0
	for _, u := range us {
		byID[u.ID] = u
		if u.AccountEnabled {
			enabled++
		}
	}
	if enabled == len(us) || enabled < 200 {
		t.Fatalf("%d of %d synthesized users enabled: the test needs some disabled ones", enabled, len(us))
	}
	s := graphtest.Start(t, graphtest.Options{Tenant: tenant, RegistrationPage: 100})
	tok := appToken(t, s)
	pages := walk(t, s, tok, "/v1.0/reports/authenticationMethods/userRegistrationDetails", nil)
	var sizes []int
	seen := map[string]bool{}
	for _, p := range pages {
		sizes = append(sizes, len(p.Value))
		if p.Context != s.URL()+"/v1.0/$metadata#reports/authenticationMethods/userRegistrationDetails" {
			t.Errorf("@odata.context %q", p.Context)
		}
		for _, raw := range p.Value {
			r := decode[registration](t, raw)
			checkRegistration(t, byID, r)
			if seen[r.ID] {
				t.Errorf("row for %s twice", r.ID)
			}
			seen[r.ID] = true
		}
	}
	if want := []int{100, 100, enabled - 200}; !slices.Equal(sizes, want) {
		t.Errorf("page sizes %v, want %v", sizes, want)
	}
	if len(seen) != enabled {
		t.Errorf("%d rows, want one for each of the %d enabled users", len(seen), enabled)
	}

	// The report documents $filter and $orderby only
	// (https://learn.microsoft.com/graph/api/authenticationmethodsroot-list-userregistrationdetails).
	resp, b := get(t, s, tok, "/v1.0/reports/authenticationMethods/userRegistrationDetails?$top=50", nil)
	wantGraphError(t, resp, b, 400, "BadRequest", "$top")
	resp, b = get(t, s, tok, "/v1.0/reports/authenticationMethods/userRegistrationDetails?$filter=isMfaCapable%20eq%20true", nil)
	wantGraphError(t, resp, b, 501, "NotImplemented", "$filter")

	one := us[0]
	for _, u := range us {
		if u.AccountEnabled {
			one = u
			break
		}
	}
	resp, b = get(t, s, tok, "/v1.0/reports/authenticationMethods/userRegistrationDetails/"+one.ID, nil)
	if r := decode[registration](t, b); resp.StatusCode != 200 || r.ID != one.ID {
		t.Errorf("GET one row: %d %s", resp.StatusCode, b)
	}

	t.Run("hand-made tenant", func(t *testing.T) {
		tn := &graphtest.Tenant{
			Apps: []graphtest.App{{ClientID: graphtest.DefaultClientID, Secret: graphtest.DefaultClientSecret}},
			Users: []json.RawMessage{
				json.RawMessage(`{"id":"a1","userPrincipalName":"on@contoso.example","accountEnabled":true}`),
				json.RawMessage(`{"id":"b2","userPrincipalName":"off@contoso.example","accountEnabled":false}`),
			},
			Registrations: []json.RawMessage{
				json.RawMessage(`{"id":"a1","userPrincipalName":"on@contoso.example","isMfaCapable":true}`),
				json.RawMessage(`{ "id" : "b2", "userPrincipalName": "off@contoso.example" }`),
			},
		}
		s := graphtest.Start(t, graphtest.Options{Tenant: tn})
		tok := appToken(t, s)
		// A selected property the object lacks comes back as null.
		if resp, b := get(t, s, tok, "/v1.0/users/a1?$select=department,id", nil); string(b) != `{"@odata.context":"`+s.URL()+`/v1.0/$metadata#users(department,id)/$entity","id":"a1","department":null}` {
			t.Errorf("GET /users/a1?$select=department,id: %d %s", resp.StatusCode, b)
		}
		resp, b := get(t, s, tok, "/v1.0/reports/authenticationMethods/userRegistrationDetails", nil)
		p := decode[page](t, b)
		if got := ids(t, p.Value); resp.StatusCode != 200 || !slices.Equal(got, []string{"a1"}) {
			t.Errorf("rows %v, want [a1]: the disabled account's row is left out", got)
		}
		if len(p.Value) == 1 && string(p.Value[0]) != `{"id":"a1","userPrincipalName":"on@contoso.example","isMfaCapable":true}` {
			t.Errorf("row served as %s, want it as given", p.Value[0])
		}
	})

	t.Run("no premium", func(t *testing.T) {
		s := graphtest.Start(t, graphtest.Options{Tenant: graphtest.Synthesize(5), NoPremium: true})
		resp, b := get(t, s, appToken(t, s), "/v1.0/reports/authenticationMethods/userRegistrationDetails", nil)
		wantGraphError(t, resp, b, 403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant", "premium license")
	})
}

func TestGroups(t *testing.T) {
	tenant := graphtest.Synthesize(300)
	s := graphtest.Start(t, graphtest.Options{Tenant: tenant, UserPageMax: 7})
	tok := appToken(t, s)

	for _, tc := range []struct {
		filter string
		want   []string
	}{
		{"displayName eq 'Passkey Pilot'", []string{tenant.Groups[1].ID}},
		{"displayName eq 'passkey PILOT'", []string{tenant.Groups[1].ID}}, // directory strings compare without case
		{"displayName eq 'Nobody''s group'", nil},
		{"id eq '" + tenant.Groups[3].ID + "'", []string{tenant.Groups[3].ID}},
	} {
		resp, b := get(t, s, tok, "/v1.0/groups?$select=id,displayName&$filter="+url.QueryEscape(tc.filter), nil)
		p := decode[page](t, b)
		if got := ids(t, p.Value); resp.StatusCode != 200 || !slices.Equal(got, tc.want) {
			t.Errorf("$filter=%s: %d %v, want %v", tc.filter, resp.StatusCode, got, tc.want)
		}
	}
	resp, b := get(t, s, tok, "/v1.0/groups?$filter="+url.QueryEscape("displayName eq 'unclosed"), nil)
	wantGraphError(t, resp, b, 400, "BadRequest", "Invalid filter clause")
	resp, b = get(t, s, tok, "/v1.0/groups?$filter="+url.QueryEscape("startswith(displayName,'P')"), nil)
	wantGraphError(t, resp, b, 501, "NotImplemented", "")

	resp, b = get(t, s, tok, "/v1.0/groups/"+tenant.Groups[2].ID+"?$select=id,displayName", nil)
	if g := decode[struct{ ID, DisplayName string }](t, b); resp.StatusCode != 200 || g.DisplayName != "Privileged Admins" {
		t.Errorf("GET group: %d %s", resp.StatusCode, b)
	}

	finance := tenant.Groups[3]
	pages := walk(t, s, tok, "/v1.0/groups/"+finance.ID+"/transitiveMembers/microsoft.graph.user?$select=id,userPrincipalName", nil)
	var got []string
	for i, p := range pages {
		if p.Context != s.URL()+"/v1.0/$metadata#users(id,userPrincipalName)" {
			t.Errorf("page %d: @odata.context %q", i, p.Context)
		}
		if len(p.Value) > 7 {
			t.Errorf("page %d: %d rows, more than UserPageMax", i, len(p.Value))
		}
		got = append(got, ids(t, p.Value)...)
	}
	if len(finance.Members) < 15 || !slices.Equal(got, finance.Members) {
		t.Errorf("transitive members %v, want the group's %d members %v", got, len(finance.Members), finance.Members)
	}
	if want := (len(finance.Members) + 6) / 7; len(pages) != want {
		t.Errorf("%d pages, want %d", len(pages), want)
	}

	resp, b = get(t, s, tok, "/v1.0/groups/"+finance.ID+"/transitiveMembers/microsoft.graph.group", nil)
	if p := decode[page](t, b); resp.StatusCode != 200 || len(p.Value) != 0 {
		t.Errorf("groups among the members: %d %s, want none", resp.StatusCode, b)
	}
	// https://learn.microsoft.com/graph/api/group-list-transitivemembers:
	// a cast to an unsupported member type is 400 Request_UnsupportedQuery.
	resp, b = get(t, s, tok, "/v1.0/groups/"+finance.ID+"/transitiveMembers/microsoft.graph.message", nil)
	wantGraphError(t, resp, b, 400, "Request_UnsupportedQuery", "")
	resp, b = get(t, s, tok, "/v1.0/groups/00000000-1111-4222-8333-444444444444/transitiveMembers", nil)
	wantGraphError(t, resp, b, 404, "Request_ResourceNotFound", "")
}

func TestPolicies(t *testing.T) {
	tenant := graphtest.Synthesize(10)
	s := graphtest.Start(t, graphtest.Options{Tenant: tenant})
	tok := appToken(t, s)

	resp, b := get(t, s, tok, "/v1.0/policies/authenticationMethodsPolicy", nil)
	pol := decode[struct {
		Context string `json:"@odata.context"`
		ID      string `json:"id"`
		Configs []struct {
			ID    string `json:"id"`
			State string `json:"state"`
		} `json:"authenticationMethodConfigurations"`
	}](t, b)
	if resp.StatusCode != 200 || pol.Context != s.URL()+"/v1.0/$metadata#authenticationMethodsPolicy" || pol.ID != "authenticationMethodsPolicy" {
		t.Errorf("policy: %d %s", resp.StatusCode, b)
	}
	if len(pol.Configs) == 0 || pol.Configs[0].ID != "Fido2" || pol.Configs[0].State != "enabled" {
		t.Errorf("policy configurations %+v, want Fido2 enabled first", pol.Configs)
	}
	resp, b = get(t, s, tok, "/v1.0/policies/authenticationMethodsPolicy?$select=id", nil)
	wantGraphError(t, resp, b, 501, "NotImplemented", "$select")

	for _, tc := range []struct {
		path, context string
		want          int
	}{
		{"/v1.0/identity/conditionalAccess/policies", "identity/conditionalAccess/policies", len(tenant.ConditionalAccess)},
		{"/v1.0/policies/authenticationStrengthPolicies", "policies/authenticationStrengthPolicies", len(tenant.AuthenticationStrengths)},
	} {
		resp, b := get(t, s, tok, tc.path, nil)
		p := decode[page](t, b)
		if resp.StatusCode != 200 || len(p.Value) != tc.want || tc.want == 0 || p.NextLink != "" || p.Context != s.URL()+"/v1.0/$metadata#"+tc.context {
			t.Errorf("GET %s: %d, %d rows (want %d), context %q", tc.path, resp.StatusCode, len(p.Value), tc.want, p.Context)
		}
	}

	t.Run("none", func(t *testing.T) {
		tn := graphtest.Synthesize(2)
		tn.Policy = nil
		s := graphtest.Start(t, graphtest.Options{Tenant: tn})
		resp, b := get(t, s, appToken(t, s), "/v1.0/policies/authenticationMethodsPolicy", nil)
		wantGraphError(t, resp, b, 404, "Request_ResourceNotFound", "")
	})
}

// TestPermissions: an app-only token opens only what its application
// permissions allow, with the 403 each Graph service gives.
func TestPermissions(t *testing.T) {
	const (
		reader = "1d1d1d1d-0000-4000-8000-000000000001"
		mailer = "1d1d1d1d-0000-4000-8000-000000000002"
		none   = "1d1d1d1d-0000-4000-8000-000000000003"
	)
	tenant := graphtest.Synthesize(20)
	tenant.Apps = append(tenant.Apps,
		graphtest.App{ClientID: reader, Secret: "s1", Roles: []string{"User.Read.All", "GroupMember.Read.All"}},
		graphtest.App{ClientID: mailer, Secret: "s2", Roles: []string{"mail.send"}},
		graphtest.App{ClientID: none, Secret: "s3", Roles: []string{}},
	)
	s := graphtest.Start(t, graphtest.Options{Tenant: tenant})
	token := func(client, secret string) string {
		f := secretForm(s)
		f.Set("client_id", client)
		f.Set("client_secret", secret)
		resp, b := postForm(t, s, tokenPath(s), f)
		if resp.StatusCode != 200 {
			t.Fatalf("token for %s: %d %s", client, resp.StatusCode, b)
		}
		return decode[struct {
			AccessToken string `json:"access_token"`
		}](t, b).AccessToken
	}
	sender := users(t, tenant)[0].UserPrincipalName
	mail := `{"message":{"subject":"hi","toRecipients":[{"emailAddress":{"address":"a@contoso.example"}}]}}`
	type call struct{ method, path, body string }
	users, report, send, groups, policy := call{"GET", "/v1.0/users", ""}, call{"GET", "/v1.0/reports/authenticationMethods/userRegistrationDetails", ""},
		call{"POST", "/v1.0/users/" + sender + "/sendMail", mail}, call{"GET", "/v1.0/groups", ""}, call{"GET", "/v1.0/identity/conditionalAccess/policies", ""}
	for _, tc := range []struct {
		name       string
		tok        string
		call       call
		status     int
		code, text string
	}{
		{"default app reads users", appToken(t, s), users, 200, "", ""},
		{"default app sends", appToken(t, s), send, 202, "", ""},
		{"reader reads users", token(reader, "s1"), users, 200, "", ""},
		{"reader reads groups", token(reader, "s1"), groups, 200, "", ""},
		{"reader and the report", token(reader, "s1"), report, 403, "Authentication_MSGraphPermissionMissing", "AuditLog.Read.All"},
		{"reader and sendMail", token(reader, "s1"), send, 403, "ErrorAccessDenied", "Access is denied."},
		{"reader and CA", token(reader, "s1"), policy, 403, "AccessDenied", "required scopes are missing"},
		{"mailer sends", token(mailer, "s2"), send, 202, "", ""},
		{"mailer and users", token(mailer, "s2"), users, 403, "Authorization_RequestDenied", "Insufficient privileges"},
		{"no permissions", token(none, "s3"), users, 403, "Authorization_RequestDenied", "Insufficient privileges"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			hdr := map[string]string{}
			if tc.call.body != "" {
				body, hdr["Content-Type"] = strings.NewReader(tc.call.body), "application/json"
			}
			resp, b := do(t, s, tc.call.method, tc.call.path, tc.tok, body, hdr)
			if tc.code == "" {
				if resp.StatusCode != tc.status {
					t.Errorf("%d %s, want %d", resp.StatusCode, b, tc.status)
				}
				return
			}
			wantGraphError(t, resp, b, tc.status, tc.code, tc.text)
		})
	}
	if n := s.MailCount(); n != 2 {
		t.Errorf("%d messages accepted, want 2 (the denied one is not)", n)
	}
}

func TestSendMail(t *testing.T) {
	tenant := graphtest.Synthesize(40)
	us := users(t, tenant)
	var member, guest, noMail user
	for _, u := range us {
		switch {
		case u.UserType == "Guest" && guest.ID == "":
			guest = u
		case u.UserType == "Member" && u.Mail == nil && noMail.ID == "":
			noMail = u
		case u.UserType == "Member" && u.Mail != nil && member.ID == "":
			member = u
		}
	}
	if member.ID == "" {
		t.Fatal("no member with a mailbox in Synthesize(40)")
	}
	s := graphtest.Start(t, graphtest.Options{Tenant: tenant})
	tok := appToken(t, s)
	send := func(who, contentType string, body []byte, hdr map[string]string) (*http.Response, []byte) {
		h := map[string]string{"Content-Type": contentType}
		for k, v := range hdr {
			h[k] = v
		}
		return do(t, s, http.MethodPost, "/v1.0/users/"+url.PathEscape(who)+"/sendMail", tok, bytes.NewReader(body), h)
	}

	// The request of https://learn.microsoft.com/graph/api/user-sendmail,
	// example 1, with its saveToSentItems given as a string.
	msg := `{"message":{"subject":"Meet for lunch?","body":{"contentType":"Text","content":"The new cafeteria is open."},
		"toRecipients":[{"emailAddress":{"address":"frannis@contoso.com"}}],"ccRecipients":[{"emailAddress":{"address":"danas@contoso.com"}}],
		"internetMessageHeaders":[{"name":"x-nudge-wave","value":"announce"}],
		"attachments":[{"@odata.type":"#microsoft.graph.fileAttachment","name":"guide.txt","contentType":"text/plain","contentBytes":"SGVsbG8gV29ybGQh"}]},
		"saveToSentItems":"false"}`
	resp, b := send(member.UserPrincipalName, "application/json", []byte(msg), nil)
	if resp.StatusCode != http.StatusAccepted || len(b) != 0 {
		t.Fatalf("sendMail: %d %q, want 202 with no body", resp.StatusCode, b)
	}
	mails := s.Mail()
	if len(mails) != 1 {
		t.Fatalf("%d messages recorded, want 1", len(mails))
	}
	m := mails[0]
	if m.Mailbox != member.UserPrincipalName || m.UserID != member.ID || m.SaveToSentItems || m.Message.Subject != "Meet for lunch?" ||
		m.Message.Body.ContentType != "Text" || m.Message.Body.Content != "The new cafeteria is open." ||
		len(m.Message.ToRecipients) != 1 || m.Message.ToRecipients[0].EmailAddress.Address != "frannis@contoso.com" ||
		len(m.Message.CcRecipients) != 1 || len(m.Message.InternetMessageHeaders) != 1 ||
		len(m.Message.Attachments) != 1 || string(m.Message.Attachments[0].ContentBytes) != "Hello World!" {
		t.Errorf("recorded %+v", m)
	}

	// Compressed, as the SDK sends it, and by id.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	io.WriteString(zw, `{"message":{"subject":"zipped","toRecipients":[{"emailAddress":{"address":"a@contoso.example"}}]}}`)
	zw.Close()
	resp, b = send(member.ID, "application/json", gz.Bytes(), map[string]string{"Content-Encoding": "gzip"})
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("gzip sendMail: %d %s", resp.StatusCode, b)
	}
	mime := "From: a@contoso.example\r\nTo: b@contoso.example\r\nSubject: MIME\r\n\r\nbody\r\n"
	resp, b = send(member.ID, "text/plain", []byte(base64.StdEncoding.EncodeToString([]byte(mime))), nil)
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("MIME sendMail: %d %s", resp.StatusCode, b)
	}
	mails = s.Mail()
	if len(mails) != 3 || mails[1].Message.Subject != "zipped" || !mails[1].SaveToSentItems || string(mails[2].MIME) != mime {
		t.Errorf("recorded %d messages; second %+v; third MIME %q", len(mails), mails[1].Message, mails[min(2, len(mails)-1)].MIME)
	}
	if s.MailCount() != 3 {
		t.Errorf("MailCount %d, want 3", s.MailCount())
	}

	for _, tc := range []struct {
		name, who, contentType, body string
		status                       int
		code                         string
	}{
		{"no recipients", member.ID, "application/json", `{"message":{"subject":"x"}}`, 400, "ErrorInvalidRecipients"},
		{"bad address", member.ID, "application/json", `{"message":{"toRecipients":[{"emailAddress":{"address":"nobody"}}]}}`, 400, "ErrorInvalidRecipients"},
		{"no message", member.ID, "application/json", `{"saveToSentItems":false}`, 400, "ErrorInvalidParameter"},
		{"unknown property", member.ID, "application/json", `{"message":{"subjekt":"x","toRecipients":[{"emailAddress":{"address":"a@b.example"}}]}}`, 400, "RequestBodyRead"},
		{"header without x-", member.ID, "application/json", `{"message":{"toRecipients":[{"emailAddress":{"address":"a@b.example"}}],"internetMessageHeaders":[{"name":"Reply-To","value":"x"}]}}`, 400, "InvalidInternetMessageHeader"},
		{"bad MIME", member.ID, "text/plain", "not base64!", 400, "ErrorMimeContentInvalidBase64String"},
		{"unknown user", "nobody@contoso.example", "application/json", msg, 404, "ErrorInvalidUser"},
		{"guest", guest.ID, "application/json", msg, 404, "MailboxNotEnabledForRESTAPI"},
		{"no mail", noMail.ID, "application/json", msg, 404, "MailboxNotEnabledForRESTAPI"},
		{"form", member.ID, "application/x-www-form-urlencoded", "a=b", 415, "UnsupportedMediaType"},
	} {
		if tc.who == "" {
			continue // Synthesize(40) had no such user
		}
		t.Run(tc.name, func(t *testing.T) {
			resp, b := send(tc.who, tc.contentType, []byte(tc.body), nil)
			wantGraphError(t, resp, b, tc.status, tc.code, "")
		})
	}
	if n := len(s.Mail()); n != 3 {
		t.Errorf("%d messages recorded after refusals, want still 3", n)
	}

	t.Run("lean", func(t *testing.T) {
		s := graphtest.Start(t, graphtest.Options{Tenant: tenant, Lean: true})
		tok := appToken(t, s)
		for range 3 {
			resp, b := do(t, s, http.MethodPost, "/v1.0/users/"+member.ID+"/sendMail", tok, strings.NewReader(msg), map[string]string{"Content-Type": "application/json"})
			if resp.StatusCode != 202 {
				t.Fatalf("%d %s", resp.StatusCode, b)
			}
		}
		if s.Mail() != nil || s.MailCount() != 3 {
			t.Errorf("lean: Mail() %d, MailCount %d; want nil and 3", len(s.Mail()), s.MailCount())
		}
		for _, r := range s.Requests() {
			if r.Body != nil {
				t.Errorf("lean server kept the body of %s %s", r.Method, r.Path)
			}
		}
	})
}

func TestMailboxSettings(t *testing.T) {
	tenant := graphtest.Synthesize(60)
	var seattle, other user
	for _, u := range users(t, tenant) {
		if u.Mail == nil || u.UserType != "Member" {
			continue
		}
		switch {
		case u.OfficeLocation != nil && *u.OfficeLocation == "Seattle" && seattle.ID == "":
			seattle = u
		case other.ID == "":
			other = u
		}
	}
	if seattle.ID == "" || other.ID == "" {
		t.Fatal("Synthesize(60) has no Seattle member with a mailbox")
	}
	tenant.TimeZones = map[string]string{other.ID: "Tokyo Standard Time"}
	s := graphtest.Start(t, graphtest.Options{Tenant: tenant})
	tok := appToken(t, s)
	for who, want := range map[string]string{seattle.ID: "Pacific Standard Time", other.UserPrincipalName: "Tokyo Standard Time"} {
		resp, b := get(t, s, tok, "/v1.0/users/"+who+"/mailboxSettings", nil)
		got := decode[struct {
			Context      string `json:"@odata.context"`
			TimeZone     string `json:"timeZone"`
			WorkingHours struct {
				TimeZone struct{ Name string } `json:"timeZone"`
			} `json:"workingHours"`
		}](t, b)
		if resp.StatusCode != 200 || got.TimeZone != want || got.WorkingHours.TimeZone.Name != want || !strings.HasSuffix(got.Context, "')/mailboxSettings") {
			t.Errorf("mailboxSettings of %s: %d %s, want timeZone %q", who, resp.StatusCode, b, want)
		}
	}
}

func TestTemporaryAccessPass(t *testing.T) {
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	tenant := graphtest.Synthesize(5)
	who := users(t, tenant)[2]
	s := graphtest.Start(t, graphtest.Options{Tenant: tenant, Now: func() time.Time { return now }})
	tok := appToken(t, s)
	create := func(s *graphtest.Server, tok, body string) (*http.Response, []byte) {
		return do(t, s, http.MethodPost, "/v1.0/users/"+who.ID+"/authentication/temporaryAccessPassMethods", tok,
			strings.NewReader(body), map[string]string{"Content-Type": "application/json"})
	}
	type pass struct {
		Type       string    `json:"@odata.type"`
		Pass       string    `json:"temporaryAccessPass"`
		Start      time.Time `json:"startDateTime"`
		Lifetime   int       `json:"lifetimeInMinutes"`
		UsableOnce bool      `json:"isUsableOnce"`
		Usable     bool      `json:"isUsable"`
		Reason     string    `json:"methodUsabilityReason"`
	}
	// Synthesize's policy: default 60 minutes, 60 to 480, multi-use allowed.
	resp, b := create(s, tok, `{}`)
	p := decode[pass](t, b)
	if resp.StatusCode != http.StatusCreated || p.Type != "#microsoft.graph.temporaryAccessPassAuthenticationMethod" || p.Lifetime != 60 ||
		len(p.Pass) != 8 || !p.Usable || p.Reason != "EnabledByPolicy" || !p.Start.Equal(now) {
		t.Errorf("default pass: %d %s", resp.StatusCode, b)
	}
	resp, b = create(s, tok, `{"startDateTime":"2026-11-21T08:00:00Z","lifetimeInMinutes":480,"isUsableOnce":true}`)
	p = decode[pass](t, b)
	if resp.StatusCode != http.StatusCreated || p.Lifetime != 480 || !p.UsableOnce || p.Usable || p.Reason != "NotYetValid" {
		t.Errorf("pass for tomorrow: %d %s", resp.StatusCode, b)
	}
	for _, body := range []string{`{"lifetimeInMinutes":30}`, `{"lifetimeInMinutes":481}`, `{"lifetime":60}`} {
		resp, b := create(s, tok, body)
		wantGraphError(t, resp, b, 400, "BadRequest", "")
	}
	got := s.TemporaryAccessPasses()
	if len(got) != 2 || got[0].UserID != who.ID || got[0].LifetimeInMinutes != 60 || got[1].LifetimeInMinutes != 480 || !got[1].IsUsableOnce {
		t.Errorf("passes recorded: %+v", got)
	}
	resp, b = do(t, s, http.MethodPost, "/v1.0/users/nobody@contoso.example/authentication/temporaryAccessPassMethods", tok, strings.NewReader("{}"), nil)
	wantGraphError(t, resp, b, 404, "Request_ResourceNotFound", "")

	t.Run("policy", func(t *testing.T) {
		for _, tc := range []struct {
			name, config, body string
			status, lifetime   int
		}{
			{"one-time only", `"state":"enabled","defaultLifetimeInMinutes":120,"minimumLifetimeInMinutes":10,"maximumLifetimeInMinutes":600,"isUsableOnce":true`, `{}`, 201, 120},
			{"one-time only, multi-use asked", `"state":"enabled","isUsableOnce":true`, `{"isUsableOnce":false}`, 400, 0},
			{"disabled", `"state":"disabled"`, `{}`, 400, 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tn := graphtest.Synthesize(5)
				tn.Policy = json.RawMessage(`{"id":"authenticationMethodsPolicy","authenticationMethodConfigurations":[{"@odata.type":"#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration","id":"TemporaryAccessPass",` + tc.config + `}]}`)
				s := graphtest.Start(t, graphtest.Options{Tenant: tn})
				resp, b := create(s, appToken(t, s), tc.body)
				if resp.StatusCode != tc.status {
					t.Fatalf("%d %s, want %d", resp.StatusCode, b, tc.status)
				}
				if tc.status == 201 {
					if p := decode[pass](t, b); p.Lifetime != tc.lifetime || !p.UsableOnce {
						t.Errorf("pass %+v, want %d minutes, one-time", p, tc.lifetime)
					}
				}
			})
		}
	})
}

func TestFaults(t *testing.T) {
	tenant := graphtest.Synthesize(30)
	for _, tc := range []struct {
		name    string
		faults  []graphtest.Fault
		method  string
		path    string
		want    []int // status of each request in turn
		check   func(t *testing.T, i int, resp *http.Response, b []byte)
		noReuse bool
	}{
		{
			name:   "503 twice with Retry-After",
			faults: []graphtest.Fault{{Path: "/v1.0/users", Times: 2, Status: 503, RetryAfter: "7"}},
			path:   "/v1.0/users?$top=5", want: []int{503, 503, 200, 200},
			check: func(t *testing.T, i int, resp *http.Response, b []byte) {
				if i < 2 {
					if resp.Header.Get("Retry-After") != "7" {
						t.Errorf("request %d: Retry-After %q, want 7", i, resp.Header.Get("Retry-After"))
					}
					wantGraphError(t, resp, b, 503, "serviceNotAvailable", "")
				}
			},
		},
		{
			name:   "every time, own body",
			faults: []graphtest.Fault{{Path: "/v1.0/reports/", Status: 418, Body: `{"teapot":true}`}},
			path:   "/v1.0/reports/authenticationMethods/userRegistrationDetails", want: []int{418, 418, 418},
			check: func(t *testing.T, i int, resp *http.Response, b []byte) {
				if string(b) != `{"teapot":true}` || resp.Header.Get("Content-Type") != "application/json" {
					t.Errorf("request %d: body %s (%s)", i, b, resp.Header.Get("Content-Type"))
				}
			},
		},
		{
			name:   "method filter",
			faults: []graphtest.Fault{{Path: "/v1.0/users", Method: "POST", Status: 500}},
			path:   "/v1.0/users", want: []int{200, 200},
		},
		{
			name:   "first matching fault with uses left",
			faults: []graphtest.Fault{{Path: "/v1.0/users", Times: 1, Status: 502}, {Path: "/v1.0/", Times: 1, Status: 504}, {Path: "/v1.0/users", Times: 1, Status: 500}},
			path:   "/v1.0/users", want: []int{502, 504, 500, 200},
			check: func(t *testing.T, i int, resp *http.Response, b []byte) {
				if i == 1 {
					wantGraphError(t, resp, b, 504, "UnknownError", "")
				}
			},
		},
		{
			name:   "malformed",
			faults: []graphtest.Fault{{Path: "/v1.0/users", Times: 1, Malformed: true}},
			path:   "/v1.0/users?$select=id", want: []int{200, 200},
			check: func(t *testing.T, i int, resp *http.Response, b []byte) {
				if valid := json.Valid(b); valid == (i == 0) {
					t.Errorf("request %d: valid JSON %v: %.80s", i, valid, b)
				}
			},
		},
		{
			name:   "reset",
			faults: []graphtest.Fault{{Path: "/v1.0/users", Times: 1, Reset: true}},
			path:   "/v1.0/users", want: []int{0, 200}, noReuse: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := graphtest.Start(t, graphtest.Options{Tenant: tenant, Faults: tc.faults})
			tok := appToken(t, s)
			client := s.Client()
			if tc.noReuse {
				// A fresh connection per request: net/http retries a GET
				// once by itself when a reused connection drops.
				tr := client.Transport.(*http.Transport).Clone()
				tr.DisableKeepAlives = true
				client = &http.Client{Transport: tr}
			}
			var bodies [][]byte
			for i, want := range tc.want {
				req, _ := http.NewRequest(http.MethodGet, s.URL()+tc.path, nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				resp, err := client.Do(req)
				if want == 0 {
					if err == nil {
						resp.Body.Close()
						t.Fatalf("request %d: %d, want the connection reset", i, resp.StatusCode)
					}
					continue
				}
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != want {
					t.Fatalf("request %d: %d %s, want %d", i, resp.StatusCode, b, want)
				}
				if tc.check != nil {
					tc.check(t, i, resp, b)
				}
				bodies = append(bodies, b)
			}
			if tc.name == "malformed" && !bytes.HasPrefix(bodies[1], bodies[0]) && len(bodies[0]) >= len(bodies[1])/2-1 {
				t.Errorf("malformed body %.80s is not the first half of the real one", bodies[0])
			}
			var logged []int
			for _, r := range s.Requests() {
				if strings.HasPrefix(r.Path, "/v1.0/") {
					logged = append(logged, r.Status)
				}
			}
			if !slices.Equal(logged, tc.want) {
				t.Errorf("statuses logged %v, want %v", logged, tc.want)
			}
		})
	}
}

// TestThrottle: every Nth authorized Graph request is a 429 with
// Retry-After; token requests and refused requests do not count.
func TestThrottle(t *testing.T) {
	s := graphtest.Start(t, graphtest.Options{Tenant: graphtest.Synthesize(10), ThrottleEvery: 3, RetryAfter: 2})
	tok := appToken(t, s)
	get(t, s, "", "/v1.0/users", nil) // 401: not counted
	var statuses []int
	for i := range 7 {
		resp, b := get(t, s, tok, fmt.Sprintf("/v1.0/users?$top=%d", i+1), nil)
		statuses = append(statuses, resp.StatusCode)
		if resp.StatusCode == 429 {
			wantGraphError(t, resp, b, 429, "TooManyRequests", "")
			if resp.Header.Get("Retry-After") != "2" {
				t.Errorf("Retry-After %q, want 2", resp.Header.Get("Retry-After"))
			}
		}
	}
	if want := []int{200, 200, 429, 200, 200, 429, 200}; !slices.Equal(statuses, want) {
		t.Errorf("statuses %v, want %v", statuses, want)
	}
	if v := s.Violations(); len(v) != 0 {
		t.Errorf("violations %q, want none: no request was repeated", v)
	}
	// Repeating the throttled request at once is what Violations is for.
	get(t, s, tok, "/v1.0/users?$top=6", nil)
	v := s.Violations()
	if len(v) != 1 || !strings.HasPrefix(v[0], "GET /v1.0/users?$top=6 retried ") || !strings.HasSuffix(v[0], "after 429 with Retry-After: 2") {
		t.Errorf("violations %q, want one for GET /v1.0/users?$top=6", v)
	}
}

// TestViolations: a request repeated sooner than the Retry-After of the
// 429 or 503 it got is recorded, one that waited is not, and other
// statuses or other requests are not.
func TestViolations(t *testing.T) {
	s := graphtest.Start(t, graphtest.Options{Tenant: graphtest.Synthesize(5), Faults: []graphtest.Fault{
		{Path: "/v1.0/users", Times: 1, Status: 429, RetryAfter: "1"},
		{Path: "/v1.0/groups", Times: 1, Status: 503, RetryAfter: "30"},
		{Path: "/v1.0/reports/", Times: 1, Status: 500, RetryAfter: "30"},
		{Path: "/v1.0/policies/", Times: 1, Status: 429, RetryAfter: "0"},
		{Path: "/v1.0/identity/", Times: 1, Status: 503, RetryAfter: time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)},
	}})
	tok := appToken(t, s)
	for _, p := range []string{"/v1.0/groups", "/v1.0/groups?$top=1", "/v1.0/groups",
		"/v1.0/reports/authenticationMethods/userRegistrationDetails", "/v1.0/reports/authenticationMethods/userRegistrationDetails",
		"/v1.0/policies/authenticationMethodsPolicy", "/v1.0/policies/authenticationMethodsPolicy",
		"/v1.0/identity/conditionalAccess/policies", "/v1.0/identity/conditionalAccess/policies",
		"/v1.0/users"} {
		get(t, s, tok, p, nil)
	}
	time.Sleep(1100 * time.Millisecond)
	if resp, b := get(t, s, tok, "/v1.0/users", nil); resp.StatusCode != 200 {
		t.Fatalf("after waiting: %d %s", resp.StatusCode, b)
	}
	v := s.Violations()
	if len(v) != 1 || !strings.HasPrefix(v[0], "GET /v1.0/groups retried ") || !strings.HasSuffix(v[0], "after 503 with Retry-After: 30") {
		t.Errorf("violations %q, want only the repeated GET /v1.0/groups (the $top=1 request is another one)", v)
	}
}

func TestSynthesize(t *testing.T) {
	tn := graphtest.Synthesize(2000)
	us := users(t, tn)
	if len(us) != 2000 || tn.ID != graphtest.DefaultTenantID || len(tn.Apps) != 1 || tn.Apps[0].Secret != graphtest.DefaultClientSecret {
		t.Fatalf("%d users, tenant %s, apps %+v", len(us), tn.ID, tn.Apps)
	}
	byID := map[string]user{}
	upns := map[string]bool{}
	var guests, disabled, members []string
	for _, u := range us {
		if _, dup := byID[u.ID]; dup || len(u.ID) != 36 {
			t.Errorf("id %q repeated or not a GUID", u.ID)
		}
		if upns[u.UserPrincipalName] {
			t.Errorf("userPrincipalName %s twice", u.UserPrincipalName)
		}
		byID[u.ID], upns[u.UserPrincipalName] = u, true
		switch {
		case u.UserType == "Guest":
			guests = append(guests, u.ID)
			if !strings.Contains(u.UserPrincipalName, "#EXT#@contoso.example") || u.Department != nil {
				t.Errorf("guest %+v", u)
			}
		case u.UserType != "Member":
			t.Errorf("userType %q", u.UserType)
		}
		if !u.AccountEnabled {
			disabled = append(disabled, u.ID)
		}
		if u.UserType == "Member" && u.AccountEnabled {
			members = append(members, u.ID)
		}
	}
	// The mix Synthesize documents: about 3% guests and 2% disabled.
	if len(guests) < 30 || len(guests) > 90 || len(disabled) < 20 || len(disabled) > 60 {
		t.Errorf("%d guests and %d disabled of 2000, want about 60 and 40", len(guests), len(disabled))
	}

	regs := map[string]registration{}
	admins, passkeys := 0, 0
	for _, raw := range tn.Registrations {
		r := decode[registration](t, raw)
		checkRegistration(t, byID, r)
		if r.IsMfaCapable != (len(r.MethodsRegistered) > 0) {
			t.Errorf("registration %+v: isMfaCapable and methods disagree", r)
		}
		if r.IsAdmin {
			admins++
		}
		if slices.ContainsFunc(r.MethodsRegistered, func(m string) bool { return strings.HasPrefix(m, "passKey") }) {
			passkeys++
		}
		regs[r.ID] = r
	}
	if len(regs) != len(us)-len(disabled) || len(regs) != len(tn.Registrations) {
		t.Errorf("%d registration rows (%d distinct), want one per enabled user: %d", len(tn.Registrations), len(regs), len(us)-len(disabled))
	}
	if admins == 0 || passkeys < 300 || passkeys > 700 {
		t.Errorf("%d admins and %d with a passkey among %d rows", admins, passkeys, len(regs))
	}

	names := []string{}
	for _, g := range tn.Groups {
		names = append(names, g.DisplayName)
	}
	if !slices.Equal(names, []string{"All Staff", "Passkey Pilot", "Privileged Admins", "Finance"}) {
		t.Fatalf("groups %v", names)
	}
	if !slices.Equal(tn.Groups[0].Members, members) {
		t.Errorf("All Staff has %d members, want the %d enabled members in order", len(tn.Groups[0].Members), len(members))
	}
	for _, id := range tn.Groups[1].Members {
		if !slices.Contains(members, id) {
			t.Errorf("pilot member %s is not an enabled member", id)
		}
	}
	for _, id := range tn.Groups[2].Members {
		if r, ok := regs[id]; ok && !r.IsAdmin {
			t.Errorf("admin group member %s has isAdmin false", id)
		}
	}
	for _, id := range tn.Groups[3].Members {
		if d := byID[id].Department; d == nil || *d != "Finance" {
			t.Errorf("Finance member %s in department %v", id, d)
		}
	}
	for _, raw := range append(append([]json.RawMessage{tn.Policy}, tn.ConditionalAccess...), tn.AuthenticationStrengths...) {
		if !json.Valid(raw) {
			t.Errorf("not valid JSON: %s", raw)
		}
	}
	if !strings.Contains(string(tn.Policy), tn.Groups[1].ID) {
		t.Error("the registration campaign does not target the pilot group")
	}

	again := graphtest.Synthesize(2000)
	same := len(again.Users) == len(tn.Users) && len(again.Registrations) == len(tn.Registrations)
	for i := 0; same && i < len(tn.Users); i++ {
		same = bytes.Equal(again.Users[i], tn.Users[i])
	}
	for i := 0; same && i < len(tn.Registrations); i++ {
		same = bytes.Equal(again.Registrations[i], tn.Registrations[i])
	}
	for i := 0; same && i < len(tn.Groups); i++ {
		same = again.Groups[i].ID == tn.Groups[i].ID && slices.Equal(again.Groups[i].Members, tn.Groups[i].Members)
	}
	if !same || !bytes.Equal(again.Policy, tn.Policy) {
		t.Error("Synthesize(2000) differs between two calls")
	}
	if other := graphtest.Synthesize(2001); bytes.Equal(other.Users[0], tn.Users[0]) {
		t.Error("Synthesize(2001) starts like Synthesize(2000): the size should seed the tenant")
	}
	if empty := graphtest.Synthesize(0); len(empty.Users) != 0 || len(empty.Groups) != 4 {
		t.Errorf("Synthesize(0): %d users, %d groups", len(empty.Users), len(empty.Groups))
	}
}

// readPages reads a saved Graph collection independently of LoadSnapshot:
// the "value" rows of first and of the pages its nextLinks name.
func readPages(t *testing.T, fsys fs.FS, first string) []json.RawMessage {
	t.Helper()
	var rows []json.RawMessage
	for name := first; name != ""; {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			t.Fatal(err)
		}
		p := decode[page](t, b)
		rows = append(rows, p.Value...)
		name = p.NextLink
	}
	return rows
}

func TestLoadSnapshotDemo(t *testing.T) {
	demo, err := fs.Sub(content.FS, "demo-tenant")
	if err != nil {
		t.Fatal(err)
	}
	tn, err := graphtest.LoadSnapshot(demo)
	if err != nil {
		t.Fatal(err)
	}
	wantUsers := readPages(t, demo, "users.json")
	wantRegs := readPages(t, demo, "userRegistrationDetails.json")
	if len(wantUsers) < 100 || len(tn.Users) != len(wantUsers) || len(tn.Registrations) != len(wantRegs) {
		t.Fatalf("loaded %d users and %d registrations, the files hold %d and %d", len(tn.Users), len(tn.Registrations), len(wantUsers), len(wantRegs))
	}
	if tn.ID != graphtest.DefaultTenantID || tn.Policy == nil || len(tn.Groups) == 0 {
		t.Errorf("tenant %s, policy %d bytes, %d groups", tn.ID, len(tn.Policy), len(tn.Groups))
	}

	s := graphtest.Start(t, graphtest.Options{Tenant: tn})
	tok := appToken(t, s)
	var got []json.RawMessage
	for _, p := range walk(t, s, tok, "/v1.0/users?$top=100", nil) {
		got = append(got, p.Value...)
	}
	if !slices.Equal(ids(t, got), ids(t, wantUsers)) {
		t.Errorf("served %d users, the snapshot has %d (or in another order)", len(got), len(wantUsers))
	}
	// Round trip: every property of every user comes back as saved.
	sel := keys(t, wantUsers[0])
	got = got[:0]
	for _, p := range walk(t, s, tok, "/v1.0/users?$top=999&$select="+strings.Join(sel, ","), nil) {
		got = append(got, p.Value...)
	}
	for i := range min(len(got), len(wantUsers)) {
		var a, b map[string]any
		json.Unmarshal(got[i], &a)
		json.Unmarshal(wantUsers[i], &b)
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("user %d served as %s, saved as %s", i, got[i], wantUsers[i])
			break
		}
	}
	var regs []json.RawMessage
	for _, p := range walk(t, s, tok, "/v1.0/reports/authenticationMethods/userRegistrationDetails", nil) {
		regs = append(regs, p.Value...)
	}
	if !slices.Equal(ids(t, regs), ids(t, wantRegs)) {
		t.Errorf("served %d registration rows, the snapshot has %d", len(regs), len(wantRegs))
	}
	groups := readPages(t, demo, "groups.json")
	for _, id := range ids(t, groups) {
		want := readPages(t, demo, "groupMembers-"+id+".json")
		var members []json.RawMessage
		for _, p := range walk(t, s, tok, "/v1.0/groups/"+id+"/transitiveMembers/microsoft.graph.user?$select=id", nil) {
			members = append(members, p.Value...)
		}
		if !slices.Equal(ids(t, members), ids(t, want)) {
			t.Errorf("group %s: %d members served, %d saved", id, len(members), len(want))
		}
	}
	resp, b := get(t, s, tok, "/v1.0/policies/authenticationMethodsPolicy", nil)
	saved, _ := fs.ReadFile(demo, "authenticationMethodsPolicy.json")
	var a, w map[string]any
	json.Unmarshal(b, &a)
	json.Unmarshal(saved, &w)
	delete(a, "@odata.context")
	delete(w, "@odata.context")
	if resp.StatusCode != 200 || fmt.Sprint(a) != fmt.Sprint(w) {
		t.Errorf("policy served differs from the saved one")
	}
}

func TestLoadSnapshotErrors(t *testing.T) {
	users := `{"value":[{"id":"a"}]}`
	regs := `{"value":[]}`
	for _, tc := range []struct {
		name  string
		files fstest.MapFS
		want  string
	}{
		{"no users", fstest.MapFS{"userRegistrationDetails.json": {Data: []byte(regs)}}, "users.json"},
		{"no report", fstest.MapFS{"users.json": {Data: []byte(users)}}, "userRegistrationDetails.json"},
		{"loop", fstest.MapFS{"users.json": {Data: []byte(`{"@odata.nextLink":"users-2.json","value":[]}`)},
			"users-2.json": {Data: []byte(`{"@odata.nextLink":"users.json","value":[]}`)}, "userRegistrationDetails.json": {Data: []byte(regs)}}, "loops"},
		{"link out of the folder", fstest.MapFS{"users.json": {Data: []byte(`{"@odata.nextLink":"../users.json","value":[]}`)},
			"userRegistrationDetails.json": {Data: []byte(regs)}}, "not a file name"},
		{"URL link", fstest.MapFS{"users.json": {Data: []byte(`{"@odata.nextLink":"https://graph.microsoft.com/v1.0/users?$skiptoken=x","value":[]}`)},
			"userRegistrationDetails.json": {Data: []byte(regs)}}, "not a file name"},
		{"bad policy", fstest.MapFS{"users.json": {Data: []byte(users)}, "userRegistrationDetails.json": {Data: []byte(regs)},
			"authenticationMethodsPolicy.json": {Data: []byte(`{"id":`)}}, "not valid JSON"},
		{"group without id", fstest.MapFS{"users.json": {Data: []byte(users)}, "userRegistrationDetails.json": {Data: []byte(regs)},
			"groups.json": {Data: []byte(`{"value":[{"displayName":"x"}]}`)}}, "without an id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := graphtest.LoadSnapshot(tc.files)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "graphtest: ") {
				t.Errorf("error %v, want one about %q", err, tc.want)
			}
		})
	}
	tn, err := graphtest.LoadSnapshot(fstest.MapFS{"users.json": {Data: []byte(users)}, "userRegistrationDetails.json": {Data: []byte(regs)},
		"groups.json":          {Data: []byte(`{"value":[{"id":"g1","displayName":"G"}]}`)},
		"groupMembers-g1.json": {Data: []byte(`{"value":[{"@odata.type":"#microsoft.graph.user","id":"a"},{"@odata.type":"#microsoft.graph.device","id":"d"},{"id":"b"}]}`)}})
	if err != nil || len(tn.Groups) != 1 || !slices.Equal(tn.Groups[0].Members, []string{"a", "b"}) {
		t.Errorf("groups %+v, %v; want g1 with users a and b, not the device", tn.Groups, err)
	}
}

// jwk is one key of a JSON Web Key Set.
type jwk struct {
	Kid string `json:"kid"`
	N   string `json:"n"`
	E   string `json:"e"`
}

func TestDeviceCode(t *testing.T) {
	tenant := graphtest.Synthesize(12)
	signIn := users(t, tenant)[4]
	s := graphtest.Start(t, graphtest.Options{Tenant: tenant, SignInUser: signIn.UserPrincipalName})
	scope := s.URL() + "/.default offline_access openid profile"

	resp, b := postForm(t, s, "/organizations/oauth2/v2.0/devicecode", url.Values{"client_id": {graphtest.DefaultClientID}, "scope": {scope}})
	dc := decode[struct {
		UserCode        string `json:"user_code"`
		DeviceCode      string `json:"device_code"`
		VerificationURI string `json:"verification_uri"`
		ExpiresIn       int    `json:"expires_in"`
		Interval        int    `json:"interval"`
		Message         string `json:"message"`
	}](t, b)
	if resp.StatusCode != 200 || dc.DeviceCode == "" || dc.UserCode == "" || dc.ExpiresIn != 900 || dc.Interval != 5 || !strings.Contains(dc.Message, dc.UserCode) {
		t.Fatalf("devicecode: %d %s", resp.StatusCode, b)
	}
	poll := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "client_id": {graphtest.DefaultClientID}, "device_code": {dc.DeviceCode}}
	resp, b = postForm(t, s, "/organizations/oauth2/v2.0/token", poll)
	wantAADError(t, resp, b, 400, "authorization_pending", 70016)

	resp, b = postForm(t, s, "/organizations/oauth2/v2.0/token", poll)
	if resp.StatusCode != 200 {
		t.Fatalf("second poll: %d %s", resp.StatusCode, b)
	}
	tok := decode[struct {
		Scope        string `json:"scope"`
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		IDToken      string `json:"id_token"`
		ClientInfo   string `json:"client_info"`
	}](t, b)
	if tok.Scope != s.URL()+"/.default" || tok.AccessToken == "" || tok.RefreshToken == "" {
		t.Errorf("token response %s", b)
	}
	info, _ := base64.RawURLEncoding.DecodeString(tok.ClientInfo)
	if ci := decode[struct{ UID, UTID string }](t, info); ci.UID != signIn.ID || ci.UTID != s.TenantID() {
		t.Errorf("client_info %s, want uid %s utid %s", info, signIn.ID, s.TenantID())
	}

	// The id token is signed by a key of the tenant's JWKS.
	resp, b = get(t, s, "", "/"+s.TenantID()+"/discovery/v2.0/keys", nil)
	set := decode[struct{ Keys []jwk }](t, b)
	parts := strings.Split(tok.IDToken, ".")
	if resp.StatusCode != 200 || len(set.Keys) != 1 || len(parts) != 3 {
		t.Fatalf("keys %s; id token in %d parts", b, len(parts))
	}
	n, _ := base64.RawURLEncoding.DecodeString(set.Keys[0].N)
	e, _ := base64.RawURLEncoding.DecodeString(set.Keys[0].E)
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	h := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig); err != nil {
		t.Errorf("id token signature: %v", err)
	}
	claims, _ := base64.RawURLEncoding.DecodeString(parts[1])
	c := decode[struct {
		Aud, Iss, Oid, Tid string
		PreferredUsername  string `json:"preferred_username"`
	}](t, claims)
	if c.Aud != graphtest.DefaultClientID || c.Iss != s.URL()+"/"+s.TenantID()+"/v2.0" || c.Oid != signIn.ID || c.Tid != s.TenantID() || c.PreferredUsername != signIn.UserPrincipalName {
		t.Errorf("id token claims %s", claims)
	}

	// The delegated token opens Graph.
	if resp, b := get(t, s, tok.AccessToken, "/v1.0/users/"+signIn.ID+"?$select=id", nil); resp.StatusCode != 200 {
		t.Errorf("Graph with the delegated token: %d %s", resp.StatusCode, b)
	}
	// A device code is good for one sign-in.
	resp, b = postForm(t, s, "/organizations/oauth2/v2.0/token", poll)
	wantAADError(t, resp, b, 400, "bad_verification_code", 70000)

	refresh := url.Values{"grant_type": {"refresh_token"}, "client_id": {graphtest.DefaultClientID}, "refresh_token": {tok.RefreshToken}, "scope": {scope}}
	resp, b = postForm(t, s, "/organizations/oauth2/v2.0/token", refresh)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"refresh_token"`) {
		t.Errorf("refresh: %d %s", resp.StatusCode, b)
	}
	// A refresh token is redeemed once: it rotates.
	resp, b = postForm(t, s, "/organizations/oauth2/v2.0/token", refresh)
	wantAADError(t, resp, b, 400, "invalid_grant", 9002313)

	for _, r := range s.Requests() {
		for _, secret := range []string{dc.DeviceCode, tok.RefreshToken} {
			if bytes.Contains(r.Body, []byte(url.QueryEscape(secret))) {
				t.Errorf("%s %s logged a device code or refresh token", r.Method, r.Path)
			}
		}
	}
}

func TestOpenIDConfiguration(t *testing.T) {
	s := graphtest.Start(t, graphtest.Options{Tenant: graphtest.Synthesize(3)})
	type config struct {
		Issuer        string `json:"issuer"`
		TokenEndpoint string `json:"token_endpoint"`
		DeviceCode    string `json:"device_authorization_endpoint"`
		JWKS          string `json:"jwks_uri"`
		Authorize     string `json:"authorization_endpoint"`
	}
	for _, tc := range []struct{ tenant, issuer string }{
		{s.TenantID(), s.TenantID()},
		{"contoso.example", s.TenantID()}, // a verified domain of the tenant
		{"organizations", "{tenantid}"},
		{"common", "{tenantid}"},
	} {
		resp, b := get(t, s, "", "/"+tc.tenant+"/v2.0/.well-known/openid-configuration", nil)
		c := decode[config](t, b)
		base := s.URL() + "/" + tc.tenant
		if resp.StatusCode != 200 || c.Issuer != s.URL()+"/"+tc.issuer+"/v2.0" || c.TokenEndpoint != base+"/oauth2/v2.0/token" ||
			c.DeviceCode != base+"/oauth2/v2.0/devicecode" || c.JWKS != base+"/discovery/v2.0/keys" || c.Authorize != base+"/oauth2/v2.0/authorize" {
			t.Errorf("%s: %d %+v", tc.tenant, resp.StatusCode, c)
		}
	}
	resp, b := get(t, s, "", "/fabrikam.example/v2.0/.well-known/openid-configuration", nil)
	wantAADError(t, resp, b, 400, "invalid_tenant", 90002)

	resp, b = get(t, s, "", "/common/discovery/instance?api-version=1.1&authorization_endpoint="+url.QueryEscape(s.URL()+"/"+s.TenantID()+"/oauth2/v2.0/authorize"), nil)
	d := decode[struct {
		Endpoint string `json:"tenant_discovery_endpoint"`
		Metadata []struct {
			Aliases []string `json:"aliases"`
		} `json:"metadata"`
	}](t, b)
	host := strings.TrimPrefix(s.URL(), "https://")
	if resp.StatusCode != 200 || d.Endpoint != s.URL()+"/"+s.TenantID()+"/v2.0/.well-known/openid-configuration" || len(d.Metadata) != 1 || !slices.Equal(d.Metadata[0].Aliases, []string{host}) {
		t.Errorf("instance discovery: %d %s", resp.StatusCode, b)
	}
}

// TestCertificateAssertion: a client assertion (RFC 7523) signed by the key
// of the app's registered certificate buys a token; anything else is
// refused with the AADSTS code Entra gives.
func TestCertificateAssertion(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "nudge"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	const certApp = "2c2c2c2c-0000-4000-8000-000000000001"
	tenant := graphtest.Synthesize(3)
	tenant.Apps = append(tenant.Apps, graphtest.App{ClientID: certApp, Certificate: cert})
	s := graphtest.Start(t, graphtest.Options{Tenant: tenant})
	endpoint := s.URL() + tokenPath(s)

	thumb := sha256.Sum256(der)
	assertion := func(signer *rsa.PrivateKey, aud string, exp time.Time) string {
		hdr, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "x5t#S256": base64.RawURLEncoding.EncodeToString(thumb[:])})
		claims, _ := json.Marshal(map[string]any{"aud": aud, "iss": certApp, "sub": certApp, "jti": "1", "nbf": time.Now().Add(-time.Minute).Unix(), "exp": exp.Unix()})
		signed := base64.RawURLEncoding.EncodeToString(hdr) + "." + base64.RawURLEncoding.EncodeToString(claims)
		h := sha256.Sum256([]byte(signed))
		sig, err := rsa.SignPKCS1v15(rand.Reader, signer, crypto.SHA256, h[:])
		if err != nil {
			t.Fatal(err)
		}
		return signed + "." + base64.RawURLEncoding.EncodeToString(sig)
	}
	form := func(a string) url.Values {
		return url.Values{"grant_type": {"client_credentials"}, "client_id": {certApp}, "scope": {s.URL() + "/.default"},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {a}}
	}
	soon := time.Now().Add(5 * time.Minute)
	if resp, b := postForm(t, s, tokenPath(s), form(assertion(key, endpoint, soon))); resp.StatusCode != 200 {
		t.Errorf("a good assertion: %d %s", resp.StatusCode, b)
	}
	for _, tc := range []struct {
		name      string
		assertion string
		aadsts    int
	}{
		{"other key", assertion(other, endpoint, soon), 700027},
		{"expired", assertion(key, endpoint, time.Now().Add(-10*time.Minute)), 700024},
		{"wrong audience", assertion(key, "https://login.microsoftonline.com/"+s.TenantID()+"/oauth2/v2.0/token", soon), 50027},
		{"not a JWT", "abc", 50027},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := postForm(t, s, tokenPath(s), form(tc.assertion))
			wantAADError(t, resp, b, 401, "invalid_client", tc.aadsts)
		})
	}
	// The default app has a secret and no certificate.
	f := form(assertion(key, endpoint, soon))
	f.Set("client_id", graphtest.DefaultClientID)
	resp, b := postForm(t, s, tokenPath(s), f)
	wantAADError(t, resp, b, 401, "invalid_client", 700027)
}

// TestRouting: what is not served is answered as Graph answers it, never
// with an empty 200.
func TestRouting(t *testing.T) {
	s := graphtest.Start(t, graphtest.Options{Tenant: graphtest.Synthesize(3)})
	tok := appToken(t, s)
	for _, tc := range []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/v1.0/me/messages", 400, "BadRequest"},
		{"DELETE", "/v1.0/users", 405, "Request_BadRequest"},
		{"POST", "/v1.0/users/$count", 405, "Request_BadRequest"},
		{"GET", "/beta/users", 404, "BadRequest"},
	} {
		resp, b := do(t, s, tc.method, tc.path, tok, nil, nil)
		if resp.StatusCode != tc.status || decode[graphError](t, b).Error.Code != tc.code {
			t.Errorf("%s %s: %d %s, want %d %s", tc.method, tc.path, resp.StatusCode, b, tc.status, tc.code)
		}
	}
	resp, b := do(t, s, http.MethodPost, "/v1.0/users/x/sendMail", tok, strings.NewReader("x"), map[string]string{"Content-Encoding": "br"})
	wantGraphError(t, resp, b, 400, "BadRequest", "Content-Encoding")
	if resp, _ := get(t, s, "", "/nowhere", nil); resp.StatusCode != 404 {
		t.Errorf("an unknown identity path: %d, want 404", resp.StatusCode)
	}
	if p := path.Base(s.CAFile(t)); p != "graphtest-ca.pem" {
		t.Errorf("CAFile %s", p)
	}
}

// BenchmarkSynthesize100k is the tenant of the 100,000-user benchmarks.
func BenchmarkSynthesize100k(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if tn := graphtest.Synthesize(100_000); len(tn.Users) != 100_000 {
			b.Fatalf("%d users", len(tn.Users))
		}
	}
}

// BenchmarkStart100k is what Start adds: splitting and indexing the
// tenant, and one TLS server.
func BenchmarkStart100k(b *testing.B) {
	tn := graphtest.Synthesize(100_000)
	b.ReportAllocs()
	for b.Loop() {
		graphtest.Start(b, graphtest.Options{Tenant: tn}).Close()
	}
}
