package preview

// Access policy: the preview shows real people's names and addresses and
// can send mail, so only the person who started it may use it. It listens
// on 127.0.0.1 only. Every request needs the random token: first in the URL
// printed on the terminal (?token=, like a notebook server), which the
// server swaps for an HttpOnly, SameSite=Strict cookie and drops from the
// address bar; then the cookie. The Host header must be 127.0.0.1:PORT or
// localhost:PORT, so a page on another name that rebinds its DNS to
// 127.0.0.1 gets nothing. Every POST also needs the CSRF token from the
// form it came from. Rendered emails go into iframes with srcdoc and a
// sandbox without allow-scripts, under a Content-Security-Policy that
// allows no inline script, so a hostile display name cannot run script
// even if escaping failed.

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strconv"
)

// pageCSP is the policy of the preview's own pages; srcdoc iframes inherit
// it. Styles may be inline because emails carry their CSS inline; images
// may come from https (the logo); scripts only from the preview itself.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src https: data:; " +
	"connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// emailCSP is the policy of a rendered email opened on its own: a
// sandboxed document that runs no script at all.
const emailCSP = "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; base-uri 'none'; form-action 'none'"

func (s *Server) cookieName() string {
	// Cookies are per host, not per port: two previews on one machine
	// each need their own.
	return "nudge-preview-" + strconv.Itoa(s.port)
}

func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func (s *Server) hostAllowed(host string) bool {
	p := strconv.Itoa(s.port)
	return host == "127.0.0.1:"+p || host == "localhost:"+p
}

// guard enforces the access policy before any handler runs.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", pageCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		if !s.hostAllowed(r.Host) {
			forbid(w, "this preview answers only to 127.0.0.1:"+strconv.Itoa(s.port)+" and localhost:"+strconv.Itoa(s.port))
			return
		}
		if t := r.URL.Query().Get("token"); t != "" {
			if !equal(t, s.token) {
				forbid(w, "wrong token: open the address nudge preview printed")
				return
			}
			http.SetCookie(w, &http.Cookie{
				Name: s.cookieName(), Value: s.token, Path: "/",
				HttpOnly: true, SameSite: http.SameSiteStrictMode,
			})
			if r.Method == http.MethodGet {
				// Take the token out of the address bar and history.
				u := *r.URL
				q := u.Query()
				q.Del("token")
				u.RawQuery = q.Encode()
				http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
				return
			}
		} else if c, err := r.Cookie(s.cookieName()); err != nil || !equal(c.Value, s.token) {
			forbid(w, "no access token: open the address nudge preview printed (with its ?token=)")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if o := r.Header.Get("Origin"); o != "" && !s.sameOrigin(o) {
				forbid(w, "cross-origin request")
				return
			}
			if !equal(r.PostFormValue("csrf"), s.csrf) {
				forbid(w, "missing or wrong CSRF token: reload the page and try again")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) sameOrigin(origin string) bool {
	u, err := url.Parse(origin)
	return err == nil && u.Scheme == "http" && s.hostAllowed(u.Host)
}

func forbid(w http.ResponseWriter, why string) {
	http.Error(w, "403 forbidden: "+why, http.StatusForbidden)
}
