package campaign_test

import (
	"strings"
	"testing"

	"github.com/nudge-passkeys/nudge/internal/campaign"
)

func TestParseGraphMail(t *testing.T) {
	c := mustParse(t, minimal)
	if c.GraphMail.Format != "" || c.GraphMail.SaveToSentItems != nil {
		t.Errorf("default graph_mail %+v, want unset (mime, no choice of Sent Items)", c.GraphMail)
	}
	c = mustParse(t, minimal+"graph_mail:\n  format: json\n  save_to_sent_items: false\n")
	if c.GraphMail.Format != "json" || c.GraphMail.SaveToSentItems == nil || *c.GraphMail.SaveToSentItems {
		t.Errorf("graph_mail %+v", c.GraphMail)
	}
	mustParse(t, minimal+"graph_mail:\n  save_to_sent_items: true\n")

	for _, tc := range []struct{ yaml, want string }{
		{"graph_mail:\n  format: jsn\n", `graph_mail.format: "jsn": use mime or json (did you mean "json"?)`},
		{"graph_mail:\n  save_to_sent_items: false\n", "save_to_sent_items: false needs format: json"},
		{"graph_mail:\n  format: mime\n  save_to_sent_items: false\n", "Exchange keeps a copy of every message sent as MIME"},
		{"graph_mail:\n  save_to_sent: false\n", `unknown key "save_to_sent" in graph_mail`},
	} {
		_, err := campaign.Parse("campaign.yaml", []byte(minimal+tc.yaml))
		ps := problems(t, err)
		// graph_mail: is line 14 of the file. (The line given for a value
		// in a nested mapping is sometimes its parent's: see yamlpos.go.)
		if len(ps) != 1 || !strings.Contains(ps[0].Msg, tc.want) || ps[0].Line < 14 {
			t.Errorf("%q: problems %v, want one in graph_mail (line 14 on) with %q", tc.yaml, ps, tc.want)
		}
	}
}
