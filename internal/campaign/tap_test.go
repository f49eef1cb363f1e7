package campaign_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nudge-passkeys/nudge/internal/campaign"
)

func TestTAPSettings(t *testing.T) {
	c := mustParse(t, minimal+"defaults:\n  time_zone: Europe/Paris\ntap:\n  start: 2026-12-14T08:30\n  lifetime: 2d\n  usable_once: false\n")
	start, err := c.TAP.StartTime(c.Defaults.TimeZone)
	if err != nil || !start.Equal(time.Date(2026, 12, 14, 7, 30, 0, 0, time.UTC)) {
		t.Errorf("start = %v, %v; want 08:30 in Paris", start, err)
	}
	if d, err := c.TAP.LifetimeDuration(); err != nil || d != 48*time.Hour {
		t.Errorf("lifetime = %v, %v", d, err)
	}
	if c.TAP.IsUsableOnce() {
		t.Error("usable_once: false read as true")
	}

	c = mustParse(t, minimal)
	if start, err := c.TAP.StartTime(c.Defaults.TimeZone); err != nil || !start.IsZero() {
		t.Errorf("default start = %v, %v; want now (zero)", start, err)
	}
	if d, err := c.TAP.LifetimeDuration(); err != nil || d != 0 {
		t.Errorf("default lifetime = %v, %v; want the policy's (zero)", d, err)
	}
	if !c.TAP.IsUsableOnce() {
		t.Error("default usable_once is false")
	}
	c = mustParse(t, minimal+"tap:\n  start: now\n  lifetime: 90m\n")
	if d, _ := c.TAP.LifetimeDuration(); d != 90*time.Minute {
		t.Errorf("lifetime 90m = %v", d)
	}

	for _, tc := range []struct{ yaml, want string }{
		{"tap:\n  lifetime: 5m\n", "tap.lifetime: 5m: a Temporary Access Pass lives from 10m to 30d"},
		{"tap:\n  lifetime: 31d\n", "tap.lifetime: 31d: a Temporary Access Pass lives from 10m to 30d"},
		{"tap:\n  lifetime: a week\n", `tap.lifetime: "a week" is not a duration`},
		{"tap:\n  lifetime: 90m30s\n", "give whole minutes"},
		{"tap:\n  start: tomorrow\n", `tap.start: "tomorrow" is not a time`},
		{"tap:\n  start: 2026-12-14T08:30 Mars/Olympus\n", `tap.start: unknown zone "Mars/Olympus"`},
		{"tap:\n  once: true\n", `unknown key "once" in tap`},
	} {
		_, err := campaign.Parse("campaign.yaml", []byte(minimal+tc.yaml))
		ps := problems(t, err)
		if len(ps) != 1 || !strings.Contains(ps[0].Msg, tc.want) || ps[0].Line < 14 {
			t.Errorf("%q: problems %v, want one from line 14 on with %q", tc.yaml, ps, tc.want)
		}
	}
}
