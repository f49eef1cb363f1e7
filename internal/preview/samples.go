package preview

import (
	"strings"

	"github.com/nudge-passkeys/nudge/internal/directory"
)

// samplePrefix marks a built-in sample in the person parameter.
const samplePrefix = "sample:"

// sample is a built-in person with a name that tests a template's edges.
type sample struct {
	id, label, name string
}

// samples are names from the shared hostile-names corpus
// (internal/testcorpus/hostile-names.json, which a test holds this list
// to): long, right-to-left and hostile ones, so authors see how their
// templates cope before a real person with such a name gets the email.
var samples = []sample{
	{"long", "Long name", strings.Repeat("Maximilian ", 27) + "Long"},
	{"arabic", "Right-to-left (Arabic)", "مريم العلي"},
	{"hebrew", "Right-to-left (Hebrew)", "דנה כהן"},
	{"rtl-override", "Right-to-left override", "Ann\u202egnp.exe"},
	{"cjk", "Japanese", "山田 太郎"},
	{"emoji-zwj", "Emoji", "Zoë 👩\u200d💻"},
	{"html-img", "Hostile: HTML image", "<img src=x onerror=alert(1)>"},
	{"html-script", "Hostile: script", "</td></tr></table><script>alert('x')</script>"},
	{"markdown-link", "Hostile: Markdown link", "[click here](https://evil.example/login)"},
	{"go-template", "Hostile: template action", "{{.Secret}}{{template \"x\"}}"},
	{"header-crlf", "Hostile: header line", "Ann\r\nBcc: x@evil.example"},
	{"quote-apostrophe", "Quotes and ampersand", "O'Brien \"Ned\" & <Co>"},
}

// samplePerson returns the built-in sample id as a person.
func samplePerson(id string) (*directory.Person, bool) {
	for _, s := range samples {
		if s.id == id {
			return &directory.Person{
				ID: samplePrefix + s.id, UserPrincipalName: "sample." + s.id + "@example.com", Mail: "sample." + s.id + "@example.com",
				DisplayName: s.name, GivenName: s.name,
				PreferredLanguage: "en", AccountEnabled: true, UserType: "Member",
				HasRegistration: true, IsMFACapable: true, IsMFARegistered: true,
				MethodsRegistered: []string{directory.MethodAuthenticatorPush},
			}, true
		}
	}
	return nil, false
}
