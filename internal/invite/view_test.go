package invite

import (
	"testing"
	"time"
)

func TestInviteView(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	s := &Session{ID: "s1", Title: "Q&A", Start: start, End: start.Add(time.Hour), Room: "4.12"}
	p := &Person{ID: "p", Zone: paris}
	tests := []struct {
		name               string
		kind               Kind
		seq                int
		updated, cancelled bool
	}{
		{"first invitation", Invite, 0, false, false},
		{"back to a session left before", Invite, 2, true, false},
		{"update", Update, 1, true, false},
		{"cancellation", Cancel, 1, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Action{Person: p, Session: s, Kind: tt.kind, Sequence: tt.seq}.View()
			if v.Updated != tt.updated || v.Cancelled != tt.cancelled {
				t.Errorf("Updated, Cancelled = %v, %v; want %v, %v", v.Updated, v.Cancelled, tt.updated, tt.cancelled)
			}
			if got := v.Start.Format("15:04 MST"); got != "11:00 CET" || v.Start.Location() != paris || v.ID != "s1" || v.Room != "4.12" {
				t.Errorf("View = %+v; want s1 at 11:00 CET in the person's zone", v)
			}
		})
	}
}
