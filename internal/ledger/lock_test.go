package ledger

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The helper process: the test binary run again with helperEnv set, so a
// real second nudge process can contend for the lock. Modes:
//
//	open  open with the lock; exit 3 on ErrBusy (message on stderr)
//	hold  open with the lock, claim a row, say "locked", wait to be killed
const helperEnv = "NUDGE_LEDGER_TEST_HELPER"

func TestHelperProcess(t *testing.T) {
	mode, path, ok := strings.Cut(os.Getenv(helperEnv), ":")
	if !ok {
		t.Skip("helper process for the lock tests")
	}
	ctx := context.Background()
	l, err := Open(ctx, path, Options{Lock: true})
	if errors.Is(err, ErrBusy) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	switch mode {
	case "open":
		l.Close()
	case "hold":
		run, err := l.StartRun(ctx, Run{Command: "send", Via: ViaSMTP})
		if err == nil {
			k := Key{"w1", "p1"}
			_, err = l.Plan(ctx, run, []Recipient{{Key: k}})
			if err == nil {
				err = l.MarkSending(ctx, k, claim(run, k))
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println("locked")
		time.Sleep(time.Minute) // until killed
		os.Exit(1)
	}
}

func helper(t *testing.T, mode, path string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode+":"+path)
	return cmd
}

func TestLockTwoHandlesInProcess(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "nudge.db")
	a := openAt(t, path, Options{Lock: true})

	_, err := Open(ctx, path, Options{Lock: true})
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("second Open with lock = %v, want ErrBusy", err)
	}
	for _, want := range []string{path, "another nudge send or run", fmt.Sprintf("pid %d", os.Getpid()), path + ".lock"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("ErrBusy message %q does not mention %q", err, want)
		}
	}
	// Readers do not need the lock.
	r := openAt(t, path, Options{})
	if _, err := r.Summary(ctx, ""); err != nil {
		t.Errorf("reader beside the lock holder: %v", err)
	}

	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + ".lock"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock file after Close: %v, want gone", err)
	}
	openAt(t, path, Options{Lock: true})
}

func TestLockSecondProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nudge.db")
	l := openAt(t, path, Options{Lock: true})

	cmd := helper(t, "open", path)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("second process: %v (stderr %q), want exit 3 (ErrBusy)", err, stderr.String())
	}
	if msg := stderr.String(); !strings.Contains(msg, "ledger: busy: "+path+" is in use by another nudge send or run") {
		t.Errorf("second process said %q", msg)
	}

	l.Close()
	if out, err := helper(t, "open", path).CombinedOutput(); err != nil {
		t.Errorf("second process after Close: %v\n%s", err, out)
	}
}

func TestLockFileNotTakenOver(t *testing.T) {
	// A lock nudge cannot prove dead stays, and the message says which
	// file to delete.
	for _, tc := range []struct {
		name    string
		content string
		want    string
	}{
		{"other host", mustJSON(t, lockInfo{PID: 1, Host: "elsewhere.invalid", Started: t0}), "pid 1 on elsewhere.invalid, since 2026-05-04T09:30:00Z"},
		{"this process", mustJSON(t, lockInfo{PID: os.Getpid(), Host: hostname(t), Started: t0}), fmt.Sprintf("pid %d", os.Getpid())},
		{"garbage", "not json\n", "the lock file does not say which"},
		{"empty", "", "the lock file does not say which"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "nudge.db")
			if err := os.WriteFile(path+".lock", []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Open(context.Background(), path, Options{Lock: true})
			if !errors.Is(err, ErrBusy) {
				t.Fatalf("Open = %v, want ErrBusy", err)
			}
			for _, want := range []string{tc.want, "if no nudge is running, delete " + path + ".lock"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("message %q does not mention %q", err, want)
				}
			}
			if b, _ := os.ReadFile(path + ".lock"); string(b) != tc.content {
				t.Errorf("lock file changed to %q", b)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n"
}

func hostname(t *testing.T) string {
	h, err := os.Hostname()
	if err != nil {
		t.Skip("no host name:", err)
	}
	return h
}

// waitLocked starts a helper that holds the lock and returns once it does.
func waitLocked(t *testing.T, path string) *exec.Cmd {
	cmd := helper(t, "hold", path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if line != "locked\n" {
		t.Fatalf("helper said %q, %v", line, err)
	}
	return cmd
}
