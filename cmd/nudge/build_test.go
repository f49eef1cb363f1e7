package main

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemoBuildMessagesParse builds the built-in demo campaign and parses
// every message back as a mail client would.
func TestDemoBuildMessagesParse(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"build"}, nil, &out, &errb); code != exitOK {
		t.Fatalf("build: exit %d\n%s", code, errb.String())
	}
	files, err := filepath.Glob(filepath.Join("output", "contoso-passkeys", "outbox", "*", "*.eml"))
	if err != nil || len(files) < 300 {
		t.Fatalf("found %d messages (%v), want hundreds", len(files), err)
	}
	ids := map[string]string{}
	dec := new(mime.WordDecoder)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m, err := mail.ReadMessage(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, h := range []string{"Date", "From", "To", "Subject", "Message-Id", "Mime-Version", "Content-Type"} {
			if len(m.Header[h]) != 1 {
				t.Errorf("%s: %d %s headers, want 1", f, len(m.Header[h]), h)
			}
		}
		for k := range m.Header {
			switch k {
			case "Date", "From", "To", "Reply-To", "Subject", "Message-Id", "Mime-Version", "Content-Type",
				"X-Nudge-Campaign", "X-Nudge-Wave", "X-Auto-Response-Suppress":
			default:
				t.Errorf("%s: unexpected header %q", f, k)
			}
		}
		if _, err := m.Header.Date(); err != nil {
			t.Errorf("%s: Date: %v", f, err)
		}
		to, err := mail.ParseAddress(m.Header.Get("To"))
		if err != nil {
			t.Errorf("%s: To: %v", f, err)
			continue
		}
		if want := strings.TrimSuffix(filepath.Base(f), ".eml"); to.Address != want {
			t.Errorf("%s: To address %q, want %q", f, to.Address, want)
		}
		id := m.Header.Get("Message-Id")
		if prev, dup := ids[id]; dup {
			t.Errorf("%s and %s share Message-ID %s", f, prev, id)
		}
		ids[id] = f
		if _, err := dec.DecodeHeader(m.Header.Get("Subject")); err != nil {
			t.Errorf("%s: Subject: %v", f, err)
		}
		mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
		if err != nil || mt != "multipart/alternative" {
			t.Fatalf("%s: Content-Type %q (%v), want multipart/alternative", f, mt, err)
		}
		mr := multipart.NewReader(m.Body, params["boundary"])
		var types []string
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			ct, cp, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
			types = append(types, ct)
			if cp["charset"] != "utf-8" {
				t.Errorf("%s: %s charset %q", f, ct, cp["charset"])
			}
			body, err := io.ReadAll(quotedprintable.NewReader(part))
			if err != nil {
				t.Errorf("%s: %s: %v", f, ct, err)
			}
			if len(body) == 0 {
				t.Errorf("%s: empty %s part", f, ct)
			}
			if ct == "text/html" && len(body) > 100<<10 {
				t.Errorf("%s: HTML is %d bytes, over Gmail's clipping size", f, len(body))
			}
			if ct == "text/html" && bytes.Contains(body, []byte("<script")) {
				t.Errorf("%s: HTML has a script element", f)
			}
		}
		if strings.Join(types, ",") != "text/plain,text/html" {
			t.Errorf("%s: parts %v, want text/plain then text/html", f, types)
		}
	}
}
