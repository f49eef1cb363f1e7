package track

// The Invitations sheet: the Q&A sessions' calendar invitations, from
// the ledger's invites table (every calendar message sent, or being sent
// when a run stopped) and the campaign's sessions. On top, one row per
// session: its title, start (wall clock in the session's own zone, named
// beside it), capacity, and how many invitations it has in each state;
// below, one row per person and session: the state of the invitation
// their calendar holds. A person's state for a session comes from the
// highest SEQUENCE sent for it: "invited" (one REQUEST), "updated" (a
// later REQUEST: the session changed, or they were invited back after a
// cancellation), "cancelled" (the last message was a CANCEL) or "unknown"
// (a higher one was being sent when a run stopped: it may have arrived).
// Names, UPNs and titles are string cells under the Text format, as
// everywhere in the workbook (see workbook.go), so a name that looks like
// a formula is shown as written.

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/nudge-passkeys/nudge/internal/ledger"
)

const (
	sheetInvitations = "Invitations"
	tableInvitations = "InvitationList"
)

// Invitation states.
const (
	invInvited   = "invited"
	invUpdated   = "updated"
	invCancelled = "cancelled"
	invUnknown   = "unknown"
)

var sessionHeader = []any{"Session", "Title", "Start", "Zone", "Capacity", "Invited", "Updated", "Cancelled",
	"Unknown", "Latest SEQUENCE", "Seats left", "Note"}

var invitationHeader = []any{"Wave", "Name", "UPN", "Session", "Status", "SEQUENCE", "Sent at"}

// Session is a Q&A session as the Invitations sheet shows it.
type Session struct {
	ID, Title string
	Start     time.Time // in the session's own zone
	Capacity  int
	Cancelled bool
}

// invitation is one person's invitation to one session of one wave.
type invitation struct {
	wave, person, session, name string
	status                      string
	sequence                    int
	sentAt                      time.Time
}

// sessionCount is one row of the sessions table.
type sessionCount struct {
	byStatus map[string]int
	latest   int // the highest SEQUENCE sent; -1 when none
}

// invitations is what the sheet shows, read from the ledger.
type invitations struct {
	list   []invitation
	counts map[string]*sessionCount
}

