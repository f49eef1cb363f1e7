package graph

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

// Files a pull writes: the snapshot folder format (internal/snapshot). A
// collection continues in NAME-002.json, NAME-003.json… and each page's
// "@odata.nextLink" names the next file.
const (
	UsersFile             = "users.json"
	RegistrationFile      = "userRegistrationDetails.json"
	PolicyFile            = "authenticationMethodsPolicy.json"
	ConditionalAccessFile = "conditionalAccessPolicies.json"
	StrengthsFile         = "authenticationStrengthPolicies.json"
	GroupsFile            = "groups.json"
	groupMembersPrefix    = "groupMembers-"
)

// GroupMembersFile is the first page of a group's transitive user members.
func GroupMembersFile(id string) string { return groupMembersPrefix + id + ".json" }

// UserSelect are the user properties nudge reads: what directory.Person
// carries.
var UserSelect = []string{"id", "userPrincipalName", "mail", "displayName", "givenName", "surname", "preferredLanguage", "usageLocation", "department", "jobTitle", "officeLocation", "accountEnabled", "userType"}

// pageSize is $top for the collections that document it.
const pageSize int32 = 999

// PullOptions say what to read besides users and their registrations.
type PullOptions struct {
	// Groups are the group names or ids the campaign's audience rules name
	// (memberOf). Each must match exactly one group.
	Groups []string
	// Progress, when set, is called after each page (from several
	// goroutines, one at a time).
	Progress func(Progress)
	// MailboxSettings reads each person's time zone from their mailbox
	// settings into MailboxSettingsFile (campaign.yaml's
	// sessions.mailbox_settings; needs MailboxSettings.Read). See
	// mailbox.go.
	MailboxSettings bool
}

// Progress is how far a pull has come.
type Progress struct {
	Users, Registrations int
	// Expected is the tenant's user count, when Graph told it ($count);
	// 0 when unknown.
	Expected int
	// Mailboxes is how many mailboxes' settings were read of
	// MailboxesQueued asked for so far (PullOptions.MailboxSettings).
	Mailboxes, MailboxesQueued int
	Requests                   int
	// ETA is the time the registration report still needs at the pace
	// Graph allows; 0 when unknown or not paced.
	ETA time.Duration
}

// GroupRead is a group whose members a pull read.
type GroupRead struct {
	ID, DisplayName string
	Members         int
	// Asked is how the campaign named it; empty for a policy target.
	Asked string
}

// PullResult counts what a pull read.
type PullResult struct {
	Users, Registrations int
	Groups               []GroupRead
	Policy               bool // the authentication methods policy was read
	ConditionalAccess    bool // Conditional Access policies were read
	// Mailboxes says what reading mailbox settings found; nil when not
	// asked (PullOptions.MailboxSettings).
	Mailboxes *MailboxRead
	// Warnings are optional reads that failed (a missing permission for
	// Conditional Access, say): the pull is usable, the readiness report
	// says what it could not see.
	Warnings []string
	Requests int
	Elapsed  time.Duration
}

// page is one Graph collection response, rows left undecoded.
type page struct {
	Context  string            `json:"@odata.context"`
	NextLink string            `json:"@odata.nextLink"`
	Value    []json.RawMessage `json:"value"`
}

// Pull reads the tenant into dir, which must not exist. It writes into
// dir + ".partial" and renames that to dir only when everything was read,
// so a pull that fails half-way leaves no folder that looks complete.
func (c *Client) Pull(ctx context.Context, dir string, o PullOptions) (*PullResult, error) {
	start := c.now()
	if _, err := os.Stat(dir); err == nil {
		return nil, fmt.Errorf("graph: pull: %s already exists", dir)
	}
	staging := dir + ".partial"
	if err := os.RemoveAll(staging); err != nil {
		return nil, fmt.Errorf("graph: pull: %w", err)
	}
	if err := os.MkdirAll(staging, 0o700); err != nil {
		return nil, fmt.Errorf("graph: pull: %w", err)
	}
	res, err := c.pull(ctx, staging, o)
	if err != nil {
		os.RemoveAll(staging)
		return nil, err
	}
	if err := os.Rename(staging, dir); err != nil {
		os.RemoveAll(staging)
		return nil, fmt.Errorf("graph: pull: %w", err)
	}
	res.Requests = c.Requests()
	res.Elapsed = c.now().Sub(start)
	return res, nil
}

