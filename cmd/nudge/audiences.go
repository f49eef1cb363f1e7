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
	"github.com/nudge-passkeys/nudge/internal/untrusted"
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
	sourceFlag(cmd.Flags(), &o.source)
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
	var (
		dir     = filepath.Join(e.campaignDir(p), "audiences")
		files   = map[string]*atomicfile.File{}
		writers = map[string]*csv.Writer{}
	)
	if o.csv {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		for _, a := range p.c.Audiences {
			f, err := atomicfile.Create(filepath.Join(dir, a.Name+".csv"), 0o644)
			if err != nil {
				return err
			}
			defer f.Abort()
			files[a.Name] = f
			if writers[a.Name], err = newPeopleCSV(f); err != nil {
				return err
			}
		}
	}
	s, err := e.eachPerson(p, o.source, func(person *directory.Person, matched []string) error {
		for _, m := range matched {
			if w := writers[m]; w != nil {
				if err := writePersonCSV(w, person); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "campaign %s: %d people from %s\n\n", p.c.ID, s.tally.people, s.sourceName)
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "AUDIENCE\tPEOPLE\tRULE\tDESCRIPTION")
	for _, a := range p.c.Audiences {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", a.Name, s.tally.members[a.Name], a.Where, a.Description)
	}
	fmt.Fprintf(tw, "(none)\t%d\t\tin no audience\n", s.tally.unmatched)
	for _, reason := range []string{audience.ReasonDisabled, audience.ReasonGuest, audience.ReasonListed} {
		if n := s.tally.excluded[reason]; n > 0 {
			fmt.Fprintf(tw, "(excluded)\t%d\t\t%s\n", n, reason)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if !o.csv {
		return nil
	}
	fmt.Fprintln(e.stdout)
	for _, a := range p.c.Audiences {
		w := writers[a.Name]
		w.Flush()
		if err := w.Error(); err != nil {
			return err
		}
		if err := files[a.Name].Commit(); err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, filepath.Join(dir, a.Name+".csv"))
	}
	return nil
}

var csvHeader = []string{"userPrincipalName", "mail", "displayName", "givenName", "surname", "department", "jobTitle", "officeLocation", "preferredLanguage", "usageLocation", "isAdmin", "isMfaCapable", "hasPasskey", "methodsRegistered"}

// newPeopleCSV starts a UTF-8 CSV of people, with a byte order mark so
// that Excel on Windows reads it as UTF-8.
func newPeopleCSV(w io.Writer) (*csv.Writer, error) {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return nil, err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return cw, cw.Write(csvHeader)
}

func writePersonCSV(cw *csv.Writer, p *directory.Person) error {
	rec := []string{p.UserPrincipalName, p.Mail, p.DisplayName, p.GivenName, p.Surname, p.Department, p.JobTitle, p.OfficeLocation, p.PreferredLanguage, p.UsageLocation,
		fmt.Sprint(p.IsAdmin), fmt.Sprint(p.IsMFACapable), fmt.Sprint(p.HasPasskey()), strings.Join(p.MethodsRegistered, " ")}
	for k := range rec {
		rec[k] = untrusted.Cell(rec[k])
	}
	return cw.Write(rec)
}
