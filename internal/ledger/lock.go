package ledger

// The run lock: one sending nudge per ledger. It is a file next to the
// database, nudge.db.lock, created with O_EXCL and holding the owner's
// pid, host and start time, and removed on Close.
//
// Why a file and not a row in the database: a person can see it, and when
// nudge cannot tell whether its owner is alive (another host, Windows), the
// cure is to delete one file, which anyone can do without a tool.
//
// Why it matters although every state change is a guarded UPDATE: the
// guards stop two processes from claiming the same row, but
// RecoverInterrupted turns every `sending` row into `unknown`, which is
// only right when no other nudge is in the middle of sending; and two
// nudges pacing the same mailbox would each let through a full day's cap.
//
// A lock left by a crash is taken over only when nudge can prove its owner
// dead: same host, and no process with that pid (on Unix and Windows). A
// pid reused by an unrelated process looks alive, which errs on the safe
// side: the user is told to delete the file.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// lockInfo is the content of a lock file.
type lockInfo struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Started time.Time `json:"started"`
}

// runLock is a lock file this process created.
type runLock struct {
	path    string
	content []byte // what we wrote, to recognise our own file on release
}

// acquireLock takes dbPath's run lock, taking over a stale one, or fails
// with ErrBusy at once: waiting would only hide that two schedulers
// overlap.
func acquireLock(dbPath string, now time.Time) (*runLock, error) {
	path := dbPath + ".lock"
	host, _ := os.Hostname()
	content, err := json.Marshal(lockInfo{PID: os.Getpid(), Host: host, Started: now.UTC()})
	if err != nil {
		return nil, fmt.Errorf("ledger: take run lock: %w", err)
	}
	content = append(content, '\n')

	// A few tries at most: the lock may vanish under us, or be stale once.
	for try := 0; ; try++ {
		err := createExclusive(path, content)
		if err == nil {
			return &runLock{path: path, content: content}, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("ledger: take run lock: %w", err)
		}
		held, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) && try < 2 {
			continue // released between our create and our read
		}
		if err != nil {
			return nil, fmt.Errorf("ledger: take run lock: %w", err)
		}
		var owner lockInfo
		known := json.Unmarshal(held, &owner) == nil && owner.PID > 0
		if try == 0 && known && owner.Host == host && owner.PID != os.Getpid() && !processAlive(owner.PID) {
			if breakStale(path, held) == nil {
				continue
			}
		}
		return nil, busyError(dbPath, path, owner, known)
	}
}

// RunState is whether a nudge is using a ledger, as its run lock tells.
type RunState struct {
	// Running is true while a process holds the lock, or may: one on
	// another host, or a lock that cannot be read or names no process,
	// counts as running.
	Running bool
	// Checked is true when nudge could tell whether the lock's owner is
	// alive: a process on this host, on Unix or Windows.
	Checked bool
	// Stopped is true when a lock is left by a process on this host that
	// is gone: it stopped without releasing it (killed, or the machine
	// went down), and the next send takes the lock over.
	Stopped bool
	// Owner describes the lock's owner ("pid 4242 on host, since …"),
	// empty when there is no lock or it says nothing usable; Started is
	// when the owner took the lock, zero when not known.
	Owner   string
	Started time.Time
	// Path is the lock file.
	Path string
}

// CheckRun reads dbPath's run lock, without taking it. A lock it cannot
// read is reported with the error, as Running.
func CheckRun(dbPath string) (RunState, error) {
	st := RunState{Path: dbPath + ".lock"}
	held, err := os.ReadFile(st.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	st.Running = true
	if err != nil {
		return st, fmt.Errorf("ledger: read run lock: %w", err)
	}
	var owner lockInfo
	if json.Unmarshal(held, &owner) != nil || owner.PID <= 0 {
		return st, nil
	}
	st.Owner = fmt.Sprintf("pid %d on %s, since %s", owner.PID, owner.Host, owner.Started.Format(time.RFC3339))
	st.Started = owner.Started
	if host, _ := os.Hostname(); owner.Host == host && owner.PID != os.Getpid() && canCheckProcess {
		st.Checked = true
		if !processAlive(owner.PID) {
			st.Running, st.Stopped = false, true
		}
	}
	return st, nil
}

func createExclusive(path string, content []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(content)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// breakStale removes the stale lock file whose content was seen, and only
// that one. Two nudges may find the same stale lock; if one removes it and
// takes a fresh lock before the other acts, the other must not delete the
// fresh one. So the file is first renamed aside, which only one of them
// can do, and its content checked: if it is no longer the stale lock, it
// is linked back (link, unlike rename, never replaces a file) and we stay
// out.
func breakStale(path string, seen []byte) error {
	aside := fmt.Sprintf("%s.stale.%d", path, os.Getpid())
	if err := os.Rename(path, aside); err != nil {
		return err
	}
	got, err := os.ReadFile(aside)
	if err == nil && bytes.Equal(got, seen) {
		return os.Remove(aside)
	}
	// Not the stale lock any more. If a third nudge took the lock in the
	// meantime, Link fails and the one whose file we moved runs without
	// one; that needs three nudges starting within microseconds.
	os.Link(aside, path)
	os.Remove(aside)
	return errors.New("lock changed while taking over")
}

func busyError(dbPath, lockPath string, owner lockInfo, known bool) error {
	who := "the lock file does not say which"
	if known {
		who = fmt.Sprintf("pid %d on %s, since %s", owner.PID, owner.Host, owner.Started.Format(time.RFC3339))
	}
	return fmt.Errorf("%w: %s is in use by another nudge send or run (%s); if no nudge is running, delete %s",
		ErrBusy, dbPath, who, lockPath)
}

// release removes the lock file if it is still ours.
func (lk *runLock) release() error {
	got, err := os.ReadFile(lk.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("release run lock: %w", err)
	}
	if !bytes.Equal(got, lk.content) {
		return nil // someone deleted ours and took it; theirs now
	}
	if err := os.Remove(lk.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("release run lock: %w", err)
	}
	return nil
}
