// Package graphtest is a local Microsoft Entra ID and Microsoft Graph v1.0
// for tests: a TLS server that issues tokens and serves a fake tenant in the
// JSON shapes Graph documents, so tests run the real msgraph-sdk-go and
// azidentity against it instead of a mock of either.
//
// It serves, under one https://127.0.0.1:PORT URL:
//
//   - the identity platform: /{tenant}/v2.0/.well-known/openid-configuration,
//     /common/discovery/instance, /{tenant}/discovery/v2.0/keys,
//     /{tenant}/oauth2/v2.0/token (client credentials with a client secret
//     or a certificate-signed client assertion, device code, refresh token;
//     tokens for Graph and for Exchange Online's SMTP)
//     and /{tenant}/oauth2/v2.0/devicecode;
//   - Graph under /v1.0: users (with $select, $top and $skiptoken paging,
//     $count and /$count as advanced queries), the userRegistrationDetails
//     report, groups with $filter on displayName and transitiveMembers, the
//     authentication methods, conditional access and authentication
//     strength policies, sendMail, mailboxSettings and Temporary Access
//     Pass creation (under the tenant's Temporary Access Pass policy).
//
// Graph accepts only tokens issued for Graph, and when an App lists its
// Roles, only for the endpoints those application permissions open.
//
// Point azidentity at it with cloud.Configuration{ActiveDirectoryAuthorityHost:
// s.URL()} and DisableInstanceDiscovery, give the SDK s.URL()+"/v1.0" as its
// base URL, and trust s.CertPool() (or s.CAFile).
//
// Faults are injected per path (status, Retry-After, a reset connection, a
// truncated body) or every Nth Graph request (429). Every request is logged,
// with secrets redacted, and a client that retries sooner than a
// Retry-After asked is recorded as a violation.
//
// Where the documentation says nothing (exact error messages, the page size
// of the registration report) graphtest picks something plausible and says so
// in the option or handler it concerns; query options it does not implement
// ($filter on users, $search, $orderby, $expand) answer 501 so a test never
// passes on a silently ignored option.
package graphtest

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options configure a Server. The zero value serves a small synthesized
// tenant with Graph's default page sizes.
type Options struct {
	// Tenant is served; nil serves Synthesize(20).
	Tenant *Tenant
	// UserPageMax caps the rows of a page of /users and of transitiveMembers.
	// $top (1..999, as Graph allows) is honoured up to it; without $top a
	// page has 100 rows like Graph's, or UserPageMax if smaller. Default 999.
	UserPageMax int
	// RegistrationPage is the rows per page of the userRegistrationDetails
	// report. Graph documents neither a page size nor $top for it, so the
	// default is 999, the largest page other directory lists give.
	RegistrationPage int
	// ThrottleEvery answers every Nth authorized Graph request with 429 and
	// Retry-After: RetryAfter. 0 never throttles.
	ThrottleEvery int
	// RetryAfter is the Retry-After, in seconds, of throttled responses.
	// Default 1.
	RetryAfter int
	// Faults are injected in order: a request takes the first fault that
	// matches it and still has uses left.
	Faults []Fault
	// TokenLifetime is how long an access token is valid. Default 1h.
	TokenLifetime time.Duration
	// NoPremium answers the registration report with the 403 Graph gives a
	// tenant without Microsoft Entra ID P1 or P2.
	NoPremium bool
	// SignInUser is the user (id or userPrincipalName) who approves a device
	// code sign-in. Default: the first enabled member user.
	SignInUser string
	// Lean keeps neither request bodies nor decoded mail, only the request
	// log without bodies and the count of mail sent: for benchmarks that
	// send to 100,000 people.
	Lean bool
	// Now is the tenant's clock (token lifetimes, timestamps in responses).
	// Default time.Now. Retry-After violations are always measured on the
	// real clock, since clients sleep on it.
	Now func() time.Time
}

