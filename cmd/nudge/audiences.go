package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/nudge-passkeys/nudge/internal/atomicfile"
	"github.com/nudge-passkeys/nudge/internal/audience"
	"github.com/nudge-passkeys/nudge/internal/directory"
)

type audiencesOptions struct {
	source string
	csv    bool
	fields bool
}

func newAudiencesCmd(e *env) *cobra.Command {
	o := &audiencesOptions{}
	cmd := &cobra.Command{
		Use:   "audiences",
		Short: "Show the audiences and who is in them; export them as CSV",
		Long: `audiences reads the directory and prints each audience of the campaign with
its rule and number of people, plus who is excluded and why.

--csv writes output/<campaign>/audiences/<audience>.csv, one row per person
(values that a spreadsheet would run as a formula are written as text).
--fields lists what an audience rule can use.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runAudiences(e, o) },
	}
	cmd.Flags().StringVar(&o.source, "source", "", "directory source: demo or snapshot:FOLDER (default: the campaign's source)")
	cmd.Flags().BoolVar(&o.csv, "csv", false, "also write one CSV file per audience")
	cmd.Flags().BoolVar(&o.fields, "fields", false, "list the fields and functions audience rules can use, and exit")
	return cmd
}

func runAudiences(e *env, o *audiencesOptions) error {
	if o.fields {
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tTYPE\tMEANING")
		for _, f := range append(audience.Fields(), audience.Functions()...) {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", f.Name, f.Type, f.Doc)
		}
		return tw.Flush()
	}
	p, err := e.loadCampaign()
	if err != nil {
		return err
	}
	l, err := e.loadPeople(p, o.source)
	if err != nil {
		return err
	}
	r := l.result
	fmt.Fprintf(e.stdout, "campaign %s: %d people from %s\n\n", p.c.ID, len(r.People), l.sourceName)
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "AUDIENCE\tPEOPLE\tRULE\tDESCRIPTION")
	for _, a := range p.c.Audiences {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", a.Name, len(r.Members(a.Name)), a.Where, a.Description)
	}
	fmt.Fprintf(tw, "(none)\t%d\t\tin no audience\n", len(r.Unmatched))
	reasons := map[string]int{}
	for _, x := range r.Excluded {
		reasons[x.Reason]++
	}
	for _, reason := range []string{audience.ReasonDisabled, audience.ReasonGuest, audience.ReasonListed} {
		if n := reasons[reason]; n > 0 {
			fmt.Fprintf(tw, "(excluded)\t%d\t\t%s\n", n, reason)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if !o.csv {
		return nil
	}
	dir := filepath.Join(e.campaignDir(p), "audiences")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout)
	for _, a := range p.c.Audiences {
		idx := r.Members(a.Name)
		path := filepath.Join(dir, a.Name+".csv")
		err := atomicfile.Write(path, 0o644, func(w io.Writer) error {
			return writePeopleCSV(w, r.People, idx)
		})
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, path)
	}
	return nil
}

var csvHeader = []string{"userPrincipalName", "mail", "displayName", "givenName", "surname", "department", "jobTitle", "officeLocation", "preferredLanguage", "usageLocation", "isAdmin", "isMfaCapable", "hasPasskey", "methodsRegistered"}

// writePeopleCSV writes a UTF-8 CSV (with a byte order mark, so Excel on
// Windows reads it as UTF-8) of the people at idx.
func writePeopleCSV(w io.Writer, people []directory.Person, idx []int) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, i := range idx {
		p := &people[i]
		rec := []string{p.UserPrincipalName, p.Mail, p.DisplayName, p.GivenName, p.Surname, p.Department, p.JobTitle, p.OfficeLocation, p.PreferredLanguage, p.UsageLocation,
			fmt.Sprint(p.IsAdmin), fmt.Sprint(p.IsMFACapable), fmt.Sprint(p.HasPasskey()), strings.Join(p.MethodsRegistered, " ")}
		for k := range rec {
			rec[k] = cellText(rec[k])
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// cellText keeps a directory value from being run as a spreadsheet formula:
// a value starting with = + - @ tab or CR gets a leading apostrophe, which
// spreadsheets show as text (OWASP's advice for CSV injection).
func cellText(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
