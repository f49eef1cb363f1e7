package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/nudge-passkeys/nudge/internal/campaign"
	"github.com/nudge-passkeys/nudge/internal/deliver"
	"github.com/nudge-passkeys/nudge/internal/deliver/graphmail"
	"github.com/nudge-passkeys/nudge/internal/graph"
	"github.com/nudge-passkeys/nudge/internal/ledger"
)

// graphRoute sends through Microsoft Graph's sendMail: one mailbox per
// sending mailbox of the campaign (sender:, or senders:), each with its own
// caps from pacing:, all through one client signed in with the graph:
// section. Exchange applies the same per-mailbox limits as to SMTP.
func (e *env) graphRoute(p *project) (*route, error) {
	c := p.c
	if c.Graph == (campaign.Graph{}) {
		return nil, withHint(fmt.Errorf("%s: --via graph needs a graph: section to sign in with", c.File),
			"add graph: with tenant_id, client_id and auth for nudge's app registration (the README shows one); the app needs the Mail.Send application permission with admin consent")
	}
	client, err := e.graphClient(p)
	if err != nil {
		return nil, err
	}
	o := graph.MailOptions{JSON: c.GraphMail.Format == "json"}
	if c.GraphMail.SaveToSentItems != nil {
		o.SaveToSentItems = *c.GraphMail.SaveToSentItems
	}
	var boxes []deliver.Mailbox
	for _, mb := range c.Mailboxes() {
		boxes = append(boxes, deliver.Mailbox{
			Address: mb.Address,
			Sender:  graphmail.New(client, mb.Address, o),
			Limits:  deliver.Limits{PerMinute: mb.RatePerMinute, PerDay: mb.PerDay},
		})
	}
	format := "MIME"
	if o.JSON {
		format = "JSON, HTML only"
	}
	return &route{
		via:   ledger.ViaGraph,
		name:  fmt.Sprintf("Microsoft Graph sendMail (%s)", format),
		boxes: boxes,
		close: func() {},
		check: func(ctx context.Context) error {
			err := client.CheckSignIn(ctx)
			if err == nil {
				return nil
			}
			hint := "check the graph: section of " + c.File
			var ge *graph.Error
			if errors.As(err, &ge) && ge.Hint != "" {
				hint = ge.Hint
			}
			return withHint(err, "%s; nothing was sent or recorded", hint)
		},
	}, nil
}