func (c *Client) pull(ctx context.Context, dir string, o PullOptions) (*PullResult, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	res := &PullResult{}
	var (
		mu       sync.Mutex
		progress Progress
		regPages int
	)
	report := func(update func(*Progress)) {
		mu.Lock()
		defer mu.Unlock()
		update(&progress)
		progress.Requests = c.Requests()
		if c.retry.pace && progress.Expected > 0 && progress.Registrations > 0 && regPages > 0 {
			perPage := progress.Registrations / regPages
			left := (progress.Expected - progress.Registrations + perPage - 1) / max(perPage, 1)
			progress.ETA = time.Duration(max(left, 0)) * reportsWindow / reportsPerWindow
		}
		if o.Progress != nil {
			o.Progress(progress)
		}
	}
	if n, err := c.countUsers(ctx); err == nil {
		report(func(p *Progress) { p.Expected = n })
	}

	var wg sync.WaitGroup
	fail := func(err error) {
		if err != nil {
			cancel(err)
		}
	}
	// Mailbox settings are asked for as the users' pages come in.
	var mbox *mailboxReader
	if o.MailboxSettings {
		mbox = c.newMailboxReader(func(queued, answered int) {
			report(func(p *Progress) { p.MailboxesQueued, p.Mailboxes = queued, answered })
		})
		wg.Add(1)
		go func() {
			defer wg.Done()
			read, warnings, err := mbox.run(ctx, dir)
			if err != nil {
				fail(err)
				return
			}
			mu.Lock()
			res.Mailboxes = read
			res.Warnings = append(res.Warnings, warnings...)
			mu.Unlock()
		}()
	}
	wg.Add(3)
	go func() {
		defer wg.Done()
		if mbox != nil {
			defer mbox.done(ctx)
		}
		ri := c.get("/users", url.Values{"$select": {strings.Join(UserSelect, ",")}, "$top": {strconv.Itoa(int(pageSize))}})
		n, err := c.collection(ctx, ri, dir, UsersFile, "GET /users", PermUsers, func(rows []json.RawMessage) error {
			report(func(p *Progress) { p.Users += len(rows) })
			if mbox != nil {
				return mbox.queue(ctx, rows)
			}
			return nil
		})
		res.Users = n
		fail(err)
	}()
	go func() {
		defer wg.Done()
		ri := c.get("/reports/authenticationMethods/userRegistrationDetails", nil)
		n, err := c.collection(ctx, ri, dir, RegistrationFile, "GET /reports/authenticationMethods/userRegistrationDetails", PermRegistrations, func(rows []json.RawMessage) error {
			report(func(p *Progress) { regPages++; p.Registrations += len(rows) })
			return nil
		})
		res.Registrations = n
		fail(err)
	}()
	go func() {
		defer wg.Done()
		fail(c.pullPolicies(ctx, dir, o, res, &mu))
	}()
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return res, nil
}

