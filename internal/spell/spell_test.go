package spell

import "testing"

func TestClosest(t *testing.T) {
	keys := []string{"audiences", "waves", "template", "time_zone"}
	for _, tc := range []struct{ word, want string }{
		{"audiances", "audiences"},
		{"templte", "template"},
		{"TEMPLATE", "template"},
		{"tiem_zone", "time_zone"}, // a swap is one edit
		{"wavs", "waves"},
		{"colour", ""},
		{"", ""},
	} {
		if got := Closest(tc.word, keys); got != tc.want {
			t.Errorf("Closest(%q) = %q, want %q", tc.word, got, tc.want)
		}
	}
}

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"a", "", 1}, {"kitten", "sitting", 3}, {"ab", "ba", 1}, {"zoë", "zoe", 1},
	} {
		if got := Distance(tc.a, tc.b); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
