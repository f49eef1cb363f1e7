package main

import (
	"fmt"
	"strings"

	"github.com/nudge-passkeys/nudge/internal/campaign"
	"github.com/nudge-passkeys/nudge/internal/render"
)

// checkSchedule warns about a wave whose send_at has passed while people
// are still pending for it: not an error (nudge run sends them at the
// wave's next window, or at once), but worth a look before the scheduler
// picks it up, in case the date is a typo. A wave sent already is not
// reported: its send_at is simply history. The directory is read only
// when some send_at is in the past.
func checkSchedule(e *env, p *project, report func(render.Finding)) {
	now := e.now()
	var past []campaign.Wave
	for _, w := range p.c.Waves {
		if !w.SendTime.IsZero() && w.SendTime.Before(now) {
			past = append(past, w)
		}
	}
	if len(past) == 0 {
		return
	}
	l, err := e.openLedgerIfAny(p)
	if err != nil {
		report(render.Finding{Error: true, Msg: "schedule: " + err.Error()})
		return
	}
	if l != nil {
		defer l.Close()
	}
	tl, err := e.timeline(p, "", l, past)
	if err != nil {
		report(render.Finding{Error: true, Msg: "schedule: " + err.Error()})
		return
	}
	for _, msg := range tl.Warnings {
		where := p.c.File
		for i, w := range p.c.Waves {
			if strings.HasPrefix(msg, "wave "+w.ID+" ") {
				if line := p.c.Line(fmt.Sprintf("waves[%d].send_at", i)); line > 0 {
					where = fmt.Sprintf("%s:%d", p.c.File, line)
				}
				break
			}
		}
		report(render.Finding{Msg: where + ": " + msg})
	}
}
