package campaign

import "slices"

// GraphMail says how `nudge send --via graph` hands messages to Microsoft
// Graph's sendMail.
type GraphMail struct {
	// Format is mime (the default: nudge's own message exactly, with its
	// Message-ID, plain-text part and attachments) or json (Graph's message
	// resource: the HTML body only, X- headers only).
	Format string `yaml:"format"`
	// SaveToSentItems keeps a copy of each message in the sending
	// mailbox's Sent Items; false when not set. Only format json can
	// leave it out: Exchange keeps every message sent as MIME.
	SaveToSentItems *bool `yaml:"save_to_sent_items"`
}

// GraphMailFormats are the values of graph_mail.format.
var GraphMailFormats = []string{"mime", "json"}

func (c *Campaign) validateGraphMail(add func(path, format string, args ...any)) {
	g := &c.GraphMail
	switch {
	case g.Format != "" && !slices.Contains(GraphMailFormats, g.Format):
		add("graph_mail.format", "graph_mail.format: %q: use mime or json%s", g.Format, didYouMean(g.Format, GraphMailFormats))
	case g.Format != "json" && g.SaveToSentItems != nil && !*g.SaveToSentItems:
		add("graph_mail.save_to_sent_items", "graph_mail.save_to_sent_items: false needs format: json: Exchange keeps a copy of every message sent as MIME in Sent Items (json leaves it out, but sends the HTML without its plain-text part)")
	}
}
