package render

import (
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/nudge-passkeys/nudge/internal/campaign"
	"github.com/nudge-passkeys/nudge/internal/untrusted"
)

// buttonTitle marks a Markdown link written by the button helper; the
// renderer turns it into a styled call to action and drops the title.
const buttonTitle = "nudge:button"

// markdownFuncs are the helpers of Markdown bodies. They return Markdown
// source, escaping what they are given.
func markdownFuncs(c *campaign.Campaign, locale string) map[string]any {
	return map[string]any{
		"button": func(label, href any) (string, error) {
			u, err := checkLink(raw(href))
			if err != nil {
				return "", fmt.Errorf("button: %w", err)
			}
			return "[" + escapeMarkdown(raw(label)) + "](<" + u + "> \"" + buttonTitle + "\")", nil
		},
		"link": func(label, href any) (string, error) {
			u, err := checkLink(raw(href))
			if err != nil {
				return "", fmt.Errorf("link: %w", err)
			}
			return "[" + escapeMarkdown(raw(label)) + "](<" + u + ">)", nil
		},
		"mailto": func(addr any) (string, error) {
			a := raw(addr)
			if a == "" || strings.ContainsAny(a, " <>\r\n\"") || !strings.Contains(a, "@") {
				return "", fmt.Errorf("mailto: %q is not an email address", a)
			}
			return "[" + escapeMarkdown(a) + "](<mailto:" + url.PathEscape(a) + ">)", nil
		},
		"guide": func(page any) (string, error) { return guideURL(c, locale, "", raw(page)) },
		"date":  func(t any) (string, error) { return formatDate(t, locale) },
	}
}

// lineFuncs are the helpers of subjects and preheaders: plain text.
func lineFuncs(c *campaign.Campaign, locale string) map[string]any {
	noLinks := func(name string) func(...any) (string, error) {
		return func(...any) (string, error) {
			return "", fmt.Errorf("%s: links cannot go in a subject or preheader", name)
		}
	}
	return map[string]any{
		"button": noLinks("button"),
		"link":   noLinks("link"),
		"mailto": func(addr any) string { return untrusted.OneLine(raw(addr)) },
		"guide":  func(page any) (string, error) { return guideURL(c, locale, "", raw(page)) },
		"date":   func(t any) (string, error) { return formatDate(t, locale) },
	}
}

// guideFuncs are the guide helpers bound to one audience, for subjects and
// preheaders (line) and for Markdown bodies (md).
func guideFuncs(c *campaign.Campaign, locale, audience string) (line, md map[string]any) {
	f := func(page any) (string, error) { return guideURL(c, locale, audience, raw(page)) }
	return map[string]any{"guide": f}, map[string]any{"guide": f}
}

// GuideFile is where guide page of the site for locale and audience lives,
// relative to the guide site's root (output/<campaign>/guides/, published
// at links.guides).
func GuideFile(locale, audience, page string) string {
	return locale + "/" + audience + "/" + page + ".html"
}

// ValidGuideName reports whether page can name a guide page.
func ValidGuideName(page string) bool {
	if page == "" {
		return false
	}
	for _, r := range page {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

func guideURL(c *campaign.Campaign, locale, audience, page string) (string, error) {
	if c.Links.Guides == "" {
		return "", fmt.Errorf("guide %q: links.guides is not set in the campaign file", page)
	}
	if !ValidGuideName(page) {
		return "", fmt.Errorf("guide %q: give a page name such as authenticator (lower-case letters, digits, -)", page)
	}
	if audience == "" {
		// Only the shared footer renders without an audience: the guide
		// sites are per audience.
		return "", fmt.Errorf("guide %q: no audience to link for (the footer is shared by every audience: link to guides from the email body)", page)
	}
	return c.Links.Guides + GuideFile(locale, audience, page), nil
}

// checkedLinks remembers checkLink's answers: templates link to the same
// few URLs for everyone.
var checkedLinks sync.Map // string → string

// destination escapes what cannot stand in a Markdown <...> destination.
var destination = strings.NewReplacer("<", "%3C", ">", "%3E", "\\", "%5C", " ", "%20")

// checkLink accepts absolute https and mailto links only (emails must not
// send people to relative or cleartext URLs), and returns the URL in a form
// safe inside a Markdown <...> destination.
func checkLink(s string) (string, error) {
	if v, ok := checkedLinks.Load(s); ok {
		return v.(string), nil
	}
	out, err := parseLink(s)
	if err == nil {
		checkedLinks.Store(s, out)
	}
	return out, err
}

func parseLink(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return "", fmt.Errorf("%q is not a URL", s)
	}
	switch {
	case u.Scheme == "https" && u.Host != "":
	case u.Scheme == "mailto" && u.Opaque != "":
	default:
		return "", fmt.Errorf("%q: links must be absolute https:// (or mailto:) URLs", s)
	}
	return destination.Replace(u.String()), nil
}

var months = map[string][12]string{
	"en": {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
	"fr": {"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"},
	"de": {"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"},
	"es": {"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"},
	"it": {"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"},
	"nl": {"januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"},
	"pt": {"janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro", "novembro", "dezembro"},
}

// FormatDate writes a day the way locale writes it in running text, as
// the templates' date function does ("7 December 2026", "1er décembre
// 2026", "7. Dezember 2026"); ISO 8601 for a locale it has no month names
// for, and "" for the zero time.
func FormatDate(t time.Time, locale string) string {
	s, _ := formatDate(t, locale)
	return s
}

// formatDate writes a date the way the locale writes it in running text.
func formatDate(v any, locale string) (string, error) {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case campaign.Date:
		t = x.Time
	case *time.Time:
		if x != nil {
			t = *x
		}
	default:
		return "", fmt.Errorf("date: want a date, got %T", v)
	}
	if t.IsZero() {
		return "", fmt.Errorf("date: the date is not set (guard it with {{ if not .Campaign.Deadline.IsZero }})")
	}
	m, ok := months[locale]
	if !ok {
		return t.Format(time.DateOnly), nil
	}
	month := m[t.Month()-1]
	switch locale {
	case "de":
		return fmt.Sprintf("%d. %s %d", t.Day(), month, t.Year()), nil
	case "en":
		return fmt.Sprintf("%d %s %d", t.Day(), month, t.Year()), nil
	case "fr":
		if t.Day() == 1 {
			return fmt.Sprintf("1er %s %d", month, t.Year()), nil
		}
		return fmt.Sprintf("%d %s %d", t.Day(), month, t.Year()), nil
	case "es", "pt":
		return fmt.Sprintf("%d de %s de %d", t.Day(), month, t.Year()), nil
	default:
		return fmt.Sprintf("%d %s %d", t.Day(), month, t.Year()), nil
	}
}