// pullPolicies reads the policies, then the groups the campaign names and
// the policy targets.
func (c *Client) pullPolicies(ctx context.Context, dir string, o PullOptions, res *PullResult, mu *sync.Mutex) error {
	warn := func(format string, args ...any) {
		mu.Lock()
		res.Warnings = append(res.Warnings, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	// optional reads a document whose absence only blinds the readiness
	// report: a 403 is a warning, anything else fails the pull.
	optional := func(op, perm, file string, get func() (*abs.RequestInformation, error)) ([]byte, error) {
		ri, err := get()
		if err != nil {
			return nil, err
		}
		body, err := c.send(ctx, ri, op, perm)
		var ge *Error
		if errors.As(err, &ge) && ge.Status == 403 {
			warn("%s: not read (%s): %s", op, ge.Code, ge.Hint)
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if !json.Valid(body) {
			return nil, &Error{Op: op, Message: "the response is not valid JSON", Hint: "run again; if it persists, a proxy may be rewriting Graph's answers"}
		}
		return body, writeFile(filepath.Join(dir, file), body)
	}

	policy, err := optional("GET /policies/authenticationMethodsPolicy", PermMethodsPolicy, PolicyFile, func() (*abs.RequestInformation, error) {
		return c.get("/policies/authenticationMethodsPolicy", nil), nil
	})
	if err != nil {
		return err
	}
	res.Policy = policy != nil
	ca, err := c.optionalCollection(ctx, dir, ConditionalAccessFile, "GET /identity/conditionalAccess/policies", PermPolicies, warn, func() (*abs.RequestInformation, error) {
		return c.get("/identity/conditionalAccess/policies", nil), nil
	})
	if err != nil {
		return err
	}
	res.ConditionalAccess = ca
	if _, err := c.optionalCollection(ctx, dir, StrengthsFile, "GET /policies/authenticationStrengthPolicies", PermPolicies, warn, func() (*abs.RequestInformation, error) {
		return c.get("/policies/authenticationStrengthPolicies", nil), nil
	}); err != nil {
		return err
	}

	// The groups: the campaign's first (each must resolve), then the policy
	// targets nudge needs to tell who Entra's own prompt reaches.
	type want struct{ asked, id string }
	var wants []want
	for _, g := range o.Groups {
		wants = append(wants, want{asked: g})
	}
	for _, id := range policyTargetGroups(policy) {
		wants = append(wants, want{id: id})
	}
	var rows []json.RawMessage
	seen := map[string]bool{}
	for _, w := range wants {
		var g GroupRead
		var raw json.RawMessage
		if w.asked != "" {
			g, raw, err = c.resolveGroup(ctx, w.asked)
			if err != nil {
				return err
			}
			g.Asked = w.asked
		} else {
			if seen[strings.ToLower(w.id)] {
				continue
			}
			g, raw, err = c.resolveGroup(ctx, w.id)
			var ge *Error
			if errors.As(err, &ge) && (ge.Status == 404 || ge.Status == 403) {
				warn("policy target group %s: not read: %s", w.id, strings.TrimPrefix(ge.Error(), "graph: "))
				continue
			}
			if err != nil {
				return err
			}
		}
		if seen[strings.ToLower(g.ID)] {
			mu.Lock()
			for i := range res.Groups {
				if strings.EqualFold(res.Groups[i].ID, g.ID) && res.Groups[i].Asked == "" {
					res.Groups[i].Asked = g.Asked
				}
			}
			mu.Unlock()
			continue
		}
		seen[strings.ToLower(g.ID)] = true
		ri := c.get("/groups/"+g.ID+"/transitiveMembers/microsoft.graph.user", url.Values{"$select": {"id,userPrincipalName"}, "$top": {strconv.Itoa(int(pageSize))}})
		n, err := c.collection(ctx, ri, dir, GroupMembersFile(g.ID), "GET /groups/"+g.ID+"/transitiveMembers/microsoft.graph.user", PermGroups, nil)
		if err != nil {
			return err
		}
		g.Members = n
		rows = append(rows, raw)
		mu.Lock()
		res.Groups = append(res.Groups, g)
		mu.Unlock()
	}
	if len(rows) == 0 {
		return nil
	}
	return writePage(filepath.Join(dir, GroupsFile), &page{Context: c.base.String() + "/v1.0/$metadata#groups(id,displayName)", Value: rows})
}

// optionalCollection reads a collection whose absence only blinds the
// readiness report.
func (c *Client) optionalCollection(ctx context.Context, dir, file, op, perm string, warn func(string, ...any), get func() (*abs.RequestInformation, error)) (bool, error) {
	ri, err := get()
	if err != nil {
		return false, err
	}
	_, err = c.collection(ctx, ri, dir, file, op, perm, nil)
	var ge *Error
	if errors.As(err, &ge) && ge.Status == 403 {
		warn("%s: not read (%s): %s", op, ge.Code, ge.Hint)
		return false, nil
	}
	return err == nil, err
}

// resolveGroup finds the one group with this id or display name.
func (c *Client) resolveGroup(ctx context.Context, nameOrID string) (GroupRead, json.RawMessage, error) {
	const sel = "id,displayName"
	var (
		op string
		ri *abs.RequestInformation
	)
	var err error
	if guidPattern.MatchString(nameOrID) {
		op = "GET /groups/" + nameOrID
		ri = c.get("/groups/"+nameOrID, url.Values{"$select": {sel}})
		body, err := c.send(ctx, ri, op, PermGroups)
		if err != nil {
			var ge *Error
			if errors.As(err, &ge) && ge.Status == 404 {
				ge.Hint = "no group has this object id: check the memberOf(…) rule or the policy target"
			}
			return GroupRead{}, nil, err
		}
		var g struct{ ID, DisplayName string }
		if err := json.Unmarshal(body, &g); err != nil || g.ID == "" {
			return GroupRead{}, nil, &Error{Op: op, Message: "the response is not a group", Err: err}
		}
		return GroupRead{ID: g.ID, DisplayName: g.DisplayName}, body, nil
	}
	op = "GET /groups?$filter=displayName eq '" + nameOrID + "'"
	filter := "displayName eq '" + strings.ReplaceAll(nameOrID, "'", "''") + "'"
	ri = c.get("/groups", url.Values{"$filter": {filter}, "$select": {sel}})
	body, err := c.send(ctx, ri, op, PermGroups)
	if err != nil {
		return GroupRead{}, nil, err
	}
	var p page
	if err := json.Unmarshal(body, &p); err != nil {
		return GroupRead{}, nil, &Error{Op: op, Message: "the response is not a group list", Err: err}
	}
	var found []GroupRead
	for _, raw := range p.Value {
		var g struct{ ID, DisplayName string }
		if json.Unmarshal(raw, &g) == nil && g.ID != "" {
			found = append(found, GroupRead{ID: g.ID, DisplayName: g.DisplayName})
		}
	}
	switch len(found) {
	case 0:
		return GroupRead{}, nil, &Error{Op: op, Message: fmt.Sprintf("no group is named %q", nameOrID), Hint: "check the spelling in the audience's memberOf(…) rule against the group's display name in the Entra admin center, or use its object id"}
	case 1:
		return found[0], p.Value[0], nil
	}
	var ids []string
	for _, g := range found {
		ids = append(ids, g.ID)
	}
	return GroupRead{}, nil, &Error{Op: op, Message: fmt.Sprintf("%d groups are named %q (%s)", len(found), nameOrID, strings.Join(ids, ", ")), Hint: "name the group by its object id in memberOf(…) instead"}
}

// policyTargetGroups lists the group ids the passkey method and the
// registration campaign target or exclude.
func policyTargetGroups(policy []byte) []string {
	if policy == nil {
		return nil
	}
	type target struct {
		ID string `json:"id"`
	}
	var p struct {
		RegistrationEnforcement struct {
			Campaign struct {
				Include []target `json:"includeTargets"`
				Exclude []target `json:"excludeTargets"`
			} `json:"authenticationMethodsRegistrationCampaign"`
		} `json:"registrationEnforcement"`
		Configurations []struct {
			ID      string   `json:"id"`
			Include []target `json:"includeTargets"`
			Exclude []target `json:"excludeTargets"`
		} `json:"authenticationMethodConfigurations"`
	}
	if json.Unmarshal(policy, &p) != nil {
		return nil
	}
	var ids []string
	add := func(ts []target) {
		for _, t := range ts {
			if t.ID != "" && !strings.EqualFold(t.ID, "all_users") && guidPattern.MatchString(t.ID) && !slices.Contains(ids, t.ID) {
				ids = append(ids, t.ID)
			}
		}
	}
	add(p.RegistrationEnforcement.Campaign.Include)
	add(p.RegistrationEnforcement.Campaign.Exclude)
	for _, m := range p.Configurations {
		if strings.EqualFold(m.ID, "fido2") {
			add(m.Include)
			add(m.Exclude)
		}
	}
	return ids
}

// collection reads every page of a collection into file, file-002.json, …
// and returns the number of rows. onPage, when set, sees each page's rows
// after the page is saved; its error stops the reading.
func (c *Client) collection(ctx context.Context, ri *abs.RequestInformation, dir, file, op, perm string, onPage func(rows []json.RawMessage) error) (int, error) {
	base := strings.TrimSuffix(file, ".json")
	rows := 0
	for n := 1; ; n++ {
		var p page
		var err error
		// A page cut short or garbled on the way is read once more.
		for try := 0; try < 2; try++ {
			var body []byte
			body, err = c.send(ctx, ri, fmt.Sprintf("%s (page %d)", op, n), perm)
			if err != nil {
				var ge *Error
				if errors.As(err, &ge) && ge.Status != 0 {
					return rows, err // Graph answered: nothing to retry here
				}
				continue
			}
			p = page{}
			if err = json.Unmarshal(body, &p); err == nil && p.Value == nil {
				err = errors.New(`no "value" array`)
			}
			if err == nil {
				break
			}
			err = &Error{Op: fmt.Sprintf("%s (page %d)", op, n), Message: "malformed JSON from Graph: " + err.Error(), Hint: "run again; if it persists, a proxy may be rewriting Graph's answers", Err: err}
		}
		if err != nil {
			return rows, err
		}
		name := file
		if n > 1 {
			name = fmt.Sprintf("%s-%03d.json", base, n)
		}
		next := p.NextLink
		if next != "" {
			p.NextLink = fmt.Sprintf("%s-%03d.json", base, n+1)
		}
		if err := writePage(filepath.Join(dir, name), &p); err != nil {
			return rows, err
		}
		rows += len(p.Value)
		if onPage != nil {
			if err := onPage(p.Value); err != nil {
				return rows, err
			}
		}
		if next == "" {
			return rows, nil
		}
		u, err := url.Parse(next)
		if err != nil || !strings.EqualFold(u.Host, c.base.Host) || u.Scheme != "https" {
			return rows, &Error{Op: op, Message: fmt.Sprintf("nextLink %q", next), Err: errNotSameHost, Hint: "nudge only follows links to " + c.base.Host + "; check graph.base_url"}
		}
		ri = abs.NewRequestInformation()
		ri.Method = abs.GET
		ri.SetUri(*u)
		ri.Headers.TryAdd("Accept", "application/json")
	}
}

// send sends a request through the SDK and returns the raw body.
func (c *Client) send(ctx context.Context, ri *abs.RequestInformation, op, perm string) ([]byte, error) {
	v, err := c.adapter.SendPrimitive(ctx, ri, "[]byte", abs.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, c.explain(op, perm, err)
	}
	body, _ := v.([]byte)
	return body, nil
}

// countUsers asks Graph how many users the tenant has ($count needs the
// eventual consistency level), for progress.
func (c *Client) countUsers(ctx context.Context) (int, error) {
	ri := c.get("/users/$count", nil)
	ri.Headers.Add("ConsistencyLevel", "eventual")
	ri.Headers.TryAdd("Accept", "text/plain")
	body, err := c.send(ctx, ri, "GET /users/$count", PermUsers)
	if err != nil {
		return 0, err
	}
	var n int
	if _, err := fmt.Sscan(strings.TrimPrefix(string(body), "\ufeff"), &n); err != nil {
		return 0, err
	}
	return n, nil
}

// writePage writes a collection page in Graph's shape, one row per line.
func writePage(path string, p *page) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("graph: pull: %w", err)
	}
	w := bufio.NewWriterSize(f, 256<<10)
	w.WriteString("{\n")
	if p.Context != "" {
		ctx, _ := json.Marshal(p.Context)
		fmt.Fprintf(w, "  \"@odata.context\": %s,\n", ctx)
	}
	if p.NextLink != "" {
		next, _ := json.Marshal(p.NextLink)
		fmt.Fprintf(w, "  \"@odata.nextLink\": %s,\n", next)
	}
	w.WriteString("  \"value\": [")
	for i, row := range p.Value {
		if i > 0 {
			w.WriteByte(',')
		}
		w.WriteString("\n    ")
		w.Write(row)
	}
	w.WriteString("\n  ]\n}\n")
	err = w.Flush()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("graph: pull: %w", err)
	}
	return nil
}

func writeFile(path string, data []byte) error {
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("graph: pull: %w", err)
	}
	return nil
}
