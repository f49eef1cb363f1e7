package graph

// Reading people's time zones from their mailbox settings
// (GET /users/{id}/mailboxSettings/timeZone, MailboxSettings.Read), when
// the campaign asks for it (sessions.mailbox_settings).
//
// Policy:
//   - Asked only for people who can have an Exchange Online mailbox and
//     can be invited: enabled member accounts with a mail address. Guests,
//     disabled accounts and accounts without mail are counted as skipped.
//   - Only the timeZone setting is asked for: user-get-mailboxsettings
//     documents each setting's own path, and the whole object (automatic
//     replies, working hours, formats) is ten times the bytes.
//   - Asked 20 at a time through JSON batching (batch.go), while the users
//     are still being read, by mailboxWorkers batches in flight. Outlook
//     limits each mailbox to four concurrent requests and 10,000 requests
//     in ten minutes per app; nudge asks each mailbox once, so those do
//     not bind. What can is Graph's global limit (130,000 requests in ten
//     seconds per app, across every tenant the app serves): paced, nudge
//     starts at most mailboxBatchesPerSecond batches a second, a few
//     percent of it.
//   - 404 (MailboxNotEnabledForRESTAPI, ErrorInvalidUser…): the person has
//     no mailbox in Exchange Online, so no mailbox zone. 403 on every
//     request of the first batch answered: the app lacks
//     MailboxSettings.Read, a warning, and nothing more is asked; a 403
//     for some mailboxes only (an Exchange application access policy
//     leaving them out) is counted and warned about at the end. Neither
//     fails the pull: the campaign's zone tables and default decide for
//     those people.
//   - The setting is saved as Exchange gives it (a Windows zone name or an
//     IANA one); internal/snapshot maps Windows names to IANA zones when
//     it reads the folder. Names that are neither are reported here.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nudge-passkeys/nudge/internal/directory"
)

// MailboxSettingsFile holds the mailbox time zones a pull read: one row per
// person whose mailbox answered, in the shape of
// GET /users/{id}?$select=id,userPrincipalName,mailboxSettings with only
// mailboxSettings.timeZone kept.
const MailboxSettingsFile = "mailboxSettings.json"

const (
	mailboxWorkers          = 8
	mailboxBatchesPerSecond = 20
)

// MailboxRead counts what reading mailbox settings found.
type MailboxRead struct {
	Asked   int // people whose mailbox settings were asked for
	Skipped int // guests, disabled accounts and accounts without mail
	Zones   int // a time zone nudge can use
	Windows int // of Zones, given as a Windows zone name
	// Unset is mailboxes with no time zone set; NoMailbox people without an
	// Exchange Online mailbox (404); Denied mailboxes the app may not read
	// (403); Failed mailboxes that kept failing.
	Unset, NoMailbox, Denied, Failed int
	// Unknown counts the time zone names that are neither a Windows zone
	// nudge knows nor an IANA zone, with an example person for each.
	Unknown map[string]UnknownZone
	// Stopped is set when the app lacks MailboxSettings.Read: nothing past
	// the first batch was asked.
	Stopped bool
}

// UnknownZone is a time zone name nudge cannot use.
type UnknownZone struct {
	People  int
	Example string // the userPrincipalName of one of them
}

// mailboxPerson is someone whose mailbox is asked, seq their place in
// users.json.
type mailboxPerson struct {
	seq     int
	id, upn string
}

// mailboxReader reads mailbox settings batch by batch, fed by the users
// collection as its pages arrive.
type mailboxReader struct {
	c        *Client
	progress func(asked, answered int)
	batches  chan []mailboxPerson

	// Touched only by the goroutine reading users.
	next    []mailboxPerson
	seq     int
	skipped int

	mu       sync.Mutex
	queued   int
	res      MailboxRead
	rows     map[int]json.RawMessage
	answered int
	firstErr string
	stopped  atomic.Bool
}

func (c *Client) newMailboxReader(progress func(asked, answered int)) *mailboxReader {
	return &mailboxReader{c: c, progress: progress, batches: make(chan []mailboxPerson, 4*mailboxWorkers), rows: map[int]json.RawMessage{}}
}

