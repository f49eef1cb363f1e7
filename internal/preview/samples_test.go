package preview

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestSamplesFromCorpus holds the built-in samples to the shared corpus of
// hostile names, so they cannot drift from what the rest of nudge is
// tested with.
func TestSamplesFromCorpus(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "testcorpus", "hostile-names.json"))
	if err != nil {
		t.Fatal(err)
	}
	var corpus []struct{ ID, DisplayName string }
	if err := json.Unmarshal(data, &corpus); err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, c := range corpus {
		names[c.ID] = c.DisplayName
	}
	for _, s := range samples {
		want, ok := names[s.id]
		if !ok {
			t.Errorf("sample %q is not in the corpus", s.id)
			continue
		}
		if s.name != want {
			t.Errorf("sample %q is %q, the corpus says %q", s.id, s.name, want)
		}
		p, ok := samplePerson(s.id)
		if !ok || p.DisplayName != want || p.ID != samplePrefix+s.id {
			t.Errorf("samplePerson(%q) = %+v", s.id, p)
		}
	}
	for _, kind := range []string{"long", "arabic", "hebrew", "html-img", "html-script"} {
		if _, ok := samplePerson(kind); !ok {
			t.Errorf("no built-in %s sample", kind)
		}
	}
}
