package main

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	// A test that needs nudge as a real process (to kill it) re-runs this
	// binary with NUDGE_TEST_MAIN set.
	if os.Getenv("NUDGE_TEST_MAIN") != "" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	testscript.Main(m, map[string]func(){
		"nudge": func() { os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the CLI scenarios in testdata/script.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("NUDGE_NOW", "2026-11-25T10:00:00Z")
			return nil
		},
	})
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"unknown command", []string{"bogus"}, exitUsage},
		{"unknown flag", []string{"build", "--bogus"}, exitUsage},
		{"stray argument", []string{"build", "extra"}, exitUsage},
		{"unknown wave", []string{"build", "--wave", "nope"}, exitUsage},
		{"unknown source", []string{"build", "--source", "ftp:x"}, exitUsage},
		{"missing campaign", []string{"build", "--campaign", "nope.yaml"}, exitFailure},
		{"limit zero", []string{"send", "announce", "--limit", "0"}, exitUsage},
		{"no wave", []string{"send"}, exitUsage},
		{"unknown via", []string{"send", "announce", "--via", "pigeon"}, exitUsage},
		{"help", []string{"--help"}, exitOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			got := run(context.Background(), append([]string{"--out", dir}, tc.args...), nil, &out, &errb)
			if got != tc.want {
				t.Errorf("exit code = %d, want %d\nstderr: %s", got, tc.want, errb.String())
			}
			if tc.want != exitOK && !bytes.Contains(errb.Bytes(), []byte("nudge: error: ")) {
				t.Errorf("stderr = %q, want a line starting nudge: error:", errb.String())
			}
			// A usage error points at the help of the command it was
			// about, though --out and its value came first.
			if want := usageHint[tc.name]; got == exitUsage && !bytes.Contains(errb.Bytes(), []byte("hint: run '"+want+" --help'")) {
				t.Errorf("stderr = %q, want the hint to run '%s --help'", errb.String(), want)
			}
		})
	}
}

// usageHint is the command whose help each usage error of TestExitCodes
// points at.
var usageHint = map[string]string{
	"unknown command": "nudge", "unknown flag": "nudge build", "stray argument": "nudge build",
	"unknown wave": "nudge build", "unknown source": "nudge build", "limit zero": "nudge send",
	"no wave": "nudge send", "unknown via": "nudge send",
}
