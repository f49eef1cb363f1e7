//go:build unix

package ledger

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestLockTakenOverFromKilledProcess(t *testing.T) {
	// A real crash: a second process takes the lock, claims a row and is
	// killed. Its lock and its `sending` row stay behind; the next nudge
	// proves the pid dead, takes the lock over and reports the row unknown.
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "nudge.db")
	cmd := waitLocked(t, path)

	if _, err := Open(ctx, path, Options{Lock: true}); !errors.Is(err, ErrBusy) {
		t.Fatalf("Open while the helper lives = %v, want ErrBusy", err)
	}
	cmd.Process.Kill()
	cmd.Wait() // reaped, so the pid is gone (a zombie would look alive)
	if _, err := os.Stat(path + ".lock"); err != nil {
		t.Fatalf("the killed process left no lock file: %v", err)
	}

	l := openAt(t, path, Options{Lock: true})
	n, err := l.RecoverInterrupted(ctx)
	if err != nil || n != 1 {
		t.Errorf("RecoverInterrupted after the crash = %d, %v; want 1", n, err)
	}
	if s, _ := l.Status(ctx, Key{"w1", "p1"}); s != StatusUnknown {
		t.Errorf("crashed row is %s, want unknown", s)
	}
	l.Close()
	if _, err := os.Stat(path + ".lock"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock file after Close: %v, want gone", err)
	}
}

func TestLockStaleFromDeadPID(t *testing.T) {
	// A pid that surely existed and is gone: a finished child's.
	child := exec.Command(os.Args[0], "-test.run=^$")
	if err := child.Run(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "nudge.db")
	stale := mustJSON(t, lockInfo{PID: child.Process.Pid, Host: hostname(t), Started: t0})
	if err := os.WriteFile(path+".lock", []byte(stale), 0o644); err != nil {
		t.Fatal(err)
	}
	l := openAt(t, path, Options{Lock: true})
	if b, _ := os.ReadFile(path + ".lock"); string(b) == stale {
		t.Error("lock file still the stale one")
	}
	matches, _ := filepath.Glob(path + ".lock.stale.*")
	if len(matches) != 0 {
		t.Errorf("left behind: %v", matches)
	}
	l.Close()
}

func TestBreakStaleLeavesAFreshLock(t *testing.T) {
	// Two nudges found the same stale lock; the other one already replaced
	// it. Ours must put the fresh lock back, not delete it.
	path := filepath.Join(t.TempDir(), "nudge.db.lock")
	fresh := []byte(`{"pid":2}` + "\n")
	os.WriteFile(path, fresh, 0o644)
	if err := breakStale(path, []byte(`{"pid":1}`+"\n")); err == nil {
		t.Error("breakStale of a lock that changed succeeded")
	}
	if b, err := os.ReadFile(path); string(b) != string(fresh) {
		t.Errorf("lock file = %q, %v; want the fresh lock back", b, err)
	}
}
