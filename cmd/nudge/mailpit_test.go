package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/mail"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// freePort asks the kernel for a free loopback port.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startMailpit runs mailpit (an independent SMTP server with an HTTP API)
// on loopback ports. CI installs it; elsewhere the test skips without it,
// unless NUDGE_REQUIRE_TOOLS is set.
func startMailpit(t *testing.T) (smtpPort int, api string) {
	t.Helper()
	bin, err := exec.LookPath("mailpit")
	if err != nil {
		if os.Getenv("NUDGE_REQUIRE_TOOLS") != "" {
			t.Fatalf("mailpit not found on PATH (NUDGE_REQUIRE_TOOLS is set): go install github.com/axllent/mailpit@v1.27.11")
		}
		t.Skip("mailpit not on PATH: go install github.com/axllent/mailpit@v1.27.11")
	}
	smtpPort, httpPort := freePort(t), freePort(t)
	cmd := exec.Command(bin, "--smtp", fmt.Sprintf("127.0.0.1:%d", smtpPort), "--listen", fmt.Sprintf("127.0.0.1:%d", httpPort),
		"--smtp-auth-accept-any", "--smtp-auth-allow-insecure", "--database", t.TempDir()+"/mailpit.db")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	api = fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(api + "/api/v1/messages")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailpit did not start: %v\n%s", err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return smtpPort, api
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// TestSendThroughMailpit delivers a wave to a real, independent SMTP server
// and reads every message back through its API.
func TestSendThroughMailpit(t *testing.T) {
	smtpPort, api := startMailpit(t)
	dir := t.TempDir()
	sendFixture(t, dir, 12, "127.0.0.1", smtpPort, 6000)
	out, errOut, code := nudge(t, dir, "send", "announce", "--via", "smtp", "--yes")
	if code != exitOK {
		t.Fatalf("send: exit %d\n%s\n%s", code, out, errOut)
	}
	var list struct {
		Total    int `json:"total"`
		Messages []struct {
			ID        string                     `json:"ID"`
			MessageID string                     `json:"MessageID"`
			Subject   string                     `json:"Subject"`
			To        []struct{ Address string } `json:"To"`
		} `json:"messages"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		getJSON(t, api+"/api/v1/messages?limit=100", &list)
		if list.Total >= 12 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if list.Total != 12 {
		t.Fatalf("mailpit has %d messages, want 12", list.Total)
	}
	ids := map[string]bool{}
	for _, m := range list.Messages {
		if ids[m.MessageID] {
			t.Errorf("Message-ID %s delivered twice", m.MessageID)
		}
		ids[m.MessageID] = true
		if !strings.HasPrefix(m.MessageID, "nudge.") || !strings.Contains(m.Subject, "sign in without a password") {
			t.Errorf("unexpected message %q %q", m.MessageID, m.Subject)
		}
		resp, err := http.Get(api + "/api/v1/message/" + m.ID + "/raw")
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", m.ID, err)
		}
		if got := msg.Header.Get("X-Nudge-Wave"); got != "announce" {
			t.Errorf("X-Nudge-Wave = %q", got)
		}
		mt, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
		if mt != "multipart/alternative" {
			t.Fatalf("Content-Type %q", mt)
		}
		mr := multipart.NewReader(msg.Body, params["boundary"])
		var parts []string
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
			parts = append(parts, ct)
		}
		if strings.Join(parts, ",") != "text/plain,text/html" {
			t.Errorf("parts %v", parts)
		}
	}
	// A second run delivers nothing more.
	if out, errOut, code := nudge(t, dir, "send", "announce", "--via", "smtp", "--yes"); code != exitOK || !strings.Contains(out, "0 to send now") {
		t.Errorf("rerun: exit %d\n%s\n%s", code, out, errOut)
	}
	getJSON(t, api+"/api/v1/messages", &list)
	if list.Total != 12 {
		t.Errorf("after a rerun mailpit has %d messages, want still 12", list.Total)
	}
}
