package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/nudge-passkeys/nudge/internal/campaign"
	"github.com/nudge-passkeys/nudge/internal/deliver"
	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/render"
)

// compose turns a rendered document into the message for one person.
func compose(c *campaign.Campaign, w *campaign.Wave, p *directory.Person, doc *render.Document, now time.Time) *deliver.Message {
	m := &deliver.Message{
		ID:      deliver.MessageID(deliver.Domain(c.Sender.Address), c.ID, w.ID, p.ID),
		Date:    now,
		From:    deliver.Address{Name: c.Sender.Name, Email: c.Sender.Address},
		To:      deliver.Address{Name: p.DisplayName, Email: p.Mail},
		Subject: doc.Subject,
		Text:    doc.Text,
		HTML:    doc.HTML,
		Headers: []deliver.Header{
			{Name: "X-Nudge-Campaign", Value: c.ID},
			{Name: "X-Nudge-Wave", Value: w.ID},
			// Out-of-office replies to a campaign help nobody.
			{Name: "X-Auto-Response-Suppress", Value: "OOF, AutoReply"},
		},
	}
	if c.Sender.ReplyTo != "" {
		m.ReplyTo = &deliver.Address{Email: c.Sender.ReplyTo}
	}
	return m
}

// mailProblem says why a person cannot be emailed, or "" when they can.
func mailProblem(p *directory.Person) string {
	if strings.TrimSpace(p.Mail) == "" {
		return "no mail address"
	}
	if deliver.CheckAddress(p.Mail) != nil {
		return fmt.Sprintf("mail address %q is not valid", p.Mail)
	}
	return ""
}

// addresses decides who in a wave can be emailed: someone with a usable
// mail address, and one message per address (two accounts sharing a
// mailbox get one).
type addresses struct{ seen *idSet }

func newAddresses() *addresses { return &addresses{seen: newIDSet()} }

// admit returns why person cannot get the wave's message, or "" when they
// can, taking their address for the wave.
func (a *addresses) admit(wave string, person *directory.Person) string {
	if why := mailProblem(person); why != "" {
		return why
	}
	key := wave + "\x00" + strings.ToLower(person.Mail)
	if a.seen.Has(key) {
		return "another person in this wave has mail address " + person.Mail + ": one message per address"
	}
	a.seen.Add(key)
	return ""
}
