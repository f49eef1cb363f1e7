package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSetSessionKey: the edit changes the one value (or adds the one key)
// and not a byte more.
func TestSetSessionKey(t *testing.T) {
	const head = "campaign: qa # the id\nsessions:\n  list:\n"
	tests := []struct {
		name, src, id, key, value string
		want                      string // "" with wantErr
		wantErr                   bool
	}{
		{"double-quoted, comment kept", head + "    - id: s1\n      start: \"2026-12-03T10:00\"   # local\n",
			"s1", "start", `"2026-12-03T15:00"`, head + "    - id: s1\n      start: \"2026-12-03T15:00\"   # local\n", false},
		{"single-quoted with an escape", head + "    - id: s1\n      title: 'it''s'\n",
			"s1", "title", `"x"`, head + "    - id: s1\n      title: \"x\"\n", false},
		{"plain", head + "    - id: s1\n      start: 2026-12-03T10:00\n    - id: s2\n      start: 2026-12-03T10:00\n",
			"s2", "start", `"2026-12-04T10:00"`, head + "    - id: s1\n      start: 2026-12-03T10:00\n    - id: s2\n      start: \"2026-12-04T10:00\"\n", false},
		{"after multi-byte text on the line", head + "    - {title: \"Été ü\", id: s1, start: \"2026-12-03T10:00\"}\n",
			"s1", "start", `"2026-12-03T15:00"`, head + "    - {title: \"Été ü\", id: s1, start: \"2026-12-03T15:00\"}\n", false},
		{"added to a block mapping after the id", head + "    - id: s1 # first\n      capacity: 5\n",
			"s1", "cancelled", "true", head + "    - id: s1 # first\n      cancelled: true\n      capacity: 5\n", false},
		{"added to a flow mapping", head + "    - {id: s1, capacity: 5}\n",
			"s1", "cancelled", "true", head + "    - {id: s1, cancelled: true, capacity: 5}\n", false},
		{"existing false", head + "    - id: s1\n      cancelled: false\n",
			"s1", "cancelled", "true", head + "    - id: s1\n      cancelled: true\n", false},
		{"CRLF kept", "sessions:\r\n  list:\r\n    - id: s1\r\n      capacity: 5\r\n",
			"s1", "cancelled", "true", "sessions:\r\n  list:\r\n    - id: s1\r\n      cancelled: true\r\n      capacity: 5\r\n", false},
		{"no such session", head + "    - id: s1\n", "s9", "cancelled", "true", "", true},
		{"multi-line value refused", head + "    - id: s1\n      title: |\n        two\n        lines\n", "s1", "title", `"x"`, "", true},
		{"no sessions", "campaign: qa\n", "s1", "cancelled", "true", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := setSessionKey([]byte(tc.src), tc.id, tc.key, tc.value)
			if tc.wantErr {
				if err == nil {
					t.Errorf("no error; got\n%s", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, string(got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
