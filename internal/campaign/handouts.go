package campaign

import (
	"sort"
	"strings"
)

// Handouts configures the printed key-kit inserts of `nudge handouts`.
type Handouts struct {
	// Layout is the layout used when --layout is not given: a6 (the
	// default), a4-4up, letter-4up or card.
	Layout string `yaml:"layout"`
	// SiteLinks maps an office location (officeLocation in Entra ID,
	// compared without regard to case) to the registration link printed
	// and encoded on that site's inserts, for sites that register through
	// their own page. Other sites use links.register.
	SiteLinks map[string]string `yaml:"site_links"`
}

// RegisterLink is the registration link for inserts printed for site.
func (c *Campaign) RegisterLink(site string) string {
	for s, link := range c.Handouts.SiteLinks {
		if strings.EqualFold(strings.TrimSpace(s), strings.TrimSpace(site)) {
			return link
		}
	}
	return c.Links.Register
}

func (c *Campaign) validateHandouts(add func(path, format string, args ...any)) {
	sites := make([]string, 0, len(c.Handouts.SiteLinks))
	for s := range c.Handouts.SiteLinks {
		sites = append(sites, s)
	}
	sort.Strings(sites)
	for _, s := range sites {
		path := "handouts.site_links." + s
		if strings.TrimSpace(s) == "" {
			add("handouts.site_links", "handouts.site_links: a site name is empty")
			continue
		}
		if err := CheckHTTPS(c.Handouts.SiteLinks[s]); err != nil {
			add(path, "%s: %v (the link is printed and encoded in a QR code)", path, err)
		}
	}
}
