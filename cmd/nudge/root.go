package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // the command ran and failed, or found errors
	exitUsage   = 2 // the command line was wrong
)

// cliError is an error with an optional hint for the person at the
// keyboard and an exit code.
type cliError struct {
	err  error
	hint string
	code int
}

func (e *cliError) Error() string { return e.err.Error() }
func (e *cliError) Unwrap() error { return e.err }

func withHint(err error, hint string, args ...any) error {
	return &cliError{err: err, hint: fmt.Sprintf(hint, args...), code: exitFailure}
}

func usageError(format string, args ...any) error {
	return &cliError{err: fmt.Errorf(format, args...), code: exitUsage}
}

// errSilent reports failure whose details the command has already printed
// (check's findings).
var errSilent = errors.New("")

// env is what every command shares: streams, clock, logger and global flags.
type env struct {
	ctx      context.Context
	stdin    io.Reader
	stdout   io.Writer
	stderr   io.Writer
	now      func() time.Time
	log      *slog.Logger
	campaign string // --campaign
	out      string // --out
	verbose  bool
	getenv   func(string) string
	live     *liveSource // --source graph: one pull per process
}

// moreCommands are commands that register themselves from their own file
// (func init() { moreCommands = append(moreCommands, newXCmd) }), in
// addition to the core ones listed in newRoot.
var moreCommands []func(*env) *cobra.Command

// run is nudge's whole life, minus the process: tests call it directly.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{
		ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr,
		now: time.Now, getenv: os.Getenv,
	}
	if s := os.Getenv("NUDGE_NOW"); s != "" {
		// A fixed clock for rehearsals and reproducible output.
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			fmt.Fprintf(stderr, "nudge: error: NUDGE_NOW=%q is not an RFC 3339 time such as 2026-12-01T09:00:00Z\n", s)
			return exitUsage
		}
		e.now = func() time.Time { return t }
	}
	root := newRoot(e)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	if errors.Is(err, errSilent) {
		return exitFailure
	}
	code := exitFailure
	var ce *cliError
	if errors.As(err, &ce) {
		code = ce.code
	} else if isCobraUsage(err) {
		code = exitUsage
	}
	msg := strings.TrimRight(err.Error(), "\n")
	if strings.Contains(msg, "\n") {
		fmt.Fprintf(stderr, "nudge: error:\n%s\n", indent(msg))
	} else {
		fmt.Fprintf(stderr, "nudge: error: %s\n", msg)
	}
	if ce != nil && ce.hint != "" {
		fmt.Fprintf(stderr, "hint: %s\n", ce.hint)
	} else if code == exitUsage {
		fmt.Fprintf(stderr, "hint: run '%s --help' for usage\n", commandPath(root, args))
	}
	return code
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}

// commandPath names the command args run ("nudge send"), or nudge alone
// when they name none: flags and their values may come first (nudge
// --campaign FILE send …), and a mistyped command is not one.
func commandPath(root *cobra.Command, args []string) string {
	if cmd, _, err := root.Find(args); err == nil && cmd != nil {
		return cmd.CommandPath()
	}
	return root.Name()
}

// isCobraUsage recognises cobra's own errors about the command line.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "flag needs an argument", "invalid argument", "accepts ", "requires at least", "requires at most", "required flag"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "nudge",
		Short: "Passkey adoption campaigns for Microsoft Entra ID",
		Long: `nudge reads who is eligible for a passkey (from Microsoft Graph, a snapshot
of it, or the admin center's CSV), checks whether the tenant is ready for
Entra's own registration prompt, sorts people into audiences, renders
per-audience emails from Markdown templates, sends them by SMTP or Graph mail
(paced and exactly once) and tracks the passkeys registered since.

With no campaign file it runs the built-in demo campaign on a fictional tenant.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			level := slog.LevelWarn
			if e.verbose {
				level = slog.LevelDebug
			}
			e.log = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
			return nil
		},
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageError("%v", err)
	})
	f := root.PersistentFlags()
	f.StringVar(&e.campaign, "campaign", defaultCampaign, "campaign file")
	f.StringVar(&e.out, "out", "output", "folder for everything nudge writes")
	f.BoolVarP(&e.verbose, "verbose", "v", false, "say more on stderr")
	root.AddCommand(newBuildCmd(e), newAudiencesCmd(e), newCheckCmd(e), newSendCmd(e), newStatusCmd(e), newTrackCmd(e), newPullCmd(e), newReadinessCmd(e))
	for _, c := range moreCommands {
		root.AddCommand(c(e))
	}
	root.CompletionOptions.DisableDefaultCmd = true
	return root
}
