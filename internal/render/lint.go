package render

// Lint policy: an email must not look like phishing and must survive the
// clients it lands in. Links go only to the registration page and the
// organisation's own pages, over https; images carry alt text and absolute
// URLs; the HTML stays under Gmail's clipping size.

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/nudge-passkeys/nudge/internal/campaign"
)

// MaxHTML is the largest HTML part that Gmail shows without clipping it
// (it clips past about 102 KB).
const MaxHTML = 100 << 10

// MaxSubject is the subject length beyond which phones cut it off.
const MaxSubject = 78

// Finding is one lint result.
type Finding struct {
	Error bool // an error fails `nudge check`; otherwise a warning
	Msg   string
}

func (f Finding) String() string {
	if f.Error {
		return "error: " + f.Msg
	}
	return "warning: " + f.Msg
}

// AllowedHosts are the hosts emails may link to: the registration page's
// and the organisation's own, from the campaign file.
func AllowedHosts(c *campaign.Campaign) []string {
	var hosts []string
	for _, s := range []string{c.Links.Register, c.Links.Guides, c.Links.Verify, c.Helpdesk.URL, c.Organisation.Website} {
		if u, err := url.Parse(s); err == nil && u.Host != "" {
			hosts = append(hosts, strings.ToLower(u.Hostname()))
		}
	}
	return hosts
}

// Lint checks a rendered email.
func Lint(doc *Document, allowed []string) []Finding {
	var fs []Finding
	add := func(isErr bool, format string, args ...any) {
		fs = append(fs, Finding{Error: isErr, Msg: fmt.Sprintf(format, args...)})
	}
	if strings.TrimSpace(doc.Subject) == "" {
		add(true, "the subject is empty")
	}
	if n := len([]rune(doc.Subject)); n > MaxSubject {
		add(false, "the subject is %d characters; phones show about %d", n, MaxSubject)
	}
	if n := len(doc.HTML); n > MaxHTML {
		add(true, "the HTML is %d KB; Gmail clips messages over about 102 KB", n>>10)
	}
	_ = EachElement(doc.HTML, func(el Element) error {
		switch el.Tag {
		case "img":
			src, _ := el.Attr("src")
			if alt, ok := el.Attr("alt"); !ok || strings.TrimSpace(alt) == "" {
				add(true, "image %s has no alt text", src)
			}
			if u, err := url.Parse(src); err != nil || u.Scheme != "https" || u.Host == "" {
				add(true, "image %q: use an absolute https URL", src)
			}
		case "a":
			href, ok := el.Attr("href")
			if !ok {
				return nil
			}
			u, err := url.Parse(href)
			switch {
			case err != nil:
				add(true, "link %q is not a URL", href)
			case u.Scheme == "mailto":
			case u.Scheme == "http":
				add(true, "link %s: use https", href)
			case u.Scheme != "https" || u.Host == "":
				add(true, "link %q: links must be absolute https URLs", href)
			case !hostAllowed(u.Hostname(), allowed):
				add(true, "link to %s: emails may link only to the registration page and the organisation's own pages (%s), or they look like phishing", u.Hostname(), strings.Join(allowed, ", "))
			}
		case "script", "iframe", "form", "object", "embed":
			add(true, "<%s> has no place in an email", el.Tag)
		}
		return nil
	})
	return fs
}

func hostAllowed(host string, allowed []string) bool {
	host = strings.ToLower(host)
	for _, a := range allowed {
		if host == a {
			return true
		}
	}
	return false
}