// Fault makes matching requests fail. With none of Reset and Malformed set
// it answers Status (default 500) with Body (default: a Graph error object
// for the status) and the Retry-After header when RetryAfter is set.
type Fault struct {
	// Path matches requests whose URL path starts with it.
	Path string
	// Method, when set, limits the fault to requests with that method.
	Method string
	// Times is how many matching requests the fault hits; 0 means every
	// matching request.
	Times      int
	Status     int
	Body       string
	RetryAfter string
	// Reset closes the connection without a response. Note that net/http
	// silently retries an idempotent request once when a reused connection
	// closes before any response byte, so a fault meant to reach the client
	// of a GET needs Times of at least 2.
	Reset bool
	// Malformed answers 200 with the first half of the real response body,
	// cut off in the middle of the JSON.
	Malformed bool
}

// Request is one request the server received.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	// Header is a copy of the request headers with Authorization redacted.
	Header http.Header
	// Body is the request body, decompressed; in token requests the
	// client_secret, client_assertion, device_code and refresh_token are
	// redacted. Nil with Options.Lean.
	Body []byte
	// Status is the response status; 0 while the request is in flight or
	// when a Reset fault closed the connection.
	Status int
	At     time.Time
	// Token describes a request to the token endpoint; nil for others.
	Token *TokenRequest
}

// TokenRequest is what the server made of a token request. It records
// whether the presented credential matched, never the credential itself.
type TokenRequest struct {
	Grant      string // grant_type
	ClientID   string
	Credential string // client_secret, client_assertion, device_code or refresh_token
	OK         bool   // a token was issued
	Scope      string
}

// Server is a running fake Entra ID and Graph endpoint.
type Server struct {
	srv  *httptest.Server
	opts Options
	now  func() time.Time
	t    *data

	mu          sync.Mutex
	requests    []Request
	violations  []string
	mail        []SentMail
	mailCount   int
	passes      []TemporaryAccessPass
	held        *tapStore // the pass each user holds (tap.go)
	faultUses   []int
	graphCount  int
	retryAfters map[string]retryWindow
	id          *identity
}

// retryWindow is a 429 or 503 with Retry-After a client must respect.
type retryWindow struct {
	status int
	header string
	sent   time.Time
	until  time.Time
}

// Start starts a server for o and closes it when the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	if o.Tenant == nil {
		o.Tenant = Synthesize(20)
	}
	if o.UserPageMax <= 0 || o.UserPageMax > 999 {
		o.UserPageMax = 999
	}
	if o.RegistrationPage <= 0 {
		o.RegistrationPage = 999
	}
	if o.RetryAfter <= 0 {
		o.RetryAfter = 1
	}
	if o.TokenLifetime <= 0 {
		o.TokenLifetime = time.Hour
	}
	s := &Server{opts: o, now: o.Now, retryAfters: map[string]retryWindow{}, faultUses: make([]int, len(o.Faults))}
	if s.now == nil {
		s.now = time.Now
	}
	d, err := prepare(o.Tenant)
	if err != nil {
		t.Fatalf("graphtest: %v", err)
	}
	s.t = d
	s.id = newIdentity(s, o.Tenant.Apps)
	if err := s.id.setSignInUser(o.SignInUser); err != nil {
		t.Fatalf("graphtest: %v", err)
	}
	s.srv = httptest.NewUnstartedServer(s)
	// Handshakes refused by a client that does not trust the test CA are
	// part of some tests; they are not worth a log line.
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.srv.StartTLS()
	t.Cleanup(s.Close)
	return s
}

// Close shuts the server down. Start arranges it at the end of the test.
func (s *Server) Close() { s.srv.Close() }

// URL is the server's base URL, https://127.0.0.1:PORT: the authority host
// for azidentity, and with "/v1.0" the Graph base URL.
func (s *Server) URL() string { return s.srv.URL }

// TenantID is the id of the tenant served.
func (s *Server) TenantID() string { return s.t.tenantID }

// Client returns an HTTP client that trusts the server's certificate.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// CertPool returns a pool holding the server's certificate.
func (s *Server) CertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(s.srv.Certificate())
	return pool
}

// CAFile writes the server's certificate as PEM to a file in a temporary
// directory of t and returns its path, for a ca_file setting.
func (s *Server) CAFile(t testing.TB) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "graphtest-ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw})
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatalf("graphtest: %v", err)
	}
	return p
}

// Requests returns the requests received so far, in order of arrival.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Violations returns a line for each request that came sooner after a 429
// or 503 than its Retry-After allowed, for the same method, path and query.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

// ctxKey carries the request's index in the log to the handlers.
type ctxKey struct{}

