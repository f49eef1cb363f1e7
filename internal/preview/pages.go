package preview

import (
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/render"
	"github.com/nudge-passkeys/nudge/internal/untrusted"
)

//go:embed assets
var assets embed.FS

var pages = template.Must(template.New("").ParseFS(assets, "assets/*.html"))

// pickerLimit is how many people the sample-person picker lists at once.
const pickerLimit = 25

// Handler is the preview's HTTP handler, behind the access checks.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(assets, "assets")
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", http.FileServerFS(static)))
	mux.HandleFunc("GET /{$}", s.index)
	mux.HandleFunc("GET /piece/{kind}/{wave}/{audience}/{locale}", s.piece)
	mux.HandleFunc("GET /piece/{kind}/{wave}/{audience}/{locale}/html", s.pieceHTML)
	mux.HandleFunc("GET /piece/{kind}/{wave}/{audience}/{locale}/ics", s.pieceICS)
	mux.HandleFunc("POST /piece/{kind}/{wave}/{audience}/{locale}/proof", s.sendProof)
	mux.HandleFunc("GET /events", s.eventStream)
	mux.HandleFunc("GET "+guideRoot+"{file...}", s.guideFile)
	return s.guard(mux)
}

type common struct {
	Title    string
	Campaign string
	Version  int64
	LoadErr  string
}

func (s *Server) common(st *state, loadErr error, v int64, title string) common {
	c := common{Title: title, Campaign: st.p.Campaign.Name, Version: v}
	if c.Campaign == "" {
		c.Campaign = st.p.Campaign.ID
	}
	if loadErr != nil {
		c.LoadErr = loadErr.Error()
	}
	return c
}

type indexRow struct {
	Wave, WaveName, Audience, Locale string
	People                           int
	Missing                          string // why the row has no piece of its own
	Pieces                           []pieceLink
	Errors, Warnings                 int
	Problem                          string // the template error, when rendering fails
}

type pieceLink struct{ Title, Href string }

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	st, v, loadErr := s.snapshot()
	data := struct {
		Head   common
		Source string
		Rows   []indexRow
	}{Head: s.common(st, loadErr, v, "Preview"), Source: st.p.Source}
	def := st.p.Campaign.Defaults.Locale
	for _, g := range st.groups {
		row := indexRow{Wave: g.wave.ID, WaveName: g.wave.Name, Audience: g.audience, Locale: g.locale, People: len(g.people)}
		if g.missing {
			row.Missing = fmt.Sprintf("no email translation: readers of %s get %s", g.locale, def)
		}
		person, _ := g.person("")
		for _, k := range kinds {
			if k.has != nil && !k.has(st.p, g) {
				continue
			}
			row.Pieces = append(row.Pieces, pieceLink{k.title, g.path(k.name)})
			pc, err := k.render(st.p, g.wave, g.audience, g.locale, person)
			if err != nil {
				row.Errors++
				row.Problem = err.Error()
				continue
			}
			for _, f := range pc.findings {
				if f.Error {
					row.Errors++
				} else {
					row.Warnings++
				}
			}
		}
		data.Rows = append(data.Rows, row)
	}
	s.page(w, "index.html", data)
}

type personLink struct {
	Label, Detail, Href string
	Selected            bool
}

type piecePage struct {
	Head                                   common
	Personal                               bool
	Kind, Wave, WaveName, Audience, Locale string
	People                                 int
	Self                                   string // the page's path
	Person                                 string // the chosen person's parameter
	PersonLabel                            string
	Query                                  string
	Matches                                []personLink
	MoreMatches                            int
	Samples                                []personLink
	Headers                                []header
	Frames                                 []frame
	Text                                   string
	Calendar                               string // the invite's .ics
	Error                                  string // the template error, in place of the piece
	Findings                               []render.Finding
	Errors                                 int
	Proof                                  proofForm
}

type proofForm struct {
	Available bool
	To, Via   string
	Why       string // why the button is off
	CSRF      string
	Notice    string
	Failed    bool
}

// request is what a piece URL names, in the campaign as it is now.
type request struct {
	kind    kind
	group   *group
	st      *state
	loadErr error
	version int64
}

// lookup finds the kind and group a piece URL names, or answers 404.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) (*request, bool) {
	st, v, loadErr := s.snapshot()
	k, ok := kindNamed(r.PathValue("kind"))
	var g *group
	if ok {
		g = st.group(r.PathValue("wave"), r.PathValue("audience"), r.PathValue("locale"))
	}
	if g != nil && k.has != nil && !k.has(st.p, g) {
		g = nil
	}
	if g == nil {
		http.Error(w, "404 no such piece (the campaign may have changed): go back to the index", http.StatusNotFound)
		return nil, false
	}
	return &request{k, g, st, loadErr, v}, true
}

