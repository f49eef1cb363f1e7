package render

import (
	"strings"
	"sync"
	"testing"
	"testing/fstest"
)

// TestGuideLinkPerAudience: {{ guide }} in an email links to the reader's
// language and audience, also when audiences render at the same time.
func TestGuideLinkPerAudience(t *testing.T) {
	fsys := fstest.MapFS{
		"layouts/email.html":    {Data: []byte(`<html lang="{{ .Lang }}"><body>{{ .Body }}</body></html>`)},
		"emails/en/announce.md": {Data: []byte("---\nkind: email\nsubject: \"{{ guide \\\"faq\\\" }}\"\n---\n{{ link \"FAQ\" (guide \"faq\") }}\n")},
	}
	e := New(fsys, "templates", testCampaign(t))
	var wg sync.WaitGroup
	for _, aud := range []string{"ready", "onboard", "admins", "done"} {
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				doc, err := e.EmailIn("announce", "en", person("Ann", "Ann"), Context{WaveID: "w", Audience: aud})
				if err != nil {
					t.Error(err)
					return
				}
				want := "https://intranet.contoso.example/passkeys/en/" + aud + "/faq.html"
				if doc.Subject != want || !strings.Contains(doc.HTML, `href="`+want+`"`) {
					t.Errorf("audience %s: subject %q, HTML %s; want links to %s", aud, doc.Subject, doc.HTML, want)
				}
			}()
		}
	}
	wg.Wait()
	if _, err := e.EmailIn("announce", "en", person("Ann", "Ann"), Context{WaveID: "w"}); err == nil || !strings.Contains(err.Error(), "no audience") {
		t.Errorf("no audience: err = %v, want one saying there is no audience", err)
	}
}