// maxBody bounds a request body after decompression. Graph refuses requests
// over 4 MB; the margin lets a test see graphtest's 413 rather than a cut.
const maxBody = 64 << 20

// ServeHTTP logs the request, applies faults and routes it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	arrival := time.Now()
	body, bodyErr := readBody(r)
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := Request{
		Method: r.Method,
		Path:   r.URL.Path,
		Query:  r.URL.Query(),
		Header: r.Header.Clone(),
		At:     arrival,
	}
	if rec.Header.Get("Authorization") != "" {
		rec.Header.Set("Authorization", "[redacted]")
	}
	if !s.opts.Lean {
		rec.Body = redactBody(r, body)
	}
	key := r.Method + " " + r.URL.Path + "?" + r.URL.RawQuery

	s.mu.Lock()
	idx := len(s.requests)
	s.requests = append(s.requests, rec)
	if win, ok := s.retryAfters[key]; ok {
		delete(s.retryAfters, key)
		if arrival.Before(win.until) {
			what := r.URL.Path
			if r.URL.RawQuery != "" {
				what += "?" + r.URL.RawQuery
			}
			s.violations = append(s.violations, fmt.Sprintf("%s %s retried %.1fs after %d with Retry-After: %s",
				r.Method, what, arrival.Sub(win.sent).Seconds(), win.status, win.header))
		}
	}
	fault := s.takeFault(r)
	s.mu.Unlock()

	r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, idx))
	sw := &statusWriter{ResponseWriter: w}
	switch {
	case fault != nil && fault.Reset:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				// Close the TCP connection under TLS with linger 0: a reset,
				// without the TLS close_notify an orderly close would send.
				if tc, ok := tcpConn(conn); ok {
					tc.SetLinger(0)
					tc.Close()
				}
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	case fault != nil && fault.Malformed:
		buf := newBufferWriter()
		s.route(buf, r, bodyErr)
		cut := buf.body.Bytes()
		cut = cut[:len(cut)/2]
		if len(cut) == 0 {
			cut = []byte(`{"value":[{"id":`)
		}
		sw.Header().Set("Content-Type", odataJSON)
		sw.WriteHeader(http.StatusOK)
		sw.Write(cut)
	case fault != nil:
		status := fault.Status
		if status == 0 {
			status = http.StatusInternalServerError
		}
		if fault.RetryAfter != "" {
			sw.Header().Set("Retry-After", fault.RetryAfter)
		}
		if fault.Body != "" {
			sw.Header().Set("Content-Type", "application/json")
			sw.WriteHeader(status)
			io.WriteString(sw, fault.Body)
		} else {
			s.writeError(sw, r, &graphError{status, faultCode(status), "Fault injected by graphtest."})
		}
	default:
		s.route(sw, r, bodyErr)
	}

	done := time.Now()
	s.mu.Lock()
	s.requests[idx].Status = sw.status
	if ra := sw.Header().Get("Retry-After"); ra != "" && (sw.status == http.StatusTooManyRequests || sw.status == http.StatusServiceUnavailable) {
		if d, ok := parseRetryAfter(ra, done); ok {
			s.retryAfters[key] = retryWindow{status: sw.status, header: ra, sent: done, until: done.Add(d)}
		}
	}
	s.mu.Unlock()
}

// route sends identity requests and Graph requests to their handlers.
func (s *Server) route(w http.ResponseWriter, r *http.Request, bodyErr error) {
	switch {
	case bodyErr != nil:
		s.writeError(w, r, &graphError{http.StatusBadRequest, "BadRequest", bodyErr.Error()})
	case strings.HasPrefix(r.URL.Path, "/v1.0/"):
		s.graph(w, r)
	case strings.HasPrefix(r.URL.Path, "/beta/"):
		s.writeError(w, r, &graphError{http.StatusNotFound, "BadRequest", "graphtest serves Graph v1.0 only, not beta."})
	default:
		s.id.serve(w, r)
	}
}

// takeFault returns the fault r takes, counting its use. s.mu is held.
func (s *Server) takeFault(r *http.Request) *Fault {
	for i := range s.opts.Faults {
		f := &s.opts.Faults[i]
		if !strings.HasPrefix(r.URL.Path, f.Path) || (f.Method != "" && !strings.EqualFold(f.Method, r.Method)) {
			continue
		}
		if f.Times > 0 && s.faultUses[i] >= f.Times {
			continue
		}
		s.faultUses[i]++
		return f
	}
	return nil
}