func (s *Server) piece(w http.ResponseWriter, r *http.Request) {
	rq, ok := s.lookup(w, r)
	if !ok {
		return
	}
	k, g, st := rq.kind, rq.group, rq.st
	q := r.URL.Query()
	id := q.Get("person")
	person, found := g.person(id)
	if !found {
		http.Error(w, "404 no such person in this audience (the directory may have changed)", http.StatusNotFound)
		return
	}
	self := g.path(k.name)
	d := piecePage{
		Head: s.common(st, rq.loadErr, rq.version, k.title+" · "+g.wave.ID+" · "+g.audience+" · "+g.locale),
		Kind: k.title, Personal: k.personal, Wave: g.wave.ID, WaveName: g.wave.Name, Audience: g.audience, Locale: g.locale,
		People: len(g.people), Self: self, Person: id, Query: q.Get("q"),
		PersonLabel: fmt.Sprintf("%s <%s>", untrusted.OneLine(person.DisplayName), person.UserPrincipalName),
	}
	link := func(p *directory.Person) personLink {
		v := url.Values{"person": {p.ID}}
		if d.Query != "" {
			v.Set("q", d.Query)
		}
		return personLink{Label: untrusted.OneLine(p.DisplayName), Detail: p.UserPrincipalName, Href: self + "?" + v.Encode(), Selected: p == person}
	}
	matches, n := g.search(d.Query, pickerLimit)
	for _, p := range matches {
		d.Matches = append(d.Matches, link(p))
	}
	d.MoreMatches = n - len(matches)
	for _, sm := range samples {
		v := url.Values{"person": {samplePrefix + sm.id}}
		d.Samples = append(d.Samples, personLink{Label: sm.label, Href: self + "?" + v.Encode(), Selected: id == samplePrefix+sm.id})
	}

	pc, err := k.render(st.p, g.wave, g.audience, g.locale, person)
	if err != nil {
		d.Error = err.Error()
		msg := err.Error()
		if strings.Contains(msg, "unknown field") {
			msg = "unknown placeholder: " + msg
		}
		d.Findings = []render.Finding{{Error: true, Msg: msg}}
	} else {
		d.Headers, d.Frames, d.Text, d.Findings = pc.headers, pc.frames, pc.text, pc.findings
		d.Calendar = string(pc.calendar)
	}
	for _, f := range d.Findings {
		if f.Error {
			d.Errors++
		}
	}
	d.Proof = s.proofForm(st, pc, q.Get("proof"))
	s.page(w, "piece.html", d)
}

func (s *Server) proofForm(st *state, pc *piece, seq string) proofForm {
	f := proofForm{To: st.p.Campaign.Proof, Via: s.cfg.ProofVia, CSRF: s.csrf}
	switch {
	case s.cfg.Proofs == nil:
		f.Why = "Proofs are off in this preview."
	case f.To == "":
		f.Why = "Set proof: (your address) in " + st.p.Campaign.File + " to send proofs."
	case pc == nil || pc.doc == nil:
		f.Why = "This piece cannot be sent as it is."
	default:
		f.Available = true
	}
	if seq != "" {
		s.mu.RLock()
		res := s.proof
		s.mu.RUnlock()
		if strconv.FormatInt(res.seq, 10) == seq {
			f.Notice, f.Failed = res.msg, res.err
		}
	}
	return f
}

// rendered renders the piece a URL names for its ?person, or answers
// with why it cannot.
func (s *Server) rendered(w http.ResponseWriter, r *http.Request) (*piece, bool) {
	rq, ok := s.lookup(w, r)
	if !ok {
		return nil, false
	}
	k, g, st := rq.kind, rq.group, rq.st
	person, found := g.person(r.URL.Query().Get("person"))
	if !found {
		http.Error(w, "404 no such person in this audience", http.StatusNotFound)
		return nil, false
	}
	pc, err := k.render(st.p, g.wave, g.audience, g.locale, person)
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnprocessableEntity)
		return nil, false
	}
	return pc, true
}

