package render

import (
	"strings"
	"testing"
)

func TestPlaceholders(t *testing.T) {
	tests := []struct {
		name string
		doc  Document
		want []string // placeholders found, in order
	}{
		{"clean", Document{Subject: "Sign in without a password", Text: "Hello Sample,\n\nPrices {in braces} stay.\n"}, nil},
		{"other tool's field", Document{Subject: "Hi {FirstName}", Text: "Dear %FIRSTNAME%,"}, []string{"{FirstName}", "%FIRSTNAME%"}},
		{"printed action", Document{Preheader: "{{ .Person.Nmae }}"}, []string{"{{ .Person.Nmae }}"}},
		{"double brackets and chevrons", Document{Text: "Hello [[name]] from <<Team Name>>"}, []string{"[[name]]", "<<Team Name>>"}},
		{"reported once", Document{Subject: "{x}", Text: "{x} {x}"}, []string{"{x}"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Placeholders(&tt.doc)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d findings %v, want %d (%v)", len(got), got, len(tt.want), tt.want)
			}
			for i, f := range got {
				if !f.Error || !strings.Contains(f.Msg, "unknown placeholder "+tt.want[i]+" ") {
					t.Errorf("finding %d = %s, want an error about %s", i, f, tt.want[i])
				}
			}
		})
	}
}
