package graph

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	khttp "github.com/microsoft/kiota-http-go"
)

// RetryPolicy bounds how hard nudge tries before it reports a failure.
type RetryPolicy struct {
	// MaxThrottled is how many times a request answered 429 or 503 (or 504
	// for a read) is sent again, each after the server's Retry-After or,
	// without one, an exponential backoff with jitter.
	MaxThrottled int
	// MaxTransient is how many times a read that failed with 500, 502 or
	// a broken connection is sent again, with backoff.
	MaxTransient int
	// BaseDelay is the first backoff; each retry doubles it, up to
	// MaxDelay, plus up to 50% jitter.
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// MaxRetryAfter caps one wait asked by the server, so a broken proxy
	// saying "Retry-After: 86400" does not stall a scheduled run forever.
	MaxRetryAfter time.Duration
}

// DefaultRetry survives a throttling storm on a large tenant: eight waits
// of the server's choosing, four retries of a flaky read.
var DefaultRetry = RetryPolicy{MaxThrottled: 8, MaxTransient: 4, BaseDelay: time.Second, MaxDelay: 30 * time.Second, MaxRetryAfter: 5 * time.Minute}

// The identity reports (registration details among them) allow about five
// requests per ten seconds per app and tenant (Microsoft Graph service
// limits: identity and access reports).
const (
	reportsPerWindow = 5
	reportsWindow    = 10 * time.Second
)

// retryHandler is nudge's replacement for the SDK's retry middleware: it
// paces requests per class, waits out Retry-After before anything of the
// same class goes again, and retries what is safe to retry.
type retryHandler struct {
	policy   RetryPolicy
	pace     bool
	now      func() time.Time
	reports  *limiter
	other    *limiter
	requests atomic.Int64
}

func newRetryHandler(p RetryPolicy, pace bool, now func() time.Time) *retryHandler {
	h := &retryHandler{policy: p, pace: pace, now: now, reports: &limiter{}, other: &limiter{}}
	if pace {
		h.reports.per, h.reports.window = reportsPerWindow, reportsWindow
	}
	return h
}

// limiter lets at most per requests start in any window, and none before
// hold (the end of the latest Retry-After).
type limiter struct {
	mu     sync.Mutex
	per    int
	window time.Duration
	starts []time.Time // the last per start times, oldest first
	hold   time.Time
}

// reserve returns when the next request may start, and books it.
func (l *limiter) reserve(now time.Time) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	at := now
	if l.hold.After(at) {
		at = l.hold
	}
	if l.per > 0 {
		if len(l.starts) == l.per {
			if free := l.starts[0].Add(l.window); free.After(at) {
				at = free
			}
			l.starts = l.starts[1:]
		}
		l.starts = append(l.starts, at)
	}
	return at
}

// holdUntil keeps every request of the class back until t.
func (l *limiter) holdUntil(t time.Time) {
	l.mu.Lock()
	if t.After(l.hold) {
		l.hold = t
	}
	l.mu.Unlock()
}

func (h *retryHandler) limiter(path string) *limiter {
	if strings.Contains(path, "/reports/") {
		return h.reports
	}
	return h.other
}

// Intercept implements khttp.Middleware.
func (h *retryHandler) Intercept(pipeline khttp.Pipeline, index int, req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	// A body must be sent again on retry: keep it.
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
		req.Body, _ = req.GetBody()
	}
	// A JSON batch of nudge's is only reads (batch.go): sending it again
	// after a 5xx or a dropped connection changes nothing.
	read := req.Method == http.MethodGet || req.Method == http.MethodHead ||
		req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/$batch")
	lim := h.limiter(req.URL.Path)
	throttled, transient := 0, 0
	for attempt := 0; ; attempt++ {
		if err := sleepUntil(ctx, h.now, lim.reserve(h.now())); err != nil {
			return nil, err
		}
		if attempt > 0 {
			req.Header.Set("Retry-Attempt", strconv.Itoa(attempt))
			if req.GetBody != nil {
				body, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				req.Body = body
			}
		}
		h.requests.Add(1)
		resp, err := pipeline.Next(req, index)
		var wait time.Duration
		switch {
		case err != nil:
			// A request that may have reached the server is not sent again
			// unless it only reads.
			if ctx.Err() != nil || !read || !transientNetErr(err) || transient >= h.policy.MaxTransient {
				return resp, err
			}
			transient++
			wait = h.backoff(transient)
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable ||
			(resp.StatusCode == http.StatusGatewayTimeout && read):
			if throttled >= h.policy.MaxThrottled {
				return resp, nil
			}
			throttled++
			if ra, ok := retryAfter(resp.Header.Get("Retry-After"), h.now()); ok {
				wait = min(ra, h.policy.MaxRetryAfter)
				// Nothing else of the class goes before the server is ready.
				lim.holdUntil(h.now().Add(wait))
			} else {
				wait = h.backoff(throttled)
			}
		case (resp.StatusCode == http.StatusInternalServerError || resp.StatusCode == http.StatusBadGateway) && read:
			if transient >= h.policy.MaxTransient {
				return resp, nil
			}
			transient++
			wait = h.backoff(transient)
		default:
			return resp, nil
		}
		if resp != nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
		}
		if err := sleepUntil(ctx, h.now, h.now().Add(wait)); err != nil {
			return nil, err
		}
	}
}

// backoff is the n-th exponential wait, with up to 50% jitter so that
// parallel requests do not come back in step.
func (h *retryHandler) backoff(n int) time.Duration {
	d := h.policy.BaseDelay << (n - 1)
	if d > h.policy.MaxDelay || d <= 0 {
		d = h.policy.MaxDelay
	}
	return d + time.Duration(rand.Int64N(int64(d)/2+1))
}

// retryAfter reads a Retry-After header: seconds (fractions allowed) or an
// HTTP date. A value in the past is a wait of zero.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		// Rounded up: coming back a millisecond early is coming back early.
		return time.Duration(s*float64(time.Second)) + 10*time.Millisecond, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0) + 10*time.Millisecond, true
	}
	return 0, false
}

// transientNetErr reports whether a transport error is worth a retry: a
// dropped connection or a timeout, not a certificate nudge does not trust.
func transientNetErr(err error) bool {
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var host x509.HostnameError
	if errors.As(err, &unknown) || errors.As(err, &invalid) || errors.As(err, &host) {
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	return true
}

func sleepUntil(ctx context.Context, now func() time.Time, t time.Time) error {
	d := t.Sub(now())
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