// readInvitations reads every calendar message once and keeps, per wave,
// person and session, the state its calendar holds. It returns nil when
// there is nothing to show: no invitation and no session.
func (b *builder) readInvitations(ctx context.Context, l *ledger.Ledger) (*invitations, error) {
	inv := &invitations{counts: map[string]*sessionCount{}}
	count := func(session string) *sessionCount {
		c := inv.counts[session]
		if c == nil {
			c = &sessionCount{byStatus: map[string]int{}, latest: -1}
			inv.counts[session] = c
		}
		return c
	}
	// Messages come by wave, person, session and sequence: one group of
	// rows per invitation, folded as they come.
	var (
		cur      *invitation
		requests int
		unknown  int // the sequence of a message in flight; -1 when none
	)
	flush := func() {
		if cur == nil {
			return
		}
		switch {
		case unknown > cur.sequence: // cur.sequence is -1 when nothing was sent
			cur.status, cur.sequence, cur.sentAt = invUnknown, unknown, time.Time{}
		case cur.status == invCancelled:
		case requests > 1:
			cur.status = invUpdated
		default:
			cur.status = invInvited
		}
		count(cur.session).byStatus[cur.status]++
		inv.list = append(inv.list, *cur)
		cur = nil
	}
	err := l.EachInviteMessage(ctx, func(m ledger.InviteMessage) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if cur == nil || cur.wave != m.Wave || cur.person != m.PersonID || cur.session != m.Session {
			flush()
			cur = &invitation{wave: m.Wave, person: m.PersonID, session: m.Session, name: m.Name, sequence: -1}
			requests, unknown = 0, -1
		}
		if m.Status != ledger.StatusSent {
			unknown = m.Sequence
			return nil
		}
		c := count(m.Session)
		c.latest = max(c.latest, m.Sequence)
		cur.sequence, cur.sentAt = m.Sequence, m.SentAt
		cur.status = ""
		if m.Cancelled {
			cur.status = invCancelled
		} else {
			requests++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	flush()
	if len(inv.list) == 0 && len(b.o.Sessions) == 0 {
		return nil, nil
	}
	// Sessions in the campaign's order, then those only the ledger knows.
	rank := map[string]int{}
	for i, s := range b.o.Sessions {
		rank[s.ID] = i + 1
	}
	sessionOrder := func(id string) (int, string) {
		if r, ok := rank[id]; ok {
			return r, ""
		}
		return len(rank) + 1, id
	}
	slices.SortStableFunc(inv.list, func(x, y invitation) int {
		if c := cmp.Compare(x.wave, y.wave); c != 0 {
			return c
		}
		xn, yn := strings.ToLower(x.name), strings.ToLower(y.name)
		if c := cmp.Compare(xn, yn); c != 0 {
			return c
		}
		if c := cmp.Compare(b.o.UPNs[x.person], b.o.UPNs[y.person]); c != 0 {
			return c
		}
		if c := cmp.Compare(x.person, y.person); c != 0 {
			return c
		}
		xr, xid := sessionOrder(x.session)
		yr, yid := sessionOrder(y.session)
		return cmp.Or(cmp.Compare(xr, yr), cmp.Compare(xid, yid))
	})
	return inv, nil
}

// invitationsSheet writes the Invitations sheet through a stream writer:
// the sessions table, a blank row, then the people table.
func (b *builder) invitationsSheet(inv *invitations) error {
	if inv == nil {
		return nil
	}
	sw, err := b.f.NewStreamWriter(sheetInvitations)
	if err != nil {
		return err
	}
	widths := []float64{12, 36, 34, 22, 10, 10, 17, 10, 10, 16, 10, 24}
	for i := len(widths) - 1; i >= 0; i-- {
		if err := sw.SetColWidth(i+1, i+1, widths[i]); err != nil {
			return err
		}
	}
	row := 0
	add := func(values []any, opts ...excelize.RowOpts) error {
		row++
		return sw.SetRow(cellName(1, row), values, opts...)
	}
	text := func(s string) excelize.Cell { return excelize.Cell{StyleID: b.st.text, Value: str(s)} }
	header := excelize.RowOpts{StyleID: b.st.header}

	if err := add(sessionHeader, header); err != nil {
		return err
	}
	ids := make([]string, 0, len(b.o.Sessions)+len(inv.counts))
	known := map[string]Session{}
	for _, s := range b.o.Sessions {
		ids = append(ids, s.ID)
		known[s.ID] = s
	}
	var orphans []string
	for id := range inv.counts {
		if _, ok := known[id]; !ok {
			orphans = append(orphans, id)
		}
	}
	slices.Sort(orphans)
	ids = append(ids, orphans...)
	for _, id := range ids {
		c := inv.counts[id]
		if c == nil {
			c = &sessionCount{byStatus: map[string]int{}, latest: -1}
		}
		s, ok := known[id]
		held := c.byStatus[invInvited] + c.byStatus[invUpdated]
		values := []any{text(id), nil, nil, nil, nil, held, c.byStatus[invUpdated], c.byStatus[invCancelled],
			c.byStatus[invUnknown], nil, nil, nil}
		if c.latest >= 0 {
			values[9] = c.latest
		}
		switch {
		case !ok:
			values[11] = "not in campaign.yaml"
		default:
			values[1] = text(s.Title)
			if !s.Start.IsZero() {
				values[2] = excelize.Cell{StyleID: b.st.dateTime, Value: s.Start}
				values[3] = text(s.Start.Location().String())
			}
			values[4], values[10] = s.Capacity, s.Capacity-held
			if s.Cancelled {
				values[11] = "session cancelled"
			}
		}
		if err := add(values); err != nil {
			return err
		}
	}
	row++ // a blank row between the tables
	first := row + 1
	if err := add(invitationHeader, header); err != nil {
		return err
	}
	values := make([]any, len(invitationHeader))
	for _, v := range inv.list {
		values[0], values[1], values[2], values[3] = text(v.wave), text(v.name), text(b.o.UPNs[v.person]), text(v.session)
		values[4], values[5], values[6] = v.status, v.sequence, nil
		if !v.sentAt.IsZero() {
			values[6] = excelize.Cell{StyleID: b.st.dateTime, Value: v.sentAt.In(b.loc)}
		}
		if err := add(values); err != nil {
			return err
		}
	}
	// A stream writer keeps one table per sheet: the people, whom the
	// helpdesk filters by session and status; the few session rows are
	// a plain range under a bold header.
	if row > first {
		ref := fmt.Sprintf("%s:%s", cellName(1, first), cellName(len(invitationHeader), row))
		if err := sw.AddTable(&excelize.Table{Range: ref, Name: tableInvitations, StyleName: "TableStyleMedium2"}); err != nil {
			return err
		}
	}
	return sw.Flush()
}
