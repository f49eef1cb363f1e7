package campaign_test

import (
	"strings"
	"testing"

	"github.com/nudge-passkeys/nudge/internal/campaign"
)

func TestHandoutsSettings(t *testing.T) {
	c := mustParse(t, minimal+"handouts:\n  layout: a4-4up\n  site_links:\n    Paris La Défense: https://aka.ms/mysecurityinfo?site=pld\n")
	if c.Handouts.Layout != "a4-4up" {
		t.Errorf("layout = %q", c.Handouts.Layout)
	}
	for site, want := range map[string]string{
		"paris la défense ": "https://aka.ms/mysecurityinfo?site=pld", // case and spaces do not matter
		"London":            campaign.DefaultRegisterLink,
		"":                  campaign.DefaultRegisterLink,
	} {
		if got := c.RegisterLink(site); got != want {
			t.Errorf("RegisterLink(%q) = %q, want %q", site, got, want)
		}
	}
	for _, tc := range []struct{ yaml, want string }{
		{"handouts:\n  site_links:\n    Paris: http://aka.ms/x\n", `handouts.site_links.Paris: "http://aka.ms/x": use https`},
		{"handouts:\n  site_links:\n    Paris: javascript:alert(1)\n", `handouts.site_links.Paris: "javascript:alert(1)" is not an absolute URL`},
		{"handouts:\n  site_link: {}\n", `unknown key "site_link" in handouts`},
	} {
		_, err := campaign.Parse("campaign.yaml", []byte(minimal+tc.yaml))
		ps := problems(t, err)
		if len(ps) != 1 || !strings.Contains(ps[0].Msg, tc.want) || ps[0].Line < 14 {
			t.Errorf("%q: problems %v, want one from line 14 on with %q", tc.yaml, ps, tc.want)
		}
	}
}