// queue takes a page of users and hands their mailboxes on in batches.
func (m *mailboxReader) queue(ctx context.Context, rows []json.RawMessage) error {
	for _, raw := range rows {
		var u struct {
			ID                string `json:"id"`
			UserPrincipalName string `json:"userPrincipalName"`
			Mail              string `json:"mail"`
			UserType          string `json:"userType"`
			AccountEnabled    *bool  `json:"accountEnabled"`
		}
		m.seq++
		if json.Unmarshal(raw, &u) != nil || u.ID == "" || !guidPattern.MatchString(u.ID) ||
			u.Mail == "" || strings.EqualFold(u.UserType, "Guest") || (u.AccountEnabled != nil && !*u.AccountEnabled) {
			m.skipped++
			continue
		}
		m.next = append(m.next, mailboxPerson{seq: m.seq, id: u.ID, upn: u.UserPrincipalName})
		if len(m.next) == maxBatch {
			if err := m.flush(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// flush hands on what queue holds.
func (m *mailboxReader) flush(ctx context.Context) error {
	if len(m.next) == 0 {
		return nil
	}
	m.mu.Lock()
	m.queued += len(m.next)
	m.mu.Unlock()
	select {
	case m.batches <- m.next:
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	m.next = nil
	m.mu.Lock()
	asked, answered := m.queued, m.answered
	m.mu.Unlock()
	m.progress(asked, answered)
	return nil
}

// done says every user was queued: the last batch goes and the workers
// stop when the queue is empty.
func (m *mailboxReader) done(ctx context.Context) {
	m.flush(ctx)
	m.mu.Lock()
	m.res.Skipped = m.skipped
	m.mu.Unlock()
	// After the count: run reads the result once the queue is closed.
	close(m.batches)
}

// run reads the queued batches with mailboxWorkers workers and writes
// MailboxSettingsFile into dir. A batch that fails (Graph down after
// every retry) fails the pull; what single mailboxes answer does not.
func (m *mailboxReader) run(ctx context.Context, dir string) (*MailboxRead, []string, error) {
	pace := &limiter{}
	if m.c.retry.pace {
		pace.per, pace.window = mailboxBatchesPerSecond, time.Second
	}
	var (
		wg     sync.WaitGroup
		failed atomic.Pointer[error]
	)
	for range mailboxWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range m.batches {
				if m.stopped.Load() || failed.Load() != nil {
					continue // drain, so the users reader never blocks
				}
				err := sleepUntil(ctx, m.c.now, pace.reserve(m.c.now()))
				if err == nil {
					err = m.read(ctx, b)
				}
				if err != nil {
					failed.CompareAndSwap(nil, &err)
				}
			}
		}()
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		return nil, nil, *err
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, context.Cause(ctx)
	}
	res := m.res
	if len(m.rows) > 0 {
		seqs := make([]int, 0, len(m.rows))
		for s := range m.rows {
			seqs = append(seqs, s)
		}
		slices.Sort(seqs)
		p := &page{Context: m.c.base.String() + "/v1.0/$metadata#users(id,userPrincipalName,mailboxSettings)", Value: make([]json.RawMessage, len(seqs))}
		for i, s := range seqs {
			p.Value[i] = m.rows[s]
		}
		if err := writePage(filepath.Join(dir, MailboxSettingsFile), p); err != nil {
			return nil, nil, err
		}
	}
	return &res, m.warnings(), nil
}

// read asks one batch of mailboxes.
func (m *mailboxReader) read(ctx context.Context, people []mailboxPerson) error {
	reqs := make([]batchRequest, len(people))
	for i, p := range people {
		reqs[i] = batchRequest{ID: strconv.Itoa(i + 1), Method: http.MethodGet, URL: "/users/" + p.id + "/mailboxSettings/timeZone"}
	}
	got, err := m.c.batch(ctx, reqs, "POST /$batch (GET /users/{id}/mailboxSettings/timeZone)", PermMailbox)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// Every mailbox asked before this batch was refused (none, for the
	// first batches answered).
	allRefused := m.res.Asked == m.res.Denied
	m.res.Asked += len(people)
	m.answered += len(people)
	denied := 0
	for i, p := range people {
		r := got[reqs[i].ID]
		switch {
		case r.Status == http.StatusOK:
			var s struct {
				Value *string `json:"value"`
			}
			if err := json.Unmarshal(r.Body, &s); err != nil || s.Value == nil {
				m.fail(p, fmt.Sprintf("%d: the answer is not a time zone setting", r.Status))
				continue
			}
			tz := strings.TrimSpace(*s.Value)
			if tz == "" {
				m.res.Unset++
				continue
			}
			switch _, kind := directory.MailboxZone(tz); kind {
			case directory.ZoneWindows:
				m.res.Zones++
				m.res.Windows++
			case directory.ZoneIANA:
				m.res.Zones++
			default:
				if m.res.Unknown == nil {
					m.res.Unknown = map[string]UnknownZone{}
				}
				u := m.res.Unknown[tz]
				u.People++
				if u.Example == "" {
					u.Example = p.upn
				}
				m.res.Unknown[tz] = u
			}
			row, _ := json.Marshal(struct {
				ID              string `json:"id"`
				UPN             string `json:"userPrincipalName,omitempty"`
				MailboxSettings struct {
					TimeZone string `json:"timeZone"`
				} `json:"mailboxSettings"`
			}{ID: p.id, UPN: p.upn, MailboxSettings: struct {
				TimeZone string `json:"timeZone"`
			}{tz}})
			m.rows[p.seq] = row
		case r.Status == http.StatusNotFound:
			m.res.NoMailbox++
		case r.Status == http.StatusForbidden:
			m.res.Denied++
			denied++
		default:
			code, msg := r.graphError()
			what := strconv.Itoa(r.Status)
			if r.Status == 0 {
				what = "no answer"
			}
			if code != "" {
				what += " " + code
			}
			if msg != "" {
				what += ": " + msg
			}
			m.fail(p, what)
		}
	}
	// Every mailbox refused so far, this whole batch included: the app
	// has no MailboxSettings.Read.
	if denied == len(people) && allRefused {
		m.res.Stopped = true
		m.stopped.Store(true)
	}
	m.progress(m.queued, m.answered)
	return nil
}

// fail counts a mailbox that kept failing. m.mu is held.
func (m *mailboxReader) fail(p mailboxPerson, what string) {
	m.res.Failed++
	if m.firstErr == "" {
		m.firstErr = fmt.Sprintf("%s: %s", p.name(), what)
	}
}

// name is how messages name the person.
func (p mailboxPerson) name() string {
	if p.upn != "" {
		return p.upn
	}
	return p.id
}

// permissionHint says how to grant an application permission.
func permissionHint(perm string) string {
	return fmt.Sprintf("grant the app the %s application permission (Entra admin center > App registrations > nudge's app > API permissions > Add a permission > Microsoft Graph > Application permissions > %s, then Grant admin consent)", perm, perm)
}

// warnings are what the user should know about the mailbox zones read.
func (m *mailboxReader) warnings() []string {
	r := &m.res
	var w []string
	fallback := "their zones come from the campaign's sessions.office_locations and usage_locations, else its default zone"
	switch {
	case r.Stopped:
		w = append(w, fmt.Sprintf("GET /users/{id}/mailboxSettings/timeZone: not read (403 ErrorAccessDenied for every mailbox of the first batch, so no more were asked): %s; if the app has it, an Exchange application access policy or RBAC for Applications scope leaves those mailboxes out; %s", permissionHint(PermMailbox), fallback))
	case r.Denied > 0:
		w = append(w, fmt.Sprintf("mailbox settings: %d mailboxes refused access (403): an Exchange application access policy or RBAC for Applications may leave them out of the app's scope, or %s; %s", r.Denied, permissionHint(PermMailbox), fallback))
	}
	if len(r.Unknown) > 0 {
		names := make([]string, 0, len(r.Unknown))
		for n := range r.Unknown {
			names = append(names, n)
		}
		slices.Sort(names)
		var parts []string
		total := 0
		for _, n := range names {
			u := r.Unknown[n]
			total += u.People
			parts = append(parts, fmt.Sprintf("%q (%d, e.g. %s)", n, u.People, u.Example))
		}
		w = append(w, fmt.Sprintf("mailbox settings: %d people have a time zone that is neither a Windows zone nudge knows nor an IANA zone: %s; %s", total, strings.Join(parts, ", "), fallback))
	}
	if r.Failed > 0 {
		w = append(w, fmt.Sprintf("mailbox settings: %d mailboxes not read after retries (first: %s); %s", r.Failed, m.firstErr, fallback))
	}
	return w
}
