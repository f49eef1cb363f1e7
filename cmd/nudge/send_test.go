package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/nudge-passkeys/nudge/internal/deliver/smtp/smtptest"
	"github.com/nudge-passkeys/nudge/internal/ledger"
)

// sendFixture is a campaign of n people sending through an SMTP server at
// addr, with its own templates and snapshot, in dir.
func sendFixture(t *testing.T, dir string, n int, host string, port int, perMinute int) {
	t.Helper()
	templates, err := filepath.Abs(filepath.Join("..", "..", "templates"))
	if err != nil {
		t.Fatal(err)
	}
	campaign := fmt.Sprintf(`campaign: e2e
organisation: {name: Contoso, team: IT Security, website: "https://intranet.contoso.example/"}
sender: {name: Contoso IT Security, address: it-security@contoso.example}
links:
  guides: https://intranet.contoso.example/passkeys/
  verify: https://intranet.contoso.example/news/passkeys
helpdesk: {name: IT Helpdesk, email: helpdesk@contoso.example}
defaults: {locale: en, locales: [en, fr, de], deadline: 2027-01-29}
source: snapshot:tenant
templates: %q
smtp: {host: %s, port: %d, tls: none, allow_insecure: true, auth: none}
pacing: {rate_per_minute: %d, per_day: 100000}
audiences:
  - name: ready
    where: isMfaCapable && !hasPasskey
waves:
  - id: announce
    audiences: [ready]
    template: announce
`, filepath.ToSlash(templates), host, port, perMinute)
	write(t, filepath.Join(dir, "campaign.yaml"), campaign)
	var users, regs strings.Builder
	users.WriteString(`{"value":[`)
	regs.WriteString(`{"value":[`)
	for i := range n {
		if i > 0 {
			users.WriteString(",")
			regs.WriteString(",")
		}
		fmt.Fprintf(&users, `{"id":"u%d","userPrincipalName":"p%d@contoso.example","mail":"p%d@contoso.example","displayName":"Person %d","givenName":"P%d","preferredLanguage":"en-GB","accountEnabled":true,"userType":"Member"}`, i, i, i, i, i)
		fmt.Fprintf(&regs, `{"id":"u%d","userPrincipalName":"p%d@contoso.example","isMfaCapable":true,"methodsRegistered":["microsoftAuthenticatorPush"]}`, i, i)
	}
	users.WriteString("]}")
	regs.WriteString("]}")
	write(t, filepath.Join(dir, "tenant", "users.json"), users.String())
	write(t, filepath.Join(dir, "tenant", "userRegistrationDetails.json"), regs.String())
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func nudge(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	args = append([]string{"--campaign", filepath.Join(dir, "campaign.yaml"), "--out", filepath.Join(dir, "output")}, args...)
	code = run(context.Background(), args, nil, &out, &errb)
	return out.String(), errb.String(), code
}

func TestSendSMTPExactlyOnce(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{RejectRecipients: []string{"p3@contoso.example"}})
	dir := t.TempDir()
	sendFixture(t, dir, 8, srv.Host(), srv.Port(), 6000)

	_, errOut, code := nudge(t, dir, "send", "announce", "--via", "smtp")
	if code == exitOK || !strings.Contains(errOut, "--yes") {
		t.Fatalf("without --yes off a terminal: exit %d, stderr %q; want a refusal naming --yes", code, errOut)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Fatalf("%d messages sent without confirmation", n)
	}
	// Refused before anything: no connection, no ledger.
	if st := srv.Stats(); st.Connections != 0 {
		t.Errorf("the refused send opened %d connections", st.Connections)
	}
	if _, err := os.Stat(filepath.Join(dir, "output", "e2e", "nudge.db")); err == nil {
		t.Error("the refused send created the ledger")
	}

	out, errOut, code := nudge(t, dir, "send", "announce", "--via", "smtp", "--yes")
	if code != exitOK {
		t.Fatalf("send: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "7 sent, 1 failed") {
		t.Errorf("send output lacks the counts:\n%s", out)
	}
	if n := len(srv.Messages()); n != 7 {
		t.Errorf("server received %d messages, want 7", n)
	}
	for _, m := range srv.Messages() {
		if !bytes.Contains(m.Data, []byte("Message-ID: <nudge.")) || !bytes.Contains(m.Data, []byte("multipart/alternative")) {
			t.Errorf("message to %v is not nudge's MIME message", m.To)
		}
	}

	// The workbook follows the send: every planned person is a row.
	wb, err := excelize.OpenFile(filepath.Join(dir, "output", "e2e", "tracking.xlsx"))
	if err != nil {
		t.Fatalf("tracking workbook: %v", err)
	}
	rows, err := wb.GetRows("Recipients")
	wb.Close()
	if err != nil || len(rows) != 9 {
		t.Errorf("Recipients has %d rows (%v), want a header and 8 people", len(rows), err)
	}

	// A rerun sends nothing twice.
	out, errOut, code = nudge(t, dir, "send", "announce", "--via", "smtp", "--yes")
	if code != exitOK || !strings.Contains(out, "0 to send now, 7 already sent, 1 already failed") {
		t.Errorf("rerun: exit %d\n%s\n%s", code, out, errOut)
	}
	if n := len(srv.Messages()); n != 7 {
		t.Errorf("after a rerun the server has %d messages, want still 7", n)
	}

	out, _, code = nudge(t, dir, "status")
	if code != exitOK {
		t.Fatalf("status: exit %d", code)
	}
	for _, want := range []string{"announce", "ready", "p3@contoso.example", "550"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
}

func TestSendUnreachableRecordsNothing(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	port := srv.Port()
	srv.Close()
	dir := t.TempDir()
	sendFixture(t, dir, 3, "127.0.0.1", port, 6000)
	_, errOut, code := nudge(t, dir, "send", "announce", "--via", "smtp", "--yes")
	if code != exitFailure || !strings.Contains(errOut, "nothing was sent or recorded") {
		t.Errorf("exit %d, stderr %q; want a failure before any ledger change", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "output", "e2e", "nudge.db")); err == nil {
		t.Error("the ledger was created although nothing could be sent")
	}
}

func TestSendRedirectTouchesNoLedger(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	dir := t.TempDir()
	sendFixture(t, dir, 5, srv.Host(), srv.Port(), 6000)
	out, errOut, code := nudge(t, dir, "send", "announce", "--via", "smtp", "--yes", "--redirect-to", "me@contoso.example", "--limit", "2")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	msgs := srv.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d proofs, want 2", len(msgs))
	}
	for _, m := range msgs {
		if len(m.To) != 1 || m.To[0] != "me@contoso.example" || !bytes.Contains(m.Data, []byte("Subject: [PROOF] ")) {
			t.Errorf("proof went to %v or lacks [PROOF]", m.To)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "output", "e2e", "nudge.db")); err == nil {
		t.Error("proofs created a ledger")
	}
}

// TestSendKilledMidWave kills a real nudge process half-way through a wave,
// then reruns it: everyone is sent exactly once or reported unknown.
func TestSendKilledMidWave(t *testing.T) {
	if os.Getenv("NUDGE_REQUIRE_TOOLS") == "" && testing.Short() {
		t.Skip("spawns processes")
	}
	srv := smtptest.Start(t, smtptest.Options{})
	dir := t.TempDir()
	// 600 a minute: one message every 100 ms, slow enough to kill half-way.
	sendFixture(t, dir, 30, srv.Host(), srv.Port(), 600)
	cmd := exec.Command(os.Args[0], "--campaign", filepath.Join(dir, "campaign.yaml"), "--out", filepath.Join(dir, "output"), "send", "announce", "--via", "smtp", "--yes")
	cmd.Env = append(os.Environ(), "NUDGE_TEST_MAIN=1")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(srv.Messages()) < 8 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	first := len(srv.Messages())
	if first == 0 || first >= 30 {
		t.Fatalf("killed after %d messages; want some but not all (stderr: %s)", first, errb.String())
	}

	out, errOut, code := nudge(t, dir, "send", "announce", "--via", "smtp", "--yes")
	if code != exitOK {
		t.Fatalf("rerun: exit %d\n%s\n%s", code, out, errOut)
	}
	seen := map[string]int{}
	for _, m := range srv.Messages() {
		seen[m.To[0]]++
	}
	unknown := strings.Contains(errOut, "state is unknown")
	for addr, n := range seen {
		if n > 1 {
			t.Errorf("%s got %d messages", addr, n)
		}
	}
	status, _, _ := nudge(t, dir, "status")
	// Everyone is either sent, or unknown (the one message in flight at the
	// kill), and the counts add up to 30.
	if len(seen) < 29 || (len(seen) == 29 && !unknown) {
		t.Errorf("%d people reached after the rerun; want 30, or 29 with one reported unknown\n%s\n%s", len(seen), errOut, status)
	}
}

func TestSendOnly(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	dir := t.TempDir()
	sendFixture(t, dir, 5, srv.Host(), srv.Port(), 6000)
	out, errOut, code := nudge(t, dir, "send", "announce", "--via", "smtp", "--yes", "--only", "P2@contoso.example,p4@contoso.example")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	var got []string
	for _, m := range srv.Messages() {
		got = append(got, m.To...)
	}
	if strings.Join(got, ",") != "p2@contoso.example,p4@contoso.example" {
		t.Errorf("sent to %v, want p2 and p4 only", got)
	}
	// The others stay pending for a full run; --only never skips them.
	out, _, _ = nudge(t, dir, "send", "announce", "--via", "smtp", "--yes")
	if !strings.Contains(out, "3 to send now, 2 already sent") {
		t.Errorf("full run after --only:\n%s", out)
	}
}

// TestSendSharedAddressOnlyOnce: two accounts share a mailbox; --only names
// the second. The mailbox gets the wave once, from the first, whatever
// --only says.
func TestSendSharedAddressOnlyOnce(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	dir := t.TempDir()
	sendFixture(t, dir, 4, srv.Host(), srv.Port(), 6000)
	users := filepath.Join(dir, "tenant", "users.json")
	data, _ := os.ReadFile(users)
	write(t, users, strings.Replace(string(data), `"mail":"p2@contoso.example"`, `"mail":"p1@contoso.example"`, 1))
	if _, errOut, code := nudge(t, dir, "send", "announce", "--via", "smtp", "--yes", "--only", "p2@contoso.example"); code != exitOK || !strings.Contains(errOut, "one message per address") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Fatalf("--only the second account sent %d messages", n)
	}
	if _, _, code := nudge(t, dir, "send", "announce", "--via", "smtp", "--yes"); code != exitOK {
		t.Fatal("full run failed")
	}
	count := map[string]int{}
	for _, m := range srv.Messages() {
		count[m.To[0]]++
	}
	if count["p1@contoso.example"] != 1 || len(srv.Messages()) != 3 {
		t.Errorf("messages per address %v, want p1 once and 3 in all", count)
	}
}

