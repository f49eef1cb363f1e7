// Package icaltest has iCalendar text read by an independent parser,
// ical.js (run through node), for tests of every package that writes
// calendars.
package icaltest

import (
	_ "embed"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
)

//go:embed judge.cjs
var script []byte

// Calendar is what ical.js understood of one VCALENDAR. Instants are Unix
// seconds, computed by ical.js from the file's own VTIMEZONE.
type Calendar struct {
	Method     string   `json:"method"`
	Properties []string `json:"properties"`
	Components []string `json:"components"`
	Events     []Event  `json:"events"`
}

// Event is one VEVENT as ical.js read it.
type Event struct {
	UID         string    `json:"uid"`
	Sequence    int       `json:"sequence"`
	Summary     string    `json:"summary"`
	Description string    `json:"description"`
	Location    string    `json:"location"`
	Status      string    `json:"status"`
	Start       int64     `json:"start"`
	End         int64     `json:"end"`
	StartZone   string    `json:"startZone"`
	Stamp       int64     `json:"stamp"`
	Organizer   []Address `json:"organizer"`
	Attendees   []Address `json:"attendees"`
	Properties  []string  `json:"properties"`
}

// Address is an ORGANIZER or ATTENDEE: its value and parameters (lower
// case names).
type Address struct {
	Value  string            `json:"value"`
	Params map[string]string `json:"params"`
}

// Judge parses each calendar with ical.js. Without node or ical.js the
// test is skipped, unless NUDGE_REQUIRE_TOOLS is set (as in CI): then it
// fails. ical.js is looked for in NODE_PATH, else in the module's
// .ci/npm/node_modules, where .ci/run installs it.
func Judge(t testing.TB, cals ...[]byte) []Calendar {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		missing(t, "node")
	}
	nodePath := os.Getenv("NODE_PATH")
	if nodePath == "" {
		_, file, _, _ := runtime.Caller(0)
		nodePath = filepath.Join(filepath.Dir(file), "..", "..", "..", ".ci", "npm", "node_modules")
	}
	if _, err := os.Stat(filepath.Join(nodePath, "ical.js")); err != nil {
		missing(t, "ical.js in NODE_PATH ("+nodePath+")")
	}
	dir := t.TempDir()
	js := filepath.Join(dir, "judge.cjs")
	if err := os.WriteFile(js, script, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{js}
	for i, c := range cals {
		f := filepath.Join(dir, strconv.Itoa(i)+".ics")
		if err := os.WriteFile(f, c, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, f)
	}
	cmd := exec.Command(node, args...)
	cmd.Env = append(os.Environ(), "NODE_PATH="+nodePath)
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("ical.js rejected a calendar: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var got []Calendar
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("judge output: %v\n%s", err, out)
	}
	if len(got) != len(cals) {
		t.Fatalf("ical.js read %d calendars, want %d", len(got), len(cals))
	}
	return got
}

func missing(t testing.TB, what string) {
	t.Helper()
	if os.Getenv("NUDGE_REQUIRE_TOOLS") != "" {
		t.Fatalf("%s not found, and NUDGE_REQUIRE_TOOLS is set", what)
	}
	t.Skipf("%s not found: install it with npm install --prefix .ci/npm ical.js@2.2.1, or set NODE_PATH", what)
}
