package directory

import (
	"testing"
	"time"
)

// TestWindowsZonesLoad: every zone the Windows table names is one Go's
// time zone database knows, so a mapped mailbox zone is always usable.
func TestWindowsZonesLoad(t *testing.T) {
	if len(windowsZones) < 130 {
		t.Errorf("%d Windows zones, want CLDR's whole 001 table (about 140)", len(windowsZones))
	}
	for win, iana := range windowsZones {
		if _, err := time.LoadLocation(iana); err != nil {
			t.Errorf("%q maps to %q: %v", win, iana, err)
		}
	}
}

func TestMailboxZone(t *testing.T) {
	for _, tc := range []struct {
		in   string
		zone string
		kind ZoneKind
	}{
		{"Pacific Standard Time", "America/Los_Angeles", ZoneWindows},
		{"W. Europe Standard Time", "Europe/Berlin", ZoneWindows},
		{"Romance Standard Time", "Europe/Paris", ZoneWindows},
		{"GMT Standard Time", "Europe/London", ZoneWindows},
		{"India Standard Time", "Asia/Kolkata", ZoneWindows},
		{"AUS Eastern Standard Time", "Australia/Sydney", ZoneWindows},
		{"Lord Howe Standard Time", "Australia/Lord_Howe", ZoneWindows},
		{"Tokyo Standard Time", "Asia/Tokyo", ZoneWindows},
		{"E. South America Standard Time", "America/Sao_Paulo", ZoneWindows},
		{"Eastern Standard Time", "America/New_York", ZoneWindows},
		{"UTC", "Etc/UTC", ZoneWindows},
		{"UTC-11", "Etc/GMT+11", ZoneWindows},
		{"  eastern standard time ", "America/New_York", ZoneWindows},
		{"Europe/Paris", "Europe/Paris", ZoneIANA},
		{"America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires", ZoneIANA},
		{"Customized Time Zone", "", ZoneUnknown},
		{"Mars/Olympus_Mons", "", ZoneUnknown},
		{"Local", "", ZoneUnknown},
		{"EST", "", ZoneUnknown},
		{"../../etc/passwd", "", ZoneUnknown},
		{"", "", ZoneUnknown},
	} {
		zone, kind := MailboxZone(tc.in)
		if zone != tc.zone || kind != tc.kind {
			t.Errorf("MailboxZone(%q) = %q, %v; want %q, %v", tc.in, zone, kind, tc.zone, tc.kind)
		}
	}
}