// TestStatusAfterACrash: a row a run left sending when it died shows as
// unknown in status at once, with what happened, not as a send in flight;
// while a run holds the ledger, it is being sent.
func TestStatusAfterACrash(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	dir := t.TempDir()
	sendFixture(t, dir, 3, srv.Host(), srv.Port(), 6000)
	if out, errOut, code := nudge(t, dir, "send", "announce", "--via", "smtp", "--yes", "--limit", "1"); code != exitOK {
		t.Fatalf("send: exit %d\n%s\n%s", code, out, errOut)
	}
	// What a run killed while the server had a message leaves behind: a
	// row sending, and its lock naming a process that is gone.
	db := filepath.Join(dir, "output", "e2e", "nudge.db")
	l, err := ledger.Open(t.Context(), db, ledger.Options{Lock: true})
	if err != nil {
		t.Fatal(err)
	}
	run, err := l.StartRun(t.Context(), ledger.Run{Command: "send", Via: ledger.ViaSMTP, Waves: []string{"announce"}})
	if err != nil {
		t.Fatal(err)
	}
	var key ledger.Key
	err = l.EachSend(t.Context(), "announce", func(s ledger.Send) error {
		if s.Status == ledger.StatusPending && key.PersonID == "" {
			key = s.Key
		}
		return nil
	})
	if err == nil {
		err = l.MarkSending(t.Context(), key, ledger.Claim{Run: run, MessageID: "m@x", Sender: "s@x"})
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Skip("no true(1) to make a pid that is gone:", err)
	}
	host, _ := os.Hostname()
	lock := fmt.Sprintf(`{"pid":%d,"host":%q,"started":"2026-11-25T10:00:00Z"}`+"\n", gone.Process.Pid, host)
	write(t, db+".lock", lock)

	status, errOut, code := nudge(t, dir, "status")
	if code != exitOK {
		t.Fatalf("status: exit %d\n%s", code, errOut)
	}
	want := []string{
		"announce  ready  1  0  1  0  1  0", // PENDING SENDING SENT FAILED UNKNOWN SKIPPED
		"a run stopped while sending it, before the server answered (pid " + fmt.Sprint(gone.Process.Pid),
		"1 of them still marked sending in the ledger",
		"--retry-unknown",
	}
	for _, w := range want {
		if !strings.Contains(strings.Join(strings.Fields(status), " "), strings.Join(strings.Fields(w), " ")) {
			t.Errorf("status lacks %q:\n%s", w, status)
		}
	}

	// The same row under other locks. A live process on this machine
	// stands for a nudge (sleep's pid); the claim was made at the real
	// time, after "started" below unless it is in the future.
	alive := exec.Command("sleep", "60")
	if err := alive.Start(); err != nil {
		t.Skip("no sleep(1) to stand for a live nudge:", err)
	}
	t.Cleanup(func() { alive.Process.Kill(); alive.Wait() })
	lockOf := func(pid int, h, started string) string {
		return fmt.Sprintf(`{"pid":%d,"host":%q,"started":%q}`+"\n", pid, h, started)
	}
	for _, tc := range []struct {
		name, lock string // lock "" is none; "dir" a lock that cannot be read
		row        string
		says       string
	}{
		{"live run that claimed it", lockOf(alive.Process.Pid, host, "2026-11-25T10:00:00Z"),
			"1 1 1 0 0 0", "1 being sent now by a nudge running on this machine (pid " + fmt.Sprint(alive.Process.Pid)},
		{"live run that started after the claim (nudge track, say)", lockOf(alive.Process.Pid, host, "2999-01-01T00:00:00Z"),
			"1 0 1 0 1 0", "a run stopped while sending it, before the server answered"},
		{"no lock", "", "1 0 1 0 1 0", "1 of them still marked sending"},
		{"a lock from another machine", lockOf(4242, "elsewhere.invalid", "2026-11-25T10:00:00Z"),
			"1 1 1 0 0 0", "the run lock names pid 4242 on elsewhere.invalid, since 2026-11-25T10:00:00Z, which nudge cannot check from here. If no nudge is running, delete"},
		{"a lock that says nothing", "{}\n", "1 1 1 0 0 0", "the run lock names no process"},
		{"a lock that cannot be read", "dir", "1 1 1 0 0 0", "the run lock cannot be read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.RemoveAll(db + ".lock")
			switch tc.lock {
			case "":
			case "dir":
				if err := os.Mkdir(db+".lock", 0o755); err != nil {
					t.Fatal(err)
				}
			default:
				write(t, db+".lock", tc.lock)
			}
			status, errOut, code := nudge(t, dir, "status")
			flat := strings.Join(strings.Fields(status), " ")
			if code != exitOK || !strings.Contains(flat, "announce ready "+tc.row) || !strings.Contains(flat, strings.Join(strings.Fields(tc.says), " ")) {
				t.Errorf("exit %d; want the row %q and %q:\n%s%s", code, tc.row, tc.says, status, errOut)
			}
		})
	}
}