// pieceHTML is the rendered HTML on its own, for opening in a tab: a
// sandboxed document that runs no script.
func (s *Server) pieceHTML(w http.ResponseWriter, r *http.Request) {
	pc, ok := s.rendered(w, r)
	if !ok {
		return
	}
	if len(pc.frames) == 0 {
		http.Error(w, "404 this piece has no HTML", http.StatusNotFound)
		return
	}
	if src := pc.frames[0].Src; src != "" {
		http.Redirect(w, r, src, http.StatusSeeOther)
		return
	}
	w.Header().Set("Content-Security-Policy", emailCSP)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, pc.frames[0].HTML)
}

// pieceICS is the invite's calendar object, to download.
func (s *Server) pieceICS(w http.ResponseWriter, r *http.Request) {
	pc, ok := s.rendered(w, r)
	if !ok {
		return
	}
	if pc.calendar == nil {
		http.Error(w, "404 this piece has no calendar", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8; method=REQUEST")
	w.Header().Set("Content-Disposition", `attachment; filename="invite.ics"`)
	w.Write(pc.calendar)
}

// guideFile serves a file of the guide site, sandboxed like an email: the
// pages link to each other relatively, so they are served at their paths.
func (s *Server) guideFile(w http.ResponseWriter, r *http.Request) {
	st, _, _ := s.snapshot()
	file := r.PathValue("file")
	if st.p.Guides == nil || !st.p.Guides.Has(file) {
		http.Error(w, "404 the guide site has no "+file, http.StatusNotFound)
		return
	}
	if file == "" || strings.HasSuffix(file, "/") {
		file += "index.html"
	}
	data := st.p.Guides.Files[path.Clean(file)]
	ctype := mime.TypeByExtension(path.Ext(file))
	if ctype == "" {
		ctype = http.DetectContentType(data)
	}
	w.Header().Set("Content-Security-Policy", emailCSP)
	w.Header().Set("Content-Type", ctype)
	w.Write(data)
}

// sendProof renders the piece for the chosen person and sends it to the
// campaign's proof address; then back to the page (a reload must not send
// again).
func (s *Server) sendProof(w http.ResponseWriter, r *http.Request) {
	rq, ok := s.lookup(w, r)
	if !ok {
		return
	}
	k, g, st := rq.kind, rq.group, rq.st
	id := r.PostFormValue("person")
	person, found := g.person(id)
	if !found {
		http.Error(w, "404 no such person in this audience", http.StatusNotFound)
		return
	}
	to := st.p.Campaign.Proof
	var msg string
	failed := true
	pc, err := k.render(st.p, g.wave, g.audience, g.locale, person)
	switch {
	case s.cfg.Proofs == nil || to == "":
		msg = "Proofs are not set up: nothing was sent."
	case err != nil:
		msg = "Not sent: " + err.Error()
	case pc.doc == nil:
		msg = "This piece cannot be sent."
	default:
		doc := *pc.doc
		doc.Subject = "[PROOF] " + doc.Subject
		if err := s.cfg.Proofs.SendProof(r.Context(), st.p, g.wave, person, &doc, to); err != nil {
			msg = "Not sent: " + err.Error()
		} else {
			msg = fmt.Sprintf("Proof sent to %s at %s.", to, s.cfg.Now().Format("15:04:05"))
			failed = false
		}
	}
	s.mu.Lock()
	s.proof = proofResult{seq: s.proof.seq + 1, msg: msg, err: failed}
	seq := s.proof.seq
	s.mu.Unlock()
	v := url.Values{"proof": {strconv.FormatInt(seq, 10)}}
	if id != "" {
		v.Set("person", id)
	}
	http.Redirect(w, r, g.path(k.name)+"?"+v.Encode(), http.StatusSeeOther)
}

// eventStream tells a page the campaign's version now and after every
// reload; the page refreshes when it differs from the one it shows.
func (s *Server) eventStream(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ch, unsubscribe := s.events.subscribe()
	defer unsubscribe()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	_, v, _ := s.snapshot()
	fmt.Fprintf(w, "event: version\ndata: %d\n\n", v)
	fl.Flush()
	ping := time.NewTicker(25 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case v := <-ch:
			fmt.Fprintf(w, "event: version\ndata: %d\n\n", v)
		case <-ping.C:
			fmt.Fprint(w, ": ping\n\n")
		}
		fl.Flush()
	}
}

func (s *Server) page(w http.ResponseWriter, name string, data any) {
	var b strings.Builder
	if err := pages.ExecuteTemplate(&b, name, data); err != nil {
		s.cfg.Log.Error("preview: page", "page", name, "err", err)
		http.Error(w, "500 the preview page failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, b.String())
}