// throttled counts an authorized Graph request and reports whether it is
// the Nth to be answered with 429.
func (s *Server) throttled() bool {
	if s.opts.ThrottleEvery <= 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.graphCount++
	return s.graphCount%s.opts.ThrottleEvery == 0
}

// setToken records what the token endpoint made of the request r.
func (s *Server) setToken(r *http.Request, tr TokenRequest) {
	idx, ok := r.Context().Value(ctxKey{}).(int)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[idx].Token = &tr
}

// readBody reads the whole body, undoing a gzip Content-Encoding (the Graph
// SDK compresses request bodies).
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("reading the request body: %v", err)
	}
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		return raw, nil
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return raw, fmt.Errorf("Content-Encoding is gzip but the body is not: %v", err)
		}
		plain, err := io.ReadAll(io.LimitReader(zr, maxBody))
		if err != nil {
			return raw, fmt.Errorf("Content-Encoding is gzip but the body is not: %v", err)
		}
		r.Header.Del("Content-Encoding")
		r.Header.Del("Content-Length")
		return plain, nil
	default:
		return raw, fmt.Errorf("Content-Encoding %q is not supported", enc)
	}
}

// secretParams are the form fields of token requests never kept in the log.
var secretParams = []string{"client_secret", "client_assertion", "device_code", "refresh_token", "code", "password", "assertion"}

// redactBody returns the body for the log: token requests lose their secrets.
func redactBody(r *http.Request, body []byte) []byte {
	if body == nil {
		return nil
	}
	if r.Method != http.MethodPost || !strings.Contains(r.URL.Path, "/oauth2/") {
		return body
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return []byte("[redacted: unparsable form]")
	}
	for _, p := range secretParams {
		if form.Has(p) {
			form.Set(p, "[redacted]")
		}
	}
	return []byte(form.Encode())
}

// parseRetryAfter reads delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return t.Sub(now), true
	}
	return 0, false
}

// faultCode is the Graph error code an injected status comes with.
func faultCode(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return "TooManyRequests"
	case http.StatusServiceUnavailable:
		return "serviceNotAvailable"
	case http.StatusGatewayTimeout:
		return "UnknownError"
	case http.StatusUnauthorized:
		return "InvalidAuthenticationToken"
	case http.StatusForbidden:
		return "Authorization_RequestDenied"
	case http.StatusNotFound:
		return "Request_ResourceNotFound"
	case http.StatusBadRequest:
		return "BadRequest"
	default:
		return "generalException"
	}
}

// statusWriter remembers the status written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// bufferWriter collects a response in memory (for Malformed faults).
type bufferWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newBufferWriter() *bufferWriter                { return &bufferWriter{header: http.Header{}} }
func (b *bufferWriter) Header() http.Header         { return b.header }
func (b *bufferWriter) WriteHeader(status int)      { b.status = status }
func (b *bufferWriter) Write(p []byte) (int, error) { return b.body.Write(p) }

// tcpConn finds the TCP connection of a hijacked (TLS) connection.
func tcpConn(c net.Conn) (*net.TCPConn, bool) {
	type netConner interface{ NetConn() net.Conn }
	if nc, ok := c.(netConner); ok {
		c = nc.NetConn()
	}
	tc, ok := c.(*net.TCPConn)
	return tc, ok
}

// newID returns a random UUID (version 4) for request and object ids.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return formatUUID(b)
}

func formatUUID(b [16]byte) string {
	var s [36]byte
	formatUUIDTo(s[:], b)
	return string(s[:])
}

// formatUUIDTo writes the UUID (version 4) made of b into dst[:36].
func formatUUIDTo(dst []byte, b [16]byte) {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	hex.Encode(dst[0:8], b[0:4])
	dst[8] = '-'
	hex.Encode(dst[9:13], b[4:6])
	dst[13] = '-'
	hex.Encode(dst[14:18], b[6:8])
	dst[18] = '-'
	hex.Encode(dst[19:23], b[8:10])
	dst[23] = '-'
	hex.Encode(dst[24:36], b[10:16])
}
