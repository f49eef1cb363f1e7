// Package preview serves a campaign's pieces to the change manager on
// 127.0.0.1: every wave × audience × locale, rendered for a chosen person,
// with lint findings, live reload and proofs.
package preview

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/nudge-passkeys/nudge/internal/campaign"
	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/guide"
	"github.com/nudge-passkeys/nudge/internal/invite"
	"github.com/nudge-passkeys/nudge/internal/render"
)

// Project is one load of a campaign: its file, its templates and who each
// wave reaches. The preview loads a new one whenever a watched file
// changes.
type Project struct {
	Campaign *campaign.Campaign
	Engine   *render.Engine
	// Source names the directory the people came from, for the index.
	Source string
	// Members are the people each wave's audience reaches, in directory
	// order, as a build would send to them.
	Members map[Key][]*directory.Person
	// Guides is the guide site built with the emails; nil when the
	// templates have none (or it failed to build: GuidesErr says why).
	Guides    *guide.Site
	GuidesErr error

	// derived is what pieces work out once per load; newState sets it.
	derived *derived
}

// derived is worked out from a Project when a piece first needs it.
type derived struct {
	now      func() time.Time
	mu       sync.Mutex
	assigned map[string]*invite.Result // by wave
	makers   map[string]makerResult    // by locale
}

// cache is p's derived values; a Project that no server made gets a
// fresh, unshared one each time.
func (p *Project) cache() *derived {
	if p.derived == nil {
		return &derived{}
	}
	return p.derived
}

// Key names one audience of one wave.
type Key struct{ Wave, Audience string }

// Prover sends a proof: a piece rendered for one person, to the address to
// (the campaign's proof address) and nobody else, recording nothing. The
// document's subject already carries the [PROOF] prefix.
type Prover interface {
	SendProof(ctx context.Context, p *Project, w *campaign.Wave, person *directory.Person, doc *render.Document, to string) error
}

// Config is what a Server needs.
type Config struct {
	// Project is the campaign as first loaded; New calls Load when it is
	// nil.
	Project *Project
	// Load loads the campaign afresh; it is called once by New and again
	// after every change to a watched file.
	Load func(ctx context.Context) (*Project, error)
	// Watch are the files and folders (watched with their subfolders)
	// whose changes reload the campaign: the campaign file and templates.
	Watch []string
	// Proofs sends proofs; nil turns the proof button off.
	Proofs Prover
	// ProofVia says how proofs travel, for the button ("SMTP smtp.example:587").
	ProofVia string
	Log      *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Rand is the source of the access and CSRF tokens (crypto/rand when
	// nil).
	Rand io.Reader
	// Debounce is how long to wait after a file event for more before
	// reloading (editors write a file in several steps).
	Debounce time.Duration
}

// Server is the preview web server.
type Server struct {
	cfg   Config
	token string // in the URL, then in a cookie: required on every request
	csrf  string // in every form: required on every POST
	port  int

	mu      sync.RWMutex
	st      *state
	loadErr error // the last reload's error, when it failed
	version int64
	proof   proofResult

	events broker
}

// proofResult is the outcome of the last proof, shown once on the page the
// proof form redirects to.
type proofResult struct {
	seq int64
	msg string
	err bool
}

// New loads the campaign and returns a server for it.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Load == nil {
		return nil, errors.New("preview: no loader")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Debounce == 0 {
		cfg.Debounce = 100 * time.Millisecond
	}
	s := &Server{cfg: cfg, version: 1}
	var err error
	if s.token, err = randomToken(cfg.Rand); err != nil {
		return nil, err
	}
	if s.csrf, err = randomToken(cfg.Rand); err != nil {
		return nil, err
	}
	p := cfg.Project
	if p == nil {
		if p, err = cfg.Load(ctx); err != nil {
			return nil, err
		}
	}
	s.st = newState(p, s.cfg.Now)
	s.events.subs = map[chan int64]struct{}{}
	return s, nil
}

func randomToken(r io.Reader) (string, error) {
	b := make([]byte, 24)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("preview: random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Listen opens a loopback listener on port (0: any free port). When port
// is taken it falls back to a free one and says so in taken.
func Listen(port int) (ln net.Listener, taken bool, err error) {
	ln, err = net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err == nil || port == 0 {
		return ln, false, err
	}
	ln, err2 := net.Listen("tcp", "127.0.0.1:0")
	if err2 != nil {
		return nil, false, err
	}
	return ln, true, nil
}

// URL is the address to open, with the access token.
func (s *Server) URL() string {
	return fmt.Sprintf("http://127.0.0.1:%d/?token=%s", s.port, s.token)
}

// Bind fixes the port the server answers for (the Host check needs it);
// Serve calls it with its listener's port.
func (s *Server) Bind(ln net.Listener) error {
	addr, ok := ln.Addr().(*net.TCPAddr)
	if !ok || !addr.IP.IsLoopback() {
		return fmt.Errorf("preview: %s is not a loopback address", ln.Addr())
	}
	if s.port != addr.Port { // Serve binds again: write only once
		s.port = addr.Port
	}
	return nil
}

// Serve answers on ln and watches the campaign's files until ctx is done.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if err := s.Bind(ln); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	watchErr := make(chan error, 1)
	if len(s.cfg.Watch) > 0 {
		w, err := newWatcher(s.cfg.Watch, s.cfg.Debounce, func() { s.Reload(ctx) }, s.cfg.Log)
		if err != nil {
			return err
		}
		go func() { watchErr <- w.run(ctx) }()
	}
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		// Requests (and the event streams) end with ctx.
		BaseContext: func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case err := <-watchErr:
		srv.Close()
		return err
	case <-ctx.Done():
		shut, done := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer done()
		_ = srv.Shutdown(shut)
		return nil
	}
}

// Reload loads the campaign again and tells open pages to refresh. When
// loading fails the pages keep the last good campaign and show the error.
func (s *Server) Reload(ctx context.Context) {
	p, err := s.cfg.Load(ctx)
	s.mu.Lock()
	if err != nil {
		s.loadErr = err
		s.cfg.Log.Warn("preview: reload failed", "err", err)
	} else {
		s.loadErr = nil
		s.st = newState(p, s.cfg.Now)
	}
	s.version++
	v := s.version
	s.mu.Unlock()
	s.events.publish(v)
}

// snapshot is what one request works with, taken under the lock.
func (s *Server) snapshot() (st *state, version int64, loadErr error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.st, s.version, s.loadErr
}

// broker fans version numbers out to the open event streams.
type broker struct {
	mu   sync.Mutex
	subs map[chan int64]struct{}
}

func (b *broker) subscribe() (chan int64, func()) {
	ch := make(chan int64, 1)
	b.mu.Lock()
	b.subs[ch] = struct{}{}
	b.mu.Unlock()
	return ch, func() {
		b.mu.Lock()
		delete(b.subs, ch)
		b.mu.Unlock()
	}
}

func (b *broker) publish(v int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		// Only the latest version matters: replace what is waiting.
		select {
		case <-ch:
		default:
		}
		ch <- v
	}
}
