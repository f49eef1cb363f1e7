package campaign

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// TAP says what Temporary Access Passes `nudge tap-letters` creates. The
// tenant's own Temporary Access Pass policy has the last word: the
// command reads it and checks these settings against it before creating
// anything.
type TAP struct {
	// Start is when passes become valid: "now" (the default) or a local
	// time with an optional IANA zone, such as 2026-12-14T08:30
	// Europe/Paris (defaults.time_zone when none is given), so passes
	// printed today become valid on the handover day.
	Start string `yaml:"start"`
	// Lifetime is how long a pass stays valid, from 10m to 30d (Go
	// durations such as 90m or 8h, or whole days such as 2d); empty means
	// the tenant policy's default.
	Lifetime string `yaml:"lifetime"`
	// UsableOnce makes a pass work for one sign-in; true when not set.
	UsableOnce *bool `yaml:"usable_once"`
}

// Graph's bounds on any pass's lifetime.
const (
	tapMinLifetime = 10 * time.Minute
	tapMaxLifetime = 30 * 24 * time.Hour
)

// StartTime is when passes become valid; the zero time means now.
func (t *TAP) StartTime(defaultZone string) (time.Time, error) {
	s := strings.TrimSpace(t.Start)
	if s == "" || strings.EqualFold(s, "now") {
		return time.Time{}, nil
	}
	return ParseTime(s, defaultZone)
}

// LifetimeDuration is how long a pass stays valid; zero means the tenant
// policy's default.
func (t *TAP) LifetimeDuration() (time.Duration, error) {
	s := strings.TrimSpace(t.Lifetime)
	if s == "" {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration like 90m, 8h or 2d", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration like 90m, 8h or 2d", s)
	}
	return d, nil
}

// IsUsableOnce reports whether passes work for one sign-in only.
func (t *TAP) IsUsableOnce() bool { return t.UsableOnce == nil || *t.UsableOnce }

func (c *Campaign) validateTAP(add func(path, format string, args ...any)) {
	if _, err := c.TAP.StartTime(c.Defaults.TimeZone); err != nil {
		add("tap.start", "tap.start: %v (or now)", err)
	}
	d, err := c.TAP.LifetimeDuration()
	switch {
	case err != nil:
		add("tap.lifetime", "tap.lifetime: %v", err)
	case d != 0 && (d < tapMinLifetime || d > tapMaxLifetime):
		add("tap.lifetime", "tap.lifetime: %s: a Temporary Access Pass lives from 10m to 30d (and within the tenant's policy)", c.TAP.Lifetime)
	case d%time.Minute != 0:
		add("tap.lifetime", "tap.lifetime: %s: give whole minutes", c.TAP.Lifetime)
	}
}
