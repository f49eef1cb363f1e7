package main

import (
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
	counts, err := l.Summary(e.ctx, wave)
	if err != nil {
		return err
	}
	// A row still sending is in flight while a run holds the ledger; with
	// no run, the one that sent it stopped before the server answered
	// (killed, or the machine went down), and it is unknown, as the next
	// send will record it.
	run, err := ledger.CheckRun(dbPath)
	if err != nil {
		return err
	}
	var sending, left int
	for i, c := range counts {
		if c.Status != ledger.StatusSending {
			continue
		}
		sending += c.N
		if !run.Running {
			counts[i].Status = ledger.StatusUnknown
			left += c.N
		}
	}
	invites, err := e.inviteStatus(p, l, wave)
	if err != nil {
		return err
	}
	type row struct{ wave, audience string }
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
	fails, err := l.Failures(e.ctx, wave)
	if err != nil {
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
			if f.Status == ledger.StatusSending && left > 0 {
				f.Status = ledger.StatusUnknown
				f.LastError = "a run stopped while sending it, before the server answered"
				if run.Owner != "" {
					f.LastError += " (" + run.Owner + ")"
				}
			}
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
	var unknown int
	for _, c := range counts {
		if c.Status == ledger.StatusUnknown {
			unknown += c.N
		}
	}
	if unknown > 0 {
		fmt.Fprintf(e.stdout, "\n%d unknown: a run stopped while handing them to the server; they may or may not have arrived. nudge send WAVE --retry-unknown sends them again.\n", unknown)
	}
	if left > 0 {
		fmt.Fprintf(e.stdout, "(%d of them still marked sending in the ledger: the next nudge send records them as unknown.)\n", left)
	}
	if sending > 0 && run.Running {
		who := "another nudge"
		if run.Owner != "" {
			who = "a nudge running now (" + run.Owner + ")"
		}
		fmt.Fprintf(e.stdout, "\n%d being sent by %s.\n", sending, who)
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
