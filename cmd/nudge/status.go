package main

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/nudge-passkeys/nudge/internal/ledger"
)

func newStatusCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "status [WAVE]",
		Short: "Where each wave stands: sent, failed, unknown, pending, per audience",
		Long: `status reads output/<campaign>/nudge.db and prints, per wave and audience, how
many messages are pending, sent, failed, unknown (a run stopped while handing
them to the server) and skipped, then each failure with its reason.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			wave := ""
			if len(args) == 1 {
				wave = args[0]
			}
			return runStatus(e, wave)
		},
	}
}

var statusOrder = []ledger.Status{ledger.StatusPending, ledger.StatusSending, ledger.StatusSent, ledger.StatusFailed, ledger.StatusUnknown, ledger.StatusSkipped}

func runStatus(e *env, wave string) error {
	p, err := e.loadCampaign()
	if err != nil {
		return err
	}
	if wave != "" {
		if _, ok := p.c.Wave(wave); !ok {
			return usageError("no wave %q in %s (waves: %s)", wave, p.c.File, strings.Join(p.c.WaveIDs(), ", "))
		}
	}
	dbPath := filepath.Join(e.campaignDir(p), "nudge.db")
	if _, err := os.Stat(dbPath); errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(e.stdout, "nothing sent yet for campaign %s (%s does not exist)\n", p.c.ID, dbPath)
		return nil
	}
	l, err := ledger.Open(e.ctx, dbPath, ledger.Options{})
	if err != nil {
		return err
	}
	defer l.Close()
	// A row still sending is in flight while the run that claimed it holds
	// the ledger; otherwise that run stopped before the server answered
	// (killed, or the machine went down), and the row is unknown, as the
	// next send will record it. The lock is read before and after the
	// rows, so that a run ending or starting meanwhile is not taken for
	// one that stopped.
	before, lockErr := ledger.CheckRun(dbPath)
	counts, err := l.Summary(e.ctx, wave)
	if err != nil {
		return err
	}
	fails, err := l.Failures(e.ctx, wave)
	if err != nil {
		return err
	}
	after, err := ledger.CheckRun(dbPath)
	lockErr = cmp.Or(err, lockErr)
	inFlight := func(s ledger.Send) bool {
		for _, st := range []ledger.RunState{before, after} {
			if st.Running && (st.Started.IsZero() || !s.LastAttemptAt.Before(st.Started)) {
				return true // claimed by the lock's holder, or cannot tell
			}
		}
		return false
	}
	type row struct{ wave, audience string }
	left := map[row]int{}
	var nLeft, nLive int
	for i, f := range fails {
		if f.Status != ledger.StatusSending {
			continue
		}
		if inFlight(f) {
			nLive++
			continue
		}
		nLeft++
		left[row{f.Wave, f.Audience}]++
		fails[i].Status = ledger.StatusUnknown
		fails[i].LastError = "a run stopped while sending it, before the server answered"
		for _, st := range []ledger.RunState{after, before} {
			if st.Stopped {
				fails[i].LastError += " (" + st.Owner + ")"
				break
			}
		}
	}
	invites, err := e.inviteStatus(p, l, wave)
	if err != nil {
		return err
	}
	var rows []row
	byRow := map[row]map[ledger.Status]int{}
	for _, c := range counts {
		r := row{c.Wave, c.Audience}
		if byRow[r] == nil {
			byRow[r] = map[ledger.Status]int{}
			rows = append(rows, r)
		}
		byRow[r][c.Status] += c.N
	}
	for r, n := range left {
		if byRow[r] == nil {
			continue
		}
		n = min(n, byRow[r][ledger.StatusSending]) // a claim made between the two reads
		byRow[r][ledger.StatusSending] -= n
		byRow[r][ledger.StatusUnknown] += n
	}
	if len(rows) == 0 {
		if !invites {
			fmt.Fprintln(e.stdout, "nothing sent yet")
		}
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "WAVE\tAUDIENCE\t")
	for _, s := range statusOrder {
		fmt.Fprintf(tw, "%s\t", strings.ToUpper(string(s)))
	}
	fmt.Fprintln(tw)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t", r.wave, r.audience)
		for _, s := range statusOrder {
			fmt.Fprintf(tw, "%d\t", byRow[r][s])
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// The failures, then the unknown, then those still pending after a
	// temporary failure, each under its own heading so that the lists
	// agree with the columns above.
	for _, group := range []struct {
		status  ledger.Status
		heading string
	}{
		{ledger.StatusFailed, "failed"},
		{ledger.StatusUnknown, "unknown"},
		{ledger.StatusPending, "pending after a temporary failure (tried again on the next run)"},
	} {
		var list []ledger.Send
		for _, f := range fails {
			if f.Status == group.status {
				list = append(list, f)
			}
		}
		if len(list) == 0 {
			continue
		}
		fmt.Fprintf(e.stdout, "\n%s (%d):\n", group.heading, len(list))
		tw = tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		for _, f := range list {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", f.Wave, f.UPN, f.LastError)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	unknown := nLeft
	for _, c := range counts {
		if c.Status == ledger.StatusUnknown {
			unknown += c.N
		}
	}
	if unknown > 0 {
		fmt.Fprintf(e.stdout, "\n%d unknown: a run stopped while handing them to the server; they may or may not have arrived. nudge send WAVE --retry-unknown sends them again.\n", unknown)
	}
	if nLeft > 0 {
		fmt.Fprintf(e.stdout, "(%d of them still marked sending in the ledger: the next nudge send records them as unknown.)\n", nLeft)
	}
	if nLive > 0 {
		st := after
		if !st.Running {
			st = before
		}
		switch {
		case st.Checked:
			fmt.Fprintf(e.stdout, "\n%d being sent now by a nudge running on this machine (%s).\n", nLive, st.Owner)
		case lockErr != nil:
			fmt.Fprintf(e.stdout, "\n%d marked sending, and the run lock cannot be read (%v): if no nudge is running, delete %s; the next nudge send then records them as unknown.\n", nLive, lockErr, st.Path)
		default:
			who := "names no process"
			if st.Owner != "" {
				who = "names " + st.Owner
			}
			fmt.Fprintf(e.stdout, "\n%d marked sending: the run lock %s, which nudge cannot check from here. If no nudge is running, delete %s; the next nudge send then records them as unknown.\n", nLive, who, st.Path)
		}
	}
	return nil
}

// inviteStatus prints, for each invitation wave (sessions: true), what the
// invitees' calendars show per session: invited (with the latest SEQUENCE
// sent), cancelled, and unknown (a run stopped while sending).
// It reports whether it printed anything.
func (e *env) inviteStatus(p *project, l *ledger.Ledger, wave string) (printed bool, err error) {
	for _, w := range p.c.Waves {
		if !w.Sessions || (wave != "" && w.ID != wave) {
			continue
		}
		st, err := l.Invites(e.ctx, w.ID)
		if err != nil {
			return printed, err
		}
		if len(st.Sent) == 0 && len(st.Unknown) == 0 {
			continue
		}
		type row struct{ invited, cancelled, unknown, sequence int }
		rows := map[string]*row{}
		var order []string
		get := func(session string) *row {
			if rows[session] == nil {
				rows[session] = &row{}
				order = append(order, session)
			}
			return rows[session]
		}
		for _, inv := range st.Sent {
			r := get(inv.Session)
			if inv.Cancelled {
				r.cancelled++
			} else {
				r.invited++
			}
			r.sequence = max(r.sequence, inv.Sequence)
		}
		for _, inv := range st.Unknown {
			get(inv.Session).unknown++
		}
		slices.Sort(order)
		fmt.Fprintf(e.stdout, "invitations of wave %s, as the invitees' calendars show them:\n", w.ID)
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprint(tw, "SESSION\tINVITED\tCANCELLED\tUNKNOWN\tSEQUENCE\t\n")
		for _, id := range order {
			r := rows[id]
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t\n", id, r.invited, r.cancelled, r.unknown, r.sequence)
		}
		if err := tw.Flush(); err != nil {
			return printed, err
		}
		fmt.Fprintln(e.stdout)
		printed = true
	}
	return printed, nil
}
