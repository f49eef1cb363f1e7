package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nudge-passkeys/nudge/internal/deliver/smtp/smtptest"
)

// syncBuffer is a bytes.Buffer that a running command writes to while the
// test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// copyDemo copies the demo campaign and templates into dir, adding extra
// to the campaign file, and returns the campaign file's path.
func copyDemo(t *testing.T, dir, extra string) string {
	t.Helper()
	for _, sub := range []string{"content", "templates"} {
		src := filepath.Join("..", "..", sub)
		err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(src, p)
			dst := filepath.Join(dir, sub, rel)
			if d.IsDir() {
				return os.MkdirAll(dst, 0o755)
			}
			if strings.HasSuffix(p, ".go") {
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(dst, data, 0o644)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(dir, "content", "campaign.yaml")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, append(data, extra...), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// startPreview runs nudge preview until the test ends and returns its
// address and standard error.
func startPreview(t *testing.T, args ...string) (string, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, append([]string{"preview", "--no-open"}, args...), nil, stdout, stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != exitOK {
				t.Errorf("preview exited %d after Ctrl-C\n%s", code, stderr)
			}
		case <-time.After(5 * time.Second):
			t.Error("preview did not stop within 5 s of Ctrl-C")
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if line, _, ok := strings.Cut(stdout.String(), "\n"); ok {
			return line, stderr
		}
		select {
		case code := <-done:
			t.Fatalf("preview exited %d\n%s", code, stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("preview printed no address\n%s", stderr)
	return "", nil
}

// previewSession is a browser's session with a running preview: signed in
// through the printed address, so its cookie goes with every request.
type previewSession struct {
	t      *testing.T
	client *http.Client
	base   string // http://127.0.0.1:PORT
}

func signIn(t *testing.T, addr string) *previewSession {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	s := &previewSession{t: t, client: &http.Client{Jar: jar, Timeout: 10 * time.Second}, base: strings.SplitN(addr, "/?", 2)[0]}
	if _, err := s.client.Get(addr); err != nil {
		t.Fatal(err)
	}
	return s
}

// get returns the page at path, failing unless it is 200.
func (s *previewSession) get(path string) string {
	s.t.Helper()
	resp, err := s.client.Get(s.base + path)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		s.t.Fatalf("GET %s: %d\n%s", path, resp.StatusCode, b)
	}
	return string(b)
}

// proof presses the proof button of the piece at path, for person.
func (s *previewSession) proof(path, person string) string {
	s.t.Helper()
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(s.get(path))
	if csrf == nil {
		s.t.Fatal("no CSRF token in the page")
	}
	resp, err := s.client.PostForm(s.base+path+"/proof", url.Values{"csrf": {csrf[1]}, "person": {person}})
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestPreviewCommand(t *testing.T) {
	dir := t.TempDir()
	file := copyDemo(t, dir, "\nproof: change.manager@contoso.example\n")
	out := filepath.Join(dir, "output")
	addr, stderr := startPreview(t, "--campaign", file, "--out", out)
	if !regexp.MustCompile(`^http://127\.0\.0\.1:\d+/\?token=[A-Za-z0-9_-]{32}$`).MatchString(addr) {
		t.Fatalf("stdout %q, want the address with its token", addr)
	}
	if !strings.Contains(stderr.String(), "refreshes the page") {
		t.Errorf("stderr %q should say that saving refreshes the page", stderr)
	}
	session := signIn(t, addr)
	index := session.get("/")

	// The counts are the build's: the demo tenant's people per wave,
	// audience and language, as nudge build prints them.
	var out2, err2 bytes.Buffer
	if code := run(context.Background(), []string{"build", "--campaign", file, "--out", filepath.Join(dir, "build")}, nil, &out2, &err2); code != exitOK {
		t.Fatalf("build: %d\n%s", code, err2.String())
	}
	rows := regexp.MustCompile(`(?m)^(\w+)\s+(\w+)\s+(\w\w)\s+(\d+)$`).FindAllStringSubmatch(out2.String(), -1)
	if len(rows) == 0 {
		t.Fatalf("no piece rows in build's output:\n%s", out2.String())
	}
	cell := regexp.MustCompile(`<[^>]+>`)
	flat := strings.Join(strings.Fields(cell.ReplaceAllString(index, " ")), " ")
	for _, r := range rows {
		// The wave's name follows its id.
		want := fmt.Sprintf(`\b%s [^0-9]*?\b%s %s %s Email`, r[1], r[2], r[3], r[4])
		if !regexp.MustCompile(want).MatchString(flat) {
			t.Errorf("the index lacks %q (build: %s)", want, r[0])
		}
	}

	// A proof goes to the proof address only, into the proofs folder,
	// and nothing is recorded.
	if piece := session.get("/piece/email/announce/ready/en"); !strings.Contains(piece, "Send a proof to me (change.manager@contoso.example)") {
		t.Fatal("the piece page has no proof button for the proof address")
	}
	if page := session.proof("/piece/email/announce/ready/en", ""); !strings.Contains(page, "Proof sent to change.manager@contoso.example") {
		t.Fatalf("after the proof:\n%s", page)
	}
	proofs, _ := filepath.Glob(filepath.Join(out, "contoso-passkeys", "proofs", "*.eml"))
	if len(proofs) != 1 {
		t.Fatalf("proofs written: %v, want one", proofs)
	}
	data, err := os.ReadFile(proofs[0])
	if err != nil {
		t.Fatal(err)
	}
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	to, err := mail.ParseAddress(m.Header.Get("To"))
	if err != nil || to.Address != "change.manager@contoso.example" {
		t.Errorf("To: %q, want the proof address only", m.Header.Get("To"))
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if !strings.HasPrefix(subject, "[PROOF] ") {
		t.Errorf("Subject %q, want the [PROOF] prefix", subject)
	}
	if _, err := os.Stat(filepath.Join(out, "contoso-passkeys", "nudge.db")); err == nil {
		t.Error("a proof created the ledger")
	}
}

// TestPreviewProofBySMTP sends a proof through the campaign's SMTP relay:
// one message, to the proof address only, and no ledger.
func TestPreviewProofBySMTP(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	dir := t.TempDir()
	file := copyDemo(t, dir, fmt.Sprintf("\nproof: change.manager@contoso.example\nsmtp: {host: %s, port: %d, tls: none, allow_insecure: true, auth: none}\n", srv.Host(), srv.Port()))
	out := filepath.Join(dir, "output")
	addr, _ := startPreview(t, "--campaign", file, "--out", out)
	session := signIn(t, addr)
	path := "/piece/email/admins/admins/en"
	if page := session.get(path); !strings.Contains(page, fmt.Sprintf("by SMTP through %s:%d", srv.Host(), srv.Port())) {
		t.Error("the proof form should say proofs go by SMTP")
	}
	if page := session.proof(path, "sample:html-img"); !strings.Contains(page, "Proof sent to change.manager@contoso.example") {
		t.Fatalf("after the proof:\n%s", page)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	if m := msgs[0]; len(m.To) != 1 || m.To[0] != "change.manager@contoso.example" || !bytes.Contains(m.Data, []byte("Subject: [PROOF] ")) {
		t.Errorf("proof went to %v or lacks [PROOF]", m.To)
	}
	if _, err := os.Stat(filepath.Join(out, "contoso-passkeys", "nudge.db")); err == nil {
		t.Error("a proof created the ledger")
	}
}

// TestPreviewReloads saves a template, then the campaign file, and sees
// each in the pages: a new subject, then audiences sorted again.
func TestPreviewReloads(t *testing.T) {
	dir := t.TempDir()
	file := copyDemo(t, dir, "")
	addr, _ := startPreview(t, "--campaign", file, "--out", filepath.Join(dir, "output"))
	session := signIn(t, addr)
	eventually := func(path, want string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			if strings.Contains(session.get(path), want) {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("%s never showed %q", path, want)
	}
	tmpl := filepath.Join(dir, "templates", "emails", "en", "announce.md")
	data, err := os.ReadFile(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tmpl, bytes.Replace(data, []byte("sign in without a password"), []byte("passkeys are here"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	eventually("/piece/email/announce/ready/en", ", passkeys are here</td>")

	// Admins who have a passkey drop out of the admins audience.
	data, err = os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(session.get("/"), `<td>admins</td><td>en</td><td class="n">10</td>`) {
		t.Fatal("the index should start with 10 English admins")
	}
	changed := bytes.Replace(data, []byte("where: isAdmin && !hasPhishingResistant"), []byte("where: isAdmin && !hasPhishingResistant && false"), 1)
	if bytes.Equal(changed, data) {
		t.Fatal("the demo campaign's admins rule changed: update this test")
	}
	if err := os.WriteFile(file, changed, 0o644); err != nil {
		t.Fatal(err)
	}
	eventually("/", `<td>admins</td><td>en</td><td class="n">0</td>`)
}

func TestPreviewPortTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	t.Chdir(t.TempDir())
	addr, stderr := startPreview(t, "--port", fmt.Sprint(port))
	if strings.Contains(addr, fmt.Sprintf(":%d/", port)) {
		t.Errorf("address %s uses the taken port", addr)
	}
	if want := fmt.Sprintf("port %d is taken: using ", port); !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr %q, want %q", stderr, want)
	}
}

func TestPreviewUsage(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, args := range [][]string{{"--port", "-1"}, {"--port", "70000"}, {"--proof-via", "pigeon"}, {"extra"}} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), append([]string{"preview", "--no-open"}, args...), nil, &out, &errb); code != exitUsage {
			t.Errorf("preview %v: exit %d, want %d\n%s", args, code, exitUsage, errb.String())
		}
	}
}
