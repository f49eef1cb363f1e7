package main

import (
	"context"
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/readiness"
)

type readinessOptions struct {
	source string
	json   bool
}

func newReadinessCmd(e *env) *cobra.Command {
	o := &readinessOptions{}
	cmd := &cobra.Command{
		Use:   "readiness",
		Short: "Check whether Entra's own registration campaign will prompt people for passkeys",
		Long: `readiness checks the tenant against Microsoft's criteria for its own passkey
registration campaign (the prompt after an MFA sign-in): the Passkey (FIDO2)
method enabled with self-service setup, the campaign Microsoft managed or
Enabled and targeting passkeys, an eligible passkey profile for the people it
targets, and nobody excluded who should not be. Each row says what was found
and, when it fails, what to change where in the Entra admin center.

It also counts whom the prompt can reach (the microsoftNudge audience field),
who still needs the campaign's own messages, who needs a Temporary Access
Pass, and which Conditional Access policies force phishing-resistant sign-in
on whom. It says what it cannot know, such as the devices people use.

Exit status: 0 when every criterion passes (warnings allowed), 1 when one
fails or cannot be confirmed, 2 for a wrong command line.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runReadiness(e, o) },
	}
	sourceFlag(cmd.Flags(), &o.source)
	cmd.Flags().BoolVar(&o.json, "json", false, "write the report as JSON")
	return cmd
}

func runReadiness(e *env, o *readinessOptions) error {
	p, err := e.loadCampaign()
	if err != nil {
		return err
	}
	src, name, err := e.source(p, o.source)
	if err != nil {
		return err
	}
	// Everyone, guests and disabled accounts included: the campaign's own
	// exclusions do not change whom Entra prompts.
	var t readiness.Tally
	d, err := stream(e.ctx, src, func(person *directory.Person) error {
		t.Add(person)
		return nil
	})
	if err != nil {
		return err
	}
	r := t.Report(d)
	r.Source = name
	if o.json {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(r)
	} else {
		err = readiness.WriteText(e.stdout, r)
	}
	if err != nil {
		return err
	}
	if !r.Passed() {
		return errSilent
	}
	return nil
}

// stream hands every person of src to each, one at a time when the source
// can stream, and returns the directory without its people.
func stream(ctx context.Context, src directory.Source, each func(*directory.Person) error) (*directory.Directory, error) {
	if st, ok := src.(directory.Streamer); ok {
		return st.Stream(ctx, each)
	}
	d, err := src.Load(ctx)
	for i := 0; err == nil && i < len(d.People); i++ {
		err = each(&d.People[i])
	}
	if err != nil {
		return nil, err
	}
	d.People = nil
	return d, nil
}
