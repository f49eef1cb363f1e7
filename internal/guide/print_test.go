package guide_test

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// TestPrintHTML: the printed guide holds every page of the site once,
// under its title, in the site's order; links between pages point into
// the document, the "add to calendar" links to their published address,
// and campaign values stay text.
func TestPrintHTML(t *testing.T) {
	s, _ := buildSessions(t)
	doc, err := s.PrintHTML("en", "onboard")
	if err != nil {
		t.Fatal(err)
	}
	page := string(doc)
	root, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var sections []string
	var hrefs []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			for _, a := range n.Attr {
				if n.Data == "section" && a.Key == "id" {
					sections = append(sections, a.Val)
				}
				if n.Data == "a" && a.Key == "href" {
					hrefs = append(hrefs, a.Val)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	if got := strings.Join(sections, " "); got != "p-index p-authenticator p-authenticator-ios p-authenticator-android p-security-key p-windows-hello p-temporary-access-pass p-troubleshooting p-sessions p-faq p-helpdesk" {
		t.Errorf("sections = %s", got)
	}
	ids := map[string]bool{}
	for _, id := range sections {
		ids["#"+id] = true
	}
	for _, h := range hrefs {
		switch {
		case strings.HasPrefix(h, "#"):
			if !ids[h] {
				t.Errorf("link %s to no section", h)
			}
		case strings.HasPrefix(h, "https://"), strings.HasPrefix(h, "mailto:"):
		default:
			t.Errorf("link %q is relative: it leads nowhere on paper", h)
		}
	}
	for _, want := range []string{
		`href="https://intranet.contoso.example/passkeys/en/sessions/s1.ics"`,
		`href="#p-temporary-access-pass"`, // the onboard index's link to the TAP page
		"These guides online: https://intranet.contoso.example/passkeys/en/onboard/index.html",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the printed guide lacks %s", want)
		}
	}
	if strings.Contains(page, "<img") {
		t.Error("the hostile session title became markup")
	}
	if !strings.Contains(strings.Join(strings.Fields(textOf(root)), " "), hostileTitle) {
		t.Error("the hostile session title is not shown as written")
	}
	if _, err := s.PrintHTML("en", "nobody"); err == nil {
		t.Error("PrintHTML of an audience without a site: no error")
	}
}
